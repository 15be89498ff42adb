package graphql

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
)

// introspectionQuery is the query the GraphiQL bundled in
// graph/graphiql sends (its getIntrospectionQuery with the default
// options: descriptions, nine levels of ofType), as code generators do.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`

// productGrid is the storefront's product grid (core/app/bench_cmd.go).
const productGrid = `query ProductGrid($first: Int!, $currency: String!) {
  products(first: $first, currency: $currency) {
    edges { node { id handle title
      variants { id sku title selectedOptions { name value } price { amount currencyCode } availableQuantity }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`

func costOf(t testing.TB, s *Server, doc, op string, vars map[string]any) int {
	t.Helper()
	d := s.readDocument(Request{Query: doc, OperationName: op, Variables: vars})
	if d.syntax != nil || d.op == nil {
		t.Fatalf("%q: %v, op %v", doc, d.syntax, d.op)
	}
	return d.cost
}

func TestOperationCost(t *testing.T) {
	t.Parallel()
	s := testServer(t, Options{})
	grid := costOf(t, s, productGrid, "", map[string]any{"first": 24, "currency": "CNY"})
	tests := []struct {
		name, doc, op string
		vars          map[string]any
		want          int
	}{
		{"one field", `{ serverVersion }`, "", nil, 1},
		{"aliases each count", `{ a: serverVersion b: serverVersion __typename }`, "", nil, 3},
		{"page size multiplies", `{ products(first: 100) { nodes { id title variants { sku availableQuantity } } } }`, "", nil, 601},
		{"default page size", `{ products { nodes { id } } }`, "", nil, 1 + 20*2},
		{"page size from a variable", `query($n: Int) { products(first: $n) { nodes { id } } }`, "", map[string]any{"n": float64(5)}, 1 + 5*2},
		{"page size from a variable's default", `query($n: Int = 7) { products(first: $n) { nodes { id } } }`, "", nil, 1 + 7*2},
		{"page size above the largest page", `{ products(first: 100000) { nodes { id } } }`, "", nil, 1 + 100*2},
		{"page size past int64", `{ products(first: 99999999999999999999) { nodes { id } } }`, "", nil, 1 + 20*2},
		{"negative page size", `{ products(first: -5) { nodes { id } } }`, "", nil, 1},
		{"nested pages multiply", `{ products(first: 10) { nodes { variants { inventoryAdjustments(first: 10) { nodes { id } } } } } }`, "", nil, 1 + 10*(1+1+(1+10*2))},
		{"fragments expand", `{ products(first: 10) { nodes { ...F ...F } } } fragment F on Product { id title }`, "", nil, 1 + 10*(1+4)},
		{"inline fragments expand", `{ products(first: 10) { nodes { ... on Product { id } ... { title } } } }`, "", nil, 1 + 10*3},
		{"fragment cycle ends", `{ ...A } fragment A on Query { serverVersion ...B } fragment B on Query { ...A }`, "", nil, 1},
		{"only the operation that runs", `query A { serverVersion } query B { products { nodes { id } } }`, "A", nil, 1},
		{"unknown fields count", `{ nope { a b } }`, "", nil, 3},
		{"an aggregate weighs more", `{ paymentAnalytics(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", groupBy: GATEWAY) { key attempts } }`, "", nil, 100 + 2},
		{"a new cart weighs more", `mutation { cartCreate(input: {}) { token } }`, "", nil, 100 + 1},
		{"aggregates under aliases each weigh", `{ a: paymentReconciliation(gatewayId: "payment.testpay", date: "2026-01-01") { gatewayId } b: paymentReconciliation(gatewayId: "payment.testpay", date: "2026-01-02") { gatewayId } }`, "", nil, 2 * (100 + 1)},
		{"nodes count each id", `{ nodes(ids: ["a", "b", "c"]) { id ... on Product { title } } }`, "", nil, 1 + 3*2},
		{"nodes with ids from a variable", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, "", map[string]any{"ids": []any{"a", "b", "c", "d"}}, 1 + 4},
		{"nodes with repeated ids", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, "", map[string]any{"ids": []any{"a", "a", "a", "a", "a"}}, 1 + 5},
		{"nodes with a single id for the list", `{ nodes(ids: "a") { id } }`, "", nil, 1 + 1},
		{"nodes with ids unknown", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, "", nil, 1 + 100},
		{"node counts once", `{ node(id: "a") { id } }`, "", nil, 2},
		{"grid of 24", productGrid, "", map[string]any{"first": 24, "currency": "CNY"}, grid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := costOf(t, s, tt.doc, tt.op, tt.vars); got != tt.want {
				t.Fatalf("cost %d, want %d", got, tt.want)
			}
		})
	}
	if grid != 1+24*(1+1+3+1+3+1+2+1+2+1+3) { // pageInfo is under the page too
		t.Errorf("grid of 24 costs %d", grid)
	}
}

// TestCostOfFragmentFanOut: fragments that spread each other ten times
// over ten levels stand for 10^10 fields; the cost is computed once per
// fragment and saturates instead of overflowing.
func TestCostOfFragmentFanOut(t *testing.T) {
	t.Parallel()
	s := testServer(t, Options{})
	var b strings.Builder
	b.WriteString("{ ...F0 }")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, " fragment F%d on Query {", i)
		for j := 0; j < 10; j++ {
			if i == 9 {
				fmt.Fprintf(&b, " a%d: serverVersion", j)
			} else {
				fmt.Fprintf(&b, " ...F%d", i+1)
			}
		}
		b.WriteString(" }")
	}
	if got := costOf(t, s, b.String(), "", nil); got != 1e10 && got != maxCost {
		t.Fatalf("cost %d", got)
	}
	res := s.Exec(context.Background(), Request{Query: b.String()})
	if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != CodeTooComplex {
		t.Fatalf("answer %+v", res.Errors)
	}
}

// TestBudgetFitsRealDocuments: what GraphiQL, code generators and the
// storefront send is well within the budget, and runs.
func TestBudgetFitsRealDocuments(t *testing.T) {
	t.Parallel()
	for _, production := range []bool{false, true} {
		s := testServer(t, Options{Production: production})
		if c := costOf(t, s, introspectionQuery, "", nil); c > s.opts.Limits.MaxCost/10 {
			t.Errorf("introspection costs %d", c)
		}
		staff := authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "usr_1", Roles: []string{"developer"}})
		res := s.Exec(staff, Request{Query: introspectionQuery})
		if len(res.Errors) > 0 || !strings.Contains(string(res.Data), `"queryType":{"name":"Query"}`) {
			// This package's own tests cannot import testkit (it imports
			// this package through core/app), so the errors are encoded here.
			errs, _ := json.Marshal(res.Errors)
			t.Fatalf("production %v: introspection: %s", production, errs)
		}
		// The grid at the largest page size.
		if c := costOf(t, s, productGrid, "", map[string]any{"first": 100, "currency": "CNY"}); c > s.opts.Limits.MaxCost/4 {
			t.Errorf("grid of 100 costs %d", c)
		}
		if p := documentProblems(s.schema.AST(), s.readDocument(Request{Query: productGrid, Variables: map[string]any{"first": 24, "currency": "CNY"}}), true); len(p) > 0 {
			t.Errorf("the grid has problems: %v", p)
		}
	}
}

// BenchmarkPreExecution measures what Kassa adds before the executor on
// the storefront's grid query: the parse, the cost, the document checks.
// BenchmarkExecutorValidation is graph-gophers' own parse and validation
// of the same document, for scale.
func BenchmarkPreExecution(b *testing.B) {
	s := testServer(b, Options{Production: true})
	req := Request{Query: productGrid, Variables: map[string]any{"first": 24, "currency": "CNY"}}
	b.ReportAllocs()
	for b.Loop() {
		if out := s.refuse(s.readDocument(req)); out != nil {
			b.Fatal(out.Errors)
		}
	}
}

func BenchmarkExecutorValidation(b *testing.B) {
	s := testServer(b, Options{Production: true})
	vars := map[string]any{"first": 24, "currency": "CNY"}
	b.ReportAllocs()
	for b.Loop() {
		if errs := s.schema.ValidateWithVariables(productGrid, vars); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

// TestCostKeptPerDocument: a document seen again is priced from its
// kept parse, once per operation, unless its page sizes come from
// variables: those are priced again with each request's.
func TestCostKeptPerDocument(t *testing.T) {
	t.Parallel()
	s := testServer(t, Options{})
	const doc = `query Fixed { products(first: 10) { nodes { id } } } query Sized($n: Int = 3) { products(first: $n) { nodes { id } } }`
	for i, tt := range []struct {
		op   string
		vars map[string]any
		want int
	}{
		{"Fixed", nil, 1 + 10*2},
		{"Sized", map[string]any{"n": 50}, 1 + 50*2},
		{"Sized", map[string]any{"n": 2}, 1 + 2*2},
		{"Sized", nil, 1 + 3*2},
		{"Fixed", map[string]any{"n": 50}, 1 + 10*2},
	} {
		if got := costOf(t, s, doc, tt.op, tt.vars); got != tt.want {
			t.Errorf("request %d (%s %v): cost %d, want %d", i, tt.op, tt.vars, got, tt.want)
		}
	}
	pd := s.docs.get(doc)
	if pd == nil {
		t.Fatal("the document was not kept")
	}
	if fixed, sized := pd.costs[0].Load(), pd.costs[1].Load(); fixed != 1+10*2+1 || sized != costDependsOnVars {
		t.Fatalf("kept costs %d and %d, want %d and %d", fixed, sized, 1+10*2+1, costDependsOnVars)
	}
}
