package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/alipay/internal/sandbox"
	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
)

const testAppID = "2021000000000001"

// binary is the plugin built once, started as Kassa starts it.
var binary string

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

// fastSchedule compresses Alipay's 4m,10m,10m,1h,2h,6h,15h by 1:4800.
var fastSchedule = []time.Duration{50 * time.Millisecond, 125 * time.Millisecond, 125 * time.Millisecond,
	750 * time.Millisecond, 1500 * time.Millisecond, 4500 * time.Millisecond, 11250 * time.Millisecond}

func appKeyPEM() string {
	der, _ := x509.MarshalPKCS8PrivateKey(testKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func startSandbox(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	opts.AppID, opts.AppPublicKey = testAppID, &testKey.PublicKey
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

// settingsFor configures the plugin for a sandbox, in certificate mode
// when the sandbox runs in it.
func settingsFor(sb *sandbox.Server, appID string) json.RawMessage {
	m := map[string]any{"app_id": appID, "app_private_key": appKeyPEM(), "gateway_url": sb.URL(), "subject_prefix": "测试商店"}
	if sb.AppCertPEM() != "" {
		m["app_cert"], m["alipay_cert"], m["alipay_root_cert"] = sb.AppCertPEM(), sb.AlipayCertPEM(), sb.RootCertPEM()
	} else {
		m["alipay_public_key"] = sb.AlipayPublicKeyPEM()
	}
	b, _ := json.Marshal(m)
	return b
}

// notification builds a delivery as Alipay sends it, signed by the sandbox.
func notification(sb *sandbox.Server, p url.Values) (http.Header, []byte) {
	body := sb.Sign(p).Encode()
	return http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}, []byte(body)
}

func TestConformance(t *testing.T) {
	for _, mode := range []string{"public_key", "certificate"} {
		t.Run(mode, func(t *testing.T) { conformance(t, mode == "certificate") })
	}
}

func conformance(t *testing.T, certMode bool) {
	sb := startSandbox(t, sandbox.Options{CertMode: certMode})
	cashier := func(ctx context.Context, _ *plugintest.Harness, req payment.CreateRequest, res payment.CreateResult) error {
		// The browser opens the signed gateway URL (the cashier), then
		// the buyer pays.
		r, err := http.NewRequestWithContext(ctx, http.MethodGet, res.Action.URL, nil)
		if err != nil {
			return err
		}
		got, err := http.DefaultClient.Do(r)
		if err != nil {
			return err
		}
		page, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if got.StatusCode != http.StatusOK || !strings.Contains(string(page), "¥19.99") {
			return fmt.Errorf("cashier: %d %s", got.StatusCode, page)
		}
		return sb.Pay(req.AttemptID)
	}
	scan := func(_ context.Context, _ *plugintest.Harness, req payment.CreateRequest, _ payment.CreateResult) error {
		return sb.Pay(req.AttemptID)
	}
	method := func(m string) payment.CreateRequest { return payment.CreateRequest{PaymentMethod: m} }
	plugintest.RunGateway(t, plugintest.GatewayConfig{
		Binary:               binary,
		Config:               settingsFor(sb, testAppID),
		AllowPrivateNetworks: true,
		Currency:             "CNY",
		Scenarios: []plugintest.Scenario{
			{Name: "page", Request: method(MethodPage), Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect},
				Complete: cashier, WantFinal: payment.StatusSucceeded},
			{Name: "wap", Request: method(MethodWap), Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect},
				Complete: cashier, WantFinal: payment.StatusSucceeded},
			{Name: "qr", Request: method(MethodQR), Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionQRCode},
				Complete: scan, WantFinal: payment.StatusSucceeded},
			{Name: "qr_unpaid", Request: method(MethodQR), Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionQRCode}},
			{Name: "page_unopened", Request: method(MethodPage), Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect}},
			{Name: "usd_refused", Request: payment.CreateRequest{PaymentMethod: MethodQR, Amount: sdk.Money{Amount: 1999, Currency: "USD"}},
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineCurrencyNotSupported}},
			{Name: "unknown_method", Request: method("alipay_face"), Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: "payment_method_not_supported"}},
		},
		Paid:   "qr",
		Unpaid: "qr_unpaid",
		Webhook: &plugintest.WebhookKit{
			NoTimestamp: true,
			Sign: func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
				h, b := notification(sb, url.Values{
					"notify_id": {ev.ID}, "notify_type": {"trade_status_sync"}, "notify_time": {at.In(chinaTime).Format(timeLayout)},
					"app_id": {testAppID}, "charset": {"utf-8"}, "version": {"1.0"}, "out_trade_no": {ev.AttemptID}, "trade_no": {ev.GatewayRef},
					"trade_status": {"TRADE_SUCCESS"}, "total_amount": {formatYuan(ev.Amount.Amount)},
					"gmt_payment": {ev.OccurredAt.In(chinaTime).Format(timeLayout)}, "subject": {"测试"},
				})
				return h, b, nil
			},
			CheckAccepted: func(r sdk.HTTPResponse) error {
				if string(r.Body) != "success" {
					return fmt.Errorf("body %q, want the literal success", r.Body)
				}
				return nil
			},
		},
	})
}

// shop plays Kassa for in-process tests: the gateway, and a webhook route
// that hands deliveries to HandleWebhook and records the events.
type shop struct {
	gw     *Gateway
	sb     *sandbox.Server
	srv    *httptest.Server
	mu     sync.Mutex
	events map[string]payment.Event // applied once by id, as Kassa does
	seen   int
	fail   atomic.Int32 // answer 500 to this many deliveries first
}

func newShop(t *testing.T, opts sandbox.Options) *shop {
	t.Helper()
	s := &shop{sb: startSandbox(t, opts), events: map[string]payment.Event{}}
	gw, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.gw = gw
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
		s.seen++
		for _, ev := range res.Events {
			if _, dup := s.events[ev.ID]; !dup {
				s.events[ev.ID] = ev
			}
		}
		s.mu.Unlock()
		w.WriteHeader(res.Response.StatusCode())
		_, _ = w.Write(res.Response.Body)
	}))
	t.Cleanup(s.srv.Close)
	s.configure(t, settingsFor(s.sb, testAppID))
	return s
}

func (s *shop) configure(t *testing.T, raw json.RawMessage) {
	t.Helper()
	res, err := s.gw.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), raw)
	if err != nil || !res.OK() {
		t.Fatalf("Configure: %v %v", res, err)
	}
}

func (s *shop) create(t *testing.T, id, method string, fen int64) payment.CreateResult {
	t.Helper()
	res, err := s.gw.CreatePayment(context.Background(), payment.CreateRequest{AttemptID: id, OrderNumber: "#1001", IdempotencyKey: "idem_" + id,
		Amount: sdk.Money{Amount: fen, Currency: "CNY"}, PaymentMethod: method, ReturnURL: "https://shop.test/return", NotifyURL: s.srv.URL + "/webhooks/payment.alipay"})
	if err != nil || res.Status != payment.StatusRequiresAction {
		t.Fatalf("CreatePayment(%s): %+v %v", id, res, err)
	}
	return res
}

// eventsOf returns applied events of an attempt by type.
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

func TestPaymentFlowWithRetriesAndDuplicates(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{Duplicate: true})
	s.fail.Store(2) // Kassa fails to commit twice: Alipay must retry
	s.create(t, "pay_flow_1", MethodQR, 1234)
	if err := s.sb.Pay("pay_flow_1"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "payment.succeeded", func() bool { return len(s.eventsOf("pay_flow_1", payment.EventPaymentSucceeded)) == 1 })
	ev := s.eventsOf("pay_flow_1", payment.EventPaymentSucceeded)[0]
	if ev.Amount != (sdk.Money{Amount: 1234, Currency: "CNY"}) || ev.GatewayRef == "" || ev.OccurredAt.IsZero() {
		t.Errorf("event %+v", ev)
	}
	// Retries stop at the first "success"; every attempt kept notify_id.
	waitUntil(t, "a success answer", func() bool {
		for _, n := range s.sb.Notifications() {
			if n.Answer == "success" {
				return true
			}
		}
		return false
	})
	notes := s.sb.Notifications()
	ids := map[string]bool{}
	for _, n := range notes {
		ids[n.NotifyID] = true
	}
	if len(ids) != 1 || notes[0].Answer == "success" || len(notes) < 3 {
		t.Errorf("notifications %+v: want one notify_id, retried after failures", notes)
	}
	time.Sleep(300 * time.Millisecond)
	successAt := 0
	for _, n := range s.sb.Notifications() {
		if n.Answer == "success" && successAt == 0 {
			successAt = n.Attempt
		}
		if successAt != 0 && n.Attempt > successAt {
			t.Errorf("the sandbox kept notifying after success in attempt %d: %+v", successAt, n)
		}
	}
	if got := len(s.eventsOf("pay_flow_1", payment.EventPaymentSucceeded)); got != 1 {
		t.Errorf("applied %d payment.succeeded events, want 1", got)
	}
}

func TestPartialRefunds(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{})
	ctx := context.Background()
	s.create(t, "pay_refund_1", MethodQR, 1000)
	if err := s.sb.Pay("pay_refund_1"); err != nil {
		t.Fatal(err)
	}
	refund := func(id string, fen int64) payment.RefundResult {
		r, err := s.gw.Refund(ctx, payment.RefundRequest{RefundID: id, AttemptID: "pay_refund_1", Amount: sdk.Money{Amount: fen, Currency: "CNY"}, IdempotencyKey: id})
		if err != nil {
			t.Fatalf("Refund(%s): %v", id, err)
		}
		return r
	}
	steps := []struct {
		id     string
		fen    int64
		status payment.RefundStatus
		code   string
	}{
		{"ref_a", 300, payment.RefundSucceeded, ""},
		{"ref_a", 300, payment.RefundSucceeded, ""}, // retry: same refund
		{"ref_b", 701, payment.RefundFailed, payment.FailureAmountExceedsCaptured},
		{"ref_c", 700, payment.RefundSucceeded, ""},
		{"ref_d", 1, payment.RefundFailed, payment.FailureInvalidState}, // fully refunded: closed
	}
	for _, st := range steps {
		r := refund(st.id, st.fen)
		if r.Status != st.status || r.FailureCode != st.code {
			t.Errorf("Refund(%s, %d) = %+v, want %s %q", st.id, st.fen, r, st.status, st.code)
		}
	}
	got, err := s.gw.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_refund_1"})
	if err != nil || got.Status != payment.StatusSucceeded || got.Refunded != 1000 || got.Captured != 1000 {
		t.Errorf("GetPayment after refunds = %+v, %v; want SUCCEEDED, refunded 1000", got, err)
	}
	r, err := s.gw.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_c", AttemptID: "pay_refund_1"})
	if err != nil || r.Status != payment.RefundSucceeded || r.Amount.Amount != 700 {
		t.Errorf("GetRefund(ref_c) = %+v, %v", r, err)
	}
	waitUntil(t, "two refund events", func() bool { return len(s.eventsOf("pay_refund_1", payment.EventRefundSucceeded)) == 2 })
	byRefund := map[string]int64{}
	for _, ev := range s.eventsOf("pay_refund_1", payment.EventRefundSucceeded) {
		byRefund[ev.RefundID] = ev.Amount.Amount
	}
	if byRefund["ref_a"] != 300 || byRefund["ref_c"] != 700 {
		t.Errorf("refund events %v, want ref_a 300 and ref_c 700 (each refund's own amount, not refund_fee's total)", byRefund)
	}
	// A full refund closes the trade; it stays paid for Kassa, and a
	// cancel then answers ALREADY_PAID.
	c, err := s.gw.CancelPayment(ctx, payment.CancelRequest{AttemptID: "pay_refund_1", IdempotencyKey: "c"})
	if err != nil || c.Status != payment.CancelAlreadyPaid {
		t.Errorf("CancelPayment of a refunded trade = %+v, %v; want ALREADY_PAID", c, err)
	}
}

// TestCloseRacesLatePayment closes trades while the buyer pays them, in
// both orders and concurrently: exactly one side wins each time, and
// CancelPayment and GetPayment agree with the sandbox about which.
func TestCloseRacesLatePayment(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{})
	ctx := context.Background()
	outcomes := map[string]map[string]int{}
	for i := range 30 {
		id := fmt.Sprintf("pay_race_%d", i)
		order := []string{"pay_first", "close_first", "concurrent"}[i%3]
		s.create(t, id, MethodQR, 500)
		var payErr error
		var wg sync.WaitGroup
		pay := func() { defer wg.Done(); payErr = s.sb.Pay(id) }
		wg.Add(1)
		switch order {
		case "pay_first":
			pay()
		case "concurrent":
			go pay()
		}
		c, err := s.gw.CancelPayment(ctx, payment.CancelRequest{AttemptID: id, IdempotencyKey: "cancel_" + id})
		if order == "close_first" {
			pay()
		}
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.gw.GetPayment(ctx, payment.GetRequest{AttemptID: id})
		if err != nil {
			t.Fatal(err)
		}
		if outcomes[order] == nil {
			outcomes[order] = map[string]int{}
		}
		switch {
		case payErr == nil && c.Status == payment.CancelAlreadyPaid && st.Status == payment.StatusSucceeded:
			outcomes[order]["paid"]++
		case errors.Is(payErr, sandbox.ErrTradeClosed) && c.Status == payment.CancelCanceled && st.Status == payment.StatusCanceled:
			outcomes[order]["closed"]++
		default:
			t.Errorf("%s (%s): pay %v, cancel %s, state %s: the two sides disagree", id, order, payErr, c.Status, st.Status)
		}
	}
	if outcomes["pay_first"]["paid"] != 10 || outcomes["close_first"]["closed"] != 10 {
		t.Errorf("outcomes %v: a payment before the close must win, and a close before the payment must win", outcomes)
	}
	t.Logf("race outcomes: %v", outcomes)
}

func TestCancelUnopenedPage(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{})
	ctx := context.Background()
	res := s.create(t, "pay_unopened", MethodPage, 800)
	u, _ := url.Parse(res.Action.URL)
	q := u.Query()
	if q.Get("method") != "alipay.trade.page.pay" || q.Get("sign_type") != "RSA2" || q.Get("charset") != "utf-8" ||
		q.Get("return_url") != "https://shop.test/return" || !strings.HasSuffix(q.Get("notify_url"), "/webhooks/payment.alipay") ||
		!strings.Contains(q.Get("biz_content"), `"total_amount":"8.00"`) {
		t.Errorf("page URL parameters %v", q)
	}
	if err := verifyRSA2(&testKey.PublicKey, []byte(signContent(q, true)), q.Get("sign")); err != nil {
		t.Errorf("page URL signature: %v", err)
	}
	st, err := s.gw.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_unopened"})
	if err != nil || st.Status != payment.StatusRequiresAction || st.Action.URL == "" {
		t.Errorf("GetPayment before the buyer opened the cashier = %+v, %v; want REQUIRES_ACTION", st, err)
	}
	c, err := s.gw.CancelPayment(ctx, payment.CancelRequest{AttemptID: "pay_unopened", IdempotencyKey: "x"})
	if err != nil || c.Status != payment.CancelCanceled {
		t.Errorf("CancelPayment = %+v, %v", c, err)
	}
	if st, _ := s.gw.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_unopened"}); st.Status != payment.StatusCanceled {
		t.Errorf("GetPayment after cancel = %s, want CANCELED", st.Status)
	}
}

func TestWebhookRefusals(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{})
	ctx := context.Background()
	now := time.Now()
	base := func() url.Values {
		return url.Values{"notify_id": {"n1"}, "notify_type": {"trade_status_sync"}, "notify_time": {now.In(chinaTime).Format(timeLayout)},
			"app_id": {testAppID}, "out_trade_no": {"pay_w"}, "trade_no": {"2026x"}, "trade_status": {"TRADE_SUCCESS"}, "total_amount": {"10.00"}}
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	deliver := func(h http.Header, body []byte) payment.WebhookResult {
		res, err := s.gw.HandleWebhook(ctx, payment.WebhookRequest{Method: "POST", Header: h, Body: body, ReceivedAt: now})
		if err != nil {
			t.Fatalf("HandleWebhook: %v", err)
		}
		return res
	}
	h, good := notification(s.sb, base())
	other := base()
	other.Set("app_id", "2021999999999999")
	_, wrongApp := notification(s.sb, other)
	forged := strings.Replace(string(good), "total_amount=10.00", "total_amount=0.01", 1)
	unsigned := base().Encode()
	ownSigned := base()
	ownSig, _ := signRSA2(testKey, []byte(signContent(ownSigned, false))) // the app's key, not Alipay's
	ownSigned.Set("sign", ownSig)
	cases := []struct {
		name   string
		h      http.Header
		body   string
		reason payment.RejectionReason
	}{
		{"forged amount", form, forged, payment.RejectBadSignature},
		{"truncated", form, string(good[:len(good)-20]), payment.RejectBadSignature},
		{"unsigned", form, unsigned, payment.RejectBadSignature},
		{"signed by the app key", form, ownSigned.Encode(), payment.RejectBadSignature},
		{"wrong app_id", form, string(wrongApp), payment.RejectBadSignature},
		{"json", http.Header{"Content-Type": {"application/json"}}, string(good), payment.RejectBadSignature},
		{"garbage", form, "%zz", payment.RejectMalformed},
	}
	for _, tc := range cases {
		res := deliver(tc.h, []byte(tc.body))
		if res.Rejection == nil || res.Rejection.Reason != tc.reason || len(res.Events) > 0 || string(res.Response.Body) != "failure" {
			t.Errorf("%s: %+v, want rejection %s answered failure", tc.name, res, tc.reason)
		}
	}
	first := deliver(h, good)
	if first.Rejection != nil || len(first.Events) != 1 || string(first.Response.Body) != "success" {
		t.Fatalf("valid notification: %+v", first)
	}
	if ev := first.Events[0]; ev.ID != "n1" || ev.Type != payment.EventPaymentSucceeded || ev.Amount.Amount != 1000 || ev.AttemptID != "pay_w" {
		t.Errorf("event %+v", ev)
	}
	if replay := deliver(h, good); replay.Rejection == nil || replay.Rejection.Reason != payment.RejectReplay {
		t.Errorf("replay: %+v, want REPLAY", replay)
	}
	// TRADE_CLOSED without refund fields is a cancel; WAIT_BUYER_PAY is
	// acknowledged without events.
	closed := base()
	closed.Set("notify_id", "n2")
	closed.Set("trade_status", "TRADE_CLOSED")
	if res := deliver(notification(s.sb, closed)); len(res.Events) != 1 || res.Events[0].Type != payment.EventPaymentCanceled {
		t.Errorf("TRADE_CLOSED: %+v", res)
	}
	waiting := base()
	waiting.Set("notify_id", "n3")
	waiting.Set("trade_status", "WAIT_BUYER_PAY")
	if res := deliver(notification(s.sb, waiting)); res.Rejection != nil || len(res.Events) != 0 || string(res.Response.Body) != "success" {
		t.Errorf("WAIT_BUYER_PAY: %+v", res)
	}
}

// TestWebhookReplaySpellings: a copy of an accepted notification is a
// replay however it is re-encoded. The cache is keyed on what Alipay signed,
// not on the bytes of the form or of sign, which base64 decoding reads the
// same with a newline inside or a padding bit set.
func TestWebhookReplaySpellings(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{})
	now := time.Now()
	deliver := func(body string) payment.WebhookResult {
		res, err := s.gw.HandleWebhook(context.Background(), payment.WebhookRequest{Method: "POST",
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}, Body: []byte(body), ReceivedAt: now})
		if err != nil {
			t.Fatalf("HandleWebhook: %v", err)
		}
		return res
	}
	p := url.Values{"notify_id": {"n_replay"}, "notify_type": {"trade_status_sync"}, "notify_time": {now.In(chinaTime).Format(timeLayout)},
		"app_id": {testAppID}, "out_trade_no": {"pay_r"}, "trade_no": {"2026r"}, "trade_status": {"TRADE_SUCCESS"}, "total_amount": {"10.00"}}
	_, body := notification(s.sb, p)
	signed, _ := url.ParseQuery(string(body))
	respelled := func(edit func(url.Values)) string {
		f := url.Values{}
		for k, v := range signed {
			f[k] = append([]string(nil), v...)
		}
		edit(f)
		return f.Encode()
	}
	sign := signed.Get("sign")
	if first := deliver(string(body)); first.Rejection != nil || len(first.Events) != 1 {
		t.Fatalf("first delivery: %+v", first)
	}
	cases := []struct {
		name string
		body string
		want payment.RejectionReason
	}{
		{"same body", string(body), payment.RejectReplay},
		{"a newline inside sign", respelled(func(f url.Values) { f.Set("sign", sign[:40]+"\n"+sign[40:]) }), payment.RejectReplay},
		{"a padding bit of sign set", respelled(func(f url.Values) { f.Set("sign", respellBase64(t, sign)) }), payment.RejectReplay},
		{"sign_type left out", respelled(func(f url.Values) { f.Del("sign_type") }), payment.RejectReplay},
		{"fields in another order", "sign=" + url.QueryEscape(sign) + "&" + respelled(func(f url.Values) { f.Del("sign") }), payment.RejectReplay},
		{"Alipay's retry, signed anew", string(s.sb.Sign(withValue(p, "notify_time", now.Add(time.Second).In(chinaTime).Format(timeLayout))).Encode()), payment.RejectNone},
	}
	for _, tc := range cases {
		res := deliver(tc.body)
		got := payment.RejectNone
		if res.Rejection != nil {
			got = res.Rejection.Reason
		}
		if got != tc.want {
			t.Errorf("%s: rejection %s (%+v), want %s", tc.name, got, res.Rejection, tc.want)
		}
		if got == payment.RejectReplay && (len(res.Events) != 0 || string(res.Response.Body) != "failure") {
			t.Errorf("%s: a replay must carry no events and answer failure: %+v", tc.name, res)
		}
	}
}

// withValue returns a copy of p with k set to v.
func withValue(p url.Values, k, v string) url.Values {
	out := url.Values{}
	for key, vs := range p {
		out[key] = append([]string(nil), vs...)
	}
	out.Set(k, v)
	return out
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

func TestConfigureRefusesBadKeys(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{})
	pub, _ := x509.MarshalPKIXPublicKey(&testKey.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	for _, tc := range []struct {
		name, field string
		set         map[string]any
	}{
		{"public key as private", "/app_private_key", map[string]any{"app_private_key": pubPEM}},
		{"garbage private", "/app_private_key", map[string]any{"app_private_key": strings.Repeat("x", 200)}},
		{"garbage public", "/alipay_public_key", map[string]any{"alipay_public_key": strings.Repeat("y", 200)}},
		{"own public key", "/alipay_public_key", map[string]any{"alipay_public_key": pubPEM}},
	} {
		var m map[string]any
		_ = json.Unmarshal(settingsFor(s.sb, testAppID), &m)
		for k, v := range tc.set {
			m[k] = v
		}
		raw, _ := json.Marshal(m)
		res, err := s.gw.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), raw)
		if err != nil || res.OK() || res.Errors[0].Field != tc.field || strings.Contains(res.Errors[0].Message, "PRIVATE KEY") {
			t.Errorf("%s: %+v %v; want a refusal on %s", tc.name, res, err, tc.field)
		}
	}
	// A loopback gateway is refused unless private networks are allowed.
	res, _ := s.gw.Configure(context.Background(), settingsFor(s.sb, testAppID))
	if res.OK() || res.Errors[0].Field != "/gateway_url" {
		t.Errorf("loopback gateway without permission: %+v", res)
	}
	// The refusals kept the working settings.
	if h, _ := s.gw.Health(context.Background()); h.Status != sdk.HealthServing {
		t.Errorf("Health after refused settings = %+v", h)
	}
}

func TestHealthSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, sandbox.Options{})
	other := startSandbox(t, sandbox.Options{}) // a different Alipay key
	ln := httptest.NewServer(http.NotFoundHandler())
	deadURL := ln.URL + "/gateway.do"
	ln.Close()
	withKey := func(k *sandbox.Server, appID, gw string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"app_id": appID, "app_private_key": appKeyPEM(), "alipay_public_key": k.AlipayPublicKeyPEM(), "gateway_url": gw})
		return b
	}
	wrongAppKey, _ := json.Marshal(map[string]any{"app_id": testAppID, "app_private_key": appKeyPEM(), "alipay_public_key": sb.AlipayPublicKeyPEM(), "gateway_url": sb.URL()})
	for _, tc := range []struct {
		name   string
		raw    json.RawMessage
		skew   time.Duration
		swap   bool
		status sdk.HealthStatus
		want   string
	}{
		{"ok", withKey(sb, testAppID, sb.URL()), 0, false, sdk.HealthServing, ""},
		{"wrong app id", withKey(sb, "2021000000009999", sb.URL()), 0, false, sdk.HealthNotServing, "APPID"},
		{"clock skew", withKey(sb, testAppID, sb.URL()), time.Hour, false, sdk.HealthNotServing, "clock"},
		{"wrong alipay public key", withKey(other, testAppID, sb.URL()), 0, false, sdk.HealthNotServing, "Alipay public key"},
		{"invalid signature", wrongAppKey, 0, true, sdk.HealthNotServing, "isv.invalid-signature"},
		{"unreachable", withKey(sb, testAppID, deadURL), 0, false, sdk.HealthDegraded, "unreachable"},
	} {
		gw, _ := New("")
		gw.now = func() time.Time { return time.Now().Add(tc.skew) }
		raw := tc.raw
		if tc.swap {
			// An app private key the console does not know.
			other, _ := x509.MarshalPKCS8PrivateKey(mustKey(t))
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			m["app_private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: other}))
			raw, _ = json.Marshal(m)
		}
		if res, err := gw.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), raw); err != nil || !res.OK() {
			t.Fatalf("%s: Configure %+v %v", tc.name, res, err)
		}
		h, err := gw.Health(context.Background())
		if err != nil || h.Status != tc.status || !strings.Contains(h.Message, tc.want) {
			t.Errorf("%s: Health = %s %q, %v; want %s mentioning %q", tc.name, h.Status, h.Message, err, tc.status, tc.want)
		}
	}
}

func TestVerifyResponse(t *testing.T) {
	t.Parallel()
	alipayKey := mustKey(t)
	c := &client{alipayKey: &alipayKey.PublicKey}
	node := `{ "code":"10000","msg":"Success","trade_status":"TRADE_SUCCESS","subject":"测试 <b>&"}`
	sig, _ := signRSA2(alipayKey, []byte(node))
	wrap := func(node, sign string) []byte {
		b := `{"alipay_trade_query_response":` + node
		if sign != "" {
			b += `,"sign":"` + sign + `"`
		}
		return []byte(b + "}")
	}
	if r, err := c.verifyResponse("alipay.trade.query", wrap(node, sig)); err != nil || !r.Signed || !r.ok() {
		t.Fatalf("signed answer (verified over the raw node, spaces and all): %+v %v", r, err)
	}
	unsignedRefusal := `{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"x"}`
	if r, err := c.verifyResponse("alipay.trade.query", wrap(unsignedRefusal, "")); err != nil || r.Signed || r.SubCode != "isv.invalid-signature" {
		t.Errorf("unsigned refusal of the call: %+v %v", r, err)
	}
	for name, body := range map[string][]byte{
		"tampered node":     wrap(strings.Replace(node, "TRADE_SUCCESS", "TRADE_CLOSED", 1), sig),
		"re-encoded node":   wrap(strings.Replace(node, "{ ", "{", 1), sig),
		"unsigned success":  wrap(node, ""),
		"unsigned business": wrap(`{"code":"40004","sub_code":"ACQ.TRADE_NOT_EXIST"}`, ""),
		"other method":      []byte(`{"alipay_trade_close_response":` + node + `,"sign":"` + sig + `"}`),
		"not json":          []byte("<html>"),
	} {
		if r, err := c.verifyResponse("alipay.trade.query", body); err == nil {
			t.Errorf("%s: accepted %+v", name, r)
		}
	}
}

func TestListTransactionsFromBills(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{BillsIncludeToday: true})
	ctx := context.Background()
	for _, id := range []string{"pay_bill_1", "pay_bill_2"} {
		s.create(t, id, MethodQR, 10000)
		if err := s.sb.Pay(id); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := s.gw.Refund(ctx, payment.RefundRequest{RefundID: "ref_bill_1", AttemptID: "pay_bill_1", Amount: sdk.Money{Amount: 2500, Currency: "CNY"}}); err != nil || r.Status != payment.RefundSucceeded {
		t.Fatalf("Refund: %+v %v", r, err)
	}
	from, to := time.Now().Add(-time.Hour), time.Now().Add(time.Minute)
	var got []payment.Transaction
	token := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		page, err := s.gw.ListTransactions(ctx, payment.ListTransactionsRequest{From: from, To: to, PageSize: 2, PageToken: token})
		if err != nil {
			t.Fatalf("ListTransactions: %v", err)
		}
		if len(page.Transactions) > 2 {
			t.Errorf("page of %d, want at most 2", len(page.Transactions))
		}
		got = append(got, page.Transactions...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	var charges, refunds, fees int64
	ids := map[string]bool{}
	for _, tx := range got {
		ids[tx.ID] = true
		switch tx.Type {
		case "charge":
			charges += tx.Amount.Amount
		case "refund":
			refunds += tx.Amount.Amount
			if tx.AttemptID != "pay_bill_1" || tx.GatewayRefundRef != "ref_bill_1" {
				t.Errorf("refund row %+v", tx)
			}
		}
		fees += tx.Fee.Amount
		if tx.Amount.Currency != "CNY" || tx.OccurredAt.IsZero() || tx.GatewayRef == "" {
			t.Errorf("row %+v", tx)
		}
	}
	if len(got) != 3 || len(ids) != 3 || charges != 20000 || refunds != -2500 || fees != 60+60+15 {
		t.Errorf("transactions %+v: want 2 charges of 100.00, a refund of -25.00, fees 1.35", got)
	}
	// A day without a bill yet (today, as Alipay has it) lists nothing.
	s2 := newShop(t, sandbox.Options{})
	page, err := s2.gw.ListTransactions(ctx, payment.ListTransactionsRequest{From: from, To: to})
	if err != nil || len(page.Transactions) != 0 {
		t.Errorf("no bill yet: %+v %v", page, err)
	}
	if _, err := s.gw.ListTransactions(ctx, payment.ListTransactionsRequest{From: from, To: to, PageToken: "1999-01-01/0"}); err == nil {
		t.Error("a page token outside the range was accepted")
	}
}

func TestCreateDeclinesAndRetries(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		name, id, method, currency, locale string
		fen                                int64
		code, wantText                     string
	}{
		{"usd", "pay_d_usd", MethodQR, "USD", "en", 1000, payment.DeclineCurrencyNotSupported, "Chinese yuan"},
		{"usd zh", "pay_d_usd_zh", MethodPage, "USD", "zh-CN", 1000, payment.DeclineCurrencyNotSupported, "人民币"},
		{"zero", "pay_d_zero", MethodQR, "CNY", "en", 0, payment.DeclineInvalidAmount, "amount"},
		{"too much", "pay_d_big", MethodQR, "CNY", "zh", 100_000_000_01, payment.DeclineInvalidAmount, "金额"},
		{"method", "pay_d_method", "alipay_face", "CNY", "en", 1000, "payment_method_not_supported", "not available"},
		{"method zh", "pay_d_method_zh", "alipay_face", "CNY", "zh-Hans", 1000, "payment_method_not_supported", "不可用"},
		{"bad id", "pay d/1", MethodQR, "CNY", "en", 1000, "invalid_request", "Alipay"},
	} {
		req := payment.CreateRequest{AttemptID: tc.id, IdempotencyKey: "idem_" + tc.id, PaymentMethod: tc.method, Locale: tc.locale,
			Amount: sdk.Money{Amount: tc.fen, Currency: tc.currency}, NotifyURL: s.srv.URL}
		for try := range 2 {
			res, err := s.gw.CreatePayment(ctx, req)
			if err != nil || res.Status != payment.StatusFailed || res.DeclineCode != tc.code || !strings.Contains(res.BuyerMessage, tc.wantText) || res.MerchantMessage == "" {
				t.Errorf("%s (try %d): %+v %v; want FAILED %s with %q", tc.name, try+1, res, err, tc.code, tc.wantText)
			}
		}
		if st, err := s.gw.GetPayment(ctx, payment.GetRequest{AttemptID: tc.id}); err != nil || st.Status != payment.StatusFailed || st.DeclineCode != tc.code {
			t.Errorf("%s: GetPayment = %+v, %v; want FAILED %s", tc.name, st, err, tc.code)
		}
	}
	// A retried page payment answers the first link; a retried QR payment
	// the same code (Alipay keeps one trade per out_trade_no).
	for _, m := range []string{MethodPage, MethodWap, MethodQR} {
		first := s.create(t, "pay_retry_"+m, m, 4200)
		again := s.create(t, "pay_retry_"+m, m, 4200)
		if first.Action.URL != again.Action.URL || first.Action.QRCode != again.Action.QRCode || first.GatewayRef != again.GatewayRef {
			t.Errorf("%s retry: %+v then %+v", m, first.Action, again.Action)
		}
	}
}

func TestCertificateMode(t *testing.T) {
	t.Parallel()
	s := newShop(t, sandbox.Options{CertMode: true})
	ctx := context.Background()
	s.create(t, "pay_cert_1", MethodQR, 300)
	if err := s.sb.Pay("pay_cert_1"); err != nil {
		t.Fatal(err)
	}
	if st, err := s.gw.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_cert_1"}); err != nil || st.Status != payment.StatusSucceeded {
		t.Fatalf("GetPayment in certificate mode = %+v, %v", st, err)
	}
	waitUntil(t, "the notification", func() bool { return len(s.eventsOf("pay_cert_1", payment.EventPaymentSucceeded)) == 1 })
	if h, _ := s.gw.Health(ctx); h.Status != sdk.HealthServing {
		t.Errorf("Health = %+v", h)
	}

	other := startSandbox(t, sandbox.Options{CertMode: true}) // another CA and Alipay key
	otherApp := mustKey(t)
	foreign, err := sandbox.Start(sandbox.Options{AppID: testAppID, AppPublicKey: &otherApp.PublicKey, CertMode: true})
	if err != nil {
		t.Fatal(err)
	}
	defer foreign.Close()
	base := func() map[string]any {
		var m map[string]any
		_ = json.Unmarshal(settingsFor(s.sb, testAppID), &m)
		return m
	}
	for _, tc := range []struct {
		name, field, code string
		change            func(m map[string]any)
	}{
		{"missing root", "/alipay_root_cert", "required", func(m map[string]any) { delete(m, "alipay_root_cert") }},
		{"public key too", "/alipay_public_key", "mode_conflict", func(m map[string]any) { m["alipay_public_key"] = s.sb.AlipayPublicKeyPEM() }},
		{"app cert of another key", "/app_cert", "key_mismatch", func(m map[string]any) { m["app_cert"] = foreign.AppCertPEM() }},
		{"alipay cert of another CA", "/alipay_cert", "untrusted_certificate", func(m map[string]any) { m["alipay_cert"] = other.AlipayCertPEM() }},
		{"not a certificate", "/alipay_cert", "invalid_certificate", func(m map[string]any) { m["alipay_cert"] = s.sb.AlipayPublicKeyPEM() }},
	} {
		m := base()
		tc.change(m)
		raw, _ := json.Marshal(m)
		res, err := s.gw.Configure(sdk.WithAllowPrivateNetworks(ctx, true), raw)
		if err != nil || res.OK() {
			t.Errorf("%s: accepted (%v)", tc.name, err)
			continue
		}
		found := false
		for _, e := range res.Errors {
			found = found || (e.Field == tc.field && e.Code == tc.code)
		}
		if !found {
			t.Errorf("%s: %+v, want %s on %s", tc.name, res.Errors, tc.code, tc.field)
		}
	}
	// Alipay answering with a rotated certificate is an error naming it.
	m := base()
	m["gateway_url"] = other.URL()
	m["alipay_cert"], m["alipay_root_cert"] = other.AlipayCertPEM(), other.RootCertPEM()
	m["app_cert"] = s.sb.AppCertPEM()
	raw, _ := json.Marshal(m)
	if res, _ := s.gw.Configure(sdk.WithAllowPrivateNetworks(ctx, true), raw); res.OK() {
		t.Errorf("an app certificate from another CA was accepted")
	}
	c := &client{alipayKey: &testKey.PublicKey, certs: &certMode{alipayCertSN: "aaaa"}}
	node := `{"code":"10000","msg":"Success"}`
	sig, _ := signRSA2(testKey, []byte(node))
	if _, err := c.verifyResponse("alipay.trade.query", []byte(`{"alipay_trade_query_response":`+node+`,"alipay_cert_sn":"bbbb","sign":"`+sig+`"}`)); !errors.Is(err, errCertChanged) {
		t.Errorf("a rotated Alipay certificate: %v, want errCertChanged", err)
	}
	if _, err := c.verifyResponse("alipay.trade.query", []byte(`{"alipay_trade_query_response":`+node+`,"alipay_cert_sn":"aaaa","sign":"`+sig+`"}`)); err != nil {
		t.Errorf("the configured certificate: %v", err)
	}
}

// TestSettingsInChinese: the admin in Chinese shows every setting's title
// and description in Chinese, none in English.
func TestSettingsInChinese(t *testing.T) { plugintest.CheckTranslated(t, schema.String(), "zh-CN") }
