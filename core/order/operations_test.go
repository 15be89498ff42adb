package order_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/transition"
)

// pay moves an order's payment through the given statuses, from PENDING,
// as the payment domain would.
func (f *fixture) pay(t *testing.T, orderID string, to ...order.PaymentStatus) {
	t.Helper()
	from := order.PaymentPending
	for _, s := range to {
		if _, err := f.svc.MovePayment(system(), order.PaymentMove{OrderID: orderID, From: from, To: s}); err != nil {
			t.Fatalf("payment %s -> %s: %v", from, s, err)
		}
		from = s
	}
}

// ship ships qty[i] units of the order's line i (0 skips the line).
func (f *fixture) ship(t *testing.T, p *order.Placed, qty ...int64) {
	t.Helper()
	if _, err := f.svc.Ship(staff(authz.RoleFulfillment), shipInput(p, qty...)); err != nil {
		t.Fatalf("ship %v: %v", qty, err)
	}
}

func shipInput(p *order.Placed, qty ...int64) order.ShipInput {
	in := order.ShipInput{OrderID: p.Order.ID, Carrier: "SF Express", TrackingNumber: "SF123"}
	for i, q := range qty {
		if q > 0 {
			in.Lines = append(in.Lines, order.ShipLine{LineID: p.Lines[i].ID, Quantity: q})
		}
	}
	return in
}

func (f *fixture) cancel(t *testing.T, p *order.Placed) {
	t.Helper()
	if _, err := f.svc.Cancel(staff(authz.RoleSupport), order.CancelInput{OrderID: p.Order.ID, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
}

// TestStaffOperations runs every staff operation from the states it
// starts from and the states it refuses: an operation that works changes
// the order, its timeline, its stock and its events exactly as expected;
// one that is refused answers with its typed error and changes nothing.
func TestStaffOperations(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		mug, pot := f.variant(t, "Mug", "MUG", 1000), f.variant(t, "Pot", "POT", 1000)
		other := f.place(t, guest(), f.input("cart_other", "", "o@example.com", line{mug, 1, 100}))
		var (
			ok     = func(*testing.T, *fixture, *order.Placed) {}
			cancel = func(f *fixture, p *order.Placed, ctx context.Context, reason string) error {
				_, err := f.svc.Cancel(ctx, order.CancelInput{OrderID: p.Order.ID, Reason: reason})
				return err
			}
			ship = func(f *fixture, p *order.Placed, qty ...int64) error {
				_, err := f.svc.Ship(staff(authz.RoleFulfillment), shipInput(p, qty...))
				return err
			}
			deliver = func(f *fixture, p *order.Placed) error {
				_, err := f.svc.MarkDelivered(staff(authz.RoleFulfillment), p.Order.ID)
				return err
			}
			complete = func(f *fixture, p *order.Placed) error {
				_, err := f.svc.Complete(staff(authz.RoleManager), p.Order.ID)
				return err
			}
			// moved is the state of an order after one move at now.
			moved = func(s *state, now time.Time) {
				s.UpdatedAt, s.Timeline, s.Events = now, s.Timeline+1, s.Events+1
			}
		)
		tests := []struct {
			name  string
			setup func(*testing.T, *fixture, *order.Placed)
			op    func(*fixture, *order.Placed) error
			// want is the error code; "" when the operation works, and
			// then expect changes the state as the operation must and
			// subject is its event.
			want    string
			expect  func(s *state, now time.Time)
			subject string
		}{
			{name: "cancel a new order", setup: ok,
				op: func(f *fixture, p *order.Placed) error { return cancel(f, p, staff(authz.RoleSupport), "buyer called") },
				expect: func(s *state, now time.Time) {
					moved(s, now)
					s.Status, s.Cancelled = "CANCELLED", true
					s.Stock["MUG"], s.Stock["POT"] = [2]int64{1000, s.Stock["MUG"][1] - 3}, [2]int64{1000, s.Stock["POT"][1] - 2}
				}, subject: order.SubjectCancelled},
			{name: "the deadline closer cancels", setup: ok,
				op: func(f *fixture, p *order.Placed) error { return cancel(f, p, system(), "not paid in time") },
				expect: func(s *state, now time.Time) {
					moved(s, now)
					s.Status, s.Cancelled = "CANCELLED", true
					s.Stock["MUG"], s.Stock["POT"] = [2]int64{1000, s.Stock["MUG"][1] - 3}, [2]int64{1000, s.Stock["POT"][1] - 2}
				}, subject: order.SubjectCancelled},
			{name: "cancel after a failed payment",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.pay(t, p.Order.ID, order.PaymentFailed) },
				op:    func(f *fixture, p *order.Placed) error { return cancel(f, p, staff(authz.RoleSupport), "gave up") },
				expect: func(s *state, now time.Time) {
					moved(s, now)
					s.Status, s.Cancelled = "CANCELLED", true
					s.Stock["MUG"], s.Stock["POT"] = [2]int64{1000, s.Stock["MUG"][1] - 3}, [2]int64{1000, s.Stock["POT"][1] - 2}
				}, subject: order.SubjectCancelled},
			{name: "cancel without a reason", setup: ok,
				op:   func(f *fixture, p *order.Placed) error { return cancel(f, p, staff(authz.RoleSupport), " ") },
				want: transition.CodeReasonRequired},
			{name: "cancel an authorized order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.pay(t, p.Order.ID, order.PaymentAuthorized) },
				op:    func(f *fixture, p *order.Placed) error { return cancel(f, p, staff(authz.RoleSupport), "x") },
				want:  order.CodePaymentNotPending},
			{name: "cancel a paid order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.pay(t, p.Order.ID, order.PaymentPaid) },
				op:    func(f *fixture, p *order.Placed) error { return cancel(f, p, staff(authz.RoleSupport), "x") },
				want:  order.CodePaymentNotPending},
			{name: "cancel a partly shipped order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.ship(t, p, 1) },
				op:    func(f *fixture, p *order.Placed) error { return cancel(f, p, staff(authz.RoleSupport), "x") },
				want:  order.CodeAlreadyShipped},
			{name: "cancel a cancelled order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.cancel(t, p) },
				op:    func(f *fixture, p *order.Placed) error { return cancel(f, p, staff(authz.RoleSupport), "x") },
				want:  order.CodeNotOpen},
			{name: "cancel without order write", setup: ok,
				op:   func(f *fixture, p *order.Placed) error { return cancel(f, p, staff(authz.RoleFinance), "x") },
				want: "FORBIDDEN"},
			{name: "cancel as a buyer through the staff's door", setup: ok,
				op:   func(f *fixture, p *order.Placed) error { return cancel(f, p, buyer("cus_x"), "x") },
				want: "FORBIDDEN"},
			{name: "cancel an unknown order", setup: ok,
				op: func(f *fixture, p *order.Placed) error {
					_, err := f.svc.Cancel(staff(authz.RoleSupport), order.CancelInput{OrderID: "ord_missing", Reason: "x"})
					return err
				},
				want: order.CodeOrderNotFound},

			{name: "ship part", setup: ok,
				op: func(f *fixture, p *order.Placed) error { return ship(f, p, 1) },
				expect: func(s *state, now time.Time) {
					moved(s, now)
					s.Fulfillment, s.Shipments, s.Shipped = "PARTIALLY_FULFILLED", 1, []int64{1, 0}
					s.Stock["MUG"] = [2]int64{s.Stock["MUG"][0] - 1, s.Stock["MUG"][1] - 1}
				}, subject: order.SubjectShipped},
			{name: "ship all at once", setup: ok,
				op: func(f *fixture, p *order.Placed) error { return ship(f, p, 3, 2) },
				expect: func(s *state, now time.Time) {
					moved(s, now)
					s.Fulfillment, s.Shipments, s.Shipped = "FULFILLED", 1, []int64{3, 2}
					s.Stock["MUG"] = [2]int64{s.Stock["MUG"][0] - 3, s.Stock["MUG"][1] - 3}
					s.Stock["POT"] = [2]int64{s.Stock["POT"][0] - 2, s.Stock["POT"][1] - 2}
				}, subject: order.SubjectShipped},
			{name: "ship the rest",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.ship(t, p, 1, 2) },
				op:    func(f *fixture, p *order.Placed) error { return ship(f, p, 2) },
				expect: func(s *state, now time.Time) {
					moved(s, now)
					s.Fulfillment, s.Shipments, s.Shipped = "FULFILLED", 2, []int64{3, 2}
					s.Stock["MUG"] = [2]int64{s.Stock["MUG"][0] - 2, s.Stock["MUG"][1] - 2}
				}, subject: order.SubjectShipped},
			{name: "ship another part, still partly fulfilled",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.ship(t, p, 1) },
				op:    func(f *fixture, p *order.Placed) error { return ship(f, p, 1, 1) },
				expect: func(s *state, now time.Time) {
					moved(s, now)
					s.Shipments, s.Shipped = 2, []int64{2, 1}
					s.Stock["MUG"] = [2]int64{s.Stock["MUG"][0] - 1, s.Stock["MUG"][1] - 1}
					s.Stock["POT"] = [2]int64{s.Stock["POT"][0] - 1, s.Stock["POT"][1] - 1}
				}, subject: order.SubjectShipped},
			{name: "ship more than is left",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.ship(t, p, 2) },
				op:    func(f *fixture, p *order.Placed) error { return ship(f, p, 2) },
				want:  order.CodeInvalidQuantity},
			{name: "ship nothing", setup: ok,
				op:   func(f *fixture, p *order.Placed) error { return ship(f, p) },
				want: order.CodeRequired},
			{name: "ship a line of another order", setup: ok,
				op: func(f *fixture, p *order.Placed) error {
					_, err := f.svc.Ship(staff(authz.RoleFulfillment), order.ShipInput{OrderID: p.Order.ID,
						Lines: []order.ShipLine{{LineID: other.Lines[0].ID, Quantity: 1}}})
					return err
				},
				want: order.CodeUnknownLine},
			{name: "ship a line twice", setup: ok,
				op: func(f *fixture, p *order.Placed) error {
					_, err := f.svc.Ship(staff(authz.RoleFulfillment), order.ShipInput{OrderID: p.Order.ID,
						Lines: []order.ShipLine{{LineID: p.Lines[0].ID, Quantity: 1}, {LineID: p.Lines[0].ID, Quantity: 1}}})
					return err
				},
				want: order.CodeDuplicateLine},
			{name: "ship a cancelled order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.cancel(t, p) },
				op:    func(f *fixture, p *order.Placed) error { return ship(f, p, 1) },
				want:  order.CodeNotOpen},
			{name: "ship a fulfilled order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.ship(t, p, 3, 2) },
				op:    func(f *fixture, p *order.Placed) error { return ship(f, p, 1) },
				want:  order.CodeNothingToShip},
			{name: "ship without order write", setup: ok,
				op: func(f *fixture, p *order.Placed) error {
					_, err := f.svc.Ship(staff(authz.RoleFinance), shipInput(p, 1))
					return err
				},
				want: "FORBIDDEN"},

			{name: "deliver a fulfilled order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.ship(t, p, 3, 2) },
				op:    deliver,
				expect: func(s *state, now time.Time) {
					moved(s, now)
					s.Fulfillment = "DELIVERED"
				}, subject: order.SubjectDelivered},
			{name: "deliver a partly fulfilled order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.ship(t, p, 1) },
				op:    deliver, want: transition.CodeInvalidTransition},
			{name: "deliver twice",
				setup: func(t *testing.T, f *fixture, p *order.Placed) {
					f.ship(t, p, 3, 2)
					if err := deliver(f, p); err != nil {
						t.Fatal(err)
					}
				},
				op: deliver, want: transition.CodeInvalidTransition},

			{name: "complete a fulfilled order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.ship(t, p, 3, 2) },
				op:    complete,
				expect: func(s *state, now time.Time) {
					moved(s, now)
					s.Status, s.Completed = "COMPLETED", true
				}, subject: order.SubjectCompleted},
			{name: "complete a delivered order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) {
					f.ship(t, p, 3, 2)
					if err := deliver(f, p); err != nil {
						t.Fatal(err)
					}
				},
				op: complete,
				expect: func(s *state, now time.Time) {
					moved(s, now)
					s.Status, s.Completed = "COMPLETED", true
				}, subject: order.SubjectCompleted},
			{name: "complete a partly fulfilled order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.ship(t, p, 3) },
				op:    complete, want: order.CodeNotFulfilled},
			{name: "complete a cancelled order",
				setup: func(t *testing.T, f *fixture, p *order.Placed) { f.cancel(t, p) },
				op:    complete, want: transition.CodeInvalidTransition},

			{name: "add a note", setup: ok,
				op: func(f *fixture, p *order.Placed) error {
					_, err := f.svc.AddNote(staff(authz.RoleSupport), order.AddNoteInput{OrderID: p.Order.ID, Body: " Gift wrap. "})
					return err
				},
				expect: func(s *state, now time.Time) { s.Notes, s.Timeline = 1, s.Timeline+1 }},
			{name: "add an empty note", setup: ok,
				op: func(f *fixture, p *order.Placed) error {
					_, err := f.svc.AddNote(staff(authz.RoleSupport), order.AddNoteInput{OrderID: p.Order.ID, Body: "  "})
					return err
				},
				want: order.CodeRequired},
			{name: "add a note without order write", setup: ok,
				op: func(f *fixture, p *order.Placed) error {
					_, err := f.svc.AddNote(staff(authz.RoleDeveloper), order.AddNoteInput{OrderID: p.Order.ID, Body: "hi"})
					return err
				},
				want: "FORBIDDEN"},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p := f.place(t, guest(), f.input("cart_"+itoa(int64(i)), "", "g@example.com", line{mug, 3, 100}, line{pot, 2, 200}))
				tc.setup(t, f, p)
				f.clock.Advance(time.Minute)
				before := f.state(t, p.Order.ID)
				err := tc.op(f, p)
				after := f.state(t, p.Order.ID)
				if got := codeOf(err); got != tc.want {
					t.Fatalf("code %q (%v), want %q", got, err, tc.want)
				}
				want := before
				want.Stock = map[string][2]int64{}
				for k, v := range before.Stock {
					want.Stock[k] = v
				}
				if tc.want == "" {
					tc.expect(&want, f.clock.Now())
				}
				if diff := cmp.Diff(want, after); diff != "" {
					t.Errorf("state (-want +got):\n%s", diff)
				}
				if tc.subject != "" {
					evs := f.out.Events()
					if last := evs[len(evs)-1]; last.Subject != tc.subject {
						t.Errorf("event %s, want %s", last.Subject, tc.subject)
					}
				}
			})
		}
	})
}
