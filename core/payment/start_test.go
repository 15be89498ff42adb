package payment_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// holdFirstCreate makes the fake's first CreatePayment wait until release
// is closed, after closing entered: a gateway call under way. Later calls
// answer at once.
func holdFirstCreate(gw *fakeGateway) (entered, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	gw.set(func(g *fakeGateway) {
		g.duringCreate = func(payment.CreateRequest) {
			if first.CompareAndSwap(false, true) {
				close(entered)
				<-release
			}
		}
	})
	return entered, release
}

// createdAsync starts a payment of o as its guest buyer in the background.
func (f *fixture) createdAsync(o placed, key string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r", IdempotencyKey: key})
		done <- err
	}()
	return done
}

func (f *fixture) create(o placed, key string) (*payment.Attempt, error) {
	return f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: fakeID, ReturnURL: "https://shop.test/r", IdempotencyKey: key})
}

// While an attempt's gateway call is under way, another paymentCreate of
// the order is refused with PAYMENT_IN_PROGRESS and never reaches the
// gateway; once the first is paid, ORDER_ALREADY_PAID. The order is
// charged once, and nothing is flagged.
func TestOneStartOfAnOrderAtATime(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		gw.create = payment.StatusSucceeded
		f := newFixture(t, db, gw)
		o := f.place(t, 1)
		entered, release := holdFirstCreate(gw)
		first := f.createdAsync(o, "")
		<-entered
		for i, key := range []string{"", "", "retry-1"} {
			if a, err := f.create(o, key); codeOf(err) != payment.CodePaymentInProgress {
				t.Fatalf("start %d during the first's call: %+v, %v", i+2, a, err)
			}
		}
		close(release)
		if err := <-first; err != nil {
			t.Fatalf("first start: %v", err)
		}
		// The refused request kept nothing, its key neither: retried, it
		// is answered as the order now stands.
		if a, err := f.create(o, "retry-1"); codeOf(err) != payment.CodeOrderAlreadyPaid {
			t.Fatalf("retry after the first was paid: %+v, %v", a, err)
		}
		if n := gw.calls["create"]; n != 1 {
			t.Fatalf("%d calls to the gateway", n)
		}
		if am := f.amounts(t, o.id); am.Captured.Amount() != o.total {
			t.Fatalf("captured %s of %d", am.Captured, o.total)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE flag_reason <> ''"); n != 0 {
			t.Fatalf("%d flagged events", n)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
			t.Fatalf("payment status %s", ps)
		}
	})
}

// Buyers racing: of many paymentCreate calls at once with a card that
// pays at once, one charges; the others are told the payment is under
// way or the order paid.
func TestConcurrentStartsChargeOnce(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		gw.create = payment.StatusSucceeded
		f := newFixture(t, db, gw)
		for round := range 3 {
			o := f.place(t, 1)
			const n = 6
			var wg sync.WaitGroup
			got := make([]error, n)
			atts := make([]*payment.Attempt, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					atts[i], got[i] = f.create(o, "")
				}()
			}
			wg.Wait()
			paid := 0
			for i, err := range got {
				switch codeOf(err) {
				case "":
					if atts[i].State != payment.StateCaptured {
						t.Fatalf("round %d: attempt %+v", round, atts[i])
					}
					paid++
				case payment.CodePaymentInProgress, payment.CodeOrderAlreadyPaid:
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if paid != 1 {
				t.Fatalf("round %d: %d payments captured", round, paid)
			}
			if am := f.amounts(t, o.id); am.Captured.Amount() != o.total {
				t.Fatalf("round %d: captured %s of %d", round, am.Captured, o.total)
			}
		}
		if n := f.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE flag_reason <> ''"); n != 0 {
			t.Fatalf("%d flagged events", n)
		}
	})
}

// A start whose gateway call never ends (a crash mid-call) holds the
// order for the lease only; an attempt that got its answer (the buyer is
// sent to the gateway's page) does not hold it: the buyer may switch.
func TestStartLeaseAndSwitchingMethods(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID) // answers PENDING with a redirect
		other := newFake("payment.other")
		f := newFixture(t, db, gw, other)
		o := f.place(t, 1)
		entered, release := holdFirstCreate(gw)
		first := f.createdAsync(o, "")
		<-entered
		if _, err := f.create(o, ""); codeOf(err) != payment.CodePaymentInProgress {
			t.Fatalf("during the first's call: %v", err)
		}
		f.clock.Advance(payment.DefaultCreateLease - time.Second)
		if _, err := f.create(o, ""); codeOf(err) != payment.CodePaymentInProgress {
			t.Fatalf("before the lease ran out: %v", err)
		}
		f.clock.Advance(2 * time.Second)
		late, err := f.create(o, "")
		if err != nil || late.State != payment.StatePending || late.ActionType != payment.ActionRedirect {
			t.Fatalf("after the lease ran out: %+v, %v", late, err)
		}
		close(release)
		if err := <-first; err != nil {
			t.Fatalf("first start: %v", err)
		}
		// Both wait for the buyer on the gateway's page: another method
		// may be chosen, and so may the first again.
		sw, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: other.ID(), ReturnURL: "https://shop.test/r"})
		if err != nil || sw.State != payment.StatePending {
			t.Fatalf("switching to another gateway: %+v, %v", sw, err)
		}
		if again, err := f.create(o, ""); err != nil || again.State != payment.StatePending {
			t.Fatalf("the first gateway again: %+v, %v", again, err)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM payment_attempts WHERE order_id = ?", o.id); n != 4 {
			t.Fatalf("%d attempts", n)
		}
		// A decline does not hold the order either.
		other.set(func(g *fakeGateway) { g.create = payment.StatusFailed })
		if d, err := f.svc.Create(guest(), payment.CreateInput{AccessToken: o.token, GatewayID: other.ID(), ReturnURL: "https://shop.test/r"}); err != nil || d.State != payment.StateFailed {
			t.Fatalf("declined: %+v, %v", d, err)
		}
		if _, err := f.create(o, ""); err != nil {
			t.Fatalf("after a decline: %v", err)
		}
	})
}
