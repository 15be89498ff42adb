package plugin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/payment"
	sdkpay "github.com/kassahq/kassa/plugins/sdk/payment"
)

func TestSimulationToSDK(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	got := simulationToSDK(WebhookSimulation{Type: "refund.succeeded", AttemptID: "pay_1", GatewayRef: "g", Amount: eur(250),
		RefundID: "ref_1", GatewayRefundRef: "gr", DeclineCode: "dc", EventID: "evt", SignedAt: at})
	want := sdkpay.SimulateRequest{Type: "refund.succeeded", AttemptID: "pay_1", GatewayRef: "g",
		Amount: toSDKMoney(eur(250)), RefundID: "ref_1", GatewayRefundRef: "gr", DeclineCode: "dc", EventID: "evt", SignedAt: at}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestSimulateWebhookWithTestpay: the host asks the real testpay process
// for a signed notification, and the same plugin's HandleWebhook, as the
// payment domain reaches it, accepts it with the event asked for.
// Requests the host cannot make, and plugins that do not simulate, are
// refused with codes before any process is asked.
func TestSimulateWebhookWithTestpay(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	const id = "payment.testpay"
	if _, err := e.svc.Install(ctx(), testpayBin, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.UpdateSettings(ctx(), id, []byte(`{"webhook_secret":"whsec_0123456789abcdef"}`)); err != nil {
		t.Fatal(err)
	}
	ok := WebhookSimulation{Type: sdkpay.EventPaymentSucceeded, AttemptID: "pay_01", GatewayRef: "tp_01", Amount: eur(1250)}
	// Disabled: not offered to the shop, not simulated either.
	if _, err := e.svc.SimulateWebhook(ctx(), id, ok); !hasCode(err, CodeDisabled) {
		t.Fatalf("disabled plugin: %v", err)
	}
	if _, err := e.svc.Enable(ctx(), id); err != nil {
		t.Fatal(err)
	}

	w, err := e.svc.SimulateWebhook(ctx(), id, ok)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := e.svc.Gateway(ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gw.HandleWebhook(ctx(), payment.WebhookRequest{Method: w.Method, Path: w.Path, Query: w.Query, Header: w.Header, Body: w.Body, ReceivedAt: time.Now()})
	if err != nil || res.Rejected != "" || len(res.Events) != 1 {
		t.Fatalf("HandleWebhook = %+v, %v; want one event", res, err)
	}
	if ev := res.Events[0]; ev.Type != sdkpay.EventPaymentSucceeded || ev.AttemptID != "pay_01" || ev.GatewayRef != "tp_01" || ev.Amount != eur(1250) {
		t.Errorf("event = %+v", ev)
	}
	if strings.Contains(e.logs.String(), "whsec_0123456789abcdef") {
		t.Error("the webhook secret reached the log")
	}

	tests := []struct {
		name string
		id   string
		req  WebhookSimulation
		code string
	}{
		{"unknown event type", id, WebhookSimulation{Type: "payment.teleported", AttemptID: "pay_01", Amount: eur(1)}, CodeInvalidSimulation},
		{"no attempt", id, WebhookSimulation{Type: sdkpay.EventPaymentSucceeded, Amount: eur(1)}, CodeInvalidSimulation},
		{"no amount", id, WebhookSimulation{Type: sdkpay.EventPaymentSucceeded, AttemptID: "pay_01"}, CodeInvalidSimulation},
		{"refund without refund", id, WebhookSimulation{Type: sdkpay.EventRefundSucceeded, AttemptID: "pay_01", Amount: eur(1)}, CodeInvalidSimulation},
		{"not installed", "payment.nope", ok, CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.svc.SimulateWebhook(ctx(), tt.id, tt.req); !hasCode(err, tt.code) {
				t.Errorf("err = %v, want code %s", err, tt.code)
			}
		})
	}

	// A plugin that does not declare webhook.simulate is not asked.
	e.installEnabled(t, "")
	if _, err := e.svc.SimulateWebhook(ctx(), testID, ok); !hasCode(err, CodeNotSupported) || !strings.Contains(err.Error(), "webhook.simulate") {
		t.Errorf("plugin without the capability: %v", err)
	}
	// Forging the gateway's signature takes the plugin write permission.
	ro, _ := NewService(e.db, Options{Dir: e.opts.Dir, Authz: readOnly{}})
	if _, err := ro.SimulateWebhook(ctx(), id, ok); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("read-only subject: %v", err)
	}
}

func hasCode(err error, code string) bool {
	for _, e := range errs.All(err) {
		if e.Code == code {
			return true
		}
	}
	return false
}
