package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/examples/gateway/gateway"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

const testSecret = "whsec_example_0123456789"

// TestConformance builds this plugin and runs Kassa's conformance kit
// against the binary, started exactly as Kassa starts it.
func TestConformance(t *testing.T) {
	bin := plugintest.Build(t, ".")
	plugintest.RunGateway(t, plugintest.GatewayConfig{
		Binary: bin,
		Config: json.RawMessage(`{"webhook_secret":"` + testSecret + `"}`),
		Scenarios: []plugintest.Scenario{
			{Name: "succeeds", Request: payment.CreateRequest{PaymentMethod: "tok_ok"},
				Want: plugintest.Outcome{Status: payment.StatusSucceeded}},
			{Name: "declined", Request: payment.CreateRequest{PaymentMethod: "tok_decline"},
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineCardDeclined}},
			{Name: "pending", Request: payment.CreateRequest{PaymentMethod: "tok_pending"},
				Want: plugintest.Outcome{Status: payment.StatusPending}},
		},
		Paid:   "succeeds",
		Unpaid: "pending",
		Webhook: &plugintest.WebhookKit{
			// Sign produces a notification exactly as the gateway would.
			Sign: func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
				body, err := json.Marshal(gateway.Notification{
					ID: ev.ID, Type: ev.Type, AttemptID: ev.AttemptID, Payment: ev.GatewayRef,
					Amount: ev.Amount.Amount, Currency: ev.Amount.Currency, Created: ev.OccurredAt.Unix(),
				})
				h := http.Header{}
				h.Set("Content-Type", "application/json")
				h.Set(gateway.SignatureHeader, webhook.Sign([]byte(testSecret), at, body))
				return h, body, err
			},
		},
	})
}
