package graphql_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
)

func newServer(t *testing.T, opts graphql.Options) *graphql.Server {
	t.Helper()
	opts.Version = "test"
	s, err := graphql.New(resolver.Services{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHandler(t *testing.T) {
	t.Parallel()
	dev := newServer(t, graphql.Options{})
	prod := newServer(t, graphql.Options{Production: true})
	// Depth 16, one past MaxDepth: __schema types fields type, 11 x ofType, name.
	deep := "{ __schema { types { fields { type { " + strings.Repeat("ofType { ", 11) + "name" + strings.Repeat(" }", 11) + " } } } } }"
	// A small document that expands to 25 x 100 selections through a
	// fragment: the selection budget, not the size limit, must stop it.
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&aliases, " t%d: __type(name: \"Query\") { ...F }", i)
	}
	aliases.WriteString(" } fragment F on __Type {")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&aliases, " n%d: name", i)
	}
	aliases.WriteString(" }")
	batch := "[" + strings.TrimSuffix(strings.Repeat(`{"query":"{serverVersion}"},`, 11), ",") + "]"

	tests := []struct {
		name        string
		srv         *graphql.Server
		method      string
		body        string
		contentType string
		accept      string
		url         string
		wantStatus  int
		wantInBody  string
	}{
		{"query", dev, "POST", `{"query":"{ serverVersion }"}`, "application/json", "", "/graphql", 200, `"serverVersion":"test"`},
		{"batch", dev, "POST", `[{"query":"{serverVersion}"},{"query":"mutation{ping}"}]`, "application/json", "", "/graphql", 200, `"ping":true`},
		{"batch too large", dev, "POST", batch, "application/json", "", "/graphql", 400, "LIMIT_EXCEEDED"},
		{"bad json", dev, "POST", `{"query":`, "application/json", "", "/graphql", 400, "BAD_REQUEST"},
		{"wrong content type", dev, "POST", `{"query":"{serverVersion}"}`, "text/plain", "", "/graphql", 415, "BAD_REQUEST"},
		{"get query", dev, "GET", "", "", "", "/graphql?query=%7BserverVersion%7D", 200, `"serverVersion":"test"`},
		{"get mutation refused", dev, "GET", "", "", "", "/graphql?query=mutation%7Bping%7D", 405, "POST"},
		{"get mutation behind a comment refused", dev, "GET", "", "", "", "/graphql?query=%23+x%0Amutation%7Bping%7D", 405, "POST"},
		{"get second operation mutation refused", dev, "GET", "", "", "", "/graphql?query=query+A%7BserverVersion%7D+mutation+B%7Bping%7D&operationName=B", 405, "POST"},
		{"get named query allowed", dev, "GET", "", "", "", "/graphql?query=query+A%7BserverVersion%7D+mutation+B%7Bping%7D&operationName=A", 200, `"serverVersion":"test"`},
		{"too deep", dev, "POST", testkit.EncodeJSON(t, map[string]string{"query": deep}), "application/json", "", "/graphql", 200, "QUERY_TOO_COMPLEX"},
		{"alias abuse", dev, "POST", testkit.EncodeJSON(t, map[string]string{"query": aliases.String()}), "application/json", "", "/graphql", 200, "QUERY_TOO_COMPLEX"},
		{"unknown field", dev, "POST", `{"query":"{ nope }"}`, "application/json", "", "/graphql", 200, "GRAPHQL_VALIDATION_FAILED"},
		{"graphiql in development", dev, "GET", "", "", "text/html", "/graphql", 200, "graphiql.min.js"},
		{"no graphiql in production", prod, "GET", "", "", "text/html", "/graphql", 400, "POST a GraphQL request"},
		{"no anonymous introspection in production", prod, "POST", `{"query":"{ __schema { queryType { name } } }"}`, "application/json", "", "/graphql", 200, `{"data":{}}`},
		{"introspection in development", dev, "POST", `{"query":"{ __schema { queryType { name } } }"}`, "application/json", "", "/graphql", 200, `"name":"Query"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			tt.srv.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.wantStatus || !strings.Contains(string(body), tt.wantInBody) {
				t.Fatalf("status %d body %s; want status %d and %q", rec.Code, body, tt.wantStatus, tt.wantInBody)
			}
		})
	}
}

func TestIntrospectionForStaffInProduction(t *testing.T) {
	t.Parallel()
	prod := newServer(t, graphql.Options{Production: true})
	ctx := authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "usr_1", Roles: []string{"developer"}})
	res := prod.Exec(ctx, graphql.Request{Query: "{ __schema { queryType { name } } }"})
	if !strings.Contains(string(res.Data), `"Query"`) {
		t.Fatalf("staff introspection refused: %s %+v", res.Data, res.Errors)
	}
}

func TestAssetsServed(t *testing.T) {
	t.Parallel()
	srv := newServer(t, graphql.Options{})
	for _, f := range []string{"graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"} {
		rec := httptest.NewRecorder()
		srv.AssetsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/graphql/assets/"+f, nil))
		if rec.Code != http.StatusOK || rec.Body.Len() < 1000 {
			t.Errorf("%s: status %d, %d bytes", f, rec.Code, rec.Body.Len())
		}
	}
}

// TestOperationDurationSeries: each operation lands in the series of its
// type and outcome, the first of each and those after it alike.
func TestOperationDurationSeries(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	s := newServer(t, graphql.Options{Registerer: reg})
	ctx := context.Background()
	for _, q := range []string{"{ serverVersion }", "{ serverVersion }", "mutation { ping }", "{ nope }", "{", "{ serverVersion }"} {
		s.Exec(ctx, graphql.Request{Query: q})
	}
	want := map[[2]string]uint64{{"query", "ok"}: 3, {"mutation", "ok"}: 1, {"query", "error"}: 1, {"invalid", "error"}: 1}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[[2]string]uint64{}
	for _, f := range families {
		if f.GetName() != "kassa_graphql_operation_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[[2]string{labels["type"], labels["outcome"]}] = m.GetHistogram().GetSampleCount()
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
}

// Answers are the caller's, GET and POST alike (a guest's cart or order
// by its token in a GET's query string, a buyer's account by cookie): no
// shared cache may keep them (an outside review found none of these
// headers on a buyer's `me`). A guest's read of the public catalog is the
// same for every guest: a CDN may keep it (docs/api.md), so it is not
// marked no-store.
func TestAnswersAreNotStored(t *testing.T) {
	t.Parallel()
	ta := testkit.NewTestApp(t, testkit.SQLite)
	do := func(method, query, bearer string) http.Header {
		t.Helper()
		var req *http.Request
		if method == http.MethodGet {
			req, _ = http.NewRequest(method, ta.URL+"/graphql?query="+url.QueryEscape(query), nil)
		} else {
			req, _ = http.NewRequest(method, ta.URL+"/graphql", strings.NewReader(`{"query":`+strconv.Quote(query)+`}`))
			req.Header.Set("Content-Type", "application/json")
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.Header
	}
	_, key, err := ta.Accounts.Service.CreateAPIKey(authz.WithSubject(context.Background(), authz.SystemSubject("test")), "k", authz.RoleDeveloper)
	if err != nil {
		t.Fatal(err)
	}
	catalog := `{ products(first: 2) { nodes { title } } }`
	for _, c := range []struct {
		name, method, query, bearer, cache string
	}{
		{"a guest's cart by its token, GET", http.MethodGet, `{ cart(token: "nope") { id } }`, "", "no-store"},
		{"a guest's order by its token, POST", http.MethodPost, `{ orderByToken(token: "nope") { number } }`, "", "no-store"},
		{"staff's catalog read", http.MethodGet, catalog, key, "no-store"},
		{"a guest's catalog read, GET", http.MethodGet, catalog, "", ""},
		{"a guest's catalog read again, from the cache", http.MethodGet, catalog, "", ""},
	} {
		h := do(c.method, c.query, c.bearer)
		if h.Get("Cache-Control") != c.cache || h.Get("Vary") != "Cookie, Authorization" {
			t.Errorf("%s: Cache-Control %q (want %q), Vary %q", c.name, h.Get("Cache-Control"), c.cache, h.Get("Vary"))
		}
	}
}
