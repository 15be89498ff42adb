// Package testkit builds whole Kassa instances for tests and runs GraphQL
// scenarios against them.
//
//	ta := testkit.NewTestApp(t, testkit.SQLite)
//	testkit.Run(t, ta, []testkit.Scenario{{
//		Name:  "anonymous lists products",
//		Query: `{ products(first: 5) { edges { node { title } } } }`,
//		As:    authz.AnonymousSubject(),
//		WantData: `{"products":{"edges":[]}}`,
//	}})
package testkit

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/graphql"
)

// Engine picks the database of a test app.
type Engine int

// The engines.
const (
	SQLite Engine = iota
	Postgres
)

// TestApp is a Kassa instance for one test.
type TestApp struct {
	*app.App
	// URL is the base URL of an httptest server serving the app's handler.
	URL string
}

// NewTestApp builds an App on a fresh, migrated database of the engine
// (PostgreSQL skips or fails like storetest) with a temporary data dir,
// starts its workers (outbox relay, plugin supervisor, event consumers)
// and serves its handler on a loopback httptest server. Everything stops
// when the test ends.
func NewTestApp(t testing.TB, engine Engine) *TestApp {
	t.Helper()
	return NewTestAppWith(t, engine, nil)
}

// NewTestAppWith is NewTestApp with configuration flags set, by flag name
// ({"trust-proxy": "true"}).
func NewTestAppWith(t testing.TB, engine Engine, flags map[string]string) *TestApp {
	t.Helper()
	var db *store.DB
	if engine == Postgres {
		db = storetest.NewPostgres(t)
	} else {
		db = storetest.NewSQLite(t)
	}
	set := map[string]string{"data-dir": t.TempDir()}
	for k, v := range flags {
		set[k] = v
	}
	cfg, err := config.Load("", false, func(string) string { return "" }, set)
	if err != nil {
		t.Fatal(err)
	}
	var logOut io.Writer = io.Discard
	if os.Getenv("KASSA_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	a, err := app.New(context.Background(), cfg, app.Options{DB: db, SkipMigrate: true, LogOutput: logOut})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(context.Background()); err != nil {
			t.Errorf("close app: %v", err)
		}
	})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &TestApp{App: a, URL: srv.URL}
}

// ForEachEngine runs fn as a subtest on SQLite and on PostgreSQL.
func ForEachEngine(t *testing.T, fn func(t *testing.T, ta *TestApp)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, NewTestApp(t, SQLite)) })
	t.Run("postgres", func(t *testing.T) { fn(t, NewTestApp(t, Postgres)) })
}

// Exec runs one operation as the subject and returns the response.
func (ta *TestApp) Exec(as authz.Subject, query string, vars map[string]any) *graphql.Response {
	ctx := authz.WithSubject(context.Background(), as)
	return ta.GraphQL.Exec(ctx, graphql.Request{Query: query, Variables: vars})
}

// Scenario is one GraphQL operation and what it must produce.
type Scenario struct {
	Name      string
	Query     string
	Variables map[string]any
	// As is the caller; the zero value means anonymous.
	As authz.Subject
	// WantData, when set, is JSON the response data must equal.
	WantData string
	// WantErrorCode, when set, is the code of the first top-level error.
	WantErrorCode string
	// WantErrorCodes, when not empty, are the codes of every top-level
	// error, in order (a query whose fields fail one by one).
	WantErrorCodes []string
	// WantUserErrors are the codes of the userErrors found anywhere in the
	// data, in order; nil means none expected.
	WantUserErrors []string
	// WantEvents, when not nil, are the subjects of the outbox events the
	// operation wrote, in order ("kassa.product.created"); an empty
	// non-nil slice means it must write none (a refused operation changes
	// nothing, events included).
	WantEvents []string
	// Check, when set, inspects the raw data.
	Check func(t *testing.T, data json.RawMessage)
}

// Run executes the scenarios in order (they may build on each other). A
// scenario that expects top-level errors still checks WantData and Check
// when they are set: a field refused inside a query leaves the rest of
// the data, and that partial answer is part of the contract.
func Run(t *testing.T, ta *TestApp, scenarios []Scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			as := sc.As
			if as.Kind == "" {
				as = authz.AnonymousSubject()
			}
			mark := ta.lastEventID(t)
			res := ta.Exec(as, sc.Query, sc.Variables)
			if sc.WantEvents != nil {
				if diff := cmp.Diff(sc.WantEvents, ta.EventsSince(t, mark)); diff != "" {
					t.Errorf("outbox events (-want +got):\n%s", diff)
				}
			}
			if sc.WantErrorCode != "" || len(sc.WantErrorCodes) > 0 {
				if len(res.Errors) == 0 {
					t.Fatalf("want error %s%v, got data %s", sc.WantErrorCode, sc.WantErrorCodes, res.Data)
				}
				if got := res.Errors[0].Extensions["code"]; sc.WantErrorCode != "" && got != sc.WantErrorCode {
					t.Fatalf("error code = %v (%s), want %s", got, res.Errors[0].Message, sc.WantErrorCode)
				}
				if diff := cmp.Diff(sc.WantErrorCodes, ErrorCodes(res)); len(sc.WantErrorCodes) > 0 && diff != "" {
					t.Fatalf("error codes (-want +got):\n%s", diff)
				}
				if sc.WantData == "" && sc.Check == nil {
					return
				}
			} else {
				if len(res.Errors) > 0 {
					t.Fatalf("unexpected errors: %+v", res.Errors[0])
				}
				if diff := cmp.Diff(sc.WantUserErrors, UserErrorCodes(res.Data)); diff != "" {
					t.Fatalf("userErrors codes (-want +got):\n%s\ndata: %s", diff, res.Data)
				}
			}
			if sc.WantData != "" {
				var want, got any
				if err := json.Unmarshal([]byte(sc.WantData), &want); err != nil {
					t.Fatalf("bad WantData: %v", err)
				}
				_ = json.Unmarshal(res.Data, &got)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("data (-want +got):\n%s", diff)
				}
			}
			if sc.Check != nil {
				sc.Check(t, res.Data)
			}
		})
	}
}

// lastEventID returns the id of the newest outbox event, "" when none.
func (ta *TestApp) lastEventID(t *testing.T) string {
	t.Helper()
	var id string
	err := ta.DB.NewSelect().Table("outbox_events").ColumnExpr("COALESCE(MAX(id), '')").Scan(context.Background(), &id)
	if err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return id
}

// EventsSince returns the subjects of the outbox events written after the
// event with id mark (ids are ULIDs: they sort in insertion order), oldest
// first.
func (ta *TestApp) EventsSince(t *testing.T, mark string) []string {
	t.Helper()
	subjects := []string{}
	err := ta.DB.NewSelect().Table("outbox_events").Column("subject").
		Where("id > ?", mark).OrderExpr("id").Scan(context.Background(), &subjects)
	if err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return subjects
}

// UserErrorCodes collects the codes of every userErrors list in data.
func UserErrorCodes(data json.RawMessage) []string {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil
	}
	var codes []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if k == "userErrors" {
					if list, ok := val.([]any); ok {
						for _, e := range list {
							if m, ok := e.(map[string]any); ok {
								codes = append(codes, strings.TrimSpace(toString(m["code"])))
							}
						}
					}
					continue
				}
				walk(val)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return codes
}

func toString(v any) string {
	s, _ := v.(string)
	return s
}

// ErrorCodes returns the codes of the response's top-level errors, in
// order.
func ErrorCodes(res *graphql.Response) []string {
	var codes []string
	for _, e := range res.Errors {
		code, _ := e.Extensions["code"].(string)
		codes = append(codes, code)
	}
	return codes
}

// Result is a decoded response, for tests that read an answer piece by
// piece (with Dig) instead of stating it whole in a Scenario: pages walked
// by cursor, statement counts, values carried to the next operation.
type Result struct {
	// Data is the decoded data; nil when the response has none.
	Data any
	// Codes are the codes of the top-level errors, in order.
	Codes []string
	// Raw is the data as the server encoded it, for failure messages.
	Raw string
	// Response is the response itself.
	Response *graphql.Response
}

// ExecServer runs one operation on srv as the caller in ctx and decodes
// the answer. Tests that count statements or loaders use it on a server
// they build themselves; the rest use a TestApp. An INTERNAL or
// GRAPHQL_VALIDATION_FAILED error marks t failed: those are bugs in the
// server or in the test, never the answer a test expects.
func ExecServer(t testing.TB, ctx context.Context, srv *graphql.Server, query string, vars map[string]any) Result {
	t.Helper()
	res := srv.Exec(ctx, graphql.Request{Query: query, Variables: vars})
	out := Result{Codes: ErrorCodes(res), Raw: string(res.Data), Response: res}
	if len(res.Data) > 0 {
		out.Data = DecodeJSON(t, res.Data)
	}
	for i, code := range out.Codes {
		if code == "INTERNAL" || code == "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("query failed: %s: %s %v", code, res.Errors[i].Message, res.Errors[i].Path)
		}
	}
	return out
}

// Do runs one operation as the subject, like Exec, and decodes the answer
// as ExecServer does.
func (ta *TestApp) Do(t testing.TB, as authz.Subject, query string, vars map[string]any) Result {
	t.Helper()
	return ExecServer(t, authz.WithSubject(context.Background(), as), ta.GraphQL, query, vars)
}

// Dig walks a decoded JSON value by object keys (strings) and list
// indexes (ints): Dig(data, "products", "edges", 0, "node", "title"). A
// step that does not exist gives nil.
func Dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		default:
			return nil
		}
	}
	return v
}

// DecodeJSON decodes raw (an expectation written as JSON, or response
// data) into maps, slices, strings, float64s, bools and nils, failing t
// when it is not JSON.
func DecodeJSON[T ~string | ~[]byte](t testing.TB, raw T) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	return v
}

// EncodeJSON returns v as JSON, failing t when it cannot be encoded.
func EncodeJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
