package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/testkit"
)

// TestCatalogChangeElsewhereDropsCheckoutAnswers: another instance on
// the same database and bus changes the catalog (its rows and its event,
// nothing in this process's memory). This instance's checkout answers,
// kept for an hour here, follow as soon as the event arrives: a stock
// move drops the variants it moved, any other catalog event everything.
func TestCatalogChangeElsewhereDropsCheckoutAnswers(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		ctx := context.Background()
		staff := authz.WithSubject(ctx, authz.Subject{Kind: authz.KindStaff, ID: "stf_owner", Roles: []string{authz.RoleOwner}})
		variant := func(title, sku string) (productID, variantID string) {
			t.Helper()
			p, err := ta.Catalog.CreateProduct(staff, catalog.CreateProductInput{Title: title, Status: catalog.StatusActive,
				Variants: []catalog.VariantInput{{SKU: sku, InventoryQuantity: 4, Prices: []catalog.PriceInput{{Currency: "USD", Amount: "5.00"}}}}})
			if err != nil {
				t.Fatal(err)
			}
			vs, err := ta.Catalog.VariantsByProductIDs(staff, []string{p.ID})
			if err != nil {
				t.Fatal(err)
			}
			return p.ID, vs[p.ID][0].ID
		}
		_, tea := variant("Tea", "TEA")
		coffeeProduct, coffee := variant("Coffee", "COFFEE")

		// Only an event can refresh an answer within the test.
		r := catalog.NewCheckoutReader(ta.DB, catalog.CheckoutReaderOptions{CacheFor: time.Hour})
		read := func(id string) (price, available int64) {
			t.Helper()
			got, err := r.CheckoutVariants(ctx, []string{tea, coffee}, money.USD)
			if err != nil {
				t.Fatal(err)
			}
			v := got[id]
			if v.Price == nil {
				t.Fatalf("%s has no price", id)
			}
			return v.Price.Amount(), v.Available
		}
		if p, a := read(tea); p != 500 || a != 4 {
			t.Fatalf("first read: price %d, available %d", p, a)
		}
		// elsewhere writes as another instance does: rows and events in
		// one transaction, the events relayed to every instance's bus.
		elsewhere := func(stmt string, args []any, evs ...events.Event) {
			t.Helper()
			err := ta.DB.RunInTx(ctx, func(ctx context.Context) error {
				if _, err := ta.DB.ExecStmt(ctx, stmt, args...); err != nil {
					return err
				}
				return ta.Outbox.AddAll(ctx, evs...)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		event := func(subject string, payload any) events.Event {
			t.Helper()
			e, err := events.New(subject, payload)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}

		move := func(reference string) events.Event {
			return event(catalog.SubjectStockMoved, catalog.StockMovedEvent{Reference: reference, Reason: catalog.ReasonReserved,
				Variants: []catalog.StockMove{{VariantID: tea, ReservedDelta: 1}}})
		}
		prices := func(amount int64, evs ...events.Event) {
			t.Helper()
			elsewhere("UPDATE variant_prices SET amount = ? WHERE currency = 'USD' AND variant_id IN (?, ?)", []any{amount, tea, coffee}, evs...)
		}
		reserve := func(evs ...events.Event) {
			t.Helper()
			elsewhere("UPDATE inventory_levels SET reserved = reserved + 1 WHERE variant_id = ?", []any{tea}, evs...)
		}

		// A product changed elsewhere drops every answer. Each
		// subscription delivers in order, so once this is seen, so were
		// the product events of the set-up.
		prices(600, event(catalog.SubjectProductUpdated, catalog.ProductEvent{ProductID: coffeeProduct, Status: catalog.StatusActive}))
		waitFor(t, "a product changed elsewhere", func() bool {
			pt, _ := read(tea)
			pc, _ := read(coffee)
			return pt == 600 && pc == 600
		})
		// A stock move elsewhere drops what it moved (and is the same
		// barrier for the inventory events of the set-up).
		reserve(move("ord_1"))
		waitFor(t, "stock moved elsewhere", func() bool {
			_, a := read(tea)
			return a == 3
		})

		// Without an event, the answers stay: the cache is what is tested.
		// Each subject has its own subscription, so the barriers above
		// order only theirs: a late event of the set-up may still drop an
		// answer once. Then the answer must hold over the next change.
		cachedTea, cachedCoffee, amount := int64(600), int64(600), int64(700)
		for held := false; !held; amount++ {
			if amount > 704 {
				t.Fatalf("without an event the answers were read again (tea %d, coffee %d)", cachedTea, cachedCoffee)
			}
			prices(amount)
			pt, _ := read(tea)
			pc, _ := read(coffee)
			held = pt == cachedTea && pc == cachedCoffee
			if pt == amount {
				cachedTea = amount
			}
			if pc == amount {
				cachedCoffee = amount
			}
		}
		amount--
		// A stock move of tea drops tea's answer, not coffee's.
		reserve(move("ord_2"))
		waitFor(t, "the second stock move elsewhere", func() bool {
			p, a := read(tea)
			return p == amount && a == 2
		})
		if p, _ := read(coffee); p != cachedCoffee {
			t.Errorf("a stock move of tea dropped coffee too (price %d, cached %d)", p, cachedCoffee)
		}
	})
}
