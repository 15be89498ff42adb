package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/httpauth"
)

// lockedBuffer is a log sink the app's goroutines may write concurrently.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// textApp is a whole Kassa instance whose log is kept, to prove that
// refused input leaves no ERROR line.
type textApp struct {
	*app.App
	log *lockedBuffer
}

func newTextApp(t *testing.T, db *store.DB) *textApp {
	t.Helper()
	cfg, err := config.Load("", false, func(string) string { return "" }, map[string]string{"data-dir": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	a, err := app.New(context.Background(), cfg, app.Options{DB: db, SkipMigrate: true, LogOutput: logs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(context.Background()); err != nil {
			t.Errorf("close app: %v", err)
		}
	})
	return &textApp{App: a, log: logs}
}

func (a *textApp) exec(t *testing.T, as authz.Subject, query string, vars map[string]any) *graphql.Response {
	t.Helper()
	return a.GraphQL.Exec(authz.WithSubject(context.Background(), as), graphql.Request{Query: query, Variables: vars})
}

var textOwner = authz.Subject{Kind: authz.KindStaff, ID: "stf_textcheck", Roles: []string{authz.RoleOwner}}

// TestControlCharactersRefused reproduces issue 7 item 5: a NUL byte in a
// string argument reached bun and the database, which answered INTERNAL
// and logged an ERROR for anonymous input. Every case must now be refused
// with INVALID_CHARACTERS naming the input, on both databases, with no
// INTERNAL code, no ERROR log line and nothing changed.
func TestControlCharactersRefused(t *testing.T) {
	const productCreate = `mutation($input: ProductCreateInput!) { productCreate(input: $input) { product { id title description } userErrors { field message code } } }`
	anon := authz.AnonymousSubject()
	type refused struct {
		field []string
		// userError: the answer is a payload's userErrors under this
		// root key, not a top-level error.
		userError string
	}
	cases := []struct {
		name  string
		as    authz.Subject
		query string
		vars  map[string]any
		want  refused
	}{
		{name: "products search", as: anon, query: `{ products(query: "\u0000") { nodes { id } } }`, want: refused{field: []string{"query"}}},
		{name: "product handle", as: anon, query: `{ product(handle: "a\u0000") { id } }`, want: refused{field: []string{"handle"}}},
		{name: "customer search as staff", as: textOwner, query: `{ customers(query: "ana\u0000") { nodes { id } } }`, want: refused{field: []string{"query"}}},
		{name: "register with NUL in email", as: anon, query: registerOp,
			vars: in("email", "ana\x00@example.com", "password", "a fine long passphrase"),
			want: refused{field: []string{"input", "email"}, userError: "customerRegister"}},
		{name: "register with NUL in name", as: anon, query: registerOp,
			vars: in("email", "ana@example.com", "password", "a fine long passphrase", "firstName", "Ana\x00"),
			want: refused{field: []string{"input", "firstName"}, userError: "customerRegister"}},
		{name: "register with a right-to-left override in the name", as: anon, query: registerOp,
			vars: in("email", "eve@example.com", "password", "a fine long passphrase", "lastName", "Eve\u202eredro"),
			want: refused{field: []string{"input", "lastName"}, userError: "customerRegister"}},
		{name: "register with a line separator in the name", as: anon, query: registerOp,
			vars: in("email", "lin@example.com", "password", "a fine long passphrase", "firstName", "ab\u2028cd"),
			want: refused{field: []string{"input", "firstName"}, userError: "customerRegister"}},
		{name: "noncharacter in a description", as: textOwner, query: productCreate,
			vars: in("title", "Oolong", "description", "fine\uffff"), want: refused{field: []string{"input", "description"}, userError: "productCreate"}},
		{name: "isolate in a search", as: anon, query: `{ products(query: "tea\u2067") { nodes { id } } }`, want: refused{field: []string{"query"}}},
		{name: "product with NUL in title", as: textOwner, query: productCreate,
			vars: in("title", "Oolong\x00"), want: refused{field: []string{"input", "title"}, userError: "productCreate"}},
		{name: "product with a newline in title", as: textOwner, query: productCreate,
			vars: in("title", "Oolong\nTea", "description", "fine\nhere"), want: refused{field: []string{"input", "title"}, userError: "productCreate"}},
		{name: "newline in a block string title", as: textOwner,
			query: "mutation { productCreate(input: {title: \"\"\"Oolong\n  Tea\"\"\"}) { product { id } userErrors { field code } } }",
			want:  refused{field: []string{"input", "title"}, userError: "productCreate"}},
		{name: "NUL in a nested list item", as: textOwner, query: productCreate,
			vars: in("title", "Oolong", "tags", []any{"tea", "gr\x00een"}), want: refused{field: []string{"input", "tags", "1"}, userError: "productCreate"}},
		{name: "NUL in a description", as: textOwner, query: productCreate,
			vars: in("title", "Oolong", "description", "multi-line, but no\x00NUL"), want: refused{field: []string{"input", "description"}, userError: "productCreate"}},
		{name: "variable carried", as: anon, query: `query($q: String) { products(query: $q) { nodes { id } } }`,
			vars: vars("q", "\x00"), want: refused{field: []string{"query"}}},
		{name: "variable default", as: anon, query: `query($h: String = "a\u0000") { product(handle: $h) { id } }`,
			want: refused{field: []string{"handle"}}},
		{name: "fragment argument", as: anon, query: `query { ...Grid } fragment Grid on Query { products(first: 2, query: "tea\u0000") { nodes { id } } }`,
			want: refused{field: []string{"query"}}},
		{name: "inline fragment under node", as: anon, query: `{ node(id: "col_x") { ... on Collection { products(after: "CNY\u0000") { nodes { id } } } } }`,
			want: refused{field: []string{"after"}}},
		{name: "C1 control", as: anon, query: `{ product(handle: "a\u0085") { id } }`, want: refused{field: []string{"handle"}}},
		{name: "DEL", as: anon, query: `{ product(handle: "a\u007f") { id } }`, want: refused{field: []string{"handle"}}},
		{name: "invalid UTF-8 from an in-process caller", as: anon, query: `query($h: String) { product(handle: $h) { id } }`,
			vars: vars("h", "caf\xe9"), want: refused{field: []string{"handle"}}},
		{name: "mixed batch of mutations falls back to top-level errors", as: textOwner,
			query: `mutation { a: productCreate(input: {title: "Oolong"}) { product { id } userErrors { code } } b: productCreate(input: {title: "Tea\u0000"}) { product { id } userErrors { code } } }`,
			want:  refused{field: []string{"input", "title"}}},
		{name: "password reset request", as: anon, query: `mutation($input: CustomerEmailInput!) { customerRequestPasswordReset(input: $input) { userErrors { field code } } }`,
			vars: in("email", "ana@example.com\x00"), want: refused{field: []string{"input", "email"}, userError: "customerRequestPasswordReset"}},
		{name: "login", as: anon, query: `mutation($input: LoginInput!) { customerLogin(input: $input) { customer { id } session { token } userErrors { field code } } }`,
			vars: in("email", "\x00", "password", "whatever it is"), want: refused{field: []string{"input", "email"}, userError: "customerLogin"}},
	}
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		a := newTextApp(t, db)
		snapshot := func() string {
			t.Helper()
			res := a.exec(t, textOwner, `{ products(first: 100) { nodes { id title description } } customers(first: 100) { nodes { id email } } }`, nil)
			if len(res.Errors) > 0 {
				t.Fatalf("snapshot: %+v", res.Errors[0])
			}
			return string(res.Data)
		}
		before := snapshot()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res := a.exec(t, c.as, c.query, c.vars)
				codes, fields := textCodes(t, res, c.want.userError)
				if len(codes) == 0 {
					t.Fatalf("not refused: errors %s, data %s", testkit.EncodeJSON(t, res.Errors), res.Data)
				}
				for _, code := range codes {
					if code != graphql.CodeInvalidCharacters {
						t.Fatalf("code %s, want only %s; errors %s, data %s", code, graphql.CodeInvalidCharacters, testkit.EncodeJSON(t, res.Errors), res.Data)
					}
				}
				if diff := cmp.Diff(c.want.field, fields[0]); diff != "" {
					t.Errorf("field (-want +got):\n%s", diff)
				}
			})
		}
		if after := snapshot(); after != before {
			t.Errorf("refused input changed data:\nbefore %s\nafter  %s", before, after)
		}
		if strings.Contains(a.log.String(), "level=ERROR") {
			t.Errorf("refused input logged an error:\n%s", a.log.String())
		}

		// Newlines and tabs are text where the schema says so.
		res := a.exec(t, textOwner, productCreate, in("title", "Oolong", "description", "Line one,\r\n\tline two."))
		if len(res.Errors) > 0 || !strings.Contains(string(res.Data), `"userErrors":[]`) || !strings.Contains(string(res.Data), `Line one,\r\n\tline two.`) {
			t.Fatalf("multi-line description refused: %+v %s", res.Errors, res.Data)
		}
		// So are the embeddings a word processor leaves in right-to-left
		// text of several lines, and the marks anywhere.
		res = a.exec(t, textOwner, productCreate, in("title", "שלום\u200f 1", "description", "\u202bשלום\u202c"))
		if len(res.Errors) > 0 || !strings.Contains(string(res.Data), `"userErrors":[]`) {
			t.Fatalf("right-to-left text refused: %+v %s", res.Errors, res.Data)
		}
	})
}

// textCodes returns the codes and fields of the refusal: the userErrors
// under the root key when given, the top-level errors otherwise.
func textCodes(t *testing.T, res *graphql.Response, root string) (codes []string, fields [][]string) {
	t.Helper()
	if root == "" {
		if len(res.Data) > 0 && string(res.Data) != "null" {
			t.Errorf("a refused query has data: %s", res.Data)
		}
		for _, e := range res.Errors {
			code, _ := e.Extensions["code"].(string)
			codes = append(codes, code)
			field, _ := e.Extensions["field"].([]string)
			fields = append(fields, field)
		}
		return codes, fields
	}
	for _, e := range res.Errors {
		code, _ := e.Extensions["code"].(string)
		codes = append(codes, code+" (top-level)")
	}
	var data map[string]struct {
		UserErrors []struct {
			Field []string `json:"field"`
			Code  string   `json:"code"`
		} `json:"userErrors"`
		Product *json.RawMessage `json:"product"`
	}
	if err := json.Unmarshal(res.Data, &data); err != nil {
		t.Fatalf("data %s: %v", res.Data, err)
	}
	if data[root].Product != nil {
		t.Errorf("a refused mutation returned a product: %s", res.Data)
	}
	for _, ue := range data[root].UserErrors {
		codes = append(codes, ue.Code)
		fields = append(fields, ue.Field)
	}
	return codes, fields
}

// TestNULEmailSameAnswerForTakenAndFree: a malformed address must not
// tell a taken one from a free one (issue 7 item 5: registration answered
// INTERNAL for one and not the other).
func TestNULEmailSameAnswerForTakenAndFree(t *testing.T) {
	ops := map[string]string{
		"register": `mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) { __typename userErrors { field message code } } }`,
		"reset":    `mutation($input: CustomerEmailInput!) { customerRequestPasswordReset(input: $input) { userErrors { field message code } } }`,
		"verify":   `mutation($input: CustomerEmailInput!) { customerRequestEmailVerification(input: $input) { userErrors { field message code } } }`,
		"login":    `mutation($input: LoginInput!) { customerLogin(input: $input) { customer { id } session { token } userErrors { field message code } } }`,
		"staff":    `mutation($input: LoginInput!) { staffLogin(input: $input) { staffMember { id } userErrors { field message code } } }`,
	}
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		a := newTextApp(t, db)
		anon := authz.AnonymousSubject()
		if res := a.exec(t, anon, ops["register"], in("email", "known@example.com", "password", "known person passphrase")); len(res.Errors) > 0 || strings.Contains(string(res.Data), "code") {
			t.Fatalf("register: %+v %s", res.Errors, res.Data)
		}
		for name, op := range ops {
			for _, at := range []func(string) string{
				func(s string) string { return s + "\x00" },
				func(s string) string { return "\x00" + s },
				func(s string) string { return strings.Replace(s, "@", "\x00@", 1) },
			} {
				input := func(email string) map[string]any {
					return in("email", at(email), "password", "known person passphrase")
				}
				taken := a.exec(t, anon, op, input("known@example.com"))
				free := a.exec(t, anon, op, input("free@example.com"))
				if diff := cmp.Diff(testkit.EncodeJSON(t, free), testkit.EncodeJSON(t, taken)); diff != "" {
					t.Errorf("%s: taken and free answer differently (-free +taken):\n%s", name, diff)
				}
				if len(taken.Errors) > 0 || !strings.Contains(string(taken.Data), graphql.CodeInvalidCharacters) {
					t.Errorf("%s: %+v %s", name, taken.Errors, taken.Data)
				}
			}
		}
		if strings.Contains(a.log.String(), "level=ERROR") {
			t.Errorf("malformed addresses logged an error:\n%s", a.log.String())
		}
	})
}

// TestControlCharactersOverHTTP: the same refusal for a JSON POST (the
// JSON escape \u0000 in variables) and a GET, as an outsider sends them.
func TestControlCharactersOverHTTP(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		a := newTextApp(t, db)
		srv := httptest.NewServer(a.Handler())
		t.Cleanup(srv.Close)
		post, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql",
			strings.NewReader(`{"query":"query($q: String) { products(query: $q) { nodes { id } } }","variables":{"q":"tea\u0000"}}`))
		post.Header.Set("Content-Type", "application/json")
		post.Header.Set(httpauth.CSRFHeader, "1")
		get, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql?query="+url.QueryEscape(`{ product(handle: "a\u0000") { id } }`), nil)
		for _, req := range []*http.Request{post, get} {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out struct {
				Data   json.RawMessage `json:"data"`
				Errors []struct {
					Extensions struct {
						Code  string   `json:"code"`
						Field []string `json:"field"`
					} `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(body, &out); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d, body %s: %v", req.Method, resp.StatusCode, body, err)
			}
			if len(out.Errors) != 1 || out.Errors[0].Extensions.Code != graphql.CodeInvalidCharacters || len(out.Data) != 0 {
				t.Errorf("%s: %s", req.Method, body)
			}
		}
		if strings.Contains(a.log.String(), "level=ERROR") {
			t.Errorf("logged an error:\n%s", a.log.String())
		}
	})
}
