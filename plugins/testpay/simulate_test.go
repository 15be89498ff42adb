package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
)

// TestSimulateWebhookThroughTheProcess asks the running testpay binary for
// simulated notifications over the plugin protocol and feeds each to its
// own HandleWebhook: what `kassa plugin trigger` posts must be exactly
// what testpay accepts.
func TestSimulateWebhookThroughTheProcess(t *testing.T) {
	t.Parallel()
	gw := startTestpay(t, "", "")
	sim, ok := gw.(payment.WebhookSimulator)
	if !ok {
		t.Fatal("the host's gateway client is not a WebhookSimulator")
	}
	ctx := context.Background()
	cny := sdk.Money{Amount: 4200, Currency: "CNY"}
	tests := []struct {
		name    string
		req     payment.SimulateRequest
		want    payment.Event
		wantErr string
	}{
		{name: "payment succeeded",
			req:  payment.SimulateRequest{Type: payment.EventPaymentSucceeded, AttemptID: "pay_a", GatewayRef: "tp_a", Amount: cny, EventID: "evt_given"},
			want: payment.Event{ID: "evt_given", Type: payment.EventPaymentSucceeded, AttemptID: "pay_a", GatewayRef: "tp_a", Amount: cny}},
		{name: "payment failed gets a decline code",
			req:  payment.SimulateRequest{Type: payment.EventPaymentFailed, AttemptID: "pay_b", Amount: cny},
			want: payment.Event{Type: payment.EventPaymentFailed, AttemptID: "pay_b", Amount: cny, DeclineCode: payment.DeclineCardDeclined}},
		{name: "refund succeeded",
			req: payment.SimulateRequest{Type: payment.EventRefundSucceeded, AttemptID: "pay_c", GatewayRef: "tp_c", RefundID: "ref_c",
				GatewayRefundRef: "tpr_c", Amount: sdk.Money{Amount: 100, Currency: "CNY"}},
			want: payment.Event{Type: payment.EventRefundSucceeded, AttemptID: "pay_c", GatewayRef: "tp_c", RefundID: "ref_c",
				GatewayRefundRef: "tpr_c", Amount: sdk.Money{Amount: 100, Currency: "CNY"}}},
		{name: "a dispute testpay never sends is refused",
			req: payment.SimulateRequest{Type: payment.EventDisputeOpened, AttemptID: "pay_d", Amount: cny}, wantErr: `no "dispute.opened" notification`},
		{name: "a refund without its refund is refused",
			req: payment.SimulateRequest{Type: payment.EventRefundSucceeded, AttemptID: "pay_e", Amount: cny}, wantErr: "needs the refund"},
		{name: "no amount is refused",
			req: payment.SimulateRequest{Type: payment.EventPaymentSucceeded, AttemptID: "pay_f"}, wantErr: "invalid amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := sim.SimulateWebhook(ctx, tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Method != "POST" || w.Header.Get(SignatureHeader) == "" {
				t.Fatalf("simulated request %s without signature: %+v", w.Method, w.Header)
			}
			res, err := gw.HandleWebhook(ctx, w.Request(time.Now()))
			if err != nil || res.Rejection != nil || len(res.Events) != 1 {
				t.Fatalf("HandleWebhook = %+v, %v; want one accepted event", res, err)
			}
			got := res.Events[0]
			if tt.want.ID == "" && !strings.HasPrefix(got.ID, "evt_sim_") {
				t.Errorf("event id %q, want a fresh evt_sim_ id", got.ID)
			}
			tt.want.ID, tt.want.OccurredAt = got.ID, got.OccurredAt
			if got != tt.want {
				t.Errorf("event = %+v\nwant    %+v", got, tt.want)
			}
			// Posted twice, the same delivery is a replay.
			again, err := gw.HandleWebhook(ctx, w.Request(time.Now()))
			if err != nil || again.Rejection == nil || again.Rejection.Reason != payment.RejectReplay {
				t.Errorf("the same simulated delivery again = %+v, %v; want REPLAY", again, err)
			}
		})
	}

	t.Run("signed long ago is stale", func(t *testing.T) {
		t.Parallel()
		w, err := sim.SimulateWebhook(ctx, payment.SimulateRequest{Type: payment.EventPaymentSucceeded, AttemptID: "pay_old", Amount: cny,
			SignedAt: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := gw.HandleWebhook(ctx, w.Request(time.Now()))
		if err != nil || res.Rejection == nil || res.Rejection.Reason != payment.RejectStale {
			t.Errorf("HandleWebhook = %+v, %v; want STALE", res, err)
		}
	})
}

// TestConformanceSignedBySimulation runs the kit without a WebhookKit.Sign:
// testpay declares webhook.simulate, so the kit's webhook checks (valid,
// bad signature, stale, replay) sign with testpay's own SimulateWebhook.
func TestConformanceSignedBySimulation(t *testing.T) {
	card := func(n string) payment.CreateRequest { return payment.CreateRequest{PaymentMethod: n} }
	plugintest.RunGateway(t, plugintest.GatewayConfig{
		Binary: binary,
		Config: config(""),
		Scenarios: []plugintest.Scenario{
			{Name: "succeed", Request: card("succeed"), Want: plugintest.Outcome{Status: payment.StatusSucceeded}},
			{Name: "authorize", Request: payment.CreateRequest{PaymentMethod: "succeed", CaptureMethod: payment.CaptureManual},
				Want: plugintest.Outcome{Status: payment.StatusAuthorized}},
			{Name: "redirect", Request: card("redirect"), Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect}},
			{Name: "qr", Request: card("qr"), Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionQRCode}},
		},
		Paid:       "succeed",
		Unpaid:     "redirect",
		Authorized: "authorize",
	})
}

// TestNotificationsNameTheirAmount: testpay always says how much moved;
// a signed success or refund that does not (or says 0) is none of its
// own and is refused as malformed, never handed to the core as "the
// gateway did not say", which would capture the whole amount.
func TestNotificationsNameTheirAmount(t *testing.T) {
	t.Parallel()
	gw := startTestpay(t, "", "")
	ctx := context.Background()
	for i, ev := range []payment.Event{
		{Type: payment.EventPaymentSucceeded, AttemptID: "pay_a"},
		{Type: payment.EventPaymentSucceeded, AttemptID: "pay_b", Amount: sdk.Money{Currency: "CNY"}},
		{Type: payment.EventPaymentAuthorized, AttemptID: "pay_c", Amount: sdk.Money{Amount: 100}},
		{Type: payment.EventRefundSucceeded, AttemptID: "pay_d", GatewayRefundRef: "tpr_d"},
	} {
		ev.ID, ev.OccurredAt = fmt.Sprintf("evt_noamount_%d", i), time.Now()
		header, body, err := signTestpay(ev, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res, err := gw.HandleWebhook(ctx, payment.WebhookRequest{Method: "POST", Header: header, Body: body, ReceivedAt: time.Now()})
		if err != nil || res.Rejection == nil || res.Rejection.Reason != payment.RejectMalformed || len(res.Events) != 0 {
			t.Errorf("%s %+v: HandleWebhook = %+v, %v; want MALFORMED", ev.Type, ev.Amount, res, err)
		}
	}
}

// TestSettingsInChinese: the admin in Chinese shows every setting's title
// and description in Chinese, none in English.
func TestSettingsInChinese(t *testing.T) { plugintest.CheckTranslated(t, schema.String(), "zh-CN") }
