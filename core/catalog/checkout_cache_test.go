package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// seedTea seeds the test shop and returns its service, the shop and the
// tea's first variant.
func seedTea(t *testing.T, db *store.DB) (*catalog.Service, catalogtest.Shop, string) {
	t.Helper()
	svc := catalogtest.NewService(db)
	shop := catalogtest.Seed(t, svc)
	vm, err := svc.VariantsByProductIDs(catalogtest.Staff(), []string{shop.Tea.ID})
	if err != nil {
		t.Fatal(err)
	}
	return svc, shop, vm[shop.Tea.ID][0].ID
}

// The checkout reader answers from memory until this instance changes
// what it answers (dropped at once) or its time to live runs out (the
// bound on another instance's changes), and never keeps what a
// transaction that changed the catalog read.
func TestCheckoutVariantsCache(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, _, tea := seedTea(t, db)
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
		// The reservation wrote its availability into the answer kept in
		// memory rather than dropping it: another instance's price change
		// is not read yet.
		elsewhere(7250)
		if err := res.Reserve(ctx, "ord_0", []catalog.ReservationLine{{VariantID: tea, Quantity: 1}}); err != nil {
			t.Fatal(err)
		}
		check("after a second reservation", read("reserved again"), 7200, 24)
		if err := res.Release(ctx, "ord_0", []catalog.ReservationLine{{VariantID: tea, Quantity: 1}}); err != nil {
			t.Fatal(err)
		}
		check("after its release", read("released again"), 7200, 25)
		elsewhere(7200)

		// A reservation rolled back changes nothing, and what the
		// transaction read of it is not kept.
		rollback := errors.New("rolled back")
		err := db.RunInTx(ctx, func(ctx context.Context) error {
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

// eventRecorder is an outbox that keeps what it is given.
type eventRecorder struct{ got []events.Event }

func (r *eventRecorder) Add(_ context.Context, e events.Event) error {
	r.got = append(r.got, e)
	return nil
}

// ForgetCheckoutAnswers drops what another instance's catalog event
// makes stale, and nothing for an event whose drop this process made
// itself or a move that left the available quantity as it was.
func TestForgetCheckoutAnswers(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, shop, tea := seedTea(t, db)
		r := catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{CacheFor: time.Hour})
		rec := &eventRecorder{}
		res := catalog.NewReservations(db, catalog.ReservationsOptions{Outbox: rec})
		price := func(step string) int64 {
			t.Helper()
			got, err := r.CheckoutVariants(ctx, []string{tea}, money.CNY)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			return got[tea].Price.Amount()
		}
		elsewhere := func(amount int64) {
			t.Helper()
			if _, err := db.ExecStmt(ctx, "UPDATE variant_prices SET amount = ? WHERE variant_id = ? AND currency = 'CNY'", amount, tea); err != nil {
				t.Fatal(err)
			}
		}
		forget := func(e events.Event) {
			t.Helper()
			if err := svc.ForgetCheckoutAnswers(ctx, e); err != nil {
				t.Fatal(err)
			}
		}

		if err := res.Reserve(ctx, "ord_1", []catalog.ReservationLine{{VariantID: tea, Quantity: 1}}); err != nil {
			t.Fatal(err)
		}
		if len(rec.got) != 1 {
			t.Fatalf("%d events", len(rec.got))
		}
		own := rec.got[0]
		if p := price("after the reservation"); p != 6800 {
			t.Fatalf("price %d", p)
		}
		elsewhere(7000)
		forget(own)
		if p := price("own event"); p != 6800 {
			t.Errorf("this process's own stock move dropped its variants again (price %d)", p)
		}
		shipped, err := events.New(catalog.SubjectStockMoved, catalog.StockMovedEvent{Reference: "shp_1", Reason: catalog.ReasonShipped,
			Variants: []catalog.StockMove{{VariantID: tea, OnHandDelta: -1, ReservedDelta: -1}}})
		if err != nil {
			t.Fatal(err)
		}
		forget(shipped)
		if p := price("shipment elsewhere"); p != 6800 {
			t.Errorf("a shipment, which leaves availability as it was, dropped the variant (price %d)", p)
		}
		// The same move arriving again, as another instance's would,
		// drops the variant now.
		forget(own)
		if p := price("the move again"); p != 7000 {
			t.Errorf("another instance's stock move kept the variant (price %d)", p)
		}
		elsewhere(7100)
		updated, err := events.New(catalog.SubjectProductUpdated, catalog.ProductEvent{ProductID: shop.Tea.ID})
		if err != nil {
			t.Fatal(err)
		}
		forget(updated)
		if p := price("product changed elsewhere"); p != 7100 {
			t.Errorf("another instance's product change kept the variant (price %d)", p)
		}
	})
}
