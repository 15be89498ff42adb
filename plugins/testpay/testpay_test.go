package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

const testSecret = "whsec_testpay_0123456789"

// binary is testpay built once for all tests, started like Kassa starts it.
var binary string

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

func config(extra string) json.RawMessage {
	return json.RawMessage(`{"webhook_secret":"` + testSecret + `","async_delay_ms":300` + extra + `}`)
}

// signTestpay produces a delivery exactly as testpay sends it.
func signTestpay(ev payment.Event, at time.Time) (http.Header, []byte, error) {
	body, err := json.Marshal(notification{ID: ev.ID, Type: ev.Type, Created: ev.OccurredAt.Unix(), Data: notificationData{
		AttemptID: ev.AttemptID, Payment: ev.GatewayRef, RefundID: ev.RefundID, Refund: ev.GatewayRefundRef,
		Amount: ev.Amount.Amount, Currency: ev.Amount.Currency,
	}})
	h := http.Header{"Content-Type": {"application/json"}}
	h.Set(SignatureHeader, webhook.Sign([]byte(testSecret), at, body))
	return h, body, err
}

// buyer completes the payment page like a browser: it loads the page, then
// clicks the button.
func buyer(action string) func(ctx context.Context, h *plugintest.Harness, req payment.CreateRequest, res payment.CreateResult) error {
	return func(ctx context.Context, h *plugintest.Harness, req payment.CreateRequest, res payment.CreateResult) error {
		page := res.Action.URL
		if res.Action.Type == payment.ActionQRCode {
			page = res.Action.QRCode // the phone opens the QR code's URL
		}
		got, err := h.Page(ctx, http.MethodGet, page, nil)
		if err != nil {
			return err
		}
		if got.StatusCode() != http.StatusOK || !strings.Contains(string(got.Body), formatAmount(req.Amount.Amount, req.Amount.Currency)) {
			return fmt.Errorf("payment page: %d %q", got.StatusCode(), got.Body)
		}
		got, err = h.Page(ctx, http.MethodPost, page, url.Values{"action": {action}})
		if err != nil {
			return err
		}
		if got.StatusCode() != http.StatusSeeOther || got.Header.Get("Location") != req.ReturnURL {
			return fmt.Errorf("after %s: %d Location %q, want 303 to %q", action, got.StatusCode(), got.Header.Get("Location"), req.ReturnURL)
		}
		return nil
	}
}

func TestConformance(t *testing.T) {
	card := func(n string) payment.CreateRequest { return payment.CreateRequest{PaymentMethod: n} }
	plugintest.RunGateway(t, plugintest.GatewayConfig{
		Binary: binary,
		Config: config(""),
		Scenarios: []plugintest.Scenario{
			{Name: "succeed", Request: card("4242 4242 4242 4242"), Want: plugintest.Outcome{Status: payment.StatusSucceeded}},
			{Name: "authorize", Request: payment.CreateRequest{PaymentMethod: "4242424242424242", CaptureMethod: payment.CaptureManual},
				Want: plugintest.Outcome{Status: payment.StatusAuthorized}},
			{Name: "decline", Request: card("4000000000000002"),
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineCardDeclined}},
			{Name: "insufficient_funds", Request: card("tok_4000000000009995"),
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineInsufficientFunds}},
			{Name: "expired_card", Request: card("expired_card"),
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineExpiredCard}},
			{Name: "redirect_pay", Request: card("4000000000003220"),
				Want:     plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect},
				Complete: buyer("pay"), WantFinal: payment.StatusSucceeded},
			{Name: "redirect_fail", Request: card("4000000000003220"),
				Want:     plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect},
				Complete: buyer("fail"), WantFinal: payment.StatusFailed},
			{Name: "qr", Request: card("4000000000000085"),
				Want:     plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionQRCode},
				Complete: buyer("pay"), WantFinal: payment.StatusSucceeded},
			{Name: "async", Request: card("4000000000000010"), Want: plugintest.Outcome{Status: payment.StatusPending},
				WantFinal: payment.StatusSucceeded},
			{Name: "async_decline", Request: card("4000000000000028"), Want: plugintest.Outcome{Status: payment.StatusPending},
				WantFinal: payment.StatusFailed},
			{Name: "never_notify", Request: card("4000000000000036"), Want: plugintest.Outcome{Status: payment.StatusPending},
				WantFinal: payment.StatusSucceeded},
			{Name: "notify_twice", Request: card("4000000000000044"), Want: plugintest.Outcome{Status: payment.StatusSucceeded}},
			{Name: "timeout", Request: card("4000000000000051"), Timeout: 500 * time.Millisecond,
				Want: plugintest.Outcome{Status: payment.StatusUnknown}, WantFinal: payment.StatusSucceeded},
		},
		Paid:       "succeed",
		Unpaid:     "redirect_pay",
		Authorized: "authorize",
		Webhook:    &plugintest.WebhookKit{Sign: signTestpay},
	})
}

// receiver records deliveries to notify_url.
type receiver struct {
	mu   sync.Mutex
	got  []delivered
	srv  *httptest.Server
	code int
	// conns counts the connections opened to the receiver.
	conns atomic.Int32
}

type delivered struct {
	header http.Header
	body   []byte
	n      notification
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{code: http.StatusOK}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var n notification
		_ = json.Unmarshal(body, &n)
		r.mu.Lock()
		r.got = append(r.got, delivered{header: req.Header.Clone(), body: body, n: n})
		code := r.code
		r.mu.Unlock()
		w.WriteHeader(code)
		// As Kassa answers a delivery.
		_, _ = w.Write([]byte(`{"received":true}`))
	}))
	r.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			r.conns.Add(1)
		}
	}
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) for_(attemptID string) []delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []delivered
	for _, d := range r.got {
		if d.n.Data.AttemptID == attemptID {
			out = append(out, d)
		}
	}
	return out
}

func startTestpay(t *testing.T, dataDir, extra string) payment.Gateway {
	t.Helper()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, DataDir: dataDir, PluginID: ID})
	res, err := p.Plugin().Configure(context.Background(), config(extra))
	if err != nil || !res.OK() {
		t.Fatalf("Configure: %v %v", res, err)
	}
	gw, err := p.Gateway()
	if err != nil {
		t.Fatal(err)
	}
	return gw
}

func create(t *testing.T, gw payment.Gateway, id, hint string, amount int64, notifyURL string) payment.CreateResult {
	t.Helper()
	res, err := gw.CreatePayment(context.Background(), payment.CreateRequest{
		AttemptID: id, IdempotencyKey: "idem_" + id, OrderNumber: "#1", PaymentMethod: hint,
		Amount: sdk.Money{Amount: amount, Currency: "EUR"}, NotifyURL: notifyURL,
		PluginBaseURL: "https://shop.test/plugins/payment.testpay", ReturnURL: "https://shop.test/return",
	})
	if err != nil {
		t.Fatalf("CreatePayment(%s): %v", hint, err)
	}
	return res
}

func TestNotifications(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	gw := startTestpay(t, "", "")
	create(t, gw, "pay_succeed", "succeed", 1000, rcv.srv.URL)
	create(t, gw, "pay_twice", "notify_twice", 1000, rcv.srv.URL)
	create(t, gw, "pay_async", "async", 1000, rcv.srv.URL)
	create(t, gw, "pay_never", "never_notify", 1000, rcv.srv.URL)
	create(t, gw, "pay_decline", "decline", 1000, rcv.srv.URL)

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (len(rcv.for_("pay_twice")) < 2 || len(rcv.for_("pay_async")) < 1) {
		time.Sleep(50 * time.Millisecond)
	}
	// Let never_notify settle; it must stay silent.
	st, err := gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_never"})
	for err == nil && st.Status == payment.StatusPending && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		st, err = gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_never"})
	}
	if err != nil || st.Status != payment.StatusSucceeded {
		t.Fatalf("never_notify settled to %s, %v; want SUCCEEDED", st.Status, err)
	}
	time.Sleep(300 * time.Millisecond)

	want := map[string][]string{
		"pay_succeed": {payment.EventPaymentSucceeded},
		"pay_twice":   {payment.EventPaymentSucceeded, payment.EventPaymentSucceeded},
		"pay_async":   {payment.EventPaymentSucceeded},
		"pay_never":   nil,
		"pay_decline": {payment.EventPaymentFailed},
	}
	for id, types := range want {
		got := rcv.for_(id)
		if len(got) != len(types) {
			t.Errorf("%s: %d deliveries, want %d", id, len(got), len(types))
			continue
		}
		for i, d := range got {
			if d.n.Type != types[i] {
				t.Errorf("%s delivery %d: type %q, want %q", id, i, d.n.Type, types[i])
			}
			// Every delivery verifies with testpay's own HandleWebhook.
			res, err := gw.HandleWebhook(context.Background(), payment.WebhookRequest{Method: "POST", Header: d.header, Body: d.body, ReceivedAt: time.Now()})
			if err != nil || res.Rejection != nil || len(res.Events) != 1 || res.Events[0].AttemptID != id {
				t.Errorf("%s delivery %d: HandleWebhook = %+v, %v", id, i, res, err)
			}
		}
	}
	twice := rcv.for_("pay_twice")
	if len(twice) == 2 {
		if twice[0].n.ID != twice[1].n.ID {
			t.Errorf("notify_twice: event ids %q and %q differ; a duplicate keeps its id", twice[0].n.ID, twice[1].n.ID)
		}
		if twice[0].header.Get(SignatureHeader) == twice[1].header.Get(SignatureHeader) {
			t.Errorf("notify_twice: the redelivery must be signed anew (it would be refused as a replay)")
		}
	}
}

// Deliveries one after the other reuse one connection to the shop, as a
// real gateway's do: each would otherwise be a TCP connection set up and
// torn down on both sides.
func TestNotificationsKeepTheConnection(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	gw := startTestpay(t, "", "")
	for i := range 5 {
		id := fmt.Sprintf("pay_kept_%d", i)
		create(t, gw, id, "succeed", 1000, rcv.srv.URL)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) && len(rcv.for_(id)) < 1 {
			time.Sleep(10 * time.Millisecond)
		}
		if len(rcv.for_(id)) != 1 {
			t.Fatalf("%s: no delivery", id)
		}
	}
	// One connection, or two when a delivery starts before the previous
	// answer has been read and its connection gone back to testpay's pool
	// (seen on a loaded machine); a connection per delivery is 5.
	if n := rcv.conns.Load(); n > 2 {
		t.Errorf("5 deliveries in turn opened %d connections, want 1 (2 at most)", n)
	}
}

func TestNotificationRetries(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t)
	rcv.code = http.StatusInternalServerError
	gw := startTestpay(t, "", "")
	create(t, gw, "pay_retry", "succeed", 1000, rcv.srv.URL)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && len(rcv.for_("pay_retry")) < 3 {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(rcv.for_("pay_retry")); n != 3 {
		t.Errorf("a failing notify_url got %d attempts, want 3", n)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gw := startTestpay(t, dir, `,"async_delay_ms":1500`)
	paid := create(t, gw, "pay_1", "succeed", 1999, "")
	pending := create(t, gw, "pay_2", "async", 500, "")
	if pending.Status != payment.StatusPending {
		t.Fatalf("async = %s", pending.Status)
	}
	if r, err := gw.Refund(context.Background(), payment.RefundRequest{RefundID: "ref_1", AttemptID: "pay_1",
		Amount: sdk.Money{Amount: 999, Currency: "EUR"}, IdempotencyKey: "ref_1"}); err != nil || r.Status != payment.RefundSucceeded {
		t.Fatalf("Refund: %+v %v", r, err)
	}

	// A new process on the same data directory (the old one is still
	// running: state is read at start, so this is what a restart sees).
	gw2 := startTestpay(t, dir, `,"async_delay_ms":1500`)
	st, err := gw2.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_1"})
	if err != nil || st.Status != payment.StatusSucceeded || st.GatewayRef != paid.GatewayRef || st.Refunded != 999 {
		t.Errorf("after restart GetPayment(pay_1) = %+v, %v", st, err)
	}
	again := create(t, gw2, "pay_1", "succeed", 1999, "")
	if again.GatewayRef != paid.GatewayRef {
		t.Errorf("idempotent retry after restart: ref %q, want %q", again.GatewayRef, paid.GatewayRef)
	}
	if r, err := gw2.GetRefund(context.Background(), payment.GetRefundRequest{RefundID: "ref_1"}); err != nil || r.Status != payment.RefundSucceeded {
		t.Errorf("after restart GetRefund = %+v, %v", r, err)
	}
	// The pending payment resumes and settles in the new process.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := gw2.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_2"})
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == payment.StatusSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending payment did not settle after restart: %s", st.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAmountTriggers(t *testing.T) {
	t.Parallel()
	on := startTestpay(t, "", `,"amount_triggers":true`)
	off := startTestpay(t, "", "")
	tests := []struct {
		name   string
		gw     payment.Gateway
		amount int64
		status payment.Status
		action payment.ActionType
		code   string
	}{
		{"on: plain amount succeeds", on, 1000, payment.StatusSucceeded, payment.ActionNone, ""},
		{"on: .02 declines", on, 1002, payment.StatusFailed, payment.ActionNone, payment.DeclineCardDeclined},
		{"on: .05 insufficient funds", on, 1005, payment.StatusFailed, payment.ActionNone, payment.DeclineInsufficientFunds},
		{"on: .50 redirects", on, 1050, payment.StatusRequiresAction, payment.ActionRedirect, ""},
		{"on: .10 is async", on, 1010, payment.StatusPending, payment.ActionNone, ""},
		{"off: no hint goes to the page", off, 1002, payment.StatusRequiresAction, payment.ActionRedirect, ""},
	}
	for i, tc := range tests {
		res := create(t, tc.gw, fmt.Sprintf("pay_amt_%d", i), "", tc.amount, "")
		if res.Status != tc.status || res.Action.Type != tc.action || res.DeclineCode != tc.code {
			t.Errorf("%s: %s %s %q, want %s %s %q", tc.name, res.Status, res.Action.Type, res.DeclineCode, tc.status, tc.action, tc.code)
		}
	}
}

func TestTimeoutThenRetryAnswersAtOnce(t *testing.T) {
	t.Parallel()
	gw := startTestpay(t, "", "")
	req := payment.CreateRequest{AttemptID: "pay_to", IdempotencyKey: "idem_to", PaymentMethod: "timeout", Amount: sdk.Money{Amount: 700, Currency: "EUR"}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := gw.CreatePayment(ctx, req)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	begin := time.Now()
	res, err := gw.CreatePayment(context.Background(), req)
	if err != nil || res.Status != payment.StatusSucceeded || time.Since(begin) > 2*time.Second {
		t.Errorf("retry = %+v, %v after %v; want SUCCEEDED at once", res, err, time.Since(begin))
	}
}

func TestPick(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios {
		for _, hint := range []string{sc.card, sc.name, "tok_" + sc.card, "card:" + sc.card, strings.ToUpper(sc.name)} {
			if got := pick(payment.CreateRequest{PaymentMethod: hint}, false); got.name != sc.name {
				t.Errorf("pick(%q) = %s, want %s", hint, got.name, sc.name)
			}
		}
	}
	if got := pick(payment.CreateRequest{PaymentMethod: "4242 4242 4242 4242"}, false); got.name != "succeed" {
		t.Errorf("spaces not ignored: %s", got.name)
	}
	if got := pick(payment.CreateRequest{PaymentMethod: "card"}, false); got.name != "redirect" {
		t.Errorf("generic hint: %s, want redirect", got.name)
	}
}

func TestPageEdgeCases(t *testing.T) {
	t.Parallel()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary})
	if res, err := p.Plugin().Configure(context.Background(), config("")); err != nil || !res.OK() {
		t.Fatal(res, err)
	}
	gw, _ := p.Gateway()
	res := create(t, gw, "pay_page", "redirect", 12345, "")
	page := strings.TrimPrefix(res.Action.URL, "https://shop.test/plugins/payment.testpay")
	call := func(method, path, body string) sdk.HTTPResponse {
		t.Helper()
		r, err := p.Plugin().HandleHTTP(context.Background(), sdk.HTTPRequest{Method: method, Path: path, Body: []byte(body),
			BaseURL: "https://shop.test/plugins/payment.testpay"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := call("GET", page, ""); r.StatusCode() != 200 || !strings.Contains(string(r.Body), "123.45 EUR") || !strings.Contains(string(r.Body), `id="pay"`) {
		t.Errorf("page: %d %s", r.StatusCode(), r.Body)
	}
	if r := call("GET", "/pay/tp_nope", ""); r.StatusCode() != 404 {
		t.Errorf("unknown payment: %d", r.StatusCode())
	}
	if r := call("POST", page, "action=steal"); r.StatusCode() != 400 {
		t.Errorf("bad action: %d", r.StatusCode())
	}
	if r := call("DELETE", page, ""); r.StatusCode() != 405 {
		t.Errorf("DELETE: %d", r.StatusCode())
	}
	if r := call("POST", page, "action=pay"); r.StatusCode() != 303 {
		t.Errorf("pay: %d", r.StatusCode())
	}
	// Paying twice changes nothing; the page now shows the outcome.
	if r := call("POST", page, "action=fail"); r.StatusCode() != 303 {
		t.Errorf("second click: %d", r.StatusCode())
	}
	if st, _ := gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_page"}); st.Status != payment.StatusSucceeded {
		t.Errorf("after pay then fail: %s, want SUCCEEDED", st.Status)
	}
	if r := call("GET", page, ""); !strings.Contains(string(r.Body), "This payment is complete.") || strings.Contains(string(r.Body), `id="pay"`) {
		t.Errorf("page after payment: %s", r.Body)
	}
}

// A page left open past its ExpiresAt (the order's payment deadline,
// which Kassa sends) takes no money: paying it then closes the payment as
// expired, as a Stripe Checkout Session or an Alipay trade expire, and
// the page says so.
func TestPageExpires(t *testing.T) {
	t.Parallel()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary})
	if res, err := p.Plugin().Configure(context.Background(), config("")); err != nil || !res.OK() {
		t.Fatal(res, err)
	}
	gw, _ := p.Gateway()
	expires := time.Now().Add(300 * time.Millisecond)
	res, err := gw.CreatePayment(context.Background(), payment.CreateRequest{
		AttemptID: "pay_late", IdempotencyKey: "idem_late", OrderNumber: "#1", PaymentMethod: "redirect",
		Amount: sdk.Money{Amount: 100, Currency: "EUR"}, ExpiresAt: expires,
		PluginBaseURL: "https://shop.test/plugins/payment.testpay", ReturnURL: "https://shop.test/return",
	})
	if err != nil || !res.Action.ExpiresAt.Equal(expires) {
		t.Fatalf("create: %+v, %v", res, err)
	}
	page := strings.TrimPrefix(res.Action.URL, "https://shop.test/plugins/payment.testpay")
	call := func(method, body string) sdk.HTTPResponse {
		t.Helper()
		r, err := p.Plugin().HandleHTTP(context.Background(), sdk.HTTPRequest{Method: method, Path: page, Body: []byte(body),
			BaseURL: "https://shop.test/plugins/payment.testpay"})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := call("GET", ""); !strings.Contains(string(r.Body), `id="pay"`) {
		t.Fatalf("page before it expires: %s", r.Body)
	}
	time.Sleep(time.Until(expires) + 50*time.Millisecond)
	call("POST", "action=pay")
	st, err := gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_late"})
	if err != nil || st.Status != payment.StatusCanceled || st.DeclineCode != "expired" {
		t.Fatalf("paid after it expired: %+v, %v; want CANCELED, expired", st, err)
	}
	if r := call("GET", ""); !strings.Contains(string(r.Body), "This payment is expired") || strings.Contains(string(r.Body), `id="pay"`) {
		t.Fatalf("page after it expired: %s", r.Body)
	}
}

// TestConcurrentInProcess hammers one gateway from many goroutines (run it
// with -race): the same idempotency key from several callers charges once,
// and refunds never exceed the capture.
func TestConcurrentInProcess(t *testing.T) {
	t.Parallel()
	g, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if res, _ := g.Configure(ctx, config("")); !res.OK() {
		t.Fatal(res.Errors)
	}
	req := payment.CreateRequest{AttemptID: "pay_c", IdempotencyKey: "k", PaymentMethod: "succeed", Amount: sdk.Money{Amount: 1000, Currency: "EUR"}}
	var wg sync.WaitGroup
	refs := make(chan string, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := g.CreatePayment(ctx, req)
			if err != nil {
				t.Error(err)
				return
			}
			refs <- res.GatewayRef
		}()
	}
	wg.Wait()
	close(refs)
	first := <-refs
	for r := range refs {
		if r != first {
			t.Fatalf("concurrent retries created two payments: %s and %s", first, r)
		}
	}
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := g.Refund(ctx, payment.RefundRequest{RefundID: fmt.Sprintf("ref_%d", i%10), AttemptID: "pay_c",
				Amount: sdk.Money{Amount: 300, Currency: "EUR"}, IdempotencyKey: fmt.Sprintf("ref_%d", i%10)})
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = g.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_c"})
		}()
	}
	wg.Wait()
	st, _ := g.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_c"})
	if st.Refunded != 900 || st.Captured != 1000 {
		t.Errorf("captured %d refunded %d; want 1000 and 900 (three refunds of 300 fit, the rest are refused)", st.Captured, st.Refunded)
	}
	g.wg.Wait()
}
