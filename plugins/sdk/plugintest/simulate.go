package plugintest

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// webhookKit is the kit's way to produce signed notifications: the
// author's WebhookKit.Sign when set, else the plugin's own SimulateWebhook
// when it declares payment.CapWebhookSimulate (nil when neither).
func (r *gatewayRun) webhookKit() *WebhookKit {
	kit := r.cfg.Webhook
	if (kit != nil && kit.Sign != nil) || !r.info.Has(payment.CapWebhookSimulate) {
		return kit
	}
	sim, ok := r.gw.(payment.WebhookSimulator)
	if !ok {
		return kit
	}
	var out WebhookKit
	if kit != nil {
		out = *kit
	}
	out.Sign = func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.CallTimeout)
		defer cancel()
		w, err := sim.SimulateWebhook(ctx, simulateRequest(ev, at))
		if err != nil {
			return nil, nil, err
		}
		if w.Path != "" || w.Query != "" {
			// The webhook checks deliver headers and body only.
			return nil, nil, errors.New("the simulated notification carries a path or query; set WebhookKit.Sign for this gateway")
		}
		return w.Header, w.Body, nil
	}
	return &out
}

func simulateRequest(ev payment.Event, at time.Time) payment.SimulateRequest {
	return payment.SimulateRequest{
		Type: ev.Type, AttemptID: ev.AttemptID, GatewayRef: ev.GatewayRef, Amount: ev.Amount,
		RefundID: ev.RefundID, GatewayRefundRef: ev.GatewayRefundRef, DeclineCode: ev.DeclineCode,
		EventID: ev.ID, SignedAt: at,
	}
}

// checkSimulate checks payment.CapWebhookSimulate: in the kit's (sandbox)
// configuration the plugin builds a notification of a paid attempt that
// its own HandleWebhook accepts, with the event, attempt and amount asked
// for; this is what `kassa plugin trigger` posts to a shop.
func (r *gatewayRun) checkSimulate() {
	if !r.info.Has(payment.CapWebhookSimulate) {
		r.s.skip("webhook/simulate", "the plugin does not declare "+payment.CapWebhookSimulate)
		return
	}
	r.s.check("webhook/simulate", func(t *testing.T) {
		if !r.info.Has(payment.CapWebhook) {
			t.Fatalf("the plugin declares %q but not %q: a simulated notification needs HandleWebhook", payment.CapWebhookSimulate, payment.CapWebhook)
		}
		sim, ok := r.gw.(payment.WebhookSimulator)
		if !ok {
			t.Fatal("the SDK's gateway client does not offer SimulateWebhook")
		}
		ev := r.webhookEvent(t)
		// No event id and no time: as `kassa plugin trigger` asks.
		req := simulateRequest(ev, time.Time{})
		req.EventID = ""
		w, err := sim.SimulateWebhook(r.ctx(t), req)
		switch {
		case errors.Is(err, payment.ErrUnimplemented):
			t.Fatalf("the plugin declares %q but does not implement payment.WebhookSimulator: %v", payment.CapWebhookSimulate, err)
		case errors.Is(err, payment.ErrSimulationRefused):
			t.Fatalf("SimulateWebhook refused in the kit's configuration, which should be the sandbox: %v", err)
		case err != nil:
			t.Fatalf("SimulateWebhook: %v", err)
		}
		if w.Method == "" {
			t.Errorf("the simulated notification has no HTTP method")
		}
		res, err := r.gw.HandleWebhook(r.ctx(t), w.Request(time.Now()))
		if err != nil {
			t.Fatalf("HandleWebhook failed with an error: %v", err)
		}
		if res.Rejection != nil {
			t.Fatalf("the plugin's own HandleWebhook rejected its simulated notification: %s %q", res.Rejection.Reason, res.Rejection.Message)
		}
		got := findEvent(res.Events, ev, true)
		if got == nil {
			t.Fatalf("no %s event of attempt %q or payment %q among %+v", ev.Type, ev.AttemptID, ev.GatewayRef, res.Events)
		}
		if got.ID == "" {
			t.Errorf("the simulated event has no id: Kassa applies events by id")
		}
		if got.Amount != ev.Amount {
			t.Errorf("simulated event amount %+v, want %+v", got.Amount, ev.Amount)
		}
	})
}
