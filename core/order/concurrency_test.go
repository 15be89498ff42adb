package order_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit/invariant"
	"github.com/kassahq/kassa/core/transition"
)

// race runs the operations at once and returns their errors in order.
func race(ops ...func() error) []error {
	out := make([]error, len(ops))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, op := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = op()
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// eventsOf returns the subjects of the recorded events about an order.
func (f *fixture) eventsOf(t *testing.T, orderID string) []string {
	t.Helper()
	var out []string
	for _, e := range f.out.Events() {
		var m order.Moved
		if err := e.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m.OrderID == orderID {
			out = append(out, e.Subject)
		}
	}
	return out
}

// TestConcurrentStaff: two staff members act on one order at once. One
// wins; the other gets a typed error and writes nothing: the order has one
// timeline row and one event besides its placement's, and its stock moved
// once.
func TestConcurrentStaff(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		mug := f.variant(t, "Mug", "MUG", 1000)
		losing := []string{order.CodeStaleState, order.CodeNotOpen, order.CodeAlreadyShipped,
			order.CodeInvalidQuantity, transition.CodeInvalidTransition, transition.CodeStaleState}
		cancel := func(p *order.Placed) func() error {
			return func() error {
				_, err := f.svc.Cancel(staff(authz.RoleSupport), order.CancelInput{OrderID: p.Order.ID, Reason: "race"})
				return err
			}
		}
		ship := func(p *order.Placed, q int64) func() error {
			return func() error {
				_, err := f.svc.Ship(staff(authz.RoleFulfillment), shipInput(p, q))
				return err
			}
		}
		tests := []struct {
			name string
			ops  func(p *order.Placed) []func() error
			// stock is the mug's stock after the winner, by winner.
			stock func(before [2]int64, winner int) [2]int64
		}{
			{"cancel and ship",
				func(p *order.Placed) []func() error { return []func() error{cancel(p), ship(p, 1)} },
				func(b [2]int64, w int) [2]int64 {
					if w == 0 {
						return [2]int64{b[0], b[1] - 3}
					}
					return [2]int64{b[0] - 1, b[1] - 1}
				}},
			{"two cancels",
				func(p *order.Placed) []func() error { return []func() error{cancel(p), cancel(p)} },
				func(b [2]int64, _ int) [2]int64 { return [2]int64{b[0], b[1] - 3} }},
			{"two shipments of the last units",
				func(p *order.Placed) []func() error { return []func() error{ship(p, 2), ship(p, 2)} },
				func(b [2]int64, _ int) [2]int64 { return [2]int64{b[0] - 2, b[1] - 2} }},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				// Several rounds, so that both interleavings happen.
				for round := range 6 {
					p := f.place(t, guest(), f.input("cart_"+t.Name()+itoa(int64(round)), "", "g@example.com", line{mug, 3, 100}))
					before := f.level(t, mug)
					errs := race(tc.ops(p)...)
					winner := -1
					for i, err := range errs {
						switch {
						case err == nil && winner == -1:
							winner = i
						case err == nil:
							t.Fatalf("round %d: both won", round)
						case !slices.Contains(losing, codeOf(err)):
							t.Fatalf("round %d: loser's error %v is not a typed conflict", round, err)
						}
					}
					if winner == -1 {
						t.Fatalf("round %d: nobody won: %v", round, errs)
					}
					t.Logf("round %d: %d won, loser: %s", round, winner, codeOf(errs[1-winner]))
					if n := f.count(t, "order_timeline", "order_id = ?", p.Order.ID); n != 2 {
						t.Errorf("round %d: %d timeline rows, want the placement's and the winner's", round, n)
					}
					if evs := f.eventsOf(t, p.Order.ID); len(evs) != 2 {
						t.Errorf("round %d: events %v, want placed and the winner's", round, evs)
					}
					if got, want := f.level(t, mug), tc.stock(before, winner); got != want {
						t.Errorf("round %d: stock %v, want %v (winner %d)", round, got, want, winner)
					}
				}
			})
		}
		invariant.Require(t, db)
	})
}
