package graphql_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/testkit"
)

// planCorpus are catalog reads a query plan answers (package plan): the
// storefront's grid and product page, every field of the plan table,
// fragments, aliases, merged fields, __typename, defaults, nulls.
var planCorpus = []struct {
	name, query string
	vars        map[string]any
}{
	{"bench grid", `query ProductGrid($first: Int!, $currency: String!) {
  products(first: $first, currency: $currency) {
    edges { node { id handle title
      variants { id sku title selectedOptions { name value } price { amount currencyCode } availableQuantity }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`, map[string]any{"first": 24, "currency": "CNY"}},
	{"grid in USD, prices missing", `query($c: String) { products(first: 10, currency: $c) { nodes { title featuredVariant { sku price { amount } compareAtPrice { amount } }
  priceRange { min { amount currencyCode } max { amount currencyCode } } variants { price { amount } } } } }`, map[string]any{"c": "USD"}},
	{"every field", `query($h: String) { product(handle: $h) { __typename id handle title description status vendor productType tags
  options { name values } createdAt updatedAt
  allVariants { __typename id sku title selectedOptions { __typename name value } position weightGrams archived price { amount currencyCode }
    compareAtPrice { amount } prices { amount currencyCode } availableQuantity availableForSale createdAt updatedAt }
  featuredVariant { id } priceRange { min { amount } max { amount } } } }`, map[string]any{"h": "oolong-tea"}},
	{"fragments, aliases, merges", `query { __typename first: products(first: 2) { edges { cursor node { id ...Card } } }
  products(first: 1, sortKey: TITLE, reverse: true) { nodes { ... on Product { title } ... { handle } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }
fragment Card on Product { t: title variants { sku } variants { price { amount } sku } }`, nil},
	{"a product that is not there", `{ product(handle: "no-such-thing") { id } }`, nil},
	{"a draft: staff only", `{ product(handle: "enamel-mug") { title status variants { sku } } products(first: 10, status: DRAFT) { nodes { handle } } }`, nil},
	{"variables declared and left out, nulls", `query($first: Int, $after: String, $k: ProductSortKey, $c: String, $r: Boolean) { products(first: $first, after: $after, sortKey: $k, currency: $c, reverse: $r) { nodes { handle } }
  explicit: products(first: 2, reverse: null, sortKey: null) { nodes { handle } } }`, nil},
	{"defaults of variables", `query($n: Int = 2, $q: String = "tea") { products(first: $n, query: $q) { nodes { title } } }`, nil},
	{"escaped text", `{ product(handle: "escapes") { title description vendor tags variants { sku title selectedOptions { name value } } } }`, nil},
	{"storefront home", `query StorefrontHome($currency: String) { collections(first: 3, currency: $currency) { nodes { handle title description
  products(first: 4) { nodes { ...Card } } } } products(first: 12, currency: $currency, sortKey: CREATED_AT, reverse: true) { nodes { ...Card } } }
fragment Card on Product { handle title vendor priceRange { min { amount currencyCode } max { amount currencyCode } }
  featuredVariant { price { amount currencyCode } compareAtPrice { amount currencyCode } } variants { availableForSale } }`, map[string]any{"currency": "CNY"}},
	{"collection page", `query($handle: String!, $first: Int, $sortKey: ProductSortKey, $reverse: Boolean) { collection(handle: $handle) {
  id handle title description createdAt updatedAt products(first: $first, sortKey: $sortKey, reverse: $reverse) { nodes { handle collections { handle title } } pageInfo { hasNextPage endCursor } } } }`,
		map[string]any{"handle": "teas", "first": 2, "sortKey": "TITLE", "reverse": true}},
	{"collections with edges", `{ collections(first: 5) { edges { cursor node { id title products { edges { node { title } } } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`, nil},
	{"a page after a cursor", `query($after: String) { products(first: 1, after: $after) { nodes { handle } pageInfo { endCursor } } }`, nil},
}

// TestPlansAnswerAsTheExecutor: every operation of the corpus gets, byte
// for byte, the answer graph-gophers' executor gives it, for a guest and
// for staff (who see drafts), and the plan did answer it. The executor's
// answer comes from the same document behind @include(if: true), which
// plans leave to the executor and which changes nothing else.
func TestPlansAnswerAsTheExecutor(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		newCartShop(t, ta)
		ctx := system()
		if _, err := ta.Catalog.CreateProduct(ctx, catalog.CreateProductInput{
			Handle: "escapes", Title: `<b>Tea & "cups"</b> \ 茶 – 🍵`, Description: "line one\nline two\ttabbed </script>",
			Vendor: "A&B", Status: catalog.StatusActive, Tags: []string{"<x>", "茶"},
			Options: []catalog.Option{{Name: "Größe", Values: []string{"<S>", "M&M"}}},
			Variants: []catalog.VariantInput{
				{SKU: "ESC-<S>", SelectedOptions: []catalog.SelectedOption{{Name: "Größe", Value: "<S>"}},
					Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "1.00"}}, InventoryQuantity: 2},
				{SKU: "ESC-M&M", SelectedOptions: []catalog.SelectedOption{{Name: "Größe", Value: "M&M"}}},
			},
		}); err != nil {
			t.Fatal(err)
		}
		prods := must(t, execAs(t, ta, ordOwner, `{ products(first: 10) { nodes { id } } }`, nil))
		var ids []string
		for _, n := range testkit.Dig(prods.Data, "products", "nodes").([]any) {
			ids = append(ids, testkit.Dig(n, "id").(string))
		}
		if _, err := ta.Catalog.CreateCollection(ctx, catalog.CollectionInput{Handle: "teas", Title: "Teas & <cups>", Description: "Leaves", ProductIDs: ids}); err != nil {
			t.Fatal(err)
		}
		if _, err := ta.Catalog.CreateCollection(ctx, catalog.CollectionInput{Title: "Empty"}); err != nil {
			t.Fatal(err)
		}
		first := must(t, execAs(t, ta, authz.AnonymousSubject(), `{ products(first: 1) { pageInfo { endCursor } } }`, nil))
		cursor := first.str("products", "pageInfo", "endCursor")
		for _, who := range []struct {
			name string
			sub  authz.Subject
		}{{"guest", authz.AnonymousSubject()}, {"staff", ordOwner}} {
			for i, c := range planCorpus {
				t.Run(who.name+"/"+c.name, func(t *testing.T) {
					vars := map[string]any{}
					for k, v := range c.vars {
						vars[k] = v
					}
					if c.name == "a page after a cursor" {
						vars["after"] = cursor
					}
					ran, _ := ta.GraphQL.PlanCounts()
					planned := answer(t, ta, who.sub, c.query, withNonce(vars, i))
					if now, _ := ta.GraphQL.PlanCounts(); now != ran+1 {
						t.Fatalf("no plan answered %s", c.name)
					}
					executed := answer(t, ta, who.sub, withoutPlan(t, c.query), withNonce(vars, i))
					if now, _ := ta.GraphQL.PlanCounts(); now != ran+1 {
						t.Fatalf("a plan answered the document kept from plans")
					}
					if planned != executed {
						t.Fatalf("the plan answered\n%s\nthe executor\n%s", planned, executed)
					}
					if strings.Contains(planned, `"errors"`) {
						t.Fatalf("the corpus should read without errors: %s", planned)
					}
				})
			}
		}

		// Carts: a guest's by token, ready for checkout; a new one with
		// nothing set; a buyer's own without a token; a line that cannot
		// be bought; a token of nothing.
		t.Run("carts", func(t *testing.T) {
			s := &cartShop{ta: ta}
			prods := must(t, execAs(t, ta, ordOwner, `{ product(handle: "oolong-tea") { variants { id sku } } }`, nil))
			for _, v := range testkit.Dig(prods.Data, "product", "variants").([]any) {
				if testkit.Dig(v, "sku") == "TEA-100" {
					s.tea100 = testkit.Dig(v, "id").(string)
				}
			}
			methods := must(t, execAs(t, ta, ordOwner, `{ shippingZones { methods { id name } } }`, nil))
			for _, z := range testkit.Dig(methods.Data, "shippingZones").([]any) {
				for _, m := range testkit.Dig(z, "methods").([]any) {
					if testkit.Dig(m, "name") == "Express" {
						s.express = testkit.Dig(m, "id").(string)
					}
				}
			}
			guest := authz.AnonymousSubject()
			_, ready := s.readyCart(t, guest, s.tea100, 2)
			fresh := must(t, s.do(t, guest, `mutation { cartCreate(input: {}) { token } }`, nil)).str("cartCreate", "token")
			buyer, _ := s.buyer(t, "plans@example.com")
			own := must(t, s.do(t, buyer, cartCreateOp, in("lines", []any{vars("variantId", s.tea100, "quantity", 1)}))).str("cartCreate", "cart", "id")
			other, _ := s.buyer(t, "other-plans@example.com")
			const cartDoc = `query($token: String, $id: ID) { cart(token: $token, id: $id) { __typename id currencyCode totalQuantity email taxIncluded completedAt createdAt updatedAt
  lines { id variantId productId sku productTitle variantTitle quantity availableQuantity problem
    unitPrice { amount currencyCode } subtotal { amount } discount { amount } tax { amount } total { amount currencyCode } }
  shippingAddress { firstName lastName company line1 line2 city province postalCode countryCode phone }
  billingAddress { city countryCode }
  shippingMethods { methodId name price { amount currencyCode } } shippingMethodId shippingMethod { methodId name price { amount } }
  subtotal { amount currencyCode } shipping { amount } tax { amount } discounts { kind code label amount { amount } } discountTotal { amount } total { amount currencyCode } } }`
			for _, c := range []struct {
				name  string
				sub   authz.Subject
				token any
			}{
				{"ready", guest, ready["token"]},
				{"fresh", guest, fresh},
				{"a buyer's own", buyer, nil},
				{"a token of nothing", guest, "no-such-token"},
				{"a guest's cart read by a buyer", buyer, ready["token"]},
				{"a buyer's cart by id, read by another", other, nil},
			} {
				ran, _ := ta.GraphQL.PlanCounts()
				v := map[string]any{"token": c.token}
				if c.sub.ID == other.ID {
					v = map[string]any{"id": own}
				}
				planned := answer(t, ta, c.sub, cartDoc, v)
				if now, _ := ta.GraphQL.PlanCounts(); now != ran+1 {
					t.Fatalf("%s: no plan answered", c.name)
				}
				executed := answer(t, ta, c.sub, withoutPlan(t, cartDoc), v)
				if planned != executed || strings.Contains(planned, `"errors"`) {
					t.Fatalf("%s: the plan answered\n%s\nthe executor\n%s", c.name, planned, executed)
				}
				if c.name == "ready" && !strings.Contains(planned, `"shippingMethodId":"`) {
					t.Fatalf("the ready cart shows no method: %s", planned)
				}
				if c.sub.ID == other.ID && planned != `{"data":{"cart":null}}` {
					t.Fatalf("another buyer reads %s", planned)
				}
			}
		})

		// Over HTTP GET too, with what a client sends; the response
		// cache is out of the way for the variables' nonce.
		t.Run("GET", func(t *testing.T) {
			q := planCorpus[0].query
			vars, _ := json.Marshal(withNonce(planCorpus[0].vars, 1000))
			ran, _ := ta.GraphQL.PlanCounts()
			resp, err := http.Get(ta.URL + "/graphql?" + url.Values{"query": {q}, "variables": {string(vars)}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if now, _ := ta.GraphQL.PlanCounts(); now != ran+1 || resp.StatusCode != 200 {
				t.Fatalf("GET: %d, plans ran %d times: %s", resp.StatusCode, now-ran, body)
			}
			want := answer(t, ta, authz.AnonymousSubject(), withoutPlan(t, q), withNonce(planCorpus[0].vars, 1001))
			if strings.TrimSpace(string(body)) != want {
				t.Fatalf("GET answered\n%s\nthe executor\n%s", body, want)
			}
		})

		// Where the executor answers with an error, a plan gives up and
		// the executor's answer is the one sent.
		t.Run("errors are the executor's", func(t *testing.T) {
			_, gaveUp := ta.GraphQL.PlanCounts()
			for _, q := range []string{
				`{ products(first: 1000) { nodes { id } } }`,
				`{ products(currency: "XXX") { nodes { id } } }`,
				`{ product(id: "prd_1", handle: "both") { id } }`,
			} {
				got := answer(t, ta, authz.AnonymousSubject(), q, nil)
				want := answer(t, ta, authz.AnonymousSubject(), withoutPlan(t, q), nil)
				if got != want || !strings.Contains(got, `"errors"`) {
					t.Errorf("%s: plan side %s, executor %s", q, got, want)
				}
			}
			if _, now := ta.GraphQL.PlanCounts(); now != gaveUp+3 {
				t.Errorf("plans gave up %d times, want 3", now-gaveUp)
			}
		})
	})
}

// withoutPlan keeps q's operation from plans, changing nothing else:
// its root selection goes behind @include(if: true).
func withoutPlan(t testing.TB, q string) string {
	t.Helper()
	open := strings.IndexByte(q, '{')
	end := strings.Index(q, "\nfragment ")
	if end < 0 {
		end = len(q)
	}
	close := strings.LastIndexByte(q[:end], '}')
	if open < 0 || close < open {
		t.Fatalf("no selection in %s", q)
	}
	return q[:open] + "{ ... @include(if: true) " + q[open:close+1] + " }" + q[close+1:]
}

func withNonce(vars map[string]any, i int) map[string]any {
	out := map[string]any{"nonce": fmt.Sprint("plan-", i)}
	for k, v := range vars {
		out[k] = v
	}
	return out
}

// answer runs q as sub and returns the response as JSON.
func answer(t *testing.T, ta *testkit.TestApp, sub authz.Subject, q string, vars map[string]any) string {
	t.Helper()
	b, err := json.Marshal(ta.Exec(sub, q, vars))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func execAs(t *testing.T, ta *testkit.TestApp, sub authz.Subject, q string, vars map[string]any) gqlResult {
	t.Helper()
	var out gqlResult
	if err := json.Unmarshal([]byte(answer(t, ta, sub, q, vars)), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// planShapes are the plan table's types (resolver.Plans) as the random
// documents below use them: leaves, and object fields with their types.
var planShapes = map[string]struct {
	leaves  []string
	objects [][2]string
}{
	"ProductConnection":    {nil, [][2]string{{"edges", "ProductEdge"}, {"nodes", "Product"}, {"pageInfo", "PageInfo"}}},
	"ProductEdge":          {[]string{"cursor"}, [][2]string{{"node", "Product"}}},
	"CollectionConnection": {nil, [][2]string{{"edges", "CollectionEdge"}, {"nodes", "Collection"}, {"pageInfo", "PageInfo"}}},
	"CollectionEdge":       {[]string{"cursor"}, [][2]string{{"node", "Collection"}}},
	"PageInfo":             {[]string{"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}, nil},
	"Collection": {[]string{"id", "handle", "title", "description", "createdAt", "updatedAt"},
		[][2]string{{"products(first: 3)", "ProductConnection"}, {"p2: products(first: 2, sortKey: TITLE, reverse: true)", "ProductConnection"}}},
	"Product": {[]string{"id", "handle", "title", "description", "status", "vendor", "productType", "tags", "createdAt", "updatedAt"},
		[][2]string{{"options", "ProductOption"}, {"variants", "ProductVariant"}, {"allVariants", "ProductVariant"},
			{"featuredVariant", "ProductVariant"}, {"priceRange", "PriceRange"}, {"collections", "Collection"}}},
	"ProductOption": {[]string{"name", "values"}, nil},
	"ProductVariant": {[]string{"id", "sku", "title", "position", "weightGrams", "archived", "availableQuantity", "availableForSale", "createdAt", "updatedAt"},
		[][2]string{{"selectedOptions", "SelectedOption"}, {"price", "Money"}, {"compareAtPrice", "Money"}, {"prices", "Money"}}},
	"SelectedOption": {[]string{"name", "value"}, nil},
	"PriceRange":     {nil, [][2]string{{"min", "Money"}, {"max", "Money"}}},
	"Money":          {[]string{"amount", "currencyCode"}, nil},
}

// randomSelection writes a random selection set on typ: some leaves,
// some aliased or repeated, __typename, fragments, and object fields down
// to depth.
func randomSelection(r *rand.Rand, b *strings.Builder, typ string, depth int) {
	shape := planShapes[typ]
	b.WriteString("{ ")
	n := 0
	pick := func() {
		if len(shape.leaves) > 0 && (len(shape.objects) == 0 || depth == 0 || r.IntN(3) > 0) {
			f := shape.leaves[r.IntN(len(shape.leaves))]
			if r.IntN(5) == 0 {
				fmt.Fprintf(b, "a%d: ", r.IntN(3))
				// the same alias for two fields is refused by validation:
				// alias by name so that repeats merge
				f = shape.leaves[0]
			}
			b.WriteString(f + " ")
			n++
			return
		}
		if len(shape.objects) > 0 && depth > 0 {
			o := shape.objects[r.IntN(len(shape.objects))]
			b.WriteString(o[0] + " ")
			randomSelection(r, b, o[1], depth-1)
			n++
		}
	}
	for range 1 + r.IntN(4) {
		switch r.IntN(8) {
		case 0:
			b.WriteString("__typename ")
		case 1:
			fmt.Fprintf(b, "... on %s ", typ)
			randomSelection(r, b, typ, depth)
		default:
			pick()
		}
	}
	if n == 0 {
		pick()
		if n == 0 {
			b.WriteString("__typename ")
		}
	}
	b.WriteString("} ")
}

// TestPlansAnswerRandomDocumentsAsTheExecutor: random documents over the
// plan table, answered by a plan and by the executor, match byte for byte.
func TestPlansAnswerRandomDocumentsAsTheExecutor(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		newCartShop(t, ta)
		ctx := system()
		prods := must(t, execAs(t, ta, ordOwner, `{ products(first: 10) { nodes { id } } }`, nil))
		var ids []string
		for _, n := range testkit.Dig(prods.Data, "products", "nodes").([]any) {
			ids = append(ids, testkit.Dig(n, "id").(string))
		}
		if _, err := ta.Catalog.CreateCollection(ctx, catalog.CollectionInput{Handle: "teas", Title: "Teas", ProductIDs: ids}); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(9, 12))
		roots := [][2]string{
			{`products(first: 3, currency: "CNY")`, "ProductConnection"},
			{`products(first: 2, currency: "USD", sortKey: TITLE)`, "ProductConnection"},
			{`product(handle: "oolong-tea", currency: "USD")`, "Product"},
			{`collections(first: 2)`, "CollectionConnection"},
			{`collection(handle: "teas")`, "Collection"},
		}
		const docs = 100
		ran := 0
		for i := range docs {
			var b strings.Builder
			b.WriteString("query ")
			b.WriteString("{ ")
			for j := range 1 + r.IntN(2) {
				root := roots[r.IntN(len(roots))]
				fmt.Fprintf(&b, "r%d: %s ", j, root[0])
				randomSelection(r, &b, root[1], 3)
			}
			b.WriteString("}")
			q := b.String()
			for _, sub := range []authz.Subject{authz.AnonymousSubject(), ordOwner} {
				before, _ := ta.GraphQL.PlanCounts()
				planned := answer(t, ta, sub, q, withNonce(nil, i))
				if after, _ := ta.GraphQL.PlanCounts(); after > before {
					ran++
				}
				executed := answer(t, ta, sub, withoutPlan(t, q), withNonce(nil, i))
				if strings.Contains(executed, `"errors"`) {
					t.Fatalf("document %d is not valid: %s\n%s", i, q, executed)
				}
				if planned != executed {
					t.Fatalf("document %d\n%s\nthe plan answered\n%s\nthe executor\n%s", i, q, planned, executed)
				}
			}
		}
		t.Logf("plans answered %d of %d documents", ran, docs*2)
		if ran < docs*2*3/4 {
			t.Fatalf("plans answered %d of %d documents; the generator strays from the table", ran, docs*2)
		}
	})
}
