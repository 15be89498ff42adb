package plugintest_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/invoice"
	"github.com/kassahq/kassa/plugins/sdk/notify"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// The kit is tested the only honest way: against gateways that break the
// contract on purpose (internal/testplugin/broken). Each case runs the kit
// in a child test process and expects the named check to fail.

const (
	envInner  = "PLUGINTEST_SELFTEST_INNER"
	envBinary = "PLUGINTEST_SELFTEST_BINARY"
	envMode   = "PLUGINTEST_SELFTEST_MODE"
	secret    = "whsec_example_0123456789"
)

var brokenBinary, ruleBinary, channelBinary string

func TestMain(m *testing.M) {
	if bin := os.Getenv(envBinary); bin != "" {
		brokenBinary = bin
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "plugintest-selftest")
	if err != nil {
		panic(err)
	}
	for pkg, bin := range map[string]*string{"broken": &brokenBinary, "invoice": &ruleBinary, "notify": &channelBinary} {
		sub := dir + "/" + pkg
		if err := os.Mkdir(sub, 0o755); err != nil {
			panic(err)
		}
		*bin, err = plugintest.BuildBinary("../internal/testplugin/"+pkg, sub)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestInnerRunGateway is run by TestKitCatchesBrokenGateways in a child
// process; on its own it is skipped.
func TestInnerRunGateway(t *testing.T) {
	if os.Getenv(envInner) == "" {
		t.Skip("run by TestKitCatchesBrokenGateways")
	}
	paid, unpaid := "succeeds", "pending"
	scenarios := []plugintest.Scenario{
		{Name: "succeeds", Request: payment.CreateRequest{PaymentMethod: "tok_ok"},
			Want: plugintest.Outcome{Status: payment.StatusSucceeded}},
		{Name: "declined", Request: payment.CreateRequest{PaymentMethod: "tok_decline"},
			Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineCardDeclined}},
		{Name: "pending", Request: payment.CreateRequest{PaymentMethod: "tok_pending"},
			Want: plugintest.Outcome{Status: payment.StatusPending}},
		// The example's hosted page, by redirect and by QR code; the
		// example's own test (examples/gateway/main_test.go) pays on it.
		{Name: "page", Request: payment.CreateRequest{PaymentMethod: "page"},
			Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect}},
		{Name: "qr", Request: payment.CreateRequest{PaymentMethod: "qr"},
			Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionQRCode}},
	}
	if os.Getenv(envMode) == "declines_only" {
		// The gateway declares action.none, but its author gave the
		// kit only a decline (which has no action either).
		paid, unpaid, scenarios = "", "", scenarios[1:2]
	}
	kit := &plugintest.WebhookKit{Sign: signHeader, DerivedIDs: strings.HasSuffix(os.Getenv(envMode), "_ids")}
	switch {
	case strings.HasPrefix(os.Getenv(envMode), "form_"):
		kit.Sign = signForm
	case strings.HasPrefix(os.Getenv(envMode), "json_"):
		// The signature covers the notification's bytes, not the
		// document's: a space after it changes nothing signed. The
		// kit would find the signature field itself (as it does for
		// the form_ modes); naming it checks that way in.
		kit.Sign = signJSON
		kit.SignatureFields = []string{"/auth/signature"}
		kit.Tamper = func(h http.Header, body []byte) (http.Header, []byte) {
			return h, bytes.Replace(body, []byte(`"amount":`), []byte(`"amount":1`), 1)
		}
	}
	plugintest.RunGateway(t, plugintest.GatewayConfig{
		Binary:    brokenBinary,
		Env:       []string{"KASSA_BROKEN=" + os.Getenv(envMode)},
		Config:    json.RawMessage(`{"webhook_secret":"` + secret + `"}`),
		Scenarios: scenarios,
		Paid:      paid,
		Unpaid:    unpaid,
		Webhook:   kit,
	})
}

// notification is the body of the example's notification of ev.
func notification(ev payment.Event) ([]byte, error) {
	return json.Marshal(map[string]any{
		"id": ev.ID, "type": ev.Type, "attempt_id": ev.AttemptID, "payment": ev.GatewayRef,
		"amount": ev.Amount.Amount, "currency": ev.Amount.Currency, "created": ev.OccurredAt.Unix(),
	})
}

// signHeader signs as the example does: its notification, signed in the
// Example-Signature header.
func signHeader(ev payment.Event, at time.Time) (http.Header, []byte, error) {
	body, err := notification(ev)
	return http.Header{"Example-Signature": {webhook.Sign([]byte(secret), at, body)}}, body, err
}

// signForm signs as the broken plugin's form_ modes read (see
// internal/testplugin/broken/body.go): a form signed in its sign field.
func signForm(ev payment.Event, at time.Time) (http.Header, []byte, error) {
	form := url.Values{
		"id": {ev.ID}, "type": {ev.Type}, "attempt_id": {ev.AttemptID}, "payment": {ev.GatewayRef},
		"amount": {fmt.Sprint(ev.Amount.Amount)}, "currency": {ev.Amount.Currency}, "created": {fmt.Sprint(ev.OccurredAt.Unix())},
		"t": {fmt.Sprint(at.Unix())},
	}
	form.Set("sign", hex.EncodeToString(webhook.ComputeHMAC([]byte(secret), at, []byte(form.Encode()))))
	form.Set("sign_type", "HMAC-SHA256")
	return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte(form.Encode()), nil
}

// signJSON signs as the json_ modes read: the notification beside the
// signature of its bytes (/auth/signature).
func signJSON(ev payment.Event, at time.Time) (http.Header, []byte, error) {
	n, err := notification(ev)
	if err != nil {
		return nil, nil, err
	}
	body, err := json.Marshal(map[string]any{
		"auth": map[string]any{
			"signature": hex.EncodeToString(webhook.ComputeHMAC([]byte(secret), at, n)), "sign_type": "HMAC-SHA256", "t": at.Unix(),
		},
		"notification": json.RawMessage(n),
	})
	return http.Header{"Content-Type": {"application/json"}}, body, err
}

func TestKitCatchesBrokenGateways(t *testing.T) {
	if os.Getenv(envInner) != "" {
		t.Skip("inner process")
	}
	tests := []struct {
		mode     string
		wantFail []string // checks that must fail
		mayFail  []string // consequences of the same violation
	}{
		{mode: "", wantFail: nil},
		{mode: "decline_as_error", wantFail: []string{"create/declined"}},
		{mode: "double_charge", wantFail: []string{"idempotency/create_retry"}},
		{mode: "major_units_amount", wantFail: []string{"create/succeeds", "create/declined", "create/pending", "create/page", "create/qr",
			"idempotency/create_retry"}},
		{mode: "retry_major_units_amount", wantFail: []string{"idempotency/create_retry"}},
		{mode: "lenient_config", wantFail: []string{"configure/wrong_type_refused", "configure/unknown_field_refused", "configure/missing_required_refused"},
			// The refused settings (without the webhook secret) took effect.
			mayFail: []string{"webhook/valid", "webhook/stale_refused", "webhook/replay_refused"}},
		{mode: "secret_not_writeonly", wantFail: []string{"describe/config_schema"}},
		{mode: "key_not_writeonly", wantFail: []string{"describe/config_schema"}},
		{mode: "nested_secret_not_writeonly", wantFail: []string{"describe/config_schema"}},
		{mode: "secret_lookalikes", wantFail: nil},
		{mode: "cancel_paid", wantFail: []string{"cancel/already_paid"}},
		{mode: "over_refund", wantFail: []string{"refund/partial_full_over"}},
		{mode: "accept_bad_signature", wantFail: []string{"webhook/bad_signature_refused", "webhook/empty_signature_refused",
			"webhook/cut_signature_refused", "webhook/stale_refused", "webhook/replay_refused"}},
		{mode: "empty_signature_accepted", wantFail: []string{"webhook/empty_signature_refused"}},
		{mode: "signature_prefix_accepted", wantFail: []string{"webhook/cut_signature_refused"}},
		{mode: "no_replay_cache", wantFail: []string{"webhook/replay_refused"}},
		{mode: "stale_accepted", wantFail: []string{"webhook/stale_refused"}},
		{mode: "clock_freshness", wantFail: []string{"webhook/fresh_at_received_at"}},
		{mode: "derived_ids", wantFail: nil},
		{mode: "declines_only", wantFail: []string{"create/action_coverage"},
			// Without an unpaid scenario there is nothing to cancel.
			mayFail: []string{"cancel/unpaid"}},
		{mode: "unstable_ids", wantFail: []string{"webhook/valid"}},
		// Gateways that sign in the body (Alipay, UnionPay).
		{mode: "form_signature", wantFail: nil},
		{mode: "json_signature", wantFail: nil},
		{mode: "form_empty_signature_accepted", wantFail: []string{"webhook/empty_signature_refused"}},
		// Without its signature member too: the delivery without a
		// signature lacks it.
		{mode: "json_empty_signature_accepted", wantFail: []string{"webhook/empty_signature_refused", "webhook/bad_signature_refused"}},
		{mode: "form_signature_prefix_accepted", wantFail: []string{"webhook/cut_signature_refused"}},
		// A forged copy refused makes the real notification a replay.
		{mode: "form_seen_before_verify", wantFail: []string{"webhook/cut_signature_refused"}},
	}
	for _, tc := range tests {
		name := tc.mode
		if name == "" {
			name = "correct"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestInnerRunGateway$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), envInner+"=1", envBinary+"="+brokenBinary, envMode+"="+tc.mode)
			out, err := cmd.CombinedOutput()
			failed := failedChecks(string(out))
			if len(tc.wantFail) == 0 {
				if err != nil || len(failed) > 0 {
					t.Fatalf("a correct gateway failed checks %v (%v):\n%s", failed, err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("the kit passed a gateway with violation %q:\n%s", tc.mode, out)
			}
			for _, want := range tc.wantFail {
				if !failed[want] {
					t.Errorf("violation %q: check %s did not fail; failed: %v", tc.mode, want, keys(failed))
				}
			}
			// Nothing unrelated should fail: the report must point at the problem.
			for got := range failed {
				if !contains(tc.wantFail, got) && !contains(tc.mayFail, got) {
					t.Errorf("violation %q also failed unrelated check %s", tc.mode, got)
				}
			}
			if !strings.Contains(string(out), "conformance report:") {
				t.Errorf("no summary report in the output:\n%s", out)
			}
		})
	}
}

// failedChecks parses the FAIL lines of the summary report.
func failedChecks(out string) map[string]bool {
	failed := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "FAIL" && !strings.HasPrefix(f[1], "github.com/") {
			failed[f[1]] = true
		}
	}
	return failed
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestRunRule(t *testing.T) {
	if os.Getenv(envInner) != "" {
		t.Skip("inner process")
	}
	order := invoice.Order{ID: "ord_1", Number: "#1001", Currency: "EUR",
		Lines:  []invoice.OrderLine{{Name: "Tea", Quantity: 2, Total: sdk.Money{Amount: 1200, Currency: "EUR"}}},
		Totals: invoice.Totals{Total: sdk.Money{Amount: 1200, Currency: "EUR"}}}
	plugintest.RunRule(t, plugintest.RuleConfig{
		Binary: ruleBinary,
		Config: json.RawMessage(`{}`),
		Cases: []plugintest.RuleCase{
			{Name: "paid", Event: invoice.Event{Type: "order.paid", Order: order}, WantIssue: true},
			{Name: "placed", Event: invoice.Event{Type: "order.placed", Order: order}, WantIssue: false},
		},
		Issue:        invoice.IssueRequest{Order: order, Buyer: invoice.Party{Name: "Ada"}},
		WantMimeType: "text/plain",
	})
}

func TestRunChannel(t *testing.T) {
	if os.Getenv(envInner) != "" {
		t.Skip("inner process")
	}
	plugintest.RunChannel(t, plugintest.ChannelConfig{
		Binary: channelBinary,
		Config: json.RawMessage(`{}`),
		Cases: []plugintest.ChannelCase{
			{Name: "order_placed", Message: notify.Message{TemplateID: notify.TemplateOrderPlaced, Locale: "en",
				Recipient: notify.Recipient{Email: "ada@example.com"}, Data: json.RawMessage(`{"order":"#1001"}`)},
				Check: func(t *testing.T, msg notify.Message, d notify.Delivery) {
					if !strings.HasPrefix(d.ID, msg.ID+"/order.placed/en/") {
						t.Errorf("delivery id %q", d.ID)
					}
				}},
			{Name: "no_recipient", Message: notify.Message{TemplateID: notify.TemplateOrderPaid},
				WantStatus: notify.DeliveryFailed, WantErrorCode: "recipient_missing"},
		},
	})
}
