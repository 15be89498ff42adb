package storefront

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kassahq/kassa/graphql"
)

// catalogGraphQL answers the chrome and one collection whose title the
// test changes, counting the operations it runs.
type catalogGraphQL struct {
	mu    sync.Mutex
	title string
	ran   map[string]int
}

func (f *catalogGraphQL) Exec(_ context.Context, req graphql.Request) *graphql.Response {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ran[req.OperationName]++
	var data any
	switch req.OperationName {
	case "StorefrontChrome":
		data = map[string]any{"shopSettings": map[string]any{"currencies": []string{"CNY", "EUR"}, "defaultCurrency": "CNY"},
			"collections": map[string]any{"nodes": []any{map[string]any{"handle": "tea", "title": "Tea"}}}}
	case "StorefrontCollection":
		data = map[string]any{"collection": map[string]any{"handle": "tea", "title": f.title, "description": "Leaves.",
			"products": map[string]any{"nodes": []any{map[string]any{"handle": "oolong", "title": "Oolong", "vendor": "Kassa Tea",
				"priceRange": map[string]any{"min": map[string]any{"amount": "48.00", "currencyCode": req.Variables["currency"]},
					"max": map[string]any{"amount": "48.00", "currencyCode": req.Variables["currency"]}},
				"variants": []any{map[string]any{"availableForSale": true}}}},
				"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil}}}}
	case "StorefrontHome":
		data = map[string]any{"collections": map[string]any{"nodes": []any{map[string]any{"handle": "tea", "title": f.title,
			"description": "Leaves.", "products": map[string]any{"nodes": []any{card(req)}}}}},
			"products": map[string]any{"nodes": []any{card(req)}}}
	case "StorefrontSearch":
		data = map[string]any{"products": map[string]any{"nodes": []any{card(req)},
			"pageInfo": map[string]any{"hasNextPage": true, "endCursor": "c1"}}}
	case "StorefrontProduct":
		if req.Variables["handle"] != "oolong" {
			data = map[string]any{"product": nil}
			break
		}
		price := map[string]any{"amount": "48.00", "currencyCode": req.Variables["currency"]}
		data = map[string]any{"product": map[string]any{"handle": "oolong", "title": "Oolong", "description": f.title + " from Fujian.",
			"vendor": "Kassa Tea", "productType": "Tea", "options": []any{map[string]any{"name": "Size", "values": []string{"50 g", "100 g"}}},
			"variants": []any{
				map[string]any{"id": "var_1", "title": "50 g", "selectedOptions": []any{map[string]any{"name": "Size", "value": "50 g"}},
					"price": price, "compareAtPrice": nil, "availableQuantity": 5, "availableForSale": true},
				map[string]any{"id": "var_2", "title": "100 g", "selectedOptions": []any{map[string]any{"name": "Size", "value": "100 g"}},
					"price": price, "compareAtPrice": price, "availableQuantity": 3, "availableForSale": true}},
			"priceRange":  map[string]any{"min": price, "max": price},
			"collections": []any{map[string]any{"handle": "tea", "title": "Tea"}}}}
	default:
		return &graphql.Response{Errors: []*graphql.Error{{Message: "unexpected " + req.OperationName}}}
	}
	b, _ := json.Marshal(data)
	return &graphql.Response{Data: b}
}

// card is a product card of the fake's answers, priced in the request's
// currency.
func card(req graphql.Request) map[string]any {
	price := map[string]any{"amount": "48.00", "currencyCode": req.Variables["currency"]}
	return map[string]any{"handle": "oolong", "title": "Oolong", "vendor": "Kassa Tea",
		"priceRange": map[string]any{"min": price, "max": price}, "featuredVariant": map[string]any{"price": price, "compareAtPrice": nil},
		"variants": []any{map[string]any{"availableForSale": true}}}
}

// TestCatalogPagesMemo: the home, product and search pages (and the
// collection page) replay byte for byte what a handler without a memo
// renders, for guests and with the guest's own form token in the product
// page's cart form; a changed answer renders anew, and pages of errors
// are not kept.
func TestCatalogPagesMemo(t *testing.T) {
	gql := &catalogGraphQL{title: "Green tea", ran: map[string]int{}}
	key := bytes.Repeat([]byte{7}, 32)
	memoized, err := New(Options{GraphQL: gql, FormKey: key})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := New(Options{GraphQL: gql, FormKey: key})
	if err != nil {
		t.Fatal(err)
	}
	plain.rendered = nil
	// One guest: the same binding cookie, so the same form token.
	guest := []string{"Cookie", csrfCookie + "=" + strings.Repeat("A", 32)}
	serve := func(h *Handler, target string, header ...string) (int, http.Header, string) {
		t.Helper()
		rec := get(h, target, append(slices.Clone(guest), header...)...)
		return rec.Code, rec.Header(), rec.Body.String()
	}
	pages := []struct {
		target string
		header []string
		want   string
	}{
		{"/", nil, "Green tea"},
		{"/", []string{"Accept-Language", "zh-CN"}, `<html lang="zh-CN">`},
		{"/?currency=EUR", nil, "€48.00"},
		{"/products/oolong", nil, "Green tea from Fujian."},
		{"/products/oolong?variant=var_2", nil, `value="var_2" checked`},
		{"/products/oolong", []string{"Accept-Language", "zh-CN"}, `<html lang="zh-CN">`},
		{"/search", nil, `action="/search"`},
		{"/search?q=oolong", nil, "Oolong"},
		{"/search?q=oolong&sort=price-asc", []string{"Accept-Language", "zh-CN"}, "Oolong"},
		{"/collections/tea?currency=EUR", nil, "€48.00"},
	}
	for _, pg := range pages {
		name := pg.target + " " + strings.Join(pg.header, " ")
		wantCode, wantHeader, want := serve(plain, pg.target, pg.header...)
		if wantCode != http.StatusOK || !strings.Contains(want, pg.want) {
			t.Fatalf("%s unmemoized: %d, lacks %q:\n%s", name, wantCode, pg.want, want)
		}
		n := memoized.rendered.len()
		for i, what := range []string{"render", "replay"} {
			code, header, got := serve(memoized, pg.target, pg.header...)
			if code != wantCode || got != want {
				t.Errorf("%s %s: %d, differs from the unmemoized page:\n%s\n---- want ----\n%s", name, what, code, got, want)
			}
			for _, h := range []string{"Cache-Control", "Content-Type", "Content-Language", "Set-Cookie", "Vary"} {
				if header.Get(h) != wantHeader.Get(h) {
					t.Errorf("%s %s: %s %q, want %q", name, what, h, header.Get(h), wantHeader.Get(h))
				}
			}
			if got := memoized.rendered.len(); got != n+1 {
				t.Errorf("%s after the %s (%d): memo %d, want %d", name, what, i, got, n+1)
			}
		}
	}
	// The kept product pages hold the mark, never a buyer's token.
	token, marked := []byte(memoized.forms.guestToken(strings.Repeat("A", 32))), 0
	for _, html := range memoized.rendered.m {
		if bytes.Contains(html, token) {
			t.Fatal("a kept page holds a guest's form token")
		}
		if bytes.Contains(html, []byte(tokenMark)) {
			marked++
		}
	}
	if marked != 3 {
		t.Errorf("%d kept pages hold the form mark, want the 3 product pages", marked)
	}

	// A changed answer renders anew, on every page that shows it.
	gql.mu.Lock()
	gql.title = "Black tea"
	gql.mu.Unlock()
	for _, target := range []string{"/", "/products/oolong"} {
		n := memoized.rendered.len()
		_, _, got := serve(memoized, target)
		_, _, want := serve(plain, target)
		if got != want || !strings.Contains(got, "Black tea") || strings.Contains(got, "Green tea") || memoized.rendered.len() != n+1 {
			t.Errorf("%s after the answer changed (memo %d → %d):\n%s", target, n, memoized.rendered.len(), got)
		}
	}

	// Not found and refused searches are rendered, not kept.
	n := memoized.rendered.len()
	for _, c := range []struct {
		target string
		code   int
	}{{"/products/nope", http.StatusNotFound}, {"/search?q=" + strings.Repeat("x", 200), http.StatusBadRequest}} {
		if code, _, _ := serve(memoized, c.target); code != c.code {
			t.Errorf("%s: %d, want %d", c.target, code, c.code)
		}
	}
	if got := memoized.rendered.len(); got != n {
		t.Errorf("error pages were kept: memo %d → %d", n, got)
	}
}

// TestCollectionPageMemo: a collection page is rendered once per
// distinct answer and request inputs and replayed byte for byte; a
// changed answer, another language, currency or URL renders anew, and
// the memo keeps no more than its bound.
func TestCollectionPageMemo(t *testing.T) {
	gql := &catalogGraphQL{title: "Green tea", ran: map[string]int{}}
	h := newTestHandler(t, gql, "")
	page := func(target string, header ...string) string {
		t.Helper()
		rec := get(h, target, header...)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d\n%s", target, rec.Code, rec.Body)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=60" && !strings.Contains(target, "currency") {
			t.Errorf("%s: Cache-Control %q", target, cc)
		}
		return rec.Body.String()
	}
	first := page("/collections/tea")
	if !strings.Contains(first, "Green tea") || !strings.Contains(first, "¥48.00") || h.rendered.len() != 1 {
		t.Fatalf("first render (memo %d):\n%s", h.rendered.len(), first)
	}
	if again := page("/collections/tea"); again != first || h.rendered.len() != 1 {
		t.Fatalf("the replay differs or rendered again (memo %d)", h.rendered.len())
	}
	if gql.ran["StorefrontCollection"] != 2 {
		t.Errorf("the answer is read on every request (the cache says when it changes): ran %v", gql.ran)
	}

	for _, c := range []struct {
		name, target, want string
		header             []string
	}{
		{"another language", "/collections/tea", `<html lang="zh-CN">`, []string{"Accept-Language", "zh-CN"}},
		{"another currency", "/collections/tea?currency=EUR", "€48.00", nil},
		{"another URL", "/collections/tea?utm_source=x", `utm_source=x`, nil},
	} {
		n := h.rendered.len()
		if got := page(c.target, c.header...); !strings.Contains(got, c.want) || h.rendered.len() != n+1 {
			t.Errorf("%s: memo %d → %d, page lacks %q:\n%s", c.name, n, h.rendered.len(), c.want, got)
		}
	}

	gql.mu.Lock()
	gql.title = "Black tea"
	gql.mu.Unlock()
	if changed := page("/collections/tea"); !strings.Contains(changed, "Black tea") || strings.Contains(changed, "Green tea") {
		t.Fatalf("a changed answer shows the old page:\n%s", changed)
	}

	for i := range maxMemoPages + 10 {
		page(fmt.Sprintf("/collections/tea?p=%d", i))
	}
	if n := h.rendered.len(); n > maxMemoPages {
		t.Errorf("the memo holds %d pages, above its bound %d", n, maxMemoPages)
	}
	if n := h.answers.len(); n != 1 {
		t.Errorf("chrome answers decoded and kept: %d, want 1", n)
	}
}
