package payment_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// Refresh asks the gateway for an open attempt, as the order's buyer or
// staff with payment write; it leaves a final attempt alone, asks at most
// once a second per attempt, and says PAYMENT_OUTCOME_UNKNOWN when the
// gateway does not answer.
func TestRefresh(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		gets := func() int {
			gw.mu.Lock()
			defer gw.mu.Unlock()
			return gw.calls["get"]
		}
		o := f.place(t, 1)
		a := f.start(t, o, "")
		other := f.place(t, 2)

		// Who may refresh: the order's guest (by its token) and staff with
		// payment write; everyone else finds no such payment, or is
		// refused before anything is read.
		for _, c := range []struct {
			name  string
			ctx   context.Context
			token string
			want  string
		}{
			{"another order's token", guest(), other.token, payment.CodeAttemptNotFound},
			{"a guest without token", guest(), "", payment.CodeAttemptNotFound},
			{"a wrong token", guest(), "nope", payment.CodeAttemptNotFound},
			{"a buyer who does not own the order", as(authz.KindCustomer, "cus_1", "customer"), "", payment.CodeAttemptNotFound},
			{"fulfillment staff", staff("fulfillment"), "", "FORBIDDEN"},
			{"support staff (payment read only)", staff("support"), "", "FORBIDDEN"},
		} {
			if _, err := f.svc.Refresh(c.ctx, a.ID, c.token); codeOf(err) != c.want {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}
		if _, err := f.svc.Refresh(guest(), "pay_nope", o.token); codeOf(err) != payment.CodeAttemptNotFound {
			t.Errorf("unknown attempt: %v", err)
		}
		if n := gets(); n != 0 {
			t.Fatalf("refused refreshes asked the gateway %d times", n)
		}

		// Still pending at the gateway: asked once, then not again within a
		// second, then again.
		got, err := f.svc.Refresh(guest(), a.ID, o.token)
		if err != nil || got.State != payment.StatePending || gets() != 1 {
			t.Fatalf("pending: %+v, %v, %d questions", got, err, gets())
		}
		if got, err = f.svc.Refresh(staff("finance"), a.ID, ""); err != nil || got.State != payment.StatePending || gets() != 1 {
			t.Fatalf("refresh within a second asked again: %v, %d questions", err, gets())
		}

		// The gateway did not answer: the attempt stays as it was.
		f.clock.Advance(payment.RefreshEvery)
		gw.set(func(g *fakeGateway) { g.getErr = fmt.Errorf("%w: deadline exceeded", payment.ErrOutcomeUnknown) })
		if _, err := f.svc.Refresh(guest(), a.ID, o.token); codeOf(err) != payment.CodeOutcomeUnknown {
			t.Fatalf("gateway silent: %v", err)
		}
		gw.set(func(g *fakeGateway) { g.getErr = nil })

		// Paid at the gateway: the next refresh captures and the order is
		// paid; the one after does not ask the gateway.
		gw.truth(a.ID, payment.StatusSucceeded, a.Amount())
		f.clock.Advance(payment.RefreshEvery)
		got, err = f.svc.Refresh(guest(), a.ID, o.token)
		if err != nil || got.State != payment.StateCaptured || got.Captured != o.total {
			t.Fatalf("paid: %+v, %v", got, err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("order after refresh: %s", ps)
		}
		before := gets()
		f.clock.Advance(time.Hour)
		if got, err = f.svc.Refresh(guest(), a.ID, o.token); err != nil || got.State != payment.StateCaptured || gets() != before {
			t.Fatalf("final attempt: %v, asked %d times more", err, gets()-before)
		}

		// The notification of the same payment changes nothing more.
		f.webhook(t, succeeded(got, "evt_paid_"+a.ID))
		if n := f.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE attempt_id = ? AND kind = 'CAPTURE'", a.ID); n != 1 {
			t.Fatalf("%d captures", n)
		}
	})
}

// The buyer back from the gateway refreshes while testpay's notification
// arrives, in random order over seeded runs, with the real testpay
// process: one capture, one succeeded move, the order PAID.
func TestRefreshRacesTheWebhook(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newTestpay(t, db)
		for seed := range uint64(8) {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 10))
				o := e.place(t, 1)
				// async: PENDING, SUCCEEDED at testpay 10 ms later, then
				// notified (sometimes before Create read the attempt back).
				a := e.pay(t, o, "4000000000000010")
				if a.State != payment.StatePending && a.State != payment.StateCaptured {
					t.Fatalf("async: %s", a.State)
				}
				var wg sync.WaitGroup
				for range 2 + rng.IntN(4) {
					delay := time.Duration(rng.IntN(30)) * time.Millisecond
					wg.Add(1)
					go func() {
						defer wg.Done()
						time.Sleep(delay)
						e.clock.Advance(payment.RefreshEvery)
						if _, err := e.svc.Refresh(guest(), a.ID, o.token); err != nil {
							t.Errorf("refresh: %v", err)
						}
					}()
				}
				wg.Wait()
				waitFor(t, "the notification", func() bool {
					return e.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE source = 'WEBHOOK' AND attempt_id = ?", a.ID) == 1
				})
				e.clock.Advance(payment.RefreshEvery)
				got, err := e.svc.Refresh(guest(), a.ID, o.token)
				if err != nil || got.State != payment.StateCaptured || got.Captured != o.total {
					t.Fatalf("after the race: %+v, %v", got, err)
				}
				if _, ps := e.orderStatus(t, o.id); ps != "PAID" {
					t.Fatalf("order: %s", ps)
				}
				if n := e.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE attempt_id = ? AND kind = 'CAPTURE'", a.ID); n != 1 {
					t.Fatalf("%d captures", n)
				}
				if n := e.count(t, "SELECT COUNT(*) FROM payment_attempt_timeline WHERE attempt_id = ? AND to_state = 'CAPTURED'", a.ID); n != 1 {
					t.Fatalf("%d moves to CAPTURED", n)
				}
				// The notification and any refresh that found the payment
				// paid both recorded the success: one applied it, the
				// others changed nothing.
				if n := e.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE type = ? AND outcome = 'APPLIED' AND attempt_id = ?",
					payment.EventPaymentSucceeded, a.ID); n != 1 {
					t.Fatalf("%d successes applied", n)
				}
			})
		}
	})
}
