package graphql_test

import (
	"net/http"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/testkit"
)

// checkoutFrom completes a checkout over HTTP as a guest whose address,
// behind the shop's trusted proxy, is forwardedFor ("" sends none: the
// request then comes from the loopback address).
func checkoutFrom(t *testing.T, url string, input map[string]any, forwardedFor string) gqlResult {
	t.Helper()
	var h http.Header
	if forwardedFor != "" {
		h = http.Header{"X-Forwarded-For": {forwardedFor}}
	}
	return guestPost(t, url, checkoutOp, vars("input", input), h)
}

// TestUnpaidOrdersPerBuyer: every unpaid order holds its stock until its
// deadline, so one client network, and one signed-in buyer, may hold only
// unpaidOrdersPerBuyer of them at once. A checkout past the limit is a
// userError that reserves nothing and places nothing; paying or
// cancelling one frees a place; other networks, an IPv6 client's
// neighbours in its /64 excepted, are not affected; loopback and private
// addresses (a proxy's) are not counted; 0 turns the limit off.
func TestUnpaidOrdersPerBuyer(t *testing.T) {
	for name, engine := range map[string]testkit.Engine{"sqlite": testkit.SQLite, "postgres": testkit.Postgres} {
		t.Run(name, func(t *testing.T) {
			ta := testkit.NewTestAppWith(t, engine, map[string]string{"trust-proxy": "true"})
			s := newCartShop(t, ta)
			limit := int64(2)
			if _, err := ta.Settings.Shop.Update(system(), shop.UpdateSettingsInput{UnpaidOrdersPerBuyer: &limit}); err != nil {
				t.Fatal(err)
			}
			guest := authz.AnonymousSubject()
			n := 0
			ready := func() (string, map[string]any) {
				n++
				cartID, ref := s.readyCart(t, guest, s.tea100, 1)
				return cartID, with(ref, "idempotencyKey", "unpaid-"+string(rune('a'+n)))
			}
			checkout := func(from string) (placed, gqlResult) {
				t.Helper()
				_, input := ready()
				res := checkoutFrom(t, ta.URL, input, from)
				return placed{id: res.str("checkoutComplete", "order", "id"), token: res.str("checkoutComplete", "accessToken")}, res
			}
			mustPlace := func(what, from string) placed {
				t.Helper()
				p, res := checkout(from)
				must(t, res)
				if p.id == "" {
					t.Fatalf("%s: no order", what)
				}
				return p
			}
			refused := func(what, from string) {
				t.Helper()
				before := s.stock(t, s.tea100)
				cartID, input := ready()
				res := checkoutFrom(t, ta.URL, input, from)
				if !res.has(order.CodeTooManyUnpaidOrders) || res.str("checkoutComplete", "order", "id") != "" {
					t.Fatalf("%s: want %s and no order, got %+v %+v", what, order.CodeTooManyUnpaidOrders, res.Data, res.Errors)
				}
				if got := s.orders(t, cartID); got != 0 {
					t.Errorf("%s: the refused checkout placed %d orders", what, got)
				}
				if after := s.stock(t, s.tea100); after != before {
					t.Errorf("%s: stock moved from %+v to %+v", what, before, after)
				}
			}

			first := mustPlace("first from 203.0.113.7", "203.0.113.7")
			mustPlace("second from 203.0.113.7", "203.0.113.7")
			refused("third from 203.0.113.7", "203.0.113.7")
			mustPlace("another network", "198.51.100.20")

			// IPv6 clients count by their /64.
			mustPlace("IPv6 ::1", "2001:db8:7:7::1")
			mustPlace("IPv6 ::2", "2001:db8:7:7::2")
			refused("IPv6 ::3 of the same /64", "2001:db8:7:7::3")
			mustPlace("IPv6 of another /64", "2001:db8:7:8::1")

			// The guest cancels one: a place is free again.
			must(t, s.do(t, guest, orderCancelDoc, in("id", first.id, "token", first.token)))
			mustPlace("after a cancel", "203.0.113.7")
			refused("full again", "203.0.113.7")

			// A proxy's own address stands for many buyers: not counted.
			for i := 0; i < 3; i++ {
				mustPlace("from loopback", "")
				mustPlace("from a private address", "10.0.0.5")
			}

			// A signed-in buyer counts on their own, wherever they are.
			alice, _ := s.buyer(t, "alice-unpaid@example.com")
			for i := 0; i < 2; i++ {
				cartID, ref := s.readyCart(t, alice, s.tea100, 1)
				must(t, s.do(t, alice, checkoutOp, vars("input", with(ref, "idempotencyKey", "alice-"+cartID))))
			}
			cartID, ref := s.readyCart(t, alice, s.tea100, 1)
			if res := s.do(t, alice, checkoutOp, vars("input", with(ref, "idempotencyKey", "alice-3"))); !res.has(order.CodeTooManyUnpaidOrders) {
				t.Fatalf("alice's third unpaid order: %+v", res.Data)
			}
			if got := s.orders(t, cartID); got != 0 {
				t.Errorf("alice's refused checkout placed %d orders", got)
			}
			// Nor by completing a guest's cart, by its token, while signed in.
			guestCart, guestRef := s.readyCart(t, guest, s.tea100, 1)
			if res := s.do(t, alice, checkoutOp, vars("input", with(guestRef, "idempotencyKey", "alice-guest"))); !res.has(order.CodeTooManyUnpaidOrders) {
				t.Fatalf("alice completing a guest cart at her limit: %+v", res.Data)
			}
			if got := s.orders(t, guestCart); got != 0 {
				t.Errorf("the guest cart alice completed placed %d orders", got)
			}

			// 0: no limit.
			off := int64(0)
			if _, err := ta.Settings.Shop.Update(system(), shop.UpdateSettingsInput{UnpaidOrdersPerBuyer: &off}); err != nil {
				t.Fatal(err)
			}
			mustPlace("no limit", "203.0.113.7")
			must(t, s.do(t, alice, checkoutOp, vars("input", with(ref, "idempotencyKey", "alice-4"))))
		})
	}
}
