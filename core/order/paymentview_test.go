package order_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestPaymentViewMatchesGet: the payment's one-query view of an order
// shows what Get shows of the same order, to the same callers, and hides
// the order from those Get hides it from.
func TestPaymentViewMatchesGet(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.addCustomer(t, "cus_a", "a@example.com", true)
		f.addCustomer(t, "cus_b", "b@example.com", true)
		mine := f.place(t, buyer("cus_a"), f.input("cart_1", "cus_a", "a@example.com", line{f.tea, 2, 100}))
		in := f.input("cart_2", "", "g@example.com", line{f.tea, 1, 100}, line{f.cup, 1, 250})
		in.ShippingAddress.CountryCode = "DE"
		guestOrder := f.place(t, guest(), in)

		// want is the view as Get's full read gives it.
		want := func(t *testing.T, id string) *order.PaymentView {
			t.Helper()
			d, err := f.svc.Get(staff(authz.RoleSupport), id)
			if err != nil {
				t.Fatal(err)
			}
			o, tot := d.Order, d.Order.Totals()
			return &order.PaymentView{ID: o.ID, Number: o.Number, CustomerID: o.CustomerID, Email: o.Email,
				Status: o.Status, PaymentStatus: o.PaymentStatus, Total: tot.Total, Shipping: tot.Shipping, Tax: tot.Tax, TaxIncluded: tot.TaxIncluded,
				PaymentDeadline: o.PaymentDeadline, BillingCountry: o.BillingAddress.CountryCode, ShippingCountry: o.ShippingAddress.CountryCode}
		}
		byID := func(ctx context.Context, id string) func() (*order.PaymentView, error) {
			return func() (*order.PaymentView, error) { return f.svc.PaymentView(ctx, id) }
		}
		byToken := func(ctx context.Context, token string) func() (*order.PaymentView, error) {
			return func() (*order.PaymentView, error) { return f.svc.PaymentViewByAccessToken(ctx, token) }
		}
		for _, c := range []struct {
			name string
			read func() (*order.PaymentView, error)
			want string // an order id, or an error code
		}{
			{"staff", byID(staff(authz.RoleSupport), mine.Order.ID), mine.Order.ID},
			{"the platform", byID(system(), guestOrder.Order.ID), guestOrder.Order.ID},
			{"the buyer", byID(buyer("cus_a"), mine.Order.ID), mine.Order.ID},
			{"another buyer", byID(buyer("cus_b"), mine.Order.ID), order.CodeOrderNotFound},
			{"a buyer by a guest order's id", byID(buyer("cus_b"), guestOrder.Order.ID), order.CodeOrderNotFound},
			{"an unknown id", byID(staff(authz.RoleSupport), "ord_nope"), order.CodeOrderNotFound},
			{"a guest by token", byToken(guest(), guestOrder.AccessToken), guestOrder.Order.ID},
			{"a wrong token", byToken(guest(), guestOrder.AccessToken+"x"), order.CodeOrderNotFound},
			{"no token", byToken(guest(), ""), order.CodeOrderNotFound},
		} {
			t.Run(c.name, func(t *testing.T) {
				got, err := c.read()
				if !strings.HasPrefix(c.want, "ord_") {
					if codeOf(err) != c.want {
						t.Fatalf("err = %v, want %s", err, c.want)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want(t, c.want), got, cmpopts.EquateComparable(money.Currency{})); diff != "" {
					t.Errorf("(-Get +PaymentView):\n%s", diff)
				}
			})
		}
		if v, err := f.svc.PaymentView(system(), guestOrder.Order.ID); err != nil || v.ShippingCountry != "DE" || v.BillingCountry != "CN" || v.CustomerID != nil {
			t.Errorf("guest view = %+v, %v; want shipping DE, billing CN, no customer", v, err)
		}
	})
}
