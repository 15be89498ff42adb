package resolver_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
)

// TestCatalogGridPaths runs the catalog reads whose variants, prices and
// stock come from one grid statement, and those that need what the grid
// leaves out (a variant's timestamps, every currency's prices), and checks
// what each answers and how many statements it runs.
func TestCatalogGridPaths(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		staff, anon := catalogtest.Staff(), catalogtest.Anonymous()
		vm, err := svc.VariantsByProductIDs(staff, []string{shop.Shirt.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ArchiveVariant(staff, vm[shop.Shirt.ID][1].ID); err != nil { // SHIRT-M-Red
			t.Fatal(err)
		}
		counter := &queryCounter{}
		db.AddQueryHook(counter)
		// Query plans (ADR 0012) and graph-gophers' executor run the same
		// statements.
		servers := map[string]*graphql.Server{"plans": newServer(t, svc), "executor": newServerWith(t, svc, graphql.Options{NoPlans: true})}
		const teaInUSD = `[{"sku": "TEA-100", "price": {"amount": "9.50", "currencyCode": "USD"}, "compareAtPrice": {"amount": "12.00"}, "availableQuantity": 40, "availableForSale": true},
			{"sku": "TEA-250", "price": {"amount": "20.00", "currencyCode": "USD"}, "compareAtPrice": null, "availableQuantity": 0, "availableForSale": false}]`
		tests := []struct {
			name    string
			query   string
			path    []any
			want    string
			codes   []string
			queries int64 // SQL statements
		}{
			{
				name:    "a page in a currency: the page and one grid statement",
				query:   `{ products(first: 10, currency: "usd") { nodes { handle variants { sku price { amount currencyCode } compareAtPrice { amount } availableQuantity availableForSale } } } }`,
				path:    []any{"products", "nodes", 0, "variants"},
				want:    teaInUSD,
				queries: 2,
			},
			{
				name: "a variant's timestamps take the variant, price and stock statements, with the same answer",
				query: `{ products(first: 10, currency: "USD") { nodes { handle variants { sku price { amount currencyCode } compareAtPrice { amount } availableQuantity availableForSale }
					times: variants { createdAt } } } }`,
				path:    []any{"products", "nodes", 0, "variants"},
				want:    teaInUSD,
				queries: 4,
			},
			{
				name:    "every currency's prices: the grid and the price statement",
				query:   `{ product(handle: "oolong-tea", currency: "EUR") { variants { sku price { amount } prices { amount currencyCode } } } }`,
				path:    []any{"product", "variants"},
				want:    `[{"sku": "TEA-100", "price": null, "prices": [{"amount": "68.00", "currencyCode": "CNY"}, {"amount": "9.50", "currencyCode": "USD"}]}, {"sku": "TEA-250", "price": null, "prices": [{"amount": "148.00", "currencyCode": "CNY"}, {"amount": "20.00", "currencyCode": "USD"}]}]`,
				queries: 3,
			},
			{
				name:    "variants leaves archived ones out, allVariants keeps them",
				query:   `{ product(handle: "linen-shirt") { variants { sku } allVariants { sku archived } featuredVariant { sku } priceRange { min { amount } max { amount } } } }`,
				path:    []any{"product"},
				want:    `{"variants": [{"sku": "SHIRT-S-Red"}, {"sku": "SHIRT-L-Blue"}], "allVariants": [{"sku": "SHIRT-S-Red", "archived": false}, {"sku": "SHIRT-M-Red", "archived": true}, {"sku": "SHIRT-L-Blue", "archived": false}], "featuredVariant": {"sku": "SHIRT-S-Red"}, "priceRange": {"min": {"amount": "99.00"}, "max": {"amount": "101.00"}}}`,
				queries: 2,
			},
			{
				name:    "a page without variants reads none",
				query:   `{ products(first: 10) { nodes { handle } } }`,
				path:    []any{"products", "nodes", 0},
				want:    `{"handle": "oolong-tea"}`,
				queries: 1,
			},
			{
				name:  "the products of collections: one page each, their variants together",
				query: `{ collections(first: 5, currency: "CNY") { nodes { handle products(first: 5) { nodes { handle variants { price { amount } availableQuantity } } } } } }`,
				path:  []any{"collections", "nodes", 0, "products", "nodes"},
				want: `[{"handle": "tasting-cup", "variants": [{"price": null, "availableQuantity": 0}]},
					{"handle": "oolong-tea", "variants": [{"price": {"amount": "68.00"}, "availableQuantity": 40}, {"price": {"amount": "148.00"}, "availableQuantity": 0}]}]`,
				queries: 3, // the collections, their products, the grid
			},
			{
				name:    "a variant by id shows its price in the shop's currency",
				query:   `query($id: ID!) { node(id: $id) { ... on ProductVariant { sku price { amount currencyCode } availableQuantity } } }`,
				path:    []any{"node"},
				want:    `{"sku": "SHIRT-S-Red", "price": {"amount": "99.00", "currencyCode": "CNY"}, "availableQuantity": 5}`,
				queries: -1, // a variant and its product by id, then its price and stock
			},
			{
				name:    "a currency that is not one",
				query:   `{ products(first: 10, currency: "DOLLARS") { nodes { variants { price { amount } } } } }`,
				codes:   []string{"INVALID_CURRENCY"},
				queries: 0,
			},
		}
		for _, tt := range tests {
			for name, srv := range servers {
				t.Run(name+"/"+tt.name, func(t *testing.T) {
					counter.n.Store(0)
					got := testkit.ExecServer(t, anon, srv, tt.query, map[string]any{"id": vm[shop.Shirt.ID][0].ID})
					if diff := cmp.Diff(tt.codes, got.Codes); diff != "" {
						t.Fatalf("error codes (-want +got):\n%s\n%s", diff, got.Raw)
					}
					if tt.want != "" {
						if diff := cmp.Diff(testkit.DecodeJSON(t, tt.want), testkit.Dig(got.Data, tt.path...)); diff != "" {
							t.Errorf("data (-want +got):\n%s\nresponse: %s", diff, got.Raw)
						}
					}
					if n := counter.n.Load(); tt.queries >= 0 && n != tt.queries {
						t.Errorf("ran %d SQL statements, want %d", n, tt.queries)
					}
				})
			}
		}
	})
}
