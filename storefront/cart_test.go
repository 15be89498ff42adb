package storefront_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/seed"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
)

// pluginBinaries builds the reference gateways the checkout pays with,
// once per test binary.
var pluginBinaries = sync.OnceValues(func() ([]string, error) {
	dir, err := os.MkdirTemp("", "kassa-storefront-plugins-")
	if err != nil {
		return nil, err
	}
	var bins []string
	for _, name := range []string{"testpay", "banktransfer"} {
		bin := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "../plugins/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %v\n%s", name, err, out)
		}
		bins = append(bins, bin)
	}
	return bins, nil
})

// testShop is a whole started Kassa instance with the demo shop (CNY,
// shipping to China) and the testpay and banktransfer gateways enabled,
// served over HTTP on a loopback port that is also its public URL.
type testShop struct {
	t   *testing.T
	app *app.App
	URL string
	// product is an in-stock product of the demo shop: its handle and
	// first variant.
	handle, variant string
}

func newTestShop(t *testing.T, engine testkit.Engine) *testShop {
	t.Helper()
	bins, err := pluginBinaries()
	if err != nil {
		t.Fatal(err)
	}
	var db *store.DB
	if engine == testkit.Postgres {
		db = storetest.NewPostgres(t)
	} else {
		db = storetest.NewSQLite(t)
	}
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	base := "http://" + srv.Listener.Addr().String()
	cfg, err := config.Load("", false, func(string) string { return "" }, map[string]string{"data-dir": t.TempDir(), "public-url": base})
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
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler()
	srv.Start()
	sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	for _, bin := range bins {
		if _, err := a.Plugins.Install(sys, bin, plugin.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := seed.Demo(sys, a.DB, a.Catalog, seed.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.DemoShop(sys, seed.ShopServices{Shop: a.Settings.Shop, Shipping: a.Settings.Shipping, Tax: a.Settings.Tax}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.SetUpDemoPlugins(sys, a.Plugins); err != nil {
		t.Fatal(err)
	}
	s := &testShop{t: t, app: a, URL: base}
	var products struct {
		Products struct {
			Edges []struct {
				Node struct {
					Handle   string
					Variants []struct {
						ID                string
						AvailableQuantity int
					}
				}
			}
		}
	}
	s.query(`{ products(first: 30, currency: "CNY") { edges { node { handle variants { id availableQuantity } } } } }`, nil, &products)
	for _, e := range products.Products.Edges {
		for _, v := range e.Node.Variants {
			if v.AvailableQuantity >= 10 && s.variant == "" {
				s.handle, s.variant = e.Node.Handle, v.ID
			}
		}
	}
	if s.variant == "" {
		t.Fatal("the demo shop has nothing in stock")
	}
	return s
}

// query runs an operation on the shop's API as a guest.
func (s *testShop) query(q string, vars map[string]any, out any) {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	res, err := http.Post(s.URL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Data   json.RawMessage
		Errors []map[string]any
	}
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil || len(env.Errors) > 0 {
		s.t.Fatalf("graphql: %v %v", err, env.Errors)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		s.t.Fatal(err)
	}
}

// shopper is a browser without JavaScript: a cookie jar, redirects not
// followed (the tests look at each answer).
type shopper struct {
	t    *testing.T
	s    *testShop
	c    *http.Client
	jar  *cookiejar.Jar
	last string // the last page's csrf_token
}

func (s *testShop) shopper() *shopper {
	jar, _ := cookiejar.New(nil)
	return &shopper{t: s.t, s: s, jar: jar, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

func (b *shopper) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	body := string(raw)
	if m := tokenRE.FindStringSubmatch(body); m != nil {
		b.last = html.UnescapeString(m[1])
	}
	return res, body
}

func (b *shopper) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.s.URL+path, nil)
	return b.do(req)
}

// post sends a form; the page's token is added unless the form has a
// csrf_token already (set it to "" to send none).
func (b *shopper) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if _, set := form["csrf_token"]; !set {
		form.Set("csrf_token", b.last)
	} else if form.Get("csrf_token") == "" {
		form.Del("csrf_token")
	}
	req, _ := http.NewRequest(http.MethodPost, b.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// visitProduct opens the product page, as a buyer does before adding to
// the cart: it carries the first form token.
func (b *shopper) visitProduct() {
	b.t.Helper()
	res, _ := b.get("/products/" + b.s.handle)
	if res.StatusCode != http.StatusOK || b.last == "" {
		b.t.Fatalf("product page: %d, token %q", res.StatusCode, b.last)
	}
}

// add posts the product page's form.
func (b *shopper) add(variant, quantity string) *http.Response {
	b.t.Helper()
	res, _ := b.post("/cart/add", url.Values{"variant": {variant}, "quantity": {quantity}})
	return res
}

func (b *shopper) cookie(name string) string {
	u, _ := url.Parse(b.s.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// cart reads the shopper's cart through the API with the cookie's token.
func (b *shopper) cart() (quantity int, email string) {
	b.t.Helper()
	tok := b.cookie("kassa_cart")
	if tok == "" {
		return 0, ""
	}
	var data struct {
		Cart *struct {
			TotalQuantity int
			Email         *string
		}
	}
	b.s.query(`query($t: String) { cart(token: $t) { totalQuantity email } }`, map[string]any{"t": tok}, &data)
	if data.Cart == nil {
		return 0, ""
	}
	if data.Cart.Email != nil {
		email = *data.Cart.Email
	}
	return data.Cart.TotalQuantity, email
}

func wantRedirect(t *testing.T, res *http.Response, prefix string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), prefix) {
		t.Fatalf("answer %d to %q, want 303 to %s…", res.StatusCode, res.Header.Get("Location"), prefix)
	}
}

var lineRE = regexp.MustCompile(`name="line" value="([^"]+)"`)

// TestCartWithoutJavaScript is the buyer's cart as forms: the first add
// creates the cart and its cookie, quantities change and lines go, and
// every page is the buyer's alone (no-store).
func TestCartWithoutJavaScript(t *testing.T) {
	s := newTestShop(t, testkit.SQLite)
	b := s.shopper()

	res, body := b.get("/cart")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `id="cart-empty"`) || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("empty cart: %d %q\n%s", res.StatusCode, res.Header.Get("Cache-Control"), body)
	}
	b.visitProduct()
	res = b.add(s.variant, "2")
	wantRedirect(t, res, "/cart")
	if res.Header.Get("Location") != "/cart" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("add: to %q, cache %q", res.Header.Get("Location"), res.Header.Get("Cache-Control"))
	}
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == "kassa_cart" {
			cookie = c.Raw
		}
	}
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Fatalf("cart cookie %q: want HttpOnly, SameSite=Lax", cookie)
	}
	if q, _ := b.cart(); q != 2 {
		t.Fatalf("cart holds %d units, want 2", q)
	}
	res, body = b.get("/cart")
	m := lineRE.FindStringSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, `id="cart-subtotal"`) || !strings.Contains(body, `href="/checkout"`) {
		t.Fatalf("cart page: %d\n%s", res.StatusCode, body)
	}
	line := m[1]
	// The line links to its product's page and shows its picture.
	if !strings.Contains(body, `href="/products/`+s.handle+`"`) || !strings.Contains(body, `src="/products/`+s.handle+`/image.svg"`) {
		t.Fatalf("the cart line does not link to /products/%s:\n%s", s.handle, body)
	}
	// Adding the same variant again adds to its line.
	wantRedirect(t, b.add(s.variant, "1"), "/cart")
	if q, _ := b.cart(); q != 3 {
		t.Fatalf("after a second add: %d units, want 3", q)
	}
	res, _ = b.post("/cart/update", url.Values{"line": {line}, "quantity": {"5"}})
	wantRedirect(t, res, "/cart")
	if q, _ := b.cart(); q != 5 {
		t.Fatalf("after update: %d units, want 5", q)
	}
	// In Chinese, the cart says so.
	if _, body = b.get("/cart?lang=zh-CN"); !strings.Contains(body, "购物车") || !strings.Contains(body, "小计") {
		t.Fatalf("cart in Chinese:\n%s", body)
	}
	res, _ = b.post("/cart/remove", url.Values{"line": {line}})
	wantRedirect(t, res, "/cart")
	if q, _ := b.cart(); q != 0 {
		t.Fatalf("after remove: %d units", q)
	}
	if _, body = b.get("/cart?lang=en"); !strings.Contains(body, `id="cart-empty"`) {
		t.Fatalf("cart after removing its line:\n%s", body)
	}
}

// TestCartRefusesBadInput: whatever a form carries, the buyer gets a
// clear message and the cart does not change.
func TestCartRefusesBadInput(t *testing.T) {
	s := newTestShop(t, testkit.SQLite)
	b := s.shopper()
	b.visitProduct()
	wantRedirect(t, b.add(s.variant, "1"), "/cart")
	_, body := b.get("/cart")
	line := lineRE.FindStringSubmatch(body)[1]

	cases := []struct {
		name, path string
		form       url.Values
		want       string // the message the cart page shows
	}{
		{"negative quantity", "/cart/add", url.Values{"variant": {s.variant}, "quantity": {"-1"}}, "Enter a whole number"},
		{"non-numeric quantity", "/cart/add", url.Values{"variant": {s.variant}, "quantity": {"two"}}, "Enter a whole number"},
		{"fraction", "/cart/add", url.Values{"variant": {s.variant}, "quantity": {"1.5"}}, "Enter a whole number"},
		{"huge quantity", "/cart/add", url.Values{"variant": {s.variant}, "quantity": {"99999999999999999999"}}, "Enter a whole number"},
		{"quantity over the form's bound", "/cart/add", url.Values{"variant": {s.variant}, "quantity": {"10000"}}, "more than you can buy"},
		{"quantity over the shop's limit", "/cart/add", url.Values{"variant": {s.variant}, "quantity": {"500"}}, "more than you can buy"},
		{"zero added", "/cart/add", url.Values{"variant": {s.variant}, "quantity": {"0"}}, "Enter a whole number"},
		{"control characters in the variant", "/cart/add", url.Values{"variant": {s.variant + "\x00\r\n"}, "quantity": {"1"}}, "could not be found"},
		{"unknown variant", "/cart/add", url.Values{"variant": {"var_nope"}, "quantity": {"1"}}, "could not be found"},
		{"negative update", "/cart/update", url.Values{"line": {line}, "quantity": {"-3"}}, "Enter a whole number"},
		{"update of another line", "/cart/update", url.Values{"line": {"cln_someone_else"}, "quantity": {"2"}}, "not in your cart"},
		{"control characters in the line", "/cart/remove", url.Values{"line": {line + "\x7f"}}, "not in your cart"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, _ := b.post(c.path, c.form)
			wantRedirect(t, res, "/cart?e=")
			_, page := b.get(res.Header.Get("Location"))
			if !strings.Contains(page, `id="cart-errors"`) || !strings.Contains(page, c.want) {
				t.Fatalf("the cart page does not say %q:\n%s", c.want, page)
			}
			if q, _ := b.cart(); q != 1 {
				t.Fatalf("the cart changed: %d units", q)
			}
		})
	}
	// A message is chosen by code, never taken from the URL.
	if _, page := b.get("/cart?e=" + url.QueryEscape("<script>alert(1)</script>")); strings.Contains(page, "<script>alert") || !strings.Contains(page, "Something went wrong") {
		t.Fatalf("a made-up error code:\n%s", page)
	}
}

// TestCartForms are the attacks on the cart's forms: a forged, missing
// or another buyer's token is refused with 403 and changes nothing;
// another buyer's cart token reaches nothing of this cart; a GET on a
// form's route is 405.
func TestCartForms(t *testing.T) {
	s := newTestShop(t, testkit.SQLite)
	alice, mallory := s.shopper(), s.shopper()
	alice.visitProduct()
	wantRedirect(t, alice.add(s.variant, "1"), "/cart")
	_, body := alice.get("/cart")
	line := lineRE.FindStringSubmatch(body)[1]
	mallory.visitProduct()

	refused := []struct {
		name  string
		token string
	}{
		{"missing token", ""},
		{"forged token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"another buyer's token", mallory.last},
		{"token with control characters", alice.last + "\x00"},
	}
	for _, c := range refused {
		for _, path := range []string{"/cart/add", "/cart/update", "/cart/remove", "/checkout", "/checkout/complete"} {
			t.Run(c.name+" "+path, func(t *testing.T) {
				form := url.Values{"csrf_token": {c.token}, "variant": {s.variant}, "quantity": {"3"}, "line": {line}, "step": {"contact"},
					"email": {"a@example.com"}, "line1": {"1 Road"}, "city": {"Hangzhou"}, "countryCode": {"CN"}, "key": {"k1"}}
				res, page := alice.post(path, form)
				if res.StatusCode != http.StatusForbidden || !strings.Contains(page, "expired") {
					t.Fatalf("answer %d:\n%s", res.StatusCode, page)
				}
				if q, email := alice.cart(); q != 1 || email != "" {
					t.Fatalf("the cart changed: %d units, email %q", q, email)
				}
			})
		}
	}
	// The token is bound to the buyer's own cookie: without it (a
	// cross-site post carries no SameSite=Lax cookie), even the right
	// token is refused.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/cart/add", strings.NewReader(url.Values{"csrf_token": {alice.last}, "variant": {s.variant}, "quantity": {"1"}, "line": {line}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "kassa_cart", Value: alice.cookie("kassa_cart")})
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("a post without the binding cookie: %v %v", res.StatusCode, err)
	}

	// Mallory with Alice's line ids and her own (or a made-up) cart
	// cookie reaches nothing of Alice's cart.
	wantRedirect(t, mallory.add(s.variant, "1"), "/cart")
	for _, path := range []string{"/cart/update", "/cart/remove"} {
		res, _ := mallory.post(path, url.Values{"line": {line}, "quantity": {"7"}})
		wantRedirect(t, res, "/cart?e=")
	}
	if q, _ := alice.cart(); q != 1 {
		t.Fatalf("Mallory changed Alice's cart: %d units", q)
	}
	u, _ := url.Parse(s.URL)
	mallory.jar.SetCookies(u, []*http.Cookie{{Name: "kassa_cart", Value: "not-a-cart-token", Path: "/"}})
	if _, page := mallory.get("/cart"); strings.Contains(page, line) || !strings.Contains(page, `id="cart-empty"`) {
		t.Fatalf("a made-up cart cookie shows a cart:\n%s", page)
	}

	for _, path := range []string{"/cart/add", "/cart/update", "/cart/remove", "/checkout/complete"} {
		res, _ := alice.get(path)
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET %s: %d, want 405", path, res.StatusCode)
		}
	}
}
