package main

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
	"github.com/kassahq/kassa/plugins/unionpay/internal/sandbox"
)

// BenchmarkGateway is the plugin process's round trips: CreatePayment
// (UnionPay's consumption is signed when the buyer opens the plugin's
// page, so this is the plugin's own work: no call to the gateway) and a
// signed consumption notification per HandleWebhook, verified against
// the certificate chain (BENCHMARKS.md, issue 12).
func BenchmarkGateway(b *testing.B) {
	sb := startSandbox(b, sandbox.Options{})
	plugintest.BenchGateway(b, plugintest.BenchConfig{
		Binary: binary, Config: settingsFor(sb, nil), AllowPrivateNetworks: true, Currency: "CNY",
		Request: payment.CreateRequest{PaymentMethod: MethodWeb},
		Webhook: &plugintest.WebhookKit{Sign: func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
			n := sb.Sign(url.Values{
				"version": {"5.1.0"}, "encoding": {"UTF-8"}, "bizType": {"000201"}, "txnType": {"01"}, "txnSubType": {"01"},
				"accessType": {"0"}, "merId": {testMerID}, "orderId": {orderIDFor(ev.AttemptID)},
				"txnTime": {ev.OccurredAt.In(chinaTime).Format(txnTimeLayout)}, "txnAmt": {fmt.Sprint(ev.Amount.Amount)},
				"currencyCode": {"156"}, "reqReserved": {ev.AttemptID}, "queryId": {"752606171234567890123"},
				"traceTime": {ev.OccurredAt.In(chinaTime).Format("0102150405")}, "respCode": {"00"}, "respMsg": {"成功[0000000]"},
			})
			return http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=UTF-8"}}, []byte(n.Encode()), nil
		}},
	})
}
