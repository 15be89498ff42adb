package payment_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/peer"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

const fakeID = "payment.fake"

func codeOf(err error) string {
	if all := errs.All(err); len(all) > 0 {
		return all[0].Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func cny(minor int64) money.Money { return money.New(minor, money.CNY) }

// start creates a payment of o through the fake as its guest buyer.
func (f *fixture) start(t *testing.T, o placed, key string) *payment.Attempt {
	t.Helper()
	a, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r", IdempotencyKey: key})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return a
}

func (f *fixture) webhook(t *testing.T, evs ...payment.GatewayEvent) *payment.WebhookOutcome {
	t.Helper()
	out, err := f.svc.ApplyWebhook(context.Background(), fakeID, payment.WebhookRequest{Method: "POST", Body: body(t, "ok", evs...)})
	if err != nil {
		t.Fatalf("webhook: %v", err)
	}
	return out
}

func succeeded(a *payment.Attempt, id string) payment.GatewayEvent {
	return payment.GatewayEvent{ID: id, Type: payment.EventPaymentSucceeded, AttemptID: a.ID, GatewayRef: a.GatewayRef, Amount: a.Amount()}
}

func TestCreateIsIdempotentAndChecksTheOrder(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		o := f.place(t, 2)
		a := f.start(t, o, "key-1")
		if a.State != payment.StatePending || a.ActionType != payment.ActionRedirect || a.AmountMinor != o.total || a.GatewayRef == "" {
			t.Fatalf("attempt %+v", a)
		}
		again := f.start(t, o, "key-1")
		if again.ID != a.ID || gw.calls["create"] != 1 {
			t.Fatalf("a repeat made attempt %s (first %s), %d gateway calls", again.ID, a.ID, gw.calls["create"])
		}
		_, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: "https://shop.test/other", IdempotencyKey: "key-1"})
		if codeOf(err) != "IDEMPOTENCY_KEY_REUSED" {
			t.Fatalf("same key, other request: %v", err)
		}
		cases := []struct {
			name string
			ctx  context.Context
			in   payment.CreateInput
			want string
		}{
			{"another guest's token", guest(), payment.CreateInput{AccessToken: "nope", GatewayID: fakeID}, payment.CodeOrderNotFound},
			{"a buyer naming a guest order", as("customer", "cus_1", "customer"), payment.CreateInput{OrderID: o.id, GatewayID: fakeID}, payment.CodeOrderNotFound},
			{"an unknown gateway", guest(), payment.CreateInput{AccessToken: o.token, GatewayID: "payment.nope"}, "PLUGIN_NOT_FOUND"},
			{"a relative return URL", guest(), payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: "/r"}, payment.CodeInvalidURL},
			{"fulfillment staff", staff("fulfillment"), payment.CreateInput{OrderID: o.id, GatewayID: fakeID}, "FORBIDDEN"},
		}
		for _, c := range cases {
			if _, err := f.svc.Create(c.ctx, c.in); codeOf(err) != c.want {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}
		// Paid: a further payment is refused.
		f.webhook(t, succeeded(a, "evt_1"))
		if _, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: fakeID}); codeOf(err) != payment.CodeOrderAlreadyPaid {
			t.Fatalf("paid order: %v", err)
		}
		// Cancelled: refused too.
		o2 := f.place(t, 1)
		if _, err := f.orders.Cancel(staff("manager"), order.CancelInput{OrderID: o2.id, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o2.token, GatewayID: fakeID}); codeOf(err) != payment.CodeOrderNotOpen {
			t.Fatalf("cancelled order: %v", err)
		}
		ms, err := f.svc.AvailableMethods(guest(), "", f.place(t, 1).token)
		if err != nil || len(ms) != 1 || ms[0].GatewayID != fakeID {
			t.Fatalf("methods %+v, %v", ms, err)
		}
	})
}

// A notification of the payment applied while CreatePayment was still
// answering (the attempt captured before its answer is recorded): the
// answer's action is not written over the captured attempt, its event is
// recorded as ignored, and Create returns the attempt as it stands.
func TestNotificationQuickerThanTheAnswer(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		o := f.place(t, 1)
		gw.set(func(g *fakeGateway) {
			g.duringCreate = func(req payment.CreateRequest) {
				f.webhook(t, payment.GatewayEvent{ID: "evt_quick", Type: payment.EventPaymentSucceeded, AttemptID: req.AttemptID, Amount: req.Amount})
			}
		})
		a := f.start(t, o, "k-quick")
		if a.State != payment.StateCaptured || a.ActionType != "" {
			t.Fatalf("attempt %s, action %q", a.State, a.ActionType)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("payment status %s", ps)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE attempt_id = ? AND source = 'CREATE' AND outcome = 'IGNORED'", a.ID); n != 1 {
			t.Fatalf("%d ignored answers recorded", n)
		}
	})
}

// Gateways that check the buyer's device (WeChat Pay H5) get the buyer's
// browser, and never a staff member's or an integration's as the buyer's.
func TestCreatePassesTheBuyersBrowser(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		browser := peer.Client{IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (iPhone)"}
		o := f.place(t, 1)
		if _, err := f.svc.Create(peer.With(guest(), browser), payment.CreateInput{AccessToken: o.token, GatewayID: fakeID}); err != nil {
			t.Fatal(err)
		}
		if got := gw.lastCreate; got.BuyerIP != browser.IP || got.BuyerUserAgent != browser.UserAgent {
			t.Errorf("guest's payment: buyer %q %q, want %+v", got.BuyerIP, got.BuyerUserAgent, browser)
		}
		o2 := f.place(t, 1)
		if _, err := f.svc.Create(peer.With(staff("owner"), browser), payment.CreateInput{OrderID: o2.id, GatewayID: fakeID}); err != nil {
			t.Fatal(err)
		}
		if got := gw.lastCreate; got.BuyerIP != "" || got.BuyerUserAgent != "" {
			t.Errorf("staff's payment passed the staff's browser as the buyer's: %q %q", got.BuyerIP, got.BuyerUserAgent)
		}
	})
}

// The same notification 100 times, 50 of them at once: one move, one
// event row, one event.
func TestWebhookAppliesOnce(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, newFake(fakeID))
		o := f.place(t, 1)
		a := f.start(t, o, "")
		ev := succeeded(a, "evt_once")
		var wg sync.WaitGroup
		errc := make(chan error, 100)
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 2 {
					if _, err := f.svc.ApplyWebhook(context.Background(), fakeID, payment.WebhookRequest{Body: body(t, "ok", ev)}); err != nil {
						errc <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Errorf("webhook: %v", err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("payment status %s", ps)
		}
		for _, c := range []struct {
			what string
			got  int
		}{
			{"event rows", f.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE gateway_event_id = 'evt_once'")},
			{"captures", f.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE kind = 'CAPTURE'")},
			{"payment.succeeded", f.outboxCount(t, payment.SubjectSucceeded)},
			{"order.paid", f.outboxCount(t, order.SubjectPaid)},
			{"attempt moves", f.count(t, "SELECT COUNT(*) FROM payment_attempt_timeline WHERE to_state = 'CAPTURED'")},
		} {
			if c.got != 1 {
				t.Errorf("%s: %d, want 1", c.what, c.got)
			}
		}
	})
}

// Events out of order converge on the gateway's truth: a refund before
// the success applies the capture then the refund; a late success and a
// late failure change nothing.
func TestEventsOutOfOrder(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, newFake(fakeID))
		o := f.place(t, 1)
		a := f.start(t, o, "")
		f.webhook(t, payment.GatewayEvent{ID: "evt_r", Type: payment.EventRefundSucceeded, AttemptID: a.ID, GatewayRefundRef: "rr_1", Amount: a.Amount()})
		f.webhook(t, succeeded(a, "evt_s"))
		f.webhook(t, payment.GatewayEvent{ID: "evt_f", Type: payment.EventPaymentFailed, AttemptID: a.ID, Amount: a.Amount(), DeclineCode: "card_declined"})
		if _, ps := f.orderStatus(t, o.id); ps != "REFUNDED" {
			t.Fatalf("payment status %s", ps)
		}
		am := f.amounts(t, o.id)
		if am.Captured.Amount() != o.total || am.Refunded.Amount() != o.total || !am.Paid.IsZero() {
			t.Fatalf("amounts %+v", am)
		}
		if got := f.attempt(t, a.ID).State; got != payment.StateCaptured {
			t.Fatalf("attempt %s", got)
		}
	})
}

// TestEventsThatProveNothingMoveNothing: a notification the core refuses
// changes no money. A refund Kassa never asked for, of more than the
// payment holds (or of nothing), on a payment nobody has paid yet, must
// not capture it on the way to being refused; a success that says it
// took 0, in the order's currency, is an amount mismatch, not "the
// gateway did not say".
func TestEventsThatProveNothingMoveNothing(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, newFake(fakeID))
		o := f.place(t, 1)
		a := f.start(t, o, "")
		for i, ev := range []payment.GatewayEvent{
			{Type: payment.EventRefundSucceeded, AttemptID: a.ID, GatewayRefundRef: "rr_fake", Amount: cny(a.Amount().Amount() + 1)},
			{Type: payment.EventRefundSucceeded, AttemptID: a.ID, GatewayRefundRef: "rr_zero", Amount: cny(0)},
			{Type: payment.EventPaymentSucceeded, AttemptID: a.ID, Amount: cny(0)},
			{Type: payment.EventPaymentAuthorized, AttemptID: a.ID, Amount: cny(0)},
		} {
			ev.ID = fmt.Sprintf("evt_nothing_%d", i)
			f.webhook(t, ev)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PENDING" {
			t.Fatalf("payment status %s after refused notifications, want PENDING", ps)
		}
		if am := f.amounts(t, o.id); !am.Captured.IsZero() || !am.Refunded.IsZero() {
			t.Fatalf("amounts %+v after refused notifications, want nothing captured or refunded", am)
		}
		got := f.flagsOf(t, o.id)
		if got[payment.FlagRefundExceedsCaptured] != 2 || got[payment.FlagAmountMismatch] != 2 {
			t.Fatalf("flags %v, want two REFUND_EXCEEDS_CAPTURED and two AMOUNT_MISMATCH", got)
		}
		// The real notification still applies.
		f.webhook(t, succeeded(a, "evt_real"))
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("payment status %s after the real success", ps)
		}
	})
}

// A refund made at the gateway (its dashboard), which Kassa did not ask
// for, is applied, since the money left, and flagged for staff
// (REFUNDED_AT_GATEWAY); a refund Kassa asked for is not flagged.
func TestRefundMadeAtTheGatewayIsFlagged(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		o := f.paidOrder(t, gw, 2)
		f.webhook(t, payment.GatewayEvent{ID: "evt_dash", Type: payment.EventRefundSucceeded, AttemptID: f.orderAttempts(t, o.id)[0].ID,
			GatewayRefundRef: "rr_dash", Amount: cny(1000)})
		if am := f.amounts(t, o.id); am.Refunded.Amount() != 1000 {
			t.Fatalf("refunded %s, want the gateway's 10.00 applied", am.Refunded)
		}
		if got := f.flagsOf(t, o.id); got[payment.FlagRefundedAtGateway] != 1 || len(got) != 1 {
			t.Fatalf("flags %v, want one REFUNDED_AT_GATEWAY", got)
		}
		amt := cny(1000)
		if _, err := f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Amount: &amt, IdempotencyKey: "asked-" + o.id}); err != nil {
			t.Fatal(err)
		}
		if got := f.flagsOf(t, o.id); len(got) != 1 {
			t.Fatalf("flags %v after a refund Kassa asked for, want the first alone", got)
		}
	})
}

// A payment whose notification never comes is found by the reconciler;
// the late notification then changes no money.
func TestReconcilerFindsALostPayment(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		o := f.place(t, 1)
		a := f.start(t, o, "")
		if n, err := f.svc.Reconcile(context.Background()); err != nil || n != 0 {
			t.Fatalf("nothing is due yet: %d, %v", n, err)
		}
		gw.truth(a.ID, payment.StatusSucceeded, a.Amount())
		f.clock.Advance(2 * time.Minute)
		if n, err := f.svc.Reconcile(context.Background()); err != nil || n != 1 {
			t.Fatalf("reconcile: %d, %v", n, err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("payment status %s", ps)
		}
		f.webhook(t, succeeded(a, "evt_late"))
		if n := f.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE kind = 'CAPTURE'"); n != 1 {
			t.Fatalf("%d captures", n)
		}
		if got := f.attempt(t, a.ID); got.NextCheckAt != nil {
			t.Fatalf("a paid attempt is still checked: %v", got.NextCheckAt)
		}
	})
}

// The reconciler's back-off: an attempt still pending is asked again
// later and later.
func TestReconcilerBacksOff(t *testing.T) {
	f := newFixture(t, storetest.NewSQLite(t), newFake(fakeID))
	o := f.place(t, 1)
	a := f.start(t, o, "")
	var gaps []time.Duration
	for range 6 {
		at := *f.attempt(t, a.ID).NextCheckAt
		f.clock.Set(at)
		if _, err := f.svc.Reconcile(context.Background()); err != nil {
			t.Fatal(err)
		}
		gaps = append(gaps, f.attempt(t, a.ID).NextCheckAt.Sub(at))
	}
	want := []time.Duration{2 * time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, time.Hour, time.Hour}
	if fmt.Sprint(gaps) != fmt.Sprint(want) {
		t.Fatalf("back-off %v, want %v", gaps, want)
	}
}

// A timeout or a plugin crash after the request left is UNKNOWN, then
// reconciled; a plugin down before the call fails the attempt with no
// charge and says PLUGIN_UNAVAILABLE.
func TestUnknownOutcomes(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		o := f.place(t, 1)
		gw.set(func(g *fakeGateway) {
			g.create = payment.StatusSucceeded
			g.createErr = fmt.Errorf("%w: %w", errs.Unavailable("PLUGIN_TIMEOUT", "no answer"), payment.ErrOutcomeUnknown)
		})
		a := f.start(t, o, "")
		if a.State != payment.StateUnknown {
			t.Fatalf("timed out attempt is %s", a.State)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PENDING" {
			t.Fatalf("payment status %s", ps)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.svc.Reconcile(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("payment status after reconciliation %s", ps)
		}

		o2 := f.place(t, 1)
		gw.set(func(g *fakeGateway) { g.createErr = errs.Unavailable("PLUGIN_UNAVAILABLE", "restarting") })
		_, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o2.token, GatewayID: fakeID})
		if codeOf(err) != "PLUGIN_UNAVAILABLE" {
			t.Fatalf("plugin down: %v", err)
		}
		atts, err := f.svc.AttemptsOf(staff("finance"), []string{o2.id})
		if err != nil || len(atts[o2.id]) != 1 || atts[o2.id][0].State != payment.StateFailed {
			t.Fatalf("attempts %+v, %v", atts[o2.id], err)
		}
		if am := f.amounts(t, o2.id); !am.Captured.IsZero() {
			t.Fatalf("charged %v", am.Captured)
		}
	})
}

// Forged, malformed, mismatched and unknown notifications change nothing.
func TestWebhooksRefused(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, newFake(fakeID))
		o := f.place(t, 1)
		a := f.start(t, o, "")
		good := body(t, "ok", succeeded(a, "evt_1"))
		for _, c := range []struct {
			name   string
			body   []byte
			reject string
		}{
			{"forged", body(t, "forged", succeeded(a, "evt_1")), payment.RejectBadSignature},
			{"truncated", good[:len(good)/2], payment.RejectMalformed},
		} {
			out, err := f.svc.ApplyWebhook(context.Background(), fakeID, payment.WebhookRequest{Body: c.body})
			if err != nil || out.Rejected != c.reject || out.Response.Status < 400 {
				t.Errorf("%s: %+v, %v", c.name, out, err)
			}
		}
		wrong := succeeded(a, "evt_2")
		wrong.Amount = cny(1)
		other := succeeded(a, "evt_3")
		other.Amount = money.New(a.AmountMinor, money.USD)
		unknown := payment.GatewayEvent{ID: "evt_4", Type: payment.EventPaymentSucceeded, AttemptID: "pay_nope", Amount: a.Amount()}
		out := f.webhook(t, wrong, other, unknown)
		if out.Flagged != 3 || out.Applied != 0 {
			t.Fatalf("outcome %+v", out)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PENDING" {
			t.Fatalf("payment status %s", ps)
		}
		if n := f.outboxCount(t, payment.SubjectFlagged); n != 3 {
			t.Fatalf("%d flagged events", n)
		}
		if _, err := f.svc.ApplyWebhook(context.Background(), "payment.nope", payment.WebhookRequest{Body: good}); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("unknown plugin: %v", err)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM payment_ledger"); n != 0 {
			t.Fatalf("%d ledger rows", n)
		}
	})
}

// The deadline racing a late success: the order is paid, never
// cancelled; unpaid orders are cancelled after their trade was closed; a
// gateway that does not answer keeps the order open.
func TestDeadline(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		late, unpaid, nothing := f.place(t, 1), f.place(t, 1), f.place(t, 1)
		aLate := f.start(t, late, "")
		aUnpaid := f.start(t, unpaid, "")
		gw.truth(aLate.ID, payment.StatusSucceeded, aLate.Amount())
		sc := f.deadlineCloser(t)
		f.clock.Advance(31 * time.Minute)
		if _, err := sc.CloseOverdue(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			o          placed
			status, ps string
		}{
			{late, "OPEN", "PAID"}, {unpaid, "CANCELLED", "PENDING"}, {nothing, "CANCELLED", "PENDING"},
		} {
			if st, ps := f.orderStatus(t, c.o.id); st != c.status || ps != c.ps {
				t.Errorf("order %s: %s/%s, want %s/%s", c.o.id, st, ps, c.status, c.ps)
			}
		}
		if got := f.attempt(t, aUnpaid.ID).State; got != payment.StateCancelled {
			t.Errorf("unpaid attempt %s", got)
		}
		// A gateway that cannot answer keeps the order open.
		down := f.place(t, 1)
		f.start(t, down, "")
		gw.set(func(g *fakeGateway) { g.cancelErr = errs.Unavailable("PLUGIN_UNAVAILABLE", "down") })
		f.clock.Advance(31 * time.Minute)
		if _, err := sc.CloseOverdue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if st, _ := f.orderStatus(t, down.id); st != "OPEN" {
			t.Errorf("order with an unanswered cancel: %s", st)
		}
	})
}

// Two staff members refunding at once, together above the capture: one
// is refused, and the gateway never sees an over-refund.
func TestConcurrentRefunds(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		o := f.place(t, 2) // 30.00
		a := f.start(t, o, "")
		f.webhook(t, succeeded(a, "evt_paid"))
		gw.truth(a.ID, payment.StatusSucceeded, a.Amount())
		amount := cny(2000)
		var wg sync.WaitGroup
		errs2 := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs2[i] = f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Amount: &amount, IdempotencyKey: fmt.Sprintf("r%d", i)})
			}()
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, err := range errs2 {
			switch codeOf(err) {
			case "":
				ok++
			case payment.CodeRefundExceedsCaptured:
				refused++
			default:
				t.Errorf("refund: %v", err)
			}
		}
		if ok != 1 || refused != 1 || gw.calls["refund"] != 1 {
			t.Fatalf("%d refunded, %d refused, %d gateway refunds", ok, refused, gw.calls["refund"])
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PARTIALLY_REFUNDED" {
			t.Fatalf("payment status %s", ps)
		}
		// The rest, by lines and shipping: 10.00 of one unit and none of
		// the shipping would be 10.00; all that is left is exactly that.
		ship := cny(0)
		refs, err := f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Shipping: &ship,
			Lines: []payment.RefundLineInput{{LineID: lineID(t, f, o.id), Quantity: 1}}, IdempotencyKey: "r3"})
		r := first(refs)
		if err != nil || r.State != payment.RefundStateSucceeded || r.AmountMinor != 1000 {
			t.Fatalf("refund by line: %+v, %v", r, err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "REFUNDED" {
			t.Fatalf("payment status %s", ps)
		}
		// A repeat with its key returns the first refund, nothing more.
		again, err := f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Shipping: &ship,
			Lines: []payment.RefundLineInput{{LineID: lineID(t, f, o.id), Quantity: 1}}, IdempotencyKey: "r3"})
		if err != nil || len(again) != 1 || again[0].ID != r.ID {
			t.Fatalf("repeat: %+v, %v", again, err)
		}
		if _, err := f.svc.Refund(staff("support"), payment.RefundInput{OrderID: o.id, Amount: &amount, IdempotencyKey: "r4"}); codeOf(err) != "FORBIDDEN" {
			t.Fatalf("support refunds: %v", err)
		}
	})
}

func lineID(t *testing.T, f *fixture, orderID string) string {
	t.Helper()
	d, err := f.orders.Get(system(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	return d.Lines[0].ID
}

// Authorize, capture part, void another; the ledger tells it all.
func TestCaptureAndVoid(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		gw.create = payment.StatusAuthorized
		f := newFixture(t, db, gw)
		o := f.place(t, 2)
		a, err := f.svc.Create(staff("finance"), payment.CreateInput{OrderID: o.id, GatewayID: fakeID, ManualCapture: true})
		if err != nil || a.State != payment.StateAuthorized {
			t.Fatalf("create: %+v, %v", a, err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "AUTHORIZED" {
			t.Fatalf("payment status %s", ps)
		}
		part := cny(2000)
		if _, err := f.svc.Capture(staff("finance"), payment.CaptureInput{AttemptID: a.ID, Amount: &part}); codeOf(err) != "INVALID_IDEMPOTENCY_KEY" {
			t.Fatalf("capture without a key: %v", err)
		}
		c, err := f.svc.Capture(staff("finance"), payment.CaptureInput{AttemptID: a.ID, Amount: &part, IdempotencyKey: "c1"})
		if err != nil || c.State != payment.StateCaptured || c.Captured != 2000 {
			t.Fatalf("capture: %+v, %v", c, err)
		}
		if c2, err := f.svc.Capture(staff("finance"), payment.CaptureInput{AttemptID: a.ID, Amount: &part, IdempotencyKey: "c1"}); err != nil || c2.Captured != 2000 {
			t.Fatalf("repeated capture: %+v, %v", c2, err)
		}
		am := f.amounts(t, o.id)
		if am.Authorized.Amount() != 3000 || am.Captured.Amount() != 2000 || am.Voided.Amount() != 1000 {
			t.Fatalf("amounts %+v", am)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PARTIALLY_PAID" {
			t.Fatalf("payment status %s", ps)
		}

		o2 := f.place(t, 1)
		a2, err := f.svc.Create(staff("finance"), payment.CreateInput{OrderID: o2.id, GatewayID: fakeID, ManualCapture: true})
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.svc.Void(staff("finance"), payment.VoidInput{AttemptID: a2.ID, IdempotencyKey: "v1"})
		if err != nil || v.State != payment.StateCancelled {
			t.Fatalf("void: %+v, %v", v, err)
		}
		if _, ps := f.orderStatus(t, o2.id); ps != "VOIDED" {
			t.Fatalf("payment status %s", ps)
		}
		if _, err := f.svc.Capture(staff("finance"), payment.CaptureInput{AttemptID: a2.ID, IdempotencyKey: "c2"}); codeOf(err) != payment.CodeNotAuthorized {
			t.Fatalf("capture of a voided payment: %v", err)
		}
	})
}

// Money for a cancelled order is flagged, and refunded when the shop
// says so.
func TestMoneyForACancelledOrder(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		for _, refund := range []bool{false, true} {
			if _, err := f.shop.Update(staff("owner"), shop.UpdateSettingsInput{RefundCancelledOrderPayments: &refund}); err != nil {
				t.Fatal(err)
			}
			o := f.place(t, 1)
			a := f.start(t, o, "")
			if _, err := f.orders.Cancel(staff("manager"), order.CancelInput{OrderID: o.id, Reason: "out of stock"}); err != nil {
				t.Fatal(err)
			}
			gw.truth(a.ID, payment.StatusSucceeded, a.Amount())
			out := f.webhook(t, succeeded(a, "evt_"+a.ID))
			if out.Flagged != 1 {
				t.Fatalf("refund=%v: outcome %+v", refund, out)
			}
			want := "PAID"
			if refund {
				want = "REFUNDED"
			}
			if st, ps := f.orderStatus(t, o.id); st != "CANCELLED" || ps != want {
				t.Fatalf("refund=%v: %s/%s", refund, st, ps)
			}
		}
	})
}

// A bank transfer confirmed short, then the rest: flagged, then paid.
func TestConfirmBankTransfer(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID, payment.CapActionInstructions, payment.CapManualConfirmation)
		f := newFixture(t, db, gw)
		o := f.place(t, 1) // 20.00
		a := f.start(t, o, "")
		// The buyer is told how to pay: one kassa.payment.pending.
		if n := f.outboxCount(t, payment.SubjectPending); n != 1 || a.ActionType != payment.ActionInstructions {
			t.Fatalf("%d pending events for a bank transfer with %s, want 1 with instructions", n, a.ActionType)
		}
		in := payment.ConfirmInput{OrderID: o.id, Amount: cny(1500), IdempotencyKey: "t1"}
		got, err := f.svc.ConfirmBankTransfer(staff("finance"), in)
		if err != nil || got.State != payment.StatePending || got.Captured != 1500 {
			t.Fatalf("short transfer: %+v, %v", got, err)
		}
		if _, err := f.svc.ConfirmBankTransfer(staff("finance"), in); err != nil {
			t.Fatalf("repeat: %v", err)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE flag_reason = ?", payment.FlagUnderpaid); n != 1 {
			t.Fatalf("%d underpaid flags", n)
		}
		got, err = f.svc.ConfirmBankTransfer(staff("finance"), payment.ConfirmInput{OrderID: o.id, AttemptID: a.ID, Amount: cny(600), IdempotencyKey: "t2"})
		if err != nil || got.State != payment.StateCaptured || got.Captured != 2100 {
			t.Fatalf("the rest: %+v, %v", got, err)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE flag_reason = ?", payment.FlagOverpaid); n != 1 {
			t.Fatalf("%d overpaid flags", n)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("payment status %s", ps)
		}
	})
}

// Methods come in the shop's order, then by id; the order is validated.
func TestAvailableMethodsInTheShopsOrder(t *testing.T) {
	f := newFixture(t, storetest.NewSQLite(t), newFake("payment.a"), newFake("payment.b"), newFake("payment.c"),
		newFake("payment.nothing", payment.CapRefund))
	bad := []string{"payment.c", "payment.c", "has space"}
	_, err := f.shop.Update(staff("owner"), shop.UpdateSettingsInput{PaymentMethodOrder: &bad})
	var codes []string
	for _, e := range errs.All(err) {
		codes = append(codes, e.Code)
	}
	if fmt.Sprint(codes) != fmt.Sprint([]string{shop.CodeDuplicatePaymentMethod, shop.CodeInvalidPaymentMethod}) {
		t.Fatalf("bad order: %v", err)
	}
	order := []string{"payment.c", "payment.b"}
	if _, err := f.shop.Update(staff("owner"), shop.UpdateSettingsInput{PaymentMethodOrder: &order}); err != nil {
		t.Fatal(err)
	}
	ms, err := f.svc.AvailableMethods(guest(), "", f.place(t, 1).token)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.GatewayID)
	}
	if fmt.Sprint(ids) != "[payment.c payment.b payment.a]" {
		t.Fatalf("methods %v", ids)
	}
}

// A capture of part of an authorization takes less than the order's
// total: the order is PARTIALLY_PAID, not PAID, and the capture is
// flagged UNDERPAID for staff; refunds go on from it, after which the
// buyer owes nothing more and cannot start another payment of the order
// (rest_test.go pays the rest instead). A full capture pays it.
func TestPartialCaptureIsPartiallyPaid(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		gw.create = payment.StatusAuthorized
		f := newFixture(t, db, gw)
		authorized := func() (placed, *payment.Attempt) {
			o := f.place(t, 2) // 30.00
			a, err := f.svc.Create(staff("finance"), payment.CreateInput{OrderID: o.id, GatewayID: fakeID, ManualCapture: true})
			if err != nil || a.State != payment.StateAuthorized {
				t.Fatalf("create: %+v, %v", a, err)
			}
			return o, a
		}
		o, a := authorized()
		part := cny(1000)
		c, err := f.svc.Capture(staff("finance"), payment.CaptureInput{AttemptID: a.ID, Amount: &part, IdempotencyKey: "c-part"})
		if err != nil || c.State != payment.StateCaptured || c.Captured != 1000 {
			t.Fatalf("capture: %+v, %v", c, err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PARTIALLY_PAID" {
			t.Fatalf("payment status after capturing 10.00 of 30.00: %s", ps)
		}
		am := f.amounts(t, o.id)
		if am.Paid.Amount() != 1000 || am.Voided.Amount() != 2000 {
			t.Fatalf("amounts %+v", am)
		}
		flags, err := f.svc.Flagged(staff("finance"), 100, false)
		if err != nil {
			t.Fatal(err)
		}
		underpaid := 0
		for _, e := range flags {
			if e.AttemptID != nil && *e.AttemptID == a.ID && e.FlagReason == payment.FlagUnderpaid {
				underpaid++
			}
		}
		if underpaid != 1 || f.outboxCount(t, "kassa.order.partially_paid") != 1 || f.outboxCount(t, "kassa.order.paid") != 0 {
			t.Fatalf("%d UNDERPAID flags, %d partially_paid and %d paid events", underpaid,
				f.outboxCount(t, "kassa.order.partially_paid"), f.outboxCount(t, "kassa.order.paid"))
		}
		// Refunds go on from PARTIALLY_PAID, within what was taken.
		five := cny(500)
		if _, err := f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Amount: &five, IdempotencyKey: "r-1"}); err != nil {
			t.Fatal(err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PARTIALLY_REFUNDED" {
			t.Fatalf("payment status after a refund: %s", ps)
		}
		if _, err := f.create(o, ""); codeOf(err) != payment.CodeOrderAlreadyPaid {
			t.Fatalf("paying a partially paid order once the shop gave money back: %v", err)
		}
		if _, err := f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Amount: &five, IdempotencyKey: "r-2"}); err != nil {
			t.Fatal(err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "REFUNDED" {
			t.Fatalf("payment status after refunding what was taken: %s", ps)
		}

		// The whole authorization, with or without an amount, pays it.
		o, a = authorized()
		whole := cny(o.total)
		if c, err := f.svc.Capture(staff("finance"), payment.CaptureInput{AttemptID: a.ID, Amount: &whole, IdempotencyKey: "c-whole"}); err != nil || c.Captured != o.total {
			t.Fatalf("capture: %+v, %v", c, err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("payment status after a full capture: %s", ps)
		}
	})
}
