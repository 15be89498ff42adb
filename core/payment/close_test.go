package payment_test

import (
	"context"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// Every way to cancel an order (staff, bulk, the buyer) first closes its
// payment still waiting on the buyer at the gateway: the buyer can no
// longer pay the cancelled order. A gateway that says the buyer paid
// refuses the cancel and the payment is applied; one that cannot be
// reached refuses it too (retryable), and the buyer may pay on.
func TestCancelClosesOpenPayments(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		for name, cancel := range map[string]func(o placed) error{
			"staff": func(o placed) error {
				_, err := f.orders.Cancel(staff("manager"), order.CancelInput{OrderID: o.id, Reason: "out of stock"})
				return err
			},
			"buyer": func(o placed) error {
				_, err := f.orders.CancelUnpaid(guest(), order.CancelUnpaidInput{AccessToken: o.token, Reason: "changed my mind"})
				return err
			},
			"bulk": func(o placed) error {
				res, err := f.orders.BulkCancel(staff("manager"), order.BulkCancelInput{Orders: order.BulkSelection{IDs: []string{o.id}},
					Reason: "out of stock", IdempotencyKey: "bulk-" + o.id})
				if err != nil {
					return err
				}
				if oc := res.Outcomes[0]; !oc.OK() {
					return errs.Conflict("", oc.Code, oc.Message)
				}
				return nil
			},
		} {
			t.Run(name, func(t *testing.T) {
				// Waiting on the buyer: closed at the gateway, then cancelled.
				o := f.place(t, 1)
				a := f.start(t, o, "")
				if a.State != payment.StatePending || a.ActionType == "" {
					t.Fatalf("attempt %s with action %q, want PENDING waiting on the buyer", a.State, a.ActionType)
				}
				if err := cancel(o); err != nil {
					t.Fatalf("cancel: %v", err)
				}
				if st, ps := f.orderStatus(t, o.id); st != "CANCELLED" || ps != "PENDING" {
					t.Fatalf("order %s/%s, want CANCELLED/PENDING", st, ps)
				}
				if got := f.attempt(t, a.ID); got.State != payment.StateCancelled {
					t.Fatalf("attempt %s after the cancel, want CANCELLED (closed at the gateway)", got.State)
				}
				if gw.truthOf(a.ID) != payment.StatusCanceled {
					t.Fatalf("the gateway still has the trade open: %s", gw.truthOf(a.ID))
				}
				if _, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r"}); codeOf(err) != payment.CodeOrderNotOpen {
					t.Fatalf("paying the cancelled order: %v, want ORDER_NOT_OPEN", err)
				}

				// Paid at the gateway before its notification came: the
				// cancel is refused and the payment applied.
				o = f.place(t, 1)
				a = f.start(t, o, "")
				gw.truth(a.ID, payment.StatusSucceeded, a.Amount())
				if err := cancel(o); codeOf(err) != order.CodePaymentNotPending {
					t.Fatalf("cancel of an order paid at its gateway: %v, want ORDER_PAYMENT_NOT_PENDING", err)
				}
				if st, ps := f.orderStatus(t, o.id); st != "OPEN" || ps != "PAID" {
					t.Fatalf("order paid at its gateway: %s/%s, want OPEN/PAID", st, ps)
				}

				// The gateway cannot be reached: not cancelled, retryable,
				// and the buyer may go on paying at once.
				o = f.place(t, 1)
				f.start(t, o, "")
				gw.set(func(g *fakeGateway) { g.cancelErr = errs.Unavailable("PLUGIN_UNAVAILABLE", "down") })
				err := cancel(o)
				gw.set(func(g *fakeGateway) { g.cancelErr = nil })
				if codeOf(err) != order.CodePaymentOpen {
					t.Fatalf("cancel with the gateway down: %v, want ORDER_PAYMENT_OPEN", err)
				}
				if st, ps := f.orderStatus(t, o.id); st != "OPEN" || ps != "PENDING" {
					t.Fatalf("order with the gateway down: %s/%s, want OPEN/PENDING", st, ps)
				}
				f.start(t, o, "")
			})
		}
	})
}

// No payment starts while an order's payments are closed for its cancel
// (F9): a start during the round gets PAYMENT_IN_PROGRESS. Should the
// round outlast its hold and a payment start anyway, the cancel's
// transaction sees it and refuses (ORDER_PAYMENT_OPEN): no attempt is
// left open on a cancelled order. Past its deadline an order is not
// payable (ORDER_PAYMENT_EXPIRED), and the closer closes and cancels it.
func TestNoPaymentStartsWhileClosing(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		cancel := func(o placed) error {
			_, err := f.orders.Cancel(staff("manager"), order.CancelInput{OrderID: o.id, Reason: "out of stock"})
			return err
		}
		during := func(fn func(o placed)) func(o placed) {
			return func(o placed) {
				gw.set(func(g *fakeGateway) {
					g.duringCancel = func(payment.CancelRequest) {
						g.set(func(g *fakeGateway) { g.duringCancel = nil })
						fn(o)
					}
				})
			}
		}

		// Within the hold: refused, without closing at the gateway what
		// the cancel is closing, and the cancel goes through.
		o := f.place(t, 1)
		f.start(t, o, "")
		var started error
		var cancels int
		during(func(o placed) {
			_, started = f.create(o, "")
			cancels = gw.calls["cancel"]
		})(o)
		if err := cancel(o); err != nil {
			t.Fatalf("cancel: %v", err)
		}
		if codeOf(started) != payment.CodePaymentInProgress {
			t.Fatalf("a start while the payments are closed: %v, want PAYMENT_IN_PROGRESS", started)
		}
		if cancels != 0 {
			t.Fatalf("%d gateway cancels by the time the start was refused, want none (the cancel's own comes after)", cancels)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM payment_attempts WHERE order_id = ? AND state IN ('PENDING', 'UNKNOWN')", o.id); n != 0 {
			t.Fatalf("%d attempts open on the cancelled order", n)
		}

		// The hold lapsed mid-round and a payment started: the cancel is
		// refused, and the new payment is left to the buyer.
		o = f.place(t, 1)
		f.start(t, o, "")
		var late *payment.Attempt
		during(func(o placed) {
			f.clock.Advance(2 * payment.DefaultCreateLease)
			late, started = f.create(o, "")
		})(o)
		if err := cancel(o); codeOf(err) != order.CodePaymentOpen {
			t.Fatalf("cancel after a payment started mid-round: %v, want ORDER_PAYMENT_OPEN", err)
		}
		if started != nil || late == nil || f.attempt(t, late.ID).State != payment.StatePending {
			t.Fatalf("the late start: %+v, %v", late, started)
		}
		if st, _ := f.orderStatus(t, o.id); st != "OPEN" {
			t.Fatalf("order %s with an open payment, want OPEN", st)
		}

		// Past the deadline: not payable; the closer cancels, closing
		// the attempt, and a start during its round is refused.
		o = f.place(t, 1)
		a := f.start(t, o, "")
		f.clock.Advance(31 * time.Minute)
		if _, err := f.create(o, ""); codeOf(err) != payment.CodeOrderPaymentExpired {
			t.Fatalf("paying past the deadline: %v, want ORDER_PAYMENT_EXPIRED", err)
		}
		sc, err := order.NewScheduler(f.orders, order.SchedulerOptions{Holder: "closer", Jitter: -1})
		if err != nil {
			t.Fatal(err)
		}
		started = nil
		during(func(o placed) { _, started = f.create(o, "") })(o)
		if _, err := sc.CloseOverdue(context.Background()); err != nil {
			t.Fatal(err)
		}
		if started == nil {
			t.Fatal("a start during the closer's round was not refused")
		}
		if st, ps := f.orderStatus(t, o.id); st != "CANCELLED" || ps != "PENDING" {
			t.Fatalf("order past its deadline: %s/%s, want CANCELLED/PENDING", st, ps)
		}
		if got := f.attempt(t, a.ID).State; got != payment.StateCancelled {
			t.Fatalf("attempt %s, want CANCELLED", got)
		}
	})
}

// truthOf is the state of the attempt's trade at the fake gateway.
func (g *fakeGateway) truthOf(attemptID string) payment.Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	if p := g.state[attemptID]; p != nil {
		return p.status
	}
	return ""
}

// Buyers starting payments as fast as they can while staff cancel the
// order (on PostgreSQL, each on its own connection, as several instances
// would): the order ends cancelled with no attempt left open, or open
// with the cancel refused; never cancelled with a payment open.
func TestCancelRacingStarts(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		gw.set(func(g *fakeGateway) {
			g.duringCancel = func(payment.CancelRequest) { time.Sleep(20 * time.Millisecond) }
		})
		for round := range 3 {
			o := f.place(t, 1)
			f.start(t, o, "")
			stop := make(chan struct{})
			done := make(chan struct{})
			for range 4 {
				go func() {
					defer func() { done <- struct{}{} }()
					for {
						select {
						case <-stop:
							return
						default:
						}
						_, _ = f.create(o, "")
					}
				}()
			}
			_, err := f.orders.Cancel(staff("manager"), order.CancelInput{OrderID: o.id, Reason: "out of stock"})
			close(stop)
			for range 4 {
				<-done
			}
			st, _ := f.orderStatus(t, o.id)
			open := f.count(t, "SELECT COUNT(*) FROM payment_attempts WHERE order_id = ? AND state IN ('PENDING', 'UNKNOWN')", o.id)
			switch {
			case err == nil && (st != "CANCELLED" || open != 0):
				t.Fatalf("round %d: cancelled, order %s with %d open attempts", round, st, open)
			case err != nil && (codeOf(err) != order.CodePaymentOpen || st != "OPEN"):
				t.Fatalf("round %d: cancel %v, order %s", round, err, st)
			}
		}
	})
}

// A second payment page of one order closes the first at its gateway
// before it opens (an outside review paid two testpay pages of one order
// at once and both were captured): the buyer cannot pay twice. The first
// paid meanwhile makes the order PAID and refuses the second; a gateway
// that cannot be reached refuses the second, retryable, and leaves the
// first payable.
func TestAnotherPaymentClosesTheFirst(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)

		o := f.place(t, 1)
		first := f.start(t, o, "first")
		if first.State != payment.StatePending || first.ActionType == "" {
			t.Fatalf("first attempt %s with action %q, want PENDING waiting on the buyer", first.State, first.ActionType)
		}
		second := f.start(t, o, "second")
		if got := f.attempt(t, first.ID); got.State != payment.StateCancelled || gw.truthOf(first.ID) != payment.StatusCanceled {
			t.Fatalf("first attempt %s, at the gateway %s: want CANCELLED, closed there", got.State, gw.truthOf(first.ID))
		}
		if second.State != payment.StatePending {
			t.Fatalf("second attempt %s", second.State)
		}
		// The first's page cannot take the money any more; the second's can.
		f.webhook(t, succeeded(second, "evt_second_"+second.ID))
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("paid by the second page: %s", ps)
		}

		// Paid on the first page before the second opened.
		o = f.place(t, 1)
		first = f.start(t, o, "")
		gw.truth(first.ID, payment.StatusSucceeded, first.Amount())
		if _, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r"}); codeOf(err) != payment.CodeOrderAlreadyPaid {
			t.Fatalf("a second page of an order paid on the first: %v, want ORDER_ALREADY_PAID", err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("order paid on its first page: %s", ps)
		}
		if n := len(f.orderAttempts(t, o.id)); n != 1 {
			t.Fatalf("%d attempts, want the first alone", n)
		}

		// The first's gateway cannot be reached: refused, retryable.
		o = f.place(t, 1)
		first = f.start(t, o, "")
		gw.set(func(g *fakeGateway) { g.cancelErr = errs.Unavailable("PLUGIN_UNAVAILABLE", "down") })
		_, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r"})
		gw.set(func(g *fakeGateway) { g.cancelErr = nil })
		if codeOf(err) != payment.CodePaymentInProgress {
			t.Fatalf("a second page with the first's gateway down: %v, want PAYMENT_IN_PROGRESS", err)
		}
		if got := f.attempt(t, first.ID); got.State != payment.StatePending {
			t.Fatalf("first attempt %s, want PENDING: the buyer may still pay it", got.State)
		}
		f.start(t, o, "")
		if got := f.attempt(t, first.ID); got.State != payment.StateCancelled {
			t.Fatalf("first attempt %s once its gateway answers, want CANCELLED", got.State)
		}
	})
}
