package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
	"github.com/kassahq/kassa/plugins/stripe/internal/sandbox"
)

const (
	testSecretKey      = "sk_test_51KassaTestKey0000000000000000"
	testPublishableKey = "pk_test_51KassaTestKey0000000000000000"
	testWebhookSecret  = "whsec_kassaTestSigningSecret00000000"
)

// binary is the plugin built once, started as Kassa starts it.
var binary string

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

// fastSchedule compresses the retry back-off for tests.
var fastSchedule = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}

func startSandbox(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	opts.SecretKey = testSecretKey
	if opts.WebhookSecrets == nil {
		opts.WebhookSecrets = []string{testWebhookSecret}
	}
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

func settingsFor(base string, extra map[string]any) json.RawMessage {
	m := map[string]any{"secret_key": testSecretKey, "publishable_key": testPublishableKey, "webhook_secret": testWebhookSecret,
		"test_mode": true, "api_base_url": base}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// signedEvent builds a delivery as Stripe sends it.
func signedEvent(id, typ string, at time.Time, obj map[string]any, secrets ...string) (http.Header, []byte) {
	if len(secrets) == 0 {
		secrets = []string{testWebhookSecret}
	}
	body := sandbox.EventJSON(id, typ, at, obj)
	return http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Stripe-Signature": {sandbox.Sign(body, at, secrets...)}}, body
}

func intentObject(ev payment.Event, status string) map[string]any {
	amount, cur, _ := toStripe(ev.Amount)
	return map[string]any{"id": ev.GatewayRef, "object": "payment_intent", "amount": amount, "amount_received": amount,
		"currency": cur, "status": status, "metadata": map[string]string{metaAttempt: ev.AttemptID}}
}

func TestConformance(t *testing.T) {
	sb := startSandbox(t, sandbox.Options{})
	confirm := func(pm string) func(context.Context, *plugintest.Harness, payment.CreateRequest, payment.CreateResult) error {
		return func(_ context.Context, _ *plugintest.Harness, _ payment.CreateRequest, res payment.CreateResult) error {
			if !strings.HasPrefix(res.Action.ClientSecret, res.GatewayRef+"_secret_") || res.Action.Details["publishable_key"] != testPublishableKey {
				return fmt.Errorf("client secret action %+v", res.Action)
			}
			return sb.Confirm(res.GatewayRef, pm)
		}
	}
	browse := func(ctx context.Context, u, want string) error {
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		got, err := http.DefaultClient.Do(r)
		if err != nil {
			return err
		}
		page, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if got.StatusCode != http.StatusOK || !strings.Contains(string(page), want) {
			return fmt.Errorf("%s: %d %s", u, got.StatusCode, page)
		}
		return nil
	}
	threeDS := func(ctx context.Context, _ *plugintest.Harness, _ payment.CreateRequest, res payment.CreateResult) error {
		if err := browse(ctx, res.Action.URL, "Authenticate 1999 EUR"); err != nil {
			return err
		}
		return sb.Authenticate(res.GatewayRef, true)
	}
	checkout := func(ctx context.Context, _ *plugintest.Harness, _ payment.CreateRequest, res payment.CreateResult) error {
		if err := browse(ctx, res.Action.URL, "Pay 1999 EUR"); err != nil {
			return err
		}
		return sb.PayCheckout(res.GatewayRef, "pm_card_visa")
	}
	method := func(m string) payment.CreateRequest { return payment.CreateRequest{PaymentMethod: m} }
	plugintest.RunGateway(t, plugintest.GatewayConfig{
		Binary:               binary,
		Config:               settingsFor(sb.URL(), nil),
		AllowPrivateNetworks: true,
		Scenarios: []plugintest.Scenario{
			{Name: "element", Request: method(MethodElement), Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionClientSecret},
				Complete: confirm("pm_card_visa"), WantFinal: payment.StatusSucceeded},
			{Name: "card_paid", Request: method("pm_card_visa"), Want: plugintest.Outcome{Status: payment.StatusSucceeded}},
			{Name: "jpy_paid", Request: payment.CreateRequest{PaymentMethod: "pm_card_visa", Amount: sdk.Money{Amount: 1500, Currency: "JPY"}},
				Want: plugintest.Outcome{Status: payment.StatusSucceeded}},
			{Name: "declined", Request: method("pm_card_chargeDeclined"), Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineCardDeclined}},
			{Name: "insufficient_funds", Request: method("pm_card_chargeDeclinedInsufficientFunds"),
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineInsufficientFunds}},
			{Name: "three_d_secure", Request: method("pm_card_threeDSecure2Required"), Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect},
				Complete: threeDS, WantFinal: payment.StatusSucceeded},
			{Name: "checkout", Request: method(MethodCheckout), Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect},
				Complete: checkout, WantFinal: payment.StatusSucceeded},
			{Name: "element_unpaid", Request: method(MethodElement), Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionClientSecret}},
			{Name: "authorized", Request: payment.CreateRequest{PaymentMethod: "pm_card_visa", CaptureMethod: payment.CaptureManual},
				Want: plugintest.Outcome{Status: payment.StatusAuthorized}},
			{Name: "unknown_method", Request: method("sofort"), Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: "payment_method_not_supported"}},
			{Name: "kwd_not_representable", Request: payment.CreateRequest{PaymentMethod: "pm_card_visa", Amount: sdk.Money{Amount: 1005, Currency: "KWD"}},
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineInvalidAmount}},
		},
		Paid:       "card_paid",
		Unpaid:     "element_unpaid",
		Authorized: "authorized",
		Webhook: &plugintest.WebhookKit{
			Sign: func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
				h, b := signedEvent(ev.ID, "payment_intent.succeeded", at, intentObject(ev, "succeeded"))
				return h, b, nil
			},
		},
	})
}

// shop plays Kassa for in-process tests: the gateway, and a webhook route
// that hands deliveries to HandleWebhook and applies each event id once.
type shop struct {
	gw     *Gateway
	sb     *sandbox.Server
	srv    *httptest.Server
	mu     sync.Mutex
	events map[string]payment.Event
	order  []string
	fail   atomic.Int32 // answer 500 to this many deliveries first
}

func newShop(t *testing.T, opts sandbox.Options, extra map[string]any) *shop {
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
		_, _ = w.Write(res.Response.Body)
	}))
	t.Cleanup(s.srv.Close)
	opts.WebhookURL = s.srv.URL + "/webhooks/payment.stripe"
	s.sb = startSandbox(t, opts)
	gw, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.gw = gw
	res, err := gw.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(s.sb.URL(), extra))
	if err != nil || !res.OK() {
		t.Fatalf("Configure: %v %v", res, err)
	}
	return s
}

func (s *shop) create(t *testing.T, id, method string, m sdk.Money) payment.CreateResult {
	t.Helper()
	res, err := s.gw.CreatePayment(context.Background(), payment.CreateRequest{AttemptID: id, OrderNumber: "#1001", IdempotencyKey: id,
		Amount: m, PaymentMethod: method, ReturnURL: "https://shop.test/return", NotifyURL: s.srv.URL})
	if err != nil {
		t.Fatalf("CreatePayment(%s): %v", id, err)
	}
	return res
}

func (s *shop) eventsOf(attempt, typ string) []payment.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []payment.Event
	for _, ev := range s.events {
		if ev.AttemptID == attempt && ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var eur = func(n int64) sdk.Money { return sdk.Money{Amount: n, Currency: "EUR"} }

// TestWebhookRetriesDuplicatesAndDisorder: Kassa fails to commit twice,
// Stripe retries the same event id, delivers every event twice and in
// reverse order; each event is applied once.
func TestWebhookRetriesDuplicatesAndDisorder(t *testing.T) {
	t.Parallel()
	// A copy signed in the same second as the first is refused as a
	// replay with a non-2xx answer (never 2xx: the first may not have
	// been committed), so Stripe retries it signed anew; retries here
	// therefore cross a second boundary.
	s := newShop(t, sandbox.Options{Duplicate: true, OutOfOrder: true, Schedule: []time.Duration{50 * time.Millisecond, 1100 * time.Millisecond, 1100 * time.Millisecond}}, nil)
	s.fail.Store(2)
	res := s.create(t, "pay_flow_1", MethodElement, eur(1234))
	if res.Status != payment.StatusRequiresAction || res.Action.Type != payment.ActionClientSecret {
		t.Fatalf("create: %+v", res)
	}
	if err := s.sb.Confirm(res.GatewayRef, "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "payment.succeeded", func() bool { return len(s.eventsOf("pay_flow_1", payment.EventPaymentSucceeded)) == 1 })
	ev := s.eventsOf("pay_flow_1", payment.EventPaymentSucceeded)[0]
	if ev.Amount != eur(1234) || ev.GatewayRef != res.GatewayRef || !strings.HasPrefix(ev.ID, "evt_") || ev.OccurredAt.IsZero() {
		t.Errorf("event %+v", ev)
	}
	waitUntil(t, "all deliveries answered", func() bool {
		ok := 0
		for _, d := range s.sb.Deliveries() {
			if d.Status == http.StatusOK {
				ok++
			}
		}
		return ok >= 4 // created and succeeded, twice each
	})
	retried := false
	for _, d := range s.sb.Deliveries() {
		retried = retried || d.Attempt > 1 && d.Status == http.StatusOK
	}
	if !retried {
		t.Errorf("no delivery was retried after the 500s: %+v", s.sb.Deliveries())
	}
	if got := len(s.eventsOf("pay_flow_1", payment.EventPaymentSucceeded)); got != 1 {
		t.Errorf("applied %d payment.succeeded events, want 1", got)
	}
}

// TestRetryStopsAfterSchedule: an endpoint that always fails gets the
// first attempt and one retry per delay, then nothing.
func TestRetryStopsAfterSchedule(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer rcv.Close()
	sb := startSandbox(t, sandbox.Options{WebhookURL: rcv.URL, Schedule: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}})
	gw, _ := New("")
	if res, err := gw.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(sb.URL(), nil)); err != nil || !res.OK() {
		t.Fatal(res, err)
	}
	res, err := gw.CreatePayment(context.Background(), payment.CreateRequest{AttemptID: "pay_r", Amount: eur(500), PaymentMethod: MethodElement})
	if err != nil {
		t.Fatal(err)
	}
	_ = res
	time.Sleep(600 * time.Millisecond)
	if hits.Load() != 4 {
		t.Errorf("%d attempts of payment_intent.created, want 4 (first + 3 retries)", hits.Load())
	}
}

func TestManualCaptureThenPartialRefunds(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{PendingRefunds: true}, map[string]any{"capture_method": "manual"})
	ctx := context.Background()
	res := s.create(t, "pay_cap_1", "pm_card_visa", eur(1000))
	if res.Status != payment.StatusAuthorized {
		t.Fatalf("create with capture_method manual = %+v, want AUTHORIZED", res)
	}
	waitUntil(t, "payment.authorized", func() bool { return len(s.eventsOf("pay_cap_1", payment.EventPaymentAuthorized)) == 1 })
	if r, err := s.gw.Refund(ctx, payment.RefundRequest{RefundID: "ref_early", AttemptID: "pay_cap_1", GatewayRef: res.GatewayRef, Amount: eur(100)}); err != nil || r.FailureCode != payment.FailurePaymentNotCaptured {
		t.Errorf("refund of an authorization = %+v, %v; want %s", r, err, payment.FailurePaymentNotCaptured)
	}
	c, err := s.gw.CapturePayment(ctx, payment.CaptureRequest{AttemptID: "pay_cap_1", GatewayRef: res.GatewayRef, Amount: eur(800), IdempotencyKey: "cap1"})
	if err != nil || c.Status != payment.StatusSucceeded || c.Captured != 800 {
		t.Fatalf("partial capture = %+v, %v", c, err)
	}
	steps := []struct {
		id     string
		amount int64
		status payment.RefundStatus
		code   string
	}{
		{"ref_a", 300, payment.RefundPending, ""},
		{"ref_a", 300, payment.RefundPending, ""}, // retry: the same refund
		{"ref_b", 501, payment.RefundFailed, payment.FailureAmountExceedsCaptured},
		{"ref_c", 500, payment.RefundPending, ""},
		{"ref_d", 1, payment.RefundFailed, payment.FailureAmountExceedsCaptured},
	}
	refs := map[string]string{}
	for _, st := range steps {
		r, err := s.gw.Refund(ctx, payment.RefundRequest{RefundID: st.id, AttemptID: "pay_cap_1", GatewayRef: res.GatewayRef, Amount: eur(st.amount), IdempotencyKey: st.id})
		if err != nil || r.Status != st.status || r.FailureCode != st.code {
			t.Errorf("Refund(%s, %d) = %+v, %v; want %s %q", st.id, st.amount, r, err, st.status, st.code)
		}
		if prev, ok := refs[st.id]; ok && prev != r.GatewayRefundRef {
			t.Errorf("a retried refund got a new Stripe refund %s (first %s)", r.GatewayRefundRef, prev)
		}
		refs[st.id] = r.GatewayRefundRef
	}
	if err := s.sb.SettleRefund(refs["ref_a"], true); err != nil {
		t.Fatal(err)
	}
	if err := s.sb.SettleRefund(refs["ref_c"], false); err != nil {
		t.Fatal(err)
	}
	got, err := s.gw.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_c", AttemptID: "pay_cap_1"})
	if err != nil || got.Status != payment.RefundFailed || got.Amount != eur(500) {
		t.Errorf("GetRefund(ref_c) = %+v, %v; want FAILED 500", got, err)
	}
	st, err := s.gw.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_cap_1"})
	if err != nil || st.Status != payment.StatusSucceeded || st.Captured != 800 || st.Refunded != 300 {
		t.Errorf("GetPayment = %+v, %v; want SUCCEEDED captured 800 refunded 300", st, err)
	}
	waitUntil(t, "refund events", func() bool {
		return len(s.eventsOf("pay_cap_1", payment.EventRefundSucceeded)) >= 1 && len(s.eventsOf("pay_cap_1", payment.EventRefundFailed)) == 1
	})
	for _, ev := range s.eventsOf("pay_cap_1", payment.EventRefundSucceeded) {
		if ev.RefundID != "ref_a" || ev.Amount != eur(300) || ev.GatewayRefundRef != refs["ref_a"] {
			t.Errorf("refund.succeeded event %+v, want ref_a 300", ev)
		}
	}
	if ev := s.eventsOf("pay_cap_1", payment.EventRefundFailed)[0]; ev.RefundID != "ref_c" || ev.Amount != eur(500) {
		t.Errorf("refund.failed event %+v", ev)
	}
}

// TestCheckoutCloseRacesLatePayment: the deadline closes a Checkout
// Session; a buyer paying after that is refused, and a buyer who paid
// just before makes the close ALREADY_PAID.
func TestCheckoutCloseRacesLatePayment(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{}, nil)
	ctx := context.Background()
	late := s.create(t, "pay_cs_late", MethodCheckout, eur(700))
	out, err := s.gw.CancelPayment(ctx, payment.CancelRequest{AttemptID: "pay_cs_late", GatewayRef: late.GatewayRef, IdempotencyKey: "x1"})
	if err != nil || out.Status != payment.CancelCanceled {
		t.Fatalf("cancel = %+v, %v", out, err)
	}
	if err := s.sb.PayCheckout(late.GatewayRef, "pm_card_visa"); err != sandbox.ErrNotPayable {
		t.Errorf("paying an expired session: %v, want ErrNotPayable", err)
	}
	waitUntil(t, "payment.canceled", func() bool { return len(s.eventsOf("pay_cs_late", payment.EventPaymentCanceled)) == 1 })

	early := s.create(t, "pay_cs_early", MethodCheckout, eur(700))
	if err := s.sb.PayCheckout(early.GatewayRef, "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	out, err = s.gw.CancelPayment(ctx, payment.CancelRequest{AttemptID: "pay_cs_early", GatewayRef: early.GatewayRef, IdempotencyKey: "x2"})
	if err != nil || out.Status != payment.CancelAlreadyPaid {
		t.Errorf("cancel after payment = %+v, %v; want ALREADY_PAID", out, err)
	}
	waitUntil(t, "payment.succeeded", func() bool { return len(s.eventsOf("pay_cs_early", payment.EventPaymentSucceeded)) == 1 })
	// The refund finds the PaymentIntent behind the session.
	r, err := s.gw.Refund(ctx, payment.RefundRequest{RefundID: "ref_cs", AttemptID: "pay_cs_early", GatewayRef: early.GatewayRef, Amount: eur(700), IdempotencyKey: "ref_cs"})
	if err != nil || r.Status != payment.RefundSucceeded {
		t.Errorf("refund of a Checkout payment = %+v, %v", r, err)
	}
}

func TestProcessingIsPending(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{ProcessingDelay: 300 * time.Millisecond}, nil)
	res := s.create(t, "pay_proc", "pm_card_visa", eur(990))
	if res.Status != payment.StatusPending {
		t.Fatalf("create while processing = %+v, want PENDING", res)
	}
	waitUntil(t, "succeeded", func() bool {
		st, err := s.gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_proc"})
		return err == nil && st.Status == payment.StatusSucceeded
	})
	out, err := s.gw.CancelPayment(context.Background(), payment.CancelRequest{AttemptID: "pay_proc"})
	if err != nil || out.Status != payment.CancelAlreadyPaid {
		t.Errorf("cancel = %+v, %v", out, err)
	}
}

// TestAmountsInStripeUnits: what reaches Stripe for zero-decimal, two- and
// three-decimal currencies and ISK, and back.
func TestAmountsInStripeUnits(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{}, nil)
	cases := []struct {
		money  sdk.Money
		stripe int64
	}{
		{sdk.Money{Amount: 1500, Currency: "JPY"}, 1500}, // ¥1500, not ¥150000
		{sdk.Money{Amount: 50000, Currency: "KRW"}, 50000},
		{sdk.Money{Amount: 1999, Currency: "EUR"}, 1999},
		{sdk.Money{Amount: 1230, Currency: "KWD"}, 1230},
		{sdk.Money{Amount: 5, Currency: "ISK"}, 500},
	}
	for i, c := range cases {
		id := fmt.Sprintf("pay_amt_%d", i)
		res := s.create(t, id, "pm_card_visa", c.money)
		if res.Status != payment.StatusSucceeded {
			t.Errorf("%+v: %+v", c.money, res)
			continue
		}
		var pi struct {
			Amount int64 `json:"amount"`
		}
		if err := getJSON(s.sb.URL()+"/v1/payment_intents/"+res.GatewayRef, &pi); err != nil || pi.Amount != c.stripe {
			t.Errorf("%+v reached Stripe as %d (%v), want %d", c.money, pi.Amount, err, c.stripe)
		}
		st, err := s.gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: id})
		if err != nil || st.Amount != c.money || st.Captured != c.money.Amount {
			t.Errorf("GetPayment of %+v = %+v, %v", c.money, st, err)
		}
	}
}

func getJSON(u string, v any) error {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+testSecretKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return json.NewDecoder(res.Body).Decode(v)
}

func TestIdempotencyKeyReachesStripe(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	keys := map[string]int{}
	sb := startSandbox(t, sandbox.Options{})
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := r.Header.Get("Idempotency-Key"); k != "" {
			mu.Lock()
			keys[r.URL.Path+" "+k]++
			mu.Unlock()
		}
		req, _ := http.NewRequest(r.Method, sb.URL()+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		defer res.Body.Close()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	defer proxy.Close()
	gw, _ := New("")
	if res, err := gw.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(proxy.URL, nil)); err != nil || !res.OK() {
		t.Fatal(res, err)
	}
	// Two plugin instances (a restart without the journal) retry the
	// same attempt: Stripe's key replay returns the same PaymentIntent.
	gw2, _ := New("")
	_, _ = gw2.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(proxy.URL, nil))
	req := payment.CreateRequest{AttemptID: "pay_idem", IdempotencyKey: "pay_idem", Amount: eur(100), PaymentMethod: "pm_card_visa"}
	a, err := gw.CreatePayment(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gw2.CreatePayment(context.Background(), req)
	if err != nil || a.GatewayRef != b.GatewayRef {
		t.Errorf("same key, two PaymentIntents: %s and %s (%v)", a.GatewayRef, b.GatewayRef, err)
	}
	mu.Lock()
	if keys["/v1/payment_intents kassa-create-pay_idem"] != 2 {
		t.Errorf("Idempotency-Key headers seen: %v", keys)
	}
	mu.Unlock()
	// The same key with other parameters is refused by Stripe
	// (idempotency_error), as data: nothing was created.
	c, err := gw2.CreatePayment(context.Background(), payment.CreateRequest{AttemptID: "pay_idem_other", IdempotencyKey: "pay_idem", Amount: eur(200), PaymentMethod: "pm_card_visa"})
	if err != nil || c.Status != payment.StatusFailed {
		t.Errorf("a reused key with other parameters = %+v, %v; want a refusal as data", c, err)
	}
}

// TestSettingsInChinese: the admin in Chinese shows every setting's title
// and description in Chinese, none in English.
func TestSettingsInChinese(t *testing.T) { plugintest.CheckTranslated(t, schema.String(), "zh-CN") }
