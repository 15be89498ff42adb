package main

import (
	"testing"

	"github.com/kassahq/kassa/plugins/paypal/internal/sandbox"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
)

// BenchmarkGateway is the plugin process's round trips against the
// sandbox: an Orders v2 create per CreatePayment (with the cached OAuth
// token), a PAYMENT.CAPTURE.COMPLETED per HandleWebhook, verified both
// ways: by PayPal's verify-webhook-signature call and offline with the
// certificate (BENCHMARKS.md, issue 12).
func BenchmarkGateway(b *testing.B) {
	for _, mode := range []string{"api", "offline"} {
		b.Run(mode, func(b *testing.B) {
			sb := startSandbox(b, sandbox.Options{})
			plugintest.BenchGateway(b, plugintest.BenchConfig{
				Binary: binary, Config: settingsFor(sb, mode, nil), AllowPrivateNetworks: true, Currency: "USD",
				Request: payment.CreateRequest{PaymentMethod: MethodPayPal},
				Webhook: &plugintest.WebhookKit{Sign: signCapture(sb)},
			})
		})
	}
}
