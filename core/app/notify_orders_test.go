package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/notify"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/testkit"
)

// TestOrderEmails: what the notification dispatcher tells a buyer about
// their order, read from the order service: the order's lines, totals
// and address, the deadline while it waits for payment, and once it is
// cancelled, why (the closer's cancellation coded as a missed deadline,
// a staff member's with their reason only).
func TestOrderEmails(t *testing.T) {
	ta := testkit.NewTestApp(t, testkit.SQLite)
	ctx := authz.WithSubject(context.Background(), authz.SystemSubject("notify"))
	p, err := ta.Catalog.CreateProduct(ctx, catalog.CreateProductInput{Title: "Oolong Tea", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "TEA-100", Title: "100 g", InventoryQuantity: 10, Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "12.50"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := ta.Catalog.VariantsByProductIDs(ctx, []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	cny := func(n int64) money.Money { return money.New(n, money.CNY) }
	place := func(cart string) *order.Placed {
		t.Helper()
		addr := order.Address{FirstName: "小明", LastName: "王", Company: "茶社", Line1: "西湖区文三路 1 号", City: "杭州", Province: "浙江", PostalCode: "310000", CountryCode: "CN"}
		placed, err := ta.Orders.Place(authz.WithSubject(context.Background(), authz.AnonymousSubject()), order.PlaceInput{
			CartID: cart, Email: "wang@example.com", Currency: money.CNY, ShippingAddress: addr, BillingAddress: addr,
			Lines: []order.PlaceLine{{VariantID: vs[p.ID][0].ID, ProductID: p.ID, SKU: "TEA-100", ProductTitle: "Oolong Tea", VariantTitle: "100 g",
				Quantity: 2, UnitPrice: cny(1250), Subtotal: cny(2500), Discount: cny(0), Tax: cny(141), Total: cny(2500)}},
			Totals: pricing.Totals{Subtotal: cny(2500), DiscountTotal: cny(0), Shipping: cny(1000), Tax: cny(141), TaxIncluded: true, Total: cny(3500)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return placed
	}
	src := app.OrderEmails(ta.Orders)
	unpaid := place("cart_unpaid")
	em, err := src.OrderEmail(ctx, unpaid.Order.ID)
	if err != nil {
		t.Fatal(err)
	}
	amount := func(n int64) notify.Amount { return notify.Amount{Amount: n, Currency: "CNY"} }
	deadline := unpaid.Order.PaymentDeadline
	want := &notify.OrderEmail{
		Recipient: notify.Recipient{Email: "wang@example.com", Name: "王小明"},
		Order: notify.OrderData{Number: unpaid.Order.Number, PlacedAt: unpaid.Order.CreatedAt,
			Lines:    []notify.OrderLine{{Name: "Oolong Tea – 100 g", SKU: "TEA-100", Quantity: 2, Total: amount(2500)}},
			Subtotal: amount(2500), Discount: amount(0), Shipping: amount(1000), Tax: amount(141), Total: amount(3500),
			ShippingAddress: &notify.PostalAddress{Name: "王小明", Lines: []string{"茶社", "西湖区文三路 1 号"}, PostalCode: "310000", City: "杭州", Region: "浙江", Country: "CN"},
			PaymentDeadline: &deadline},
	}
	if diff := cmp.Diff(want, em); diff != "" {
		t.Errorf("email of an unpaid order (-want +got):\n%s", diff)
	}

	// Cancelled by the deadline closer, and by staff.
	sc, err := order.NewScheduler(ta.Orders, order.SchedulerOptions{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.DB.NewUpdate().Table("orders").Set("payment_deadline = ?", time.Now().UTC().Add(-time.Minute)).
		Where("id = ?", unpaid.Order.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := sc.CloseOverdue(ctx); n != 1 || err != nil {
		t.Fatalf("closer: %d, %v", n, err)
	}
	byStaff := place("cart_staff")
	staff := authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "stf_1", Roles: []string{authz.RoleSupport}})
	if _, err := ta.Orders.Cancel(staff, order.CancelInput{OrderID: byStaff.Order.ID, Reason: "out of stock"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		want notify.Cancellation
	}{
		{unpaid.Order.ID, notify.Cancellation{Reason: order.DeadlineReason, Code: notify.CancellationPaymentDeadline}},
		{byStaff.Order.ID, notify.Cancellation{Reason: "out of stock"}},
	} {
		em, err := src.OrderEmail(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if em.Cancellation == nil || *em.Cancellation != tc.want || em.Order.PaymentDeadline != nil {
			t.Errorf("cancellation %+v, deadline %v; want %+v and no deadline", em.Cancellation, em.Order.PaymentDeadline, tc.want)
		}
	}
	if _, err := src.OrderEmail(ctx, "ord_missing"); codeOf(err) != order.CodeOrderNotFound {
		t.Errorf("a missing order: %v", err)
	}
}

// codeOf returns the code of a single domain error, or its text.
func codeOf(err error) string {
	if all := errs.All(err); len(all) == 1 {
		return all[0].Code
	}
	return fmt.Sprint(err)
}
