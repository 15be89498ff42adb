package httpauth_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/httpauth"
)

// fakeAuth signs in the session tokens kses_<x> as session ses_<x> of a
// buyer, kses_stale as nobody, kses_down with an outage; any API key as
// one key. It records the client the middleware saw last: servers shared
// by parallel subtests call it at once.
type fakeAuth struct {
	mu     sync.Mutex
	client account.Client
}

func (f *fakeAuth) saw(ctx context.Context) {
	f.mu.Lock()
	f.client = account.ClientFrom(ctx)
	f.mu.Unlock()
}

func (f *fakeAuth) lastClient() account.Client {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.client
}

func (f *fakeAuth) Authenticate(ctx context.Context, token string) (authz.Subject, error) {
	f.saw(ctx)
	switch token {
	case "kses_stale":
		return authz.Subject{}, errs.Unauthenticated("the session is invalid or has expired; sign in again")
	case "kses_down":
		return authz.Subject{}, errors.New("database is down")
	}
	return authz.Subject{Kind: authz.KindCustomer, ID: "cus_1", Roles: []string{authz.RoleCustomer},
		Session: "ses_" + strings.TrimPrefix(token, "kses_")}, nil
}

func (f *fakeAuth) AuthenticateAPIKey(ctx context.Context, key string) (authz.Subject, error) {
	f.saw(ctx)
	return authz.Subject{Kind: authz.KindAPIKey, ID: "key_1", Roles: []string{authz.RoleDeveloper}}, nil
}

// TestAuthenticateMiddleware covers the credentials, the client address
// and the session cookie's attributes on the /graphql mount (HeaderCSRF,
// JSON).
func TestAuthenticateMiddleware(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		opts       httpauth.Options
		header     map[string]string
		cookie     bool
		method     string
		tls        bool
		wantStatus int
		wantKind   authz.SubjectKind
		wantIP     string
		wantSecure bool
	}{
		{name: "anonymous", method: "POST", wantStatus: 204, wantKind: authz.KindAnonymous},
		{name: "bearer session", method: "POST", header: map[string]string{"Authorization": "Bearer kses_x"}, wantStatus: 204, wantKind: authz.KindCustomer},
		{name: "bearer API key", method: "POST", header: map[string]string{"Authorization": "Bearer kkey_x"}, wantStatus: 204, wantKind: authz.KindAPIKey},
		{name: "API key header", method: "POST", header: map[string]string{httpauth.APIKeyHeader: "kkey_x"}, wantStatus: 204, wantKind: authz.KindAPIKey},
		{name: "cookie POST without CSRF header", method: "POST", cookie: true, wantStatus: 403},
		{name: "cookie POST with CSRF header", method: "POST", cookie: true, header: map[string]string{httpauth.CSRFHeader: "1"}, wantStatus: 204, wantKind: authz.KindCustomer},
		{name: "cookie GET needs no header", method: "GET", cookie: true, wantStatus: 204, wantKind: authz.KindCustomer},
		{name: "forwarded address ignored by default", method: "POST", header: map[string]string{"X-Forwarded-For": "203.0.113.9"}, wantStatus: 204, wantKind: authz.KindAnonymous, wantIP: "192.0.2.1"},
		{name: "forwarded address behind a trusted proxy", opts: httpauth.Options{TrustProxy: true}, method: "POST",
			header: map[string]string{"X-Forwarded-For": "198.51.100.7"}, wantStatus: 204, wantKind: authz.KindAnonymous, wantIP: "198.51.100.7"},
		// The client forged the first entry; the proxy appended the
		// address it saw, which is the one that counts.
		{name: "forged forwarded address", opts: httpauth.Options{TrustProxy: true}, method: "POST",
			header: map[string]string{"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}, wantStatus: 204, wantKind: authz.KindAnonymous, wantIP: "198.51.100.7"},
		// Proxies that write a port, brackets or a zone.
		{name: "forwarded address with a port", opts: httpauth.Options{TrustProxy: true}, method: "POST",
			header: map[string]string{"X-Forwarded-For": "203.0.113.9:4444"}, wantStatus: 204, wantKind: authz.KindAnonymous, wantIP: "203.0.113.9"},
		{name: "forwarded IPv6 address with a port", opts: httpauth.Options{TrustProxy: true}, method: "POST",
			header: map[string]string{"X-Forwarded-For": "[2001:db8:50::1]:443"}, wantStatus: 204, wantKind: authz.KindAnonymous, wantIP: "2001:db8:50::1"},
		{name: "forwarded IPv6 address in brackets", opts: httpauth.Options{TrustProxy: true}, method: "POST",
			header: map[string]string{"X-Forwarded-For": "[::ffff:203.0.113.9]"}, wantStatus: 204, wantKind: authz.KindAnonymous, wantIP: "203.0.113.9"},
		{name: "forwarded IPv6 address with a zone", opts: httpauth.Options{TrustProxy: true}, method: "POST",
			header: map[string]string{"X-Forwarded-For": "2001:db8:50::1%eth0"}, wantStatus: 204, wantKind: authz.KindAnonymous, wantIP: "2001:db8:50::1"},
		{name: "forwarded address that is none", opts: httpauth.Options{TrustProxy: true}, method: "POST",
			header: map[string]string{"X-Forwarded-For": "unknown"}, wantStatus: 204, wantKind: authz.KindAnonymous, wantIP: "192.0.2.1"},
		{name: "cookie Secure under TLS", method: "POST", tls: true, wantStatus: 204, wantKind: authz.KindAnonymous, wantSecure: true},
		{name: "cookie Secure when configured", opts: httpauth.Options{SecureCookies: true}, method: "POST", wantStatus: 204, wantKind: authz.KindAnonymous, wantSecure: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var seen authz.Subject
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = authz.SubjectFrom(r.Context())
				// What a sign-in handler does through the writer.
				if sw, ok := httpauth.SessionWriterFrom(r.Context()); ok {
					sw.SetSession("kses_new", time.Now().Add(time.Hour))
				}
				w.WriteHeader(http.StatusNoContent)
			})
			fa := &fakeAuth{}
			c.opts.CSRF, c.opts.Responder = httpauth.HeaderCSRF{}, httpauth.JSON{}
			h := httpauth.Authenticate(fa, c.opts)(next)
			req := httptest.NewRequest(c.method, "/graphql", nil)
			req.RemoteAddr = "192.0.2.1:1234"
			if c.tls {
				req.TLS = &tls.ConnectionState{}
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			if c.cookie {
				req.AddCookie(&http.Cookie{Name: httpauth.SessionCookie, Value: "kses_x"})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, c.wantStatus, rec.Body.String())
			}
			if c.wantStatus != 204 {
				return
			}
			if seen.Kind != c.wantKind {
				t.Errorf("subject %q, want %q", seen.Kind, c.wantKind)
			}
			if c.wantIP != "" {
				// The fake sees the client only when a credential is
				// given; check through a bearer call.
				req.Header.Set("Authorization", "Bearer kses_x")
				h.ServeHTTP(httptest.NewRecorder(), req)
				if ip := fa.lastClient().IP; ip != c.wantIP {
					t.Errorf("client IP %q, want %q", ip, c.wantIP)
				}
			}
			sc := rec.Header().Get("Set-Cookie")
			if !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") || strings.Contains(sc, "Secure") != c.wantSecure {
				t.Errorf("Set-Cookie %q (want Secure=%v)", sc, c.wantSecure)
			}
		})
	}
}

// TestJSONRefusals pins the bytes, statuses and headers of the API's
// refusals: clients and the GraphQL tests read them as GraphQL errors.
func TestJSONRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		header     map[string]string
		cookie     string
		wantStatus int
		wantBody   string
		wantAuth   string
		wantClear  bool
	}{
		{name: "cookie POST without CSRF header", cookie: "kses_x", wantStatus: 403,
			wantBody: `{"errors":[{"message":"cookie-authenticated requests need the X-Kassa-CSRF header","extensions":{"code":"CSRF_HEADER_REQUIRED"}}]}` + "\n"},
		// A forged request is refused whatever its cookie is worth, and
		// the cookie stays: clearing it is for the real client.
		{name: "stale cookie POST without CSRF header", cookie: "kses_stale", wantStatus: 403,
			wantBody: `{"errors":[{"message":"cookie-authenticated requests need the X-Kassa-CSRF header","extensions":{"code":"CSRF_HEADER_REQUIRED"}}]}` + "\n"},
		{name: "bad bearer token", header: map[string]string{"Authorization": "Bearer kses_stale"}, wantStatus: 401, wantAuth: `Bearer realm="kassa"`,
			wantBody: `{"errors":[{"message":"the session is invalid or has expired; sign in again","extensions":{"code":"UNAUTHENTICATED"}}]}` + "\n"},
		{name: "outage", header: map[string]string{"Authorization": "Bearer kses_down"}, wantStatus: 503,
			wantBody: `{"errors":[{"message":"temporarily unavailable","extensions":{"code":"UNAVAILABLE"}}]}` + "\n"},
		{name: "outage behind a cookie", cookie: "kses_down", header: map[string]string{httpauth.CSRFHeader: "1"}, wantStatus: 503,
			wantBody: `{"errors":[{"message":"temporarily unavailable","extensions":{"code":"UNAVAILABLE"}}]}` + "\n"},
		{name: "stale cookie goes on as a guest", cookie: "kses_stale", header: map[string]string{httpauth.CSRFHeader: "1"}, wantStatus: 204, wantClear: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var seen authz.Subject
			h := httpauth.Authenticate(&fakeAuth{}, httpauth.Options{CSRF: httpauth.HeaderCSRF{}, Responder: httpauth.JSON{}})(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					seen = authz.SubjectFrom(r.Context())
					w.WriteHeader(http.StatusNoContent)
				}))
			req := httptest.NewRequest("POST", "/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			if c.cookie != "" {
				req.AddCookie(&http.Cookie{Name: httpauth.SessionCookie, Value: c.cookie})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.wantStatus || rec.Body.String() != c.wantBody {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body.String(), c.wantStatus, c.wantBody)
			}
			if c.wantBody != "" && rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", rec.Header().Get("Content-Type"))
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != c.wantAuth {
				t.Errorf("WWW-Authenticate %q, want %q", got, c.wantAuth)
			}
			cleared := strings.Contains(rec.Header().Get("Set-Cookie"), httpauth.SessionCookie+"=;")
			if cleared != c.wantClear {
				t.Errorf("cookie cleared %v, want %v (Set-Cookie %q)", cleared, c.wantClear, rec.Header().Get("Set-Cookie"))
			}
			if c.wantStatus == 204 && seen.Kind != authz.KindAnonymous {
				t.Errorf("subject %q, want anonymous", seen.Kind)
			}
		})
	}
}

// TestDefaults: a mount that names no strategy gets the API's header rule
// and JSON, never no check at all.
func TestDefaults(t *testing.T) {
	t.Parallel()
	h := httpauth.Authenticate(&fakeAuth{}, httpauth.Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest("POST", "/", nil)
	req.AddCookie(&http.Cookie{Name: httpauth.SessionCookie, Value: "kses_x"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), `"CSRF_HEADER_REQUIRED"`) {
		t.Fatalf("got %d %s", rec.Code, rec.Body.String())
	}
}

// TestSessionInContext: the handler learns whether the request carried
// the cookie and which session it signs in, for the form token.
func TestSessionInContext(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		cookie string
		bearer string
		want   httpauth.Session
	}{
		{name: "guest", want: httpauth.Session{}},
		{name: "cookie", cookie: "kses_a", want: httpauth.Session{Cookie: true, ID: "ses_a"}},
		{name: "stale cookie", cookie: "kses_stale", want: httpauth.Session{Cookie: true}},
		{name: "bearer", bearer: "kses_b", want: httpauth.Session{ID: "ses_b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var got httpauth.Session
			h := httpauth.Authenticate(&fakeAuth{}, httpauth.Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = httpauth.SessionFrom(r.Context())
			}))
			req := httptest.NewRequest("GET", "/", nil)
			if c.cookie != "" {
				req.AddCookie(&http.Cookie{Name: httpauth.SessionCookie, Value: c.cookie})
			}
			if c.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+c.bearer)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got != c.want {
				t.Errorf("session %+v, want %+v", got, c.want)
			}
		})
	}
}
