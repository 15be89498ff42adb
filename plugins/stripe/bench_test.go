package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
	"github.com/kassahq/kassa/plugins/stripe/internal/sandbox"
)

// BenchmarkGateway is the plugin process's round trips against the fake
// Stripe: a PaymentIntent per CreatePayment (stripe-go, Idempotency-Key),
// a signed payment_intent.succeeded per HandleWebhook (BENCHMARKS.md,
// issue 12).
func BenchmarkGateway(b *testing.B) {
	sb := startSandbox(b, sandbox.Options{})
	plugintest.BenchGateway(b, plugintest.BenchConfig{
		Binary: binary, Config: settingsFor(sb.URL(), nil), AllowPrivateNetworks: true, Currency: "USD",
		Request: payment.CreateRequest{PaymentMethod: MethodElement},
		Webhook: &plugintest.WebhookKit{Sign: func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
			h, body := signedEvent(ev.ID, "payment_intent.succeeded", at, intentObject(ev, "succeeded"))
			return h, body, nil
		}},
	})
}
