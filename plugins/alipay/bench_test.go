package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/alipay/internal/sandbox"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
)

// BenchmarkGateway is the plugin process's round trips against the
// sandbox: a QR precreate per CreatePayment (signed request, verified
// answer), a signed TRADE_SUCCESS per HandleWebhook (BENCHMARKS.md,
// issue 12).
func BenchmarkGateway(b *testing.B) {
	sb := startSandbox(b, sandbox.Options{})
	plugintest.BenchGateway(b, plugintest.BenchConfig{
		Binary: binary, Config: settingsFor(sb, testAppID), AllowPrivateNetworks: true, Currency: "CNY",
		Request: payment.CreateRequest{PaymentMethod: MethodQR},
		Webhook: &plugintest.WebhookKit{Sign: func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
			h, body := notification(sb, url.Values{
				"notify_id": {ev.ID}, "notify_type": {"trade_status_sync"}, "notify_time": {at.In(chinaTime).Format(timeLayout)},
				"app_id": {testAppID}, "charset": {"utf-8"}, "version": {"1.0"}, "out_trade_no": {ev.AttemptID}, "trade_no": {ev.GatewayRef},
				"trade_status": {"TRADE_SUCCESS"}, "total_amount": {formatYuan(ev.Amount.Amount)},
				"gmt_payment": {ev.OccurredAt.In(chinaTime).Format(timeLayout)}, "subject": {"测试"},
			})
			return h, body, nil
		}},
	})
}
