package resolver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/loader"
	"github.com/kassahq/kassa/graphql/resolver"
)

// newServer returns a GraphQL server over a catalog on db, with loaders
// made per request as the application makes them.
func newServer(t testing.TB, svc *catalog.Service) *graphql.Server {
	t.Helper()
	srv, err := graphql.New(resolver.Services{Catalog: svc}, graphql.Options{
		PerRequest: func(ctx context.Context) context.Context {
			return loader.Attach(ctx, loader.New(loader.Services{Catalog: svc}))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// result is a decoded response: its data and the codes of its errors.
type result struct {
	data  map[string]any
	codes []string
	raw   string
}

func run(t testing.TB, srv *graphql.Server, ctx context.Context, query string, vars map[string]any) result {
	t.Helper()
	res := srv.Exec(ctx, graphql.Request{Query: query, Variables: vars})
	out := result{raw: string(res.Data)}
	if len(res.Data) > 0 && string(res.Data) != "null" {
		if err := json.Unmarshal(res.Data, &out.data); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range res.Errors {
		code, _ := e.Extensions["code"].(string)
		out.codes = append(out.codes, code)
		if code == "INTERNAL" || code == "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("query failed: %s: %s %v", code, e.Message, e.Path)
		}
	}
	return out
}

// dig walks a decoded JSON value by keys and indexes: dig(d, "products",
// "edges", 0, "node", "title").
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func mustJSON(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad expectation %s: %v", s, err)
	}
	return v
}

// TestCatalogQueries runs read scenarios against the fixture shop.
func TestCatalogQueries(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		srv := newServer(t, svc)
		staff, anon := catalogtest.Staff(), catalogtest.Anonymous()
		tests := []struct {
			name  string
			ctx   context.Context
			query string
			vars  map[string]any
			want  string   // expected data, JSON
			codes []string // expected error codes
		}{
			{
				name: "product by handle with prices in the requested currency",
				ctx:  anon,
				query: `{ product(handle: "oolong-tea", currency: "CNY") { title status options { name values } variants { sku title selectedOptions { name value } availableQuantity availableForSale } featuredVariant { sku } priceRange { min { amount } max { amount } } collections { handle } }
					usd: product(handle: "oolong-tea", currency: "USD") { variants { price { amount currencyCode } was: compareAtPrice { amount } } }
					cny: product(handle: "oolong-tea", currency: "cny") { variants { price { amount } } }
					eur: product(handle: "oolong-tea", currency: "EUR") { variants { price { amount } } }
					default: product(handle: "oolong-tea") { variants { price { currencyCode } } } }`,
				want: `{"product": {"title": "Oolong Tea", "status": "ACTIVE", "options": [{"name": "Weight", "values": ["100 g", "250 g"]}],
					"variants": [
						{"sku": "TEA-100", "title": "100 g", "selectedOptions": [{"name": "Weight", "value": "100 g"}], "availableQuantity": 40, "availableForSale": true},
						{"sku": "TEA-250", "title": "250 g", "selectedOptions": [{"name": "Weight", "value": "250 g"}], "availableQuantity": 0, "availableForSale": false}],
					"featuredVariant": {"sku": "TEA-100"},
					"priceRange": {"min": {"amount": "68.00"}, "max": {"amount": "148.00"}},
					"collections": [{"handle": "teaware"}]},
					"usd": {"variants": [{"price": {"amount": "9.50", "currencyCode": "USD"}, "was": {"amount": "12.00"}}, {"price": {"amount": "20.00", "currencyCode": "USD"}, "was": null}]},
					"cny": {"variants": [{"price": {"amount": "68.00"}}, {"price": {"amount": "148.00"}}]},
					"eur": {"variants": [{"price": null}, {"price": null}]},
					"default": {"variants": [{"price": {"currencyCode": "CNY"}}, {"price": {"currencyCode": "CNY"}}]}}`,
			},
			{
				name:  "anonymous cannot see a draft",
				ctx:   anon,
				query: `{ product(handle: "enamel-mug") { title } }`,
				want:  `{"product": null}`,
			},
			{
				name:  "staff see a draft",
				ctx:   staff,
				query: `{ product(handle: "enamel-mug") { title status } }`,
				want:  `{"product": {"title": "Enamel Mug", "status": "DRAFT"}}`,
			},
			{
				name:  "product by id",
				ctx:   anon,
				query: `query($id: ID) { product(id: $id) { handle } }`,
				vars:  map[string]any{"id": shop.Shirt.ID},
				want:  `{"product": {"handle": "linen-shirt"}}`,
			},
			{
				name:  "id and handle together",
				ctx:   anon,
				query: `query($id: ID) { product(id: $id, handle: "x") { handle } }`,
				vars:  map[string]any{"id": shop.Shirt.ID},
				want:  `{"product": null}`,
				codes: []string{"INVALID_ARGUMENTS"},
			},
			{
				name:  "anonymous list skips drafts",
				ctx:   anon,
				query: `{ products(first: 10) { nodes { handle } } }`,
				want:  `{"products": {"nodes": [{"handle": "oolong-tea"}, {"handle": "linen-shirt"}, {"handle": "tasting-cup"}]}}`,
			},
			{
				name:  "anonymous asking for drafts gets none",
				ctx:   anon,
				query: `{ products(first: 10, status: DRAFT) { nodes { handle } } }`,
				want:  `{"products": {"nodes": []}}`,
			},
			{
				name:  "sort by title reversed",
				ctx:   staff,
				query: `{ products(first: 10, sortKey: TITLE, reverse: true) { nodes { title } } }`,
				want:  `{"products": {"nodes": [{"title": "Tasting Cup"}, {"title": "Oolong Tea"}, {"title": "Linen Shirt"}, {"title": "Enamel Mug"}]}}`,
			},
			{
				name:  "query filter on sku",
				ctx:   anon,
				query: `{ products(first: 10, query: "shirt-l-blue") { nodes { handle } } }`,
				want:  `{"products": {"nodes": [{"handle": "linen-shirt"}]}}`,
			},
			{
				name:  "collection filter in manual order",
				ctx:   anon,
				query: `{ products(first: 10, collection: "teaware") { nodes { handle } } }`,
				want:  `{"products": {"nodes": [{"handle": "tasting-cup"}, {"handle": "oolong-tea"}]}}`,
			},
			{
				name:  "collection with its products",
				ctx:   staff,
				query: `{ collection(handle: "teaware") { title products(first: 2) { nodes { handle } pageInfo { hasNextPage } } } }`,
				want:  `{"collection": {"title": "Teaware", "products": {"nodes": [{"handle": "tasting-cup"}, {"handle": "enamel-mug"}], "pageInfo": {"hasNextPage": true}}}}`,
			},
			{
				name:  "collections",
				ctx:   anon,
				query: `{ collections(first: 5) { edges { node { handle } } pageInfo { hasNextPage } } }`,
				want:  `{"collections": {"edges": [{"node": {"handle": "teaware"}}], "pageInfo": {"hasNextPage": false}}}`,
			},
			{
				name:  "stock figures are staff only",
				ctx:   anon,
				query: `{ product(handle: "oolong-tea") { featuredVariant { availableQuantity inventory { onHand } } } }`,
				want:  `{"product": {"featuredVariant": {"availableQuantity": 40, "inventory": null}}}`,
				codes: []string{"UNAUTHENTICATED"},
			},
			{
				name:  "staff see stock figures and the ledger",
				ctx:   staff,
				query: `{ product(handle: "oolong-tea") { featuredVariant { inventory { onHand reserved available } inventoryAdjustments(first: 5) { nodes { delta reason note actor onHandAfter } } } } }`,
				want: `{"product": {"featuredVariant": {"inventory": {"onHand": 40, "reserved": 0, "available": 40},
					"inventoryAdjustments": {"nodes": [{"delta": 40, "reason": "RECEIVED", "note": "initial stock", "actor": "usr_owner", "onHandAfter": 40}]}}}}`,
			},
			{
				name:  "bad currency",
				ctx:   anon,
				query: `{ product(handle: "tasting-cup", currency: "XYZ") { featuredVariant { price { amount } } } }`,
				want:  `{"product": null}`,
				codes: []string{"INVALID_CURRENCY"},
			},
			{
				name:  "page too large",
				ctx:   anon,
				query: `{ products(first: 1000) { nodes { handle } } }`,
				codes: []string{"INVALID_PAGE_SIZE"},
			},
			{
				name:  "bad cursor",
				ctx:   anon,
				query: `{ products(first: 1, after: "garbage") { nodes { handle } } }`,
				codes: []string{"INVALID_CURSOR"},
			},
			{
				name:  "manual order needs a collection",
				ctx:   anon,
				query: `{ products(first: 1, sortKey: MANUAL) { nodes { handle } } }`,
				codes: []string{"INVALID_SORT_KEY"},
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := run(t, srv, tt.ctx, tt.query, tt.vars)
				if diff := cmp.Diff(tt.codes, got.codes); diff != "" {
					t.Errorf("error codes (-want +got):\n%s\ndata: %s", diff, got.raw)
				}
				if tt.want == "" {
					return
				}
				if diff := cmp.Diff(mustJSON(t, tt.want), any(got.data)); diff != "" {
					t.Errorf("data (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// TestCatalogPagination walks the product list page by page in every order
// and checks the pages add up to the whole list.
func TestCatalogPagination(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		catalogtest.Seed(t, svc)
		srv := newServer(t, svc)
		ctx := catalogtest.Staff()
		const q = `query($after: String, $sort: ProductSortKey, $rev: Boolean) {
			products(first: 1, after: $after, sortKey: $sort, reverse: $rev) {
				edges { cursor node { handle } }
				pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
			}
		}`
		for _, sort := range []string{"ID", "TITLE", "CREATED_AT", "UPDATED_AT"} {
			for _, rev := range []bool{false, true} {
				full := run(t, srv, ctx, `query($sort: ProductSortKey, $rev: Boolean) { products(first: 100, sortKey: $sort, reverse: $rev) { nodes { handle } } }`,
					map[string]any{"sort": sort, "rev": rev})
				var want []string
				for _, n := range dig(full.data, "products", "nodes").([]any) {
					want = append(want, dig(n, "handle").(string))
				}
				var got []string
				var after any
				for i := 0; ; i++ {
					r := run(t, srv, ctx, q, map[string]any{"after": after, "sort": sort, "rev": rev})
					edges := dig(r.data, "products", "edges").([]any)
					pi := dig(r.data, "products", "pageInfo")
					if len(edges) != 1 {
						t.Fatalf("%s rev=%v page %d: %d edges", sort, rev, i, len(edges))
					}
					got = append(got, dig(edges[0], "node", "handle").(string))
					if dig(pi, "endCursor") != dig(edges[0], "cursor") || dig(pi, "hasPreviousPage") != (i > 0) {
						t.Fatalf("pageInfo %v does not match edges %v", pi, edges)
					}
					if dig(pi, "hasNextPage") != true {
						break
					}
					after = dig(pi, "endCursor")
				}
				if diff := cmp.Diff(want, got); diff != "" || len(want) != 4 {
					t.Errorf("%s rev=%v: pages (-whole list +paged):\n%s", sort, rev, diff)
				}
			}
		}
	})
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

// TestCatalogMutations runs the mutations: bad input gives userErrors and
// changes nothing; good input changes what it says.
func TestCatalogMutations(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		shop := catalogtest.Seed(t, svc)
		srv := newServer(t, svc)
		staff := catalogtest.Staff()
		vm, err := svc.VariantsByProductIDs(staff, []string{shop.Tea.ID})
		if err != nil {
			t.Fatal(err)
		}
		tea100 := vm[shop.Tea.ID][0].ID

		rejected := []struct {
			name  string
			ctx   context.Context
			query string
			vars  map[string]any
			want  string // userErrors, JSON
			codes []string
		}{
			{
				name:  "productCreate with everything wrong",
				ctx:   staff,
				query: `mutation($in: ProductCreateInput!) { productCreate(input: $in) { product { id } userErrors { field code } } }`,
				vars: map[string]any{"in": map[string]any{
					"title": "Pu-erh", "handle": "oolong-tea",
					"options": []any{map[string]any{"name": "Size", "values": []any{"S", "M"}}},
					"variants": []any{
						map[string]any{"sku": "TEA-100", "selectedOptions": []any{map[string]any{"name": "Size", "value": "S"}},
							"prices": []any{map[string]any{"currencyCode": "CNY", "amount": "12.345"}}},
						map[string]any{"selectedOptions": []any{map[string]any{"name": "Size", "value": "XL"}},
							"prices": []any{map[string]any{"currencyCode": "NOPE", "amount": "1"}}, "inventoryQuantity": -1},
					},
				}},
				want: `[{"field": ["input", "handle"], "code": "HANDLE_TAKEN"},
					{"field": ["input", "variants", "0", "prices", "0", "amount"], "code": "INVALID_AMOUNT"},
					{"field": ["input", "variants", "0", "sku"], "code": "SKU_TAKEN"},
					{"field": ["input", "variants", "1", "inventoryQuantity"], "code": "INVALID_QUANTITY"},
					{"field": ["input", "variants", "1", "prices", "0", "currencyCode"], "code": "INVALID_CURRENCY"},
					{"field": ["input", "variants", "1", "selectedOptions", "0", "value"], "code": "UNKNOWN_OPTION_VALUE"}]`,
			},
			{
				name:  "productUpdate of an unknown product",
				ctx:   staff,
				query: `mutation { productUpdate(input: {id: "prd_nope", title: "X"}) { product { id } userErrors { field code } } }`,
				want:  `[{"field": ["input", "id"], "code": "PRODUCT_NOT_FOUND"}]`,
			},
			{
				name:  "inventoryAdjust below zero",
				ctx:   staff,
				query: `mutation($v: ID!) { inventoryAdjust(input: {variantId: $v, delta: -41, reason: DAMAGED}) { adjustment { id } userErrors { field code } } }`,
				vars:  map[string]any{"v": tea100},
				want:  `[{"field": ["input", "delta"], "code": "INSUFFICIENT_STOCK"}]`,
			},
			{
				name:  "productVariantPricesSet with a bad amount",
				ctx:   staff,
				query: `mutation($v: ID!) { productVariantPricesSet(input: {variantId: $v, prices: [{currencyCode: "JPY", amount: "10.5"}]}) { productVariant { id } userErrors { field code } } }`,
				vars:  map[string]any{"v": tea100},
				want:  `[{"field": ["input", "prices", "0", "amount"], "code": "INVALID_AMOUNT"}]`,
			},
			{
				name:  "collectionCreate with a missing product",
				ctx:   staff,
				query: `mutation { collectionCreate(input: {title: "Gifts", productIds: ["prd_nope"]}) { collection { id } userErrors { field code } } }`,
				want:  `[{"field": ["input", "productIds", "0"], "code": "PRODUCT_NOT_FOUND"}]`,
			},
			{
				// The service reports this against its whole input (no
				// field); GraphQL names the input argument.
				name:  "productVariantCreate of a second default variant",
				ctx:   staff,
				query: `mutation($p: ID!) { productVariantCreate(input: {productId: $p}) { productVariant { id } userErrors { field code } } }`,
				vars:  map[string]any{"p": shop.Cup.ID},
				want:  `[{"field": ["input"], "code": "DUPLICATE_VARIANT"}]`,
			},
			{
				name:  "anonymous may not create",
				ctx:   catalogtest.Anonymous(),
				query: `mutation { productCreate(input: {title: "Free Tea"}) { product { id } userErrors { code } } }`,
				codes: []string{"UNAUTHENTICATED"},
			},
			{
				name:  "customers may not adjust stock",
				ctx:   catalogtest.Customer(),
				query: `mutation($v: ID!) { inventoryAdjust(input: {variantId: $v, delta: 5, reason: RECEIVED}) { userErrors { code } } }`,
				vars:  map[string]any{"v": tea100},
				codes: []string{"FORBIDDEN"},
			},
		}
		before := counts(t, db)
		for _, tt := range rejected {
			t.Run(tt.name, func(t *testing.T) {
				got := run(t, srv, tt.ctx, tt.query, tt.vars)
				if diff := cmp.Diff(tt.codes, got.codes); diff != "" {
					t.Fatalf("error codes (-want +got):\n%s", diff)
				}
				if tt.want == "" {
					return
				}
				var payload map[string]any
				for _, v := range got.data {
					payload, _ = v.(map[string]any)
				}
				for k, v := range payload {
					if k != "userErrors" && v != nil {
						t.Errorf("%s = %v, want null beside userErrors", k, v)
					}
				}
				if diff := cmp.Diff(mustJSON(t, tt.want), payload["userErrors"]); diff != "" {
					t.Errorf("userErrors (-want +got):\n%s", diff)
				}
			})
		}
		if diff := cmp.Diff(before, counts(t, db)); diff != "" {
			t.Fatalf("rejected mutations wrote rows (-before +after):\n%s", diff)
		}

		// A product made through the API reads back the same way.
		r := run(t, srv, staff, `mutation($in: ProductCreateInput!) { productCreate(input: $in) {
				product { handle status options { name values } variants { sku title price { amount } compareAtPrice { amount } availableQuantity } }
				userErrors { code } } }`,
			map[string]any{"in": map[string]any{
				"title": "Jasmine Pearls", "status": "ACTIVE", "tags": []any{"tea", "green"},
				"options": []any{map[string]any{"name": "Weight", "values": []any{"50 g", "100 g"}}},
				"variants": []any{
					map[string]any{"sku": "JAS-50", "selectedOptions": []any{map[string]any{"name": "Weight", "value": "50 g"}},
						"prices": []any{map[string]any{"currencyCode": "CNY", "amount": "58", "compareAtAmount": "68.00"}}, "inventoryQuantity": 12},
					map[string]any{"sku": "JAS-100", "selectedOptions": []any{map[string]any{"name": "Weight", "value": "100 g"}},
						"prices": []any{map[string]any{"currencyCode": "CNY", "amount": "99.90"}}},
				},
			}})
		want := `{"productCreate": {"userErrors": [], "product": {"handle": "jasmine-pearls", "status": "ACTIVE",
			"options": [{"name": "Weight", "values": ["50 g", "100 g"]}],
			"variants": [
				{"sku": "JAS-50", "title": "50 g", "price": {"amount": "58.00"}, "compareAtPrice": {"amount": "68.00"}, "availableQuantity": 12},
				{"sku": "JAS-100", "title": "100 g", "price": {"amount": "99.90"}, "compareAtPrice": null, "availableQuantity": 0}]}}}`
		if diff := cmp.Diff(mustJSON(t, want), any(r.data)); diff != "" {
			t.Fatalf("productCreate (-want +got):\n%s", diff)
		}
		if r := run(t, srv, catalogtest.Anonymous(), `{ products(first: 5, query: "jas-100") { nodes { handle } } }`, nil); dig(r.data, "products", "nodes", 0, "handle") != "jasmine-pearls" {
			t.Fatalf("new product not listed: %s", r.raw)
		}

		// A stock adjustment is recorded with its reason and who made it.
		r = run(t, srv, staff, `mutation($v: ID!) { inventoryAdjust(input: {variantId: $v, delta: -3, reason: DAMAGED, note: "crushed box"}) {
				adjustment { delta reason note actor onHandAfter } inventory { onHand available } productVariant { sku availableQuantity } userErrors { code } } }`,
			map[string]any{"v": tea100})
		want = `{"inventoryAdjust": {"adjustment": {"delta": -3, "reason": "DAMAGED", "note": "crushed box", "actor": "usr_owner", "onHandAfter": 37},
			"inventory": {"onHand": 37, "available": 37}, "productVariant": {"sku": "TEA-100", "availableQuantity": 37}, "userErrors": []}}`
		if diff := cmp.Diff(mustJSON(t, want), any(r.data)); diff != "" {
			t.Fatalf("inventoryAdjust (-want +got):\n%s", diff)
		}
		r = run(t, srv, staff, `query($id: ID) { product(id: $id) { featuredVariant { inventoryAdjustments(first: 1) { nodes { reason delta } pageInfo { hasNextPage } } } } }`,
			map[string]any{"id": shop.Tea.ID})
		if diff := cmp.Diff(mustJSON(t, `{"nodes": [{"reason": "DAMAGED", "delta": -3}], "pageInfo": {"hasNextPage": true}}`),
			dig(r.data, "product", "featuredVariant", "inventoryAdjustments")); diff != "" {
			t.Fatalf("ledger (-want +got):\n%s", diff)
		}

		// Mutations in one document see each other's changes.
		r = run(t, srv, staff, `mutation($id: ID!) {
				a: productVariantCreate(input: {productId: $id, sku: "SHIRT-M-BLUE", selectedOptions: [{name: "Size", value: "M"}, {name: "Color", value: "Blue"}]}) { product { variants { sku } } }
				b: productVariantCreate(input: {productId: $id, sku: "SHIRT-L-RED", selectedOptions: [{name: "Size", value: "L"}, {name: "Color", value: "Red"}]}) { product { variants { sku } } }
			}`, map[string]any{"id": shop.Shirt.ID})
		if got := len(dig(r.data, "a", "product", "variants").([]any)); got != 4 {
			t.Fatalf("first mutation sees %d variants, want 4: %s", got, r.raw)
		}
		if got := len(dig(r.data, "b", "product", "variants").([]any)); got != 5 {
			t.Fatalf("second mutation sees %d variants, want 5 (stale loader?): %s", got, r.raw)
		}

		// The rest of the mutations, each checked by what it returns.
		steps := []struct {
			query string
			vars  map[string]any
			path  []any
			want  string
		}{
			{`mutation($id: ID!) { productUpdate(input: {id: $id, title: "Linen Overshirt", tags: ["linen"]}) { product { title handle tags } userErrors { code } } }`,
				map[string]any{"id": shop.Shirt.ID}, []any{"productUpdate", "product"}, `{"title": "Linen Overshirt", "handle": "linen-shirt", "tags": ["linen"]}`},
			{`mutation($id: ID!) { productArchive(input: {id: $id}) { product { status } } }`,
				map[string]any{"id": shop.Cup.ID}, []any{"productArchive", "product", "status"}, `"ARCHIVED"`},
			{`mutation($id: ID!) { productUnarchive(input: {id: $id}) { product { status } } }`,
				map[string]any{"id": shop.Cup.ID}, []any{"productUnarchive", "product", "status"}, `"DRAFT"`},
			{`mutation($id: ID!) { productVariantCreate(input: {productId: $id, sku: "SHIRT-S-BLUE", selectedOptions: [{name: "Size", value: "S"}, {name: "Color", value: "Blue"}], prices: [{currencyCode: "USD", amount: "15"}], inventoryQuantity: 2}) {
				productVariant { sku title selectedOptions { value } prices { amount currencyCode } availableQuantity } product { handle } userErrors { code } } }`,
				map[string]any{"id": shop.Shirt.ID}, []any{"productVariantCreate"},
				`{"productVariant": {"sku": "SHIRT-S-BLUE", "title": "S / Blue", "selectedOptions": [{"value": "S"}, {"value": "Blue"}], "prices": [{"amount": "15.00", "currencyCode": "USD"}], "availableQuantity": 2}, "product": {"handle": "linen-shirt"}, "userErrors": []}`},
			{`mutation($id: ID!) { productVariantUpdate(input: {id: $id, title: "Small tin", weightGrams: 150}) { productVariant { title weightGrams } } }`,
				map[string]any{"id": tea100}, []any{"productVariantUpdate", "productVariant"}, `{"title": "Small tin", "weightGrams": 150}`},
			{`mutation($id: ID!) { productVariantPricesSet(input: {variantId: $id, prices: [{currencyCode: "EUR", amount: "8.90"}], removeCurrencies: ["USD"]}) { productVariant { prices { amount currencyCode } } } }`,
				map[string]any{"id": tea100}, []any{"productVariantPricesSet", "productVariant", "prices"},
				`[{"amount": "68.00", "currencyCode": "CNY"}, {"amount": "8.90", "currencyCode": "EUR"}]`},
			{`mutation($id: ID!) { productVariantArchive(input: {id: $id}) { productVariant { archived } product { variants { sku } } } }`,
				map[string]any{"id": tea100}, []any{"productVariantArchive"},
				`{"productVariant": {"archived": true}, "product": {"variants": [{"sku": "TEA-250"}]}}`},
			{`mutation($ids: [ID!]) { collectionCreate(input: {title: "Gifts", productIds: $ids}) { collection { handle products(first: 5) { nodes { handle } } } } }`,
				map[string]any{"ids": []any{shop.Shirt.ID, shop.Tea.ID}}, []any{"collectionCreate", "collection"},
				`{"handle": "gifts", "products": {"nodes": [{"handle": "linen-shirt"}, {"handle": "oolong-tea"}]}}`},
			{`mutation($c: ID!, $ids: [ID!]!) { collectionAddProducts(input: {collectionId: $c, productIds: $ids}) { collection { products(first: 5, sortKey: TITLE) { nodes { handle } } } } }`,
				map[string]any{"c": shop.Teaware.ID, "ids": []any{shop.Shirt.ID}}, []any{"collectionAddProducts", "collection", "products", "nodes"},
				`[{"handle": "enamel-mug"}, {"handle": "linen-shirt"}, {"handle": "oolong-tea"}, {"handle": "tasting-cup"}]`},
			{`mutation($c: ID!, $ids: [ID!]!) { collectionRemoveProducts(input: {collectionId: $c, productIds: $ids}) { collection { products(first: 5) { nodes { handle } } } } }`,
				map[string]any{"c": shop.Teaware.ID, "ids": []any{shop.Tea.ID, shop.Cup.ID}}, []any{"collectionRemoveProducts", "collection", "products", "nodes"},
				`[{"handle": "enamel-mug"}, {"handle": "linen-shirt"}]`},
			{`mutation($c: ID!) { collectionUpdate(input: {id: $c, title: "Tea things", handle: "tea-things"}) { collection { title handle } } }`,
				map[string]any{"c": shop.Teaware.ID}, []any{"collectionUpdate", "collection"}, `{"title": "Tea things", "handle": "tea-things"}`},
			{`mutation($c: ID!) { collectionDelete(input: {id: $c}) { deletedCollectionId userErrors { code } } }`,
				map[string]any{"c": shop.Teaware.ID}, []any{"collectionDelete"}, fmt.Sprintf(`{"deletedCollectionId": %q, "userErrors": []}`, shop.Teaware.ID)},
		}
		for _, st := range steps {
			name, _, _ := strings.Cut(strings.TrimPrefix(st.query, "mutation"), "(input")
			r := run(t, srv, staff, st.query, st.vars)
			if diff := cmp.Diff(mustJSON(t, st.want), dig(r.data, st.path...)); diff != "" {
				t.Errorf("%s (-want +got):\n%s\nresponse: %s", name, diff, r.raw)
			}
		}
	})
}

// queryCounter counts the SQL statements bun runs.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}
func (c *queryCounter) AfterQuery(context.Context, *bun.QueryEvent) { c.n.Add(1) }

// listQuery is the storefront's product grid: the query the dataloaders
// exist for.
const listQuery = `query($first: Int) { products(first: $first, currency: "CNY") { edges { cursor node { id handle title
	featuredVariant { id }
	priceRange { min { amount } }
	variants { id sku selectedOptions { name value } price { amount currencyCode } compareAtPrice { amount } availableQuantity }
} } pageInfo { hasNextPage endCursor } } }`

// TestProductListQueryCountIsFixed proves the N+1 is gone: listing 5 or 24
// products with variants, prices and stock runs the same number of SQL
// statements.
func TestProductListQueryCountIsFixed(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := catalogtest.NewService(db)
		ctx := catalogtest.Staff()
		var ins []catalog.CreateProductInput
		for i := range 30 {
			ins = append(ins, catalog.CreateProductInput{
				Title: fmt.Sprintf("Shirt %02d", i), Status: catalog.StatusActive,
				Options: []catalog.Option{{Name: "Size", Values: []string{"S", "M", "L"}}},
				Variants: []catalog.VariantInput{
					{SKU: fmt.Sprintf("S-%d-S", i), SelectedOptions: []catalog.SelectedOption{{Name: "Size", Value: "S"}},
						Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "99"}, {Currency: "USD", Amount: "14", CompareAtAmount: "19"}}, InventoryQuantity: 3},
					{SKU: fmt.Sprintf("S-%d-M", i), SelectedOptions: []catalog.SelectedOption{{Name: "Size", Value: "M"}},
						Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "99"}}, InventoryQuantity: 1},
					{SKU: fmt.Sprintf("S-%d-L", i), SelectedOptions: []catalog.SelectedOption{{Name: "Size", Value: "L"}}},
				},
			})
		}
		if _, err := svc.BulkCreateProducts(ctx, ins); err != nil {
			t.Fatal(err)
		}
		counter := &queryCounter{}
		db.AddQueryHook(counter)
		srv := newServer(t, svc)
		count := func(first int) int64 {
			counter.n.Store(0)
			r := run(t, srv, catalogtest.Anonymous(), listQuery, map[string]any{"first": first})
			edges := dig(r.data, "products", "edges").([]any)
			if len(edges) != first || len(dig(edges[first-1], "node", "variants").([]any)) != 3 {
				t.Fatalf("first=%d: unexpected response %s", first, r.raw)
			}
			return counter.n.Load()
		}
		small, large := count(5), count(24)
		t.Logf("queries for 5 products: %d, for 24: %d", small, large)
		if small != large {
			t.Fatalf("listing 5 products ran %d queries, 24 ran %d: the count grows with the page", small, large)
		}
		if large > 4 {
			t.Fatalf("listing ran %d queries, want at most 4 (products, variants, prices, stock)", large)
		}
	})
}
