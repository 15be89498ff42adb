package graphql

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/graphql/resolver"
)

// trickyDocuments are documents where a reader that is not the
// executor's parser could place operations differently: block strings
// with escaped quotes, comments, strings holding braces and keywords,
// several operations, fragments, BOMs and stray characters.
var trickyDocuments = []struct{ doc, op string }{
	{`query A { __type(name: """\""") { name } } mutation M { ping } # """) { name } } query M { serverVersion }`, "M"},
	{`query A { __type(name: """\""") { name } } mutation M { ping } # """) { name } } query M { serverVersion }`, "A"},
	{`query A { __type(name: """\""") { name } } mutation M { ping } # """) { name } } query M { serverVersion }`, ""},
	{`query A { __type(name: """\\""") { name } } mutation M { ping }`, "M"},
	{`query A { __type(name: """a""""") { name } } mutation M { ping }`, "M"},
	{`query A { __type(name: "\"") { name } } mutation M { ping }`, "M"},
	{`query A { __type(name: "}") { name } } mutation M { ping }`, "M"},
	{"# mutation M { ping }\nquery M { serverVersion }", "M"},
	{"query M { serverVersion } # \n mutation M { ping }", "M"},
	{"mutation M { ping } query M { serverVersion }", "M"},
	{"query M { serverVersion } mutation M { ping }", "M"},
	{`{ serverVersion }`, ""},
	{`mutation { ping }`, ""},
	{"\ufeffmutation { ping }", ""},
	{"mutation\u00a0{ ping }", ""},
	{`mutation @skip(if: true) { ping }`, ""},
	{`fragment F on Query { serverVersion } mutation { ping }`, ""},
	{`fragment F on Mutation { ping } query { ...F }`, ""},
	{`query Q { ... on Mutation { ping } }`, "Q"},
	{`subscription S { ping }`, "S"},
	{`query A { a: serverVersion } mutation B { ping }`, "B"},
	{`query A { serverVersion }`, "B"},
	{`query { a`, ""},
	{`"""desc""" mutation M { ping }`, "M"},
	{`query A($x: String = """\""") { serverVersion } mutation M { ping }`, "M"},
	{`query A { __type(name: """
\"""
""") { name } } mutation M { ping }`, "M"},
	{`query A { __type(name: "\u0022") { name } } mutation M { ping }`, "M"},
	{"query A { serverVersion }\x00 mutation M { ping }", "M"},
}

// executed runs doc as the executor would and reports whether a Mutation
// field ran and whether any field ran at all, from graph-gophers' own
// field tracing.
func executed(t testing.TB, s *Server, doc, op string) (mutation, any bool, errs []*Error) {
	t.Helper()
	rec := &rootRecorder{}
	ctx := context.WithValue(authz.WithSubject(context.Background(), authz.AnonymousSubject()), rootRecorderKey{}, rec)
	res := s.schema.Exec(ctx, doc, op, nil)
	for _, qe := range res.Errors {
		errs = append(errs, s.mapError(ctx, qe))
	}
	return rec.other, rec.other || len(rec.roots) > 0, errs
}

func testServer(t testing.TB, opts Options) *Server {
	t.Helper()
	opts.Version = "test"
	s, err := New(resolver.Services{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestParseDocumentMatchesExecutor holds parseDocument and pickOperation
// to graph-gophers' executor (ADR 0005): a document the executor refuses
// as a syntax error is refused by parseDocument with the same message,
// and the operation type Kassa picks is the type of what executes.
func TestParseDocumentMatchesExecutor(t *testing.T) {
	t.Parallel()
	s := testServer(t, Options{})
	for _, tt := range trickyDocuments {
		def, syntax := parseDocument(tt.doc)
		res := s.schema.Exec(context.Background(), tt.doc, tt.op, nil)
		if syntax != nil {
			if len(res.Errors) != 1 || res.Errors[0].Message != syntax.Message {
				t.Errorf("%q: parseDocument says %q, the executor %v", tt.doc, syntax.Message, res.Errors)
			}
			continue
		}
		op := pickOperation(def, tt.op)
		mutation, ran, _ := executed(t, s, tt.doc, tt.op)
		switch {
		case op == nil && ran:
			t.Errorf("%q op %q: no operation picked, the executor ran one", tt.doc, tt.op)
		case op != nil && mutation && op.Type != "MUTATION":
			t.Errorf("%q op %q: picked a %s, the executor ran a mutation", tt.doc, tt.op, op.Type)
		case op != nil && ran && !mutation && op.Type != "QUERY":
			t.Errorf("%q op %q: picked a %s, the executor ran a query", tt.doc, tt.op, op.Type)
		}
	}
	// The attack of issue 7: to the executor it holds a mutation named M.
	def, _ := parseDocument(trickyDocuments[0].doc)
	if op := pickOperation(def, "M"); op == nil || op.Type != "MUTATION" {
		t.Fatalf("the attack document's M is %+v", op)
	}
}

// TestGraphGophersVersionPinned fails when graph-gophers/graphql-go is
// upgraded: parseDocument is linked to its internal parser, and pickOperation
// and documentProblems copy its rules. Re-read ADR 0005, check those
// against the new version, run the fuzz test, then move the pin.
func TestGraphGophersVersionPinned(t *testing.T) {
	t.Parallel()
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/graph-gophers/graphql-go\s+(\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("graph-gophers/graphql-go is not required in go.mod")
	}
	if v := string(m[1]); v != "v1.11.0" || strings.Contains(string(mod), "replace github.com/graph-gophers/graphql-go") {
		t.Fatalf("graph-gophers/graphql-go is %s: re-check parse.go, pickOperation and documentcheck.go against it (ADR 0005), then move this pin", v)
	}
}

// FuzzGETRunsNoMutation serves documents over GET and asks the executor's
// own field tracing whether a Mutation field ran: it never may. It also
// checks that a GET refused as not a query was not a query to the executor
// either, so the guard refuses nothing it should serve.
func FuzzGETRunsNoMutation(f *testing.F) {
	for _, tt := range trickyDocuments {
		f.Add(tt.doc, tt.op)
	}
	s := testServer(f, Options{})
	f.Fuzz(func(t *testing.T, doc, op string) {
		rec := &rootRecorder{}
		ctx := context.WithValue(authz.WithSubject(context.Background(), authz.AnonymousSubject()), rootRecorderKey{}, rec)
		r := httptest.NewRequest(http.MethodGet, "/graphql?"+url.Values{"query": {doc}, "operationName": {op}}.Encode(), nil).WithContext(ctx)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if rec.other {
			t.Fatalf("GET %q (operation %q) ran a mutation: %d %s", doc, op, w.Code, w.Body)
		}
		if w.Code == http.StatusMethodNotAllowed && doc != "" {
			if _, ran, _ := executed(t, s, doc, op); ran && !strings.Contains(doc, "subscription") {
				if mutation, _, _ := executed(t, s, doc, op); !mutation {
					t.Fatalf("GET %q (operation %q) refused, but the executor runs it as a query", doc, op)
				}
			}
		}
	})
}
