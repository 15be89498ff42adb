package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/tax"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/core/testkit/invariant"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/httpauth"
)

// cartShop is a whole Kassa instance with a shop to buy from: CNY and USD,
// at most 10 units a line, prices without tax, 13 % VAT in China.
type cartShop struct {
	ta *testkit.TestApp
	// tea100: CNY 68.00, USD 9.50; 40 in stock; 120 g.
	// tea250: CNY 148.00 only; 5 in stock; 300 g.
	// mug: a DRAFT. kettle: an archived product.
	tea100, tea250, mug, kettle string
	// standard (CN): 10.00 CNY, free from 200.00; 5.00 USD. express (CN):
	// 25.00 CNY. overseas (US): 20.00 USD, 140.00 CNY.
	standard, express, overseas string
}

func newCartShop(t testing.TB, ta *testkit.TestApp) *cartShop {
	t.Helper()
	ctx := system()
	s := &cartShop{ta: ta}
	limit := int64(10)
	if _, err := ta.Settings.Shop.Update(ctx, shop.UpdateSettingsInput{Currencies: &[]string{"CNY", "USD"}, LineQuantityLimit: &limit}); err != nil {
		t.Fatal(err)
	}
	tea, err := ta.Catalog.CreateProduct(ctx, catalog.CreateProductInput{
		Title: "Oolong Tea", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "Weight", Values: []string{"100 g", "250 g"}}},
		Variants: []catalog.VariantInput{
			{SKU: "TEA-100", SelectedOptions: []catalog.SelectedOption{{Name: "Weight", Value: "100 g"}}, WeightGrams: 120, InventoryQuantity: 40,
				Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "68.00"}, {Currency: "USD", Amount: "9.50"}}},
			{SKU: "TEA-250", SelectedOptions: []catalog.SelectedOption{{Name: "Weight", Value: "250 g"}}, WeightGrams: 300, InventoryQuantity: 5,
				Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "148.00"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mug, err := ta.Catalog.CreateProduct(ctx, catalog.CreateProductInput{Title: "Enamel Mug",
		Variants: []catalog.VariantInput{{SKU: "MUG", Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "45.00"}}, InventoryQuantity: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	kettle, err := ta.Catalog.CreateProduct(ctx, catalog.CreateProductInput{Title: "Old Kettle", Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "KETTLE", Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "300.00"}}, InventoryQuantity: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.Catalog.ArchiveProduct(ctx, kettle.ID); err != nil {
		t.Fatal(err)
	}
	vm, err := ta.Catalog.VariantsByProductIDs(ctx, []string{tea.ID, mug.ID, kettle.ID})
	if err != nil {
		t.Fatal(err)
	}
	s.tea100, s.tea250, s.mug, s.kettle = vm[tea.ID][0].ID, vm[tea.ID][1].ID, vm[mug.ID][0].ID, vm[kettle.ID][0].ID

	cn, err := ta.Settings.Shipping.CreateZone(ctx, shipping.ZoneInput{Name: "China", Countries: []string{"CN"}})
	if err != nil {
		t.Fatal(err)
	}
	us, err := ta.Settings.Shipping.CreateZone(ctx, shipping.ZoneInput{Name: "United States", Countries: []string{"US"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		dst *string
		in  shipping.MethodInput
	}{
		{&s.standard, shipping.MethodInput{ZoneID: cn.ID, Name: "Standard", Kind: shipping.KindFreeOver, Prices: []shipping.MethodPriceInput{
			{Currency: "CNY", Amount: "10.00", FreeOver: "200.00"}, {Currency: "USD", Amount: "5.00", FreeOver: "50.00"}}}},
		{&s.express, shipping.MethodInput{ZoneID: cn.ID, Name: "Express", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{
			{Currency: "CNY", Amount: "25.00"}}}},
		{&s.overseas, shipping.MethodInput{ZoneID: us.ID, Name: "Overseas", Kind: shipping.KindFlat, Prices: []shipping.MethodPriceInput{
			{Currency: "USD", Amount: "20.00"}, {Currency: "CNY", Amount: "140.00"}}}},
	} {
		got, err := ta.Settings.Shipping.CreateMethod(ctx, m.in)
		if err != nil {
			t.Fatal(err)
		}
		*m.dst = got.ID
	}
	if _, err := ta.Settings.Tax.CreateRate(ctx, tax.RateInput{Country: "CN", Name: "VAT", BasisPoints: 1300}); err != nil {
		t.Fatal(err)
	}
	return s
}

// buyer registers a buyer and returns the subject of a session of theirs,
// as the HTTP middleware would resolve it, and the session token.
func (s *cartShop) buyer(t testing.TB, email string) (authz.Subject, string) {
	t.Helper()
	acc := s.ta.Accounts.Service
	password := "passphrase of " + email
	if err := acc.Register(system(), account.Registration{Email: email, Password: password}); err != nil {
		t.Fatal(err)
	}
	_, sess, err := acc.Login(system(), email, password)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := acc.Authenticate(system(), sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	return sub, sess.Token
}

// do runs an operation in-process as sub and decodes the answer.
func (s *cartShop) do(t testing.TB, sub authz.Subject, query string, vars map[string]any) gqlResult {
	t.Helper()
	b, err := json.Marshal(s.ta.Exec(sub, query, vars))
	if err != nil {
		t.Fatal(err)
	}
	var out gqlResult
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// readyCart creates sub's cart with quantity units of variantID and
// fills it for checkout (ready); it returns the cart's id and the
// reference (its token) to complete it with.
func (s *cartShop) readyCart(t testing.TB, sub authz.Subject, variantID string, quantity int) (string, map[string]any) {
	t.Helper()
	c := must(t, s.do(t, sub, cartCreateOp, in("lines", []any{vars("variantId", variantID, "quantity", quantity)})))
	ref := vars("token", c.str("cartCreate", "token"))
	s.ready(t, sub, ref)
	return c.str("cartCreate", "cart", "id"), ref
}

// ready fills a cart for checkout (lines already in it): email, a
// shipping address in China and the express method.
func (s *cartShop) ready(t testing.TB, sub authz.Subject, ref map[string]any) {
	t.Helper()
	must(t, s.do(t, sub, cartEmailOp, vars("input", with(ref, "email", "buyer@example.com"))))
	must(t, s.do(t, sub, cartShipToOp, vars("input", with(ref, "address", cnAddress))))
	must(t, s.do(t, sub, cartMethodOp, vars("input", with(ref, "methodId", s.express))))
}

// stock returns a variant's stock on hand and reserved.
func (s *cartShop) stock(t *testing.T, variantID string) catalog.InventoryLevel {
	t.Helper()
	levels, err := s.ta.Catalog.InventoryLevels(system(), []string{variantID})
	if err != nil {
		t.Fatal(err)
	}
	return levels[variantID]
}

// orders counts the orders placed from a cart.
func (s *cartShop) orders(t *testing.T, cartID string) int {
	t.Helper()
	n, err := s.ta.DB.NewSelect().Table("orders").Where("cart_id = ?", cartID).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// with returns a copy of m with the keys and values of kv set.
func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range vars(kv...) {
		out[k] = v
	}
	return out
}

var cnAddress = map[string]any{"firstName": "Li", "lastName": "Lei", "line1": "1 Keyuan Road", "city": "Shenzhen",
	"province": "GD", "countryCode": "cn"}

// cartTotals is what the scenarios read of a cart: every amount.
const cartTotals = `lines { sku quantity unitPrice { amount } subtotal { amount } tax { amount } total { amount } problem }
	subtotal { amount currencyCode } shipping { amount } tax { amount } taxIncluded discounts { code } discountTotal { amount } total { amount }`

const (
	cartCreateOp   = `mutation($input: CartCreateInput!) { cartCreate(input: $input) { token cart { id ` + cartTotals + ` } userErrors { field code } } }`
	cartQueryOp    = `query($token: String, $id: ID) { cart(token: $token, id: $id) { id email completedAt ` + cartTotals + ` } }`
	cartAddOp      = `mutation($input: CartLinesAddInput!) { cartLinesAdd(input: $input) { cart { ` + cartTotals + ` } userErrors { field code } } }`
	cartUpdateOp   = `mutation($input: CartLinesUpdateInput!) { cartLinesUpdate(input: $input) { cart { ` + cartTotals + ` } userErrors { field code } } }`
	cartRemoveOp   = `mutation($input: CartLinesRemoveInput!) { cartLinesRemove(input: $input) { cart { ` + cartTotals + ` } userErrors { field code } } }`
	cartEmailOp    = `mutation($input: CartEmailUpdateInput!) { cartEmailUpdate(input: $input) { cart { email ` + cartTotals + ` } userErrors { field code } } }`
	cartShipToOp   = `mutation($input: CartAddressUpdateInput!) { cartShippingAddressUpdate(input: $input) { cart { shippingAddress { city countryCode } ` + cartTotals + ` } userErrors { field code } } }`
	cartBillToOp   = `mutation($input: CartAddressUpdateInput!) { cartBillingAddressUpdate(input: $input) { cart { billingAddress { city countryCode } } userErrors { field code } } }`
	cartMethodOp   = `mutation($input: CartShippingMethodSelectInput!) { cartShippingMethodSelect(input: $input) { cart { shippingMethod { name price { amount } } ` + cartTotals + ` } userErrors { field code } } }`
	cartMethodsOp  = `query($token: String) { cart(token: $token) { shippingMethodId shippingMethods { name price { amount currencyCode } } } }`
	checkoutOp     = `mutation($input: CheckoutCompleteInput!) { checkoutComplete(input: $input) { order { id number paymentDeadline total { amount currencyCode } } accessToken userErrors { field code } } }`
	cartLineIDsOp  = `query($token: String, $id: ID) { cart(token: $token, id: $id) { lines { id sku } } }`
	customerCartOp = `{ cart { id lines { sku quantity } email } }`
)

// wantLine is a line as cartTotals reads it.
type wantLine struct {
	sku                   string
	qty                   int
	unit, sub, tax, total string
	problem               string
}

// wantTotals is a cart as cartTotals reads it (CNY, tax not included).
type wantTotals struct {
	lines                          []wantLine
	subtotal, shipping, tax, total string
}

func (w wantTotals) fields() map[string]any {
	amount := func(a string) map[string]any { return map[string]any{"amount": a} }
	lines := []any{}
	for _, l := range w.lines {
		var problem any
		if l.problem != "" {
			problem = l.problem
		}
		lines = append(lines, map[string]any{"sku": l.sku, "quantity": float64(l.qty), "unitPrice": amount(l.unit), "subtotal": amount(l.sub),
			"tax": amount(l.tax), "total": amount(l.total), "problem": problem})
	}
	return map[string]any{"lines": lines, "subtotal": map[string]any{"amount": w.subtotal, "currencyCode": "CNY"},
		"shipping": amount(w.shipping), "tax": amount(w.tax), "taxIncluded": false, "discounts": []any{},
		"discountTotal": amount("0.00"), "total": amount(w.total)}
}

// payload is the WantData of a cart mutation answering w and extra
// fields of the cart.
func (w wantTotals) payload(t *testing.T, op string, extra ...any) string {
	t.Helper()
	c := w.fields()
	for k, v := range vars(extra...) {
		c[k] = v
	}
	return testkit.EncodeJSON(t, map[string]any{op: map[string]any{"cart": c, "userErrors": []any{}}})
}

// runCart runs scenarios with testkit.Run. A scenario whose WantData
// holds userErrors expects their codes too, and no event unless it says
// otherwise: a refused operation changes nothing.
func runCart(t *testing.T, ta *testkit.TestApp, scenarios []testkit.Scenario) {
	t.Helper()
	for i, sc := range scenarios {
		codes := testkit.UserErrorCodes(json.RawMessage(sc.WantData))
		if sc.WantData == "" || len(codes) == 0 {
			continue
		}
		if sc.WantUserErrors == nil {
			scenarios[i].WantUserErrors = codes
		}
		if sc.WantEvents == nil {
			scenarios[i].WantEvents = []string{}
		}
	}
	testkit.Run(t, ta, scenarios)
}

// TestCartGuestCheckout is a guest's whole checkout through GraphQL, with
// the totals at every step: create with a line, add, email, address (tax
// appears), methods, method (shipping and its tax appear), change,
// remove, complete; then the cart is completed and the stock reserved.
func TestCartGuestCheckout(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		var token, cartID string
		created := wantTotals{lines: []wantLine{{"TEA-100", 2, "68.00", "136.00", "0.00", "136.00", ""}},
			subtotal: "136.00", shipping: "0.00", tax: "0.00", total: "136.00"}
		runCart(t, ta, []testkit.Scenario{{
			Name:       "create with a line",
			Query:      cartCreateOp,
			Variables:  in("currency", "CNY", "lines", []any{vars("variantId", s.tea100, "quantity", 2)}),
			WantEvents: []string{},
			Check: func(t *testing.T, data json.RawMessage) {
				var got struct {
					CartCreate struct {
						Token *string
						Cart  map[string]any
					}
				}
				if err := json.Unmarshal(data, &got); err != nil {
					t.Fatal(err)
				}
				if got.CartCreate.Token == nil || len(*got.CartCreate.Token) < 40 {
					t.Fatalf("a guest's cart comes with a token: %s", data)
				}
				token, cartID = *got.CartCreate.Token, got.CartCreate.Cart["id"].(string)
				delete(got.CartCreate.Cart, "id")
				if diff := cmp.Diff(created.fields(), got.CartCreate.Cart); diff != "" {
					t.Fatalf("totals (-want +got):\n%s", diff)
				}
			},
		}})
		ref := vars("token", token)
		added := wantTotals{lines: []wantLine{
			{"TEA-100", 2, "68.00", "136.00", "0.00", "136.00", ""},
			{"TEA-250", 1, "148.00", "148.00", "0.00", "148.00", ""},
		}, subtotal: "284.00", shipping: "0.00", tax: "0.00", total: "284.00"}
		// 13 % of each line, rounded on its own: 17.68 + 19.24.
		taxed := wantTotals{lines: []wantLine{
			{"TEA-100", 2, "68.00", "136.00", "17.68", "153.68", ""},
			{"TEA-250", 1, "148.00", "148.00", "19.24", "167.24", ""},
		}, subtotal: "284.00", shipping: "0.00", tax: "36.92", total: "320.92"}
		// Express 25.00 and its 3.25 of tax.
		shipped := wantTotals{lines: taxed.lines, subtotal: "284.00", shipping: "25.00", tax: "40.17", total: "349.17"}
		runCart(t, ta, []testkit.Scenario{
			{Name: "the token reads the cart", Query: cartQueryOp, Variables: ref,
				WantData: testkit.EncodeJSON(t, map[string]any{"cart": with(created.fields(), "id", cartID, "email", nil, "completedAt", nil)})},
			{Name: "add a line", Query: cartAddOp, Variables: vars("input", with(ref, "lines", []any{vars("variantId", s.tea250, "quantity", 1)})),
				WantData: added.payload(t, "cartLinesAdd"), WantEvents: []string{}},
			{Name: "email", Query: cartEmailOp, Variables: vars("input", with(ref, "email", "  Guest@Example.COM ")),
				WantData: added.payload(t, "cartEmailUpdate", "email", "guest@example.com"), WantEvents: []string{}},
			{Name: "no methods before an address", Query: cartMethodsOp, Variables: ref,
				WantData: `{"cart": {"shippingMethodId": null, "shippingMethods": []}}`},
			{Name: "shipping address brings the tax", Query: cartShipToOp, Variables: vars("input", with(ref, "address", cnAddress)),
				WantData: taxed.payload(t, "cartShippingAddressUpdate", "shippingAddress", vars("city", "Shenzhen", "countryCode", "CN"))},
			{Name: "methods for the address and cart, cheapest first", Query: cartMethodsOp, Variables: ref,
				WantData: `{"cart": {"shippingMethodId": null, "shippingMethods": [
					{"name": "Standard", "price": {"amount": "0.00", "currencyCode": "CNY"}},
					{"name": "Express", "price": {"amount": "25.00", "currencyCode": "CNY"}}]}}`},
			{Name: "choose express", Query: cartMethodOp, Variables: vars("input", with(ref, "methodId", s.express)),
				WantData: shipped.payload(t, "cartShippingMethodSelect", "shippingMethod", vars("name", "Express", "price", vars("amount", "25.00")))},
			{Name: "billing address", Query: cartBillToOp, Variables: vars("input", with(ref, "address", vars("lastName", "Li", "line1", "2 Road", "city", "Beijing", "countryCode", "CN"))),
				WantData: `{"cartBillingAddressUpdate": {"cart": {"billingAddress": {"city": "Beijing", "countryCode": "CN"}}, "userErrors": []}}`},
		})

		lines := s.do(t, authz.AnonymousSubject(), cartLineIDsOp, ref)
		tea100Line, tea250Line := lines.str("cart", "lines", "0", "id"), lines.str("cart", "lines", "1", "id")
		// TEA-100 down to 1: 68.00 taxed 8.84; with 19.24 and 3.25.
		changed := wantTotals{lines: []wantLine{
			{"TEA-100", 1, "68.00", "68.00", "8.84", "76.84", ""},
			{"TEA-250", 1, "148.00", "148.00", "19.24", "167.24", ""},
		}, subtotal: "216.00", shipping: "25.00", tax: "31.33", total: "272.33"}
		removed := wantTotals{lines: []wantLine{{"TEA-100", 1, "68.00", "68.00", "8.84", "76.84", ""}},
			subtotal: "68.00", shipping: "25.00", tax: "12.09", total: "105.09"}
		var orderID string
		runCart(t, ta, []testkit.Scenario{
			{Name: "change a quantity", Query: cartUpdateOp, Variables: vars("input", with(ref, "lines", []any{vars("lineId", tea100Line, "quantity", 1)})),
				WantData: changed.payload(t, "cartLinesUpdate")},
			{Name: "remove a line", Query: cartRemoveOp, Variables: vars("input", with(ref, "lineIds", []any{tea250Line})),
				WantData: removed.payload(t, "cartLinesRemove")},
			{Name: "checkout", Query: checkoutOp, Variables: vars("input", with(ref, "idempotencyKey", "guest-checkout-1")),
				WantEvents: []string{"kassa.inventory.moved", "kassa.order.placed"},
				Check: func(t *testing.T, data json.RawMessage) {
					var got struct {
						CheckoutComplete struct {
							Order struct {
								ID, Number      string
								PaymentDeadline time.Time
								Total           map[string]string
							}
							AccessToken *string
							UserErrors  []any
						}
					}
					if err := json.Unmarshal(data, &got); err != nil {
						t.Fatal(err)
					}
					o := got.CheckoutComplete.Order
					if !strings.HasPrefix(o.ID, "ord_") || !strings.HasPrefix(o.Number, "#") || o.Total["amount"] != "105.09" || o.Total["currencyCode"] != "CNY" {
						t.Fatalf("order %+v", o)
					}
					if left := time.Until(o.PaymentDeadline); left < 25*time.Minute || left > 31*time.Minute {
						t.Fatalf("payment deadline in %v, want the shop's 30 minutes", left)
					}
					if got.CheckoutComplete.AccessToken == nil || *got.CheckoutComplete.AccessToken == "" {
						t.Fatalf("a guest gets the order's access token: %s", data)
					}
					orderID = o.ID
				}},
			{Name: "the completed cart changes no more", Query: cartAddOp, Variables: vars("input", with(ref, "lines", []any{vars("variantId", s.tea100, "quantity", 1)})),
				WantUserErrors: []string{"CART_COMPLETED"}, WantEvents: []string{},
				WantData: `{"cartLinesAdd": {"cart": null, "userErrors": [{"field": ["input"], "code": "CART_COMPLETED"}]}}`},
			{Name: "nor checks out again", Query: checkoutOp, Variables: vars("input", with(ref, "idempotencyKey", "guest-checkout-2")),
				WantUserErrors: []string{"CART_COMPLETED"}, WantEvents: []string{}},
			{Name: "the completed cart still reads", Query: cartQueryOp, Variables: ref,
				Check: func(t *testing.T, data json.RawMessage) {
					if !strings.Contains(string(data), `"completedAt":"`) {
						t.Fatalf("completedAt not set: %s", data)
					}
				}},
		})
		if got := s.stock(t, s.tea100); got.OnHand != 40 || got.Reserved != 1 {
			t.Fatalf("TEA-100 stock %+v after the order, want 40 on hand, 1 reserved", got)
		}
		if got := s.stock(t, s.tea250); got.Reserved != 0 {
			t.Fatalf("the removed line reserved %d", got.Reserved)
		}
		if n := s.orders(t, cartID); n != 1 || orderID == "" {
			t.Fatalf("%d orders from the cart", n)
		}
	})
}

// TestCartEmailWithAddress: the contact and address form is one
// mutation. cartShippingAddressUpdate with an email sets both and answers
// the shipping methods for the address; an invalid email with a valid
// address, or the reverse, changes nothing and says which field; without
// an email the cart's stays.
// TestShippingCountries: anyone reads the countries the shop ships to in
// a currency (the default when left out), from the zones with an active
// method priced in it, and a change of zones shows at once.
func TestShippingCountries(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		newCartShop(t, ta)
		const op = `query($c: String) { shippingCountries(currency: $c) }`
		runCart(t, ta, []testkit.Scenario{
			{Name: "the default currency", Query: op, WantData: `{"shippingCountries": ["CN", "US"]}`},
			{Name: "another", Query: op, Variables: vars("c", "USD"), WantData: `{"shippingCountries": ["CN", "US"]}`},
			{Name: "a currency nothing is priced in", Query: op, Variables: vars("c", "JPY"), WantData: `{"shippingCountries": []}`},
			{Name: "no currency", Query: op, Variables: vars("c", "XX"), WantErrorCode: "INVALID_CURRENCY"},
		})
		// A huge value is refused without being quoted back; a GET reads
		// the list as a POST does.
		fetch := func(resp *http.Response, err error) string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		body := testkit.EncodeJSON(t, map[string]any{"query": op, "variables": vars("c", strings.Repeat("Y", 100_000))})
		if res := fetch(http.Post(ta.URL+"/graphql", "application/json", strings.NewReader(body))); !strings.Contains(res, "INVALID_CURRENCY") || len(res) > 2000 {
			t.Fatalf("a huge currency: %d bytes: %.300s", len(res), res)
		}
		get := ta.URL + "/graphql?" + url.Values{"query": {op}, "variables": {`{"c":"USD"}`}}.Encode()
		if res := fetch(http.Get(get)); !strings.Contains(res, `{"data":{"shippingCountries":["CN","US"]}}`) {
			t.Fatalf("through GET: %s", res)
		}
		ctx := system()
		for _, z := range []struct {
			name, country, currency string
			active                  bool
		}{{"Canada", "CA", "USD", true}, {"Brazil", "BR", "CNY", false}} {
			zone, err := ta.Settings.Shipping.CreateZone(ctx, shipping.ZoneInput{Name: z.name, Countries: []string{z.country}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ta.Settings.Shipping.CreateMethod(ctx, shipping.MethodInput{ZoneID: zone.ID, Name: "Post", Kind: shipping.KindFlat,
				Prices: []shipping.MethodPriceInput{{Currency: z.currency, Amount: "9.00"}}, Active: &z.active}); err != nil {
				t.Fatal(err)
			}
		}
		runCart(t, ta, []testkit.Scenario{
			{Name: "a zone priced in USD only", Query: op, Variables: vars("c", "USD"), WantData: `{"shippingCountries": ["CA", "CN", "US"]}`},
			{Name: "an inactive method ships nowhere", Query: op, WantData: `{"shippingCountries": ["CN", "US"]}`},
		})
	})
}

func TestCartEmailWithAddress(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		guest := authz.AnonymousSubject()
		ref := vars("token", must(t, s.do(t, guest, cartCreateOp, in("lines", []any{vars("variantId", s.tea100, "quantity", 1)}))).str("cartCreate", "token"))
		contactOp := `mutation($input: CartAddressUpdateInput!) { cartShippingAddressUpdate(input: $input) {
			cart { email shippingAddress { city countryCode } shippingMethods { name price { amount } } tax { amount } } userErrors { field code } } }`
		readOp := `query($token: String) { cart(token: $token) { email shippingAddress { city countryCode } tax { amount } } }`
		unchanged := `{"cart": {"email": null, "shippingAddress": null, "tax": {"amount": "0.00"}}}`
		us := vars("lastName", "Li", "line1", "1 Main St", "city", "Boston", "countryCode", "US")
		runCart(t, ta, []testkit.Scenario{
			{Name: "an invalid email with a valid address", Query: contactOp, Variables: vars("input", with(ref, "address", cnAddress, "email", "li@example")),
				WantData: `{"cartShippingAddressUpdate": {"cart": null, "userErrors": [{"field": ["input", "email"], "code": "INVALID_EMAIL"}]}}`},
			{Name: "sets neither", Query: readOp, Variables: ref, WantData: unchanged},
			{Name: "a valid email with an invalid address", Query: contactOp,
				Variables: vars("input", with(ref, "address", with(cnAddress, "city", " "), "email", "li@example.com")),
				WantData:  `{"cartShippingAddressUpdate": {"cart": null, "userErrors": [{"field": ["input", "address", "city"], "code": "REQUIRED"}]}}`},
			{Name: "sets neither either", Query: readOp, Variables: ref, WantData: unchanged},
			{Name: "both in one mutation, with the methods for the address", Query: contactOp,
				Variables: vars("input", with(ref, "address", cnAddress, "email", " Li.Lei@Example.COM ")), WantEvents: []string{},
				WantData: `{"cartShippingAddressUpdate": {"cart": {"email": "li.lei@example.com", "shippingAddress": {"city": "Shenzhen", "countryCode": "CN"},
					"shippingMethods": [{"name": "Standard", "price": {"amount": "10.00"}}, {"name": "Express", "price": {"amount": "25.00"}}],
					"tax": {"amount": "8.84"}}, "userErrors": []}}`},
			{Name: "both are kept", Query: readOp, Variables: ref,
				WantData: `{"cart": {"email": "li.lei@example.com", "shippingAddress": {"city": "Shenzhen", "countryCode": "CN"}, "tax": {"amount": "8.84"}}}`},
			{Name: "an address alone keeps the email", Query: contactOp, Variables: vars("input", with(ref, "address", us)),
				WantData: `{"cartShippingAddressUpdate": {"cart": {"email": "li.lei@example.com", "shippingAddress": {"city": "Boston", "countryCode": "US"},
					"shippingMethods": [{"name": "Overseas", "price": {"amount": "140.00"}}], "tax": {"amount": "0.00"}}, "userErrors": []}}`},
		})
	})
}

// TestCartSignedInCheckout: a buyer's cart needs no token and follows
// them; they have one open cart at a time; checkout gives no access token
// (the buyer reaches the order by signing in); afterwards a new cart can
// start.
func TestCartSignedInCheckout(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		buyer, _ := s.buyer(t, "ada@example.com")
		var cartID string
		one := wantTotals{lines: []wantLine{{"TEA-100", 3, "68.00", "204.00", "0.00", "204.00", ""}},
			subtotal: "204.00", shipping: "0.00", tax: "0.00", total: "204.00"}
		runCart(t, ta, []testkit.Scenario{
			{Name: "no cart yet", As: buyer, Query: customerCartOp, WantData: `{"cart": null}`},
			{Name: "create", As: buyer, Query: cartCreateOp, Variables: in("lines", []any{vars("variantId", s.tea100, "quantity", 3)}),
				Check: func(t *testing.T, data json.RawMessage) {
					var got struct{ CartCreate map[string]any }
					if err := json.Unmarshal(data, &got); err != nil {
						t.Fatal(err)
					}
					if got.CartCreate["token"] != nil {
						t.Fatalf("a buyer's cart needs no token: %s", data)
					}
					c := got.CartCreate["cart"].(map[string]any)
					cartID = c["id"].(string)
					delete(c, "id")
					if diff := cmp.Diff(one.fields(), c); diff != "" {
						t.Fatalf("totals (-want +got):\n%s", diff)
					}
				}},
			{Name: "one open cart at a time", As: buyer, Query: cartCreateOp, Variables: in("currency", "USD"),
				WantUserErrors: []string{"CART_EXISTS"}, WantEvents: []string{}},
			{Name: "the open cart follows the buyer", As: buyer, Query: customerCartOp,
				Check: func(t *testing.T, data json.RawMessage) {
					if !strings.Contains(string(data), cartID) || !strings.Contains(string(data), `"quantity":3`) {
						t.Fatalf("cart %s", data)
					}
				}},
		})
		s.ready(t, buyer, map[string]any{})
		runCart(t, ta, []testkit.Scenario{
			{Name: "by id too", As: buyer, Query: cartQueryOp, Variables: vars("id", cartID),
				Check: func(t *testing.T, data json.RawMessage) {
					// 204.00 + 25.00, 13 % of each: 26.52 + 3.25.
					if !strings.Contains(string(data), `"total":{"amount":"258.77"}`) {
						t.Fatalf("cart %s", data)
					}
				}},
			{Name: "checkout", As: buyer, Query: checkoutOp, Variables: in("idempotencyKey", "ada-1"),
				WantEvents: []string{"kassa.inventory.moved", "kassa.order.placed"},
				Check: func(t *testing.T, data json.RawMessage) {
					var got struct{ CheckoutComplete map[string]any }
					if err := json.Unmarshal(data, &got); err != nil {
						t.Fatal(err)
					}
					if got.CheckoutComplete["accessToken"] != nil || got.CheckoutComplete["order"] == nil {
						t.Fatalf("a buyer's checkout: %s", data)
					}
				}},
			{Name: "no open cart after checkout", As: buyer, Query: customerCartOp, WantData: `{"cart": null}`},
			{Name: "the completed cart by id", As: buyer, Query: cartQueryOp, Variables: vars("id", cartID),
				Check: func(t *testing.T, data json.RawMessage) {
					if !strings.Contains(string(data), `"completedAt":"`) {
						t.Fatalf("cart %s", data)
					}
				}},
			{Name: "a new cart", As: buyer, Query: cartCreateOp, Variables: in("currency", "USD", "lines", []any{vars("variantId", s.tea100, "quantity", 1)}),
				Check: func(t *testing.T, data json.RawMessage) {
					if !strings.Contains(string(data), `"subtotal":{"amount":"9.50","currencyCode":"USD"}`) {
						t.Fatalf("cart %s", data)
					}
				}},
		})
		if n := s.orders(t, cartID); n != 1 {
			t.Fatalf("%d orders", n)
		}
	})
}

// TestCartTypedErrors: every refusal of core/cart reaches the client as a
// userError with its code and its path under input, and changes nothing.
func TestCartTypedErrors(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		guest := authz.AnonymousSubject()
		created := must(t, s.do(t, guest, cartCreateOp, in("lines", []any{vars("variantId", s.tea250, "quantity", 1)})))
		ref := vars("token", created.str("cartCreate", "token"))
		usd := vars("token", must(t, s.do(t, guest, cartCreateOp, in("currency", "USD"))).str("cartCreate", "token"))
		before := s.do(t, guest, cartQueryOp, ref)

		fieldErr := func(op string, fields ...string) string {
			ues := []any{}
			for i := 0; i+1 < len(fields); i += 2 {
				path := []any{}
				for _, p := range strings.Split(fields[i], ".") {
					path = append(path, p)
				}
				ues = append(ues, map[string]any{"field": path, "code": fields[i+1]})
			}
			return testkit.EncodeJSON(t, map[string]any{op: map[string]any{"cart": nil, "userErrors": ues}})
		}
		line := func(variant string, qty int) map[string]any { return vars("variantId", variant, "quantity", qty) }
		add := func(ref map[string]any, lines ...any) map[string]any { return vars("input", with(ref, "lines", lines)) }
		many := make([]any, 101)
		for i := range many {
			many[i] = line(fmt.Sprintf("var_%026d", i), 1)
		}
		runCart(t, ta, []testkit.Scenario{
			{Name: "unknown variant", Query: cartAddOp, Variables: add(ref, line("var_01J00000000000000000000000", 1)),
				WantUserErrors: []string{"VARIANT_NOT_FOUND"}, WantEvents: []string{},
				WantData: fieldErr("cartLinesAdd", "input.lines.0.variantId", "VARIANT_NOT_FOUND")},
			{Name: "a draft is unknown to buyers", Query: cartAddOp, Variables: add(ref, line(s.mug, 1)),
				WantData: fieldErr("cartLinesAdd", "input.lines.0.variantId", "VARIANT_NOT_FOUND")},
			{Name: "archived variant", Query: cartAddOp, Variables: add(ref, line(s.kettle, 1)),
				WantData: fieldErr("cartLinesAdd", "input.lines.0.variantId", "VARIANT_ARCHIVED")},
			{Name: "no price in the cart's currency", Query: cartAddOp, Variables: add(usd, line(s.tea250, 1)),
				WantData: fieldErr("cartLinesAdd", "input.lines.0.variantId", "VARIANT_UNAVAILABLE")},
			{Name: "more than available", Query: cartAddOp, Variables: add(ref, line(s.tea250, 5)),
				WantData: fieldErr("cartLinesAdd", "input.lines.0.quantity", "INSUFFICIENT_STOCK")},
			{Name: "over the line quantity limit", Query: cartAddOp, Variables: add(ref, line(s.tea100, 11)),
				WantData: fieldErr("cartLinesAdd", "input.lines.0.quantity", "QUANTITY_OVER_LIMIT")},
			{Name: "over the limit in two lines of one variant", Query: cartAddOp, Variables: add(ref, line(s.tea100, 6), line(s.tea100, 5)),
				WantData: fieldErr("cartLinesAdd", "input.lines.1.quantity", "QUANTITY_OVER_LIMIT")},
			{Name: "zero and negative quantities", Query: cartAddOp, Variables: add(ref, line(s.tea100, 0), line(s.tea100, -3)),
				WantData: fieldErr("cartLinesAdd", "input.lines.0.quantity", "INVALID_QUANTITY", "input.lines.1.quantity", "INVALID_QUANTITY")},
			{Name: "every problem at once", Query: cartAddOp, Variables: add(ref, line(s.kettle, 1), line(s.tea100, 1), line(s.tea250, 9)),
				WantData: fieldErr("cartLinesAdd", "input.lines.0.variantId", "VARIANT_ARCHIVED", "input.lines.2.quantity", "INSUFFICIENT_STOCK")},
			{Name: "more than 100 lines", Query: cartAddOp, Variables: add(ref, many...),
				WantData: fieldErr("cartLinesAdd", "input.lines", "TOO_MANY_LINES")},
			{Name: "no lines", Query: cartAddOp, Variables: add(ref),
				WantData: fieldErr("cartLinesAdd", "input.lines", "REQUIRED")},
			{Name: "a line of no cart", Query: cartUpdateOp, Variables: vars("input", with(ref, "lines", []any{vars("lineId", "cln_01J00000000000000000000000", "quantity", 1)})),
				WantData: fieldErr("cartLinesUpdate", "input.lines.0.lineId", "LINE_NOT_FOUND")},
			{Name: "remove a line of no cart", Query: cartRemoveOp, Variables: vars("input", with(ref, "lineIds", []any{"cln_01J00000000000000000000000"})),
				WantData: fieldErr("cartLinesRemove", "input.lineIds.0", "LINE_NOT_FOUND")},
			{Name: "bad email", Query: cartEmailOp, Variables: vars("input", with(ref, "email", "not an address")),
				WantData: fieldErr("cartEmailUpdate", "input.email", "INVALID_EMAIL")},
			{Name: "a bad email with a good address", Query: cartShipToOp, Variables: vars("input", with(ref, "address", cnAddress, "email", "not an address")),
				WantData: fieldErr("cartShippingAddressUpdate", "input.email", "INVALID_EMAIL")},
			{Name: "a bad email and a bad address", Query: cartShipToOp,
				Variables: vars("input", with(ref, "address", vars("lastName", "Li", "line1", "1 Road", "city", "Nowhere", "countryCode", "XX"), "email", "li@example")),
				WantData:  fieldErr("cartShippingAddressUpdate", "input.email", "INVALID_EMAIL", "input.address.countryCode", "INVALID_COUNTRY")},
			{Name: "a good email with a bad address", Query: cartBillToOp,
				Variables: vars("input", with(ref, "address", vars("lastName", "Li", "line1", "", "city", "Nowhere", "countryCode", "CN"), "email", "g@example.com")),
				WantData:  fieldErr("cartBillingAddressUpdate", "input.address.line1", "REQUIRED")},
			{Name: "nobody to deliver to", Query: cartShipToOp, Variables: vars("input", with(ref, "address", vars("firstName", " ", "line1", "1 Road", "city", "Shenzhen", "countryCode", "CN"))),
				WantData: fieldErr("cartShippingAddressUpdate", "input.address.lastName", "REQUIRED")},
			{Name: "bad country", Query: cartShipToOp, Variables: vars("input", with(ref, "address", vars("lastName", "Li", "line1", "1 Road", "city", "Nowhere", "countryCode", "XX"))),
				WantData: fieldErr("cartShippingAddressUpdate", "input.address.countryCode", "INVALID_COUNTRY")},
			{Name: "blank street and city", Query: cartBillToOp, Variables: vars("input", with(ref, "address", vars("lastName", "Li", "line1", " ", "city", "", "countryCode", "CN"))),
				WantData: fieldErr("cartBillingAddressUpdate", "input.address.line1", "REQUIRED", "input.address.city", "REQUIRED")},
			{Name: "unknown currency", Query: cartCreateOp, Variables: in("currency", "XYZ"),
				WantData: `{"cartCreate": {"token": null, "cart": null, "userErrors": [{"field": ["input", "currency"], "code": "INVALID_CURRENCY"}]}}`},
			{Name: "a currency the shop does not sell in", Query: cartCreateOp, Variables: in("currency", "EUR"),
				WantData: `{"cartCreate": {"token": null, "cart": null, "userErrors": [{"field": ["input", "currency"], "code": "CURRENCY_NOT_SUPPORTED"}]}}`},
			{Name: "refused first lines leave no cart", Query: cartCreateOp, Variables: in("lines", []any{line(s.kettle, 1)}),
				WantData: `{"cartCreate": {"token": null, "cart": null, "userErrors": [{"field": ["input", "lines", "0", "variantId"], "code": "VARIANT_ARCHIVED"}]}}`},
			{Name: "a method before an address", Query: cartMethodOp, Variables: vars("input", with(ref, "methodId", s.express)),
				WantData: fieldErr("cartShippingMethodSelect", "input", "SHIPPING_ADDRESS_REQUIRED")},
			{Name: "checkout without email, address or method", Query: checkoutOp, Variables: vars("input", with(ref, "idempotencyKey", "k1")),
				WantData: `{"checkoutComplete": {"order": null, "accessToken": null, "userErrors": [
					{"field": ["input", "email"], "code": "EMAIL_REQUIRED"},
					{"field": ["input", "shippingAddress"], "code": "SHIPPING_ADDRESS_REQUIRED"},
					{"field": ["input", "shippingMethodId"], "code": "SHIPPING_METHOD_REQUIRED"}]}}`},
			{Name: "checkout of an empty cart", Query: checkoutOp, Variables: vars("input", with(usd, "idempotencyKey", "k2")),
				WantUserErrors: []string{"CART_EMPTY", "EMAIL_REQUIRED", "SHIPPING_ADDRESS_REQUIRED", "SHIPPING_METHOD_REQUIRED"}},
			{Name: "checkout without an idempotency key", Query: checkoutOp, Variables: vars("input", ref),
				WantData: `{"checkoutComplete": {"order": null, "accessToken": null, "userErrors": [{"field": ["input", "idempotencyKey"], "code": "IDEMPOTENCY_KEY_REQUIRED"}]}}`},
		})
		if after := s.do(t, guest, cartQueryOp, ref); testkit.EncodeJSON(t, after.Data) != testkit.EncodeJSON(t, before.Data) {
			t.Fatalf("refused mutations changed the cart:\n%s\n%s", testkit.EncodeJSON(t, before.Data), testkit.EncodeJSON(t, after.Data))
		}
		if n, _ := ta.DB.NewSelect().Table("carts").Count(context.Background()); n != 2 {
			t.Fatalf("%d carts, want the 2 created: refused creations left some", n)
		}

		// A method of another zone; a method that stopped shipping the cart.
		must(t, s.do(t, guest, cartShipToOp, vars("input", with(ref, "address", cnAddress))))
		must(t, s.do(t, guest, cartEmailOp, vars("input", with(ref, "email", "g@example.com"))))
		runCart(t, ta, []testkit.Scenario{
			{Name: "a method of another zone", Query: cartMethodOp, Variables: vars("input", with(ref, "methodId", s.overseas)),
				WantData: fieldErr("cartShippingMethodSelect", "input.methodId", "SHIPPING_METHOD_UNAVAILABLE")},
			{Name: "checkout without a method", Query: checkoutOp, Variables: vars("input", with(ref, "idempotencyKey", "k3")),
				WantData: `{"checkoutComplete": {"order": null, "accessToken": null, "userErrors": [{"field": ["input", "shippingMethodId"], "code": "SHIPPING_METHOD_REQUIRED"}]}}`},
		})
		must(t, s.do(t, guest, cartMethodOp, vars("input", with(ref, "methodId", s.express))))
		runCart(t, ta, []testkit.Scenario{
			{Name: "the address moves out of the method's zone", Query: cartShipToOp,
				Variables: vars("input", with(ref, "address", vars("lastName", "Li", "line1", "1 Main St", "city", "Boston", "countryCode", "US"))),
				Check: func(t *testing.T, data json.RawMessage) {
					if !strings.Contains(string(data), `"userErrors":[]`) {
						t.Fatalf("%s", data)
					}
				}},
			{Name: "checkout with a method that no longer ships", Query: checkoutOp, Variables: vars("input", with(ref, "idempotencyKey", "k4")),
				WantData:   `{"checkoutComplete": {"order": null, "accessToken": null, "userErrors": [{"field": ["input", "shippingMethodId"], "code": "SHIPPING_METHOD_UNAVAILABLE"}]}}`,
				WantEvents: []string{}},
		})
		// Stock taken by someone else after the line was added.
		must(t, s.do(t, guest, cartShipToOp, vars("input", with(ref, "address", cnAddress))))
		must(t, s.do(t, guest, cartUpdateOp, vars("input", with(ref, "lines", []any{vars("lineId",
			s.do(t, guest, cartLineIDsOp, ref).str("cart", "lines", "0", "id"), "quantity", 4)}))))
		if _, _, err := ta.Catalog.AdjustInventory(system(), catalog.AdjustInventoryInput{VariantID: s.tea250, Delta: -3, Reason: catalog.ReasonDamaged}); err != nil {
			t.Fatal(err)
		}
		runCart(t, ta, []testkit.Scenario{
			{Name: "the line shows the problem", Query: cartQueryOp, Variables: ref,
				Check: func(t *testing.T, data json.RawMessage) {
					if !strings.Contains(string(data), `"problem":"INSUFFICIENT_STOCK"`) {
						t.Fatalf("%s", data)
					}
				}},
			{Name: "checkout refuses it", Query: checkoutOp, Variables: vars("input", with(ref, "idempotencyKey", "k5")),
				WantData:   `{"checkoutComplete": {"order": null, "accessToken": null, "userErrors": [{"field": ["input", "lines", "0", "quantity"], "code": "INSUFFICIENT_STOCK"}]}}`,
				WantEvents: []string{}},
		})
	})
}

// TestCartOwnership: a cart is reached only by its token or as its buyer;
// another buyer's cart id, a guest's id without its token, or a token that
// matches nothing reach nothing, and change nothing.
func TestCartOwnership(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		ada, _ := s.buyer(t, "ada@example.com")
		bob, _ := s.buyer(t, "bob@example.com")
		guest := authz.AnonymousSubject()
		adaCart := must(t, s.do(t, ada, cartCreateOp, in("lines", []any{vars("variantId", s.tea100, "quantity", 1)}))).str("cartCreate", "cart", "id")
		adaLine := s.do(t, ada, cartLineIDsOp, nil).str("cart", "lines", "0", "id")
		g := must(t, s.do(t, guest, cartCreateOp, in("lines", []any{vars("variantId", s.tea100, "quantity", 1)})))
		guestCart, guestToken := g.str("cartCreate", "cart", "id"), g.str("cartCreate", "token")
		s.ready(t, ada, map[string]any{})
		bobCart := must(t, s.do(t, bob, cartCreateOp, in())).str("cartCreate", "cart", "id")

		notFound := func(op string) string {
			return testkit.EncodeJSON(t, map[string]any{op: map[string]any{"cart": nil, "userErrors": []any{map[string]any{"field": []any{"input"}, "code": "CART_NOT_FOUND"}}}})
		}
		addTo := func(ref map[string]any) map[string]any {
			return vars("input", with(ref, "lines", []any{vars("variantId", s.tea100, "quantity", 1)}))
		}
		runCart(t, ta, []testkit.Scenario{
			{Name: "bob reads ada's cart by id", As: bob, Query: cartQueryOp, Variables: vars("id", adaCart), WantData: `{"cart": null}`},
			{Name: "a guest reads ada's cart by id", Query: cartQueryOp, Variables: vars("id", adaCart), WantData: `{"cart": null}`},
			{Name: "a guest cart by id without its token", As: bob, Query: cartQueryOp, Variables: vars("id", guestCart), WantData: `{"cart": null}`},
			{Name: "a token that matches nothing", Query: cartQueryOp, Variables: vars("token", guestToken+"A"), WantData: `{"cart": null}`},
			{Name: "a token with another cart's id", Query: cartQueryOp, Variables: vars("token", guestToken, "id", adaCart), WantData: `{"cart": null}`},
			{Name: "a guest has no open cart", Query: customerCartOp, WantData: `{"cart": null}`},
			{Name: "bob adds to ada's cart", As: bob, Query: cartAddOp, Variables: addTo(vars("cartId", adaCart)),
				WantData: notFound("cartLinesAdd"), WantEvents: []string{}},
			{Name: "bob changes ada's line in his cart", As: bob, Query: cartUpdateOp,
				Variables:      vars("input", vars("lines", []any{vars("lineId", adaLine, "quantity", 5)})),
				WantUserErrors: []string{"LINE_NOT_FOUND"}},
			{Name: "bob removes ada's line by her cart id", As: bob, Query: cartRemoveOp, Variables: vars("input", vars("cartId", adaCart, "lineIds", []any{adaLine})),
				WantData: notFound("cartLinesRemove")},
			{Name: "bob sets ada's email", As: bob, Query: cartEmailOp, Variables: vars("input", vars("cartId", adaCart, "email", "bob@example.com")),
				WantData: notFound("cartEmailUpdate")},
			{Name: "bob sets ada's address", As: bob, Query: cartShipToOp, Variables: vars("input", vars("cartId", adaCart, "address", cnAddress)),
				WantData: notFound("cartShippingAddressUpdate")},
			{Name: "bob sets ada's email with an address", As: bob, Query: cartShipToOp,
				Variables: vars("input", vars("cartId", adaCart, "address", cnAddress, "email", "bob@example.com")),
				WantData:  notFound("cartShippingAddressUpdate")},
			{Name: "a guest sets ada's email with an address", Query: cartShipToOp,
				Variables: vars("input", vars("cartId", adaCart, "address", cnAddress, "email", "mallory@example.com")),
				WantData:  notFound("cartShippingAddressUpdate")},
			{Name: "bob sets ada's billing address", As: bob, Query: cartBillToOp, Variables: vars("input", vars("cartId", adaCart, "address", cnAddress)),
				WantData: notFound("cartBillingAddressUpdate")},
			{Name: "bob picks ada's method", As: bob, Query: cartMethodOp, Variables: vars("input", vars("cartId", adaCart, "methodId", s.standard)),
				WantData: notFound("cartShippingMethodSelect")},
			{Name: "bob checks ada's cart out", As: bob, Query: checkoutOp, Variables: in("cartId", adaCart, "idempotencyKey", "bob-1"),
				WantData:   `{"checkoutComplete": {"order": null, "accessToken": null, "userErrors": [{"field": ["input"], "code": "CART_NOT_FOUND"}]}}`,
				WantEvents: []string{}},
			{Name: "a guest checks ada's cart out by id", Query: checkoutOp, Variables: in("cartId", adaCart, "idempotencyKey", "guest-1"),
				WantUserErrors: []string{"CART_NOT_FOUND"}, WantEvents: []string{}},
			{Name: "ada with bob's cart id", As: ada, Query: cartAddOp, Variables: addTo(vars("cartId", bobCart)), WantData: notFound("cartLinesAdd")},
			{Name: "a guest without token", Query: cartAddOp, Variables: addTo(vars()), WantData: notFound("cartLinesAdd")},
		})
		res := s.do(t, ada, cartQueryOp, nil)
		if res.str("cart", "email") != "buyer@example.com" || res.get("cart", "lines", "0", "quantity") != float64(1) || s.orders(t, adaCart) != 0 {
			t.Fatalf("ada's cart changed: %v", res.Data)
		}
	})
}

// httpCheckout sends checkoutComplete over HTTP as a guest, with the
// Idempotency-Key header when header is not empty.
func httpCheckout(t *testing.T, url string, input map[string]any, header string) (int, gqlResult) {
	t.Helper()
	body, _ := json.Marshal(graphql.Request{Query: checkoutOp, Variables: vars("input", input)})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if header != "" {
		req.Header.Set(graphql.IdempotencyKeyHeader, header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, gqlResult{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out gqlResult
	if err := json.Unmarshal(b, &out); err != nil {
		t.Errorf("status %d, body %s: %v", resp.StatusCode, b, err)
	}
	out.status = resp.StatusCode
	return resp.StatusCode, out
}

// TestCheckoutIdempotency: one key places one order, whether the retries
// come one after another or twenty at once, in the input or in the
// Idempotency-Key header; the same key for another cart is refused, and so
// are two different keys in one request. Another guest's key of the same
// text is theirs.
func TestCheckoutIdempotency(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		guest := authz.AnonymousSubject()
		newCart := func() (string, map[string]any) {
			t.Helper()
			return s.readyCart(t, guest, s.tea100, 1)
		}

		// One after another, in the input.
		cartA, refA := newCart()
		first := must(t, s.do(t, guest, checkoutOp, vars("input", with(refA, "idempotencyKey", "key-A"))))
		again := must(t, s.do(t, guest, checkoutOp, vars("input", with(refA, "idempotencyKey", "key-A"))))
		if first.str("checkoutComplete", "order", "id") == "" || testkit.EncodeJSON(t, first.Data) != testkit.EncodeJSON(t, again.Data) {
			t.Fatalf("a retry answers differently:\n%s\n%s", testkit.EncodeJSON(t, first.Data), testkit.EncodeJSON(t, again.Data))
		}
		if n := s.orders(t, cartA); n != 1 {
			t.Fatalf("%d orders after a retry", n)
		}
		// The same caller (cart A's token) naming another cart with the key.
		cartB, refB := newCart()
		runCart(t, ta, []testkit.Scenario{
			{Name: "the key of another cart", Query: checkoutOp, Variables: vars("input", with(refA, "cartId", cartB, "idempotencyKey", "key-A")),
				WantData:   `{"checkoutComplete": {"order": null, "accessToken": null, "userErrors": [{"field": ["input", "idempotencyKey"], "code": "IDEMPOTENCY_KEY_REUSED"}]}}`,
				WantEvents: []string{}},
		})
		if n := s.orders(t, cartB); n != 0 {
			t.Fatalf("a reused key placed %d orders", n)
		}
		// Another guest (cart B's token) sending the same key: a key of
		// their own, never another buyer's.
		other := must(t, s.do(t, guest, checkoutOp, vars("input", with(refB, "idempotencyKey", "key-A"))))
		if id := other.str("checkoutComplete", "order", "id"); id == "" || id == first.str("checkoutComplete", "order", "id") {
			t.Fatalf("another guest with the same key: %s", testkit.EncodeJSON(t, other.Data))
		}
		if n := s.orders(t, cartB); n != 1 {
			t.Fatalf("another guest's key placed %d orders of their cart", n)
		}

		// Twenty at once over HTTP, the key in the header.
		cartC, refC := newCart()
		var wg sync.WaitGroup
		answers := make([]gqlResult, 20)
		for i := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, answers[i] = httpCheckout(t, ta.URL, refC, "key-C")
			}()
		}
		wg.Wait()
		for i, a := range answers {
			if len(a.codes()) > 0 || a.str("checkoutComplete", "order", "id") == "" || testkit.EncodeJSON(t, a.Data) != testkit.EncodeJSON(t, answers[0].Data) {
				t.Fatalf("answer %d: %v %s\nfirst: %s", i, a.codes(), testkit.EncodeJSON(t, a.Data), testkit.EncodeJSON(t, answers[0].Data))
			}
		}
		if n := s.orders(t, cartC); n != 1 {
			t.Fatalf("20 concurrent checkouts with one key placed %d orders", n)
		}
		if got := s.stock(t, s.tea100); got.Reserved != 3 {
			t.Fatalf("%d reserved, want one unit for each of the three orders (A, B, C)", got.Reserved)
		}

		// Header and input: equal is one key, different is refused.
		status, same := httpCheckout(t, ta.URL, with(refC, "idempotencyKey", "key-C"), "key-C")
		if status != http.StatusOK || testkit.EncodeJSON(t, same.Data) != testkit.EncodeJSON(t, answers[0].Data) {
			t.Fatalf("the same key twice: %d %v %s", status, same.codes(), testkit.EncodeJSON(t, same.Data))
		}
		_, refD := newCart()
		_, mismatch := httpCheckout(t, ta.URL, with(refD, "idempotencyKey", "key-D"), "key-E")
		if want := `{"checkoutComplete":{"accessToken":null,"order":null,"userErrors":[{"code":"IDEMPOTENCY_KEY_MISMATCH","field":["input","idempotencyKey"]}]}}`; testkit.EncodeJSON(t, mismatch.Data) != want {
			t.Fatalf("two keys: %s", testkit.EncodeJSON(t, mismatch.Data))
		}
		_, bad := httpCheckout(t, ta.URL, refD, "ключ")
		if !bad.has("INVALID_IDEMPOTENCY_KEY") {
			t.Fatalf("a key that is not ASCII: %v", bad.codes())
		}
		_, placed := httpCheckout(t, ta.URL, refD, "key-D")
		if len(placed.codes()) > 0 || placed.str("checkoutComplete", "order", "id") == "" {
			t.Fatalf("refused keys spoiled the cart: %v %s", placed.codes(), testkit.EncodeJSON(t, placed.Data))
		}
		invariant.Require(t, ta.DB)
	})
}

// TestCheckoutLastUnits: 200 guests check out at once over HTTP for the
// last 5 units of a variant; one of them holds 2 units, added as two
// lines of the same variant. Exactly the 5 units are sold, stock on hand
// never falls below what is reserved, and everyone else is told the item
// is sold out.
func TestCheckoutLastUnits(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		p, err := ta.Catalog.CreateProduct(system(), catalog.CreateProductInput{Title: "Last Pot", Status: catalog.StatusActive,
			Variants: []catalog.VariantInput{{SKU: "POT", Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "30.00"}}, InventoryQuantity: 5}}})
		if err != nil {
			t.Fatal(err)
		}
		vm, err := ta.Catalog.VariantsByProductIDs(system(), []string{p.ID})
		if err != nil {
			t.Fatal(err)
		}
		pot := vm[p.ID][0].ID
		const buyers = 200
		type buyer struct {
			cartID string
			ref    map[string]any
			units  int
		}
		all := make([]buyer, buyers)
		guest := authz.AnonymousSubject()
		for i := range all {
			lines := []any{vars("variantId", pot, "quantity", 1)}
			if i == 0 {
				lines = append(lines, vars("variantId", pot, "quantity", 1))
			}
			c := must(t, s.do(t, guest, cartCreateOp, in("lines", lines)))
			all[i] = buyer{cartID: c.str("cartCreate", "cart", "id"), ref: vars("token", c.str("cartCreate", "token")), units: len(lines)}
			s.ready(t, guest, all[i].ref)
		}
		if got := s.do(t, guest, cartQueryOp, all[0].ref); got.get("cart", "lines", "0", "quantity") != float64(2) || len(got.get("cart", "lines").([]any)) != 1 {
			t.Fatalf("two lines of one variant make one line of 2: %v", got.Data)
		}

		stop := make(chan struct{})
		var samples atomic.Int64
		sampled := make(chan error, 1)
		go func() {
			for {
				select {
				case <-stop:
					sampled <- nil
					return
				default:
				}
				if l := s.stock(t, pot); l.Reserved > l.OnHand || l.Reserved < 0 {
					sampled <- fmt.Errorf("stock %+v: more reserved than on hand", l)
					return
				}
				samples.Add(1)
			}
		}()
		var wg sync.WaitGroup
		answers := make([]gqlResult, buyers)
		start := make(chan struct{})
		for i := range all {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, answers[i] = httpCheckout(t, ta.URL, with(all[i].ref, "idempotencyKey", fmt.Sprintf("pot-%d", i)), "")
			}()
		}
		close(start)
		wg.Wait()
		close(stop)
		if err := <-sampled; err != nil {
			t.Fatal(err)
		}

		orders, units := 0, 0
		for i, a := range answers {
			switch {
			case a.status != http.StatusOK:
				t.Fatalf("buyer %d: status %d", i, a.status)
			case a.str("checkoutComplete", "order", "id") != "":
				orders++
				units += all[i].units
			case fmt.Sprint(a.codes()) != "[INSUFFICIENT_STOCK]":
				t.Fatalf("buyer %d: %v %s", i, a.codes(), testkit.EncodeJSON(t, a.Data))
			}
		}
		doubleWon := answers[0].str("checkoutComplete", "order", "id") != ""
		if units != 5 || (doubleWon && orders != 4) || (!doubleWon && orders != 5) {
			t.Fatalf("%d orders for %d units (the 2-unit cart won: %v), want the 5 units sold", orders, units, doubleWon)
		}
		if l := s.stock(t, pot); l.OnHand != 5 || l.Reserved != 5 || l.Available() != 0 {
			t.Fatalf("stock %+v", l)
		}
		placed := 0
		for _, b := range all {
			placed += s.orders(t, b.cartID)
		}
		if placed != orders {
			t.Fatalf("%d orders in the database, %d answered", placed, orders)
		}
		t.Logf("%d orders, %d stock samples during the race", orders, samples.Load())
		invariant.Require(t, ta.DB)
	})
}

// TestCartMergeAtSignIn: signing in with a guest cart's token takes the
// guest cart into the buyer's: adopted when the buyer has no open cart,
// its lines added to the buyer's cart otherwise; the guest token then
// reaches nothing. A stale token does not stand in the way of signing in.
func TestCartMergeAtSignIn(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		guest := authz.AnonymousSubject()
		ada, _ := s.buyer(t, "ada@example.com")
		s.buyer(t, "bob@example.com")
		must(t, s.do(t, ada, cartCreateOp, in("lines", []any{vars("variantId", s.tea100, "quantity", 2)})))

		g := must(t, s.do(t, guest, cartCreateOp, in("lines", []any{vars("variantId", s.tea100, "quantity", 3), vars("variantId", s.tea250, "quantity", 1)})))
		token := g.str("cartCreate", "token")
		must(t, s.do(t, guest, cartEmailOp, vars("input", vars("token", token, "email", "guest@example.com"))))
		login := `mutation($input: LoginInput!) { customerLogin(input: $input) { customer { email } userErrors { code } } }`
		runCart(t, ta, []testkit.Scenario{
			{Name: "ada signs in with her guest cart", Query: login,
				Variables: in("email", "ada@example.com", "password", "passphrase of ada@example.com", "cartToken", token),
				WantData:  `{"customerLogin": {"customer": {"email": "ada@example.com"}, "userErrors": []}}`},
			{Name: "her cart holds both", As: ada, Query: customerCartOp,
				Check: func(t *testing.T, data json.RawMessage) {
					var got struct {
						Cart struct {
							Lines []struct {
								SKU      string
								Quantity int
							}
							Email string
						}
					}
					if err := json.Unmarshal(data, &got); err != nil {
						t.Fatal(err)
					}
					want := `[{TEA-100 5} {TEA-250 1}]`
					// Her cart started with her account's email (issue 9),
					// so the guest cart's does not replace it.
					if fmt.Sprint(got.Cart.Lines) != want || got.Cart.Email != "ada@example.com" {
						t.Fatalf("merged cart %s, want lines %s and her account's email", data, want)
					}
				}},
			{Name: "the guest token reaches nothing", Query: cartQueryOp, Variables: vars("token", token), WantData: `{"cart": null}`},
			{Name: "a stale token does not stop a sign-in", Query: login,
				Variables: in("email", "ada@example.com", "password", "passphrase of ada@example.com", "cartToken", token),
				WantData:  `{"customerLogin": {"customer": {"email": "ada@example.com"}, "userErrors": []}}`},
			{Name: "a wrong password merges nothing", Query: login,
				Variables:      in("email", "bob@example.com", "password", "wrong", "cartToken", token),
				WantUserErrors: []string{"INVALID_CREDENTIALS"}},
		})

		// Bob has no cart: the guest cart becomes his, the same cart. Its
		// email was someone else's (a shared device's cart cookie): his
		// order mails must not go there (an outside review).
		g = must(t, s.do(t, guest, cartCreateOp, in("lines", []any{vars("variantId", s.tea250, "quantity", 2)})))
		token, guestCart := g.str("cartCreate", "token"), g.str("cartCreate", "cart", "id")
		must(t, s.do(t, guest, cartEmailOp, vars("input", vars("token", token, "email", "someone-else@example.com"))))
		must(t, s.do(t, guest, login, in("email", "bob@example.com", "password", "passphrase of bob@example.com", "cartToken", token)))
		bob, err := ta.Accounts.Service.Authenticate(system(), loginToken(t, s, "bob@example.com"))
		if err != nil {
			t.Fatal(err)
		}
		runCart(t, ta, []testkit.Scenario{
			// It takes his account's email, whatever the guest gave.
			{Name: "bob adopts the guest cart", As: bob, Query: customerCartOp,
				WantData: testkit.EncodeJSON(t, map[string]any{"cart": map[string]any{"id": guestCart, "email": "bob@example.com",
					"lines": []any{map[string]any{"sku": "TEA-250", "quantity": 2}}}})},
			{Name: "its token reaches it no more", Query: cartQueryOp, Variables: vars("token", token), WantData: `{"cart": null}`},
		})
	})
}

// loginToken signs a buyer in over the API and returns the session token.
func loginToken(t *testing.T, s *cartShop, email string) string {
	t.Helper()
	res := must(t, s.do(t, authz.AnonymousSubject(), `mutation($input: LoginInput!) { customerLogin(input: $input) { session { token } userErrors { code } } }`,
		in("email", email, "password", "passphrase of "+email, "returnToken", true)))
	return res.str("customerLogin", "session", "token")
}

// cartPost sends an operation over HTTP as a guest without cookies, with
// the CSRF header a storefront's script sends, and decodes the answer.
func cartPost(t *testing.T, url, query string, v map[string]any) gqlResult {
	t.Helper()
	return guestPost(t, url, query, v, nil)
}

// guestPost is cartPost with more headers.
func guestPost(t *testing.T, url, query string, v map[string]any, header http.Header) gqlResult {
	t.Helper()
	body, _ := json.Marshal(graphql.Request{Query: query, Variables: v})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpauth.CSRFHeader, "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out gqlResult
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("status %d, body %s: %v", resp.StatusCode, b, err)
	}
	out.status = resp.StatusCode
	return out
}

// attackCart is a product and two carts of a whole app for the cart
// attacks: a guest's (its token) and a signed-in buyer's (their browser),
// one unit of the product each, in the shop's default currency.
type attackCart struct {
	variant      string
	guestToken   string
	guestCart    string
	buyer, other *client
	buyerCart    string
}

func newAttackCart(t *testing.T, ta *testkit.TestApp, e *accountsEnv, tag string) attackCart {
	t.Helper()
	cur := ta.Catalog.DefaultCurrency().Code()
	p, err := ta.Catalog.CreateProduct(system(), catalog.CreateProductInput{Title: "Cart attack kettle " + tag, Status: catalog.StatusActive,
		Variants: []catalog.VariantInput{{SKU: "CAK-" + tag, InventoryQuantity: 10, Prices: []catalog.PriceInput{{Currency: cur, Amount: "5.00"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := ta.Catalog.VariantsByProductIDs(system(), []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	a := attackCart{variant: vm[p.ID][0].ID, buyer: e.browser(), other: e.browser()}
	line := in("lines", []any{vars("variantId", a.variant, "quantity", 1)})
	g := must(t, e.browser().do(cartCreateOp, line))
	a.guestToken, a.guestCart = g.str("cartCreate", "token"), g.str("cartCreate", "cart", "id")
	for i, c := range []*client{a.buyer, a.other} {
		email := fmt.Sprintf("cart-%s-%d@example.com", tag, i)
		must(t, c.do(registerOp, in("email", email, "password", "a long passphrase of "+email)))
		must(t, c.do(loginOp, in("email", email, "password", "a long passphrase of "+email)))
	}
	a.buyerCart = must(t, a.buyer.do(cartCreateOp, line)).str("cartCreate", "cart", "id")
	return a
}

// state is what the owners read of both carts.
func (a attackCart) state(t *testing.T, e *accountsEnv) string {
	t.Helper()
	guest := must(t, e.browser().do(cartQueryOp, vars("token", a.guestToken)))
	buyer := must(t, a.buyer.do(cartQueryOp, nil))
	return testkit.EncodeJSON(t, guest.Data) + testkit.EncodeJSON(t, buyer.Data)
}

// Issue 9: a cart answers only to its token or its buyer. Another buyer
// and a guest name the carts by id in every cart operation; a buyer's
// browser is lured into a GET mutation and into a cookie POST without the
// CSRF header. Each is refused (CART_NOT_FOUND, null, 405, 403) and
// nothing changes; a GET read of a cart is never answered from the
// response cache.
func attackCartAccess(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	a := newAttackCart(t, ta, e, "access")
	before := a.state(t, e)
	guest := e.browser()
	lines := []any{vars("variantId", a.variant, "quantity", 5)}
	for _, c := range []struct {
		who  string
		c    *client
		cart string
	}{{"another buyer", a.other, a.buyerCart}, {"a guest", guest, a.buyerCart}, {"a buyer", a.buyer, a.guestCart}, {"a guest", guest, a.guestCart}} {
		ref := vars("cartId", c.cart)
		for _, op := range []struct {
			name, doc, field string
			// extra are more fields of the input, as key, value pairs.
			extra []any
		}{
			{"cartLinesAdd", cartAddOp, "lines", nil}, {"cartEmailUpdate", cartEmailOp, "email", nil},
			{"cartShippingAddressUpdate", cartShipToOp, "address", nil}, {"cartBillingAddressUpdate", cartBillToOp, "address", nil},
			{"cartShippingAddressUpdate with an email", cartShipToOp, "address", []any{"email", "mallory@example.com"}},
			{"cartBillingAddressUpdate with an email", cartBillToOp, "address", []any{"email", "mallory@example.com"}},
			{"checkoutComplete", checkoutOp, "idempotencyKey", nil},
		} {
			value := map[string]any{"lines": lines, "email": "mallory@example.com", "address": cnAddress, "idempotencyKey": "mallory-" + op.name}[op.field]
			res := c.c.do(op.doc, vars("input", with(with(ref, op.field, value), op.extra...)))
			if fmt.Sprint(res.codes()) != "[CART_NOT_FOUND]" {
				t.Errorf("%s: %s on %s: %v %v", c.who, op.name, c.cart, res.codes(), res.Data)
			}
		}
		if res := c.c.do(cartQueryOp, vars("id", c.cart)); len(res.codes()) > 0 || res.get("cart") != nil {
			t.Errorf("%s reads %s: %v %v", c.who, c.cart, res.codes(), res.Data)
		}
	}
	if after := a.state(t, e); after != before {
		t.Fatalf("other callers changed the carts:\n%s\n%s", before, after)
	}

	// A link on another site: the buyer's cookie travels, GET runs
	// queries only.
	q := `mutation M { cartLinesAdd(input: {lines: [{variantId: "` + a.variant + `", quantity: 5}]}) { userErrors { code } } ` +
		`checkoutComplete(input: {idempotencyKey: "lured"}) { userErrors { code } } }`
	resp, err := a.buyer.http.Get(ta.URL + "/graphql?" + url.Values{"query": {q}, "operationName": {"M"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET ran a cart mutation: status %d %s", resp.StatusCode, body)
	}
	// A form on another site: a cookie POST without the CSRF header.
	a.buyer.noCSRF = true
	if res := a.buyer.do(cartAddOp, in("lines", lines)); res.status != http.StatusForbidden || !res.has("CSRF_HEADER_REQUIRED") {
		t.Fatalf("cookie POST without the CSRF header: %d %v", res.status, res.codes())
	}
	a.buyer.noCSRF = false
	if after := a.state(t, e); after != before {
		t.Fatalf("a lured browser changed the carts:\n%s\n%s", before, after)
	}

	// GET reads are fine, and fresh after every change.
	read := func() int {
		t.Helper()
		q := `query($token: String) { cart(token: $token) { lines { quantity } } }`
		u := ta.URL + "/graphql?" + url.Values{"query": {q}, "variables": {testkit.EncodeJSON(t, vars("token", a.guestToken))}}.Encode()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out gqlResult
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		n, _ := out.get("cart", "lines", "0", "quantity").(float64)
		return int(n)
	}
	if n := read(); n != 1 {
		t.Fatalf("GET read %d units", n)
	}
	must(t, guest.do(cartAddOp, vars("input", vars("token", a.guestToken, "lines", []any{vars("variantId", a.variant, "quantity", 2)}))))
	if n := read(); n != 3 {
		t.Fatalf("GET read %d units after adding 2 to 1: a stale answer", n)
	}
}

// Issue 9: cart input is checked before anything changes. Control
// characters are refused before anything runs; quantities past 32 bits
// fail validation, and the largest Int is over the line limit without
// wrapping; lists and keys past their bounds get one userError with a
// code and a short answer; a document fanning out a cart field is over
// the limits.
func attackCartInput(t *testing.T, ta *testkit.TestApp) {
	e := onApp(t, ta)
	a := newAttackCart(t, ta, e, "input")
	before := a.state(t, e)
	guest := e.browser()
	ref := vars("token", a.guestToken)
	line := func(qty int) map[string]any { return vars("variantId", a.variant, "quantity", qty) }
	lineID := must(t, guest.do(cartLineIDsOp, ref)).str("cart", "lines", "0", "id")
	many := func(n int, v func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = v(i)
		}
		return out
	}
	fanOut := "{" + strings.Repeat(` cart { shippingMethods { name } }`, 2500) + " }"
	for _, c := range []struct {
		name, doc string
		vars      map[string]any
		// want are the codes of the answer, in order.
		want string
	}{
		{"NUL in a token", cartQueryOp, vars("token", a.guestToken+"\x00"), graphql.CodeInvalidCharacters},
		{"escape in an email", cartEmailOp, vars("input", with(ref, "email", "a@b.c\x1b[2J")), graphql.CodeInvalidCharacters},
		{"newline in a city", cartShipToOp, vars("input", with(ref, "address", with(cnAddress, "city", "Shen\nzhen"))), graphql.CodeInvalidCharacters},
		{"escape in an email with an address", cartShipToOp, vars("input", with(ref, "address", cnAddress, "email", "a@b.c\x1b[2J")), graphql.CodeInvalidCharacters},
		{"C1 control in an idempotency key", checkoutOp, vars("input", with(ref, "idempotencyKey", "k\u0085")), graphql.CodeInvalidCharacters},
		{"a quantity past 32 bits", cartAddOp, vars("input", with(ref, "lines", []any{line(1 << 40)})), "GRAPHQL_VALIDATION_FAILED"},
		{"the largest Int", cartAddOp, vars("input", with(ref, "lines", []any{line(2_147_483_647)})), "QUANTITY_OVER_LIMIT"},
		{"the largest Int twice on one variant", cartAddOp, vars("input", with(ref, "lines", []any{line(2_147_483_647), line(2_147_483_647)})), "QUANTITY_OVER_LIMIT QUANTITY_OVER_LIMIT"},
		{"the largest Int as a new quantity", cartUpdateOp, vars("input", with(ref, "lines", []any{vars("lineId", lineID, "quantity", 2_147_483_647)})), "QUANTITY_OVER_LIMIT"},
		{"the smallest Int", cartUpdateOp, vars("input", with(ref, "lines", []any{vars("lineId", lineID, "quantity", -2_147_483_648)})), "INVALID_QUANTITY"},
		{"10 000 lines", cartAddOp, vars("input", with(ref, "lines", many(10_000, func(int) any { return line(1) }))), "TOO_MANY_LINES"},
		{"10 000 line updates", cartUpdateOp, vars("input", with(ref, "lines", many(10_000, func(int) any { return vars("lineId", lineID, "quantity", 1) }))), "TOO_MANY_LINES"},
		{"20 000 line ids", cartRemoveOp, vars("input", with(ref, "lineIds", many(20_000, func(i int) any { return fmt.Sprintf("cln_%026d", i) }))), "TOO_MANY_LINES"},
		{"first lines past the bound", cartCreateOp, in("lines", many(10_000, func(int) any { return line(1) })), "TOO_MANY_LINES"},
		{"an email of 100 000 characters", cartEmailOp, vars("input", with(ref, "email", strings.Repeat("e", 100_000)+"@example.com")), "INVALID_EMAIL"},
		{"an email of 100 000 characters with an address", cartShipToOp,
			vars("input", with(ref, "address", cnAddress, "email", strings.Repeat("e", 100_000)+"@example.com")), "INVALID_EMAIL"},
		{"a city of 100 000 characters", cartShipToOp, vars("input", with(ref, "address", with(cnAddress, "city", strings.Repeat("c", 100_000)))), "TOO_LONG"},
		{"an idempotency key of 100 000 characters", checkoutOp, vars("input", with(ref, "idempotencyKey", strings.Repeat("k", 100_000))), "INVALID_IDEMPOTENCY_KEY"},
		{"a currency of 100 000 characters", cartCreateOp, in("currency", strings.Repeat("X", 100_000)), "INVALID_CURRENCY"},
		{"an email at an IP literal", cartEmailOp, vars("input", with(ref, "email", "a@[127.0.0.1]")), "INVALID_EMAIL"},
		{"2500 shipping quotes in one document", fanOut, nil, graphql.CodeTooComplex},
	} {
		res := guest.do(c.doc, c.vars)
		answer := testkit.EncodeJSON(t, res.Data) + testkit.EncodeJSON(t, res.Errors)
		if codes := res.codes(); strings.Join(codes, " ") != c.want {
			t.Errorf("%s: %d codes %v, want %s", c.name, len(codes), codes[:min(len(codes), 5)], c.want)
		}
		if len(answer) > 2048 {
			t.Errorf("%s: an answer of %d bytes", c.name, len(answer))
		}
	}
	// A refused value is not echoed back: the message stays short.
	huge := guest.do(`mutation($input: CartCreateInput!) { cartCreate(input: $input) { userErrors { code message } } }`, in("currency", strings.Repeat("X", 100_000)))
	if msg, _ := huge.get("cartCreate", "userErrors", "0", "message").(string); msg == "" || len(msg) > 200 {
		t.Errorf("a currency of 100 000 characters: message of %d bytes: %.300s", len(msg), msg)
	}
	// A token of 100 000 characters reaches nothing; a key of 10 000 in
	// the header is refused like one in the input.
	if res := guest.do(cartQueryOp, vars("token", strings.Repeat("t", 100_000))); len(res.codes()) > 0 || res.get("cart") != nil {
		t.Errorf("a huge token: %v %v", res.codes(), res.Data)
	}
	if _, res := httpCheckout(t, ta.URL, ref, strings.Repeat("h", 10_000)); fmt.Sprint(res.codes()) != "[INVALID_IDEMPOTENCY_KEY]" {
		t.Errorf("a huge header key: %v", res.codes())
	}
	// Text that is not UTF-8, which encoding/json would turn into U+FFFD
	// without a word (review of 2026-12-07): raw bytes in a variable or
	// in a literal, an unpaired surrogate escape in a variable, by POST
	// and by GET, are refused before anything runs; a surrogate escape
	// in a literal does not parse.
	shipTo := func(city string) string {
		b := testkit.EncodeJSON(t, map[string]any{"query": cartShipToOp,
			"variables": vars("input", with(ref, "address", with(cnAddress, "city", "CITY")))})
		return strings.Replace(b, `"CITY"`, city, 1)
	}
	literal := strings.Replace(cartShipToOp, "mutation($input: CartAddressUpdateInput!) { cartShippingAddressUpdate(input: $input)",
		`mutation { cartShippingAddressUpdate(input: {token: "`+a.guestToken+`", address: {firstName: "A", line1: "1 Road", city: "CITY", countryCode: "CN"}})`, 1)
	for _, c := range []struct{ name, body, want string }{
		{"bytes that are not UTF-8 in a variable", shipTo("\"\xff\xfe bad\""), graphql.CodeInvalidCharacters},
		{"an unpaired surrogate in a variable", shipTo(`"Shen\ud800zhen"`), graphql.CodeInvalidCharacters},
		{"a low surrogate alone in a variable", shipTo(`"\udc00"`), graphql.CodeInvalidCharacters},
		{"bytes that are not UTF-8 in a literal", strings.Replace(testkit.EncodeJSON(t, map[string]any{"query": literal}), "CITY", "\xed\xa0\x80", 1), graphql.CodeInvalidCharacters},
		{"an unpaired surrogate escape in a literal", strings.Replace(testkit.EncodeJSON(t, map[string]any{"query": literal}), "CITY", `\\ud800`, 1), "GRAPHQL_VALIDATION_FAILED"},
	} {
		resp, body := postRaw(t, guest.http, ta, []byte(c.body))
		var out gqlResult
		if err := json.Unmarshal(body, &out); err != nil || strings.Join(out.codes(), " ") != c.want {
			t.Errorf("%s: status %d, %.300s", c.name, resp.StatusCode, body)
		}
	}
	get := ta.URL + "/graphql?" + url.Values{"query": {cartQueryOp}, "variables": {`{"token": "t\ud800"}`}}.Encode()
	if resp, err := guest.http.Get(get); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unpaired surrogate in GET variables: %v %v", resp, err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), graphql.CodeInvalidCharacters) {
			t.Errorf("an unpaired surrogate in GET variables: %s", body)
		}
	}
	if after := a.state(t, e); after != before {
		t.Fatalf("refused input changed the carts:\n%s\n%s", before, after)
	}
}

// TestCartAmountTooLarge: staff cannot set a price whose carts would
// overflow (INVALID_AMOUNT naming the maximum), and a cart priced from
// one set before that bound answers AMOUNT_TOO_LARGE as a userError,
// not INTERNAL, and keeps nothing.
func TestCartAmountTooLarge(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		owner := authz.SystemSubject("owner")
		const productCreate = `mutation($input: ProductCreateInput!) { productCreate(input: $input) { product { id } userErrors { field message code } } }`
		got := s.do(t, owner, productCreate, in("title", "Gold Tea", "status", "ACTIVE", "variants", []any{
			vars("prices", []any{vars("currencyCode", "CNY", "amount", "92233720368547758.07")})}))
		want := map[string]any{"product": nil, "userErrors": []any{map[string]any{
			"field":   []any{"input", "variants", "0", "prices", "0", "amount"},
			"message": `"92233720368547758.07" is not a valid CNY amount: more than the maximum of 10000000000.00`,
			"code":    "INVALID_AMOUNT"}}}
		if diff := cmp.Diff(want, got.Data["productCreate"]); diff != "" {
			t.Fatalf("productCreate (-want +got):\n%s", diff)
		}

		// A price stored before the bound.
		if _, err := ta.DB.NewRaw("UPDATE variant_prices SET amount = ? WHERE variant_id = ? AND currency = 'CNY'",
			int64(math.MaxInt64), s.tea100).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := ta.Catalog.ForgetCheckoutAnswers(context.Background(), events.Event{Subject: "test.price.changed"}); err != nil {
			t.Fatal(err)
		}
		guest := authz.AnonymousSubject()
		tooLarge := func(op string) string {
			return testkit.EncodeJSON(t, map[string]any{op: map[string]any{"cart": nil, "token": nil,
				"userErrors": []any{map[string]any{"field": []any{"input", "lines"}, "code": "AMOUNT_TOO_LARGE"}}}})
		}
		runCart(t, ta, []testkit.Scenario{
			{Name: "create with two units", As: guest, Query: cartCreateOp,
				Variables: in("lines", []any{vars("variantId", s.tea100, "quantity", 2)}), WantData: tooLarge("cartCreate")},
		})
		var carts int
		if err := ta.DB.NewSelect().Table("carts").ColumnExpr("count(*)").Scan(context.Background(), &carts); err != nil {
			t.Fatal(err)
		}
		if carts != 0 {
			t.Fatalf("the refused cartCreate left %d carts", carts)
		}
	})
}

// TestCheckoutInCurrencyNoLongerSold: after the shop stops selling in
// USD, a guest's ready USD cart is refused at checkout
// (CURRENCY_NOT_SUPPORTED on the cart's currencyCode, no order), while
// an order placed in USD before the change can still be paid.
func TestCheckoutInCurrencyNoLongerSold(t *testing.T) {
	testpay, banktransfer := payBinaries(t)
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newPayShop(t, ta, testpay, banktransfer)
		guest := authz.AnonymousSubject()
		usdCart := func() (string, map[string]any) {
			c := must(t, s.do(t, guest, cartCreateOp, in("currency", "USD", "lines", []any{vars("variantId", s.tea100, "quantity", 1)})))
			ref := vars("token", c.str("cartCreate", "token"))
			must(t, s.do(t, guest, cartShipToOp, vars("input", with(ref, "address", cnAddress, "email", "buyer@example.com"))))
			must(t, s.do(t, guest, cartMethodOp, vars("input", with(ref, "methodId", s.standard))))
			return c.str("cartCreate", "cart", "id"), ref
		}
		_, ref := usdCart()
		out := must(t, s.do(t, guest, checkoutOp, vars("input", with(ref, "idempotencyKey", "usd-before"))))
		before := placed{id: out.str("checkoutComplete", "order", "id"), token: out.str("checkoutComplete", "accessToken")}
		eq(t, "order currency", out.str("checkoutComplete", "order", "total", "currencyCode"), "USD")
		cartID, ref := usdCart()

		if _, err := ta.Settings.Shop.Update(system(), shop.UpdateSettingsInput{Currencies: &[]string{"CNY"}}); err != nil {
			t.Fatal(err)
		}
		runCart(t, ta, []testkit.Scenario{
			{Name: "checkout in USD", As: guest, Query: checkoutOp, Variables: vars("input", with(ref, "idempotencyKey", "usd-after")),
				WantData: testkit.EncodeJSON(t, map[string]any{"checkoutComplete": map[string]any{"order": nil, "accessToken": nil,
					"userErrors": []any{map[string]any{"field": []any{"input", "currencyCode"}, "code": "CURRENCY_NOT_SUPPORTED"}}}})},
			{Name: "more units in USD", As: guest, Query: cartAddOp, Variables: vars("input", with(ref, "lines", []any{vars("variantId", s.tea100, "quantity", 1)})),
				WantData: testkit.EncodeJSON(t, map[string]any{"cartLinesAdd": map[string]any{"cart": nil,
					"userErrors": []any{map[string]any{"field": []any{"input", "currencyCode"}, "code": "CURRENCY_NOT_SUPPORTED"}}}})},
		})
		if n := s.orders(t, cartID); n != 0 {
			t.Fatalf("the refused checkout placed %d orders", n)
		}
		// The order's currency was fixed when it was placed.
		res := s.pay(t, before, testpayID, "redirect")
		eq(t, "payment currency", res.str("paymentCreate", "payment", "amount", "currencyCode"), "USD")
	})
}

// TestProvinceWhereTaxDependsOnIt: once the shop taxes Guangdong apart,
// an address in China must name its province so Kassa can read it, or
// the buyer would pay China's rate by misspelling it. The refusal is a
// userError on the field and changes nothing; the name works as the code.
func TestProvinceWhereTaxDependsOnIt(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		if _, err := ta.Settings.Tax.CreateRate(system(), tax.RateInput{Country: "CN", Region: "GD", Name: "VAT Guangdong", BasisPoints: 900}); err != nil {
			t.Fatal(err)
		}
		guest := authz.AnonymousSubject()
		c := must(t, s.do(t, guest, cartCreateOp, in("lines", []any{vars("variantId", s.tea100, "quantity", 1)})))
		ref := vars("token", c.str("cartCreate", "token"))
		runCart(t, ta, []testkit.Scenario{
			{Name: "a province nobody can read", As: guest, Query: cartShipToOp, Variables: vars("input", with(ref, "address", with(cnAddress, "province", "G D"))),
				WantData: testkit.EncodeJSON(t, map[string]any{"cartShippingAddressUpdate": map[string]any{"cart": nil,
					"userErrors": []any{map[string]any{"field": []any{"input", "address", "province"}, "code": "INVALID_PROVINCE"}}}})},
			{Name: "no province", As: guest, Query: cartShipToOp, Variables: vars("input", with(ref, "address", with(cnAddress, "province", ""))),
				WantData: testkit.EncodeJSON(t, map[string]any{"cartShippingAddressUpdate": map[string]any{"cart": nil,
					"userErrors": []any{map[string]any{"field": []any{"input", "address", "province"}, "code": "PROVINCE_REQUIRED"}}}})},
		})
		byName := must(t, s.do(t, guest, cartShipToOp, vars("input", with(ref, "address", with(cnAddress, "province", "guangdong sheng")))))
		byCode := must(t, s.do(t, guest, cartShipToOp, vars("input", with(ref, "address", cnAddress))))
		gd := byCode.str("cartShippingAddressUpdate", "cart", "tax", "amount")
		eq(t, "tax by name", byName.str("cartShippingAddressUpdate", "cart", "tax", "amount"), gd)
		china := must(t, s.do(t, guest, cartShipToOp, vars("input", with(ref, "address", with(cnAddress, "province", "SH")))))
		if cn := china.str("cartShippingAddressUpdate", "cart", "tax", "amount"); gd == "" || gd == cn {
			t.Fatalf("Guangdong's tax %q, China's %q: want Guangdong's own rate", gd, cn)
		}
	})
}

// TestCartLineLinksToItsProduct: a cart line names its product's handle
// and the variant's options, so a storefront links the line to the
// product page and shows "Weight: 250 g" without a query per line; a line
// whose variant is no longer for sale shows neither.
func TestCartLineLinksToItsProduct(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := newCartShop(t, ta)
		buyer := authz.AnonymousSubject()
		created := s.do(t, buyer, `mutation($input: CartCreateInput!) { cartCreate(input: $input) { token userErrors { code } } }`,
			vars("input", vars("currency", "CNY", "lines", []any{vars("variantId", s.tea250, "quantity", 1), vars("variantId", s.tea100, "quantity", 1)})))
		token := created.str("cartCreate", "token")
		const read = `query($token: String) { cart(token: $token) { lines { sku productHandle selectedOptions { name value } problem } } }`
		lines := func(want string) {
			t.Helper()
			got := s.do(t, buyer, read, vars("token", token))
			var w map[string]any
			if err := json.Unmarshal([]byte(want), &w); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(w, got.Data); diff != "" {
				t.Fatalf("lines (-want +got):\n%s", diff)
			}
		}
		lines(`{"cart": {"lines": [
			{"sku": "TEA-250", "productHandle": "oolong-tea", "selectedOptions": [{"name": "Weight", "value": "250 g"}], "problem": null},
			{"sku": "TEA-100", "productHandle": "oolong-tea", "selectedOptions": [{"name": "Weight", "value": "100 g"}], "problem": null}]}}`)
		// The handle finds the product page's product.
		page := s.do(t, buyer, `query { product(handle: "oolong-tea") { id title } }`, nil)
		if title := page.str("product", "title"); title != "Oolong Tea" {
			t.Fatalf("the product of the line's handle: %q", title)
		}

		if _, err := ta.Catalog.ArchiveProduct(system(), page.str("product", "id")); err != nil {
			t.Fatal(err)
		}
		lines(`{"cart": {"lines": [
			{"sku": "", "productHandle": "", "selectedOptions": [], "problem": "VARIANT_ARCHIVED"},
			{"sku": "", "productHandle": "", "selectedOptions": [], "problem": "VARIANT_ARCHIVED"}]}}`)
	})
}
