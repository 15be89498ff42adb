package cart_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/tax"
)

// TestShippingAndTotals prices carts end to end: the methods offered for
// the cart's weight and subtotal (weight bands, free from a threshold),
// the chosen one's price, and tax at the address's rate (13 % in CN),
// exclusive and inclusive, in CNY and JPY.
func TestShippingAndTotals(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		cny := func(a int64) money.Money { return money.New(a, money.CNY) }
		jpy := func(a int64) money.Money { return money.New(a, money.JPY) }
		rate := func(id, name string, price money.Money) shipping.Rate {
			return shipping.Rate{MethodID: id, Name: name, Price: price}
		}
		totals := func(sub, ship, tax, total money.Money, included bool) pricing.Totals {
			return pricing.Totals{Subtotal: sub, Discounts: []pricing.Adjustment{}, DiscountTotal: money.Zero(sub.Currency()),
				Shipping: ship, Tax: tax, TaxIncluded: included, TaxName: "VAT", TaxBasisPoints: 1300, Total: total}
		}
		tests := []struct {
			name      string
			currency  string
			inclusive bool
			lines     []cart.LineInput
			method    *string
			offered   []shipping.Rate
			want      pricing.Totals
		}{
			{
				// 68.00 + 10.00 shipping; tax 8.84 + 1.30.
				name: "below the free threshold", lines: []cart.LineInput{{VariantID: f.tea100, Quantity: 1}}, method: &f.standard,
				offered: []shipping.Rate{rate(f.standard, "Standard", cny(1000)), rate(f.express, "Express", cny(1500))},
				want:    totals(cny(6800), cny(1000), cny(1014), cny(8814), false),
			},
			{
				// 204.00 ships free: tax 26.52 on the goods only.
				name: "from the free threshold", lines: []cart.LineInput{{VariantID: f.tea100, Quantity: 3}}, method: &f.standard,
				offered: []shipping.Rate{rate(f.standard, "Standard", cny(0)), rate(f.express, "Express", cny(1500))},
				want:    totals(cny(20400), cny(0), cny(2652), cny(23052), false),
			},
			{
				// 420 g: first band. Tax 8.84 + 19.24 + 1.95.
				name: "first weight band", lines: []cart.LineInput{{VariantID: f.tea100, Quantity: 1}, {VariantID: f.tea250, Quantity: 1}}, method: &f.express,
				offered: []shipping.Rate{rate(f.standard, "Standard", cny(0)), rate(f.express, "Express", cny(1500))},
				want:    totals(cny(21600), cny(1500), cny(3003), cny(26103), false),
			},
			{
				// 1500 g: second band. Tax 96.20 + 3.25.
				name: "second weight band", lines: []cart.LineInput{{VariantID: f.tea250, Quantity: 5}}, method: &f.express,
				offered: []shipping.Rate{rate(f.standard, "Standard", cny(0)), rate(f.express, "Express", cny(2500))},
				want:    totals(cny(74000), cny(2500), cny(9945), cny(86445), false),
			},
			{
				// 2700 g: no band takes it, Express is not offered.
				name: "heavier than every band", lines: []cart.LineInput{{VariantID: f.tea100, Quantity: 10}, {VariantID: f.tea250, Quantity: 5}}, method: &f.standard,
				offered: []shipping.Rate{rate(f.standard, "Standard", cny(0))},
				want:    totals(cny(142000), cny(0), cny(18460), cny(160460), false),
			},
			{
				// 68.00 holds 7.82 of tax (68.00 / 1.13 = 60.18), 10.00
				// holds 1.15.
				name: "prices include tax", inclusive: true, lines: []cart.LineInput{{VariantID: f.tea100, Quantity: 1}}, method: &f.standard,
				offered: []shipping.Rate{rate(f.standard, "Standard", cny(1000)), rate(f.express, "Express", cny(1500))},
				want:    totals(cny(6800), cny(1000), cny(897), cny(7800), true),
			},
			{
				// Yen: 13 % of 1005 is 130.65 -> 131, of 1000 is 130.
				name: "no minor unit", currency: "JPY", lines: []cart.LineInput{{VariantID: f.tea100, Quantity: 1}}, method: &f.standard,
				offered: []shipping.Rate{rate(f.standard, "Standard", jpy(1000))},
				want:    totals(jpy(1005), jpy(1000), jpy(261), jpy(2266), false),
			},
			{
				name: "no method chosen", lines: []cart.LineInput{{VariantID: f.tea100, Quantity: 1}},
				offered: []shipping.Rate{rate(f.standard, "Standard", cny(1000)), rate(f.express, "Express", cny(1500))},
				want:    totals(cny(6800), cny(0), cny(884), cny(7684), false),
			},
		}
		for _, tt := range tests {
			inclusive := tt.inclusive
			if _, err := f.shop.Update(staff(), shop.UpdateSettingsInput{PricesIncludeTax: &inclusive}); err != nil {
				t.Fatal(err)
			}
			ref := f.newGuestCart(t, tt.currency)
			mustCart(t)(f.svc.AddLines(guest(), ref, tt.lines))
			if _, err := f.svc.ShippingMethods(guest(), ref); !cmp.Equal(problems(err), []string{" SHIPPING_ADDRESS_REQUIRED"}) {
				t.Fatalf("%s: methods before an address: %v", tt.name, err)
			}
			c := mustCart(t)(f.svc.SetShippingAddress(guest(), ref, cnAddress(), nil))
			offered, err := f.svc.ShippingMethods(guest(), ref)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.offered, offered, moneyEqual); diff != "" {
				t.Errorf("%s: methods (-want +got):\n%s", tt.name, diff)
			}
			if tt.method != nil {
				c = mustCart(t)(f.svc.SetShippingMethod(guest(), ref, *tt.method))
				if c.ShippingRate == nil || c.ShippingRate.MethodID != *tt.method {
					t.Errorf("%s: shipping rate %+v", tt.name, c.ShippingRate)
				}
			}
			if diff := cmp.Diff(tt.want, c.Totals, moneyEqual); diff != "" {
				t.Errorf("%s: totals (-want +got):\n%s", tt.name, diff)
			}
			var lineTax, lineTotal int64
			for _, l := range c.Lines {
				lineTax += l.Tax.Amount()
				lineTotal += l.Total.Amount()
			}
			if shipTotal := c.Totals.Total.Amount() - lineTotal; lineTax > c.Totals.Tax.Amount() || shipTotal < c.Totals.Shipping.Amount() {
				t.Errorf("%s: lines carry tax %d and total %d, more than the cart's", tt.name, lineTax, lineTotal)
			}
		}
	})
}

func TestSetShippingMethod(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ref := f.newGuestCart(t, "")
		mustCart(t)(f.svc.AddLines(guest(), ref, []cart.LineInput{{VariantID: f.tea100, Quantity: 1}}))
		if _, err := f.svc.SetShippingMethod(guest(), ref, f.standard); !cmp.Equal(problems(err), []string{" SHIPPING_ADDRESS_REQUIRED"}) {
			t.Fatalf("before an address: %v", err)
		}
		mustCart(t)(f.svc.SetShippingAddress(guest(), ref, cnAddress(), nil))
		for _, m := range []string{f.overseas, "shm_unknown"} {
			if _, err := f.svc.SetShippingMethod(guest(), ref, m); !cmp.Equal(problems(err), []string{"methodId SHIPPING_METHOD_UNAVAILABLE"}) {
				t.Fatalf("method %s: %v", m, err)
			}
		}
		if _, err := f.svc.SetShippingMethod(guest(), ref, ""); !cmp.Equal(problems(err), []string{"methodId REQUIRED"}) {
			t.Fatalf("no method: %v", err)
		}
		c := mustCart(t)(f.svc.SetShippingMethod(guest(), ref, f.express))
		if c.ShippingMethodID != f.express || c.Totals.Shipping != money.New(1500, money.CNY) {
			t.Fatalf("method %s, shipping %v", c.ShippingMethodID, c.Totals.Shipping)
		}
		// Moved to the US: Express no longer ships the cart. The cart
		// keeps the choice, shows no rate, and checkout refuses it.
		us := order.Address{FirstName: "Ann", Line1: "1 Main St", City: "Springfield", Province: "IL", CountryCode: "US"}
		c = mustCart(t)(f.svc.SetShippingAddress(guest(), ref, us, nil))
		if c.ShippingMethodID != f.express || c.ShippingRate != nil || c.Totals.Shipping != money.Zero(money.CNY) || c.Totals.Tax != money.Zero(money.CNY) {
			t.Fatalf("after the move: method %s, rate %+v, totals %+v", c.ShippingMethodID, c.ShippingRate, c.Totals)
		}
		mustCart(t)(f.svc.SetEmail(guest(), ref, "buyer@example.com"))
		if _, err := f.svc.Complete(guest(), ref, "key-1"); !cmp.Equal(problems(err), []string{"shippingMethodId SHIPPING_METHOD_UNAVAILABLE"}) {
			t.Fatalf("checkout with a method that does not ship: %v", err)
		}
		if c = mustCart(t)(f.svc.SetShippingMethod(guest(), ref, f.overseas)); c.Totals.Shipping != money.New(14000, money.CNY) {
			t.Fatalf("overseas shipping %v", c.Totals.Shipping)
		}
	})
}

func TestComplete(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		keyCount := func() int64 {
			n, err := db.NewSelect().Table("idempotency_keys").Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		reserved := func(variantID string) int64 {
			var r int64
			if err := db.NewSelect().Table("inventory_levels").Column("reserved").Where("variant_id = ?", variantID).Scan(ctx, &r); err != nil {
				t.Fatal(err)
			}
			return r
		}

		// Not ready: every missing part at once, and nothing kept.
		empty := f.newGuestCart(t, "")
		_, err := f.svc.Complete(guest(), empty, "key-empty")
		want := []string{"lines CART_EMPTY", "email EMAIL_REQUIRED", "shippingAddress SHIPPING_ADDRESS_REQUIRED", "shippingMethodId SHIPPING_METHOD_REQUIRED"}
		if diff := cmp.Diff(want, problems(err)); diff != "" {
			t.Fatalf("not ready (-want +got):\n%s", diff)
		}
		if keyCount() != 0 {
			t.Fatal("a refused checkout kept its idempotency key")
		}

		// A guest's checkout.
		ref := f.newGuestCart(t, "")
		c := f.ready(t, guest(), ref, f.standard, cart.LineInput{VariantID: f.tea100, Quantity: 2}, cart.LineInput{VariantID: f.tea250, Quantity: 1})
		bill := order.Address{LastName: "Chan", Line1: "2 Harbour Road", City: "Hong Kong", CountryCode: "HK"}
		c = mustCart(t)(f.svc.SetBillingAddress(guest(), ref, bill, nil))
		placed, err := f.svc.Complete(guest(), ref, "key-1")
		if err != nil {
			t.Fatal(err)
		}
		calls := f.placer.placed()
		if len(calls) != 1 {
			t.Fatalf("placed %d orders, want 1", len(calls))
		}
		cny := func(a int64) money.Money { return money.New(a, money.CNY) }
		wantIn := order.PlaceInput{
			CartID: c.ID, Email: "buyer@example.com", Currency: money.CNY,
			ShippingAddress: cnAddress(), BillingAddress: bill, ShippingMethodID: f.standard, ShippingMethodName: "Standard",
			Lines: []order.PlaceLine{
				{VariantID: f.tea100, ProductID: c.Lines[0].ProductID, SKU: "TEA-100", ProductTitle: "Oolong Tea", VariantTitle: "100 g",
					WeightGrams: 120, Quantity: 2, UnitPrice: cny(6800), Subtotal: cny(13600), Discount: cny(0), Tax: cny(1768), Total: cny(15368)},
				{VariantID: f.tea250, ProductID: c.Lines[0].ProductID, SKU: "TEA-250", ProductTitle: "Oolong Tea", VariantTitle: "250 g",
					WeightGrams: 300, Quantity: 1, UnitPrice: cny(14800), Subtotal: cny(14800), Discount: cny(0), Tax: cny(1924), Total: cny(16724)},
			},
			Totals: pricing.Totals{Subtotal: cny(28400), Discounts: []pricing.Adjustment{}, DiscountTotal: cny(0), Shipping: cny(0),
				Tax: cny(3692), TaxName: "VAT", TaxBasisPoints: 1300, Total: cny(32092)},
		}
		// The cart names the order before placing it: it marks itself
		// completed by it with its lock.
		if calls[0].OrderID == "" || calls[0].OrderID != placed.Order.ID {
			t.Fatalf("place input names order %q, placed %q", calls[0].OrderID, placed.Order.ID)
		}
		wantIn.OrderID = calls[0].OrderID
		// It chooses the guest's token too: its idempotency answer,
		// stored before placing, names it.
		if calls[0].AccessToken == "" || calls[0].AccessToken != placed.AccessToken {
			t.Fatalf("place input gives token %q, placed %q", calls[0].AccessToken, placed.AccessToken)
		}
		wantIn.AccessToken = calls[0].AccessToken
		if diff := cmp.Diff(wantIn, calls[0], moneyEqual); diff != "" {
			t.Fatalf("place input (-want +got):\n%s", diff)
		}
		if placed.AccessToken == "" || placed.Order.CartID != c.ID {
			t.Fatalf("placed %+v", placed)
		}
		done := mustCart(t)(f.svc.Get(guest(), ref))
		if !done.Completed() || done.OrderID != placed.Order.ID {
			t.Fatalf("cart after checkout: completed %v, order %q", done.CompletedAt, done.OrderID)
		}
		if reserved(f.tea100) != 2 || reserved(f.tea250) != 1 {
			t.Fatal("stock not reserved")
		}

		// A retry with the same key: the same order, token included,
		// and no second order.
		again, err := f.svc.Complete(guest(), ref, "key-1")
		if err != nil {
			t.Fatal(err)
		}
		if !again.Replayed || placed.Replayed {
			t.Errorf("Replayed: first %v, retry %v; want false, true", placed.Replayed, again.Replayed)
		}
		if diff := cmp.Diff(placed, again, moneyEqual, cmpopts.IgnoreFields(order.Placed{}, "Replayed")); diff != "" {
			t.Fatalf("retry answered another order (-first +retry):\n%s", diff)
		}
		if len(f.placer.placed()) != 1 || reserved(f.tea100) != 2 {
			t.Fatal("a retry placed a second order")
		}

		// The cart changes no more, whatever the key.
		for name, do := range map[string]func() error{
			"complete with another key": func() error { _, err := f.svc.Complete(guest(), ref, "key-2"); return err },
			"add lines": func() error {
				_, err := f.svc.AddLines(guest(), ref, []cart.LineInput{{VariantID: f.tea100, Quantity: 1}})
				return err
			},
			"set email": func() error { _, err := f.svc.SetEmail(guest(), ref, "other@example.com"); return err },
		} {
			if err := do(); !cmp.Equal(problems(err), []string{" CART_COMPLETED"}) {
				t.Errorf("%s after checkout: %v", name, err)
			}
		}

		// The key belongs to its first cart: the same caller naming
		// another cart with it is refused. (Another caller's key of the
		// same text is another key: TestCheckoutKeysAreTheCallers.)
		other := f.newGuestCart(t, "")
		f.ready(t, guest(), other, f.standard, cart.LineInput{VariantID: f.tea100, Quantity: 1})
		if _, err := f.svc.Complete(guest(), cart.Ref{ID: mustCart(t)(f.svc.Get(guest(), other)).ID, Token: ref.Token}, "key-1"); !cmp.Equal(problems(err), []string{"idempotencyKey IDEMPOTENCY_KEY_REUSED"}) {
			t.Fatalf("a key of another cart: %v", err)
		}
		if _, err := f.svc.Complete(guest(), other, "bad\nkey"); !cmp.Equal(problems(err), []string{"idempotencyKey INVALID_IDEMPOTENCY_KEY"}) {
			t.Fatalf("a bad key: %v", err)
		}

		// Placement short of stock: the error comes back typed, and the
		// order's reservation, the completed cart and the key all roll
		// back; a retry with the same key places the order.
		f.placer.failAfter = true
		_, err = f.svc.Complete(guest(), other, "key-3")
		var short *catalog.InsufficientStockError
		if !errors.As(err, &short) || !cmp.Equal(problems(err), []string{"lines.0.quantity INSUFFICIENT_STOCK"}) || !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("placement short of stock: %v", err)
		}
		if reserved(f.tea100) != 2 || mustCart(t)(f.svc.Get(guest(), other)).Completed() {
			t.Fatal("a failed placement kept its reservation or completed the cart")
		}
		f.placer.failAfter = false
		if _, err := f.svc.Complete(guest(), other, "key-3"); err != nil {
			t.Fatalf("retry after a failed placement: %v", err)
		}
		if reserved(f.tea100) != 3 {
			t.Fatal("the retry did not place the order")
		}

		// A buyer's checkout names their open cart; a retry naming it
		// the same way answers the order although the cart is no longer
		// open, and the buyer may start a new cart.
		alice := buyer("cus_alice")
		if _, err := f.svc.Create(alice, ""); err != nil {
			t.Fatal(err)
		}
		f.ready(t, alice, cart.Ref{}, f.express, cart.LineInput{VariantID: f.tea250, Quantity: 1})
		first, err := f.svc.Complete(alice, cart.Ref{}, "alice-1")
		if err != nil {
			t.Fatal(err)
		}
		if in := f.placer.placed()[2]; in.CustomerID != "cus_alice" || in.BillingAddress != cnAddress() || first.AccessToken != "" {
			t.Fatalf("buyer's order: customer %q, billing %+v, token %q", in.CustomerID, in.BillingAddress, first.AccessToken)
		}
		if again, err := f.svc.Complete(alice, cart.Ref{}, "alice-1"); err != nil || again.Order.ID != first.Order.ID {
			t.Fatalf("buyer's retry: %v, %v", again, err)
		}
		// Alice's key is hers: Bob sending it checks out his own open
		// cart (he has none), and learns nothing of hers.
		if _, err := f.svc.Complete(buyer("cus_bob"), cart.Ref{}, "alice-1"); !cmp.Equal(problems(err), []string{" CART_NOT_FOUND"}) {
			t.Fatalf("another buyer with alice's key: %v", err)
		}
		if _, err := f.svc.Create(alice, ""); err != nil {
			t.Fatalf("a new cart after checkout: %v", err)
		}
		// A new empty cart does not stop a retry; once it holds lines,
		// the old key is another checkout's and is refused, and the new
		// cart stays open for a new key.
		if again, err := f.svc.Complete(alice, cart.Ref{}, "alice-1"); err != nil || again.Order.ID != first.Order.ID {
			t.Fatalf("buyer's retry beside a new empty cart: %v, %v", again, err)
		}
		f.ready(t, alice, cart.Ref{}, f.express, cart.LineInput{VariantID: f.tea250, Quantity: 1})
		if _, err := f.svc.Complete(alice, cart.Ref{}, "alice-1"); !cmp.Equal(problems(err), []string{"idempotencyKey IDEMPOTENCY_KEY_REUSED"}) {
			t.Fatalf("an old key on the buyer's new cart: %v", err)
		}
		if second, err := f.svc.Complete(alice, cart.Ref{}, "alice-2"); err != nil || second.Order.ID == first.Order.ID {
			t.Fatalf("the new cart with a new key: %v, %v", second, err)
		}
	})
}

// TestCompleteConcurrent: retries racing with the same key place one
// order and all answer it; checkouts racing with different keys place
// one order and the others find the cart completed.
func TestCompleteConcurrent(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const n = 8
		for _, sameKey := range []bool{true, false} {
			ref := f.newGuestCart(t, "")
			f.ready(t, guest(), ref, f.standard, cart.LineInput{VariantID: f.tea100, Quantity: 1})
			before := len(f.placer.placed())
			var wg sync.WaitGroup
			orders := make([]string, n)
			failures := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					key := "same"
					if !sameKey {
						key = fmt.Sprintf("key-%d", i)
					}
					p, err := f.svc.Complete(guest(), ref, key+"-"+ref.Token[:8])
					if err != nil {
						failures[i] = err
						return
					}
					orders[i] = p.Order.ID
				}()
			}
			wg.Wait()
			if got := len(f.placer.placed()) - before; got != 1 {
				t.Fatalf("same key %v: %d orders placed, want 1", sameKey, got)
			}
			placed := f.placer.placed()[before]
			won := 0
			for i := range n {
				switch {
				case failures[i] == nil && orders[i] == mustCart(t)(f.svc.Get(guest(), ref)).OrderID:
					won++
				case failures[i] != nil && !sameKey && cmp.Equal(problems(failures[i]), []string{" CART_COMPLETED"}):
				default:
					t.Errorf("same key %v, caller %d: order %q, err %v", sameKey, i, orders[i], failures[i])
				}
			}
			if want := map[bool]int{true: n, false: 1}[sameKey]; won != want || placed.CartID == "" {
				t.Errorf("same key %v: %d callers got the order, want %d", sameKey, won, want)
			}
		}
	})
}

func TestCompleteWithoutPlacer(t *testing.T) {
	db := storetest.NewSQLite(t)
	f := newFixture(t, db)
	keys, err := idempotency.NewKeys(db, idempotency.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := cart.NewService(db, cart.Options{Authz: authz.AllowAll{}, Catalog: catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{}),
		Rates: f.rates, TaxRates: f.taxRates, Settings: f.shop, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Complete(guest(), cart.Ref{Token: "x"}, "k"); !errors.Is(err, errs.ErrUnavailable) || !cmp.Equal(problems(err), []string{" CHECKOUT_UNAVAILABLE"}) {
		t.Fatalf("checkout without an order service: %v", err)
	}
}

func TestMerge(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		line := func(v string, q int64) cart.LineInput { return cart.LineInput{VariantID: v, Quantity: q} }

		// A buyer without a cart takes the guest cart as it is.
		g := f.newGuestCart(t, "")
		gc := mustCart(t)(f.svc.AddLines(guest(), g, []cart.LineInput{line(f.tea100, 2)}))
		got, err := f.svc.Merge(buyer("cus_alice"), g.Token)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != gc.ID || got.CustomerID == nil || *got.CustomerID != "cus_alice" || quantities(got)[f.tea100] != 2 {
			t.Fatalf("adopted cart %+v", got)
		}
		if mine := mustCart(t)(f.svc.Get(buyer("cus_alice"), cart.Ref{})); mine.ID != gc.ID {
			t.Fatalf("alice's open cart is %s, want the adopted %s", mine.ID, gc.ID)
		}
		if _, err := f.svc.Get(guest(), g); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("the guest token still reaches the adopted cart: %v", err)
		}

		// A buyer with a cart: quantities add up to the line limit (10)
		// and the stock (5 large packs), never below what the buyer had;
		// the buyer's email stays, the guest's address fills the gap.
		bob := buyer("cus_bob")
		if _, err := f.svc.Create(bob, ""); err != nil {
			t.Fatal(err)
		}
		mustCart(t)(f.svc.AddLines(bob, cart.Ref{}, []cart.LineInput{line(f.tea100, 8), line(f.tea250, 3)}))
		mustCart(t)(f.svc.SetEmail(bob, cart.Ref{}, "bob@example.com"))
		g2 := f.newGuestCart(t, "")
		mustCart(t)(f.svc.AddLines(guest(), g2, []cart.LineInput{line(f.tea100, 5), line(f.tea250, 4)}))
		mustCart(t)(f.svc.SetEmail(guest(), g2, "guest@example.com"))
		mustCart(t)(f.svc.SetShippingAddress(guest(), g2, cnAddress(), nil))
		merged, err := f.svc.Merge(bob, g2.Token)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int64{f.tea100: 10, f.tea250: 5}, quantities(merged)); diff != "" {
			t.Fatalf("merged lines (-want +got):\n%s", diff)
		}
		if merged.Email != "bob@example.com" || merged.ShippingAddress == nil || *merged.ShippingAddress != cnAddress() {
			t.Fatalf("merged email %q, address %+v", merged.Email, merged.ShippingAddress)
		}
		if _, err := f.svc.Get(guest(), g2); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("the merged guest cart is still reached: %v", err)
		}

		// Variants not sold in the buyer's cart's currency stay behind.
		carol := buyer("cus_carol")
		if _, err := f.svc.Create(carol, "USD"); err != nil {
			t.Fatal(err)
		}
		mustCart(t)(f.svc.AddLines(carol, cart.Ref{}, []cart.LineInput{line(f.tea100, 1)}))
		g3 := f.newGuestCart(t, "CNY")
		mustCart(t)(f.svc.AddLines(guest(), g3, []cart.LineInput{line(f.tea250, 2), line(f.tea100, 1)}))
		if merged = mustCart(t)(f.svc.Merge(carol, g3.Token)); !cmp.Equal(quantities(merged), map[string]int64{f.tea100: 2}) ||
			merged.Currency != money.USD || merged.Totals.Subtotal != money.New(1900, money.USD) {
			t.Fatalf("merged into a USD cart: %v, %v", quantities(merged), merged.Totals.Subtotal)
		}

		// A buyer holding more than is left keeps their quantity.
		if err := f.placer.res.Reserve(context.Background(), "ord_x", []catalog.ReservationLine{{VariantID: f.tea250, Quantity: 3}}); err != nil {
			t.Fatal(err)
		}
		g4 := f.newGuestCart(t, "")
		mustCart(t)(f.svc.AddLines(guest(), g4, []cart.LineInput{line(f.tea250, 1)}))
		if merged = mustCart(t)(f.svc.Merge(bob, g4.Token)); quantities(merged)[f.tea250] != 5 {
			t.Fatalf("large packs after the merge: %d, want bob's 5 kept", quantities(merged)[f.tea250])
		}

		// A guest cart that was checked out is not merged.
		g5 := f.newGuestCart(t, "")
		f.ready(t, guest(), g5, f.standard, line(f.tea100, 1))
		if _, err := f.svc.Complete(guest(), g5, "g5"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Merge(bob, g5.Token); !cmp.Equal(problems(err), []string{" CART_COMPLETED"}) {
			t.Fatalf("merge of a completed cart: %v", err)
		}

		for name, tt := range map[string]struct {
			ctx   context.Context
			token string
			want  string
		}{
			"a guest":         {guest(), f.newGuestCart(t, "").Token, "UNAUTHENTICATED"},
			"staff":           {staff(), f.newGuestCart(t, "").Token, "FORBIDDEN"},
			"an unknown cart": {bob, "no-such-token", cart.CodeCartNotFound},
			"no token":        {bob, "", cart.CodeCartNotFound},
		} {
			if _, err := f.svc.Merge(tt.ctx, tt.token); !cmp.Equal(problems(err), []string{" " + tt.want}) {
				t.Errorf("%s: %v, want %s", name, err, tt.want)
			}
		}
	})
}

// TestCheckoutKeysAreTheCallers: a buyer's idempotency keys are theirs.
// Two guests, or a guest and a signed-in buyer, sending the same key each
// check out their own cart and never learn of the other's key; each one's
// retry answers their own order; the same caller sending the key for
// another cart is still refused.
func TestCheckoutKeysAreTheCallers(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		const key = "chk-predictable"
		a, b := f.newGuestCart(t, ""), f.newGuestCart(t, "")
		f.ready(t, guest(), a, f.standard, cart.LineInput{VariantID: f.tea100, Quantity: 1})
		f.ready(t, guest(), b, f.standard, cart.LineInput{VariantID: f.tea100, Quantity: 1})
		carol := buyer("cus_carol")
		if _, err := f.svc.Create(carol, ""); err != nil {
			t.Fatal(err)
		}
		f.ready(t, carol, cart.Ref{}, f.standard, cart.LineInput{VariantID: f.tea100, Quantity: 1})

		orders := map[string]string{}
		for _, c := range []struct {
			name string
			ctx  context.Context
			ref  cart.Ref
		}{
			{"guest A", guest(), a},
			{"guest B, A's key", guest(), b},
			{"carol, the guests' key", carol, cart.Ref{}},
		} {
			p, err := f.svc.Complete(c.ctx, c.ref, key)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if p.Replayed {
				t.Fatalf("%s: answered another buyer's order %s", c.name, p.Order.ID)
			}
			orders[c.name] = p.Order.ID
		}
		if n := len(f.placer.placed()); n != 3 {
			t.Fatalf("%d orders placed, want one per buyer", n)
		}
		// Each retry answers the caller's own order.
		if p, err := f.svc.Complete(guest(), b, key); err != nil || !p.Replayed || p.Order.ID != orders["guest B, A's key"] {
			t.Fatalf("guest B's retry: %+v, %v", p, err)
		}
		if p, err := f.svc.Complete(carol, cart.Ref{}, key); err != nil || !p.Replayed || p.Order.ID != orders["carol, the guests' key"] {
			t.Fatalf("carol's retry: %+v, %v", p, err)
		}
		// Carol, her key for another of her carts: refused.
		if _, err := f.svc.Create(carol, ""); err != nil {
			t.Fatal(err)
		}
		next := f.ready(t, carol, cart.Ref{}, f.standard, cart.LineInput{VariantID: f.tea100, Quantity: 1})
		if _, err := f.svc.Complete(carol, cart.Ref{ID: next.ID}, key); !cmp.Equal(problems(err), []string{"idempotencyKey IDEMPOTENCY_KEY_REUSED"}) {
			t.Fatalf("carol's key for another cart: %v", err)
		}
		if n := len(f.placer.placed()); n != 3 {
			t.Fatalf("%d orders placed, want 3", n)
		}
	})
}

// setLegacyPrice sets a variant's price in cur to amount minor units in
// the database, as a price set before money.MaxPrice bounded them may
// be, and drops what the checkout reader kept.
func (f *fixture) setLegacyPrice(t *testing.T, variantID string, cur money.Currency, amount int64) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.db.NewRaw("UPDATE variant_prices SET amount = ? WHERE variant_id = ? AND currency = ?",
		amount, variantID, cur.Code()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.catalog.ForgetCheckoutAnswers(ctx, events.Event{Subject: "test.price.changed"}); err != nil {
		t.Fatal(err)
	}
}

// TestAmountTooLarge: a cart whose money overflows int64 (a price set
// before money.MaxPrice) is refused with AMOUNT_TOO_LARGE by the change
// that would make it so and by checkout, which then keeps nothing.
func TestAmountTooLarge(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.setLegacyPrice(t, f.tea100, money.CNY, math.MaxInt64)
		tooLarge := []string{"lines " + cart.CodeAmountTooLarge}

		ref := f.newGuestCart(t, "")
		_, err := f.svc.AddLines(guest(), ref, []cart.LineInput{{VariantID: f.tea100, Quantity: 2}})
		if diff := cmp.Diff(tooLarge, problems(err)); diff != "" {
			t.Fatalf("add 2 (-want +got):\n%s\nerr: %v", diff, err)
		}
		if c := mustCart(t)(f.svc.Get(guest(), ref)); len(c.Lines) != 0 {
			t.Fatalf("the refused add left %d lines", len(c.Lines))
		}
		c := mustCart(t)(f.svc.AddLines(guest(), ref, []cart.LineInput{{VariantID: f.tea100, Quantity: 1}}))
		if got := c.Totals.Total.Amount(); got != math.MaxInt64 {
			t.Fatalf("total of one unit = %d, want %d", got, int64(math.MaxInt64))
		}
		_, err = f.svc.UpdateLines(guest(), ref, []cart.LineUpdate{{LineID: c.Lines[0].ID, Quantity: 3}})
		if diff := cmp.Diff(tooLarge, problems(err)); diff != "" {
			t.Fatalf("update to 3 (-want +got):\n%s\nerr: %v", diff, err)
		}
		if c := mustCart(t)(f.svc.Get(guest(), ref)); c.Lines[0].Quantity != 1 {
			t.Fatalf("the refused update left quantity %d", c.Lines[0].Quantity)
		}

		// A cart made ready at a sane price, whose price then becomes one
		// its tax and shipping overflow: checkout keeps nothing, and the
		// same key checks the cart out once the price is fixed.
		f.setLegacyPrice(t, f.tea100, money.CNY, 6800)
		ref = f.newGuestCart(t, "")
		f.ready(t, guest(), ref, f.express, cart.LineInput{VariantID: f.tea100, Quantity: 2})
		f.setLegacyPrice(t, f.tea100, money.CNY, math.MaxInt64/2)
		_, err = f.svc.Complete(guest(), ref, "key-large")
		if diff := cmp.Diff(tooLarge, problems(err)); diff != "" {
			t.Fatalf("complete (-want +got):\n%s\nerr: %v", diff, err)
		}
		if n := len(f.placer.placed()); n != 0 {
			t.Fatalf("placed %d orders", n)
		}
		f.setLegacyPrice(t, f.tea100, money.CNY, 6800)
		if _, err := f.svc.Complete(guest(), ref, "key-large"); err != nil {
			t.Fatalf("complete after the price is fixed: %v", err)
		}
	})
}

// TestCurrencyNoLongerSold: a cart in a currency the shop stopped selling
// in takes no more units and does not check out (CURRENCY_NOT_SUPPORTED,
// nothing kept, the idempotency key still free), and a buyer's such cart
// gives way to a new one.
func TestCurrencyNoLongerSold(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		sell := func(codes ...string) {
			t.Helper()
			if _, err := f.shop.Update(catalogtest.Staff(), shop.UpdateSettingsInput{Currencies: &codes}); err != nil {
				t.Fatal(err)
			}
		}
		notSold := []string{"currencyCode " + cart.CodeCurrencyNotSupported}
		ref := f.newGuestCart(t, "USD")
		c := f.ready(t, guest(), ref, f.standard, cart.LineInput{VariantID: f.tea100, Quantity: 2})
		alice := buyer("cus_alice")
		if _, err := f.svc.Create(alice, "USD"); err != nil {
			t.Fatal(err)
		}
		own := f.ready(t, alice, cart.Ref{}, f.standard, cart.LineInput{VariantID: f.tea100, Quantity: 3})
		sell("CNY", "JPY")

		_, err := f.svc.Complete(guest(), ref, "key-usd")
		if diff := cmp.Diff(notSold, problems(err)); diff != "" {
			t.Fatalf("complete (-want +got):\n%s\nerr: %v", diff, err)
		}
		n, err := db.NewSelect().Table("idempotency_keys").Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if placed := len(f.placer.placed()); placed != 0 || n != 0 {
			t.Fatalf("the refused checkout placed %d orders and kept %d keys", placed, n)
		}
		for name, change := range map[string]func() (*cart.Cart, error){
			"add": func() (*cart.Cart, error) {
				return f.svc.AddLines(guest(), ref, []cart.LineInput{{VariantID: f.tea100, Quantity: 1}})
			},
			"update": func() (*cart.Cart, error) {
				return f.svc.UpdateLines(guest(), ref, []cart.LineUpdate{{LineID: c.Lines[0].ID, Quantity: 1}})
			},
		} {
			if _, err := change(); !cmp.Equal(notSold, problems(err)) {
				t.Errorf("%s: problems %v, want %v", name, problems(err), notSold)
			}
		}
		if got := quantities(mustCart(t)(f.svc.Get(guest(), ref))); got[f.tea100] != 2 {
			t.Fatalf("refused changes left %v", got)
		}

		// The buyer's USD cart gives way to a CNY one with its lines and
		// address.
		created, err := f.svc.Create(alice, "")
		if err != nil {
			t.Fatal(err)
		}
		if created.Cart.ID == own.ID || created.Cart.Currency != money.CNY || created.Cart.ShippingAddress == nil ||
			!cmp.Equal(map[string]int64{f.tea100: 3}, quantities(created.Cart)) {
			t.Fatalf("new cart %+v", created.Cart)
		}
		if got := mustCart(t)(f.svc.Get(alice, cart.Ref{})); got.ID != created.Cart.ID {
			t.Fatalf("the buyer's open cart is %s, want the new %s", got.ID, created.Cart.ID)
		}
		if _, err := f.svc.Create(alice, ""); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("a second cart in a currency sold: %v, want CART_EXISTS", err)
		}

		// Selling in USD again, the same key checks the guest cart out.
		sell("CNY", "USD", "JPY")
		placed, err := f.svc.Complete(guest(), ref, "key-usd")
		if err != nil {
			t.Fatal(err)
		}
		if placed.Order.Currency != money.USD {
			t.Fatalf("order in %s, want USD", placed.Order.Currency)
		}
	})
}

// TestProvinceWhereTaxDependsOnIt: once the shop taxes a region of a
// country apart (Guangdong at 9% beside China's 13%), an address there
// must name its province in a way Kassa reads: the code or the name, as
// typed; anything else is refused when it is set, and at checkout for an
// address set before the rate existed. Spelled out, the region's rate
// applies.
func TestProvinceWhereTaxDependsOnIt(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ref := f.newGuestCart(t, "")
		mustCart(t)(f.svc.AddLines(guest(), ref, []cart.LineInput{{VariantID: f.tea100, Quantity: 1}}))
		mustCart(t)(f.svc.SetEmail(guest(), ref, "buyer@example.com"))
		at := func(province string) order.Address {
			a := cnAddress()
			a.Province = province
			return a
		}
		// Before any regional rate, the province is free text.
		mustCart(t)(f.svc.SetShippingAddress(guest(), ref, at("岭南"), nil))
		mustCart(t)(f.svc.SetShippingMethod(guest(), ref, f.standard))

		if _, err := f.taxes.CreateRate(context.Background(), tax.RateInput{Country: "CN", Region: "GD", Name: "VAT Guangdong", BasisPoints: 900}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Complete(guest(), ref, "key-province"); !cmp.Equal(problems(err), []string{"shippingAddress.province INVALID_PROVINCE"}) {
			t.Fatalf("checkout with a province nobody can read: %v", err)
		}
		for _, c := range []struct{ province, want string }{
			{"", "address.province PROVINCE_REQUIRED"},
			{"Guangdong Province", "address.province INVALID_PROVINCE"},
			{"G D", "address.province INVALID_PROVINCE"},
		} {
			if _, err := f.svc.SetShippingAddress(guest(), ref, at(c.province), nil); !cmp.Equal(problems(err), []string{c.want}) {
				t.Errorf("province %q: %v, want %s", c.province, err, c.want)
			}
		}
		if c := mustCart(t)(f.svc.Get(guest(), ref)); c.ShippingAddress.Province != "岭南" {
			t.Fatalf("a refused address was saved: %+v", c.ShippingAddress)
		}
		for _, province := range []string{"GD", "cn-gd", "Guangdong Sheng", "广东省", "广东"} {
			c := mustCart(t)(f.svc.SetShippingAddress(guest(), ref, at(province), nil))
			// 68.00 plus 10.00 shipping, tax 9% on top, rounded.
			if c.ShippingAddress.Province != province || c.Totals.Tax != money.New(702, money.CNY) {
				t.Errorf("province %q: saved %q, tax %v; want it as typed and Guangdong's 9%%", province, c.ShippingAddress.Province, c.Totals.Tax)
			}
		}
		// Elsewhere in the world nothing changes: the US has no regional rate.
		us := order.Address{FirstName: "Ann", Line1: "1 Main St", City: "Springfield", Province: "Somewhere", CountryCode: "US"}
		mustCart(t)(f.svc.SetShippingAddress(guest(), ref, us, nil))
		mustCart(t)(f.svc.SetShippingAddress(guest(), ref, at("Guangdong Sheng"), nil))
		if _, err := f.svc.Complete(guest(), ref, "key-province"); err != nil {
			t.Fatalf("checkout with a province named: %v", err)
		}
	})
}
