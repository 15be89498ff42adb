package catalog_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

func TestCheckoutVariants(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		vm, err := svc.VariantsByProductIDs(catalogtest.Staff(), []string{shop.Tea.ID, shop.Shirt.ID, shop.Mug.ID, shop.Cup.ID})
		if err != nil {
			t.Fatal(err)
		}
		tea100, tea250 := vm[shop.Tea.ID][0], vm[shop.Tea.ID][1]
		shirtL := vm[shop.Shirt.ID][2]
		mug, cup := vm[shop.Mug.ID][0], vm[shop.Cup.ID][0]
		// 40 tea on hand, 15 of them reserved by an order; the large
		// shirt is archived.
		if err := catalog.NewReservations(db, catalog.ReservationsOptions{}).Reserve(ctx, "ord_1",
			[]catalog.ReservationLine{{VariantID: tea100.ID, Quantity: 15}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ArchiveVariant(catalogtest.Staff(), shirtL.ID); err != nil {
			t.Fatal(err)
		}
		price := func(minor int64, cur money.Currency) *money.Money { m := money.New(minor, cur); return &m }
		r := catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{})
		ids := []string{tea100.ID, tea250.ID, shirtL.ID, mug.ID, cup.ID, "var_unknown"}

		tests := []struct {
			name    string
			cur     money.Currency
			want    map[string]catalog.CheckoutVariant
			forSale []string
		}{
			{name: "CNY", cur: money.CNY, want: map[string]catalog.CheckoutVariant{
				tea100.ID: {VariantID: tea100.ID, ProductID: shop.Tea.ID, SKU: "TEA-100", ProductTitle: "Oolong Tea", VariantTitle: "100 g",
					WeightGrams: 120, ProductStatus: catalog.StatusActive, Price: price(6800, money.CNY), Available: 25},
				tea250.ID: {VariantID: tea250.ID, ProductID: shop.Tea.ID, SKU: "TEA-250", ProductTitle: "Oolong Tea", VariantTitle: "250 g",
					ProductStatus: catalog.StatusActive, Price: price(14800, money.CNY)},
				shirtL.ID: {VariantID: shirtL.ID, ProductID: shop.Shirt.ID, SKU: "SHIRT-L-Blue", ProductTitle: "Linen Shirt", VariantTitle: "L / Blue",
					ProductStatus: catalog.StatusActive, Archived: true, Price: price(10100, money.CNY), Available: 15},
				mug.ID: {VariantID: mug.ID, ProductID: shop.Mug.ID, SKU: "MUG-1", ProductTitle: "Enamel Mug", VariantTitle: mug.Title,
					ProductStatus: catalog.StatusDraft, Price: price(4500, money.CNY), Available: 3},
				cup.ID: {VariantID: cup.ID, ProductID: shop.Cup.ID, ProductTitle: "Tasting Cup", VariantTitle: cup.Title,
					ProductStatus: catalog.StatusActive},
			}, forSale: []string{tea100.ID, tea250.ID, cup.ID}},
			{name: "USD prices only where set", cur: money.USD, want: map[string]catalog.CheckoutVariant{
				tea100.ID: {VariantID: tea100.ID, ProductID: shop.Tea.ID, SKU: "TEA-100", ProductTitle: "Oolong Tea", VariantTitle: "100 g",
					WeightGrams: 120, ProductStatus: catalog.StatusActive, Price: price(950, money.USD), Available: 25},
				tea250.ID: {VariantID: tea250.ID, ProductID: shop.Tea.ID, SKU: "TEA-250", ProductTitle: "Oolong Tea", VariantTitle: "250 g",
					ProductStatus: catalog.StatusActive, Price: price(2000, money.USD)},
				shirtL.ID: {VariantID: shirtL.ID, ProductID: shop.Shirt.ID, SKU: "SHIRT-L-Blue", ProductTitle: "Linen Shirt", VariantTitle: "L / Blue",
					ProductStatus: catalog.StatusActive, Archived: true, Available: 15},
				mug.ID: {VariantID: mug.ID, ProductID: shop.Mug.ID, SKU: "MUG-1", ProductTitle: "Enamel Mug", VariantTitle: mug.Title,
					ProductStatus: catalog.StatusDraft, Available: 3},
				cup.ID: {VariantID: cup.ID, ProductID: shop.Cup.ID, ProductTitle: "Tasting Cup", VariantTitle: cup.Title,
					ProductStatus: catalog.StatusActive},
			}, forSale: []string{tea100.ID, tea250.ID, cup.ID}},
		}
		// What a cart line shows under its title and links to.
		for _, tt := range tests {
			for id, v := range tt.want {
				switch v.ProductID {
				case shop.Tea.ID:
					v.ProductHandle, v.SelectedOptions = "oolong-tea", []catalog.SelectedOption{{Name: "Weight", Value: v.VariantTitle}}
				case shop.Shirt.ID:
					v.ProductHandle, v.SelectedOptions = "linen-shirt", []catalog.SelectedOption{{Name: "Size", Value: "L"}, {Name: "Color", Value: "Blue"}}
				case shop.Mug.ID:
					v.ProductHandle, v.SelectedOptions = "enamel-mug", []catalog.SelectedOption{}
				case shop.Cup.ID:
					v.ProductHandle, v.SelectedOptions = "tasting-cup", []catalog.SelectedOption{}
				}
				tt.want[id] = v
			}
		}
		for _, tt := range tests {
			got, err := r.CheckoutVariants(ctx, ids, tt.cur)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b money.Money) bool { return a == b })); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.name, diff)
			}
			var forSale []string
			for _, id := range ids {
				if v, ok := got[id]; ok && v.ForSale() {
					forSale = append(forSale, id)
				}
			}
			if diff := cmp.Diff(tt.forSale, forSale); diff != "" {
				t.Errorf("%s: for sale (-want +got):\n%s", tt.name, diff)
			}
		}

		if got, err := r.CheckoutVariants(ctx, nil, money.CNY); err != nil || len(got) != 0 {
			t.Errorf("no ids: %v, %v; want an empty map", got, err)
		}
		if _, err := r.CheckoutVariants(ctx, ids, money.Currency{}); err == nil {
			t.Error("no currency: want an error")
		}
	})
}
