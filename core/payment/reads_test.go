package payment_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestPaymentsOfOpenedOrdersKeepsTheBuyersRule proves the read of an
// order's payments without reading the order again asks what the read
// by id or token asked: a guest sees the payments of the order their
// token opened (one), a signed-in buyer those of their own orders, staff
// with payment read every order's; anyone else nothing, and a caller
// without payment read or read:own is refused.
func TestPaymentsOfOpenedOrdersKeepsTheBuyersRule(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, newFake(fakeID))
		o := f.place(t, 1)
		a := f.start(t, o, "key-opened")
		other := f.place(t, 1)
		f.start(t, other, "key-other")
		alice := as(authz.KindCustomer, "cus_alice", authz.RoleCustomer)
		bob := as(authz.KindCustomer, "cus_bob", authz.RoleCustomer)

		cases := []struct {
			name   string
			ctx    context.Context
			orders []payment.OpenedOrder
			want   []string // the orders shown
		}{
			{"a guest, by the token", guest(), []payment.OpenedOrder{{ID: o.id, ByAccessToken: true}}, []string{o.id}},
			{"a guest, two orders by a token", guest(), []payment.OpenedOrder{{ID: o.id, ByAccessToken: true}, {ID: other.id, ByAccessToken: true}}, []string{o.id}},
			{"a guest, by id", guest(), []payment.OpenedOrder{{ID: o.id}}, nil},
			{"the buyer, their order", alice, []payment.OpenedOrder{{ID: o.id, CustomerID: "cus_alice"}}, []string{o.id}},
			{"another buyer", bob, []payment.OpenedOrder{{ID: o.id, CustomerID: "cus_alice"}}, nil},
			{"a buyer, a guest order by id", bob, []payment.OpenedOrder{{ID: o.id}}, nil},
			{"support staff", staff(authz.RoleSupport), []payment.OpenedOrder{{ID: o.id}, {ID: other.id, CustomerID: "cus_bob"}}, []string{o.id, other.id}},
			{"no order", alice, []payment.OpenedOrder{{}}, nil},
		}
		for _, c := range cases {
			m, err := f.svc.PaymentsOfOpenedOrders(c.ctx, c.orders)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			var got []string
			for id := range m {
				got = append(got, id)
			}
			slices.Sort(got)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: orders shown (-want +got):\n%s", c.name, diff)
			}
		}
		m, err := f.svc.PaymentsOfOpenedOrders(guest(), []payment.OpenedOrder{{ID: o.id, ByAccessToken: true}})
		if err != nil {
			t.Fatal(err)
		}
		if got := m[o.id]; got == nil || len(got.Attempts) != 1 || got.Attempts[0].ID != a.ID || len(got.Refunds) != 0 {
			t.Errorf("the guest's order shows %+v, want its attempt %s", got, a.ID)
		}
		if _, err := f.svc.PaymentsOfOpenedOrders(staff(authz.RoleFulfillment), []payment.OpenedOrder{{ID: o.id}}); codeOf(err) != "FORBIDDEN" {
			t.Errorf("fulfillment staff: %v, want FORBIDDEN", err)
		}
	})
}
