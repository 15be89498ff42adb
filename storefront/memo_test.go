package storefront

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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
	default:
		return &graphql.Response{Errors: []*graphql.Error{{Message: "unexpected " + req.OperationName}}}
	}
	b, _ := json.Marshal(data)
	return &graphql.Response{Data: b}
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
