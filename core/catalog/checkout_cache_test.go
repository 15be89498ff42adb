package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// The checkout reader answers from memory until this instance changes
// what it answers (dropped at once) or its time to live runs out (the
// bound on another instance's changes), and never keeps what a
// transaction that changed the catalog read.
func TestCheckoutVariantsCache(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		vm, err := svc.VariantsByProductIDs(catalogtest.Staff(), []string{shop.Tea.ID})
		if err != nil {
			t.Fatal(err)
		}
		tea := vm[shop.Tea.ID][0].ID
		clk := clock.NewFake(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
		r := catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{Clock: clk})
		res := catalog.NewReservations(db, catalog.ReservationsOptions{})
		read := func(step string) catalog.CheckoutVariant {
			t.Helper()
			got, err := r.CheckoutVariants(ctx, []string{tea}, money.CNY)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			return got[tea]
		}
		// Another instance's change, which this one hears nothing of.
		elsewhere := func(amount int64) {
			t.Helper()
			if _, err := db.ExecStmt(ctx, "UPDATE variant_prices SET amount = ? WHERE variant_id = ? AND currency = 'CNY'", amount, tea); err != nil {
				t.Fatal(err)
			}
		}
		check := func(step string, v catalog.CheckoutVariant, amount, available int64) {
			t.Helper()
			if v.Price == nil || v.Price.Amount() != amount || v.Available != available {
				t.Errorf("%s: price %v, available %d; want %d and %d", step, v.Price, v.Available, amount, available)
			}
		}

		check("first read", read("first read"), 6800, 40)
		elsewhere(7000)
		check("another instance's price, within the time to live", read("cached"), 6800, 40)
		clk.Advance(catalog.DefaultCheckoutCacheFor)
		check("after the time to live", read("expired"), 7000, 40)

		if _, err := svc.SetVariantPrices(catalogtest.Staff(), catalog.SetVariantPricesInput{VariantID: tea,
			Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "72.00"}}}); err != nil {
			t.Fatal(err)
		}
		check("this instance's price change", read("price set"), 7200, 40)

		if err := res.Reserve(ctx, "ord_1", []catalog.ReservationLine{{VariantID: tea, Quantity: 15}}); err != nil {
			t.Fatal(err)
		}
		check("after a reservation", read("reserved"), 7200, 25)

		// A reservation rolled back changes nothing, and what the
		// transaction read of it is not kept.
		rollback := errors.New("rolled back")
		err = db.RunInTx(ctx, func(ctx context.Context) error {
			if err := res.Reserve(ctx, "ord_2", []catalog.ReservationLine{{VariantID: tea, Quantity: 5}}); err != nil {
				return err
			}
			got, err := r.CheckoutVariants(ctx, []string{tea}, money.CNY)
			if err != nil {
				return err
			}
			check("inside the reserving transaction", got[tea], 7200, 20)
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		check("after the rollback", read("rolled back"), 7200, 25)

		if err := res.Release(ctx, "ord_1", []catalog.ReservationLine{{VariantID: tea, Quantity: 15}}); err != nil {
			t.Fatal(err)
		}
		check("after a release", read("released"), 7200, 40)

		off := catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{CacheFor: -1})
		elsewhere(7300)
		got, err := off.CheckoutVariants(ctx, []string{tea}, money.CNY)
		if err != nil {
			t.Fatal(err)
		}
		check("cache off", got[tea], 7300, 40)
	})
}
