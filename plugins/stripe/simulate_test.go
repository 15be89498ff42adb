package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// TestSimulateWebhook: in test mode each simulated event passes the
// plugin's own verification and reads back as the event asked for; with
// live keys simulation is refused, and bad requests say what is missing.
func TestSimulateWebhook(t *testing.T) {
	t.Parallel()
	gw, _ := New("")
	ctx := context.Background()
	if res, err := gw.Configure(ctx, settingsFor("https://api.stripe.com", nil)); err != nil || !res.OK() {
		t.Fatalf("configure: %+v %v", res.Errors, err)
	}
	usd := sdk.Money{Amount: 1999, Currency: "USD"}
	cases := []struct {
		req  payment.SimulateRequest
		want payment.Event
	}{
		{payment.SimulateRequest{Type: payment.EventPaymentSucceeded, AttemptID: "pay_1", GatewayRef: "pi_1", Amount: usd, EventID: "evt_a"},
			payment.Event{ID: "evt_a", Type: payment.EventPaymentSucceeded, AttemptID: "pay_1", GatewayRef: "pi_1", Amount: usd}},
		{payment.SimulateRequest{Type: payment.EventPaymentAuthorized, AttemptID: "pay_2", GatewayRef: "pi_2", Amount: usd, EventID: "evt_b"},
			payment.Event{ID: "evt_b", Type: payment.EventPaymentAuthorized, AttemptID: "pay_2", GatewayRef: "pi_2", Amount: usd}},
		{payment.SimulateRequest{Type: payment.EventPaymentFailed, AttemptID: "pay_3", GatewayRef: "pi_3", Amount: usd, EventID: "evt_c", DeclineCode: "insufficient_funds"},
			payment.Event{ID: "evt_c", Type: payment.EventPaymentFailed, AttemptID: "pay_3", GatewayRef: "pi_3", Amount: usd, DeclineCode: payment.DeclineInsufficientFunds}},
		{payment.SimulateRequest{Type: payment.EventRefundSucceeded, AttemptID: "pay_4", GatewayRef: "pi_4", Amount: sdk.Money{Amount: 500, Currency: "USD"},
			RefundID: "ref_1", GatewayRefundRef: "re_1", EventID: "evt_d"},
			payment.Event{ID: "evt_d", Type: payment.EventRefundSucceeded, AttemptID: "pay_4", GatewayRef: "pi_4", RefundID: "ref_1", GatewayRefundRef: "re_1",
				Amount: sdk.Money{Amount: 500, Currency: "USD"}}},
	}
	for _, c := range cases {
		sim, err := gw.SimulateWebhook(ctx, c.req)
		if err != nil {
			t.Fatalf("%s: %v", c.req.Type, err)
		}
		res, err := gw.HandleWebhook(ctx, payment.WebhookRequest{Method: sim.Method, Header: sim.Header, Body: sim.Body, ReceivedAt: time.Now()})
		if err != nil || res.Rejection != nil || len(res.Events) != 1 {
			t.Fatalf("%s: the plugin refused its own simulation: %+v %v", c.req.Type, res.Rejection, err)
		}
		got := res.Events[0]
		got.OccurredAt, got.MerchantMessage = time.Time{}, ""
		if got != c.want {
			t.Errorf("%s: event %+v, want %+v", c.req.Type, got, c.want)
		}
	}
	for name, req := range map[string]payment.SimulateRequest{
		"no attempt":    {Type: payment.EventPaymentSucceeded, Amount: usd},
		"no amount":     {Type: payment.EventPaymentSucceeded, AttemptID: "pay_1"},
		"refund, no id": {Type: payment.EventRefundSucceeded, AttemptID: "pay_1", Amount: usd},
		"unknown type":  {Type: "dispute.created", AttemptID: "pay_1", Amount: usd},
	} {
		if _, err := gw.SimulateWebhook(ctx, req); err == nil {
			t.Errorf("%s: simulated", name)
		}
	}

	live, _ := New("")
	if res, err := live.Configure(ctx, settingsFor("https://api.stripe.com", map[string]any{"test_mode": false,
		"secret_key": "sk_live_51KassaLiveKey0000000000000", "publishable_key": "pk_live_51KassaLiveKey0000000000000"})); err != nil || !res.OK() {
		t.Fatalf("configure live: %+v %v", res.Errors, err)
	}
	_, err := live.SimulateWebhook(ctx, cases[0].req)
	if !errors.Is(err, payment.ErrSimulationRefused) {
		t.Fatalf("live keys: %v, want ErrSimulationRefused", err)
	}
}
