package storefront_test

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/seed"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/httpauth"
)

// seedDemo fills a real Kassa (its HTTP handler, middleware included)
// with the demo catalog, its CNY/USD settings and 30 generated products,
// so that a search spans two pages.
func seedDemo(t *testing.T, ta *testkit.TestApp) {
	t.Helper()
	ctx := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	if _, err := seed.Demo(ctx, ta.DB, ta.Catalog, seed.Options{Products: 86}); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.DemoShop(ctx, seed.ShopServices{Shop: ta.Settings.Shop, Shipping: ta.Settings.Shipping, Tax: ta.Settings.Tax}); err != nil {
		t.Fatal(err)
	}
}

// fetch GETs target from the shop with the header pairs.
func fetch(t *testing.T, ta *testkit.TestApp, target string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ta.URL+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// TestCatalogPages: every catalog page answers with its content, and
// bad input gets a clean 400 or 404, never a 500.
func TestCatalogPages(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		seedDemo(t, ta)
		base := ta.Config.BaseURL()
		tests := []struct {
			name    string
			target  string
			header  []string
			status  int
			want    []string
			wantNot []string
		}{
			{name: "home", target: "/", status: 200, want: []string{
				"<title>Kassa Shop</title>", `<a class="brand" href="/">Kassa Shop</a>`, `href="/collections/tea"`, "Organic Cotton Tee",
				`<a class="cart-link" href="/cart">Cart</a>`, `<link rel="canonical" href="` + base + `/">`, `property="og:title"`,
				`<meta name="description"`, `action="/search"`, ">USD</a>", "New arrivals"}},
			{name: "home in Chinese", target: "/", header: []string{"Accept-Language", "zh-CN"}, status: 200,
				want: []string{`<html lang="zh-CN">`, "购物车", "新品上架"}},
			{name: "collection", target: "/collections/tea", status: 200, want: []string{
				"<h1>Tea</h1>", "Tieguanyin Oolong", `<select id="sort" name="sort">`, `<option value="title-desc">`,
				`<link rel="canonical" href="` + base + `/collections/tea">`, `width="600" height="600"`}, wantNot: []string{`rel="next"`}},
			{name: "collection sorted, tracking dropped from canonical", target: "/collections/tea?sort=title-desc&utm_source=x", status: 200,
				want: []string{`<option value="title-desc" selected>`, `href="` + base + `/collections/tea?sort=title-desc">`}, wantNot: []string{`canonical" href="` + base + `/collections/tea?sort=title-desc&amp;utm`}},
			{name: "unknown collection", target: "/collections/no-such-thing", status: 404, want: []string{"Collection not found"}},
			{name: "collection with a forged cursor", target: "/collections/tea?after=bm90LWEtY3Vyc29y", status: 400, want: []string{"This link does not work"}},
			{name: "collection with a huge cursor", target: "/collections/tea?after=" + strings.Repeat("A", 5000), status: 400},
			{name: "collection with a long way back", target: "/collections/tea?back=" + strings.Repeat("a.", 40) + "a", status: 400},
			{name: "search", target: "/search?q=oolong", status: 200, want: []string{"Results for “oolong”", "Tieguanyin Oolong", "Osmanthus Oolong",
				`<meta name="robots" content="noindex, follow">`, `<input type="hidden" name="q" value="oolong">`}},
			{name: "search spans pages", target: "/search?q=synthetic", status: 200, want: []string{`rel="next"`}, wantNot: []string{`rel="prev"`}},
			{name: "search without results", target: "/search?q=zzzqqq", status: 200, want: []string{"No results for “zzzqqq”"}},
			{name: "search form", target: "/search", status: 200, want: []string{"Type what you are looking for"}},
			{name: "search too long", target: "/search?q=" + strings.Repeat("tea+", 60), status: 400, want: []string{"Searches are limited"}},
			{name: "search with control characters", target: "/search?q=te%00a", status: 400},
			{name: "search escapes the query", target: "/search?q=%3Cscript%3E", status: 200, want: []string{"&lt;script&gt;"}, wantNot: []string{"<script>"}},
			{name: "product", target: "/products/tieguanyin-oolong", status: 200, want: []string{
				"<h1>Tieguanyin Oolong</h1>", "Rolled oolong from Anxi", `<form class="buy" method="post" action="/cart/add">`,
				`type="radio" name="variant"`, `name="quantity"`, "Weight:</span> 100 g", "¥", `width="600" height="600"`,
				`<meta property="og:type" content="product">`, `<meta property="og:image" content="` + base + `/products/tieguanyin-oolong/image.svg">`,
				`<meta property="og:url" content="` + base + `/products/tieguanyin-oolong">`, `name="csrf_token"`}},
			{name: "product in USD by parameter", target: "/products/tieguanyin-oolong?currency=usd", status: 200, want: []string{"$"}, wantNot: []string{"¥"}},
			{name: "unknown currency ignored", target: "/products/tieguanyin-oolong?currency=XXX", status: 200, want: []string{"¥"}},
			{name: "unknown product", target: "/products/no-such-product", status: 404, want: []string{"Product not found"}},
			{name: "product handle too long", target: "/products/" + strings.Repeat("a", 300), status: 404},
			{name: "product image", target: "/products/tieguanyin-oolong/image.svg", status: 200, want: []string{"<svg", ">TO</text>"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, body := fetch(t, ta, tt.target, tt.header...)
				if res.StatusCode != tt.status {
					t.Fatalf("status %d, want %d:\n%.3000s", res.StatusCode, tt.status, body)
				}
				for _, w := range tt.want {
					if !strings.Contains(body, w) {
						t.Errorf("page lacks %q:\n%.6000s", w, body)
					}
				}
				for _, w := range tt.wantNot {
					if strings.Contains(body, w) {
						t.Errorf("page has %q", w)
					}
				}
				if len(body) > 100_000 {
					t.Errorf("page is %d bytes, over 100 KB", len(body))
				}
			})
		}

		t.Run("next and previous pages", func(t *testing.T) {
			seen := map[string]bool{}
			next := "/search?q=synthetic&sort=title-desc"
			var pages []string
			for next != "" && len(pages) < 5 {
				_, body := fetch(t, ta, next)
				pages = append(pages, next)
				for _, m := range regexp.MustCompile(`href="/products/(synthetic-\d+)"`).FindAllStringSubmatch(body, -1) {
					if seen[m[1]] {
						t.Fatalf("%s listed twice", m[1])
					}
					seen[m[1]] = true
				}
				next = link(body, "next")
				if len(pages) > 1 && link(body, "prev") == "" {
					t.Fatalf("page %d has no previous link", len(pages))
				}
				if len(pages) == 2 {
					if prev := link(body, "prev"); prev != "/search?q=synthetic&sort=title-desc" && prev != "/search?q=synthetic&amp;sort=title-desc" {
						// either spelling of the first page's query
						if u, _ := url.Parse(strings.ReplaceAll(prev, "&amp;", "&")); u == nil || u.Query().Get("after") != "" || u.Query().Get("sort") != "title-desc" {
							t.Fatalf("previous of page 2 is %q, want the first page", prev)
						}
					}
				}
			}
			if len(seen) != 30 || len(pages) != 2 {
				t.Fatalf("%d products over %d pages, want 30 over 2", len(seen), len(pages))
			}
		})
	})
}

// link is the href of the page's rel=next or rel=prev link, unescaped.
func link(body, rel string) string {
	m := regexp.MustCompile(`rel="` + rel + `" href="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

// TestCatalogCurrencyAndCaching: ?currency= is remembered in a cookie
// that later pages honour; public pages are cacheable only for visitors
// without a session or a cookie being set.
func TestCatalogCurrencyAndCaching(t *testing.T) {
	ta := testkit.NewTestApp(t, testkit.SQLite)
	seedDemo(t, ta)
	res, body := fetch(t, ta, "/collections/tea?currency=USD")
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "kassa_currency" {
			ck = c
		}
	}
	if ck == nil || ck.Value != "USD" || !ck.HttpOnly || !strings.Contains(body, "$") {
		t.Fatalf("cookie %+v; want kassa_currency=USD and dollar prices", ck)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "private, no-cache" {
		t.Errorf("a response setting a cookie is %q", cc)
	}
	tests := []struct {
		name, cookie, wantCache, want, wantNot string
	}{
		{"remembered currency", "kassa_currency=USD", "public, max-age=60", "$", "¥"},
		{"forged currency falls back", "kassa_currency=<b>", "public, max-age=60", "¥", "&lt;b&gt;"},
		{"anonymous", "", "public, max-age=60", "¥", "$"},
		{"signed in is private", httpauth.SessionCookie + "=kses_unknown", "private, no-cache", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			if tt.cookie != "" {
				header = []string{"Cookie", tt.cookie}
			}
			res, body := fetch(t, ta, "/collections/teaware", header...)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if cc := res.Header.Get("Cache-Control"); cc != tt.wantCache {
				t.Errorf("Cache-Control %q, want %q", cc, tt.wantCache)
			}
			if v := res.Header.Get("Vary"); !strings.Contains(v, "Accept-Language") || !strings.Contains(v, "Cookie") {
				t.Errorf("Vary %q", v)
			}
			if tt.want != "" && !strings.Contains(body, `class="card-price">`+tt.want) {
				t.Errorf("prices not in %s", tt.want)
			}
			if tt.wantNot != "" && strings.Contains(body, `class="card-price">`+tt.wantNot) {
				t.Errorf("prices in %s", tt.wantNot)
			}
		})
	}
}

// TestPersonalPagesStayPrivate: a page whose form carries a visitor's
// token (a returning guest's, bound to their kassa_csrf cookie) or that a
// signed-in caller asked for (a bearer token or API key, no cookie) is
// never for shared caches: a CDN that keys without cookies would hand
// the token, or the signed-in header, to the next visitor.
func TestPersonalPagesStayPrivate(t *testing.T) {
	ta := testkit.NewTestApp(t, testkit.SQLite)
	seedDemo(t, ta)
	const product = "/products/tieguanyin-oolong"
	res, body := fetch(t, ta, product)
	var binding *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "kassa_csrf" {
			binding = c
		}
	}
	if binding == nil || !strings.Contains(body, `name="csrf_token"`) {
		t.Fatalf("a guest's first product page sets no form binding (cookies %v)", res.Cookies())
	}
	_, key, err := ta.Accounts.Service.CreateAPIKey(authz.WithSubject(context.Background(), authz.SystemSubject("test")), "feed", authz.RoleDeveloper)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, target string
		header       []string
	}{
		{"a returning guest's product page", product, []string{"Cookie", "kassa_csrf=" + binding.Value}},
		{"a page asked for with an API key", "/collections/teaware", []string{"Authorization", "Bearer " + key}},
	} {
		res, _ := fetch(t, ta, c.target, c.header...)
		if cc := res.Header.Get("Cache-Control"); res.StatusCode != 200 || cc != "private, no-cache" {
			t.Errorf("%s: %d, Cache-Control %q; want private, no-cache", c.name, res.StatusCode, cc)
		}
	}
	if res, _ := fetch(t, ta, "/collections/teaware"); res.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("an anonymous collection page is %q, want public", res.Header.Get("Cache-Control"))
	}
}

// TestSitemapAndRobots: the sitemap is valid XML listing the home page,
// collections and products with absolute URLs; robots.txt points to it.
func TestSitemapAndRobots(t *testing.T) {
	ta := testkit.NewTestApp(t, testkit.SQLite)
	seedDemo(t, ta)
	base := ta.Config.BaseURL()
	res, body := fetch(t, ta, "/sitemap.xml")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("sitemap: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var set struct {
		XMLName xml.Name
		URLs    []struct {
			Loc string `xml:"loc"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(body), &set); err != nil {
		t.Fatalf("sitemap is not XML: %v", err)
	}
	locs := map[string]bool{}
	for _, u := range set.URLs {
		locs[u.Loc] = true
	}
	for _, want := range []string{base + "/", base + "/collections/tea", base + "/products/tieguanyin-oolong", base + "/products/synthetic-000086"} {
		if !locs[want] {
			t.Errorf("sitemap lacks %s", want)
		}
	}
	if set.XMLName.Local != "urlset" || set.XMLName.Space != "http://www.sitemaps.org/schemas/sitemap/0.9" {
		t.Errorf("root %v", set.XMLName)
	}

	res, body = fetch(t, ta, "/robots.txt")
	if res.StatusCode != 200 {
		t.Fatalf("robots.txt: %d", res.StatusCode)
	}
	for _, want := range []string{"User-agent: *", "Allow: /\n", "Disallow: /cart\n", "Disallow: /checkout\n", "Disallow: /account\n",
		"Disallow: /admin\n", "Sitemap: " + base + "/sitemap.xml"} {
		if !strings.Contains(body, want) {
			t.Errorf("robots.txt lacks %q:\n%s", want, body)
		}
	}
}
