package graphql_test

import (
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/testkit"
)

// gridOp is the storefront's product grid; the nonce, a variable the
// document does not use, keeps the response cache out of the way.
const gridOp = `query($first: Int!) { products(first: $first, currency: "CNY") { edges { node { variants { sku availableQuantity price { amount } } } } } }`

// TestBuyersGridFollowsTheShop: the grid a buyer reads comes from memory
// (catalog.Service.VariantGrid), and still shows a checkout's
// reservation, its cancellation and a staff price change as soon as each
// returned, on the instance that made them: never a figure from before.
func TestBuyersGridFollowsTheShop(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		guest := authz.AnonymousSubject()
		nonce := 0
		grid := func(step string) (available int, price string) {
			t.Helper()
			nonce++
			r := must(t, s.do(t, guest, gridOp, vars("first", 10, "nonce", nonce)))
			edges, _ := testkit.Dig(r.Data, "products", "edges").([]any)
			for _, e := range edges {
				vs, _ := testkit.Dig(e, "node", "variants").([]any)
				for _, v := range vs {
					if testkit.Dig(v, "sku") == "TEA-100" {
						return int(testkit.Dig(v, "availableQuantity").(float64)), testkit.Dig(v, "price", "amount").(string)
					}
				}
			}
			t.Fatalf("%s: no TEA-100 in %v", step, r.Data)
			return 0, ""
		}
		expect := func(step string, available int, price string) {
			t.Helper()
			// Twice: the first read may fill the memory, the second reads it.
			for range 2 {
				if a, p := grid(step); a != available || p != price {
					t.Fatalf("%s: the grid shows %d available at %s, want %d at %s", step, a, p, available, price)
				}
			}
		}
		expect("first", 40, "68.00")

		_, ref := s.readyCart(t, guest, s.tea100, 3)
		placed := must(t, s.do(t, guest, checkoutOp, vars("input", with(ref, "idempotencyKey", "grid-cache"))))
		orderID := placed.str("checkoutComplete", "order", "id")
		if orderID == "" {
			t.Fatalf("checkout placed nothing: %v", placed.Data)
		}
		expect("after a checkout of 3", 37, "68.00")

		cancel := `mutation($input: OrderCancelInput!) { orderCancel(input: $input) { order { status } userErrors { code } } }`
		must(t, s.do(t, ordOwner, cancel, in("id", orderID, "reason", "out of season")))
		expect("after the cancellation", 40, "68.00")

		prices := `mutation($input: ProductVariantPricesSetInput!) { productVariantPricesSet(input: $input) { userErrors { code } } }`
		must(t, s.do(t, ordOwner, prices, in("variantId", s.tea100, "prices", []any{vars("currencyCode", "CNY", "amount", "72.00")})))
		expect("after a price change", 40, "72.00")
	})
}

// TestCachedCatalogAnswersFollowCheckout: a guest's catalog read, served
// from the response cache, shows the stock a checkout reserved and a
// cancellation gave back once their kassa.inventory.moved came over the
// bus, in milliseconds, long before the entries' 30 s (docs/api.md,
// Caching).
func TestCachedCatalogAnswersFollowCheckout(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		guest := authz.AnonymousSubject()
		const read = `{ product(handle: "oolong-tea") { variants { sku availableQuantity } } }`
		available := func(step string) int {
			t.Helper()
			r := must(t, s.do(t, guest, read, nil))
			for _, v := range testkit.Dig(r.Data, "product", "variants").([]any) {
				if testkit.Dig(v, "sku") == "TEA-100" {
					return int(testkit.Dig(v, "availableQuantity").(float64))
				}
			}
			t.Fatalf("%s: no TEA-100 in %v", step, r.Data)
			return 0
		}
		hits := func() float64 {
			t.Helper()
			return metricSum(t, ta.Metrics, "kassa_graphql_cache_hits_total", "")
		}
		// The shop's setup still has events on their way that drop the
		// cache: read until an answer comes from it.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			before := hits()
			if a := available("before the checkout"); a != 40 {
				t.Fatalf("before the checkout: %d available", a)
			}
			if hits() > before {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no read came from the cache in 5 s")
			}
		}
		_, ref := s.readyCart(t, guest, s.tea100, 3)
		placed := must(t, s.do(t, guest, checkoutOp, vars("input", with(ref, "idempotencyKey", "cache-follows"))))
		orderID := placed.str("checkoutComplete", "order", "id")
		eventually := func(step string, want int) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for a := available(step); a != want; a = available(step) {
				if time.Now().After(deadline) {
					t.Fatalf("%s the cached read still shows %d available after 5 s, want %d", step, a, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		eventually("after a checkout of 3", 37)
		cancel := `mutation($input: OrderCancelInput!) { orderCancel(input: $input) { order { status } userErrors { code } } }`
		must(t, s.do(t, ordOwner, cancel, in("id", orderID, "reason", "out of season")))
		eventually("after the cancellation", 40)
	})
}
