package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
	"github.com/kassahq/kassa/httpauth"
)

// accountsEnv is a GraphQL server over real accounts, permissions and
// catalog services on one test database.
type accountsEnv struct {
	t      *testing.T
	db     *store.DB
	clock  *clock.Fake
	enf    *authz.Enforcer
	acc    *account.Service
	srv    *graphql.Server
	tokens *tokenBox
	outbox *eventstest.Outbox
	http   *httptest.Server
}

// tokenBox keeps the tokens the service would mail, by recipient.
type tokenBox struct {
	mu   sync.Mutex
	last map[string]account.TokenMessage
}

func (b *tokenBox) DeliverToken(_ context.Context, m account.TokenMessage) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last[string(m.Kind)+":"+m.Email] = m
}

func (b *tokenBox) take(t *testing.T, kind account.TokenKind, email string) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.last[string(kind)+":"+email]
	if !ok {
		t.Fatalf("no %s token was sent to %s", kind, email)
	}
	delete(b.last, string(kind)+":"+email)
	return m.Token
}

func (b *tokenBox) has(kind account.TokenKind, email string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.last[string(kind)+":"+email]
	return ok
}

// newCatalog returns a catalog service on db asking az, its events
// recorded for nobody.
func newCatalog(t testing.TB, db *store.DB, az authz.Authorizer) *catalog.Service {
	t.Helper()
	svc, err := catalog.NewService(db, catalog.Options{Authz: az, Outbox: &eventstest.Outbox{}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// newAccounts returns an accounts service on db asking roles, with opts;
// without an outbox in opts, its events are recorded for nobody.
func newAccounts(t testing.TB, db *store.DB, roles account.Roles, opts account.Options) *account.Service {
	t.Helper()
	opts.Authz = roles
	if opts.Outbox == nil {
		opts.Outbox = &eventstest.Outbox{}
	}
	svc, err := account.NewService(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func newAccountsEnv(t *testing.T, db *store.DB) *accountsEnv {
	t.Helper()
	return newAccountsEnvOutbox(t, db, nil)
}

// newAccountsEnvOutbox builds the env with the accounts service writing
// its events to outbox; nil records them in e.outbox instead.
func newAccountsEnvOutbox(t *testing.T, db *store.DB, outbox account.Outbox) *accountsEnv {
	t.Helper()
	ctx := context.Background()
	fake := clock.NewFake(time.Now())
	quiet := slog.New(slog.DiscardHandler)
	enf, err := authz.NewEnforcer(ctx, db, authz.Options{ReloadEvery: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	e := &accountsEnv{t: t, db: db, clock: fake, enf: enf, tokens: &tokenBox{last: map[string]account.TokenMessage{}}, outbox: &eventstest.Outbox{}}
	if outbox == nil {
		outbox = e.outbox
	}
	e.acc = newAccounts(t, db, enf, account.Options{Clock: fake, Tokens: e.tokens, Outbox: outbox, Logger: quiet})
	e.srv, err = graphql.New(withSettings(t, db, enf, resolver.Services{Catalog: newCatalog(t, db, enf), Accounts: e.acc, Access: enf}), graphql.Options{Version: "test", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/graphql", httpauth.Authenticate(e.acc, httpauth.Options{CSRF: httpauth.HeaderCSRF{}, Responder: httpauth.JSON{}})(e.srv))
	e.http = httptest.NewServer(mux)
	t.Cleanup(e.http.Close)
	return e
}

func system() context.Context {
	return authz.WithSubject(context.Background(), authz.SystemSubject("test"))
}

// gqlResult is a decoded GraphQL response.
type gqlResult struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	status int
}

// codes returns the error codes of the response, top-level and userErrors
// anywhere in the data.
func (r gqlResult) codes() []string {
	var out []string
	for _, e := range r.Errors {
		if c, ok := e.Extensions["code"].(string); ok {
			out = append(out, c)
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				if k == "userErrors" {
					if list, ok := y.([]any); ok {
						for _, ue := range list {
							if m, ok := ue.(map[string]any); ok {
								if c, ok := m["code"].(string); ok {
									out = append(out, c)
								}
							}
						}
					}
					continue
				}
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(r.Data)
	return out
}

func (r gqlResult) has(code string) bool {
	for _, c := range r.codes() {
		if c == code {
			return true
		}
	}
	return false
}

// get walks the data by keys and list indexes ("0").
func (r gqlResult) get(path ...string) any {
	var v any = r.Data
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func (r gqlResult) str(path ...string) string {
	s, _ := r.get(path...).(string)
	return s
}

// exec runs an operation in-process as sub.
func (e *accountsEnv) exec(sub authz.Subject, query string, vars map[string]any) gqlResult {
	e.t.Helper()
	res := e.srv.Exec(authz.WithSubject(context.Background(), sub), graphql.Request{Query: query, Variables: vars})
	b, err := json.Marshal(res)
	if err != nil {
		e.t.Fatal(err)
	}
	var out gqlResult
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// client is a browser or API client of the test server.
type client struct {
	e      *accountsEnv
	http   *http.Client
	bearer string
	noCSRF bool
}

func (e *accountsEnv) browser() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar}}
}

func (e *accountsEnv) api(bearer string) *client {
	return &client{e: e, http: &http.Client{}, bearer: bearer}
}

func (c *client) do(query string, vars map[string]any) gqlResult {
	c.e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.e.http.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if !c.noCSRF {
		req.Header.Set(httpauth.CSRFHeader, "1")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out gqlResult
	if err := json.Unmarshal(b, &out); err != nil {
		c.e.t.Fatalf("status %d, body %s: %v", resp.StatusCode, b, err)
	}
	out.status = resp.StatusCode
	return out
}

// must fails the test when the result has any error or user error.
func must(t testing.TB, r gqlResult) gqlResult {
	t.Helper()
	if codes := r.codes(); len(codes) > 0 || r.status >= 400 {
		t.Fatalf("unexpected errors %v (status %d): %+v", codes, r.status, r.Errors)
	}
	return r
}

func vars(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func in(kv ...any) map[string]any { return vars("input", vars(kv...)) }

// guestGet runs a query with GET and no credential, as a link or a
// script on another site would, and returns the status and the body.
func guestGet(t *testing.T, base, query, variables string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/graphql?" + url.Values{"query": {query}, "variables": {variables}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func graphqlRequest(q string) graphql.Request { return graphql.Request{Query: q} }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
