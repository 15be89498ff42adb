package graphql

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// TestParsedDocumentsAnswerAsAFreshParse holds the parse cache to the
// whole check: a document read again (its parse and text check from
// s.docs) is refused or let through exactly as on its first read, and
// as the whole documentProblems run on a fresh parse, whatever the
// variables of the request.
func TestParsedDocumentsAnswerAsAFreshParse(t *testing.T) {
	const add = `mutation Add($input: CartLinesAddInput!, $n: Int) { cartLinesAdd(input: $input) { cart { id } } }`
	const grid = `query Grid($first: Int, $currency: CurrencyCode) { products(first: $first, currency: $currency) { edges { node { id } } } }`
	const unknown = `query { products(first: 2) { edges { node { id nope } } } }`
	lines := []any{map[string]any{"variantId": "v1", "quantity": 1}}
	cases := []struct {
		name  string
		query string
		vars  map[string]any
		// refused says whether the check refuses it, without and with
		// production's name checks.
		refused [2]bool
	}{
		{"clean, good variables", add, map[string]any{"input": map[string]any{"token": "t", "lines": lines}}, [2]bool{false, false}},
		{"clean, unknown input field", add, map[string]any{"input": map[string]any{"token": "t", "lines": lines, "extra": 1}}, [2]bool{false, true}},
		{"clean, list for a single value", grid, map[string]any{"first": []any{1, 2}, "currency": "CNY"}, [2]bool{true, true}},
		{"clean, no variables", grid, nil, [2]bool{false, false}},
		{"unknown field", unknown, nil, [2]bool{false, true}},
	}
	for _, production := range []bool{false, true} {
		s := testServer(t, Options{Production: production})
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/production=%v", tc.name, production), func(t *testing.T) {
				req := Request{Query: tc.query, Variables: tc.vars}
				fresh := &document{query: tc.query, vars: tc.vars}
				fresh.def, fresh.syntax = parseDocument(tc.query)
				if fresh.syntax != nil {
					t.Fatal(fresh.syntax)
				}
				fresh.op = pickOperation(fresh.def, "")
				want := messages(documentProblems(s.schema.AST(), fresh, production))
				if refused := len(want) > 0; refused != tc.refused[map[bool]int{false: 0, true: 1}[production]] {
					t.Fatalf("refused %v: %v", refused, want)
				}
				for read := 1; read <= 3; read++ {
					d := s.readDocument(req)
					if read > 1 && s.docs.get(tc.query) == nil {
						t.Fatalf("read %d: the document was not kept", read)
					}
					if diff := cmp.Diff(want, messages(documentProblems(s.schema.AST(), d, production))); diff != "" {
						t.Errorf("read %d (-fresh +read):\n%s", read, diff)
					}
				}
			})
		}
	}
}

func messages(qs []*gqlerrors.QueryError) []string {
	var out []string
	for _, q := range qs {
		out = append(out, q.Message)
	}
	return out
}

// TestParsedDocumentsStayBounded sends more distinct documents than two
// generations hold: the cache never holds more than that, and a document
// in use all along is still there.
func TestParsedDocumentsStayBounded(t *testing.T) {
	p := newParsedDocuments()
	const hot = "{ shop { name } }"
	p.put(hot, &parsedDocument{})
	for i := range 5 * maxParsedDocuments {
		p.put(fmt.Sprintf("{ a%d: shop { name } }", i), &parsedDocument{})
		if p.get(hot) == nil {
			t.Fatalf("after %d documents the one in use was evicted", i+1)
		}
		if n := len(p.cur) + len(p.prev); n > 2*maxParsedDocuments {
			t.Fatalf("after %d documents %d kept", i+1, n)
		}
	}
	if p.get("{ a0: shop { name } }") != nil {
		t.Error("the first of a flood is still kept")
	}
	long := "{ shop { name } }" + string(make([]byte, maxParsedDocumentBytes))
	p.put(long, &parsedDocument{})
	if p.get(long) != nil {
		t.Error("a document over maxParsedDocumentBytes was kept")
	}
}
