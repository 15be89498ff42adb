package resolver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/loader"
	"github.com/kassahq/kassa/graphql/resolver"
)

// newServer returns a GraphQL server over a catalog on db, with loaders
// made per request as the application makes them.
func newServer(t testing.TB, svc *catalog.Service) *graphql.Server {
	t.Helper()
	return newServerWith(t, svc, graphql.Options{})
}

// newServerWith is newServer with opts (its PerRequest is set here).
func newServerWith(t testing.TB, svc *catalog.Service, opts graphql.Options) *graphql.Server {
	t.Helper()
	opts.PerRequest = func(ctx context.Context) context.Context {
		return loader.Attach(ctx, loader.New(loader.Services{Catalog: svc}))
	}
	srv, err := graphql.New(resolver.Services{Catalog: svc}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// at checks the value at path in a scenario's data against want (JSON).
func at(want string, path ...any) func(t *testing.T, data json.RawMessage) {
	return func(t *testing.T, data json.RawMessage) {
		t.Helper()
		if diff := cmp.Diff(testkit.DecodeJSON(t, want), testkit.Dig(testkit.DecodeJSON(t, data), path...)); diff != "" {
			t.Errorf("%v (-want +got):\n%s\nresponse: %s", path, diff, data)
		}
	}
}

// subjects returns the callers of catalogtest: a shop owner, a buyer and
// nobody signed in.
func subjects() (staff, customer, anon authz.Subject) {
	return authz.SubjectFrom(catalogtest.Staff()), authz.SubjectFrom(catalogtest.Customer()), authz.AnonymousSubject()
}

// TestCatalogQueries runs read scenarios against the fixture shop.
func TestCatalogQueries(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		shop := catalogtest.Seed(t, ta.Catalog)
		staff, _, anon := subjects()
		// Without a currency argument prices are in the shop's default:
		// the application's, not the CNY of catalogtest's own service.
		def := ta.Catalog.DefaultCurrency().Code()
		testkit.Run(t, ta, []testkit.Scenario{
			{
				Name: "product by handle with prices in the requested currency",
				As:   anon,
				Query: `{ product(handle: "oolong-tea", currency: "CNY") { title status options { name values } variants { sku title selectedOptions { name value } availableQuantity availableForSale } featuredVariant { sku } priceRange { min { amount } max { amount } } collections { handle } }
					usd: product(handle: "oolong-tea", currency: "USD") { variants { price { amount currencyCode } was: compareAtPrice { amount } } }
					cny: product(handle: "oolong-tea", currency: "cny") { variants { price { amount } } }
					eur: product(handle: "oolong-tea", currency: "EUR") { variants { price { amount } } }
					default: product(handle: "oolong-tea") { variants { price { currencyCode } } } }`,
				WantData: `{"product": {"title": "Oolong Tea", "status": "ACTIVE", "options": [{"name": "Weight", "values": ["100 g", "250 g"]}],
					"variants": [
						{"sku": "TEA-100", "title": "100 g", "selectedOptions": [{"name": "Weight", "value": "100 g"}], "availableQuantity": 40, "availableForSale": true},
						{"sku": "TEA-250", "title": "250 g", "selectedOptions": [{"name": "Weight", "value": "250 g"}], "availableQuantity": 0, "availableForSale": false}],
					"featuredVariant": {"sku": "TEA-100"},
					"priceRange": {"min": {"amount": "68.00"}, "max": {"amount": "148.00"}},
					"collections": [{"handle": "teaware"}]},
					"usd": {"variants": [{"price": {"amount": "9.50", "currencyCode": "USD"}, "was": {"amount": "12.00"}}, {"price": {"amount": "20.00", "currencyCode": "USD"}, "was": null}]},
					"cny": {"variants": [{"price": {"amount": "68.00"}}, {"price": {"amount": "148.00"}}]},
					"eur": {"variants": [{"price": null}, {"price": null}]},
					"default": {"variants": [{"price": {"currencyCode": "` + def + `"}}, {"price": {"currencyCode": "` + def + `"}}]}}`,
			},
			{
				Name:     "anonymous cannot see a draft",
				As:       anon,
				Query:    `{ product(handle: "enamel-mug") { title } }`,
				WantData: `{"product": null}`,
			},
			{
				Name:     "staff see a draft",
				As:       staff,
				Query:    `{ product(handle: "enamel-mug") { title status } }`,
				WantData: `{"product": {"title": "Enamel Mug", "status": "DRAFT"}}`,
			},
			{
				Name:      "product by id",
				As:        anon,
				Query:     `query($id: ID) { product(id: $id) { handle } }`,
				Variables: map[string]any{"id": shop.Shirt.ID},
				WantData:  `{"product": {"handle": "linen-shirt"}}`,
			},
			{
				Name:           "id and handle together",
				As:             anon,
				Query:          `query($id: ID) { product(id: $id, handle: "x") { handle } }`,
				Variables:      map[string]any{"id": shop.Shirt.ID},
				WantData:       `{"product": null}`,
				WantErrorCodes: []string{"INVALID_ARGUMENTS"},
			},
			{
				Name:     "anonymous list skips drafts",
				As:       anon,
				Query:    `{ products(first: 10) { nodes { handle } } }`,
				WantData: `{"products": {"nodes": [{"handle": "oolong-tea"}, {"handle": "linen-shirt"}, {"handle": "tasting-cup"}]}}`,
			},
			{
				Name:     "anonymous asking for drafts gets none",
				As:       anon,
				Query:    `{ products(first: 10, status: DRAFT) { nodes { handle } } }`,
				WantData: `{"products": {"nodes": []}}`,
			},
			{
				Name:     "sort by title reversed",
				As:       staff,
				Query:    `{ products(first: 10, sortKey: TITLE, reverse: true) { nodes { title } } }`,
				WantData: `{"products": {"nodes": [{"title": "Tasting Cup"}, {"title": "Oolong Tea"}, {"title": "Linen Shirt"}, {"title": "Enamel Mug"}]}}`,
			},
			{
				Name:     "query filter on sku",
				As:       anon,
				Query:    `{ products(first: 10, query: "shirt-l-blue") { nodes { handle } } }`,
				WantData: `{"products": {"nodes": [{"handle": "linen-shirt"}]}}`,
			},
			{
				Name:     "collection filter in manual order",
				As:       anon,
				Query:    `{ products(first: 10, collection: "teaware") { nodes { handle } } }`,
				WantData: `{"products": {"nodes": [{"handle": "tasting-cup"}, {"handle": "oolong-tea"}]}}`,
			},
			{
				Name:     "collection with its products",
				As:       staff,
				Query:    `{ collection(handle: "teaware") { title products(first: 2) { nodes { handle } pageInfo { hasNextPage } } } }`,
				WantData: `{"collection": {"title": "Teaware", "products": {"nodes": [{"handle": "tasting-cup"}, {"handle": "enamel-mug"}], "pageInfo": {"hasNextPage": true}}}}`,
			},
			{
				Name:     "collections",
				As:       anon,
				Query:    `{ collections(first: 5) { edges { node { handle } } pageInfo { hasNextPage } } }`,
				WantData: `{"collections": {"edges": [{"node": {"handle": "teaware"}}], "pageInfo": {"hasNextPage": false}}}`,
			},
			{
				Name:           "stock figures are staff only",
				As:             anon,
				Query:          `{ product(handle: "oolong-tea") { featuredVariant { availableQuantity inventory { onHand } } } }`,
				WantData:       `{"product": {"featuredVariant": {"availableQuantity": 40, "inventory": null}}}`,
				WantErrorCodes: []string{"UNAUTHENTICATED"},
			},
			{
				Name:  "staff see stock figures and the ledger",
				As:    staff,
				Query: `{ product(handle: "oolong-tea") { featuredVariant { inventory { onHand reserved available } inventoryAdjustments(first: 5) { nodes { delta reason note actor onHandAfter } } } } }`,
				WantData: `{"product": {"featuredVariant": {"inventory": {"onHand": 40, "reserved": 0, "available": 40},
					"inventoryAdjustments": {"nodes": [{"delta": 40, "reason": "RECEIVED", "note": "initial stock", "actor": "usr_owner", "onHandAfter": 40}]}}}}`,
			},
			{
				Name:           "bad currency",
				As:             anon,
				Query:          `{ product(handle: "tasting-cup", currency: "XYZ") { featuredVariant { price { amount } } } }`,
				WantData:       `{"product": null}`,
				WantErrorCodes: []string{"INVALID_CURRENCY"},
			},
			{
				Name:           "page too large",
				As:             anon,
				Query:          `{ products(first: 1000) { nodes { handle } } }`,
				WantErrorCodes: []string{"INVALID_PAGE_SIZE"},
			},
			{
				Name:           "bad cursor",
				As:             anon,
				Query:          `{ products(first: 1, after: "garbage") { nodes { handle } } }`,
				WantErrorCodes: []string{"INVALID_CURSOR"},
			},
			{
				Name:           "manual order needs a collection",
				As:             anon,
				Query:          `{ products(first: 1, sortKey: MANUAL) { nodes { handle } } }`,
				WantErrorCodes: []string{"INVALID_SORT_KEY"},
			},
		})
	})
}

// TestCatalogPagination walks the product list page by page in every order
// and checks the pages add up to the whole list.
func TestCatalogPagination(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		catalogtest.Seed(t, ta.Catalog)
		staff, _, _ := subjects()
		const q = `query($after: String, $sort: ProductSortKey, $rev: Boolean) {
			products(first: 1, after: $after, sortKey: $sort, reverse: $rev) {
				edges { cursor node { handle } }
				pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
			}
		}`
		for _, sort := range []string{"ID", "TITLE", "CREATED_AT", "UPDATED_AT"} {
			for _, rev := range []bool{false, true} {
				full := ta.Do(t, staff, `query($sort: ProductSortKey, $rev: Boolean) { products(first: 100, sortKey: $sort, reverse: $rev) { nodes { handle } } }`,
					map[string]any{"sort": sort, "rev": rev})
				var want []string
				for _, n := range testkit.Dig(full.Data, "products", "nodes").([]any) {
					want = append(want, testkit.Dig(n, "handle").(string))
				}
				var got []string
				var after any
				for i := 0; ; i++ {
					r := ta.Do(t, staff, q, map[string]any{"after": after, "sort": sort, "rev": rev})
					edges := testkit.Dig(r.Data, "products", "edges").([]any)
					pi := testkit.Dig(r.Data, "products", "pageInfo")
					if len(edges) != 1 {
						t.Fatalf("%s rev=%v page %d: %d edges", sort, rev, i, len(edges))
					}
					got = append(got, testkit.Dig(edges[0], "node", "handle").(string))
					if testkit.Dig(pi, "endCursor") != testkit.Dig(edges[0], "cursor") || testkit.Dig(pi, "hasPreviousPage") != (i > 0) {
						t.Fatalf("pageInfo %v does not match edges %v", pi, edges)
					}
					if testkit.Dig(pi, "hasNextPage") != true {
						break
					}
					after = testkit.Dig(pi, "endCursor")
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

// TestCatalogMutations runs the mutations: bad input gives userErrors,
// writes no row and no event; good input changes what it says and writes
// its events.
func TestCatalogMutations(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		shop := catalogtest.Seed(t, ta.Catalog)
		staff, customer, anon := subjects()
		vm, err := ta.Catalog.VariantsByProductIDs(catalogtest.Staff(), []string{shop.Tea.ID})
		if err != nil {
			t.Fatal(err)
		}
		tea100 := vm[shop.Tea.ID][0].ID
		def := ta.Catalog.DefaultCurrency().Code()
		none := []string{}

		// Each refusal states its whole data: the payload's object is null
		// beside the userErrors.
		before := counts(t, ta.DB)
		testkit.Run(t, ta, []testkit.Scenario{
			{
				Name:  "productCreate with everything wrong",
				As:    staff,
				Query: `mutation($in: ProductCreateInput!) { productCreate(input: $in) { product { id } userErrors { field code } } }`,
				Variables: map[string]any{"in": map[string]any{
					"title": "Pu-erh", "handle": "oolong-tea",
					"options": []any{map[string]any{"name": "Size", "values": []any{"S", "M"}}},
					"variants": []any{
						map[string]any{"sku": "TEA-100", "selectedOptions": []any{map[string]any{"name": "Size", "value": "S"}},
							"prices": []any{map[string]any{"currencyCode": "CNY", "amount": "12.345"}}},
						map[string]any{"selectedOptions": []any{map[string]any{"name": "Size", "value": "XL"}},
							"prices": []any{map[string]any{"currencyCode": "NOPE", "amount": "1"}}, "inventoryQuantity": -1},
					},
				}},
				WantUserErrors: []string{"HANDLE_TAKEN", "INVALID_AMOUNT", "SKU_TAKEN", "INVALID_QUANTITY", "INVALID_CURRENCY", "UNKNOWN_OPTION_VALUE"},
				WantData: `{"productCreate": {"product": null, "userErrors": [{"field": ["input", "handle"], "code": "HANDLE_TAKEN"},
					{"field": ["input", "variants", "0", "prices", "0", "amount"], "code": "INVALID_AMOUNT"},
					{"field": ["input", "variants", "0", "sku"], "code": "SKU_TAKEN"},
					{"field": ["input", "variants", "1", "inventoryQuantity"], "code": "INVALID_QUANTITY"},
					{"field": ["input", "variants", "1", "prices", "0", "currencyCode"], "code": "INVALID_CURRENCY"},
					{"field": ["input", "variants", "1", "selectedOptions", "0", "value"], "code": "UNKNOWN_OPTION_VALUE"}]}}`,
				WantEvents: none,
			},
			{
				Name:           "productUpdate of an unknown product",
				As:             staff,
				Query:          `mutation { productUpdate(input: {id: "prd_nope", title: "X"}) { product { id } userErrors { field code } } }`,
				WantUserErrors: []string{"PRODUCT_NOT_FOUND"},
				WantData:       `{"productUpdate": {"product": null, "userErrors": [{"field": ["input", "id"], "code": "PRODUCT_NOT_FOUND"}]}}`,
				WantEvents:     none,
			},
			{
				Name:           "inventoryAdjust below zero",
				As:             staff,
				Query:          `mutation($v: ID!) { inventoryAdjust(input: {variantId: $v, delta: -41, reason: DAMAGED}) { adjustment { id } userErrors { field code } } }`,
				Variables:      map[string]any{"v": tea100},
				WantUserErrors: []string{"INSUFFICIENT_STOCK"},
				WantData:       `{"inventoryAdjust": {"adjustment": null, "userErrors": [{"field": ["input", "delta"], "code": "INSUFFICIENT_STOCK"}]}}`,
				WantEvents:     none,
			},
			{
				Name:           "productVariantPricesSet with a bad amount",
				As:             staff,
				Query:          `mutation($v: ID!) { productVariantPricesSet(input: {variantId: $v, prices: [{currencyCode: "JPY", amount: "10.5"}]}) { productVariant { id } userErrors { field code } } }`,
				Variables:      map[string]any{"v": tea100},
				WantUserErrors: []string{"INVALID_AMOUNT"},
				WantData:       `{"productVariantPricesSet": {"productVariant": null, "userErrors": [{"field": ["input", "prices", "0", "amount"], "code": "INVALID_AMOUNT"}]}}`,
				WantEvents:     none,
			},
			{
				Name:           "collectionCreate with a missing product",
				As:             staff,
				Query:          `mutation { collectionCreate(input: {title: "Gifts", productIds: ["prd_nope"]}) { collection { id } userErrors { field code } } }`,
				WantUserErrors: []string{"PRODUCT_NOT_FOUND"},
				WantData:       `{"collectionCreate": {"collection": null, "userErrors": [{"field": ["input", "productIds", "0"], "code": "PRODUCT_NOT_FOUND"}]}}`,
				WantEvents:     none,
			},
			{
				// The service reports this against its whole input (no
				// field); GraphQL names the input argument.
				Name:           "productVariantCreate of a second default variant",
				As:             staff,
				Query:          `mutation($p: ID!) { productVariantCreate(input: {productId: $p}) { productVariant { id } userErrors { field code } } }`,
				Variables:      map[string]any{"p": shop.Cup.ID},
				WantUserErrors: []string{"DUPLICATE_VARIANT"},
				WantData:       `{"productVariantCreate": {"productVariant": null, "userErrors": [{"field": ["input"], "code": "DUPLICATE_VARIANT"}]}}`,
				WantEvents:     none,
			},
			{
				Name:           "anonymous may not create",
				As:             anon,
				Query:          `mutation { productCreate(input: {title: "Free Tea"}) { product { id } userErrors { code } } }`,
				WantErrorCodes: []string{"UNAUTHENTICATED"},
				WantEvents:     none,
			},
			{
				Name:           "customers may not adjust stock",
				As:             customer,
				Query:          `mutation($v: ID!) { inventoryAdjust(input: {variantId: $v, delta: 5, reason: RECEIVED}) { userErrors { code } } }`,
				Variables:      map[string]any{"v": tea100},
				WantErrorCodes: []string{"FORBIDDEN"},
				WantEvents:     none,
			},
		})
		if diff := cmp.Diff(before, counts(t, ta.DB)); diff != "" {
			t.Fatalf("rejected mutations wrote rows (-before +after):\n%s", diff)
		}

		testkit.Run(t, ta, []testkit.Scenario{
			{
				// Priced in the default currency, the one the payload's
				// price fields answer in.
				Name: "a product made through the API reads back the same way",
				As:   staff,
				Query: `mutation($in: ProductCreateInput!) { productCreate(input: $in) {
					product { handle status options { name values } variants { sku title price { amount } compareAtPrice { amount } availableQuantity } }
					userErrors { code } } }`,
				Variables: map[string]any{"in": map[string]any{
					"title": "Jasmine Pearls", "status": "ACTIVE", "tags": []any{"tea", "green"},
					"options": []any{map[string]any{"name": "Weight", "values": []any{"50 g", "100 g"}}},
					"variants": []any{
						map[string]any{"sku": "JAS-50", "selectedOptions": []any{map[string]any{"name": "Weight", "value": "50 g"}},
							"prices": []any{map[string]any{"currencyCode": def, "amount": "58", "compareAtAmount": "68.00"}}, "inventoryQuantity": 12},
						map[string]any{"sku": "JAS-100", "selectedOptions": []any{map[string]any{"name": "Weight", "value": "100 g"}},
							"prices": []any{map[string]any{"currencyCode": def, "amount": "99.90"}}},
					},
				}},
				WantData: `{"productCreate": {"userErrors": [], "product": {"handle": "jasmine-pearls", "status": "ACTIVE",
					"options": [{"name": "Weight", "values": ["50 g", "100 g"]}],
					"variants": [
						{"sku": "JAS-50", "title": "50 g", "price": {"amount": "58.00"}, "compareAtPrice": {"amount": "68.00"}, "availableQuantity": 12},
						{"sku": "JAS-100", "title": "100 g", "price": {"amount": "99.90"}, "compareAtPrice": null, "availableQuantity": 0}]}}}`,
				WantEvents: []string{catalog.SubjectProductCreated},
			},
			{
				Name:     "the new product is listed",
				As:       anon,
				Query:    `{ products(first: 5, query: "jas-100") { nodes { handle } } }`,
				WantData: `{"products": {"nodes": [{"handle": "jasmine-pearls"}]}}`,
			},
			{
				Name: "a stock adjustment is recorded with its reason and who made it",
				As:   staff,
				Query: `mutation($v: ID!) { inventoryAdjust(input: {variantId: $v, delta: -3, reason: DAMAGED, note: "crushed box"}) {
					adjustment { delta reason note actor onHandAfter } inventory { onHand available } productVariant { sku availableQuantity } userErrors { code } } }`,
				Variables: map[string]any{"v": tea100},
				WantData: `{"inventoryAdjust": {"adjustment": {"delta": -3, "reason": "DAMAGED", "note": "crushed box", "actor": "usr_owner", "onHandAfter": 37},
					"inventory": {"onHand": 37, "available": 37}, "productVariant": {"sku": "TEA-100", "availableQuantity": 37}, "userErrors": []}}`,
				WantEvents: []string{catalog.SubjectInventoryAdjusted},
			},
			{
				Name:      "the ledger shows the adjustment first",
				As:        staff,
				Query:     `query($id: ID) { product(id: $id) { featuredVariant { inventoryAdjustments(first: 1) { nodes { reason delta } pageInfo { hasNextPage } } } } }`,
				Variables: map[string]any{"id": shop.Tea.ID},
				Check:     at(`{"nodes": [{"reason": "DAMAGED", "delta": -3}], "pageInfo": {"hasNextPage": true}}`, "product", "featuredVariant", "inventoryAdjustments"),
			},
			{
				Name: "mutations in one document see each other's changes",
				As:   staff,
				Query: `mutation($id: ID!) {
					a: productVariantCreate(input: {productId: $id, sku: "SHIRT-M-BLUE", selectedOptions: [{name: "Size", value: "M"}, {name: "Color", value: "Blue"}]}) { product { variants { sku } } }
					b: productVariantCreate(input: {productId: $id, sku: "SHIRT-L-RED", selectedOptions: [{name: "Size", value: "L"}, {name: "Color", value: "Red"}]}) { product { variants { sku } } }
				}`,
				Variables:  map[string]any{"id": shop.Shirt.ID},
				WantEvents: []string{catalog.SubjectProductUpdated, catalog.SubjectProductUpdated},
				Check: func(t *testing.T, data json.RawMessage) {
					d := testkit.DecodeJSON(t, data)
					if got := len(testkit.Dig(d, "a", "product", "variants").([]any)); got != 4 {
						t.Fatalf("first mutation sees %d variants, want 4: %s", got, data)
					}
					if got := len(testkit.Dig(d, "b", "product", "variants").([]any)); got != 5 {
						t.Fatalf("second mutation sees %d variants, want 5 (stale loader?): %s", got, data)
					}
				},
			},
		})

		// The rest of the mutations, each checked by what it returns.
		testkit.Run(t, ta, []testkit.Scenario{
			{
				Name:       "productUpdate",
				As:         staff,
				Query:      `mutation($id: ID!) { productUpdate(input: {id: $id, title: "Linen Overshirt", tags: ["linen"]}) { product { title handle tags } userErrors { code } } }`,
				Variables:  map[string]any{"id": shop.Shirt.ID},
				Check:      at(`{"title": "Linen Overshirt", "handle": "linen-shirt", "tags": ["linen"]}`, "productUpdate", "product"),
				WantEvents: []string{catalog.SubjectProductUpdated},
			},
			{
				Name:       "productArchive",
				As:         staff,
				Query:      `mutation($id: ID!) { productArchive(input: {id: $id}) { product { status } } }`,
				Variables:  map[string]any{"id": shop.Cup.ID},
				Check:      at(`"ARCHIVED"`, "productArchive", "product", "status"),
				WantEvents: []string{catalog.SubjectProductUpdated},
			},
			{
				Name:       "productUnarchive",
				As:         staff,
				Query:      `mutation($id: ID!) { productUnarchive(input: {id: $id}) { product { status } } }`,
				Variables:  map[string]any{"id": shop.Cup.ID},
				Check:      at(`"DRAFT"`, "productUnarchive", "product", "status"),
				WantEvents: []string{catalog.SubjectProductUpdated},
			},
			{
				Name: "productVariantCreate",
				As:   staff,
				Query: `mutation($id: ID!) { productVariantCreate(input: {productId: $id, sku: "SHIRT-S-BLUE", selectedOptions: [{name: "Size", value: "S"}, {name: "Color", value: "Blue"}], prices: [{currencyCode: "USD", amount: "15"}], inventoryQuantity: 2}) {
					productVariant { sku title selectedOptions { value } prices { amount currencyCode } availableQuantity } product { handle } userErrors { code } } }`,
				Variables:  map[string]any{"id": shop.Shirt.ID},
				Check:      at(`{"productVariant": {"sku": "SHIRT-S-BLUE", "title": "S / Blue", "selectedOptions": [{"value": "S"}, {"value": "Blue"}], "prices": [{"amount": "15.00", "currencyCode": "USD"}], "availableQuantity": 2}, "product": {"handle": "linen-shirt"}, "userErrors": []}`, "productVariantCreate"),
				WantEvents: []string{catalog.SubjectProductUpdated},
			},
			{
				Name:       "productVariantUpdate",
				As:         staff,
				Query:      `mutation($id: ID!) { productVariantUpdate(input: {id: $id, title: "Small tin", weightGrams: 150}) { productVariant { title weightGrams } } }`,
				Variables:  map[string]any{"id": tea100},
				Check:      at(`{"title": "Small tin", "weightGrams": 150}`, "productVariantUpdate", "productVariant"),
				WantEvents: []string{catalog.SubjectProductUpdated},
			},
			{
				Name:       "productVariantPricesSet",
				As:         staff,
				Query:      `mutation($id: ID!) { productVariantPricesSet(input: {variantId: $id, prices: [{currencyCode: "EUR", amount: "8.90"}], removeCurrencies: ["USD"]}) { productVariant { prices { amount currencyCode } } } }`,
				Variables:  map[string]any{"id": tea100},
				Check:      at(`[{"amount": "68.00", "currencyCode": "CNY"}, {"amount": "8.90", "currencyCode": "EUR"}]`, "productVariantPricesSet", "productVariant", "prices"),
				WantEvents: []string{catalog.SubjectProductUpdated},
			},
			{
				Name:       "productVariantArchive",
				As:         staff,
				Query:      `mutation($id: ID!) { productVariantArchive(input: {id: $id}) { productVariant { archived } product { variants { sku } } } }`,
				Variables:  map[string]any{"id": tea100},
				Check:      at(`{"productVariant": {"archived": true}, "product": {"variants": [{"sku": "TEA-250"}]}}`, "productVariantArchive"),
				WantEvents: []string{catalog.SubjectProductUpdated},
			},
			{
				Name:       "collectionCreate",
				As:         staff,
				Query:      `mutation($ids: [ID!]) { collectionCreate(input: {title: "Gifts", productIds: $ids}) { collection { handle products(first: 5) { nodes { handle } } } } }`,
				Variables:  map[string]any{"ids": []any{shop.Shirt.ID, shop.Tea.ID}},
				Check:      at(`{"handle": "gifts", "products": {"nodes": [{"handle": "linen-shirt"}, {"handle": "oolong-tea"}]}}`, "collectionCreate", "collection"),
				WantEvents: []string{catalog.SubjectCollectionCreated},
			},
			{
				Name:       "collectionAddProducts",
				As:         staff,
				Query:      `mutation($c: ID!, $ids: [ID!]!) { collectionAddProducts(input: {collectionId: $c, productIds: $ids}) { collection { products(first: 5, sortKey: TITLE) { nodes { handle } } } } }`,
				Variables:  map[string]any{"c": shop.Teaware.ID, "ids": []any{shop.Shirt.ID}},
				Check:      at(`[{"handle": "enamel-mug"}, {"handle": "linen-shirt"}, {"handle": "oolong-tea"}, {"handle": "tasting-cup"}]`, "collectionAddProducts", "collection", "products", "nodes"),
				WantEvents: []string{catalog.SubjectCollectionUpdated},
			},
			{
				Name:       "collectionRemoveProducts",
				As:         staff,
				Query:      `mutation($c: ID!, $ids: [ID!]!) { collectionRemoveProducts(input: {collectionId: $c, productIds: $ids}) { collection { products(first: 5) { nodes { handle } } } } }`,
				Variables:  map[string]any{"c": shop.Teaware.ID, "ids": []any{shop.Tea.ID, shop.Cup.ID}},
				Check:      at(`[{"handle": "enamel-mug"}, {"handle": "linen-shirt"}]`, "collectionRemoveProducts", "collection", "products", "nodes"),
				WantEvents: []string{catalog.SubjectCollectionUpdated},
			},
			{
				Name:       "collectionUpdate",
				As:         staff,
				Query:      `mutation($c: ID!) { collectionUpdate(input: {id: $c, title: "Tea things", handle: "tea-things"}) { collection { title handle } } }`,
				Variables:  map[string]any{"c": shop.Teaware.ID},
				Check:      at(`{"title": "Tea things", "handle": "tea-things"}`, "collectionUpdate", "collection"),
				WantEvents: []string{catalog.SubjectCollectionUpdated},
			},
			{
				Name:       "collectionDelete",
				As:         staff,
				Query:      `mutation($c: ID!) { collectionDelete(input: {id: $c}) { deletedCollectionId userErrors { code } } }`,
				Variables:  map[string]any{"c": shop.Teaware.ID},
				Check:      at(fmt.Sprintf(`{"deletedCollectionId": %q, "userErrors": []}`, shop.Teaware.ID), "collectionDelete"),
				WantEvents: []string{catalog.SubjectCollectionDeleted},
			},
		})
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
			r := testkit.ExecServer(t, catalogtest.Anonymous(), srv, listQuery, map[string]any{"first": first})
			edges := testkit.Dig(r.Data, "products", "edges").([]any)
			if len(edges) != first || len(testkit.Dig(edges[first-1], "node", "variants").([]any)) != 3 {
				t.Fatalf("first=%d: unexpected response %s", first, r.Raw)
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
