package payment_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// Randomized runs in the spirit of Jepsen's bank test: notifications
// (some duplicated, some out of order, some forged), reconciliation
// rounds and staff refunds race on a handful of orders; afterwards the
// invariant checker (run by the fixture's cleanup) must find the books
// whole, and every order paid at the gateway is paid in Kassa.
func TestRandomizedRuns(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		for seed := range uint64(3) {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 42))
				type job func() error
				var jobs []job
				var paid []placed
				for i := range 6 {
					o := f.place(t, int64(1+i%3))
					a := f.start(t, o, "")
					switch rng.IntN(3) {
					case 0: // paid, notified (maybe twice)
						gw.truth(a.ID, payment.StatusSucceeded, a.Amount())
						paid = append(paid, o)
						ev := succeeded(a, "evt_ok_"+a.ID)
						for range 1 + rng.IntN(3) {
							jobs = append(jobs, func() error {
								_, err := f.svc.ApplyWebhook(context.Background(), fakeID, payment.WebhookRequest{Body: body(t, "ok", ev)})
								return err
							})
						}
						amt := cny(rng.Int64N(o.total) + 1)
						jobs = append(jobs, func() error {
							_, err := f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Amount: &amt, IdempotencyKey: "rf" + a.ID})
							if codeOf(err) == payment.CodeRefundExceedsCaptured {
								return nil // before the capture
							}
							return err
						})
					case 1: // paid, never notified: the reconciler finds it
						gw.truth(a.ID, payment.StatusSucceeded, a.Amount())
						paid = append(paid, o)
					default: // declined, notified; a forged success too
						gw.truth(a.ID, payment.StatusFailed, a.Amount())
						fail := payment.GatewayEvent{ID: "evt_no_" + a.ID, Type: payment.EventPaymentFailed, AttemptID: a.ID, Amount: a.Amount()}
						forged := succeeded(a, "evt_forged_"+a.ID)
						jobs = append(jobs, func() error {
							_, err := f.svc.ApplyWebhook(context.Background(), fakeID, payment.WebhookRequest{Body: body(t, "ok", fail)})
							return err
						}, func() error {
							_, err := f.svc.ApplyWebhook(context.Background(), fakeID, payment.WebhookRequest{Body: body(t, "forged", forged)})
							return err
						})
					}
				}
				for range 3 {
					jobs = append(jobs, func() error { _, err := f.svc.Reconcile(context.Background()); return err })
				}
				rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
				f.clock.Advance(2 * time.Minute)
				var wg sync.WaitGroup
				for _, j := range jobs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := j(); err != nil {
							t.Errorf("job: %v", err)
						}
					}()
				}
				wg.Wait()
				f.clock.Advance(10 * time.Minute)
				if _, err := f.svc.Reconcile(context.Background()); err != nil {
					t.Fatal(err)
				}
				for _, o := range paid {
					if _, ps := f.orderStatus(t, o.id); ps != "PAID" && ps != "PARTIALLY_REFUNDED" && ps != "REFUNDED" {
						t.Errorf("order %s paid at the gateway is %s", o.id, ps)
					}
				}
			})
		}
	})
}
