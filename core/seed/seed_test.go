package seed_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/seed"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// snapshot describes the catalog tables: row counts and the latest change,
// so a second run that rewrites anything shows up.
func snapshot(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, table := range []string{"products", "product_variants", "variant_prices", "inventory_levels",
		"inventory_adjustments", "collections", "collection_products"} {
		var n int
		if err := db.NewSelect().Table(table).ColumnExpr("COUNT(*)").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		out[table] = strconv.Itoa(n)
	}
	for _, table := range []string{"products", "product_variants", "collections"} {
		var latest string
		if err := db.NewSelect().Table(table).ColumnExpr("CAST(MAX(updated_at) AS TEXT)").Scan(ctx, &latest); err != nil {
			t.Fatal(err)
		}
		out[table+".updated_at"] = latest
	}
	return out
}

func TestDemoIsIdempotent(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		ctx := context.Background()
		tests := []struct {
			name                   string
			opts                   seed.Options
			wantCreated, wantTotal int
			wantCollections        int
		}{
			{"first ten", seed.Options{Products: 10}, 10, 10, 8},
			{"hand-made", seed.Options{}, 46, 56, 0},
			{"with generated", seed.Options{Products: 300, Batch: 70}, 244, 300, 0},
		}
		for _, tt := range tests {
			res, err := seed.Demo(ctx, db, svc, tt.opts)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if res.Created != tt.wantCreated || res.Created+res.Existing != tt.wantTotal || res.Collections != tt.wantCollections {
				t.Fatalf("%s: result %+v, want %d created of %d, %d collections", tt.name, res, tt.wantCreated, tt.wantTotal, tt.wantCollections)
			}
			before := snapshot(t, db)
			again, err := seed.Demo(ctx, db, svc, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if again.Created != 0 || again.Collections != 0 || again.Existing != tt.wantTotal {
				t.Fatalf("%s again: %+v, want nothing created", tt.name, again)
			}
			if diff := cmp.Diff(before, snapshot(t, db)); diff != "" {
				t.Fatalf("%s: second run changed the database (-before +after):\n%s", tt.name, diff)
			}
		}

		// The hand-made shop is what a storefront expects.
		anon := catalogtest.Anonymous()
		tea, err := svc.ListProducts(anon, catalog.ProductFilter{Collection: "tea"}, page.Request{First: 100})
		if err != nil || len(tea.Items) != 12 {
			t.Fatalf("tea collection: %d products, %v", len(tea.Items), err)
		}
		tee, err := svc.GetProductByHandle(anon, "organic-cotton-tee")
		if err != nil {
			t.Fatal(err)
		}
		vm, err := svc.VariantsByProductIDs(anon, []string{tee.ID})
		if err != nil || len(vm[tee.ID]) != 6 {
			t.Fatalf("tee variants: %v, %v", vm[tee.ID], err)
		}
		pm, err := svc.PricesByVariantIDs(anon, []string{vm[tee.ID][0].ID})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range pm[vm[tee.ID][0].ID] {
			got = append(got, p.Amount.String())
		}
		if diff := cmp.Diff([]string{"129.00 CNY", "18.99 USD"}, got); diff != "" {
			t.Fatalf("tee prices (-want +got):\n%s", diff)
		}
		all, err := svc.ListProducts(anon, catalog.ProductFilter{Query: "synthetic"}, page.Request{First: 1})
		if err != nil || len(all.Items) != 1 || !all.HasNext {
			t.Fatalf("generated products not listed: %v, %v", all.Items, err)
		}
	})
}

func TestDemoDrawsProgress(t *testing.T) {
	db := storetest.NewSQLite(t)
	var out bytes.Buffer
	if _, err := seed.Demo(context.Background(), db, catalogtest.NewService(db), seed.Options{Products: 120, Batch: 20, Progress: &out}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.HasPrefix(s, "\r") || !strings.Contains(s, "120/120 100%") || !strings.HasSuffix(s, "\n") {
		t.Fatalf("progress output %q", s)
	}
}
