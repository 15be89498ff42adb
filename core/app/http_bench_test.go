package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/graphql"
)

// benchEmailDoc is a storefront's cartEmailUpdate: a guest's cart
// mutation reading the cart back, as the mutations of `kassa bench
// checkout-cart` do.
const benchEmailDoc = `mutation Email($input: CartEmailUpdateInput!) { cartEmailUpdate(input: $input) { cart { id totalQuantity total { amount currencyCode } } userErrors { code field message } } }`

// BenchmarkHandlerCartMutation sends one guest's cart mutation through the
// whole HTTP handler chain of the app (security headers, instrumentation,
// authentication, the GraphQL server, the resolver, the cart service and
// its SQL on SQLite), in-process without a network: allocs/op and ns/op
// are what one checkout step costs Kassa (BENCHMARKS.md, "Per-request
// overhead").
func BenchmarkHandlerCartMutation(b *testing.B) {
	// Built here rather than by testkit.NewTestApp, whose httptest
	// server already holds the app's one Handler.
	cfg, err := config.Load("", false, func(string) string { return "" }, map[string]string{"data-dir": b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{DB: storetest.NewSQLite(b), SkipMigrate: true, LogOutput: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close(context.Background()) })
	if err := a.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	res := a.GraphQL.Exec(authz.WithSubject(context.Background(), authz.AnonymousSubject()),
		graphql.Request{Query: `mutation { cartCreate(input: {}) { token userErrors { code } } }`})
	if len(res.Errors) > 0 {
		b.Fatal(res.Errors[0].Message)
	}
	var created struct {
		CartCreate struct{ Token string } `json:"cartCreate"`
	}
	if err := json.Unmarshal(res.Data, &created); err != nil || created.CartCreate.Token == "" {
		b.Fatalf("cartCreate: %s (%v)", res.Data, err)
	}
	body, err := json.Marshal(map[string]any{"query": benchEmailDoc,
		"variables": map[string]any{"input": map[string]any{"token": created.CartCreate.Token, "email": "buyer@example.com"}}})
	if err != nil {
		b.Fatal(err)
	}
	h := a.Handler()
	// Buyers come from many addresses: one address would soon spend its
	// rate limit (graphql.DefaultRateLimit) at the speed of a benchmark.
	send := func(i int) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/graphql", strings.NewReader(string(body)))
		req.RemoteAddr = "192.0.2." + strconv.Itoa(i%250) + ":5000"
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := send(0); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"cartEmailUpdate":{"cart":{"id":`) ||
		!strings.Contains(w.Body.String(), `"userErrors":[]`) {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if w := send(i); w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
