package graphql

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/graphql/resolver"
)

func textServer(t testing.TB) *Server {
	t.Helper()
	s, err := New(resolver.Services{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkText reads req as Exec does and checks its text.
func (s *Server) checkText(req Request) *Response {
	return s.checkDocumentText(s.readDocument(req), req.Variables)
}

// textErrors flattens a refusal to "code field" lines, top-level errors
// and userErrors alike.
func textErrors(t *testing.T, out *Response) []string {
	t.Helper()
	var lines []string
	for _, e := range out.Errors {
		lines = append(lines, e.Extensions["code"].(string)+" "+strings.Join(e.Extensions["field"].([]string), "."))
	}
	return lines
}

func TestCheckTextWalk(t *testing.T) {
	s := textServer(t)
	cases := []struct {
		name string
		req  Request
		want []string // nil: the request may run
	}{
		{name: "plain query", req: Request{Query: `{ products(first: 24, query: "oolong tea") { nodes { id title } } }`}},
		{name: "unicode", req: Request{Query: `{ product(handle: "乌龙茶-🍵") { id } }`}},
		{name: "tab and newlines in a description", req: Request{
			Query:     `mutation($d: String) { productCreate(input: {title: "Oolong", description: $d}) { userErrors { code } } }`,
			Variables: map[string]any{"d": "one\r\n\ttwo"}}},
		{name: "newline in a note", req: Request{Query: "mutation { inventoryAdjust(input: {variantId: \"var_1\", delta: 1, reason: OTHER, note: \"\"\"counted\n  twice\"\"\"}) { userErrors { code } } }"}},
		{name: "multi-line JSON settings", req: Request{
			Query:     `mutation($s: JSON!) { pluginSettingsUpdate(input: {id: "payment.x", settings: $s}) { userErrors { code } } }`,
			Variables: map[string]any{"s": map[string]any{"private_key": "-----BEGIN KEY-----\nAAAA\n-----END KEY-----\n", "n": 3.0, "list": []any{"a\tb"}}}}},
		{name: "unused variable is not read", req: Request{Query: `query($q: String) { products(query: $q) { nodes { id } } }`, Variables: map[string]any{"q": "tea", "other": "\x00"}}},
		{name: "other operation is not read", req: Request{Query: `query A { product(handle: "a\u0000") { id } } query B { serverVersion }`, OperationName: "B"}},
		{name: "selected operation is read", req: Request{Query: `query A { product(handle: "a\u0000") { id } } query B { serverVersion }`, OperationName: "A"},
			want: []string{"INVALID_CHARACTERS handle"}},
		{name: "no operation chosen: the executor answers", req: Request{Query: `query A { product(handle: "a\u0000") { id } } query B { serverVersion }`}},
		{name: "syntax error: the executor answers", req: Request{Query: `{ product(handle: "a\u0000" { id } }`}},
		{name: "list of IDs", req: Request{Query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, Variables: map[string]any{"ids": []string{"prd_1", "prd_2\x00"}}},
			want: []string{"INVALID_CHARACTERS ids.1"}},
		{name: "enum given as a string variable", req: Request{Query: `query($s: ProductStatus) { products(status: $s) { nodes { id } } }`, Variables: map[string]any{"s": "ACTIVE\x00"}},
			want: []string{"INVALID_CHARACTERS status"}},
		{name: "unknown field is single-line", req: Request{Query: `{ nosuchfield(x: "a\nb") }`},
			want: []string{"INVALID_CHARACTERS x"}},
		{name: "introspection argument", req: Request{Query: `{ __type(name: "Product\u0000") { name } }`},
			want: []string{"INVALID_CHARACTERS name"}},
		{name: "directive argument", req: Request{Query: `{ serverVersion @skip(if: "\u0000") }`},
			want: []string{"INVALID_CHARACTERS if"}},
		{name: "argument of a nested field", req: Request{Query: `{ products { nodes { variants { inventoryAdjustments(after: "C\u0001NY") { nodes { id } } } } } }`},
			want: []string{"INVALID_CHARACTERS after"}},
		{name: "inline fragment narrows the type", req: Request{Query: `{ node(id: "prd_1") { ... on Collection { products(after: "x\ty") { nodes { id } } } } }`},
			want: []string{"INVALID_CHARACTERS after"}},
		{name: "fragment cycle ends", req: Request{Query: `query { ...A } fragment A on Query { ...B product(handle: "\u0000") { id } } fragment B on Query { ...A serverVersion }`},
			want: []string{"INVALID_CHARACTERS handle"}},
		{name: "fragment spread twice is reported twice", req: Request{Query: `query { a: product(handle: "x") { ...P } b: product(handle: "y") { ...P } } fragment P on Product { featuredVariant { inventoryAdjustments(after: "\u0000") { nodes { id } } } }`},
			want: []string{"INVALID_CHARACTERS after", "INVALID_CHARACTERS after"}},
		{name: "unknown fragment", req: Request{Query: `query { ...Nope }`}},
		{name: "variable default", req: Request{Query: `query($h: String = "\u001b[31m") { product(handle: $h) { id } }`},
			want: []string{"INVALID_CHARACTERS handle"}},
		{name: "given variable wins over its default", req: Request{Query: `query($h: String = "\u0000") { product(handle: $h) { id } }`, Variables: map[string]any{"h": "oolong"}}},
		{name: "null variable", req: Request{Query: `query($h: String) { product(handle: $h) { id } }`, Variables: map[string]any{"h": nil}}},
		{name: "each root field reports its own", req: Request{Query: `{ a1: product(handle: "\u0000") { id } a2: product(handle: "\u0000") { id } }`},
			want: []string{"INVALID_CHARACTERS handle", "INVALID_CHARACTERS handle"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := s.checkText(c.req)
			if c.want == nil {
				if out != nil && len(out.Errors) > 0 {
					t.Fatalf("refused: %s", textErrors(t, out))
				}
				return
			}
			if out == nil {
				t.Fatal("not refused")
			}
			if diff := cmp.Diff(c.want, textErrors(t, out)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckTextCapsProblems(t *testing.T) {
	s := textServer(t)
	list := make([]any, 50)
	for i := range list {
		list[i] = "\x00"
	}
	out := s.checkText(Request{Query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, Variables: map[string]any{"ids": list}})
	if out == nil || len(out.Errors) != maxTextProblems {
		t.Fatalf("want %d errors, got %+v", maxTextProblems, out)
	}
}

func TestCheckTextSkipsTooLong(t *testing.T) {
	s := textServer(t)
	q := `{ product(handle: "\u0000") { id } }` + strings.Repeat(" ", s.opts.Limits.MaxQueryBytes)
	if out := s.checkText(Request{Query: q}); out != nil {
		t.Fatalf("an over-long document was parsed: %+v", out)
	}
	if res := s.Exec(t.Context(), Request{Query: q}); len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Message, "exceeds") {
		t.Fatalf("executor did not refuse it: %+v", res.Errors)
	}
}

func TestCheckTextQueryError(t *testing.T) {
	s := textServer(t)
	out := s.checkText(Request{Query: "{\n  product(handle: \"a\\u0000\") { id }\n}"})
	got, _ := json.Marshal(out)
	want := `{"errors":[{"message":"handle contains a control character (U+0000); remove it","locations":[{"line":2,"column":19}],"extensions":{"code":"INVALID_CHARACTERS","field":["handle"]}}]}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	out = s.checkText(Request{Query: `query($h: String) { product(handle: $h) { id } }`, Variables: map[string]any{"h": "caf\xe9"}})
	if out == nil || out.Errors[0].Message != "handle contains bytes that are not valid UTF-8; remove it" {
		t.Fatalf("invalid UTF-8: %+v", out)
	}
}

// TestCheckTextPayload: a refused mutation answers with its payloads'
// userErrors, shaped exactly as the client selected them, or falls back
// to top-level errors when it cannot.
func TestCheckTextPayload(t *testing.T) {
	s := textServer(t)
	cases := []struct {
		name     string
		req      Request
		wantData string // "" wants top-level errors
	}{
		{name: "aliases and typename",
			req: Request{Query: `mutation { made: productCreate(input: {title: "a\u0000", tags: ["x", "y\u007f"]}) { __typename p: product { id } errs: userErrors { __typename f: field message code } } }`},
			wantData: `{"made":{"__typename":"ProductCreatePayload","p":null,"errs":[` +
				`{"__typename":"UserError","f":["input","title"],"message":"title contains a control character (U+0000); remove it","code":"INVALID_CHARACTERS"},` +
				`{"__typename":"UserError","f":["input","tags","1"],"message":"tags contains a control character (U+007F); remove it","code":"INVALID_CHARACTERS"}]}}`},
		{name: "two refused mutations",
			req:      Request{Query: `mutation($e: String!) { customerRegister(input: {email: $e, password: "x"}) { userErrors { code } } customerRequestPasswordReset(input: {email: $e}) { userErrors { field } } }`, Variables: map[string]any{"e": "\x00"}},
			wantData: `{"customerRegister":{"userErrors":[{"code":"INVALID_CHARACTERS"}]},"customerRequestPasswordReset":{"userErrors":[{"field":["input","email"]}]}}`},
		{name: "JSON settings", req: Request{Query: `mutation { pluginSettingsUpdate(input: {id: "payment.x", settings: {smtp: {host: "mail\u0000"}}}) { plugin { id } userErrors { field } } }`},
			wantData: `{"pluginSettingsUpdate":{"plugin":null,"userErrors":[{"field":["input","settings","smtp","host"]}]}}`},
		{name: "non-null field selected", req: Request{Query: `mutation { staffDisable(input: {id: "stf_\u0000"}) { revokedApiKeys { id } userErrors { code } } }`}},
		{name: "payload without userErrors", req: Request{Query: `mutation { logout @skip(if: "\u0000") { loggedOut } }`}},
		{name: "one root field is clean", req: Request{Query: `mutation { a: productArchive(input: {id: "prd_1"}) { userErrors { code } } b: productArchive(input: {id: "prd_\u0000"}) { userErrors { code } } }`}},
		{name: "fragment in the payload", req: Request{Query: `mutation { productArchive(input: {id: "prd_\u0000"}) { ...E } } fragment E on ProductArchivePayload { userErrors { code } }`}},
		{name: "directive on the operation", req: Request{Query: `mutation @x(y: "\u0000") { productArchive(input: {id: "prd_\u0000"}) { userErrors { code } } }`}},
		{name: "unknown field of UserError", req: Request{Query: `mutation { productArchive(input: {id: "prd_\u0000"}) { userErrors { code hint } } }`}},
		{name: "duplicate response keys", req: Request{Query: `mutation { productArchive(input: {id: "prd_\u0000"}) { userErrors { code code } } }`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := s.checkText(c.req)
			if out == nil {
				t.Fatal("not refused")
			}
			if c.wantData == "" {
				if len(out.Errors) == 0 || out.Data != nil {
					t.Fatalf("want top-level errors, got data %s", out.Data)
				}
				for _, e := range out.Errors {
					if e.Extensions["code"] != CodeInvalidCharacters {
						t.Fatalf("code %v", e.Extensions["code"])
					}
				}
				return
			}
			if len(out.Errors) > 0 {
				t.Fatalf("top-level errors: %s", textErrors(t, out))
			}
			if !json.Valid(out.Data) {
				t.Fatalf("invalid JSON %s", out.Data)
			}
			if diff := cmp.Diff(c.wantData, string(out.Data)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzCheckText feeds arbitrary documents and variables to the check: it
// must never panic, and whatever it answers is well-formed.
func FuzzCheckText(f *testing.F) {
	s := textServer(f)
	for _, q := range []string{
		`{ products(query: "\u0000") { nodes { id } } }`,
		`query($q: String = "a") { product(handle: $q) { id } }`,
		`query { ...A } fragment A on Query { ...A product(handle: "x\n") { id } }`,
		`mutation { productCreate(input: {title: """a` + "\n" + `b""", tags: ["\u0085"]}) { __typename product { id } userErrors { field message code } } }`,
		`mutation { pluginSettingsUpdate(input: {id: "x", settings: {a: [{b: "\u0000"}]}}) { userErrors { code } } }`,
		`{ node(id: $v) { ... on ProductVariant { inventoryAdjustments(after: $v) { nodes { id } } } } }`,
		`subscription { x(y: "\u0000") }`,
		`{ a(b: [[[{c: $v}]]]) }`,
	} {
		f.Add(q, "\x00", "")
		f.Add(q, "ok", "A")
	}
	f.Fuzz(func(t *testing.T, query, v, opName string) {
		vars := map[string]any{"v": v, "q": []any{v, map[string]any{"k": v}}}
		out := s.checkText(Request{Query: query, OperationName: opName, Variables: vars})
		if out == nil {
			return
		}
		if out.Data != nil && !json.Valid(out.Data) {
			t.Fatalf("invalid JSON data %q", out.Data)
		}
		if out.Data == nil && len(out.Errors) == 0 {
			t.Fatal("refusal with neither data nor errors")
		}
		for _, e := range out.Errors {
			if e.Extensions["code"] != CodeInvalidCharacters {
				t.Fatalf("code %v", e.Extensions["code"])
			}
		}
	})
}

// BenchmarkCheckText measures the check on a typical storefront product
// grid (one document, variables, a fragment).
func BenchmarkCheckText(b *testing.B) {
	s := textServer(b)
	req := Request{
		Query: `query Grid($first: Int, $after: String, $query: String, $collection: String, $currency: String) {
  products(first: $first, after: $after, query: $query, collection: $collection, sortKey: TITLE, currency: $currency) {
    nodes { ...Card }
    pageInfo { hasNextPage endCursor }
  }
}
fragment Card on Product {
  id handle title vendor tags
  featuredVariant { id sku availableForSale price { amount currencyCode } compareAtPrice { amount currencyCode } }
  priceRange { min { amount currencyCode } max { amount currencyCode } }
  collections { handle title }
}`,
		Variables: map[string]any{"first": 24.0, "after": "cHJkXzAxSjk", "query": "oolong tea", "collection": "green-teas", "currency": "CNY"},
	}
	// Exec parses once for every check (readDocument); the text check
	// itself is the walk over the parsed operation.
	b.Run("walk", func(b *testing.B) {
		doc, qe := parseDocument(req.Query)
		if qe != nil {
			b.Fatal(qe)
		}
		b.ReportAllocs()
		for b.Loop() {
			if s.refuseText(doc, doc.Operations[0], req.Variables) != nil {
				b.Fatal("refused")
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseDocument(req.Query); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestTextProblemPathsOfVariables: the paths of problems found in a
// variable's nested values name each value, however many siblings were
// walked before it (the walk extends one path in place).
func TestTextProblemPathsOfVariables(t *testing.T) {
	t.Parallel()
	s := testServer(t, Options{})
	req := Request{Query: `mutation($input: CartAddressUpdateInput!, $ids: [ID!]!) { cartShippingAddressUpdate(input: $input) { userErrors { field } } nodes: cartShippingAddressUpdate(input: {token: "t", address: {firstName: $ids}}) { userErrors { field } } }`,
		Variables: map[string]any{
			"input": map[string]any{"token": "t", "address": map[string]any{"firstName": "ok", "line1": "a\x00", "city": "b\x01", "lastName": "also ok"}},
			"ids":   []any{"ok", "x\x00", "fine", "y\x00"},
		}}
	d := s.readDocument(req)
	perRoot := findTextProblems(s.schema.AST(), d.def, d.op, req.Variables)
	var got []string
	for _, problems := range perRoot {
		for _, p := range problems {
			got = append(got, strings.Join(p.field, "."))
		}
	}
	slices.Sort(got)
	want := []string{"input.address.city", "input.address.line1", "input.address.firstName.1", "input.address.firstName.3"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("paths %q, want %q", got, want)
	}
}

// TestValidJSONText: bytes that are not UTF-8 and unpaired surrogate
// escapes, which encoding/json would turn into U+FFFD without a word, are
// found in a request's JSON; everything else a decoder takes passes.
func TestValidJSONText(t *testing.T) {
	cases := []struct {
		name string
		json string
		ok   bool
	}{
		{"plain", `{"query":"{ a }","variables":{"city":"Shanghai 上海"}}`, true},
		{"escapes", `{"a":"\"\\\/\b\f\n\r\t\u00e9\u4e0a"}`, true},
		{"a pair", `{"a":"\ud83d\ude00"}`, true},
		{"a pair in capitals", `{"a":"\uD83D\uDE00"}`, true},
		{"an escaped backslash before u", `{"a":"\\ud800"}`, true},
		{"two escaped backslashes before u", `{"a":"\\\\ud800"}`, true},
		{"a replacement character typed", `{"a":"\ufffd �"}`, true},
		{"malformed escape left to the decoder", `{"a":"\u12"}`, true},
		{"a backslash last", `{"a":"\`, true},
		{"invalid bytes", "{\"a\":\"\xff\xfe bad\"}", false},
		{"a truncated sequence", "{\"a\":\"\xe4\xb8\"}", false},
		{"an encoded surrogate", "{\"a\":\"\xed\xa0\x80\"}", false},
		{"a lone high surrogate", `{"a":"\ud800"}`, false},
		{"a high surrogate at the end", `{"a":"x\ud800`, false},
		{"a high surrogate then text", `{"a":"\ud800abcdef"}`, false},
		{"two high surrogates", `{"a":"\ud800\ud800"}`, false},
		{"a lone low surrogate", `{"a":"\udc00"}`, false},
		{"after an escaped backslash", `{"a":"\\\ud800"}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := validJSONText([]byte(c.json)); got != c.ok {
				t.Fatalf("validJSONText(%q) = %v, want %v", c.json, got, c.ok)
			}
		})
	}
}

// FuzzValidJSONText: whenever validJSONText passes a JSON text that
// decodes, decoding and encoding it again gives the same strings, so no
// U+FFFD came from the decoder; and it never panics.
func FuzzValidJSONText(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud800"`, `"\ud83d\ude00"`, "\"\xff\"", `"\\ud800"`, `"\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ok := validJSONText(b)
		var s string
		if json.Unmarshal(b, &s) != nil {
			return
		}
		if ok && strings.ContainsRune(s, '\ufffd') && !strings.Contains(string(b), "\ufffd") && !strings.Contains(strings.ToLower(string(b)), `\ufffd`) {
			t.Fatalf("passed %q, which decodes with a replacement character", b)
		}
	})
}
