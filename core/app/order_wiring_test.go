package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/testkit"
)

// TestOrdersWiring: the app's order service reserves stock in the
// catalog, numbers orders with the shop's settings, and lets a buyer
// claim their guest orders on the accounts' word that their address is
// verified, and not before.
func TestOrdersWiring(t *testing.T) {
	ta := testkit.NewTestApp(t, testkit.SQLite)
	ctx := context.Background()
	as := func(s authz.Subject) context.Context { return authz.WithSubject(ctx, s) }
	staff := as(authz.Subject{Kind: authz.KindStaff, ID: "stf_owner", Roles: []string{authz.RoleOwner}})
	p, err := ta.Catalog.CreateProduct(staff, catalog.CreateProductInput{Title: "Tea", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "TEA", InventoryQuantity: 4, Prices: []catalog.PriceInput{{Currency: "USD", Amount: "5.00"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := ta.Catalog.VariantsByProductIDs(staff, []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	v := vs[p.ID][0]
	now := time.Now().UTC()
	for _, c := range []struct {
		id, email string
		verified  *time.Time
	}{{"cus_verified", "v@example.com", &now}, {"cus_unverified", "u@example.com", nil}} {
		if _, err := ta.DB.NewRaw("INSERT INTO customers (id, email, email_verified_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			c.id, c.email, c.verified, now, now).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}

	usd := func(n int64) money.Money { return money.New(n, money.USD) }
	for i, email := range []string{"v@example.com", "u@example.com"} {
		placed, err := ta.Orders.Place(as(authz.AnonymousSubject()), order.PlaceInput{
			CartID: "cart_" + email, Email: email, Currency: money.USD,
			Lines: []order.PlaceLine{{VariantID: v.ID, ProductID: p.ID, SKU: "TEA", ProductTitle: "Tea", Quantity: 2,
				UnitPrice: usd(500), Subtotal: usd(1000), Discount: usd(0), Tax: usd(0), Total: usd(1000)}},
			Totals: pricing.Totals{Subtotal: usd(1000), DiscountTotal: usd(0), Shipping: usd(0), Tax: usd(0), Total: usd(1000)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"#1001", "#1002"}[i]; placed.Order.Number != want {
			t.Errorf("number %s, want %s", placed.Order.Number, want)
		}
	}
	levels, err := ta.Catalog.InventoryLevels(staff, []string{v.ID})
	if err != nil || levels[v.ID].Reserved != 4 {
		t.Fatalf("reserved %d, %v; want 4", levels[v.ID].Reserved, err)
	}

	buyer := func(id string) context.Context {
		return as(authz.Subject{Kind: authz.KindCustomer, ID: id, Roles: []string{authz.RoleCustomer}})
	}
	isCode := func(err error, code string) bool {
		all := errs.All(err)
		return len(all) == 1 && all[0].Code == code
	}
	if n, err := ta.Orders.ClaimGuestOrders(buyer("cus_unverified")); n != 0 || !isCode(err, order.CodeEmailNotVerified) {
		t.Errorf("unverified: %d, %v", n, err)
	}
	if n, err := ta.Orders.ClaimGuestOrders(buyer("cus_verified")); n != 1 || err != nil {
		t.Errorf("verified: %d, %v", n, err)
	}
}
