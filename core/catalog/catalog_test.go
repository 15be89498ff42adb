package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// problems flattens a domain error into "field CODE" lines, sorted.
func problems(err error) []string {
	var out []string
	for _, e := range errs.All(err) {
		out = append(out, strings.Join(e.Field, ".")+" "+e.Code)
	}
	sort.Strings(out)
	return out
}

// counts returns the number of rows of every catalog table.
func counts(t *testing.T, db *store.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"products", "product_variants", "variant_prices", "inventory_levels",
		"inventory_adjustments", "collections", "collection_products"} {
		n, err := db.NewSelect().Table(table).Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out[table] = int(n)
	}
	return out
}

func TestCreateProductRejectsBadInputAndWritesNothing(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		catalogtest.Seed(t, svc)
		before := counts(t, db)
		size := []catalog.Option{{Name: "Size", Values: []string{"S", "M"}}}
		sel := func(v string) []catalog.SelectedOption { return []catalog.SelectedOption{{Name: "Size", Value: v}} }
		tests := []struct {
			name string
			in   catalog.CreateProductInput
			want []string
		}{
			{"no title", catalog.CreateProductInput{Title: "  "}, []string{"title REQUIRED"}},
			{"bad handle", catalog.CreateProductInput{Title: "X", Handle: "Not A Handle"}, []string{"handle INVALID_HANDLE"}},
			{"taken handle", catalog.CreateProductInput{Title: "X", Handle: "oolong-tea"}, []string{"handle HANDLE_TAKEN"}},
			{"bad status", catalog.CreateProductInput{Title: "X", Status: "LIVE"}, []string{"status INVALID_STATUS"}},
			{"taken sku", catalog.CreateProductInput{Title: "X", Variants: []catalog.VariantInput{{SKU: "TEA-100"}}},
				[]string{"variants.0.sku SKU_TAKEN"}},
			{"a taken sku with a zero-width space", catalog.CreateProductInput{Title: "X", Variants: []catalog.VariantInput{{SKU: "TEA-\u200b100"}}},
				[]string{"variants.0.sku INVALID_SKU"}},
			{"sku with a soft hyphen", catalog.CreateProductInput{Title: "X", Variants: []catalog.VariantInput{{SKU: "TEA\u00ad-9"}}},
				[]string{"variants.0.sku INVALID_SKU"}},
			{"sku twice", catalog.CreateProductInput{Title: "X", Options: size, Variants: []catalog.VariantInput{
				{SKU: "NEW-1", SelectedOptions: sel("S")}, {SKU: "NEW-1", SelectedOptions: sel("M")}}},
				[]string{"variants.1.sku SKU_TAKEN"}},
			{"unknown value", catalog.CreateProductInput{Title: "X", Options: size, Variants: []catalog.VariantInput{
				{SelectedOptions: sel("XL")}}}, []string{"variants.0.selectedOptions.0.value UNKNOWN_OPTION_VALUE"}},
			{"unknown option", catalog.CreateProductInput{Title: "X", Options: size, Variants: []catalog.VariantInput{
				{SelectedOptions: []catalog.SelectedOption{{Name: "Size", Value: "S"}, {Name: "Color", Value: "Red"}}}}},
				[]string{"variants.0.selectedOptions.1.name UNKNOWN_OPTION"}},
			{"missing option", catalog.CreateProductInput{Title: "X", Options: size, Variants: []catalog.VariantInput{{}}},
				[]string{"variants.0.selectedOptions MISSING_OPTION"}},
			{"same options twice", catalog.CreateProductInput{Title: "X", Options: size, Variants: []catalog.VariantInput{
				{SelectedOptions: sel("S")}, {SelectedOptions: sel("S")}}},
				[]string{"variants.1.selectedOptions DUPLICATE_VARIANT"}},
			{"options without variants", catalog.CreateProductInput{Title: "X", Options: size},
				[]string{"variants REQUIRED"}},
			{"duplicate option value", catalog.CreateProductInput{Title: "X",
				Options:  []catalog.Option{{Name: "Size", Values: []string{"S", "S"}}},
				Variants: []catalog.VariantInput{{SelectedOptions: sel("S")}}},
				[]string{"options.0.values.1 DUPLICATE_OPTION_VALUE"}},
			{"too many fraction digits", catalog.CreateProductInput{Title: "X", Variants: []catalog.VariantInput{{
				Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "12.345"}}}}},
				[]string{"variants.0.prices.0.amount INVALID_AMOUNT"}},
			{"yen has no cents", catalog.CreateProductInput{Title: "X", Variants: []catalog.VariantInput{{
				Prices: []catalog.PriceInput{{Currency: "JPY", Amount: "1200.5"}}}}},
				[]string{"variants.0.prices.0.amount INVALID_AMOUNT"}},
			{"price above the maximum", catalog.CreateProductInput{Title: "X", Variants: []catalog.VariantInput{{
				Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "10000000000.01"}, {Currency: "JPY", Amount: "92233720368547758"},
					{Currency: "USD", Amount: "10000000000.00", CompareAtAmount: "92233720368547758.07"}}}}},
				[]string{"variants.0.prices.0.amount INVALID_AMOUNT", "variants.0.prices.1.amount INVALID_AMOUNT",
					"variants.0.prices.2.compareAtAmount INVALID_AMOUNT"}},
			{"unknown currency", catalog.CreateProductInput{Title: "X", Variants: []catalog.VariantInput{{
				Prices: []catalog.PriceInput{{Currency: "XYZ", Amount: "1"}}}}},
				[]string{"variants.0.prices.0.currencyCode INVALID_CURRENCY"}},
			{"currency twice", catalog.CreateProductInput{Title: "X", Variants: []catalog.VariantInput{{
				Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "1"}, {Currency: "cny", Amount: "2"}}}}},
				[]string{"variants.0.prices.1.currencyCode DUPLICATE_CURRENCY"}},
			{"negative compare-at", catalog.CreateProductInput{Title: "X", Variants: []catalog.VariantInput{{
				Prices: []catalog.PriceInput{{Currency: "USD", Amount: "1", CompareAtAmount: "-2"}}}}},
				[]string{"variants.0.prices.0.compareAtAmount INVALID_AMOUNT"}},
			{"negative stock", catalog.CreateProductInput{Title: "X", Variants: []catalog.VariantInput{{InventoryQuantity: -1}}},
				[]string{"variants.0.inventoryQuantity INVALID_QUANTITY"}},
			{"everything at once", catalog.CreateProductInput{Title: "", Handle: "oolong-tea", Options: size,
				Variants: []catalog.VariantInput{
					{SKU: "TEA-250", SelectedOptions: sel("S"), Prices: []catalog.PriceInput{{Currency: "USD", Amount: "1.999"}}},
					{SelectedOptions: sel("XL"), InventoryQuantity: -3},
				}},
				[]string{
					"handle HANDLE_TAKEN",
					"title REQUIRED",
					"variants.0.prices.0.amount INVALID_AMOUNT",
					"variants.0.sku SKU_TAKEN",
					"variants.1.inventoryQuantity INVALID_QUANTITY",
					"variants.1.selectedOptions.0.value UNKNOWN_OPTION_VALUE",
				}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := svc.CreateProduct(catalogtest.Staff(), tt.in)
				if err == nil {
					t.Fatal("CreateProduct succeeded")
				}
				if diff := cmp.Diff(tt.want, problems(err)); diff != "" {
					t.Errorf("problems (-want +got):\n%s\nerr: %v", diff, err)
				}
				if !errors.Is(err, errs.ErrInvalid) && !errors.Is(err, errs.ErrConflict) {
					t.Errorf("err = %v, want ErrInvalid or ErrConflict", err)
				}
			})
		}
		if diff := cmp.Diff(before, counts(t, db)); diff != "" {
			t.Fatalf("rejected input wrote rows (-before +after):\n%s", diff)
		}
	})
}

func TestCreateProductWritesEverything(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		ctx := catalogtest.Staff()

		got, err := svc.GetProductByHandle(ctx, "oolong-tea")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(shop.Tea, got); diff != "" {
			t.Fatalf("product read back differs from the one returned (-created +read):\n%s", diff)
		}
		vm, err := svc.VariantsByProductIDs(ctx, []string{shop.Tea.ID, shop.Shirt.ID, shop.Cup.ID, "prd_missing"})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(vm[shop.Tea.ID]) + len(vm[shop.Shirt.ID]) + len(vm[shop.Cup.ID]); n != 6 || len(vm["prd_missing"]) != 0 {
			t.Fatalf("variants = %v", vm)
		}
		shirt := vm[shop.Shirt.ID]
		if shirt[1].Title != "M / Red" || shirt[1].Position != 1 || shirt[2].SKU != "SHIRT-L-Blue" {
			t.Fatalf("shirt variants = %+v", shirt)
		}
		if so := shirt[2].SelectedOptions(&shop.Shirt); !cmp.Equal(so, []catalog.SelectedOption{{Name: "Size", Value: "L"}, {Name: "Color", Value: "Blue"}}) {
			t.Fatalf("selected options = %v", so)
		}
		if cup := vm[shop.Cup.ID]; len(cup) != 1 || cup[0].Title != "Default" {
			t.Fatalf("default variant = %+v", cup)
		}
		tea := vm[shop.Tea.ID]
		pm, err := svc.PricesByVariantIDs(ctx, []string{tea[0].ID, tea[1].ID})
		if err != nil {
			t.Fatal(err)
		}
		var prices []string
		for _, p := range pm[tea[0].ID] {
			s := p.Amount.String()
			if p.CompareAt != nil {
				s += " was " + p.CompareAt.String()
			}
			prices = append(prices, s)
		}
		if diff := cmp.Diff([]string{"68.00 CNY", "9.50 USD was 12.00 USD"}, prices); diff != "" {
			t.Fatalf("prices (-want +got):\n%s", diff)
		}
		lm, err := svc.InventoryLevels(ctx, []string{tea[0].ID, tea[1].ID})
		if err != nil {
			t.Fatal(err)
		}
		if lm[tea[0].ID].OnHand != 40 || lm[tea[1].ID].OnHand != 0 || lm[tea[0].ID].Available() != 40 {
			t.Fatalf("levels = %+v", lm)
		}
		ledger, err := svc.InventoryAdjustments(ctx, tea[0].ID, page.Request{First: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(ledger.Items) != 1 || ledger.Items[0].Reason != catalog.ReasonReceived || ledger.Items[0].Delta != 40 || ledger.Items[0].Actor != "usr_owner" {
			t.Fatalf("initial stock ledger = %+v", ledger.Items)
		}
	})
}

func TestDerivedHandles(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		catalogtest.Seed(t, svc)
		tests := []struct{ title, want string }{
			{"Oolong Tea", "oolong-tea-2"},
			{"Oolong  Tea!", "oolong-tea-3"},
			{"乌龙茶 Premium", "乌龙茶-premium"},
			{"!!!", "product"},
			{"Straße 50%", "straße-50"},
		}
		for _, tt := range tests {
			p, err := svc.CreateProduct(catalogtest.Staff(), catalog.CreateProductInput{Title: tt.title})
			if err != nil {
				t.Fatal(err)
			}
			if p.Handle != tt.want {
				t.Errorf("handle of %q = %q, want %q", tt.title, p.Handle, tt.want)
			}
		}
		ps, err := svc.BulkCreateProducts(catalogtest.Staff(), []catalog.CreateProductInput{{Title: "Tea Set"}, {Title: "Tea Set"}})
		if err != nil {
			t.Fatal(err)
		}
		if ps[0].Handle != "tea-set" || ps[1].Handle != "tea-set-2" {
			t.Fatalf("bulk handles = %q, %q", ps[0].Handle, ps[1].Handle)
		}
	})
}

// TestBulkCreateProblemsUnderIndex: bulk problems are reported under the
// index of the product, relative to the service's input (ADR 0007), and
// nothing is written.
func TestBulkCreateProblemsUnderIndex(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		catalogtest.Seed(t, svc)
		before := counts(t, db)
		_, err := svc.BulkCreateProducts(catalogtest.Staff(), []catalog.CreateProductInput{
			{Title: "Fine", Variants: []catalog.VariantInput{{SKU: "BULK-1"}}},
			{Title: " ", Variants: []catalog.VariantInput{{SKU: "BULK-1"}}},
			{Title: "Taken", Handle: "oolong-tea"},
		})
		want := []string{"1.title REQUIRED", "1.variants.0.sku SKU_TAKEN", "2.handle HANDLE_TAKEN"}
		if diff := cmp.Diff(want, problems(err)); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(before, counts(t, db)); diff != "" {
			t.Errorf("rows written (-before +after):\n%s", diff)
		}
	})
}

// handles lists the handles of a page.
func handles(ps []catalog.Product) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Handle
	}
	return out
}

// listAll walks every page of size n and returns the handles in order.
func listAll(t *testing.T, ctx context.Context, svc *catalog.Service, f catalog.ProductFilter, n int) []string {
	t.Helper()
	var out []string
	req := page.Request{First: n}
	for i := 0; i < 100; i++ {
		p, err := svc.ListProducts(ctx, f, req)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, handles(p.Items)...)
		if !p.HasNext {
			return out
		}
		req.After = &p.Cursors[len(p.Cursors)-1]
	}
	t.Fatal("pagination does not end")
	return nil
}

func TestListProducts(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		staff, anon := catalogtest.Staff(), catalogtest.Anonymous()
		// Creation order: tea, shirt, mug, cup.
		tests := []struct {
			name string
			ctx  context.Context
			f    catalog.ProductFilter
			want []string
		}{
			{"default id order", staff, catalog.ProductFilter{}, []string{"oolong-tea", "linen-shirt", "enamel-mug", "tasting-cup"}},
			{"anonymous sees active only", anon, catalog.ProductFilter{}, []string{"oolong-tea", "linen-shirt", "tasting-cup"}},
			{"anonymous asking for drafts", anon, catalog.ProductFilter{Status: catalog.StatusDraft}, nil},
			{"staff drafts", staff, catalog.ProductFilter{Status: catalog.StatusDraft}, []string{"enamel-mug"}},
			{"title", staff, catalog.ProductFilter{SortKey: catalog.SortTitle}, []string{"enamel-mug", "linen-shirt", "oolong-tea", "tasting-cup"}},
			{"title reversed", staff, catalog.ProductFilter{SortKey: catalog.SortTitle, Reverse: true}, []string{"tasting-cup", "oolong-tea", "linen-shirt", "enamel-mug"}},
			{"created", anon, catalog.ProductFilter{SortKey: catalog.SortCreatedAt}, []string{"oolong-tea", "linen-shirt", "tasting-cup"}},
			{"created reversed", staff, catalog.ProductFilter{SortKey: catalog.SortCreatedAt, Reverse: true}, []string{"tasting-cup", "enamel-mug", "linen-shirt", "oolong-tea"}},
			{"updated", staff, catalog.ProductFilter{SortKey: catalog.SortUpdatedAt}, []string{"oolong-tea", "linen-shirt", "enamel-mug", "tasting-cup"}},
			{"query title", anon, catalog.ProductFilter{Query: "OOLONG"}, []string{"oolong-tea"}},
			{"query sku", anon, catalog.ProductFilter{Query: "shirt-m-red"}, []string{"linen-shirt"}},
			{"query vendor and title", anon, catalog.ProductFilter{Query: "mountain tea"}, []string{"oolong-tea"}},
			{"query no match", anon, catalog.ProductFilter{Query: "mountain shirt"}, nil},
			{"query wildcard is literal", anon, catalog.ProductFilter{Query: "%"}, nil},
			{"collection manual", staff, catalog.ProductFilter{Collection: shop.Teaware.ID}, []string{"tasting-cup", "enamel-mug", "oolong-tea"}},
			{"collection by handle, anonymous", anon, catalog.ProductFilter{Collection: "teaware"}, []string{"tasting-cup", "oolong-tea"}},
			{"collection manual reversed", staff, catalog.ProductFilter{Collection: "teaware", Reverse: true}, []string{"oolong-tea", "enamel-mug", "tasting-cup"}},
			{"collection by title", staff, catalog.ProductFilter{Collection: "teaware", SortKey: catalog.SortTitle}, []string{"enamel-mug", "oolong-tea", "tasting-cup"}},
			{"unknown collection", anon, catalog.ProductFilter{Collection: "nope"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, n := range []int{1, 2, 3, 100} {
					got := listAll(t, tt.ctx, svc, tt.f, n)
					if diff := cmp.Diff(tt.want, got); diff != "" {
						t.Fatalf("page size %d (-want +got):\n%s", n, diff)
					}
				}
			})
		}
		for _, f := range []catalog.ProductFilter{{SortKey: "PRICE"}, {SortKey: catalog.SortManual}, {Status: "LIVE"}} {
			if _, err := svc.ListProducts(staff, f, page.Request{First: 1}); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("ListProducts(%+v) err = %v, want ErrInvalid", f, err)
			}
		}
	})
}

// TestCursorsAreStable checks that a cursor keeps its place while products
// are added before and after it: the next page neither repeats nor skips
// the products that were there.
func TestCursorsAreStable(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		catalogtest.Seed(t, svc)
		ctx := catalogtest.Staff()
		for _, key := range []catalog.ProductSortKey{catalog.SortID, catalog.SortTitle, catalog.SortCreatedAt, catalog.SortUpdatedAt} {
			t.Run(string(key), func(t *testing.T) {
				f := catalog.ProductFilter{SortKey: key}
				all := listAll(t, ctx, svc, f, 100)
				first, err := svc.ListProducts(ctx, f, page.Request{First: 2})
				if err != nil {
					t.Fatal(err)
				}
				for _, title := range []string{"Aaa " + string(key), "Zzz " + string(key)} {
					if _, err := svc.CreateProduct(ctx, catalog.CreateProductInput{Title: title}); err != nil {
						t.Fatal(err)
					}
				}
				rest := listAll(t, ctx, svc, f, 100)
				next, err := svc.ListProducts(ctx, f, page.Request{First: 100, After: &first.Cursors[1]})
				if err != nil {
					t.Fatal(err)
				}
				got := append(handles(first.Items), handles(next.Items)...)
				// The old products appear once each, in order, and the new
				// ones only where they sort.
				var old []string
				for _, h := range got {
					if slicesContains(all, h) {
						old = append(old, h)
					}
				}
				if diff := cmp.Diff(all, old); diff != "" {
					t.Fatalf("after inserts, paging lost or repeated products (-want +got):\n%s", diff)
				}
				if !isSubsequence(got, rest) {
					t.Fatalf("paged order %v is not the listing order %v", got, rest)
				}
			})
		}
	})
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func isSubsequence(sub, s []string) bool {
	i := 0
	for _, x := range s {
		if i < len(sub) && sub[i] == x {
			i++
		}
	}
	return i == len(sub)
}

func TestVisibility(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		anon := catalogtest.Anonymous()
		if _, err := svc.GetProduct(anon, shop.Mug.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("anonymous GetProduct(draft) err = %v, want not found", err)
		}
		if _, err := svc.GetProductByHandle(anon, shop.Mug.Handle); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("anonymous GetProductByHandle(draft) err = %v, want not found", err)
		}
		if _, err := svc.GetProduct(catalogtest.Staff(), shop.Mug.ID); err != nil {
			t.Errorf("staff GetProduct(draft) err = %v", err)
		}
		vm, err := svc.VariantsByProductIDs(anon, []string{shop.Mug.ID, shop.Tea.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(vm[shop.Mug.ID]) != 0 || len(vm[shop.Tea.ID]) != 2 {
			t.Errorf("anonymous variants = %v", vm)
		}
		if err := svc.CanReadInventory(anon); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Errorf("anonymous CanReadInventory = %v", err)
		}
		if err := svc.CanReadInventory(catalogtest.Customer()); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("customer CanReadInventory = %v", err)
		}
	})
}

func TestMutationsNeedWritePermission(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		before := counts(t, db)
		v := shop.Tea.ID
		ops := map[string]func(ctx context.Context) error{
			"CreateProduct": func(ctx context.Context) error {
				_, err := svc.CreateProduct(ctx, catalog.CreateProductInput{Title: "X"})
				return err
			},
			"BulkCreateProducts": func(ctx context.Context) error {
				_, err := svc.BulkCreateProducts(ctx, []catalog.CreateProductInput{{Title: "X"}})
				return err
			},
			"UpdateProduct": func(ctx context.Context) error {
				_, err := svc.UpdateProduct(ctx, catalog.UpdateProductInput{ID: v})
				return err
			},
			"ArchiveProduct":   func(ctx context.Context) error { _, err := svc.ArchiveProduct(ctx, v); return err },
			"UnarchiveProduct": func(ctx context.Context) error { _, err := svc.UnarchiveProduct(ctx, v); return err },
			"CreateVariant": func(ctx context.Context) error {
				_, err := svc.CreateVariant(ctx, catalog.CreateVariantInput{ProductID: v})
				return err
			},
			"UpdateVariant": func(ctx context.Context) error {
				_, err := svc.UpdateVariant(ctx, catalog.UpdateVariantInput{ID: "var_x"})
				return err
			},
			"ArchiveVariant": func(ctx context.Context) error { _, err := svc.ArchiveVariant(ctx, "var_x"); return err },
			"SetVariantPrices": func(ctx context.Context) error {
				_, err := svc.SetVariantPrices(ctx, catalog.SetVariantPricesInput{VariantID: "var_x"})
				return err
			},
			"AdjustInventory": func(ctx context.Context) error {
				_, _, err := svc.AdjustInventory(ctx, catalog.AdjustInventoryInput{VariantID: "var_x", Delta: 1, Reason: catalog.ReasonReceived})
				return err
			},
			"InventoryAdjustments": func(ctx context.Context) error {
				_, err := svc.InventoryAdjustments(ctx, "var_x", page.Request{First: 1})
				return err
			},
			"CreateCollection": func(ctx context.Context) error {
				_, err := svc.CreateCollection(ctx, catalog.CollectionInput{Title: "X"})
				return err
			},
			"UpdateCollection": func(ctx context.Context) error {
				_, err := svc.UpdateCollection(ctx, catalog.UpdateCollectionInput{ID: shop.Teaware.ID})
				return err
			},
			"DeleteCollection": func(ctx context.Context) error { return svc.DeleteCollection(ctx, shop.Teaware.ID) },
			"AddProductsToCollection": func(ctx context.Context) error {
				_, err := svc.AddProductsToCollection(ctx, catalog.CollectionProductsInput{CollectionID: shop.Teaware.ID, ProductIDs: []string{v}})
				return err
			},
			"RemoveProductsFromCollection": func(ctx context.Context) error {
				_, err := svc.RemoveProductsFromCollection(ctx, catalog.CollectionProductsInput{CollectionID: shop.Teaware.ID, ProductIDs: []string{v}})
				return err
			},
		}
		for name, op := range ops {
			t.Run(name, func(t *testing.T) {
				if err := op(catalogtest.Anonymous()); !errors.Is(err, errs.ErrUnauthenticated) {
					t.Errorf("anonymous: err = %v, want ErrUnauthenticated", err)
				}
				if err := op(catalogtest.Customer()); !errors.Is(err, errs.ErrForbidden) {
					t.Errorf("customer: err = %v, want ErrForbidden", err)
				}
			})
		}
		if diff := cmp.Diff(before, counts(t, db)); diff != "" {
			t.Fatalf("refused mutations wrote rows (-before +after):\n%s", diff)
		}
	})
}

func TestUpdateProduct(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		ctx := catalogtest.Staff()
		str := func(s string) *string { return &s }
		opts := func(o ...catalog.Option) *[]catalog.Option { return &o }
		bad := []struct {
			name string
			in   catalog.UpdateProductInput
			want []string
		}{
			{"unknown product", catalog.UpdateProductInput{ID: "prd_nope"}, []string{"id PRODUCT_NOT_FOUND"}},
			{"empty title", catalog.UpdateProductInput{ID: shop.Shirt.ID, Title: str("")}, []string{"title REQUIRED"}},
			{"taken handle", catalog.UpdateProductInput{ID: shop.Shirt.ID, Handle: str("oolong-tea")}, []string{"handle HANDLE_TAKEN"}},
			{"option added", catalog.UpdateProductInput{ID: shop.Shirt.ID, Options: opts(
				catalog.Option{Name: "Size", Values: []string{"S", "M", "L"}},
				catalog.Option{Name: "Color", Values: []string{"Red", "Blue"}},
				catalog.Option{Name: "Fit", Values: []string{"Slim"}})},
				[]string{"options OPTIONS_COUNT_CHANGED"}},
			{"value in use dropped", catalog.UpdateProductInput{ID: shop.Shirt.ID, Options: opts(
				catalog.Option{Name: "Size", Values: []string{"S", "M"}},
				catalog.Option{Name: "Color", Values: []string{"Red", "Blue"}})},
				[]string{"options.0.values OPTION_VALUE_IN_USE"}},
		}
		for _, tt := range bad {
			if _, err := svc.UpdateProduct(ctx, tt.in); !cmp.Equal(tt.want, problems(err)) {
				t.Errorf("%s: problems = %v, want %v (err %v)", tt.name, problems(err), tt.want, err)
			}
		}
		got, err := svc.UpdateProduct(ctx, catalog.UpdateProductInput{ID: shop.Shirt.ID, Title: str("Linen Overshirt"),
			Handle: str("linen-overshirt"), Options: opts(
				catalog.Option{Name: "Size", Values: []string{"XS", "S", "M", "L"}},
				catalog.Option{Name: "Colour", Values: []string{"Red", "Blue"}})})
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "Linen Overshirt" || got.Options[1].Name != "Colour" || !got.UpdatedAt.After(shop.Shirt.UpdatedAt) {
			t.Fatalf("updated = %+v", got)
		}
		read, err := svc.GetProductByHandle(ctx, "linen-overshirt")
		if err != nil || !cmp.Equal(read, got) {
			t.Fatalf("read back %+v, %v; want %+v", read, err, got)
		}
		p, err := svc.ListProducts(ctx, catalog.ProductFilter{Query: "overshirt"}, page.Request{First: 5})
		if err != nil || len(p.Items) != 1 {
			t.Fatalf("search after rename = %v, %v", p.Items, err)
		}
		arch, err := svc.ArchiveProduct(ctx, shop.Tea.ID)
		if err != nil || arch.Status != catalog.StatusArchived {
			t.Fatalf("archive = %+v, %v", arch, err)
		}
		if _, err := svc.GetProduct(catalogtest.Anonymous(), shop.Tea.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("archived product visible to anonymous: %v", err)
		}
		un, err := svc.UnarchiveProduct(ctx, shop.Tea.ID)
		if err != nil || un.Status != catalog.StatusDraft {
			t.Fatalf("unarchive = %+v, %v", un, err)
		}
		same, err := svc.UnarchiveProduct(ctx, shop.Shirt.ID)
		if err != nil || same.Status != catalog.StatusActive {
			t.Fatalf("unarchive of an active product = %+v, %v", same, err)
		}
	})
}

func TestVariants(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		ctx := catalogtest.Staff()
		sel := func(size, color string) []catalog.SelectedOption {
			return []catalog.SelectedOption{{Name: "Size", Value: size}, {Name: "Color", Value: color}}
		}
		bad := []struct {
			name string
			in   catalog.CreateVariantInput
			want []string
		}{
			{"unknown product", catalog.CreateVariantInput{ProductID: "prd_nope"}, []string{"productId PRODUCT_NOT_FOUND"}},
			{"same options", catalog.CreateVariantInput{ProductID: shop.Shirt.ID, VariantInput: catalog.VariantInput{SelectedOptions: sel("S", "Red")}},
				[]string{"selectedOptions DUPLICATE_VARIANT"}},
			{"second default variant", catalog.CreateVariantInput{ProductID: shop.Cup.ID}, []string{" DUPLICATE_VARIANT"}},
			{"taken sku", catalog.CreateVariantInput{ProductID: shop.Shirt.ID, VariantInput: catalog.VariantInput{SKU: "MUG-1", SelectedOptions: sel("S", "Blue")}},
				[]string{"sku SKU_TAKEN"}},
		}
		for _, tt := range bad {
			if _, err := svc.CreateVariant(ctx, tt.in); !cmp.Equal(tt.want, problems(err)) {
				t.Errorf("%s: problems = %v, want %v (err %v)", tt.name, problems(err), tt.want, err)
			}
		}
		nv, err := svc.CreateVariant(ctx, catalog.CreateVariantInput{ProductID: shop.Shirt.ID, VariantInput: catalog.VariantInput{
			SKU: "SHIRT-S-BLUE", SelectedOptions: sel("S", "Blue"), InventoryQuantity: 7,
			Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "109"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if nv.Position != 3 || nv.Title != "S / Blue" {
			t.Fatalf("new variant = %+v", nv)
		}
		if p, _ := svc.ListProducts(ctx, catalog.ProductFilter{Query: "shirt-s-blue"}, page.Request{First: 5}); len(p.Items) != 1 {
			t.Fatalf("new SKU not searchable: %v", p.Items)
		}
		// Changing the options moves a default title along.
		up, err := svc.UpdateVariant(ctx, catalog.UpdateVariantInput{ID: nv.ID, SelectedOptions: &[]catalog.SelectedOption{
			{Name: "Size", Value: "M"}, {Name: "Color", Value: "Blue"}}})
		if err != nil || up.Title != "M / Blue" {
			t.Fatalf("update options = %+v, %v", up, err)
		}
		if _, err := svc.UpdateVariant(ctx, catalog.UpdateVariantInput{ID: nv.ID, SelectedOptions: &[]catalog.SelectedOption{
			{Name: "Size", Value: "M"}, {Name: "Color", Value: "Red"}}}); !cmp.Equal(problems(err), []string{"selectedOptions DUPLICATE_VARIANT"}) {
			t.Fatalf("update to taken options: %v", err)
		}
		invisible := "SHIRT-M-BLUE\ufeff"
		if _, err := svc.UpdateVariant(ctx, catalog.UpdateVariantInput{ID: nv.ID, SKU: &invisible}); !cmp.Equal(problems(err), []string{"sku INVALID_SKU"}) {
			t.Fatalf("update to a sku with a byte order mark: %v", err)
		}
		sku := "SHIRT-M-BLUE"
		up, err = svc.UpdateVariant(ctx, catalog.UpdateVariantInput{ID: nv.ID, SKU: &sku})
		if err != nil || up.SKU != sku {
			t.Fatalf("update sku = %+v, %v", up, err)
		}
		arch, err := svc.ArchiveVariant(ctx, nv.ID)
		if err != nil || !arch.Archived {
			t.Fatalf("archive = %+v, %v", arch, err)
		}
		// An archived variant's options are free again.
		if _, err := svc.CreateVariant(ctx, catalog.CreateVariantInput{ProductID: shop.Shirt.ID, VariantInput: catalog.VariantInput{
			SelectedOptions: sel("M", "Blue")}}); err != nil {
			t.Fatalf("options of an archived variant: %v", err)
		}

		prices, err := svc.SetVariantPrices(ctx, catalog.SetVariantPricesInput{VariantID: nv.ID,
			Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "119.00", CompareAtAmount: "129.00"}, {Currency: "JPY", Amount: "2400"}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range prices {
			got = append(got, p.Amount.String())
		}
		if diff := cmp.Diff([]string{"119.00 CNY", "2400 JPY"}, got); diff != "" {
			t.Fatalf("prices (-want +got):\n%s", diff)
		}
		prices, err = svc.SetVariantPrices(ctx, catalog.SetVariantPricesInput{VariantID: nv.ID, RemoveCurrencies: []string{"jpy"}})
		if err != nil || len(prices) != 1 || prices[0].CompareAt == nil || prices[0].CompareAt.Amount() != 12900 {
			t.Fatalf("after removing JPY: %+v, %v", prices, err)
		}
		_, err = svc.SetVariantPrices(ctx, catalog.SetVariantPricesInput{VariantID: nv.ID,
			Prices: []catalog.PriceInput{{Currency: "USD", Amount: "abc"}}, RemoveCurrencies: []string{"USD", "???"}})
		want := []string{"prices.0.amount INVALID_AMOUNT", "removeCurrencies.1 INVALID_CURRENCY"}
		if diff := cmp.Diff(want, problems(err)); diff != "" {
			t.Fatalf("bad prices (-want +got):\n%s", diff)
		}
	})
}

func TestAdjustInventory(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		ctx := catalogtest.Staff()
		vm, err := svc.VariantsByProductIDs(ctx, []string{shop.Tea.ID})
		if err != nil {
			t.Fatal(err)
		}
		v := vm[shop.Tea.ID][0].ID // 40 on hand

		adj, level, err := svc.AdjustInventory(ctx, catalog.AdjustInventoryInput{VariantID: v, Delta: 10, Reason: catalog.ReasonReceived, Note: "PO 17"})
		if err != nil {
			t.Fatal(err)
		}
		if level.OnHand != 50 || adj.OnHandAfter != 50 || adj.Actor != "usr_owner" || adj.Note != "PO 17" {
			t.Fatalf("adjust = %+v, %+v", adj, level)
		}
		before := counts(t, db)
		bad := []struct {
			name string
			in   catalog.AdjustInventoryInput
			want []string
		}{
			{"below zero", catalog.AdjustInventoryInput{VariantID: v, Delta: -51, Reason: catalog.ReasonDamaged}, []string{"delta INSUFFICIENT_STOCK"}},
			{"zero", catalog.AdjustInventoryInput{VariantID: v, Reason: catalog.ReasonCorrection}, []string{"delta INVALID_QUANTITY"}},
			{"reason", catalog.AdjustInventoryInput{VariantID: v, Delta: 1, Reason: "STOLEN"}, []string{"reason INVALID_REASON"}},
			{"unknown variant", catalog.AdjustInventoryInput{VariantID: "var_nope", Delta: 1, Reason: catalog.ReasonOther}, []string{"variantId VARIANT_NOT_FOUND"}},
		}
		for _, tt := range bad {
			if _, _, err := svc.AdjustInventory(ctx, tt.in); !cmp.Equal(tt.want, problems(err)) {
				t.Errorf("%s: problems = %v, want %v (err %v)", tt.name, problems(err), tt.want, err)
			}
		}
		if diff := cmp.Diff(before, counts(t, db)); diff != "" {
			t.Fatalf("refused adjustments wrote rows:\n%s", diff)
		}

		// Twelve concurrent removals of 5 from 50: exactly ten succeed.
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, short := 0, 0
		for i := 0; i < 12; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := svc.AdjustInventory(ctx, catalog.AdjustInventoryInput{VariantID: v, Delta: -5, Reason: catalog.ReasonLost})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, errs.ErrConflict):
					short++
				default:
					t.Errorf("concurrent adjust: %v", err)
				}
			}()
		}
		wg.Wait()
		lm, err := svc.InventoryLevels(ctx, []string{v})
		if err != nil {
			t.Fatal(err)
		}
		if ok != 10 || short != 2 || lm[v].OnHand != 0 {
			t.Fatalf("ok=%d short=%d on hand=%d, want 10, 2, 0", ok, short, lm[v].OnHand)
		}
		// The ledger explains the level: deltas sum to on hand.
		var sum int64
		req := page.Request{First: 5}
		for {
			p, err := svc.InventoryAdjustments(ctx, v, req)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range p.Items {
				sum += a.Delta
			}
			if !p.HasNext {
				break
			}
			req.After = &p.Cursors[len(p.Cursors)-1]
		}
		if sum != lm[v].OnHand {
			t.Fatalf("ledger sums to %d, on hand is %d", sum, lm[v].OnHand)
		}
	})
}

func TestCollections(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		ctx := catalogtest.Staff()
		before := counts(t, db)
		if _, err := svc.CreateCollection(ctx, catalog.CollectionInput{Title: "", Handle: "teaware",
			ProductIDs: []string{shop.Tea.ID, "prd_nope"}}); !cmp.Equal(problems(err), []string{
			"handle HANDLE_TAKEN", "productIds.1 PRODUCT_NOT_FOUND", "title REQUIRED"}) {
			t.Fatalf("bad collection: %v", err)
		}
		if diff := cmp.Diff(before, counts(t, db)); diff != "" {
			t.Fatalf("rejected collection wrote rows:\n%s", diff)
		}
		sale, err := svc.CreateCollection(ctx, catalog.CollectionInput{Title: "Summer Sale", ProductIDs: []string{shop.Shirt.ID}})
		if err != nil || sale.Handle != "summer-sale" {
			t.Fatalf("create = %+v, %v", sale, err)
		}
		if _, err := svc.AddProductsToCollection(ctx, catalog.CollectionProductsInput{CollectionID: sale.ID,
			ProductIDs: []string{shop.Tea.ID, shop.Shirt.ID, shop.Cup.ID}}); err != nil {
			t.Fatal(err)
		}
		if got := listAll(t, ctx, svc, catalog.ProductFilter{Collection: sale.ID}, 2); !cmp.Equal(got, []string{"linen-shirt", "oolong-tea", "tasting-cup"}) {
			t.Fatalf("after add: %v", got)
		}
		if _, err := svc.RemoveProductsFromCollection(ctx, catalog.CollectionProductsInput{CollectionID: sale.ID,
			ProductIDs: []string{shop.Tea.ID}}); err != nil {
			t.Fatal(err)
		}
		if got := listAll(t, ctx, svc, catalog.ProductFilter{Collection: "summer-sale"}, 1); !cmp.Equal(got, []string{"linen-shirt", "tasting-cup"}) {
			t.Fatalf("after remove: %v", got)
		}
		cm, err := svc.CollectionsByProductIDs(ctx, []string{shop.Cup.ID, shop.Tea.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(cm[shop.Cup.ID]) != 2 || cm[shop.Cup.ID][0].Title != "Summer Sale" || len(cm[shop.Tea.ID]) != 1 {
			t.Fatalf("collections by product = %v", cm)
		}
		title := "Winter Sale"
		up, err := svc.UpdateCollection(ctx, catalog.UpdateCollectionInput{ID: sale.ID, Title: &title})
		if err != nil || up.Title != title || up.Handle != "summer-sale" {
			t.Fatalf("update = %+v, %v", up, err)
		}
		var titles []string
		req := page.Request{First: 1}
		for {
			p, err := svc.ListCollections(catalogtest.Anonymous(), req)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Items {
				titles = append(titles, c.Title)
			}
			if !p.HasNext {
				break
			}
			req.After = &p.Cursors[0]
		}
		if !cmp.Equal(titles, []string{"Teaware", "Winter Sale"}) {
			t.Fatalf("collections = %v", titles)
		}
		if err := svc.DeleteCollection(ctx, sale.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.GetCollection(ctx, sale.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("deleted collection: %v", err)
		}
		if err := svc.DeleteCollection(ctx, sale.ID); !cmp.Equal(problems(err), []string{"id COLLECTION_NOT_FOUND"}) {
			t.Fatalf("delete twice: %v", err)
		}
		if _, err := svc.GetProduct(ctx, shop.Shirt.ID); err != nil {
			t.Fatalf("deleting a collection deleted its product: %v", err)
		}
		if c, err := svc.GetCollectionByHandle(catalogtest.Anonymous(), "teaware"); err != nil || c.ID != shop.Teaware.ID {
			t.Fatalf("by handle = %+v, %v", c, err)
		}
	})
}

func TestSlugify(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Oolong Tea":         "oolong-tea",
		"  --Hello, World--": "hello-world",
		"T-Shirt (XL)":       "t-shirt-xl",
		"Café Crème":         "café-crème",
		"茶杯":                 "茶杯",
		"":                   "",
		"100% Cotton":        "100-cotton",
	} {
		if got := catalog.Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

// take formats and forgets the events ob recorded.
func take(ob *eventstest.Outbox) []string {
	var out []string
	for _, e := range ob.Take() {
		var p struct {
			Handle string `json:"handle"`
			Delta  int64  `json:"delta"`
		}
		_ = e.Decode(&p)
		out = append(out, fmt.Sprintf("%s %s%d by %s", e.Subject, p.Handle, p.Delta, e.Actor))
	}
	return out
}

// subjectMatches reports whether subject matches a NATS filter with a
// trailing ">" or exact tokens.
func subjectMatches(filter, subject string) bool {
	if prefix, ok := strings.CutSuffix(filter, ">"); ok {
		return strings.HasPrefix(subject, prefix) && len(subject) > len(prefix)
	}
	return filter == subject
}

func TestEvents(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ob := &eventstest.Outbox{}
		svc, err := catalog.NewService(db, catalog.Options{Authz: catalogtest.Authorizer{}, Outbox: ob})
		if err != nil {
			t.Fatal(err)
		}
		ctx := catalogtest.Staff()
		steps := []struct {
			name string
			do   func() error
			want []string
		}{
			{"create", func() error {
				_, err := svc.CreateProduct(ctx, catalog.CreateProductInput{Title: "Mug", Variants: []catalog.VariantInput{{SKU: "M1", InventoryQuantity: 2}}})
				return err
			}, []string{"kassa.product.created mug0 by usr_owner"}},
			{"rejected create", func() error {
				_, err := svc.CreateProduct(ctx, catalog.CreateProductInput{Title: "Mug 2", Variants: []catalog.VariantInput{{SKU: "M1"}}})
				if err == nil {
					return errors.New("duplicate SKU accepted")
				}
				return nil
			}, nil},
			{"bulk", func() error {
				_, err := svc.BulkCreateProducts(ctx, []catalog.CreateProductInput{{Title: "A"}, {Title: "B"}})
				return err
			}, []string{"kassa.product.created a0 by usr_owner", "kassa.product.created b0 by usr_owner"}},
			{"update", func() error {
				p, err := svc.GetProductByHandle(ctx, "mug")
				if err != nil {
					return err
				}
				title := "Big Mug"
				_, err = svc.UpdateProduct(ctx, catalog.UpdateProductInput{ID: p.ID, Title: &title})
				return err
			}, []string{"kassa.product.updated mug0 by usr_owner"}},
			{"adjust", func() error {
				p, err := svc.GetProductByHandle(ctx, "mug")
				if err != nil {
					return err
				}
				vm, err := svc.VariantsByProductIDs(ctx, []string{p.ID})
				if err != nil {
					return err
				}
				_, _, err = svc.AdjustInventory(ctx, catalog.AdjustInventoryInput{VariantID: vm[p.ID][0].ID, Delta: -1, Reason: catalog.ReasonDamaged})
				return err
			}, []string{"kassa.inventory.adjusted -1 by usr_owner"}},
			{"collection", func() error {
				c, err := svc.CreateCollection(ctx, catalog.CollectionInput{Title: "Cups"})
				if err != nil {
					return err
				}
				p, err := svc.GetProductByHandle(ctx, "mug")
				if err != nil {
					return err
				}
				if _, err := svc.AddProductsToCollection(ctx, catalog.CollectionProductsInput{CollectionID: c.ID, ProductIDs: []string{p.ID}}); err != nil {
					return err
				}
				return svc.DeleteCollection(ctx, c.ID)
			}, []string{"kassa.collection.created cups0 by usr_owner", "kassa.collection.updated cups0 by usr_owner", "kassa.collection.deleted cups0 by usr_owner"}},
		}
		for _, st := range steps {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			// Every event must drop the cached public reads it outdates.
			for _, e := range ob.Events() {
				if !slices.ContainsFunc(catalog.CacheSubjects(), func(f string) bool { return subjectMatches(f, e.Subject) }) {
					t.Errorf("%s: event %s is under none of catalog.CacheSubjects() %v", st.name, e.Subject, catalog.CacheSubjects())
				}
			}
			if diff := cmp.Diff(st.want, take(ob)); diff != "" {
				t.Errorf("%s: events (-want +got):\n%s", st.name, diff)
			}
		}
	})
}
