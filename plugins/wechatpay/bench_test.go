package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
)

// BenchmarkGateway is the plugin process's round trips against the
// sandbox: a Native order per CreatePayment, a signed and encrypted
// TRANSACTION.SUCCESS per HandleWebhook (BENCHMARKS.md, issue 12).
func BenchmarkGateway(b *testing.B) {
	sb := newSandbox(b)
	plugintest.BenchGateway(b, plugintest.BenchConfig{
		Binary: binary, Config: settingsFor(b, sb.URL(), nil), AllowPrivateNetworks: true, Currency: "CNY",
		Request: payment.CreateRequest{PaymentMethod: MethodNative},
		Webhook: &plugintest.WebhookKit{Sign: func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
			res := sb.TransactionResource(ev.GatewayRef, "4200000000202612050000000001", ev.AttemptID, ev.Amount.Amount, ev.OccurredAt)
			return sb.Notification(ev.ID, "TRANSACTION.SUCCESS", "支付成功", "transaction", res, at)
		}},
	})
}
