package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/config"
)

// TestSecurityHeaders: every answer, whatever route and status, carries
// the headers that stop MIME sniffing, leaking paths to other sites and
// framing; GraphiQL replaces the default policy with its own; HSTS is sent
// only when the shop's public URL is https.
func TestSecurityHeaders(t *testing.T) {
	for _, tc := range []struct {
		name      string
		publicURL string
		wantHSTS  string
	}{
		{"http", "", ""},
		{"https", "https://shop.example", hstsMaxAge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newBareApp(t, map[string]string{"public-url": tc.publicURL})
			srv := httptest.NewServer(a.Handler())
			defer srv.Close()

			for _, rq := range []struct {
				method, path, accept, body string
				wantStatus                 int
				wantCSP                    string // "" means the default
			}{
				{"GET", "/healthz", "", "", 200, ""},
				{"POST", "/no/such/page", "", "", 404, ""},
				// The storefront's page not found, with the storefront's policy.
				{"GET", "/no/such/page", "", "", 404, "default-src 'none'; script-src 'self'"},
				{"POST", "/graphql", "application/json", `{"query":"{ serverVersion }"}`, 200, ""},
				{"GET", "/graphql/assets/graphiql.min.js", "", "", 200, ""},
				{"GET", "/graphql", "text/html", "", 200, "script-src 'nonce-"},
			} {
				req, err := http.NewRequest(rq.method, srv.URL+rq.path, strings.NewReader(rq.body))
				if err != nil {
					t.Fatal(err)
				}
				if rq.accept != "" {
					req.Header.Set("Accept", rq.accept)
				}
				if rq.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				h := res.Header
				where := rq.method + " " + rq.path
				if res.StatusCode != rq.wantStatus {
					t.Errorf("%s: status %d, want %d", where, res.StatusCode, rq.wantStatus)
				}
				for k, want := range map[string]string{
					"X-Content-Type-Options":    "nosniff",
					"Referrer-Policy":           "strict-origin-when-cross-origin",
					"X-Frame-Options":           "DENY",
					"Strict-Transport-Security": tc.wantHSTS,
				} {
					if got := h.Get(k); got != want {
						t.Errorf("%s: %s = %q, want %q", where, k, got, want)
					}
				}
				csp := h.Values("Content-Security-Policy")
				if len(csp) != 1 {
					t.Errorf("%s: %d Content-Security-Policy headers, want 1", where, len(csp))
					continue
				}
				switch {
				case rq.wantCSP == "" && csp[0] != defaultCSP:
					t.Errorf("%s: CSP %q, want the default", where, csp[0])
				case rq.wantCSP != "" && !strings.Contains(csp[0], rq.wantCSP):
					t.Errorf("%s: CSP %q, want one with %q", where, csp[0], rq.wantCSP)
				}
				if !strings.Contains(csp[0], "frame-ancestors 'none'") {
					t.Errorf("%s: CSP %q allows framing", where, csp[0])
				}
			}
		})
	}
}

// TestSecurityHeadersLeaveAHandlersOwnPolicy: a route that sets its own
// Content-Security-Policy (a plugin page's sandbox, the storefront's)
// keeps it; the other headers stay.
func TestSecurityHeadersLeaveAHandlersOwnPolicy(t *testing.T) {
	const own = "sandbox allow-forms; default-src 'self'"
	h := securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", own)
		_, _ = io.WriteString(w, "<p>plugin page</p>")
	}), false)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/plugins/x/", nil))
	if got := rec.Header().Values("Content-Security-Policy"); len(got) != 1 || got[0] != own {
		t.Fatalf("CSP = %q, want only the handler's own", got)
	}
	if rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("headers = %v", rec.Header())
	}
}

// TestPublicAnswersThatClearACookie: the sign-in middleware clears a
// stale session cookie on any request; an answer everyone shares (a
// static file, the subdivisions list, robots.txt) that carries that
// Set-Cookie is private, or a shared cache would keep it and sign out
// everyone it serves it to. Without the cookie it stays public.
func TestPublicAnswersThatClearACookie(t *testing.T) {
	a := newBareApp(t, nil)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	for _, path := range []string{"/static/kassa.css", "/subdivisions/CN", "/robots.txt"} {
		for _, stale := range []bool{false, true} {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			if stale {
				req.AddCookie(&http.Cookie{Name: "kassa_session", Value: "kses_stale"})
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			cc, cleared := res.Header.Get("Cache-Control"), len(res.Header.Values("Set-Cookie")) > 0
			if res.StatusCode != http.StatusOK || cleared != stale || strings.HasPrefix(cc, "public") == stale {
				t.Errorf("%s, stale cookie %v: status %d, Cache-Control %q, Set-Cookie %v", path, stale, res.StatusCode, cc, res.Header.Values("Set-Cookie"))
			}
		}
	}
}

// newBareApp builds an App on a fresh SQLite data dir with flags set (by
// flag name), its workers not started, closed when the test ends.
func newBareApp(t *testing.T, flags map[string]string) *App {
	t.Helper()
	set := map[string]string{"data-dir": t.TempDir()}
	for k, v := range flags {
		set[k] = v
	}
	cfg, err := config.Load("", false, func(string) string { return "" }, set)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

// TestPageNotFound: a GET of an address no route takes gets the shop's
// own page, in the buyer's language with the shop's header; another
// method gets the plain 404, and a route asked with the wrong method its
// 405. A phone review found unknown addresses answered by net/http's bare
// text, without a way back to the shop.
func TestPageNotFound(t *testing.T) {
	a := newBareApp(t, nil)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	for _, c := range []struct {
		method, path string
		status       int
		body, allow  string
	}{
		{"GET", "/no/such/page", 404, `<html lang="en"`, ""},
		{"GET", "/no/such/page?lang=zh-CN", 404, "页面不存在", ""},
		{"GET", "/graphql/no-such-thing", 404, "Page not found", ""},
		{"POST", "/no/such/page", 404, "404 page not found", ""},
		{"GET", "/cart/add", 405, "", "POST"},
		{"GET", "/webhooks/payment.testpay", 405, "", "POST"},
		{"GET", "/admin", 200, "", ""}, // redirected to /admin/
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status || !strings.Contains(string(b), c.body) || !strings.Contains(res.Header.Get("Allow"), c.allow) {
			t.Errorf("%s %s: %d, Allow %q\n%.300s", c.method, c.path, res.StatusCode, res.Header.Get("Allow"), b)
		}
	}
}
