package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/paypal/internal/sandbox"
	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
)

const (
	testClientID  = "AYSq3RDGsmBLJE-otTkBtM-jBRd1TCQwFf9RGfwddNXWz0uFU9ztymylOhRS"
	testSecret    = "EGnHDxD_qRPdaLdZz8iCr8N7_MzF-YHPTkjs6NKYQvQSBngp4PTTVWkPZRbL"
	testWebhookID = "8PT597110X687430LKGECATA"
)

// binary is the plugin built once, started as Kassa starts it.
var binary string

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

// fastSchedule compresses the first retries of PayPal's schedule.
var fastSchedule = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}

func startSandbox(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	opts.ClientID, opts.Secret, opts.WebhookID = testClientID, testSecret, testWebhookID
	if opts.Schedule == nil {
		opts.Schedule = fastSchedule
	}
	sb, err := sandbox.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return sb
}

func settingsFor(sb *sandbox.Server, mode string, extra map[string]any) json.RawMessage {
	m := map[string]any{"client_id": testClientID, "client_secret": testSecret, "webhook_id": testWebhookID,
		"base_url": sb.URL(), "sandbox": true, "webhook_verification": mode, "brand_name": "测试商店"}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// captureEvent is a PAYMENT.CAPTURE.COMPLETED event body as PayPal sends it
// for capture captureID.
func captureEvent(ev payment.Event, captureID string) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": ev.ID, "event_version": "1.0", "create_time": ev.OccurredAt.Format(time.RFC3339), "resource_type": "capture",
		"resource_version": "2.0", "event_type": "PAYMENT.CAPTURE.COMPLETED", "summary": "Payment completed",
		"resource": map[string]any{
			"id": captureID, "status": "COMPLETED", "custom_id": ev.AttemptID, "invoice_id": ev.AttemptID,
			"amount":      map[string]string{"currency_code": ev.Amount.Currency, "value": formatValue(ev.Amount)},
			"create_time": ev.OccurredAt.Format(time.RFC3339), "update_time": ev.OccurredAt.Format(time.RFC3339),
			"supplementary_data": map[string]any{"related_ids": map[string]string{"order_id": ev.GatewayRef}},
		},
	})
	return b
}

// captureOf returns the capture of a sandbox order, capturing it first if
// the buyer has not paid: the plugin reads a webhook's capture back from
// PayPal, so the event must name a real one.
func captureOf(sb *sandbox.Server, orderID string) (string, error) {
	if ids := sb.OrderCaptures(orderID); len(ids) > 0 {
		return ids[0], nil
	}
	return sb.Capture(orderID)
}

// signCapture is the conformance kit's WebhookKit.Sign: the capture of
// ev's order announced, signed by the sandbox.
func signCapture(sb *sandbox.Server) func(payment.Event, time.Time) (http.Header, []byte, error) {
	return func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
		id, err := captureOf(sb, ev.GatewayRef)
		if err != nil {
			return nil, nil, err
		}
		body := captureEvent(ev, id)
		return sb.Sign(body, at), body, nil
	}
}

// buyer follows the approve link like a browser: opens PayPal's page and
// presses Pay Now, landing on the shop's return URL.
func buyer(ctx context.Context, approveURL string) (*url.URL, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, approveURL, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "Pay Now") {
		return nil, fmt.Errorf("approval page: %d %s", res.StatusCode, page)
	}
	form := url.Values{"action": {"approve"}, "outcome": {sandbox.OutcomeCompleted}}
	r, err = http.NewRequestWithContext(ctx, http.MethodPost, approveURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noFollow.Do(r)
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("approve: status %d", res.StatusCode)
	}
	return url.Parse(res.Header.Get("Location"))
}

func TestConformance(t *testing.T) {
	for _, mode := range []string{VerifyAPI, VerifyOffline} {
		t.Run(mode, func(t *testing.T) { conformance(t, mode) })
	}
}

func conformance(t *testing.T, mode string) {
	sb := startSandbox(t, sandbox.Options{})
	approve := func(ctx context.Context, _ *plugintest.Harness, req payment.CreateRequest, res payment.CreateResult) error {
		ret, err := buyer(ctx, res.Action.URL)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(ret.String(), req.ReturnURL) || ret.Query().Get("token") != res.GatewayRef {
			return fmt.Errorf("returned to %s, want %s with token %s", ret, req.ReturnURL, res.GatewayRef)
		}
		return nil
	}
	redirect := plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect}
	plugintest.RunGateway(t, plugintest.GatewayConfig{
		Binary:               binary,
		Config:               settingsFor(sb, mode, nil),
		AllowPrivateNetworks: true,
		Currency:             "USD",
		Scenarios: []plugintest.Scenario{
			{Name: "approve", Request: payment.CreateRequest{PaymentMethod: MethodPayPal}, Want: redirect, Complete: approve, WantFinal: payment.StatusSucceeded},
			{Name: "authorize", Request: payment.CreateRequest{CaptureMethod: payment.CaptureManual}, Want: redirect, Complete: approve, WantFinal: payment.StatusAuthorized},
			{Name: "jpy", Request: payment.CreateRequest{Amount: sdk.Money{Amount: 1999, Currency: "JPY"}}, Want: redirect, Complete: approve, WantFinal: payment.StatusSucceeded},
			{Name: "unapproved", Request: payment.CreateRequest{}, Want: redirect},
			{Name: "kzt_refused", Request: payment.CreateRequest{Amount: sdk.Money{Amount: 1999, Currency: "KZT"}},
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineCurrencyNotSupported}},
			{Name: "unknown_method", Request: payment.CreateRequest{PaymentMethod: "venmo"},
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: "payment_method_not_supported"}},
		},
		Paid:       "approve",
		Unpaid:     "unapproved",
		Authorized: "authorize",
		Webhook: &plugintest.WebhookKit{
			Sign: signCapture(sb),
			// A changed amount: PayPal's API verification compares the
			// event, not its whitespace.
			Tamper: func(h http.Header, body []byte) (http.Header, []byte) {
				return h, []byte(strings.Replace(string(body), `"value":"`, `"value":"1`, 1))
			},
		},
	})
}

// TestSignatureKnownAnswer checks the plugin's and the sandbox's
// algorithms against a delivery PayPal published (PayPal Java SDK sample
// ValidateCert: sandbox webhook 3RN13029J36659323, signed with PayPal's
// sandbox certificate CERT-360caa42-fca2a594-a5cafa77 as served in the
// PayPal Node SDK's recorded fixtures).
func TestSignatureKnownAnswer(t *testing.T) {
	t.Parallel()
	const (
		tid       = "b2384410-f8d2-11e4-8bf3-77339302725b"
		ts        = "2015-05-12T18:14:14Z"
		webhookID = "3RN13029J36659323"
		sig       = "vSOIQFIZQHv8G2vpbOpD/4fSC4/MYhdHyv+AmgJyeJQq6q5avWyHIe/zL6qO5hle192HSqKbYveLoFXGJun2od2zXN3Q45VBXwdX3woXYGaNq532flAtiYin+tQ/0pNwRDsVIufCxa3a8HskaXy+YEfXNnwCSL287esD3HgOHmuAs0mYKQdbR4e8Evk8XOOQaZzGeV7GNXXz19gzzvyHbsbHmDz5VoRl9so5OoHqvnc5RtgjZfG8KA9lXh2MTPSbtdTLQb9ikKYnOGM+FasFMxk5stJisgmxaefpO9Q1qm3rCjaJ29aAOyDNr3Q7WkeN3w4bSXtFMwyRBOF28pJg9g=="
		wantBase  = tid + "|" + ts + "|" + webhookID + "|2487599788"
	)
	body := readTestdata(t, "java_sdk_event.json")
	cert := readCert(t, "paypal_sandbox_cert_2015.pem")
	if got := signatureBase(tid, ts, webhookID, body); got != wantBase {
		t.Errorf("plugin signature base = %q, want %q", got, wantBase)
	}
	if got := sandbox.SignatureBase(tid, ts, webhookID, body); got != wantBase {
		t.Errorf("sandbox signature base = %q, want %q", got, wantBase)
	}
	if err := verifyWithCert(cert, tid, ts, webhookID, body, sig); err != nil {
		t.Errorf("plugin: PayPal's published delivery does not verify: %v", err)
	}
	if err := sandbox.VerifySignature(cert, tid, ts, webhookID, body, sig); err != nil {
		t.Errorf("sandbox: PayPal's published delivery does not verify: %v", err)
	}
	for name, c := range map[string]struct {
		tid, ts, webhook string
		body             []byte
	}{
		"other webhook id": {tid, ts, "9XL90610J3647323C", body},
		"other time":       {tid, "2015-05-12T18:14:15Z", webhookID, body},
		"changed body":     {tid, ts, webhookID, append(append([]byte(nil), body...), ' ')},
	} {
		if verifyWithCert(cert, c.tid, c.ts, c.webhook, c.body, sig) == nil {
			t.Errorf("%s: verified, want a refusal", name)
		}
	}
}

// TestCertURLRestricted: PAYPAL-CERT-URL is fetched only from PayPal's
// hosts of the environment (SSRF).
func TestCertURLRestricted(t *testing.T) {
	t.Parallel()
	sandboxHosts := map[string]bool{"api.sandbox.paypal.com": true, "api-m.sandbox.paypal.com": true}
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77", true},
		{"https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-1", true},
		{"http://api.sandbox.paypal.com/v1/notifications/certs/CERT-1", false},
		{"https://api.paypal.com/v1/notifications/certs/CERT-1", false},
		{"https://evil.example/v1/notifications/certs/CERT-1", false},
		{"https://api.sandbox.paypal.com.evil.example/v1/notifications/certs/CERT-1", false},
		{"https://user@api.sandbox.paypal.com/v1/notifications/certs/CERT-1", false},
		{"https://169.254.169.254/latest/meta-data/", false},
		{"https://api.sandbox.paypal.com/v1/oauth2/token", false},
		{"https://api.sandbox.paypal.com/v1/notifications/certs/../../oauth2/token", false},
		{"https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1?x=1", false},
		{"file:///etc/passwd", false},
	} {
		_, err := checkCertURL(c.url, sandboxHosts, false)
		if (err == nil) != c.ok {
			t.Errorf("checkCertURL(%q) = %v, want ok %v", c.url, err, c.ok)
		}
	}
}

// shop plays Kassa: the gateway, and a webhook route that hands deliveries
// to HandleWebhook and applies events once by id.
type shop struct {
	gw     *Gateway
	sb     *sandbox.Server
	srv    *httptest.Server
	mu     sync.Mutex
	events map[string]payment.Event
	order  []string // event types in arrival order
	fail   atomic.Int32
}

func newShop(t *testing.T, opts sandbox.Options, mode string, extra map[string]any) *shop {
	t.Helper()
	s := &shop{events: map[string]payment.Event{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if s.fail.Add(-1) >= 0 {
			http.Error(w, "commit failed", http.StatusInternalServerError)
			return
		}
		res, err := s.gw.HandleWebhook(r.Context(), payment.WebhookRequest{Method: r.Method, Header: r.Header, Body: body, ReceivedAt: time.Now()})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.mu.Lock()
		for _, ev := range res.Events {
			if _, dup := s.events[ev.ID]; !dup {
				s.events[ev.ID] = ev
				s.order = append(s.order, ev.Type)
			}
		}
		s.mu.Unlock()
		w.WriteHeader(res.Response.StatusCode())
	}))
	t.Cleanup(s.srv.Close)
	opts.WebhookURL = s.srv.URL
	s.sb = startSandbox(t, opts)
	gw, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.gw = gw
	res, err := gw.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(s.sb, mode, extra))
	if err != nil || !res.OK() {
		t.Fatalf("Configure: %v %v", res, err)
	}
	return s
}

func (s *shop) create(t *testing.T, id string, amount int64, manual bool) payment.CreateResult {
	t.Helper()
	req := payment.CreateRequest{AttemptID: id, IdempotencyKey: id, Amount: sdk.Money{Amount: amount, Currency: "USD"},
		ReturnURL: "https://shop.example/return/" + id, Locale: "zh-CN"}
	if manual {
		req.CaptureMethod = payment.CaptureManual
	}
	res, err := s.gw.CreatePayment(context.Background(), req)
	if err != nil || res.Status != payment.StatusRequiresAction {
		t.Fatalf("CreatePayment = %+v, %v", res, err)
	}
	return res
}

// count returns how many applied events have type typ.
func (s *shop) count(typ string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ev := range s.events {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestApprovalWebhookCaptures: the buyer approves and never returns; the
// CHECKOUT.ORDER.APPROVED webhook captures the order, the capture's own
// webhook comes too, and partial refunds each arrive once. The webhook
// endpoint fails the first deliveries (PayPal retries), and every
// transmission is sent twice (duplicates). One token serves it all.
func TestApprovalWebhookCaptures(t *testing.T) {
	for _, mode := range []string{VerifyAPI, VerifyOffline} {
		t.Run(mode, func(t *testing.T) {
			s := newShop(t, sandbox.Options{Duplicate: true}, mode, nil)
			s.fail.Store(2)
			res := s.create(t, "pay_hook_"+mode, 2500, false)
			if err := s.sb.Approve(res.GatewayRef, sandbox.OutcomeCompleted); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the capture", func() bool { return s.sb.OrderStatus(res.GatewayRef) == "COMPLETED" })
			eventually(t, "payment.succeeded from APPROVED and CAPTURE.COMPLETED", func() bool { return s.count(payment.EventPaymentSucceeded) == 2 })
			if n := len(s.sb.OrderCaptures(res.GatewayRef)); n != 1 {
				t.Fatalf("%d captures, want 1", n)
			}
			st, err := s.gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_hook_" + mode})
			if err != nil || st.Status != payment.StatusSucceeded || st.Captured != 2500 {
				t.Fatalf("GetPayment = %+v, %v", st, err)
			}
			for i, amt := range []int64{1000, 500} {
				rid := fmt.Sprintf("ref_%s_%d", mode, i)
				r, err := s.gw.Refund(context.Background(), payment.RefundRequest{RefundID: rid, AttemptID: "pay_hook_" + mode, IdempotencyKey: rid,
					Amount: sdk.Money{Amount: amt, Currency: "USD"}})
				if err != nil || r.Status != payment.RefundSucceeded || r.Amount.Amount != amt {
					t.Fatalf("Refund(%d) = %+v, %v", amt, r, err)
				}
			}
			eventually(t, "two refund events", func() bool { return s.count(payment.EventRefundSucceeded) == 2 })
			s.mu.Lock()
			for _, ev := range s.events {
				if ev.Type == payment.EventRefundSucceeded && (ev.AttemptID != "pay_hook_"+mode || !strings.HasPrefix(ev.RefundID, "ref_") || ev.GatewayRef != res.GatewayRef) {
					t.Errorf("refund event %+v lacks its attempt, refund or order", ev)
				}
			}
			s.mu.Unlock()
			over, err := s.gw.Refund(context.Background(), payment.RefundRequest{RefundID: "ref_over_" + mode, AttemptID: "pay_hook_" + mode,
				Amount: sdk.Money{Amount: 1001, Currency: "USD"}})
			if err != nil || over.Status != payment.RefundFailed || over.FailureCode != payment.FailureAmountExceedsCaptured {
				t.Errorf("over-refund = %+v, %v", over, err)
			}
			retried := 0
			for _, d := range s.sb.Deliveries() {
				if d.Status == http.StatusInternalServerError {
					retried++
				}
			}
			if retried != 2 {
				t.Errorf("%d deliveries answered 500, want 2 (then retried)", retried)
			}
			if n := s.sb.TokensIssued(); n != 1 {
				t.Errorf("%d OAuth tokens issued, want 1 (cached until expiry)", n)
			}
		})
	}
}

// TestOutOfOrderAndPending: the authorization's events arrive last first,
// a pending capture reports PENDING and then COMPLETED.
func TestOutOfOrderAndPending(t *testing.T) {
	s := newShop(t, sandbox.Options{}, VerifyOffline, nil)
	res := s.create(t, "pay_ooo", 1500, true)
	s.sb.HoldDeliveries()
	if err := s.sb.Approve(res.GatewayRef, sandbox.OutcomeCompleted); err != nil {
		t.Fatal(err)
	}
	st, err := s.gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_ooo", GatewayRef: res.GatewayRef})
	if err != nil || st.Status != payment.StatusAuthorized {
		t.Fatalf("GetPayment after approval = %+v, %v", st, err)
	}
	cr, err := s.gw.CapturePayment(context.Background(), payment.CaptureRequest{AttemptID: "pay_ooo", GatewayRef: res.GatewayRef,
		Amount: sdk.Money{Amount: 1500, Currency: "USD"}, IdempotencyKey: "cap_ooo"})
	if err != nil || cr.Status != payment.StatusSucceeded || cr.Captured != 1500 {
		t.Fatalf("CapturePayment = %+v, %v", cr, err)
	}
	s.sb.Release()
	eventually(t, "approved, authorized and captured events", func() bool {
		return s.count(payment.EventPaymentAuthorized) >= 1 && s.count(payment.EventPaymentSucceeded) >= 1
	})
	s.mu.Lock()
	first := s.order[0]
	s.mu.Unlock()
	if first != payment.EventPaymentSucceeded {
		t.Errorf("first applied event %s, want the capture (delivered out of order)", first)
	}

	p := s.create(t, "pay_pending", 700, false)
	if err := s.sb.Approve(p.GatewayRef, sandbox.OutcomePending); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pending capture", func() bool { return len(s.sb.OrderCaptures(p.GatewayRef)) == 1 })
	st, err = s.gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_pending"})
	if err != nil || st.Status != payment.StatusPending {
		t.Fatalf("GetPayment of a pending capture = %+v, %v", st, err)
	}
	if err := s.sb.Settle(s.sb.OrderCaptures(p.GatewayRef)[0], "DECLINED"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "payment.failed", func() bool { return s.count(payment.EventPaymentFailed) == 1 })
	st, _ = s.gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_pending"})
	if st.Status != payment.StatusFailed {
		t.Errorf("after DENIED GetPayment = %s, want FAILED", st.Status)
	}
}

// TestCancelRacesLateApproval: Kassa closes an unapproved attempt, then
// the buyer approves anyway: nothing is captured, GetPayment stays
// CANCELED, the APPROVED webhook carries no event.
func TestCancelRacesLateApproval(t *testing.T) {
	s := newShop(t, sandbox.Options{}, VerifyAPI, nil)
	res := s.create(t, "pay_late", 900, false)
	out, err := s.gw.CancelPayment(context.Background(), payment.CancelRequest{AttemptID: "pay_late", IdempotencyKey: "expire:pay_late"})
	if err != nil || out.Status != payment.CancelCanceled {
		t.Fatalf("CancelPayment = %+v, %v", out, err)
	}
	if _, err := buyer(context.Background(), res.Action.URL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the APPROVED delivery", func() bool { return len(s.sb.Deliveries()) >= 1 })
	st, err := s.gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_late"})
	if err != nil || st.Status != payment.StatusCanceled {
		t.Fatalf("GetPayment = %+v, %v", st, err)
	}
	if s.sb.OrderStatus(res.GatewayRef) != "APPROVED" || len(s.sb.OrderCaptures(res.GatewayRef)) != 0 {
		t.Errorf("order %s with %d captures: a closed attempt was captured", s.sb.OrderStatus(res.GatewayRef), len(s.sb.OrderCaptures(res.GatewayRef)))
	}
	if n := len(s.events); n != 0 {
		t.Errorf("%d events for a closed attempt", n)
	}
}

// TestTokenRefreshedBeforeExpiry: the library asks for a new token a
// minute before the old one expires, not on every call.
func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	s := newShop(t, sandbox.Options{TokenTTL: 61 * time.Second}, VerifyAPI, nil)
	s.create(t, "pay_tok1", 100, false)
	s.create(t, "pay_tok2", 100, false)
	if n := s.sb.TokensIssued(); n != 1 {
		t.Fatalf("%d tokens for two calls within its life, want 1", n)
	}
	time.Sleep(1100 * time.Millisecond)
	s.create(t, "pay_tok3", 100, false)
	if n := s.sb.TokensIssued(); n != 2 {
		t.Errorf("%d tokens after the first came within a minute of expiry, want 2", n)
	}
}

func TestConfigureAndHealth(t *testing.T) {
	sb := startSandbox(t, sandbox.Options{})
	ctx := sdk.WithAllowPrivateNetworks(context.Background(), true)
	cases := []struct {
		name      string
		extra     map[string]any
		wantField string
		health    sdk.HealthStatus
		wantMsg   string
	}{
		{name: "ok", health: sdk.HealthServing},
		{name: "secret equals id", extra: map[string]any{"client_secret": testClientID}, wantField: "/client_secret"},
		{name: "webhook url instead of id", extra: map[string]any{"webhook_id": "https://shop.example/webhooks"}, wantField: "/webhook_id"},
		{name: "bad intent", extra: map[string]any{"intent": "SALE"}, wantField: "/intent"},
		{name: "wrong secret", extra: map[string]any{"client_secret": "EGnHDxD_qRPdaLdZz8iCr8N7_MzF-YHPTkjs6NKYQvQSBngp4PTTVWkPZRbX"},
			health: sdk.HealthNotServing, wantMsg: "invalid_client"},
		{name: "unknown webhook", extra: map[string]any{"webhook_id": "1AB23456CD789012E"}, health: sdk.HealthNotServing, wantMsg: "no webhook with ID 1AB23456CD789012E"},
		{name: "unreachable", extra: map[string]any{"base_url": "http://127.0.0.1:1"}, health: sdk.HealthDegraded, wantMsg: "unreachable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gw, _ := New("")
			res, err := gw.Configure(ctx, settingsFor(sb, VerifyAPI, c.extra))
			if err != nil {
				t.Fatal(err)
			}
			if c.wantField != "" {
				if res.OK() || res.Errors[0].Field != c.wantField {
					t.Fatalf("Configure = %+v, want an error on %s", res, c.wantField)
				}
				return
			}
			if !res.OK() {
				t.Fatalf("Configure = %+v", res)
			}
			h, err := gw.Health(context.Background())
			if err != nil || h.Status != c.health || !strings.Contains(h.Message, c.wantMsg) {
				t.Errorf("Health = %+v, %v; want %s containing %q", h, err, c.health, c.wantMsg)
			}
		})
	}
	// A loopback base URL needs the owner's permission for private networks.
	gw, _ := New("")
	res, err := gw.Configure(context.Background(), settingsFor(sb, VerifyAPI, nil))
	if err != nil || res.OK() || res.Errors[0].Code != "private_network" {
		t.Errorf("Configure to loopback without permission = %+v, %v", res, err)
	}
}

// TestOfflineRefusesForeignCertURL: a delivery naming a certificate on
// another host is refused without fetching it.
func TestOfflineRefusesForeignCertURL(t *testing.T) {
	var fetched atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetched.Add(1) }))
	defer evil.Close()
	s := newShop(t, sandbox.Options{}, VerifyOffline, nil)
	now := time.Now()
	body := captureEvent(payment.Event{ID: "WH-EVIL-000001", AttemptID: "pay_x", GatewayRef: "ORDER1", Amount: sdk.Money{Amount: 100, Currency: "USD"}, OccurredAt: now}, "CAP1")
	h := s.sb.Sign(body, now)
	h.Set(hdrCertURL, evil.URL+"/v1/notifications/certs/CERT-1")
	res, err := s.gw.HandleWebhook(context.Background(), payment.WebhookRequest{Method: http.MethodPost, Header: h, Body: body, ReceivedAt: now})
	if err != nil || res.Rejection == nil || res.Rejection.Reason != payment.RejectBadSignature {
		t.Fatalf("HandleWebhook = %+v, %v; want BAD_SIGNATURE", res, err)
	}
	if fetched.Load() != 0 {
		t.Error("the plugin fetched a certificate from a foreign host")
	}
}

// TestReplaySpellings: a copy of an accepted transmission is a replay
// however its PAYPAL-TRANSMISSION-SIG is spelled. The cache is keyed on
// what PayPal signed, not on the header, whose base64 decodes the same
// with any padding bits.
func TestReplaySpellings(t *testing.T) {
	for _, mode := range []string{VerifyAPI, VerifyOffline} {
		t.Run(mode, func(t *testing.T) {
			s := newShop(t, sandbox.Options{}, mode, nil)
			res := s.create(t, "pay_r", 100, false)
			capID, err := s.sb.Capture(res.GatewayRef)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			body := captureEvent(payment.Event{ID: "WH-REPLAY-000001", AttemptID: "pay_r", GatewayRef: res.GatewayRef, Amount: sdk.Money{Amount: 100, Currency: "USD"}, OccurredAt: now}, capID)
			h := s.sb.Sign(body, now)
			respelled := h.Clone()
			respelled.Set(hdrSig, respellBase64(t, h.Get(hdrSig)))
			deliver := func(h http.Header) payment.WebhookResult {
				res, err := s.gw.HandleWebhook(context.Background(), payment.WebhookRequest{Method: http.MethodPost, Header: h, Body: body, ReceivedAt: now})
				if err != nil {
					t.Fatalf("HandleWebhook: %v", err)
				}
				return res
			}
			if first := deliver(h); first.Rejection != nil || len(first.Events) != 1 {
				t.Fatalf("first transmission: %+v", first)
			}
			for _, tc := range []struct {
				name string
				h    http.Header
				want payment.RejectionReason
			}{
				{"same headers", h, payment.RejectReplay},
				{"a padding bit of the signature set", respelled, payment.RejectReplay},
				{"PayPal's retry, a new transmission", s.sb.Sign(body, now.Add(time.Second)), payment.RejectNone},
			} {
				res := deliver(tc.h)
				got := payment.RejectNone
				if res.Rejection != nil {
					got = res.Rejection.Reason
				}
				if got != tc.want {
					t.Errorf("%s: rejection %s (%+v), want %s", tc.name, got, res.Rejection, tc.want)
				}
				if got == payment.RejectReplay && (len(res.Events) != 0 || res.Response.StatusCode() < 400) {
					t.Errorf("%s: a replay must carry no events and a non-2xx answer: %+v", tc.name, res)
				}
			}
		})
	}
}

// respellBase64 returns another spelling of the bytes s encodes: a padding
// bit of its last quantum set, which Go's base64 decoder ignores.
func respellBase64(t *testing.T, s string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := len(strings.TrimRight(s, "=")) - 1
	if i == len(s)-1 {
		t.Fatalf("%q has no padding bits to set", s)
	}
	out := s[:i] + string(alphabet[strings.IndexByte(alphabet, s[i])^1]) + s[i+1:]
	a, errA := base64.StdEncoding.DecodeString(s)
	b, errB := base64.StdEncoding.DecodeString(out)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("%q and %q do not decode to the same bytes", s, out)
	}
	return out
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(readTestdata(t, name))
	if blk == nil {
		t.Fatal("no PEM in " + name)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSettingsInChinese: the admin in Chinese shows every setting's title
// and description in Chinese, none in English.
func TestSettingsInChinese(t *testing.T) { plugintest.CheckTranslated(t, schema.String(), "zh-CN") }
