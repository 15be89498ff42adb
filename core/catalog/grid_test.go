package catalog_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// gridFromBatchGetters builds what VariantGrid must answer from the three
// batch getters it stands in for, without what it does not read (the
// timestamps).
func gridFromBatchGetters(t *testing.T, ctx context.Context, svc *catalog.Service, ids []string, cur money.Currency) map[string][]catalog.GridVariant {
	t.Helper()
	vm, err := svc.VariantsByProductIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	var vids []string
	for _, vs := range vm {
		for _, v := range vs {
			vids = append(vids, v.ID)
		}
	}
	prices, err := svc.PricesByVariantIDs(ctx, vids)
	if err != nil {
		t.Fatal(err)
	}
	levels, err := svc.InventoryLevels(ctx, vids)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]catalog.GridVariant{}
	for pid, vs := range vm {
		for _, v := range vs {
			g := catalog.GridVariant{Variant: v, Level: levels[v.ID]}
			for _, p := range prices[v.ID] {
				if p.Amount.Currency() == cur {
					g.Price = &p
				}
			}
			out[pid] = append(out[pid], g)
		}
	}
	return withoutTimes(out)
}

// withoutTimes clears the timestamps, which VariantGrid does not read.
func withoutTimes(m map[string][]catalog.GridVariant) map[string][]catalog.GridVariant {
	for _, vs := range m {
		for i := range vs {
			vs[i].CreatedAt, vs[i].UpdatedAt, vs[i].Level.UpdatedAt = time.Time{}, time.Time{}, time.Time{}
		}
	}
	return m
}

// mustVariant finds a product's variant by SKU.
func mustVariant(t *testing.T, svc *catalog.Service, productID, sku string) catalog.Variant {
	t.Helper()
	vm, err := svc.VariantsByProductIDs(catalogtest.Staff(), []string{productID})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vm[productID] {
		if v.SKU == sku {
			return v
		}
	}
	t.Fatalf("no variant %s", sku)
	return catalog.Variant{}
}

// readDenied lets nobody read anything.
type readDenied struct{}

func (readDenied) Can(context.Context, authz.Object, authz.Action) error {
	return errs.Forbidden("FORBIDDEN", "not allowed")
}

func TestVariantGridMatchesTheBatchGetters(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		// Option values that need JSON escapes or look like separators.
		odd, err := svc.CreateProduct(catalogtest.Staff(), catalog.CreateProductInput{
			Title: "Odd Options", Status: catalog.StatusActive,
			Options: []catalog.Option{{Name: "Label", Values: []string{`say "hi"`, `a,b`, `back\slash`, "茶 ☕"}}},
			Variants: []catalog.VariantInput{
				{SKU: "ODD-1", SelectedOptions: []catalog.SelectedOption{{Name: "Label", Value: `say "hi"`}},
					Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "1.00", CompareAtAmount: "2.00"}}},
				{SKU: "ODD-2", SelectedOptions: []catalog.SelectedOption{{Name: "Label", Value: `a,b`}}, InventoryQuantity: 7},
				{SKU: "ODD-3", SelectedOptions: []catalog.SelectedOption{{Name: "Label", Value: `back\slash`}}},
				{SKU: "ODD-4", SelectedOptions: []catalog.SelectedOption{{Name: "Label", Value: "茶 ☕"}}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ArchiveVariant(catalogtest.Staff(), mustVariant(t, svc, odd.ID, "ODD-3").ID); err != nil {
			t.Fatal(err)
		}
		ids := []string{shop.Tea.ID, shop.Shirt.ID, shop.Mug.ID, shop.Cup.ID, odd.ID, "prd_missing"}
		for _, tt := range []struct {
			name string
			ctx  context.Context
			cur  money.Currency
		}{
			{"anonymous in CNY", catalogtest.Anonymous(), money.CNY},
			{"anonymous in USD", catalogtest.Anonymous(), money.USD},
			{"staff in CNY, drafts included", catalogtest.Staff(), money.CNY},
			{"buyer in EUR, no prices", catalogtest.Customer(), money.EUR},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := svc.VariantGrid(tt.ctx, ids, tt.cur)
				if err != nil {
					t.Fatal(err)
				}
				want := gridFromBatchGetters(t, tt.ctx, svc, ids, tt.cur)
				if diff := cmp.Diff(want, withoutTimes(got)); diff != "" {
					t.Fatalf("VariantGrid differs from the batch getters (-want +got):\n%s", diff)
				}
				_, mug := got[shop.Mug.ID]
				if sees := authz.SubjectFrom(tt.ctx).Kind == authz.KindStaff; mug != sees {
					t.Fatalf("variants of the draft listed: %v, want %v", mug, sees)
				}
			})
		}
		if got, err := svc.VariantGrid(catalogtest.Anonymous(), nil, money.CNY); err != nil || len(got) != 0 {
			t.Fatalf("no ids: %v, %v", got, err)
		}
	})
}

func TestVariantGridAsksTheAuthorizer(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc, err := catalog.NewService(db, catalog.Options{Authz: readDenied{}, Outbox: &eventstest.Outbox{}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.VariantGrid(catalogtest.Anonymous(), []string{"prd_x"}, money.CNY); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("err = %v, want forbidden", err)
		}
	})
}
