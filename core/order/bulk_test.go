package order_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit/invariant"
)

// outcomes flattens a bulk result into "number code" lines (an empty code
// for success), in the result's order.
func outcomes(r *order.BulkResult) []string {
	var out []string
	for _, o := range r.Outcomes {
		name := o.Number
		if name == "" {
			name = o.OrderID
		}
		out = append(out, strings.TrimSpace(name+" "+o.Code))
	}
	return out
}

// TestBulkCancel: each order is cancelled in its own step; the ones that
// cannot be (paid, shipped, missing) get their error as their outcome and
// stay as they were, the others are cancelled all the same. A repeat with
// the key returns the first result and does nothing; the key with another
// request, or from another staff member, is refused.
func TestBulkCancel(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		placeOne := func(cart string, l line) *order.Placed {
			return f.place(t, guest(), f.input(cart, "", cart+"@example.com", l))
		}
		a := placeOne("a", line{f.tea, 1, 500})
		paid := placeOne("paid", line{f.tea, 1, 500})
		f.pay(t, paid.Order.ID, order.PaymentPaid)
		shipped := placeOne("shipped", line{f.tea, 2, 500})
		f.ship(t, shipped, 1)
		d := placeOne("d", line{f.cup, 2, 800})
		unchanged := map[string]state{paid.Order.ID: f.state(t, paid.Order.ID), shipped.Order.ID: f.state(t, shipped.Order.ID)}
		events := len(f.out.Events())
		in := order.BulkCancelInput{
			Orders:         order.BulkSelection{IDs: []string{a.Order.ID, paid.Order.ID, shipped.Order.ID, "ord_missing", a.Order.ID, d.Order.ID}},
			Reason:         "  out of stock  ",
			IdempotencyKey: "bulk-cancel-1",
		}
		support := staff(authz.RoleSupport)

		res, err := f.svc.BulkCancel(support, in)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{a.Order.Number, paid.Order.Number + " " + order.CodePaymentNotPending,
			shipped.Order.Number + " " + order.CodeAlreadyShipped, "ord_missing " + order.CodeOrderNotFound, d.Order.Number}
		if diff := cmp.Diff(want, outcomes(res)); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if res.Succeeded != 2 || res.Failed != 3 || res.Action != order.BulkCancel || res.Replayed {
			t.Errorf("result %+v, want 2 succeeded, 3 failed, not replayed", res)
		}
		for _, p := range []*order.Placed{a, d} {
			st := f.state(t, p.Order.ID)
			if st.Status != string(order.Cancelled) {
				t.Errorf("%s is %s, want CANCELLED", p.Order.Number, st.Status)
			}
			rows := f.cancellations(t, p.Order.ID)
			if len(rows) != 1 || rows[0].Reason == nil || *rows[0].Reason != "out of stock" || *rows[0].Actor != "stf_"+authz.RoleSupport {
				t.Errorf("%s: cancellation rows %+v, want one by the staff member with the reason", p.Order.Number, rows)
			}
		}
		if got := f.stock(t); got["TEA-1"] != [2]int64{9, 2} || got["CUP-1"] != [2]int64{5, 0} {
			t.Errorf("stock %v: want a's and d's reservations released, paid's and shipped's kept", got)
		}
		for id, before := range unchanged {
			after := f.state(t, id)
			before.Stock, after.Stock, before.Events, after.Events = nil, nil, 0, 0
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("refused order %s changed (-before +after):\n%s", id, diff)
			}
		}
		if got := subjects(f.out.Events()[events:]); !cmp.Equal(got, []string{order.SubjectCancelled, order.SubjectCancelled}) {
			t.Errorf("events %v, want two cancellations", got)
		}

		// The same request again: the first result, nothing done.
		events = len(f.out.Events())
		timeline := f.count(t, "order_timeline", "")
		again, err := f.svc.BulkCancel(support, in)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Replayed {
			t.Error("the repeat is not marked as replayed")
		}
		again.Replayed = false
		if diff := cmp.Diff(res, again); diff != "" {
			t.Errorf("the repeat's result differs (-first +repeat):\n%s", diff)
		}
		if len(f.out.Events()) != events || f.count(t, "order_timeline", "") != timeline {
			t.Error("the repeat did something")
		}

		// The key with another request, or from someone else.
		other := in
		other.Reason = "another reason"
		if _, err := f.svc.BulkCancel(support, other); codeOf(err) != idempotency.CodeKeyReused {
			t.Errorf("another reason: %v, want %s", err, idempotency.CodeKeyReused)
		}
		if _, err := f.svc.BulkCancel(staff(authz.RoleManager), in); codeOf(err) != idempotency.CodeKeyReused {
			t.Errorf("another staff member: %v, want %s", err, idempotency.CodeKeyReused)
		}
		invariant.Require(t, db)
	})
}

// TestBulkShipByFilter: a filter selects the orders (the staff list's
// filter); each ships whatever it has left in one parcel; an order with
// nothing left says so.
func TestBulkShipByFilter(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var paid []*order.Placed
		for i, qty := range []int64{1, 2, 3} {
			p := f.place(t, guest(), f.input("cart_"+itoa(int64(i)), "", "ship@example.com", line{f.tea, qty, 500}))
			f.pay(t, p.Order.ID, order.PaymentPaid)
			paid = append(paid, p)
		}
		f.ship(t, paid[1], 1) // one of two left
		f.ship(t, paid[2], 3) // nothing left
		unpaid := f.place(t, guest(), f.input("cart_unpaid", "", "ship@example.com", line{f.cup, 1, 800}))

		res, err := f.svc.BulkShip(staff(authz.RoleFulfillment), order.BulkShipInput{
			Orders:  order.BulkSelection{Filter: &order.Filter{PaymentStatus: order.PaymentPaid, Query: "ship@example.com", Ascending: true}},
			Carrier: "SF Express", IdempotencyKey: "ship-paid",
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{paid[0].Order.Number, paid[1].Order.Number, paid[2].Order.Number + " " + order.CodeNothingToShip}
		if diff := cmp.Diff(want, outcomes(res)); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		for i, p := range paid {
			d, err := f.svc.Get(staff(authz.RoleFulfillment), p.Order.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d.Order.FulfillmentStatus != order.Fulfilled {
				t.Errorf("order %d is %s, want FULFILLED", i, d.Order.FulfillmentStatus)
			}
			last := d.Shipments[len(d.Shipments)-1]
			if i < 2 && (last.Carrier != "SF Express" || last.TrackingNumber != "" || last.Lines[0].Quantity != p.Lines[0].Quantity-int64(i)) {
				t.Errorf("order %d: last shipment %+v (%d units)", i, last, last.Lines[0].Quantity)
			}
		}
		if st := f.state(t, unpaid.Order.ID); st.Shipments != 0 {
			t.Error("the unpaid order, outside the filter, shipped")
		}
		if got := f.level(t, f.tea); got != [2]int64{4, 0} {
			t.Errorf("tea stock %v, want every unit shipped", got)
		}
	})
}

// TestBulkNote: a note for each order named, in one call.
func TestBulkNote(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		a := f.place(t, guest(), f.input("cart_a", "", "a@example.com", line{f.tea, 1, 500}))
		b := f.place(t, guest(), f.input("cart_b", "", "b@example.com", line{f.tea, 1, 500}))
		f.cancel(t, b)
		res, err := f.svc.BulkAddNote(staff(authz.RoleSupport), order.BulkNoteInput{
			Orders: order.BulkSelection{IDs: []string{a.Order.ID, b.Order.ID}}, Body: "called the buyer", IdempotencyKey: "note-1"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Succeeded != 2 || res.Failed != 0 {
			t.Errorf("result %+v, want both noted (a cancelled order takes notes)", res)
		}
		for _, p := range []*order.Placed{a, b} {
			if n := f.count(t, "order_notes", "order_id = ? AND body = ?", p.Order.ID, "called the buyer"); n != 1 {
				t.Errorf("%s has %d notes, want 1", p.Order.Number, n)
			}
		}
	})
}

// TestBulkConcurrentRepeat: the same call sent twice at once acts once;
// both callers get the first result.
func TestBulkConcurrentRepeat(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		var ids []string
		for i := range 5 {
			ids = append(ids, f.place(t, guest(), f.input("cart_"+itoa(int64(i)), "", "r@example.com", line{f.cup, 1, 800})).Order.ID)
		}
		in := order.BulkCancelInput{Orders: order.BulkSelection{IDs: ids}, Reason: "duplicate orders", IdempotencyKey: "same-key"}
		results := make([]*order.BulkResult, 2)
		errs := race(
			func() (err error) { results[0], err = f.svc.BulkCancel(staff(authz.RoleSupport), in); return },
			func() (err error) { results[1], err = f.svc.BulkCancel(staff(authz.RoleSupport), in); return },
		)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if results[0].Replayed == results[1].Replayed {
			t.Errorf("replayed %v and %v, want exactly one replay", results[0].Replayed, results[1].Replayed)
		}
		results[0].Replayed, results[1].Replayed = false, false
		if diff := cmp.Diff(results[0], results[1]); diff != "" {
			t.Errorf("the two callers got different results:\n%s", diff)
		}
		if results[0].Succeeded != 5 || f.out.Count(order.SubjectCancelled) != 5 {
			t.Errorf("%d succeeded, %d cancellation events; want 5 of each", results[0].Succeeded, f.out.Count(order.SubjectCancelled))
		}
		invariant.Require(t, db)
	})
}

// manyOrders writes n open unpaid orders of one email address straight
// into the table (placing a thousand orders one by one would take the
// test's time for nothing).
func (f *fixture) manyOrders(t *testing.T, n int, email string) {
	t.Helper()
	_, err := f.db.NewRaw(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO orders (id, seq, number, email, email_local, currency, status, payment_status, fulfillment_status,
			shipping_address, billing_address, subtotal_amount, total_amount, payment_deadline, remind_at, cart_id, created_at, updated_at)
		SELECT 'ord_many_' || i, 500000 + i, '#' || (500000 + i), ?, ?, 'CNY', 'OPEN', 'PENDING', 'UNFULFILLED',
			'{}', '{}', 100, 100, ?, ?, 'cart_many_' || i, ?, ? FROM seq`,
		n, email, strings.Split(email, "@")[0], start.Add(deadline), start.Add(remindAt), start, start).Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
}

// TestBulkRefusals: a caller without order write, a missing key, a
// selection that is empty, ambiguous or too large, and bad parameters are
// refused with typed errors, and nothing changes.
func TestBulkRefusals(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		p := f.place(t, guest(), f.input("cart_1", "", "one@example.com", line{f.tea, 1, 500}))
		f.manyOrders(t, order.MaxBulk+1, "many@example.com")
		ids := func(n int) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = fmt.Sprintf("ord_x%04d", i)
			}
			return out
		}
		one := order.BulkSelection{IDs: []string{p.Order.ID}}
		support := staff(authz.RoleSupport)
		tests := []struct {
			name string
			ctx  context.Context
			in   order.BulkCancelInput
			want []string
		}{
			{"a developer reads orders only", staff(authz.RoleDeveloper), order.BulkCancelInput{Orders: one, Reason: "x", IdempotencyKey: "k"}, []string{" FORBIDDEN"}},
			{"a buyer", buyer("cus_1"), order.BulkCancelInput{Orders: one, Reason: "x", IdempotencyKey: "k"}, []string{" FORBIDDEN"}},
			{"no key", support, order.BulkCancelInput{Orders: one, Reason: "x"}, []string{"idempotencyKey " + idempotency.CodeInvalidKey}},
			{"no reason", support, order.BulkCancelInput{Orders: one, Reason: "  ", IdempotencyKey: "k"}, []string{"reason " + order.CodeReasonRequired}},
			{"no orders", support, order.BulkCancelInput{Reason: "x", IdempotencyKey: "k"}, []string{"orders " + order.CodeRequired}},
			{"ids and filter", support, order.BulkCancelInput{Orders: order.BulkSelection{IDs: one.IDs, Filter: &order.Filter{}}, Reason: "x", IdempotencyKey: "k"},
				[]string{"orders " + order.CodeAmbiguousSelection}},
			{"an empty id", support, order.BulkCancelInput{Orders: order.BulkSelection{IDs: []string{p.Order.ID, ""}}, Reason: "x", IdempotencyKey: "k"},
				[]string{"orders.ids.1 " + order.CodeRequired}},
			{"too many ids", support, order.BulkCancelInput{Orders: order.BulkSelection{IDs: ids(order.MaxBulk + 1)}, Reason: "x", IdempotencyKey: "k"},
				[]string{"orders.ids " + order.CodeTooMany}},
			{"a bad filter", support, order.BulkCancelInput{Orders: order.BulkSelection{Filter: &order.Filter{Status: "LOST"}}, Reason: "x", IdempotencyKey: "k"},
				[]string{"orders.filter.status " + order.CodeInvalidStatus}},
			{"a filter matching too many", support, order.BulkCancelInput{Orders: order.BulkSelection{Filter: &order.Filter{Query: "many@example.com"}}, Reason: "x", IdempotencyKey: "k"},
				[]string{"orders.filter " + order.CodeTooMany}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before, keys := f.state(t, p.Order.ID), f.count(t, "idempotency_keys", "")
				cancelled := f.count(t, "orders", "status = ?", order.Cancelled)
				res, err := f.svc.BulkCancel(tc.ctx, tc.in)
				if res != nil {
					t.Errorf("a result of %d outcomes, want none", len(res.Outcomes))
				}
				if diff := cmp.Diff(tc.want, problems(err)); diff != "" {
					t.Errorf("problems (-want +got):\n%s\n(%v)", diff, err)
				}
				if diff := cmp.Diff(before, f.state(t, p.Order.ID)); diff != "" {
					t.Errorf("the order changed (-before +after):\n%s", diff)
				}
				if f.count(t, "idempotency_keys", "") != keys || f.count(t, "orders", "status = ?", order.Cancelled) != cancelled {
					t.Error("a key was kept or an order cancelled")
				}
			})
		}

		// At the bound: MaxBulk ids are taken (here none exists).
		res, err := f.svc.BulkCancel(support, order.BulkCancelInput{Orders: order.BulkSelection{IDs: ids(order.MaxBulk)}, Reason: "x", IdempotencyKey: "bound"})
		if err != nil || res.Failed != order.MaxBulk || res.Outcomes[0].Code != order.CodeOrderNotFound {
			t.Fatalf("MaxBulk ids: %v; want %d not-found outcomes", err, order.MaxBulk)
		}
	})
}

// closeRecorder is a PaymentCloser that closes every payment and records
// whose.
type closeRecorder struct{ closed []string }

func (c *closeRecorder) ClosePayments(_ context.Context, o *order.Order, _ string) (order.ExpiryVerdict, error) {
	c.closed = append(c.closed, o.ID)
	return order.ExpireNow, nil
}

func (c *closeRecorder) PaymentsClosed(context.Context, *order.Order) (bool, error) { return true, nil }

// TestBulkCancelRefusedClosesNothing: payments are closed at their
// gateways before the bulk's transaction, so a bulk cancellation refused
// whole must not reach them: the key taken by another staff member's
// request, a filter matching more than MaxBulk orders. A replay closes
// nothing either; a call that runs closes the payments of what it cancels.
func TestBulkCancelRefusedClosesNothing(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rec := &closeRecorder{}
		f.svc.UsePaymentCloser(rec)
		open := f.place(t, guest(), f.input("open", "", "open@example.com", line{f.tea, 1, 500}))

		// Another staff member's note took the key.
		if _, err := f.svc.BulkAddNote(staff(authz.RoleFulfillment), order.BulkNoteInput{
			Orders: order.BulkSelection{IDs: []string{open.Order.ID}}, Body: "call the buyer", IdempotencyKey: "shared-1",
		}); err != nil {
			t.Fatal(err)
		}
		cancel := order.BulkCancelInput{Orders: order.BulkSelection{IDs: []string{open.Order.ID}}, Reason: "duplicate", IdempotencyKey: "shared-1"}
		if _, err := f.svc.BulkCancel(staff(authz.RoleSupport), cancel); codeOf(err) != idempotency.CodeKeyReused {
			t.Fatalf("the key of another request: %v, want %s", err, idempotency.CodeKeyReused)
		}
		if len(rec.closed) != 0 {
			t.Fatalf("a refused cancellation closed the payments of %v", rec.closed)
		}

		// A filter matching more than MaxBulk orders (completed ones, which
		// hold no stock, and the open one).
		batch := make([]order.SeedOrder, order.MaxBulk)
		for i := range batch {
			o := order.SeedOrder{Place: f.input("seed"+itoa(int64(i)), "", "seed@example.com", line{f.cup, 1, 300}), PlacedAt: start.Add(-30 * 24 * time.Hour)}
			o.PaidAt, o.PaymentMethod = o.PlacedAt.Add(time.Hour), "payment.banktransfer"
			o.Shipped, o.ShippedAt, o.DeliveredAt, o.CompletedAt = []int64{1}, o.PlacedAt.Add(2*time.Hour), o.PlacedAt.Add(3*time.Hour), o.PlacedAt.Add(4*time.Hour)
			batch[i] = o
		}
		first, err := f.svc.TakeSeedNumbers(system(), len(batch))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.InsertSeedOrders(system(), first, batch); err != nil {
			t.Fatal(err)
		}
		everything := order.BulkCancelInput{Orders: order.BulkSelection{Filter: &order.Filter{}}, Reason: "cleanup", IdempotencyKey: "filter-1"}
		if _, err := f.svc.BulkCancel(staff(authz.RoleSupport), everything); codeOf(err) != order.CodeTooMany {
			t.Fatalf("a filter matching %d orders: %v, want %s", order.MaxBulk+1, err, order.CodeTooMany)
		}
		if len(rec.closed) != 0 {
			t.Fatalf("a refused cancellation closed the payments of %v", rec.closed)
		}

		// A call that runs closes the payments of the order it cancels, and
		// its replay closes nothing more.
		cancel.IdempotencyKey = "cancel-1"
		for range 2 {
			if _, err := f.svc.BulkCancel(staff(authz.RoleSupport), cancel); err != nil {
				t.Fatal(err)
			}
		}
		if !cmp.Equal(rec.closed, []string{open.Order.ID}) {
			t.Errorf("closed %v, want the open order's payments once", rec.closed)
		}
		if st := f.state(t, open.Order.ID); st.Status != string(order.Cancelled) {
			t.Errorf("the open order is %s, want CANCELLED", st.Status)
		}
	})
}
