package resolver_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/seed"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/graphql"
)

const benchProducts = 10_000

func pageOf(n int) page.Request { return page.Request{First: n} }

// openBenchShop makes a 10,000-product SQLite shop with the bulk seeder
// (a few seconds) in the benchmark's temporary directory.
func openBenchShop(b *testing.B) (*store.DB, *catalog.Service) {
	b.Helper()
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	storetest.Migrated(b, db)
	svc := catalogtest.NewService(db)
	if _, err := seed.Demo(context.Background(), db, svc, seed.Options{Products: benchProducts}); err != nil {
		b.Fatal(err)
	}
	return db, svc
}

// gridQuery is the query of `kassa bench products` (core/app): the
// storefront's product grid.
const gridQuery = `query ProductGrid($first: Int!, $currency: String!) {
  products(first: $first, currency: $currency) {
    edges { node { id handle title
      variants { id sku title selectedOptions { name value } price { amount currencyCode } availableQuantity }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`

// BenchmarkProductList lists 24 products with their variants, prices and
// stock, as an anonymous buyer, through the whole GraphQL stack but without
// HTTP: "grid" is the query of `kassa bench products`, "rich" adds the
// featured variant, a price range and compare-at prices.
//
//	go test ./graphql/resolver -run '^$' -bench ProductList -benchmem
func BenchmarkProductList(b *testing.B) {
	_, svc := openBenchShop(b)
	srv := newServer(b, svc)
	ctx := catalogtest.Anonymous()
	for _, q := range []struct{ name, query string }{{"grid", gridQuery}, {"rich", listQuery}} {
		req := graphql.Request{Query: q.query, Variables: map[string]any{"first": 24, "currency": "CNY"}}
		check := func(res *graphql.Response) {
			if len(res.Errors) > 0 || len(res.Data) < 1000 {
				b.Fatalf("bad response: %s %v", res.Data, res.Errors)
			}
		}
		check(srv.Exec(ctx, req))
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				check(srv.Exec(ctx, req))
			}
		})
		// Many buyers at once, as under load (the HTTP target is
		// concurrency 32); ns/op here is the inverse of throughput.
		b.Run(q.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16)
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					check(srv.Exec(ctx, req))
				}
			})
		})
	}
}

// BenchmarkListProductsService is the same page read through the service
// alone, to tell database time from GraphQL time: "grid" is what the
// resolvers run (the page, then its variants with stock and price in one
// statement), "separate" the four statements of the variant, price and
// stock loaders.
func BenchmarkListProductsService(b *testing.B) {
	_, svc := openBenchShop(b)
	ctx := catalogtest.Anonymous()
	list := func(b *testing.B) []string {
		p, err := svc.ListProducts(ctx, catalog.ProductFilter{}, pageOf(24))
		if err != nil {
			b.Fatal(err)
		}
		ids := make([]string, len(p.Items))
		for i := range p.Items {
			ids[i] = p.Items[i].ID
		}
		return ids
	}
	b.Run("grid", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := svc.VariantGrid(ctx, list(b), money.CNY); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("separate", func(b *testing.B) {
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			vm, err := svc.VariantsByProductIDs(ctx, list(b))
			if err != nil {
				b.Fatal(err)
			}
			var vids []string
			for _, vs := range vm {
				for _, v := range vs {
					vids = append(vids, v.ID)
				}
			}
			if _, err := svc.PricesByVariantIDs(ctx, vids); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.InventoryLevels(ctx, vids); err != nil {
				b.Fatal(err)
			}
		}
	})
}
