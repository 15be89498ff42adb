package order_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestDetailsMatchGet: the batch read of a page's details answers what Get
// answers for each order, for staff and for the buyer, and refuses a
// buyer a page holding another buyer's order.
func TestDetailsMatchGet(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.addCustomer(t, "cus_a", "a@example.com", true)
		f.addCustomer(t, "cus_b", "b@example.com", true)
		one := f.place(t, buyer("cus_a"), f.input("cart_1", "cus_a", "a@example.com", line{f.tea, 2, 100}))
		two := f.place(t, buyer("cus_a"), f.input("cart_2", "cus_a", "a@example.com", line{f.tea, 1, 100}, line{f.cup, 1, 250}))
		other := f.place(t, buyer("cus_b"), f.input("cart_3", "cus_b", "b@example.com", line{f.tea, 1, 100}))
		if _, err := f.svc.AddNote(staff(authz.RoleSupport), order.AddNoteInput{OrderID: one.Order.ID, Body: "gift wrap"}); err != nil {
			t.Fatal(err)
		}
		f.ship(t, two, 1)

		check := func(t *testing.T, ctx context.Context, placed ...*order.Placed) {
			t.Helper()
			orders := make([]*order.Order, len(placed))
			for i, p := range placed {
				d, err := f.svc.Get(ctx, p.Order.ID)
				if err != nil {
					t.Fatal(err)
				}
				orders[i] = d.Order
			}
			got, err := f.svc.Details(ctx, orders)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range placed {
				want, err := f.svc.Get(ctx, p.Order.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got[i], cmpopts.EquateComparable(money.Currency{})); diff != "" {
					t.Errorf("order %d (-Get +Details):\n%s", i, diff)
				}
			}
		}
		t.Run("staff", func(t *testing.T) { check(t, staff(authz.RoleSupport), one, two, other) })
		t.Run("buyer", func(t *testing.T) { check(t, buyer("cus_a"), two, one) })
		t.Run("buyer with another's order", func(t *testing.T) {
			d, err := f.svc.Get(staff(authz.RoleSupport), other.Order.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Details(buyer("cus_a"), []*order.Order{d.Order}); codeOf(err) != order.CodeOrderNotFound {
				t.Fatalf("err = %v, want %s", err, order.CodeOrderNotFound)
			}
		})
	})
}
