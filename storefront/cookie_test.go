package storefront

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/graphql"
)

// loginGraphQL signs every buyer in: customerLogin answers a session.
type loginGraphQL struct{}

func (loginGraphQL) Exec(_ context.Context, req graphql.Request) *graphql.Response {
	if req.OperationName != "StorefrontAccountLogin" {
		return &graphql.Response{Data: json.RawMessage(`{}`)}
	}
	data, _ := json.Marshal(map[string]any{"customerLogin": map[string]any{
		"session":    map[string]any{"token": "kses_token", "expiresAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
		"userErrors": []any{}}})
	return &graphql.Response{Data: data}
}

var csrfValueRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// TestSessionCookieSecureBehindTrustedProxy: the session cookie is Secure
// when the buyer reached a trusted TLS-terminating proxy (X-Forwarded-Proto:
// https) though the public URL is http; a header from an untrusted
// client, or plain http, does not make it Secure; an https public URL
// always does. The language cookie follows the same rule.
func TestSessionCookieSecureBehindTrustedProxy(t *testing.T) {
	cases := []struct {
		name       string
		baseURL    string
		trustProxy bool
		proto      string
		secure     bool
	}{
		{"trusted proxy over https", "http://shop.example", true, "https", true},
		{"trusted proxy, header in capitals", "http://shop.example", true, "HTTPS", true},
		{"trusted proxy over http", "http://shop.example", true, "http", false},
		{"trusted proxy, no header", "http://shop.example", true, "", false},
		{"untrusted header", "http://shop.example", false, "https", false},
		{"https public URL", "https://shop.example", false, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := New(Options{GraphQL: loginGraphQL{}, BaseURL: c.baseURL, TrustProxy: c.trustProxy})
			if err != nil {
				t.Fatal(err)
			}
			send := func(req *http.Request, cookies []*http.Cookie) *httptest.ResponseRecorder {
				if c.proto != "" {
					req.Header.Set("X-Forwarded-Proto", c.proto)
				}
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			page := send(httptest.NewRequest(http.MethodGet, "/account/login", nil), nil)
			m := csrfValueRE.FindStringSubmatch(page.Body.String())
			if page.Code != http.StatusOK || m == nil {
				t.Fatalf("sign-in page: %d\n%s", page.Code, page.Body)
			}
			form := url.Values{"csrf_token": {m[1]}, "email": {"wang.fang@example.com"}, "password": {"a long enough password"}}
			req := httptest.NewRequest(http.MethodPost, "/account/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := send(req, page.Result().Cookies())
			var session *http.Cookie
			for _, ck := range rec.Result().Cookies() {
				if ck.Name == sessionCookie {
					session = ck
				}
			}
			if rec.Code != http.StatusSeeOther || session == nil || session.Value != "kses_token" {
				t.Fatalf("sign-in: %d, session cookie %+v\n%s", rec.Code, session, rec.Body)
			}
			if session.Secure != c.secure || !session.HttpOnly {
				t.Errorf("session cookie Secure=%t HttpOnly=%t, want Secure=%t", session.Secure, session.HttpOnly, c.secure)
			}
			// The language a buyer picks is remembered the same way.
			var lang *http.Cookie
			for _, ck := range send(httptest.NewRequest(http.MethodGet, "/account/login?lang=zh-CN", nil), nil).Result().Cookies() {
				if ck.Name == langCookie {
					lang = ck
				}
			}
			if lang == nil || lang.Value != "zh-CN" || lang.Secure != c.secure {
				t.Errorf("language cookie %+v, want zh-CN with Secure=%t", lang, c.secure)
			}
		})
	}
}
