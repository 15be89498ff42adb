package httpauth_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/httpauth"
)

// TestCredentialInContext: the handler gets the credential that signed
// the request in, and checking it again signs in the same caller; a guest
// and a stale cookie have none. Neither printing nor logging shows the
// secret.
func TestCredentialInContext(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		header   map[string]string
		cookie   string
		wantKind authz.SubjectKind
		wantName string
	}{
		{name: "guest", wantName: "none"},
		{name: "stale cookie", cookie: "kses_stale", wantName: "none"},
		{name: "cookie", cookie: "kses_a", wantKind: authz.KindCustomer, wantName: "session token"},
		{name: "bearer session", header: map[string]string{"Authorization": "Bearer kses_b"}, wantKind: authz.KindCustomer, wantName: "session token"},
		{name: "bearer API key", header: map[string]string{"Authorization": "Bearer kkey_c"}, wantKind: authz.KindAPIKey, wantName: "API key"},
		{name: "API key header", header: map[string]string{httpauth.APIKeyHeader: "kkey_d"}, wantKind: authz.KindAPIKey, wantName: "API key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var got httpauth.Credential
			h := httpauth.Authenticate(&fakeAuth{}, httpauth.Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = httpauth.CredentialFrom(r.Context())
			}))
			req := httptest.NewRequest("GET", "/", nil)
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			if c.cookie != "" {
				req.AddCookie(&http.Cookie{Name: httpauth.SessionCookie, Value: c.cookie})
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got.IsZero() != (c.wantKind == "") {
				t.Fatalf("credential %v", got)
			}
			sub, err := got.Authenticate(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := c.wantKind; want != "" && sub.Kind != want {
				t.Errorf("checked again: %q, want %q", sub.Kind, want)
			}
			var log strings.Builder
			slog.New(slog.NewTextHandler(&log, nil)).Info("x", "credential", got)
			for _, shown := range []string{fmt.Sprint(got), fmt.Sprintf("%#v", got), fmt.Sprintf("%+v", got), log.String()} {
				if strings.Contains(shown, "kses_") || strings.Contains(shown, "kkey_") {
					t.Errorf("the secret shows: %s", shown)
				}
			}
			if got.String() != c.wantName {
				t.Errorf("String %q, want %q", got.String(), c.wantName)
			}
		})
	}
	if httpauth.CredentialFrom(context.Background()) != (httpauth.Credential{}) {
		t.Error("a credential outside the middleware")
	}
}

// TestBearerCredential: a bearer token is an API key by its prefix, a
// session token otherwise, as on the HTTP header.
func TestBearerCredential(t *testing.T) {
	t.Parallel()
	for token, want := range map[string]authz.SubjectKind{"kkey_x": authz.KindAPIKey, "kses_x": authz.KindCustomer} {
		sub, err := httpauth.BearerCredential(&fakeAuth{}, token).Authenticate(context.Background())
		if err != nil || sub.Kind != want {
			t.Errorf("%s: %q %v, want %q", token, sub.Kind, err, want)
		}
	}
}
