package catalog_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestStockOnHandIsBounded: adjustments each within the per-call bound
// must not add up to stock past MaxQuantity (and so past what GraphQL's
// 32-bit Int shows). The one that would cross it is refused with
// INVALID_QUANTITY and changes nothing; up to the bound is fine.
func TestStockOnHandIsBounded(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		ctx := catalogtest.Staff()
		vm, err := svc.VariantsByProductIDs(ctx, []string{shop.Tea.ID})
		if err != nil {
			t.Fatal(err)
		}
		v := vm[shop.Tea.ID][0].ID // 40 on hand
		onHand := func() int64 {
			t.Helper()
			lm, err := svc.InventoryLevels(ctx, []string{v})
			if err != nil {
				t.Fatal(err)
			}
			return lm[v].OnHand
		}
		start := onHand()

		// Up to the bound exactly.
		if _, l, err := svc.AdjustInventory(ctx, catalog.AdjustInventoryInput{VariantID: v, Delta: catalog.MaxQuantity - start, Reason: catalog.ReasonReceived}); err != nil || l.OnHand != catalog.MaxQuantity {
			t.Fatalf("adjust to the bound: level %+v, err %v", l, err)
		}
		before := counts(t, db)
		for _, delta := range []int64{1, catalog.MaxQuantity} {
			_, _, err := svc.AdjustInventory(ctx, catalog.AdjustInventoryInput{VariantID: v, Delta: delta, Reason: catalog.ReasonReceived})
			if diff := cmp.Diff([]string{"delta INVALID_QUANTITY"}, problems(err)); diff != "" {
				t.Fatalf("delta %d past the bound (-want +got):\n%s\nerr %v", delta, diff, err)
			}
		}
		if diff := cmp.Diff(before, counts(t, db)); diff != "" {
			t.Fatalf("refused adjustments wrote rows:\n%s", diff)
		}
		if got := onHand(); got != catalog.MaxQuantity {
			t.Fatalf("on hand = %d after refused adjustments, want %d", got, int64(catalog.MaxQuantity))
		}
		// Stock out still works at the bound.
		if _, l, err := svc.AdjustInventory(ctx, catalog.AdjustInventoryInput{VariantID: v, Delta: -catalog.MaxQuantity, Reason: catalog.ReasonCorrection}); err != nil || l.OnHand != 0 {
			t.Fatalf("adjust down from the bound: level %+v, err %v", l, err)
		}
	})
}
