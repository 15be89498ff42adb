package graphql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
)

// attackGET is issue 7 item 1: graph-gophers ends the block string at
// the first `"""`, so the executor sees query A and mutation M; a lexer
// that reads `\"""` as an escaped quote saw two queries, A and M.
const attackGET = `query A { product(handle: """\""") { title } } ` +
	`mutation M { staffInvite(input: {email: "mallory@evil.example", roles: ["owner"]}) { invitation { id } } } ` +
	`# """) { title } } query M { serverVersion }`

// TestGETCannotRunAMutation reproduces issue 7 item 1 with an owner's
// browser cookie: a cross-site link to the document above invited an
// owner. The GET is refused with 405 and no invitation exists.
func TestGETCannotRunAMutation(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		_, owner := secStaff(t, e, "olga@shop.example", authz.RoleOwner)

		u := e.http.URL + "/graphql?" + url.Values{"query": {attackGET}, "operationName": {"M"}}.Encode()
		resp, err := owner.http.Get(u) // the cookie travels, no CSRF header: a link
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET ran: status %d %s", resp.StatusCode, body)
		}
		res := must(t, owner.do(`{ staffInvitations { email roles } }`, nil))
		if list, _ := res.get("staffInvitations").([]any); len(list) != 0 {
			t.Fatalf("a GET invited someone: %v", list)
		}
		// The query of the same document still runs over GET.
		u = e.http.URL + "/graphql?" + url.Values{"query": {attackGET}, "operationName": {"A"}}.Encode()
		resp, err = owner.http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"product":null`) {
			t.Fatalf("query A over GET: status %d %s", resp.StatusCode, body)
		}
	})
}

// productsAlias is the selection the attack of issue 7 item 4 repeated:
// 1 + 100 * (nodes + id + title + variants + sku + availableQuantity) = 601.
const productsAlias = `products(first: 100) { nodes { id title variants { sku availableQuantity } } }`

// attackDocument is one document of the attack: 285 aliases.
func attackDocument(salt int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 285; i++ {
		fmt.Fprintf(&b, " x%dq%d: %s", salt, i, productsAlias)
	}
	b.WriteString(" }")
	return b.String()
}

func post(t *testing.T, srv http.Handler, body string) (int, http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest("POST", "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

// TestCostBudget reproduces issue 7 item 4: the batch of 10 documents of
// 285 aliases each is refused before anything runs, with the cost and the
// budget; one such document alone too; the documents a shop sends pass.
func TestCostBudget(t *testing.T) {
	t.Parallel()
	srv := newServer(t, graphql.Options{})

	batch := make([]graphql.Request, 10)
	for i := range batch {
		batch[i] = graphql.Request{Query: attackDocument(i)}
	}
	status, _, body := post(t, srv, testkit.EncodeJSON(t, batch))
	var out []struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    string         `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("status %d %s: %v", status, body, err)
	}
	if status != 200 || len(out) != 10 {
		t.Fatalf("status %d, %d answers", status, len(out))
	}
	for _, r := range out {
		if len(r.Errors) != 1 || r.Data != nil {
			t.Fatalf("answer %+v", r)
		}
		e := r.Errors[0]
		// The batch sum: 10 x 285 x 601.
		if e.Extensions["code"] != "QUERY_TOO_COMPLEX" || e.Message != "batch cost 1712850 exceeds the budget of 10000" ||
			e.Extensions["cost"] != float64(1712850) || e.Extensions["budget"] != float64(10000) {
			t.Fatalf("error %+v", e)
		}
	}
	if len(body) > 4096 {
		t.Errorf("the refusal takes %d bytes", len(body))
	}

	// One document alone is over the budget too.
	_, _, body = post(t, srv, testkit.EncodeJSON(t, batch[0]))
	if !strings.Contains(string(body), `"message":"query cost 171285 exceeds the budget of 10000"`) || !strings.Contains(string(body), `"code":"QUERY_TOO_COMPLEX"`) {
		t.Fatalf("single attack document: %s", body)
	}

	// A batch of documents each within the budget but over it together.
	small := graphql.Request{Query: "{ " + strings.Repeat("a: "+productsAlias+" ", 0) + "p1: " + productsAlias + " p2: " + productsAlias + " p3: " + productsAlias + " p4: " + productsAlias + " p5: " + productsAlias + " p6: " + productsAlias + " }"}
	_, _, body = post(t, srv, testkit.EncodeJSON(t, []graphql.Request{small, small, small}))
	if !strings.Contains(string(body), "batch cost 10818 exceeds the budget of 10000") {
		t.Fatalf("three documents of 3606: %s", body)
	}

	// In-process callers (the storefront) have the same budget.
	res := srv.Exec(context.Background(), graphql.Request{Query: attackDocument(0)})
	if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != "QUERY_TOO_COMPLEX" {
		t.Fatalf("in-process attack document: %+v", res.Errors)
	}
}

// TestRepeatedSelectionsRefusedCheaply: validation compares the
// selections of one response name pairwise to see that they merge, work
// that grows with the square of their number. 6,000 spreads of one
// fragment (24 KB, anonymous) took 16 s of CPU, 8,000 took 50 s, before
// the selection limit refused them at execution; the comparison now
// stops at Limits.MaxOverlapPairs with QUERY_TOO_COMPLEX. The documents
// of the admin, the storefront and the introspection query compare
// fewer than 300 pairs.
func TestRepeatedSelectionsRefusedCheaply(t *testing.T) {
	t.Parallel()
	srv := newServer(t, graphql.Options{})
	for name, doc := range map[string]string{
		"fragment spreads": "fragment F on Query { serverVersion } {" + strings.Repeat(" ...F", 6000) + " }",
		"inline fragments": "{" + strings.Repeat(" ... on Query { serverVersion }", 1000) + " }",
		"fields":           "{" + strings.Repeat(" serverVersion", 1900) + " }",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, body := post(t, srv, testkit.EncodeJSON(t, graphql.Request{Query: doc}))
			var out struct {
				Data   json.RawMessage `json:"data"`
				Errors []struct {
					Message    string         `json:"message"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if len(out.Errors) != 1 || out.Data != nil {
				t.Fatalf("answer %s", body)
			}
			e := out.Errors[0]
			if e.Extensions["code"] != "QUERY_TOO_COMPLEX" || e.Extensions["limit"] != float64(graphql.DefaultLimits.MaxOverlapPairs) ||
				!strings.Contains(e.Message, "select each field once") {
				t.Fatalf("error %+v", e)
			}
		})
	}
	// A field asked twice, as clients' fragments do, still merges.
	_, _, body := post(t, srv, testkit.EncodeJSON(t, graphql.Request{Query: "fragment F on Query { serverVersion } { serverVersion ...F ...F }"}))
	if !strings.Contains(string(body), `{"data":{"serverVersion":`) {
		t.Fatalf("a field asked three ways: %s", body)
	}
}

// TestValueShapes reproduces issue 7 item 8: a list given to a String
// argument answered with a Go dump of the value, 8 times the document.
func TestValueShapes(t *testing.T) {
	t.Parallel()
	srv := newServer(t, graphql.Options{})
	nested := strings.Repeat("[", 60) + strings.Repeat("]", 60)
	tests := []struct {
		name, query string
		vars        map[string]any
		want        string
	}{
		{"list literal", `{ product(handle: [` + strings.TrimSuffix(strings.Repeat(nested+",", 16), ",") + `]) { id } }`, nil,
			`Argument \"handle\" has an invalid value: expected String.`},
		{"object literal", `{ product(handle: {a: "b"}) { id } }`, nil, `Argument \"handle\" has an invalid value: expected String.`},
		{"in an input object", `mutation { customerRegister(input: {email: ["a"], password: "x"}) { userErrors { code } } }`, nil,
			`Argument \"input\" has an invalid value at \"email\": expected String.`},
		{"list of lists of strings", `mutation { staffInvite(input: {email: "a@b.example", roles: [["owner"]]}) { userErrors { code } } }`, nil,
			`Argument \"input\" has an invalid value at \"roles\": expected String.`},
		{"enum", `{ products(sortKey: [TITLE]) { nodes { id } } }`, nil, `Argument \"sortKey\" has an invalid value: expected ProductSortKey.`},
		{"variable", `query($h: String) { product(handle: $h) { id } }`, map[string]any{"h": []any{[]any{[]any{}}}},
			`Variable \"$h\" has an invalid value: expected String.`},
		{"variable in an input object", `mutation($i: CustomerRegisterInput!) { customerRegister(input: $i) { userErrors { code } } }`,
			map[string]any{"i": map[string]any{"email": map[string]any{"a": 1}, "password": "x"}},
			`Variable \"$i\" has an invalid value at \"email\": expected String.`},
		// Values of the wrong scalar, enum or shape, nulls and missing
		// fields: said plainly, with the path in the variable, before the
		// executor answers them with Go types ("could not unmarshal true
		// (bool) into int32") and schema line numbers.
		{"a string for an Int", `query($n: Int) { products(first: $n) { nodes { id } } }`, map[string]any{"n": "abc"},
			`Variable \"$n\" has an invalid value: expected Int, got \"abc\".`},
		{"a fraction for an Int", `query($n: Int) { products(first: $n) { nodes { id } } }`, map[string]any{"n": 1.5},
			`Variable \"$n\" has an invalid value: expected Int, a whole number from -2147483648 to 2147483647, got 1.5.`},
		{"a huge string for an Int", `query($n: Int) { products(first: $n) { nodes { id } } }`, map[string]any{"n": strings.Repeat("9", 100000)},
			`Variable \"$n\" has an invalid value: expected Int, got a string of 100000 bytes.`},
		{"a boolean deep in an input", `mutation($i: CartCreateInput!) { cartCreate(input: $i) { token } }`,
			map[string]any{"i": map[string]any{"lines": []any{map[string]any{"variantId": "var_1", "quantity": 1}, map[string]any{"variantId": "var_2", "quantity": true}}}},
			`Variable \"$i\" has an invalid value at \"lines[1].quantity\": expected Int, got true.`},
		{"a number for an ID", `mutation($i: CartCreateInput!) { cartCreate(input: $i) { token } }`,
			map[string]any{"i": map[string]any{"lines": []any{map[string]any{"variantId": 5, "quantity": 1}}}},
			`Variable \"$i\" has an invalid value at \"lines[0].variantId\": expected ID, a string, got 5.`},
		{"a required input field left out", `mutation($i: CartCreateInput!) { cartCreate(input: $i) { token } }`,
			map[string]any{"i": map[string]any{"lines": []any{map[string]any{"quantity": 1}}}},
			`Variable \"$i\" has an invalid value at \"lines[0]\": field variantId of required type ID! was not provided.`},
		{"null for a non-null variable", `query($n: Int!) { products(first: $n) { nodes { id } } }`, map[string]any{"n": nil},
			`Variable \"$n\" has an invalid value: expected Int!, got null.`},
		{"a required variable left out", `query($n: Int!) { products(first: $n) { nodes { id } } }`, map[string]any{},
			`Variable \"$n\" of required type Int! was not provided.`},
		{"an enum value that is none", `mutation($i: ShopSettingsUpdateInput!) { shopSettingsUpdate(input: $i) { userErrors { code } } }`,
			map[string]any{"i": map[string]any{"paymentCaptureMode": "LATER"}},
			`Variable \"$i\" has an invalid value at \"paymentCaptureMode\": expected PaymentCaptureMode (one of AUTOMATIC, MANUAL), got \"LATER\".`},
		{"a time that is none", `query($d: DateTime) { orders(first: 1, filter: {createdFrom: $d}) { nodes { id } } }`, map[string]any{"d": "yesterday"},
			`Variable \"$d\" has an invalid value: expected DateTime, an RFC 3339 time such as 2026-12-07T10:30:00Z, got \"yesterday\".`},
		{"a number for a DateTime, written in the document", `{ orders(first: 1, filter: {createdFrom: 5}) { nodes { id } } }`, nil,
			`Argument \"filter\" has an invalid value at \"createdFrom\": expected DateTime, an RFC 3339 time such as 2026-12-07T10:30:00Z.`},
		{"a time that is none, written in the document", `{ orders(first: 1, filter: {createdFrom: "yesterday"}) { nodes { id } } }`, nil,
			`Argument \"filter\" has an invalid value at \"createdFrom\": expected DateTime, an RFC 3339 time such as 2026-12-07T10:30:00Z.`},
		{"an object for a list of inputs", `mutation($i: CartCreateInput!) { cartCreate(input: $i) { token } }`,
			map[string]any{"i": map[string]any{"lines": "x"}},
			`Variable \"$i\" has an invalid value at \"lines\": expected CartLineInput (an object), got \"x\".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, body := post(t, srv, testkit.EncodeJSON(t, graphql.Request{Query: tt.query, Variables: tt.vars}))
			if !strings.Contains(string(body), tt.want) || !strings.Contains(string(body), "GRAPHQL_VALIDATION_FAILED") || strings.Contains(string(body), "interface") ||
				strings.Contains(string(body), `"data"`) || strings.Contains(string(body), "unmarshal") {
				t.Fatalf("answer %s", body)
			}
			if len(body) > 512 {
				t.Fatalf("answer of %d bytes to a document of %d: %s", len(body), len(tt.query), body)
			}
		})
	}
}

// TestVariableCheckBounds: the variable check's work and answer stay
// bounded whatever the value: a type nesting lists a thousand deep is
// refused without walking its value (an outside review's 1 MiB request
// took 9 s of CPU when every item was walked with its whole path), a long
// list of wrong items stops at maxDocumentProblems.
func TestVariableCheckBounds(t *testing.T) {
	t.Parallel()
	srv := newServer(t, graphql.Options{})
	const depth = 1000
	deepType := strings.Repeat("[", depth) + "Int" + strings.Repeat("]", depth)
	deepValue := strings.Repeat("[", depth) + strings.TrimSuffix(strings.Repeat(`"x",`, 20000), ",") + strings.Repeat("]", depth)
	_, _, body := post(t, srv, `{"query":"query($s: `+deepType+`) { __typename }","variables":{"s":`+deepValue+`}}`)
	if !strings.Contains(string(body), `Variable \"$s\" nests lists 1000 deep; no argument takes more than 2.`) || len(body) > 512 {
		t.Fatalf("a type of lists 1000 deep: %.600s", body)
	}

	// The validator's own problems are capped too: a document of 2,000
	// unused variables got one error each, 13 times the document.
	var vars []string
	for i := 0; i < 2000; i++ {
		vars = append(vars, fmt.Sprintf("$v%d: Int", i))
	}
	_, _, body = post(t, srv, testkit.EncodeJSON(t, graphql.Request{Query: "query(" + strings.Join(vars, ", ") + ") { __typename }"}))
	if n := strings.Count(string(body), `"message"`); n != 11 || !strings.Contains(string(body), "1990 more problems of the document not shown") {
		t.Fatalf("2,000 unused variables: %d errors in %d bytes: %.300s", n, len(body), body)
	}

	many := `[` + strings.TrimSuffix(strings.Repeat(`"x",`, 50000), ",") + `]`
	_, _, body = post(t, srv, `{"query":"query($s: [Int!]) { __typename }","variables":{"s":`+many+`}}`)
	if n := strings.Count(string(body), `expected Int`); n != 10 || len(body) > 4096 {
		t.Fatalf("50,000 wrong items: %d problems in %d bytes: %.600s", n, len(body), body)
	}

}

// TestNoSuggestionsInProduction: the validator's "Did you mean"
// suggestions compare the name with every name of the type; production
// answers plainly before that code runs. Development keeps them.
func TestNoSuggestionsInProduction(t *testing.T) {
	t.Parallel()
	dev := newServer(t, graphql.Options{})
	prod := newServer(t, graphql.Options{Production: true})
	tests := []struct {
		name, query string
		vars        map[string]any
		want        string
	}{
		{"field", `{ prodcts { id } }`, nil, `Cannot query field \"prodcts\" on type \"Query\".`},
		{"nested field", `{ products { nodes { titel } } }`, nil, `Cannot query field \"titel\" on type \"Product\".`},
		{"field in a fragment", `{ products { nodes { ...F } } } fragment F on Product { handel }`, nil, `Cannot query field \"handel\" on type \"Product\".`},
		{"argument", `{ products(frst: 2) { nodes { id } } }`, nil, `Unknown argument \"frst\" on field \"Query.products\".`},
		{"enum value", `{ products(sortKey: TITEL) { nodes { id } } }`, nil, `Value \"TITEL\" does not exist in \"ProductSortKey\" enum.`},
		{"enum value as a string", `{ products(sortKey: "TITLE") { nodes { id } } }`, nil, `Enum \"ProductSortKey\" cannot represent non-enum value: \"TITLE\".`},
		{"enum value in another case", `{ products(sortKey: title) { nodes { id } } }`, nil, `Value \"title\" does not exist in \"ProductSortKey\" enum.`},
		{"input field", `mutation { customerRegister(input: {emial: "a@b.example", password: "x"}) { userErrors { code } } }`, nil,
			`Field \"emial\" is not defined by type \"CustomerRegisterInput\".`},
		{"variable input field", `mutation($i: CustomerRegisterInput!) { customerRegister(input: $i) { userErrors { code } } }`,
			map[string]any{"i": map[string]any{"emial": "a@b.example", "email": "a@b.example", "password": "x"}},
			`Field \"emial\" is not defined by type \"CustomerRegisterInput\".`},
		{"enum value in a variable", `mutation($i: ShopSettingsUpdateInput!) { shopSettingsUpdate(input: $i) { userErrors { code } } }`,
			map[string]any{"i": map[string]any{"paymentCaptureMode": "LATER"}},
			`Variable \"$i\" has an invalid value at \"paymentCaptureMode\": expected PaymentCaptureMode, got \"LATER\".`},
		{"missing selection", `{ products }`, nil, `Field \"products\" of type \"ProductConnection!\" must have a selection of subfields.`},
		{"in an operation that does not run", `query A { serverVersion } query B { prodcts { id } }`, nil, `Cannot query field \"prodcts\" on type \"Query\".`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := testkit.EncodeJSON(t, graphql.Request{Query: tt.query, Variables: tt.vars, OperationName: ""})
			if strings.Contains(tt.name, "does not run") {
				body = testkit.EncodeJSON(t, graphql.Request{Query: tt.query, Variables: tt.vars, OperationName: "A"})
			}
			_, _, got := post(t, prod, body)
			if strings.Contains(string(got), "Did you mean") || !strings.Contains(string(got), tt.want) || !strings.Contains(string(got), "GRAPHQL_VALIDATION_FAILED") {
				t.Fatalf("production: %s", got)
			}
			if _, _, got := post(t, dev, body); !strings.Contains(string(got), "Did you mean") && tt.name != "argument" && tt.name != "enum value as a string" {
				t.Logf("development (no suggestion close enough): %s", got)
			}
		})
	}
	// The same documents draw suggestions in development: the production
	// check is what removes them.
	if _, _, got := post(t, dev, `{"query":"{ prodcts { id } }"}`); !strings.Contains(string(got), `Did you mean \"products\"`) {
		t.Fatalf("development: %s", got)
	}
}
