package order_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/transition"
)

// tableCase is one transition table to prove: its column, its states,
// the moves it must allow with their events, and how a move is applied.
type tableCase[S ~string] struct {
	column  string
	states  []S
	allowed map[[2]S]string
	apply   func(orderID string, from, to S) error
}

// checkTable applies every move between two states of tc to one order put
// in the from-state: an allowed move works once (the column moves, one
// timeline row, one event with the rule's subject) and the same move
// again loses with STALE_STATE; any other move is refused with
// INVALID_TRANSITION and changes nothing.
func checkTable[S ~string](t *testing.T, f *fixture, tc tableCase[S]) {
	t.Helper()
	p := f.place(t, guest(), f.input("cart_"+t.Name(), "", "g@example.com", line{f.tea, 1, 100}))
	id := p.Order.ID
	for _, from := range tc.states {
		for _, to := range tc.states {
			if from == to {
				continue
			}
			name := string(from) + "->" + string(to)
			f.setState(t, id, tc.column, string(from))
			before := f.state(t, id)
			err := tc.apply(id, from, to)
			after := f.state(t, id)
			subject, ok := tc.allowed[[2]S{from, to}]
			if !ok {
				if !transition.IsInvalid(err) {
					t.Errorf("%s: err = %v, want %s", name, err, transition.CodeInvalidTransition)
				}
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("%s: a refused move changed (-before +after):\n%s", name, diff)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if got := stateOf(after, tc.column); got != string(to) {
				t.Errorf("%s: %s is %s", name, tc.column, got)
			}
			evs := f.out.Events()
			if after.Timeline != before.Timeline+1 || after.Events != before.Events+1 || evs[len(evs)-1].Subject != subject {
				t.Errorf("%s: timeline %d -> %d, events %d -> %d (last %s), want one row and %s",
					name, before.Timeline, after.Timeline, before.Events, after.Events, evs[len(evs)-1].Subject, subject)
			}
			var last []order.TimelineEntry
			if err := f.db.NewSelect().Model(&last).Where("tl.order_id = ?", id).OrderExpr("tl.id DESC").Limit(1).Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			if e := last[0]; e.FromState != string(from) || e.ToState != string(to) || e.EventID != evs[len(evs)-1].ID || e.Visibility != order.VisibleToBuyer {
				t.Errorf("%s: timeline row %+v", name, e)
			}
			// Once: the record left the from-state.
			again := f.state(t, id)
			if err := tc.apply(id, from, to); !transition.IsStale(err) && codeOf(err) != order.CodeStaleState {
				t.Errorf("%s again: err = %v, want %s", name, err, order.CodeStaleState)
			}
			if diff := cmp.Diff(again, f.state(t, id)); diff != "" {
				t.Errorf("%s again: changed (-before +after):\n%s", name, diff)
			}
		}
	}
}

func stateOf(s state, column string) string {
	switch column {
	case "status":
		return s.Status
	case "payment_status":
		return s.Payment
	}
	return s.Fulfillment
}

// TestTransitionTables proves the three tables (and the buyer's status
// table) move by move, from every state to every other.
func TestTransitionTables(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		statuses := []order.Status{order.Open, order.Completed, order.Cancelled}
		t.Run("status", func(t *testing.T) {
			checkTable(t, f, tableCase[order.Status]{column: "status", states: statuses,
				allowed: map[[2]order.Status]string{
					{order.Open, order.Completed}: order.SubjectCompleted,
					{order.Open, order.Cancelled}: order.SubjectCancelled,
				},
				apply: func(id string, from, to order.Status) error {
					return order.ApplyStatus(staff(authz.RoleFulfillment), f.svc, transition.Move[order.Status]{ID: id, From: from, To: to, Reason: "test"})
				}})
		})
		t.Run("buyer status", func(t *testing.T) {
			checkTable(t, f, tableCase[order.Status]{column: "status", states: statuses,
				allowed: map[[2]order.Status]string{{order.Open, order.Cancelled}: order.SubjectCancelled},
				apply: func(id string, from, to order.Status) error {
					return order.ApplyBuyerStatus(guest(), f.svc, transition.Move[order.Status]{ID: id, From: from, To: to})
				}})
		})
		t.Run("payment status", func(t *testing.T) {
			checkTable(t, f, tableCase[order.PaymentStatus]{column: "payment_status",
				states: []order.PaymentStatus{order.PaymentPending, order.PaymentAuthorized, order.PaymentPaid, order.PaymentPartiallyPaid,
					order.PaymentPartiallyRefunded, order.PaymentRefunded, order.PaymentVoided, order.PaymentFailed},
				allowed: map[[2]order.PaymentStatus]string{
					{order.PaymentPending, order.PaymentAuthorized}:              order.SubjectAuthorized,
					{order.PaymentPending, order.PaymentPaid}:                    order.SubjectPaid,
					{order.PaymentPending, order.PaymentPartiallyPaid}:           order.SubjectPartiallyPaid,
					{order.PaymentPending, order.PaymentFailed}:                  order.SubjectPaymentFailed,
					{order.PaymentFailed, order.PaymentAuthorized}:               order.SubjectAuthorized,
					{order.PaymentFailed, order.PaymentPaid}:                     order.SubjectPaid,
					{order.PaymentFailed, order.PaymentPartiallyPaid}:            order.SubjectPartiallyPaid,
					{order.PaymentAuthorized, order.PaymentPaid}:                 order.SubjectPaid,
					{order.PaymentAuthorized, order.PaymentPartiallyPaid}:        order.SubjectPartiallyPaid,
					{order.PaymentAuthorized, order.PaymentVoided}:               order.SubjectVoided,
					{order.PaymentPartiallyPaid, order.PaymentPaid}:              order.SubjectPaid,
					{order.PaymentPartiallyPaid, order.PaymentPartiallyRefunded}: order.SubjectPartiallyRefunded,
					{order.PaymentPartiallyPaid, order.PaymentRefunded}:          order.SubjectRefunded,
					{order.PaymentPaid, order.PaymentPartiallyRefunded}:          order.SubjectPartiallyRefunded,
					{order.PaymentPaid, order.PaymentRefunded}:                   order.SubjectRefunded,
					{order.PaymentPartiallyRefunded, order.PaymentRefunded}:      order.SubjectRefunded,
				},
				// Through the service: the payment domain's entry point.
				apply: func(id string, from, to order.PaymentStatus) error {
					_, err := f.svc.MovePayment(system(), order.PaymentMove{OrderID: id, From: from, To: to})
					return err
				}})
		})
		t.Run("fulfillment status", func(t *testing.T) {
			checkTable(t, f, tableCase[order.FulfillmentStatus]{column: "fulfillment_status",
				states: []order.FulfillmentStatus{order.Unfulfilled, order.PartiallyFulfilled, order.Fulfilled, order.Delivered, order.Returned},
				allowed: map[[2]order.FulfillmentStatus]string{
					{order.Unfulfilled, order.PartiallyFulfilled}: order.SubjectShipped,
					{order.Unfulfilled, order.Fulfilled}:          order.SubjectShipped,
					{order.PartiallyFulfilled, order.Fulfilled}:   order.SubjectShipped,
					{order.Fulfilled, order.Delivered}:            order.SubjectDelivered,
				},
				apply: func(id string, from, to order.FulfillmentStatus) error {
					return order.ApplyFulfillment(staff(authz.RoleFulfillment), f.svc, transition.Move[order.FulfillmentStatus]{ID: id, From: from, To: to})
				}})
		})
	})
}

// TestTransitionCallers: each table's rule of who may move holds at the
// point of the move, whatever the caller went through before; a refused
// caller changes nothing.
func TestTransitionCallers(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.place(t, guest(), f.input("cart_1", "", "g@example.com", line{f.tea, 1, 100}))
		id := p.Order.ID
		cancel := transition.Move[order.Status]{ID: id, From: order.Open, To: order.Cancelled, Reason: "test"}
		tests := []struct {
			name  string
			apply func() error
			want  string
		}{
			{"staff without order write cancels", func() error { return order.ApplyStatus(staff(authz.RoleFinance), f.svc, cancel) }, "FORBIDDEN"},
			{"a buyer uses the staff's table", func() error { return order.ApplyStatus(buyer("cus_x"), f.svc, cancel) }, "FORBIDDEN"},
			{"staff cancel without a reason", func() error {
				mv := cancel
				mv.Reason = ""
				return order.ApplyStatus(staff(authz.RoleManager), f.svc, mv)
			}, transition.CodeReasonRequired},
			{"staff use the buyer's table", func() error { return order.ApplyBuyerStatus(staff(authz.RoleOwner), f.svc, cancel) }, transition.CodeForbidden},
			{"the system uses the buyer's table", func() error { return order.ApplyBuyerStatus(system(), f.svc, cancel) }, transition.CodeForbidden},
			{"staff move the payment", func() error {
				_, err := f.svc.MovePayment(staff(authz.RoleOwner), order.PaymentMove{OrderID: id, From: order.PaymentPending, To: order.PaymentPaid})
				return err
			}, transition.CodeForbidden},
			{"a buyer moves the payment", func() error {
				_, err := f.svc.MovePayment(guest(), order.PaymentMove{OrderID: id, From: order.PaymentPending, To: order.PaymentPaid})
				return err
			}, transition.CodeForbidden},
			{"staff without order write ship", func() error {
				return order.ApplyFulfillment(staff(authz.RoleDeveloper), f.svc, transition.Move[order.FulfillmentStatus]{ID: id, From: order.Unfulfilled, To: order.Fulfilled})
			}, "FORBIDDEN"},
			{"an unknown order", func() error {
				_, err := f.svc.MovePayment(system(), order.PaymentMove{OrderID: "ord_missing", From: order.PaymentPending, To: order.PaymentPaid})
				return err
			}, order.CodeOrderNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := f.state(t, id)
				if got := codeOf(tc.apply()); got != tc.want {
					t.Errorf("code %q, want %q", got, tc.want)
				}
				if diff := cmp.Diff(before, f.state(t, id)); diff != "" {
					t.Errorf("changed (-before +after):\n%s", diff)
				}
			})
		}
	})
}
