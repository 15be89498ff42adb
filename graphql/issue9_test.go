package graphql_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/seed"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/tax"
	"github.com/kassahq/kassa/core/testkit"
)

// teaPricesOp reads the tea's prices as a guest does, in the shop's
// default currency, and its stock: a public read the response cache
// shares.
const teaPricesOp = `{ product(handle: "oolong-tea") { variants { sku availableQuantity price { amount currencyCode } } } }`

// teaVariant returns what teaPricesOp answers for one SKU.
func teaVariant(t *testing.T, s *cartShop, sku string) (available int, price string) {
	t.Helper()
	r := must(t, s.do(t, authz.AnonymousSubject(), teaPricesOp, nil))
	vs, _ := testkit.Dig(r.Data, "product", "variants").([]any)
	for _, v := range vs {
		if testkit.Dig(v, "sku") == sku {
			return int(testkit.Dig(v, "availableQuantity").(float64)),
				fmt.Sprintf("%v %v", testkit.Dig(v, "price", "currencyCode"), testkit.Dig(v, "price", "amount"))
		}
	}
	t.Fatalf("no %s in %v", sku, r.Data)
	return 0, ""
}

// eventually polls the guest's read of sku until ok holds, for well under
// the response cache's 30 s TTL: only an invalidation makes it pass.
func eventually(t *testing.T, s *cartShop, sku, what string, ok func(available int, price string) bool) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for {
		a, p := teaVariant(t, s, sku)
		if ok(a, p) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: a guest still reads %d available at %s", what, a, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPricesInTheShopsDefaultCurrency: a price asked for without a
// currency is in the first of the shop's currencies, read from its
// settings, and follows staff changing them without a restart (issue 9:
// it was always USD).
func TestPricesInTheShopsDefaultCurrency(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta) // CNY, USD
		if _, price := teaVariant(t, s, "TEA-100"); price != "CNY 68.00" {
			t.Fatalf("a shop selling in CNY first shows %s", price)
		}
		update := `mutation($input: ShopSettingsUpdateInput!) { shopSettingsUpdate(input: $input) { userErrors { code } } }`
		must(t, s.do(t, ordOwner, update, in("currencies", []any{"USD", "CNY"})))
		eventually(t, s, "TEA-100", "after USD became the default", func(_ int, p string) bool { return p == "USD 9.50" })
		// A variant without a USD price shows none.
		if _, price := teaVariant(t, s, "TEA-250"); price != "<nil> <nil>" {
			t.Fatalf("TEA-250 has no USD price, shown %s", price)
		}
	})
}

// TestStockMovesRefreshGuestReads: a guest reading a product sees its
// available quantity change right after another buyer's checkout and
// after staff cancel that order, not 30 s later (issue 9: reservations
// emitted no catalog event, so the response cache kept the old figure).
func TestStockMovesRefreshGuestReads(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		guest := authz.AnonymousSubject()
		if a, _ := teaVariant(t, s, "TEA-100"); a != 40 {
			t.Fatalf("TEA-100: %d available, want 40", a)
		}
		_, ref := s.readyCart(t, guest, s.tea100, 3)
		placed := must(t, s.do(t, guest, checkoutOp, vars("input", with(ref, "idempotencyKey", "issue9-stock"))))
		orderID := placed.str("checkoutComplete", "order", "id")
		if orderID == "" {
			t.Fatalf("checkout placed nothing: %v", placed.Data)
		}
		eventually(t, s, "TEA-100", "after a checkout of 3", func(a int, _ string) bool { return a == 37 })

		cancel := `mutation($input: OrderCancelInput!) { orderCancel(input: $input) { order { status } userErrors { code } } }`
		testkit.Run(t, ta, []testkit.Scenario{{Name: "staff cancel the order", As: ordOwner, Query: cancel,
			Variables:  in("id", orderID, "reason", "out of season"),
			WantData:   `{"orderCancel": {"order": {"status": "CANCELLED"}, "userErrors": []}}`,
			WantEvents: []string{"kassa.order.cancelled", "kassa.inventory.moved"}}})
		eventually(t, s, "TEA-100", "after the cancellation", func(a int, _ string) bool { return a == 40 })
	})
}

// TestRegionsMatchSubdivisionCodes: zones and tax rates keep a region as
// the subdivision code an address's province holds ("QC"), take the full
// ISO 3166-2 code ("CA-QC") on input, and match an address that gives
// either (issue 9).
func TestRegionsMatchSubdivisionCodes(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		ctx := system()
		ca, err := ta.Settings.Shipping.CreateZone(ctx, shipping.ZoneInput{Name: "Canada", Countries: []string{"CA"}})
		if err != nil {
			t.Fatal(err)
		}
		qc, err := ta.Settings.Shipping.CreateZone(ctx, shipping.ZoneInput{Name: "Quebec", Countries: []string{"CA"}, Regions: []string{"ca-qc"}})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(qc.Regions) != "[QC]" {
			t.Fatalf("region ca-qc kept as %v, want [QC]", qc.Regions)
		}
		for zone, name := range map[string]string{ca.ID: "Canada Post", qc.ID: "Purolator Quebec"} {
			if _, err := ta.Settings.Shipping.CreateMethod(ctx, shipping.MethodInput{ZoneID: zone, Name: name, Kind: shipping.KindFlat,
				Prices: []shipping.MethodPriceInput{{Currency: "CNY", Amount: "100.00"}}}); err != nil {
				t.Fatal(err)
			}
		}
		rate := `mutation($input: TaxRateCreateInput!) { taxRateCreate(input: $input) { taxRate { country region } userErrors { code } } }`
		testkit.Run(t, ta, []testkit.Scenario{{Name: "a rate for CA-QC is kept as QC", As: ordOwner, Query: rate,
			Variables: in("country", "CA", "region", "CA-QC", "name", "GST+QST", "basisPoints", 1498),
			WantData:  `{"taxRateCreate": {"taxRate": {"country": "CA", "region": "QC"}, "userErrors": []}}`}})
		if _, err := ta.Settings.Tax.CreateRate(ctx, tax.RateInput{Country: "CA", Name: "GST", BasisPoints: 500}); err != nil {
			t.Fatal(err)
		}

		methods := `query($token: String) { cart(token: $token) { shippingMethods { name } tax { amount } } }`
		for _, tc := range []struct {
			province, method, tax string
		}{
			{"QC", "Purolator Quebec", "10.19"},     // 68.00 at 14.98 %
			{"ca-qc", "Purolator Quebec", "10.19"},  // the full code, any case
			{" Qc ", "Purolator Quebec", "10.19"},   // as typed
			{"ON", "Canada Post", "3.40"},           // 5 % GST only
			{"CA-ON", "Canada Post", "3.40"},        // no zone or rate of its own
			{"Quebec", "Purolator Quebec", "10.19"}, // the name is the code
			{"Québec", "Purolator Quebec", "10.19"}, // accents aside
		} {
			t.Run(tc.province, func(t *testing.T) {
				guest := authz.AnonymousSubject()
				c := must(t, s.do(t, guest, cartCreateOp, in("lines", []any{vars("variantId", s.tea100, "quantity", 1)})))
				token := c.str("cartCreate", "token")
				addr := vars("firstName", "Marie", "lastName", "Tremblay", "line1", "1 rue Sainte-Catherine", "city", "Montreal",
					"province", tc.province, "countryCode", "CA")
				must(t, s.do(t, guest, cartShipToOp, vars("input", vars("token", token, "address", addr))))
				r := must(t, s.do(t, guest, methods, vars("token", token)))
				b, _ := json.Marshal(r.Data)
				want := fmt.Sprintf(`{"cart":{"shippingMethods":[{"name":%q}],"tax":{"amount":%q}}}`, tc.method, tc.tax)
				if string(b) != want {
					t.Errorf("province %q: %s, want %s", tc.province, b, want)
				}
			})
		}
	})
}

// TestBuyersCartTakesTheirEmail: a signed-in buyer's new cart starts with
// their account's email, which they may still change (alone, or with the
// shipping address; an address without one keeps it); a guest cart taken
// at sign-in without an email gets it too (issue 9).
func TestBuyersCartTakesTheirEmail(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		ada, _ := s.buyer(t, "ada@example.com")
		bob, _ := s.buyer(t, "bob@example.com")
		guest := authz.AnonymousSubject()
		g := must(t, s.do(t, guest, cartCreateOp, in("lines", []any{vars("variantId", s.tea100, "quantity", 1)})))
		token := g.str("cartCreate", "token")
		login := `mutation($input: LoginInput!) { customerLogin(input: $input) { customer { email } userErrors { code } } }`
		shipTo := `mutation($input: CartAddressUpdateInput!) { cartShippingAddressUpdate(input: $input) { cart { email shippingAddress { city } } userErrors { code } } }`
		runCart(t, ta, []testkit.Scenario{
			{Name: "ada's new cart has her email", As: ada, Query: `mutation { cartCreate(input: {}) { cart { email } userErrors { code } } }`,
				WantData: `{"cartCreate": {"cart": {"email": "ada@example.com"}, "userErrors": []}}`},
			{Name: "she may change it", As: ada, Query: `mutation { cartEmailUpdate(input: {email: "ada.work@example.com"}) { cart { email } userErrors { code } } }`,
				WantData: `{"cartEmailUpdate": {"cart": {"email": "ada.work@example.com"}, "userErrors": []}}`},
			{Name: "an address without an email keeps hers", As: ada, Query: shipTo, Variables: in("address", cnAddress),
				WantData: `{"cartShippingAddressUpdate": {"cart": {"email": "ada.work@example.com", "shippingAddress": {"city": "Shenzhen"}}, "userErrors": []}}`},
			{Name: "an address with an email changes it", As: ada, Query: shipTo, Variables: in("address", cnAddress, "email", "Ada.Home@Example.com"),
				WantData: `{"cartShippingAddressUpdate": {"cart": {"email": "ada.home@example.com", "shippingAddress": {"city": "Shenzhen"}}, "userErrors": []}}`},
			{Name: "bob signs in with a guest cart without an email", Query: login,
				Variables: in("email", "bob@example.com", "password", "passphrase of bob@example.com", "cartToken", token),
				WantData:  `{"customerLogin": {"customer": {"email": "bob@example.com"}, "userErrors": []}}`},
			{Name: "the cart he took has his email", As: bob, Query: customerCartOp,
				WantData: `{"cart": {"id": "` + g.str("cartCreate", "cart", "id") + `", "lines": [{"sku": "TEA-100", "quantity": 1}], "email": "bob@example.com"}}`},
		})
	})
}

// TestCheckoutWithoutIdempotencyKey: a checkout that sends no key is told
// the key is required, on the field that takes it; a malformed one is
// invalid (issue 9).
func TestCheckoutWithoutIdempotencyKey(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		guest := authz.AnonymousSubject()
		_, ref := s.readyCart(t, guest, s.tea100, 1)
		op := `mutation($input: CheckoutCompleteInput!) { checkoutComplete(input: $input) { order { id } userErrors { field code } } }`
		runCart(t, ta, []testkit.Scenario{
			{Name: "no key", Query: op, Variables: vars("input", ref),
				WantData: `{"checkoutComplete": {"order": null, "userErrors": [{"field": ["input", "idempotencyKey"], "code": "IDEMPOTENCY_KEY_REQUIRED"}]}}`},
			{Name: "an empty key", Query: op, Variables: vars("input", with(ref, "idempotencyKey", "")),
				WantData: `{"checkoutComplete": {"order": null, "userErrors": [{"field": ["input", "idempotencyKey"], "code": "IDEMPOTENCY_KEY_REQUIRED"}]}}`},
			{Name: "a malformed key", Query: op, Variables: vars("input", with(ref, "idempotencyKey", strings.Repeat("k", 256))),
				WantData: `{"checkoutComplete": {"order": null, "userErrors": [{"field": ["input", "idempotencyKey"], "code": "INVALID_IDEMPOTENCY_KEY"}]}}`},
		})
	})
}

// TestCancelReasonCodes: a cancellation without a reason has one code,
// for one order and for many; and the refusal of a move speaks of the
// order, not of its machine's name (issue 9).
func TestCancelReasonCodes(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		guest := authz.AnonymousSubject()
		_, ref := s.readyCart(t, guest, s.tea100, 1)
		orderID := must(t, s.do(t, guest, checkoutOp, vars("input", with(ref, "idempotencyKey", "issue9-cancel")))).str("checkoutComplete", "order", "id")
		cancel := `mutation($input: OrderCancelInput!) { orderCancel(input: $input) { order { status } userErrors { field message code } } }`
		bulk := `mutation($input: OrdersBulkCancelInput!) { ordersBulkCancel(input: $input) { result { succeeded } userErrors { field code } } }`
		runCart(t, ta, []testkit.Scenario{
			{Name: "one order without a reason", As: ordOwner, Query: cancel, Variables: in("id", orderID, "reason", " "),
				WantData: `{"orderCancel": {"order": null, "userErrors": [{"field": ["input", "reason"], "message": "say why the order is cancelled", "code": "REASON_REQUIRED"}]}}`},
			{Name: "many without a reason", As: ordOwner, Query: bulk,
				Variables: in("ids", []any{orderID}, "reason", "", "idempotencyKey", "issue9-bulk"),
				WantData:  `{"ordersBulkCancel": {"result": null, "userErrors": [{"field": ["input", "reason"], "code": "REASON_REQUIRED"}]}}`},
			{Name: "staff cancel it", As: ordOwner, Query: cancel, Variables: in("id", orderID, "reason", "out of season"),
				WantData: `{"orderCancel": {"order": {"status": "CANCELLED"}, "userErrors": []}}`, WantEvents: []string{"kassa.order.cancelled", "kassa.inventory.moved"}},
			{Name: "a second time, in the shop's words", As: ordOwner, Query: cancel, Variables: in("id", orderID, "reason", "again"),
				WantData: `{"orderCancel": {"order": null, "userErrors": [{"field": ["input"], "message": "order #1001 is CANCELLED", "code": "ORDER_NOT_OPEN"}]}}`},
		})
	})
}

// TestDemoShopFitsTheCatalog: the demo seed gives the shop settings,
// zones and tax rates that fit its CNY-first, tax-included catalog, and
// running it again changes nothing (issue 9).
func TestDemoShopFitsTheCatalog(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		ctx := system()
		if _, err := seed.Demo(ctx, ta.DB, ta.Catalog, seed.Options{}); err != nil {
			t.Fatal(err)
		}
		svc := seed.ShopServices{Shop: ta.Settings.Shop, Shipping: ta.Settings.Shipping, Tax: ta.Settings.Tax}
		first, err := seed.DemoShop(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		if !first.SettingsSaved || first.Zones != 4 || first.Methods != 6 || first.TaxRates != 9 {
			t.Fatalf("first run: %+v", first)
		}
		if again, err := seed.DemoShop(ctx, svc); err != nil || again != (seed.ShopResult{}) {
			t.Fatalf("second run: %+v, %v; want nothing done", again, err)
		}
		guest := authz.AnonymousSubject()
		r := ta.Do(t, guest, `{ shopSettings { currencies defaultCurrency pricesIncludeTax }
			product(handle: "tieguanyin-oolong") { variants { price { currencyCode } } } }`, nil)
		if got := testkit.EncodeJSON(t, testkit.Dig(r.Data, "shopSettings")); got != `{"currencies":["CNY","USD"],"defaultCurrency":"CNY","pricesIncludeTax":true}` {
			t.Errorf("settings %s", got)
		}
		if cur := testkit.Dig(r.Data, "product", "variants", 0, "price", "currencyCode"); cur != "CNY" {
			t.Errorf("demo prices shown in %v", cur)
		}
		variant := ta.Do(t, guest, `{ product(handle: "tieguanyin-oolong") { variants { id } } }`, nil)
		vid := testkit.Dig(variant.Data, "product", "variants", 0, "id")
		for _, tc := range []struct {
			currency, country, province string
			methods                     int
			taxed                       bool
		}{
			{"CNY", "CN", "GD", 2, true},
			{"USD", "US", "CA", 2, false},
			{"USD", "CA", "QC", 2, true},
			{"CNY", "HK", "", 1, false},
			{"USD", "DE", "", 1, true},
		} {
			c := ta.Do(t, guest, `mutation($input: CartCreateInput!) { cartCreate(input: $input) { token userErrors { code } } }`,
				in("currency", tc.currency, "lines", []any{vars("variantId", vid, "quantity", 1)}))
			token := testkit.Dig(c.Data, "cartCreate", "token")
			addr := vars("firstName", "A", "lastName", "B", "line1", "1 Road", "city", "City", "province", tc.province, "countryCode", tc.country)
			ta.Do(t, guest, cartShipToOp, vars("input", vars("token", token, "address", addr)))
			q := ta.Do(t, guest, `query($token: String) { cart(token: $token) { taxIncluded tax { amount } shippingMethods { price { currencyCode } } } }`, vars("token", token))
			ms, _ := testkit.Dig(q.Data, "cart", "shippingMethods").([]any)
			taxed := testkit.Dig(q.Data, "cart", "tax", "amount") != "0.00"
			if len(ms) != tc.methods || taxed != tc.taxed || testkit.Dig(q.Data, "cart", "taxIncluded") != true {
				t.Errorf("%s cart to %s/%s: %s; want %d methods, taxed %v, tax included", tc.currency, tc.country, tc.province,
					testkit.EncodeJSON(t, q.Data), tc.methods, tc.taxed)
			}
		}
	})
}
