package graphql

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/graphql/resolver"
)

// checkoutCartFields is what every cart mutation of `kassa bench
// checkout-cart` reads back (core/app/bench_checkout.go).
const checkoutCartFields = `cart { id totalQuantity total { amount currencyCode } } userErrors { code field message }`

// checkoutRequests are the documents of a guest's checkout as `kassa
// bench checkout-cart` sends them, with their variables: one placed order
// is these nine requests (two lines added).
func checkoutRequests() []Request {
	in := func(fields map[string]any) map[string]any {
		fields["token"] = "ct_0123456789abcdef0123456789abcdef"
		return map[string]any{"input": fields}
	}
	lines := func(id string) map[string]any {
		return in(map[string]any{"lines": []any{map[string]any{"variantId": id, "quantity": 2}}})
	}
	return []Request{
		{Query: `mutation CartCreate($input: CartCreateInput!) { cartCreate(input: $input) { token ` + checkoutCartFields + ` } }`,
			Variables: map[string]any{"input": map[string]any{"currency": "CNY"}}},
		{Query: `mutation LinesAdd($input: CartLinesAddInput!) { cartLinesAdd(input: $input) { ` + checkoutCartFields + ` } }`, Variables: lines("var_1")},
		{Query: `mutation LinesAdd($input: CartLinesAddInput!) { cartLinesAdd(input: $input) { ` + checkoutCartFields + ` } }`, Variables: lines("var_2")},
		{Query: `mutation Email($input: CartEmailUpdateInput!) { cartEmailUpdate(input: $input) { ` + checkoutCartFields + ` } }`,
			Variables: in(map[string]any{"email": "bench.buyer1.424242@example.com"})},
		{Query: `mutation Address($input: CartAddressUpdateInput!) { cartShippingAddressUpdate(input: $input) { ` + checkoutCartFields + ` } }`,
			Variables: in(map[string]any{"address": map[string]any{"firstName": "芳", "lastName": "王", "line1": "西湖区文三路42号",
				"city": "杭州市", "province": "浙江省", "postalCode": "310012", "countryCode": "CN", "phone": "+86 138 1234 5678"}})},
		{Query: `query Shipping($token: String!) { cart(token: $token) { id shippingMethods { methodId name price { amount currencyCode } } subtotal { amount } tax { amount } total { amount } } }`,
			Variables: map[string]any{"token": "ct_0123456789abcdef0123456789abcdef"}},
		{Query: `mutation Method($input: CartShippingMethodSelectInput!) { cartShippingMethodSelect(input: $input) { ` + checkoutCartFields + ` } }`,
			Variables: in(map[string]any{"methodId": "shm_1"})},
		{Query: `mutation Complete($input: CheckoutCompleteInput!) { checkoutComplete(input: $input) { order { id number total { amount currencyCode } } accessToken userErrors { code field message } } }`,
			Variables: in(map[string]any{"idempotencyKey": "0123456789abcdef0123456789abcdef"})},
	}
}

// benchServer is a server configured as the app configures it: metrics,
// the response cache of public reads, the rate limit.
func benchServer(b *testing.B) *Server {
	b.Helper()
	return testServer(b, Options{Production: true, Registerer: prometheus.NewRegistry(),
		Cache: &CacheOptions{PublicFields: resolver.Cache().Fields}})
}

// guest is the context the HTTP middleware gives a guest's request.
func guest(i int) context.Context {
	ctx := authz.WithSubject(context.Background(), authz.AnonymousSubject())
	return account.WithClient(ctx, account.Client{IP: "192.0.2." + strconv.Itoa(i%250), UserAgent: "bench"})
}

// BenchmarkPrepareCheckout is what Kassa does for the requests of one
// placed order besides executing them: the cache lookup, the parse (of a
// text seen before), the cost, the refusal checks, the text check of the
// variables and the latency metric.
func BenchmarkPrepareCheckout(b *testing.B) {
	s := benchServer(b)
	reqs := checkoutRequests()
	for _, req := range reqs {
		// What run records after the first answer of each: none of them
		// is a public read (mutations, a cart).
		s.cache.verdicts.Store(documentKey(req), false)
	}
	ctx := guest(0)
	b.ReportAllocs()
	for b.Loop() {
		for _, req := range reqs {
			c := s.prepare(ctx, req)
			if out := s.refuse(c.doc); out != nil {
				b.Fatal(out.Errors[0].Message)
			}
			if out := s.checkDocumentText(c.doc, req.Variables); out != nil {
				b.Fatal(out.Errors[0].Message)
			}
			s.observe(c, "ok")
		}
	}
}

// BenchmarkServeHTTPGuest sends a guest's request through ServeHTTP: the
// body read and decoded, the rate limit, the executor (graph-gophers'
// own parse, validation and execution of a resolver that does no work)
// and the answer written. ns/op is the GraphQL layer's cost of one
// request outside the resolvers.
func BenchmarkServeHTTPGuest(b *testing.B) {
	for _, tt := range []struct{ name, query string }{
		{"mutation", `mutation Ping { ping }`},
		// A cart mutation's shape: the executor refuses it (no such
		// field on Boolean) after parsing and validating it in full.
		{"invalid", `mutation LinesAdd($input: CartLinesAddInput!) { cartLinesAdd(input: $input) { ` + checkoutCartFields + ` } }`},
	} {
		b.Run(tt.name, func(b *testing.B) {
			s := benchServer(b)
			body, err := json.Marshal(map[string]any{"query": tt.query})
			if err != nil {
				b.Fatal(err)
			}
			send := func(i int) *httptest.ResponseRecorder {
				r := httptest.NewRequestWithContext(guest(i), http.MethodPost, "/graphql", strings.NewReader(string(body)))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				s.ServeHTTP(w, r)
				return w
			}
			if w := send(0); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"ping":true`) && tt.name == "mutation" {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if w := send(i); w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
