package httpauth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kassahq/kassa/httpauth"
)

func TestReturnPath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw string
		ok  bool
	}{
		{"/", true},
		{"/account/orders", true},
		{"/search?q=oolong+tea&page=2", true},
		{"/products/tea#reviews", true},
		{"/a%2F%2Fb", true},
		{"", false},
		{"//evil.com", false},
		{"//evil.com/account", false},
		{"https://evil.com", false},
		{"https://evil.com/account", false},
		{"http:/evil.com", false},
		{"/\\evil.com", false},
		{"\\\\evil.com", false},
		{"/account\\..\\..\\evil", false},
		{"/\t/evil.com", false},
		{"/\n/evil.com", false},
		{"/\r\nSet-Cookie:x=1", false},
		{" /account", false},
		{"/account page", false},
		{"/caf\xc3\xa9", false},
		{"evil.com", false},
		{"account", false},
		{"javascript:alert(1)", false},
		{"/" + strings.Repeat("a", 2048), false},
	}
	for _, c := range cases {
		got, ok := httpauth.ReturnPath(c.raw)
		if ok != c.ok || (ok && got != c.raw) {
			t.Errorf("ReturnPath(%q) = %q, %v; want ok=%v", c.raw, got, ok, c.ok)
		}
	}
}

func TestNewRedirect(t *testing.T) {
	t.Parallel()
	cases := []struct {
		signIn string
		ok     bool
	}{
		{"/account/sign-in", true},
		{"https://evil.com/sign-in", false},
		{"//evil.com/sign-in", false},
		{"/\\evil.com", false},
		{"/account/sign-in?next=1", false},
		{"", false},
	}
	for _, c := range cases {
		if _, err := httpauth.NewRedirect(c.signIn, nil); (err == nil) != c.ok {
			t.Errorf("NewRedirect(%q): err %v, want ok=%v", c.signIn, err, c.ok)
		}
	}
}

// TestRedirect runs the storefront's pages with form tokens and the
// sign-in redirect: what signing in fixes is redirected with a local
// return path, the rest gets the fallback page.
func TestRedirect(t *testing.T) {
	t.Parallel()
	forms := newForms(t, secret, 0)
	signIn, err := httpauth.NewRedirect("/account/sign-in", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := storefront(t, forms, forms, signIn)
	cases := []struct {
		name       string
		req        formRequest
		wantStatus int
		wantReturn string // the return parameter of the Location
		wantBody   string
	}{
		{name: "forged post returns to the form's page", wantStatus: 303, wantReturn: "/cart?step=2",
			req: formRequest{method: "POST", cookie: "kses_a", form: url.Values{"quantity": {"1"}}, referer: srv.URL + "/cart?step=2"}},
		{name: "post from another site returns home", wantStatus: 303, wantReturn: "/",
			req: formRequest{method: "POST", cookie: "kses_a", form: url.Values{"quantity": {"1"}}, referer: "https://evil.com/cart"}},
		{name: "post without referer returns home", wantStatus: 303, wantReturn: "/",
			req: formRequest{method: "POST", cookie: "kses_a", form: url.Values{"quantity": {"1"}}}},
		{name: "bad bearer on a page returns to it", wantStatus: 303, wantReturn: "/cart?step=2",
			req: formRequest{method: "GET", bearer: "kses_stale", query: "?step=2"}},
		{name: "outage gets the fallback page", wantStatus: 503, wantBody: "temporarily unavailable",
			req: formRequest{method: "GET", bearer: "kses_down"}},
		{name: "valid post is served", wantStatus: 200, wantBody: "quantity=1",
			req: formRequest{method: "POST", cookie: "kses_a", form: url.Values{"csrf_token": {forms.Token(httpauth.Session{ID: "ses_a"})}, "quantity": {"1"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resp, body := c.req.do(t, srv.URL)
			if resp.StatusCode != c.wantStatus || !strings.Contains(body, c.wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", resp.StatusCode, body, c.wantStatus, c.wantBody)
			}
			if c.wantStatus != 303 {
				return
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || loc.Host != "" || loc.Path != "/account/sign-in" {
				t.Fatalf("Location %q, want the local sign-in page", resp.Header.Get("Location"))
			}
			if got := loc.Query().Get(httpauth.ReturnParam); got != c.wantReturn {
				t.Errorf("return %q, want %q", got, c.wantReturn)
			}
		})
	}
}

// TestRedirectReturnIsLocal: a request whose own path would be an open
// redirect ("//evil.com" is a valid request path) returns home instead.
func TestRedirectReturnIsLocal(t *testing.T) {
	t.Parallel()
	signIn, err := httpauth.NewRedirect("/account/sign-in", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := httpauth.Authenticate(&fakeAuth{}, httpauth.Options{Responder: signIn})(http.NotFoundHandler())
	cases := []struct {
		target string
		want   string
	}{
		{target: "//evil.com/account", want: "/"},
		{target: "/account/orders?page=2", want: "/account/orders?page=2"},
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", c.target, nil)
		req.Header.Set("Authorization", "Bearer kses_stale")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		loc, err := url.Parse(rec.Header().Get("Location"))
		if rec.Code != 303 || err != nil {
			t.Fatalf("%s: got %d, Location %q", c.target, rec.Code, rec.Header().Get("Location"))
		}
		if got := loc.Query().Get(httpauth.ReturnParam); got != c.want {
			t.Errorf("%s: return %q, want %q", c.target, got, c.want)
		}
	}
}

// TestHTMLEscapes: the page never interprets what it shows.
func TestHTMLEscapes(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	httpauth.HTML{}.Refuse(rec, httptest.NewRequest("GET", "/", nil), &httpauth.Refusal{Status: 401, Code: "X", Message: "<script>alert(1)</script>"})
	body := rec.Body.String()
	if rec.Code != 401 || strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("got %d %v %q", rec.Code, rec.Header(), body)
	}
}
