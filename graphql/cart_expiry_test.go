package graphql_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/testkit"
)

// TestExpiredCartIsRefused: on an instance whose guest carts live 48
// hours (--guest-cart-lifetime), a guest cart not changed for 49 hours is
// null to `cart` and CART_NOT_FOUND to its mutations and to checkout,
// before any purge ran, while a cart changed 47 hours ago answers as
// before; the purge then deletes the expired cart with its lines.
func TestExpiredCartIsRefused(t *testing.T) {
	for _, e := range []struct {
		name   string
		engine testkit.Engine
	}{{"sqlite", testkit.SQLite}, {"postgres", testkit.Postgres}} {
		t.Run(e.name, func(t *testing.T) {
			ta := testkit.NewTestAppWith(t, e.engine, map[string]string{"guest-cart-lifetime": "48h"})
			s := newCartShop(t, ta)
			anon := authz.AnonymousSubject()
			create := func(age time.Duration) (string, map[string]any) {
				t.Helper()
				c := must(t, s.do(t, anon, cartCreateOp, in("lines", []any{vars("variantId", s.tea100, "quantity", 2)})))
				id := c.str("cartCreate", "cart", "id")
				// The cart as it is after its last change age ago.
				at := time.Now().UTC().Add(-age)
				if _, err := ta.DB.NewUpdate().Table("carts").Set("touched_at = ?", at).Set("updated_at = ?", at).
					Where("id = ?", id).Exec(context.Background()); err != nil {
					t.Fatal(err)
				}
				return id, vars("token", c.str("cartCreate", "token"))
			}
			_, old := create(49 * time.Hour)
			youngID, young := create(47 * time.Hour)

			runCart(t, ta, []testkit.Scenario{
				{Name: "the expired cart reads as none", Query: cartQueryOp, Variables: old, WantData: `{"cart":null}`},
				{Name: "nor takes a line", Query: cartAddOp, Variables: vars("input", with(old, "lines", []any{vars("variantId", s.tea250, "quantity", 1)})),
					WantUserErrors: []string{"CART_NOT_FOUND"}, WantEvents: []string{}},
				{Name: "nor an email", Query: cartEmailOp, Variables: vars("input", with(old, "email", "late@example.com")),
					WantUserErrors: []string{"CART_NOT_FOUND"}, WantEvents: []string{}},
				{Name: "nor checks out", Query: checkoutOp, Variables: vars("input", with(old, "idempotencyKey", "late-1")),
					WantUserErrors: []string{"CART_NOT_FOUND"}, WantEvents: []string{}},
				{Name: "a cart changed within its lifetime reads", Query: cartQueryOp, Variables: young,
					Check: func(t *testing.T, data json.RawMessage) {
						if !strings.Contains(string(data), `"id":"`+youngID+`"`) {
							t.Errorf("the young cart: %s", data)
						}
					}},
				{Name: "and changes", Query: cartEmailOp, Variables: vars("input", with(young, "email", "on.time@example.com")), WantEvents: []string{}},
			})

			n, err := ta.Checkout.Carts.Purge(context.Background())
			if err != nil || n != 1 {
				t.Fatalf("purge: %d carts, %v; want 1", n, err)
			}
			ctx := context.Background()
			carts, err := ta.DB.NewSelect().Table("carts").Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			lines, err := ta.DB.NewSelect().Table("cart_lines").Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if carts != 1 || lines != 1 {
				t.Fatalf("after the purge %d carts, %d lines; want the young cart and its line", carts, lines)
			}
		})
	}
}
