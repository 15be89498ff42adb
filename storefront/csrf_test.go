package storefront

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
)

// TestFormTokens: a guest's token is bound to their own kassa_csrf
// cookie, a signed-in buyer's is the session's; anything else fails.
func TestFormTokens(t *testing.T) {
	key := FormKey([]byte("master key material of the test shop"))
	f, err := newForms(key, func(ctx context.Context) string { return "session-token-" + authz.SubjectFrom(ctx).Session }, false, false)
	if err != nil {
		t.Fatal(err)
	}
	// A guest's first page sets the binding cookie.
	rec := httptest.NewRecorder()
	tok := f.token(rec, httptest.NewRequest(http.MethodGet, "/products/tea", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != csrfCookie || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteLaxMode {
		t.Fatalf("binding cookie %+v", cookies)
	}
	binding := cookies[0].Value
	other := strings.Repeat("B", 32)
	signedIn := authz.Subject{Session: "ses_1"}

	cases := []struct {
		name     string
		cookie   string
		subject  *authz.Subject
		token    string
		accepted bool
	}{
		{"guest with own token", binding, nil, tok, true},
		{"guest without the cookie", "", nil, tok, false},
		{"guest with another cookie", other, nil, tok, false},
		{"guest without a token", binding, nil, "", false},
		{"guest with a malformed cookie", "short", nil, f.guestToken("short"), false},
		{"signed in with the session's token", "", &signedIn, "session-token-ses_1", true},
		{"signed in with a guest's token", binding, &signedIn, tok, false},
		{"a token far too long", binding, nil, strings.Repeat(tok, 10), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/cart/add", strings.NewReader(url.Values{csrfField: {c.token}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if c.cookie != "" {
				r.AddCookie(&http.Cookie{Name: csrfCookie, Value: c.cookie})
			}
			if c.subject != nil {
				r = r.WithContext(authz.WithSubject(r.Context(), *c.subject))
			}
			if err := r.ParseForm(); err != nil {
				t.Fatal(err)
			}
			if got := f.check(r); got != c.accepted {
				t.Fatalf("accepted %v, want %v", got, c.accepted)
			}
		})
	}
	// Another key (another shop) never accepts this shop's tokens.
	g, _ := newForms(FormKey([]byte("another shop")), nil, false, false)
	if g.guestToken(binding) == tok {
		t.Fatal("two keys give the same token")
	}
}

// TestQRCode draws a payment link and refuses what cannot be a QR code.
func TestQRCode(t *testing.T) {
	svg := string(qrSVG("https://pay.example/qr/123?x=<b>"))
	if !strings.HasPrefix(svg, `<svg class="qr"`) || !strings.Contains(svg, `<path fill="#000" d="M`) || strings.Contains(svg, "pay.example") {
		t.Fatalf("QR SVG: %.200s", svg)
	}
	for _, s := range []string{"", strings.Repeat("x", maxQRContent+1)} {
		if qrSVG(s) != "" {
			t.Fatalf("qrSVG of %d bytes drew a code", len(s))
		}
	}
}

// BenchmarkRenderWithToken measures what binding csrfToken per request
// costs: a clone of the page's templates, escaped on first use.
func BenchmarkRenderWithToken(b *testing.B) {
	h, err := New(Options{GraphQL: &fakeGraphQL{}})
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/cart", nil)
	for b.Loop() {
		rec := httptest.NewRecorder()
		p := newPage(rec, r, h.cat, false)
		p.Data = &cartView{}
		h.render(rec, r, http.StatusOK, "cart", p)
	}
}
