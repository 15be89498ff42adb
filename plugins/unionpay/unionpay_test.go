package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
	"github.com/kassahq/kassa/plugins/unionpay/internal/sandbox"
)

// binary is the plugin built once, started as Kassa starts it.
var binary string

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

func TestConformance(t *testing.T) {
	sb := startSandbox(t, sandbox.Options{})
	buyer := func(ctx context.Context, h *plugintest.Harness, req payment.CreateRequest, res payment.CreateResult) error {
		page, err := h.Page(ctx, http.MethodGet, res.Action.URL, nil)
		if err != nil {
			return err
		}
		form, cashier, err := postPage(ctx, page)
		if err != nil {
			return err
		}
		if !strings.Contains(cashier, "¥19.99") {
			return fmt.Errorf("cashier page: %s", cashier)
		}
		return sb.Pay(form.Get("orderId"), "00")
	}
	method := func(m string) payment.CreateRequest { return payment.CreateRequest{PaymentMethod: m} }
	redirect := plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect}
	plugintest.RunGateway(t, plugintest.GatewayConfig{
		Binary:               binary,
		Config:               settingsFor(sb, nil),
		AllowPrivateNetworks: true,
		Currency:             "CNY",
		Scenarios: []plugintest.Scenario{
			{Name: "web", Request: method(MethodWeb), Want: redirect, Complete: buyer, WantFinal: payment.StatusSucceeded},
			{Name: "wap", Request: method(MethodWap), Want: redirect, Complete: buyer, WantFinal: payment.StatusSucceeded},
			{Name: "web_unpaid", Request: method(""), Want: redirect},
			{Name: "usd_refused", Request: payment.CreateRequest{Amount: sdk.Money{Amount: 1999, Currency: "USD"}},
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineCurrencyNotSupported}},
			{Name: "unknown_method", Request: method("unionpay_qr"), Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: "payment_method_not_supported"}},
		},
		Paid:   "web",
		Unpaid: "web_unpaid",
		Webhook: &plugintest.WebhookKit{
			NoTimestamp: true,
			DerivedIDs:  true,
			Sign: func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
				n := sb.Sign(url.Values{
					"version": {"5.1.0"}, "encoding": {"UTF-8"}, "bizType": {"000201"}, "txnType": {"01"}, "txnSubType": {"01"},
					"accessType": {"0"}, "merId": {testMerID}, "orderId": {orderIDFor(ev.AttemptID)},
					"txnTime": {ev.OccurredAt.In(chinaTime).Format(txnTimeLayout)}, "txnAmt": {fmt.Sprint(ev.Amount.Amount)},
					"currencyCode": {"156"}, "reqReserved": {ev.AttemptID}, "queryId": {"752606171234567890123"},
					"traceTime": {ev.OccurredAt.In(chinaTime).Format("0102150405")}, "respCode": {"00"}, "respMsg": {"成功[0000000]"},
				})
				return http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=UTF-8"}}, []byte(n.Encode()), nil
			},
			CheckAccepted: func(r sdk.HTTPResponse) error {
				if r.StatusCode() != http.StatusOK || string(r.Body) != "ok" {
					return fmt.Errorf("answer %d %q, want 200 ok", r.StatusCode(), r.Body)
				}
				return nil
			},
		},
	})
}

// TestPaymentFlowWithRetriesAndDuplicates: the buyer pays, the shop
// fails to commit the first two deliveries, UnionPay sends the same
// message again on its schedule (and twice each time), and Kassa applies
// the payment once.
func TestPaymentFlowWithRetriesAndDuplicates(t *testing.T) {
	s := newShop(t, sandbox.Options{Duplicate: true})
	s.fail.Store(2)
	res := s.create(t, "pay_flow_1", 12345)
	form := s.open(t, res)
	if form.Get("txnAmt") != "12345" || form.Get("currencyCode") != "156" || form.Get("reqReserved") != "pay_flow_1" ||
		form.Get("orderId") != res.GatewayRef || form.Get("certId") != merchantCert.SerialNumber.String() || form.Get("channelType") != "07" {
		t.Fatalf("front form fields: %v", form)
	}
	if err := s.sb.Pay(form.Get("orderId"), "00"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the payment event", func() bool { return len(s.eventsOf("pay_flow_1", payment.EventPaymentSucceeded)) == 1 })
	time.Sleep(100 * time.Millisecond) // let the duplicate of the acknowledged attempt arrive
	if got := s.eventsOf("pay_flow_1", payment.EventPaymentSucceeded); len(got) != 1 || got[0].Amount.Amount != 12345 || got[0].GatewayRef != res.GatewayRef {
		t.Fatalf("events: %+v", got)
	}
	var attempts []int
	for _, n := range s.sb.Notifications() {
		attempts = append(attempts, n.Attempt)
	}
	// Attempt 1 and 2 fail (500, then the duplicate of 1 is refused at
	// Kassa's side too), so UnionPay goes on to attempt 2 at least.
	if len(attempts) < 3 || attempts[len(attempts)-1] < 2 {
		t.Errorf("delivery attempts %v: want repeated sends", attempts)
	}
	st, err := s.gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_flow_1"})
	if err != nil || st.Status != payment.StatusSucceeded || st.Captured != 12345 {
		t.Fatalf("GetPayment: %+v %v", st, err)
	}
}

// TestRetryScheduleGivesUp: backUrl never answers 200; the sandbox sends
// 1 + len(schedule) times, spaced as the schedule says.
func TestRetryScheduleGivesUp(t *testing.T) {
	s := newShop(t, sandbox.Options{})
	s.fail.Store(1000)
	res := s.create(t, "pay_sched_1", 100)
	form := s.open(t, res)
	if err := s.sb.Pay(form.Get("orderId"), "00"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "all attempts", func() bool { return len(s.sb.Notifications()) == 1+len(fastSchedule) })
	ns := s.sb.Notifications()
	for i := 1; i < len(ns); i++ {
		if gap := ns[i].At.Sub(ns[i-1].At); gap < fastSchedule[i-1] {
			t.Errorf("attempt %d came %v after the previous, before the scheduled %v", i+1, gap, fastSchedule[i-1])
		}
	}
	time.Sleep(fastSchedule[len(fastSchedule)-1] + 200*time.Millisecond)
	if n := len(s.sb.Notifications()); n != 1+len(fastSchedule) {
		t.Errorf("%d attempts, want %d", n, 1+len(fastSchedule))
	}
}

// TestPartialRefundsOutOfOrder: two partial refunds, each with its own
// notification, delivered newest first together with the payment's; an
// over-refund is refused as data.
func TestPartialRefundsOutOfOrder(t *testing.T) {
	s := newShop(t, sandbox.Options{})
	ctx := context.Background()
	res := s.create(t, "pay_refund_1", 10000)
	form := s.open(t, res)
	s.sb.Hold()
	if err := s.sb.Pay(form.Get("orderId"), "00"); err != nil {
		t.Fatal(err)
	}
	refund := func(id string, fen int64) payment.RefundResult {
		r, err := s.gw.Refund(ctx, payment.RefundRequest{RefundID: id, AttemptID: "pay_refund_1", GatewayRef: res.GatewayRef, Amount: sdk.Money{Amount: fen, Currency: "CNY"}})
		if err != nil {
			t.Fatalf("Refund %s: %v", id, err)
		}
		return r
	}
	r1, r2 := refund("ref_a_1", 3000), refund("ref_a_2", 2500)
	if r1.Status != payment.RefundSucceeded || r2.Status != payment.RefundSucceeded || r1.GatewayRefundRef == r2.GatewayRefundRef {
		t.Fatalf("refunds: %+v %+v", r1, r2)
	}
	if again := refund("ref_a_1", 3000); again.Status != payment.RefundSucceeded || again.GatewayRefundRef != r1.GatewayRefundRef {
		t.Fatalf("retried refund: %+v", again)
	}
	if over := refund("ref_a_3", 4501); over.Status != payment.RefundFailed || over.FailureCode != payment.FailureAmountExceedsCaptured {
		t.Fatalf("over-refund: %+v", over)
	}
	s.sb.Release(true)
	waitUntil(t, "three events", func() bool {
		return len(s.eventsOf("pay_refund_1", payment.EventRefundSucceeded)) == 2 && len(s.eventsOf("pay_refund_1", payment.EventPaymentSucceeded)) == 1
	})
	s.mu.Lock()
	first := s.events[s.order[0]]
	s.mu.Unlock()
	if first.Type != payment.EventRefundSucceeded {
		t.Errorf("the first applied event is %s; the release was meant to deliver a refund first", first.Type)
	}
	amounts := map[string]int64{}
	for _, ev := range s.eventsOf("pay_refund_1", payment.EventRefundSucceeded) {
		amounts[ev.RefundID] = ev.Amount.Amount
	}
	if amounts["ref_a_1"] != 3000 || amounts["ref_a_2"] != 2500 {
		t.Errorf("refund events: %v", amounts)
	}
	st, err := s.gw.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_refund_1"})
	if err != nil || st.Status != payment.StatusSucceeded || st.Refunded != 5500 {
		t.Fatalf("GetPayment: %+v %v", st, err)
	}
	got, err := s.gw.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_a_2", AttemptID: "pay_refund_1"})
	if err != nil || got.Status != payment.RefundSucceeded || got.Amount.Amount != 2500 {
		t.Fatalf("GetRefund: %+v %v", got, err)
	}
}

// TestFullRefundSameDayIsVoid: the whole amount on the day of payment is
// a void (txnType 31); its notification is a refund event.
func TestFullRefundSameDayIsVoid(t *testing.T) {
	s := newShop(t, sandbox.Options{})
	res := s.create(t, "pay_void_1", 800)
	form := s.open(t, res)
	if err := s.sb.Pay(form.Get("orderId"), "00"); err != nil {
		t.Fatal(err)
	}
	r, err := s.gw.Refund(context.Background(), payment.RefundRequest{RefundID: "ref_void_1", AttemptID: "pay_void_1", Amount: sdk.Money{Amount: 800, Currency: "CNY"}})
	if err != nil || r.Status != payment.RefundSucceeded || r.GatewayRefundRef != refundOrderID("ref_void_1", "31") {
		t.Fatalf("Refund: %+v %v", r, err)
	}
	waitUntil(t, "the void's notification", func() bool { return len(s.eventsOf("pay_void_1", payment.EventRefundSucceeded)) == 1 })
	// The sandbox records a delivery once the shop has answered it, a
	// moment after the shop saw the event.
	waitUntil(t, "the sandbox's record of a txnType 31 delivery", func() bool {
		for _, n := range s.sb.Notifications() {
			if n.TxnType == "31" {
				return true
			}
		}
		return false
	})
}

// TestCancelRacesLatePayment: the buyer is on UnionPay's cashier when the
// shop cancels. Either the payment came first (ALREADY_PAID) or the
// cancel did, and then the late payment is still reported, never lost.
func TestCancelRacesLatePayment(t *testing.T) {
	for i := range 6 {
		s := newShop(t, sandbox.Options{})
		id := fmt.Sprintf("pay_race_%d", i)
		res := s.create(t, id, 500)
		form := s.open(t, res)
		var wg sync.WaitGroup
		var out payment.CancelResult
		var cerr, perr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			out, cerr = s.gw.CancelPayment(context.Background(), payment.CancelRequest{AttemptID: id})
		}()
		go func() { defer wg.Done(); perr = s.sb.Pay(form.Get("orderId"), "00") }()
		wg.Wait()
		if cerr != nil || perr != nil {
			t.Fatalf("cancel %v, pay %v", cerr, perr)
		}
		switch out.Status {
		case payment.CancelAlreadyPaid, payment.CancelCanceled:
		default:
			t.Fatalf("cancel: %+v", out)
		}
		waitUntil(t, "the late payment's event", func() bool { return len(s.eventsOf(id, payment.EventPaymentSucceeded)) == 1 })
		st, err := s.gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: id})
		if err != nil || st.Status != payment.StatusSucceeded {
			t.Fatalf("GetPayment after the race: %+v %v", st, err)
		}
		// The pay page refuses to post the order again after the cancel.
		page, _ := s.gw.HandleHTTP(context.Background(), pageRequest(res.Action.URL))
		if page.StatusCode() != http.StatusGone || !strings.Contains(string(page.Body), "已取消") {
			t.Errorf("pay page after cancel: %d %s", page.StatusCode(), page.Body)
		}
	}
}

// TestDeclinedCard: a failed payment is notified as payment.failed with a
// mapped decline code and GetPayment says FAILED.
func TestDeclinedCard(t *testing.T) {
	s := newShop(t, sandbox.Options{})
	res := s.create(t, "pay_decl_1", 700)
	form := s.open(t, res)
	if err := s.sb.Pay(form.Get("orderId"), "64"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the failure event", func() bool { return len(s.eventsOf("pay_decl_1", payment.EventPaymentFailed)) == 1 })
	if ev := s.eventsOf("pay_decl_1", payment.EventPaymentFailed)[0]; ev.DeclineCode != payment.DeclineInsufficientFunds {
		t.Errorf("decline code %q", ev.DeclineCode)
	}
	st, err := s.gw.GetPayment(context.Background(), payment.GetRequest{AttemptID: "pay_decl_1"})
	if err != nil || st.Status != payment.StatusFailed || st.DeclineCode != payment.DeclineInsufficientFunds {
		t.Fatalf("GetPayment: %+v %v", st, err)
	}
}

func TestPages(t *testing.T) {
	s := newShop(t, sandbox.Options{})
	ctx := context.Background()
	res := s.create(t, "pay_page_1", 1999)
	page, err := s.gw.HandleHTTP(ctx, pageRequest(res.Action.URL))
	if err != nil {
		t.Fatal(err)
	}
	body := string(page.Body)
	for _, want := range []string{`<button type="submit">使用银联支付</button>`, "¥19.99", s.sb.URL() + pathFront, `name="signature"`, `name="payTimeout"`} {
		if !strings.Contains(body, want) {
			t.Errorf("pay page lacks %q:\n%s", want, body)
		}
	}
	wrong := pageRequest(res.Action.URL)
	wrong.Query = "k=" + strings.Repeat("0", 32)
	for name, req := range map[string]sdk.HTTPRequest{
		"bad token":     wrong,
		"no token":      {Method: http.MethodGet, Path: "/pay/pay_page_1"},
		"unknown":       {Method: http.MethodGet, Path: "/pay/pay_nope", Query: "k=x"},
		"POST pay page": {Method: http.MethodPost, Path: "/pay/pay_page_1", Query: wrong.Query},
		"other path":    {Method: http.MethodGet, Path: "/admin"},
	} {
		if got, err := s.gw.HandleHTTP(ctx, req); err != nil || got.StatusCode() != http.StatusNotFound {
			t.Errorf("%s: %d %v", name, got.StatusCode(), err)
		}
	}
	back, err := s.gw.HandleHTTP(ctx, sdk.HTTPRequest{Method: http.MethodPost, Path: "/return/pay_page_1", Body: []byte("respCode=00")})
	if err != nil || back.StatusCode() != http.StatusSeeOther || back.Header.Get("Location") != "https://shop.example/return/pay_page_1" {
		t.Errorf("return page: %+v %v", back, err)
	}
	// An order whose deadline has passed is not posted.
	late, err := s.gw.CreatePayment(ctx, payment.CreateRequest{AttemptID: "pay_page_late", Amount: sdk.Money{Amount: 100, Currency: "CNY"},
		PluginBaseURL: pluginBase, NotifyURL: s.srv.URL, ExpiresAt: time.Now().Add(30 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.gw.HandleHTTP(ctx, pageRequest(late.Action.URL)); got.StatusCode() != http.StatusGone {
		t.Errorf("expired order page: %d", got.StatusCode())
	}
}

func TestWebhookRefusals(t *testing.T) {
	s := newShop(t, sandbox.Options{})
	ctx := context.Background()
	good := url.Values{"version": {"5.1.0"}, "encoding": {"UTF-8"}, "txnType": {"01"}, "txnSubType": {"01"}, "bizType": {"000201"},
		"merId": {testMerID}, "orderId": {orderIDFor("pay_wh_1")}, "txnTime": {"20260617101500"}, "txnAmt": {"100"}, "currencyCode": {"156"},
		"reqReserved": {"pay_wh_1"}, "respCode": {"00"}, "queryId": {"1"}, "traceTime": {"0617101510"}}
	deliver := func(p url.Values) payment.WebhookResult {
		res, err := s.gw.HandleWebhook(ctx, payment.WebhookRequest{Method: http.MethodPost, Body: []byte(p.Encode()),
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, ReceivedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ok := deliver(s.sb.Sign(good))
	if ok.Rejection != nil || len(ok.Events) != 1 || ok.Events[0].OccurredAt != time.Date(2026, 6, 17, 2, 15, 10, 0, time.UTC) {
		t.Fatalf("good notification: %+v", ok)
	}
	other := startSandbox(t, sandbox.Options{}) // another CA: not UnionPay's as configured
	tampered := s.sb.Sign(good)
	tampered.Set("txnAmt", "1")
	otherMer := clone(good)
	otherMer.Set("merId", "777290058119999")
	foreign := clone(good)
	foreign.Set("reqReserved", "pay_wh_other")
	foreign.Set("orderId", "ABCDEFGH12345678")
	cases := []struct {
		name string
		p    url.Values
		want payment.RejectionReason
	}{
		{"tampered amount", tampered, payment.RejectBadSignature},
		{"unsigned", good, payment.RejectBadSignature},
		{"another CA", other.Sign(good), payment.RejectBadSignature},
		{"other merchant", s.sb.Sign(otherMer), payment.RejectBadSignature},
		{"not our order", s.sb.Sign(foreign), payment.RejectMalformed},
	}
	for _, c := range cases {
		if res := deliver(c.p); res.Rejection == nil || res.Rejection.Reason != c.want || res.Response.StatusCode() == http.StatusOK {
			t.Errorf("%s: %+v, want %s", c.name, res.Rejection, c.want)
		}
	}
}

func clone(p url.Values) url.Values {
	out := url.Values{}
	for k, v := range p {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func TestHealthSaysWhatIsWrong(t *testing.T) {
	s := newShop(t, sandbox.Options{})
	ctx := context.Background()
	if h, err := s.gw.Health(ctx); err != nil || h.Status != sdk.HealthServing {
		t.Fatalf("Health: %+v %v", h, err)
	}
	// A certificate UnionPay does not have registered (wrong serial).
	otherCert, err := sandbox.Issue("041@Z20260101@"+testMerID+"@00000002", &merchantKey.PublicKey, nil, merchantKey, false, time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	s.configure(t, settingsFor(s.sb, map[string]any{"sign_cert": sandbox.PEM(otherCert)}))
	if h, _ := s.gw.Health(ctx); h.Status != sdk.HealthNotServing || !strings.Contains(h.Message, "signature") || !strings.Contains(h.Message, otherCert.SerialNumber.String()) {
		t.Errorf("wrong certificate: %+v", h)
	}
	// Root and middle of another CA: UnionPay's answer is not trusted.
	other := startSandbox(t, sandbox.Options{})
	s.configure(t, settingsFor(s.sb, map[string]any{"root_cert": other.RootPEM(), "middle_cert": other.MiddlePEM()}))
	if h, _ := s.gw.Health(ctx); h.Status != sdk.HealthNotServing || !strings.Contains(h.Message, "chain") {
		t.Errorf("wrong root: %+v", h)
	}
	// Clock ahead by an hour.
	s.configure(t, settingsFor(s.sb, nil))
	s.gw.now = func() time.Time { return time.Now().Add(time.Hour) }
	if h, _ := s.gw.Health(ctx); h.Status != sdk.HealthNotServing || !strings.Contains(h.Message, "clock") {
		t.Errorf("clock skew: %+v", h)
	}
	s.gw.now = time.Now
	// Unreachable.
	s.configure(t, settingsFor(s.sb, map[string]any{"gateway_url": "http://127.0.0.1:1"}))
	if h, _ := s.gw.Health(ctx); h.Status != sdk.HealthDegraded || !strings.Contains(h.Message, "unreachable") {
		t.Errorf("unreachable: %+v", h)
	}
}

func TestCreateDeclinesAndRetries(t *testing.T) {
	s := newShop(t, sandbox.Options{})
	ctx := context.Background()
	first := s.create(t, "pay_retry_1", 300)
	again := s.create(t, "pay_retry_1", 300)
	if first.Action.URL != again.Action.URL || first.GatewayRef != again.GatewayRef {
		t.Errorf("a retry must answer as the first call: %+v / %+v", first, again)
	}
	for name, req := range map[string]payment.CreateRequest{
		"zero amount":    {AttemptID: "pay_d_1", Amount: sdk.Money{Amount: 0, Currency: "CNY"}, PluginBaseURL: pluginBase},
		"bad attempt id": {AttemptID: "pay d&x", Amount: sdk.Money{Amount: 1, Currency: "CNY"}, PluginBaseURL: pluginBase},
		"changed amount": {AttemptID: "pay_retry_1", Amount: sdk.Money{Amount: 301, Currency: "CNY"}, PluginBaseURL: pluginBase},
		"no page base":   {AttemptID: "pay_d_2", Amount: sdk.Money{Amount: 1, Currency: "CNY"}},
	} {
		res, err := s.gw.CreatePayment(ctx, req)
		if err != nil || res.Status != payment.StatusFailed || res.DeclineCode == "" || res.BuyerMessage == "" {
			t.Errorf("%s: %+v %v", name, res, err)
		}
	}
	if st, _ := s.gw.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_d_1"}); st.Status != payment.StatusFailed {
		t.Errorf("a declined attempt: %s", st.Status)
	}
}

// TestIdenticalRetryAfterWindow: UnionPay sends the same signed message
// again. A copy within the replay window is refused with a non-200 (so
// UnionPay keeps trying); after the window it is accepted with the same
// derived event id, so a retry after a failed commit at Kassa is applied.
func TestIdenticalRetryAfterWindow(t *testing.T) {
	s := newShop(t, sandbox.Options{})
	p := s.sb.Sign(url.Values{"version": {"5.1.0"}, "encoding": {"UTF-8"}, "txnType": {"01"}, "txnSubType": {"01"}, "bizType": {"000201"},
		"merId": {testMerID}, "orderId": {orderIDFor("pay_rt_1")}, "txnTime": {"20260617101500"}, "txnAmt": {"100"}, "currencyCode": {"156"},
		"reqReserved": {"pay_rt_1"}, "respCode": {"00"}, "traceTime": {"0617101510"}})
	t0 := time.Now()
	deliver := func(at time.Time) payment.WebhookResult {
		res, err := s.gw.HandleWebhook(context.Background(), payment.WebhookRequest{Method: http.MethodPost, Body: []byte(p.Encode()),
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, ReceivedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := deliver(t0)
	dup := deliver(t0.Add(time.Second))
	later := deliver(t0.Add(replayWindow + time.Second))
	if first.Rejection != nil || len(first.Events) != 1 {
		t.Fatalf("first: %+v", first)
	}
	if dup.Rejection == nil || dup.Rejection.Reason != payment.RejectReplay || dup.Response.StatusCode() == http.StatusOK {
		t.Errorf("copy within the window: %+v", dup)
	}
	if later.Rejection != nil || len(later.Events) != 1 || later.Events[0].ID != first.Events[0].ID {
		t.Errorf("retry after the window: %+v", later)
	}
}

// TestReplaySpellings: a copy of an accepted notification is a replay
// however it is re-encoded. The cache is keyed on the signed content, not
// on the body's bytes: field order, percent-encoding and the base64 of
// signature (a newline inside, a padding bit set) do not change what
// UnionPay signed.
func TestReplaySpellings(t *testing.T) {
	s := newShop(t, sandbox.Options{})
	p := s.sb.Sign(url.Values{"version": {"5.1.0"}, "encoding": {"UTF-8"}, "txnType": {"01"}, "txnSubType": {"01"}, "bizType": {"000201"},
		"merId": {testMerID}, "orderId": {orderIDFor("pay_rs_1")}, "txnTime": {"20260617101500"}, "txnAmt": {"100"}, "currencyCode": {"156"},
		"reqReserved": {"pay_rs_1"}, "respCode": {"00"}, "traceTime": {"0617101510"}})
	t0 := time.Now()
	deliver := func(body string) payment.WebhookResult {
		res, err := s.gw.HandleWebhook(context.Background(), payment.WebhookRequest{Method: http.MethodPost, Body: []byte(body),
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, ReceivedAt: t0.Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	with := func(k, v string) string {
		c := url.Values{}
		for key, vs := range p {
			c[key] = append([]string(nil), vs...)
		}
		c.Set(k, v)
		return c.Encode()
	}
	reversed := func() string {
		keys := sortedKeys(p)
		parts := make([]string, 0, len(keys))
		for i := len(keys) - 1; i >= 0; i-- {
			parts = append(parts, url.QueryEscape(keys[i])+"="+url.QueryEscape(p.Get(keys[i])))
		}
		return strings.Join(parts, "&")
	}
	sig := p.Get("signature")
	if first := deliver(p.Encode()); first.Rejection != nil || len(first.Events) != 1 {
		t.Fatalf("first: %+v", first)
	}
	for _, tc := range []struct {
		name, body string
	}{
		{"same body", p.Encode()},
		{"fields in reverse order", reversed()},
		{"a value percent-encoded", strings.Replace(p.Encode(), "txnAmt=100", "txnAmt=%31%30%30", 1)},
		{"a newline inside signature", with("signature", sig[:40]+"\n"+sig[40:])},
		{"a padding bit of signature set", with("signature", respellBase64(t, sig))},
	} {
		res := deliver(tc.body)
		if res.Rejection == nil || res.Rejection.Reason != payment.RejectReplay || len(res.Events) != 0 || res.Response.StatusCode() == http.StatusOK {
			t.Errorf("%s: rejection %+v, %d events, answer %d; want REPLAY with no events and a non-200 answer",
				tc.name, res.Rejection, len(res.Events), res.Response.StatusCode())
		}
	}
}

// TestTestEnvironment: the test environment's signing certificate (CN
// 00040000:SIGN) is trusted only with the test-environment switch on.
func TestTestEnvironment(t *testing.T) {
	s := newShop(t, sandbox.Options{SignCN: sandbox.TestCN})
	ctx := context.Background()
	if h, _ := s.gw.Health(ctx); h.Status != sdk.HealthNotServing || !strings.Contains(h.Message, "00040000:SIGN") {
		t.Errorf("test CN in production mode: %+v", h)
	}
	s.configure(t, settingsFor(s.sb, map[string]any{"sandbox": true}))
	if h, err := s.gw.Health(ctx); err != nil || h.Status != sdk.HealthServing {
		t.Errorf("test environment: %+v %v", h, err)
	}
	// Without gateway_url the switch picks UnionPay's test base URL.
	var g Gateway
	g.now = time.Now
	res, err := g.Configure(context.Background(), settingsFor(s.sb, map[string]any{"sandbox": true, "gateway_url": nil}))
	if err != nil || !res.OK() || g.cfg.Load().api.base != TestBaseURL {
		t.Errorf("default test base URL: %+v %v", res, err)
	}
}

// TestSettingsInChinese: the admin in Chinese shows every setting's title
// and description in Chinese, none in English.
func TestSettingsInChinese(t *testing.T) { plugintest.CheckTranslated(t, schema.String(), "zh-CN") }
