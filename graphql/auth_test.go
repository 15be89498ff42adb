package graphql_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
)

// fakeAuth records the client the middleware saw.
type fakeAuth struct{ client account.Client }

func (f *fakeAuth) Authenticate(ctx context.Context, token string) (authz.Subject, error) {
	f.client = account.ClientFrom(ctx)
	return authz.Subject{Kind: authz.KindCustomer, ID: "cus_1", Roles: []string{authz.RoleCustomer}}, nil
}

func (f *fakeAuth) AuthenticateAPIKey(ctx context.Context, key string) (authz.Subject, error) {
	f.client = account.ClientFrom(ctx)
	return authz.Subject{Kind: authz.KindAPIKey, ID: "key_1", Roles: []string{authz.RoleDeveloper}}, nil
}

func TestAuthenticateMiddleware(t *testing.T) {
	t.Parallel()
	var seen authz.Subject
	var setCookie bool
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = authz.SubjectFrom(r.Context())
		if setCookie {
			// What a sign-in resolver does through the transport.
			graphqlTransportSet(r.Context())
		}
		w.WriteHeader(http.StatusNoContent)
	})
	cases := []struct {
		name       string
		opts       graphql.AuthOptions
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
		{name: "API key header", method: "POST", header: map[string]string{graphql.APIKeyHeader: "kkey_x"}, wantStatus: 204, wantKind: authz.KindAPIKey},
		{name: "cookie POST without CSRF header", method: "POST", cookie: true, wantStatus: 403},
		{name: "cookie POST with CSRF header", method: "POST", cookie: true, header: map[string]string{graphql.CSRFHeader: "1"}, wantStatus: 204, wantKind: authz.KindCustomer},
		{name: "cookie GET needs no header", method: "GET", cookie: true, wantStatus: 204, wantKind: authz.KindCustomer},
		{name: "forwarded address ignored by default", method: "POST", header: map[string]string{"X-Forwarded-For": "203.0.113.9"}, wantStatus: 204, wantKind: authz.KindAnonymous, wantIP: "192.0.2.1"},
		{name: "forwarded address behind a trusted proxy", opts: graphql.AuthOptions{TrustProxy: true}, method: "POST",
			header: map[string]string{"X-Forwarded-For": "198.51.100.7"}, wantStatus: 204, wantKind: authz.KindAnonymous, wantIP: "198.51.100.7"},
		// The client forged the first entry; the proxy appended the
		// address it saw, which is the one that counts.
		{name: "forged forwarded address", opts: graphql.AuthOptions{TrustProxy: true}, method: "POST",
			header: map[string]string{"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}, wantStatus: 204, wantKind: authz.KindAnonymous, wantIP: "198.51.100.7"},
		{name: "cookie Secure under TLS", method: "POST", tls: true, wantStatus: 204, wantKind: authz.KindAnonymous, wantSecure: true},
		{name: "cookie Secure when configured", opts: graphql.AuthOptions{SecureCookies: true}, method: "POST", wantStatus: 204, wantKind: authz.KindAnonymous, wantSecure: true},
	}
	for _, c := range cases {
		fa := &fakeAuth{}
		h := graphql.Authenticate(fa, c.opts)(next)
		req := httptest.NewRequest(c.method, "/graphql", nil)
		req.RemoteAddr = "192.0.2.1:1234"
		if c.tls {
			req.TLS = &tls.ConnectionState{}
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		if c.cookie {
			req.AddCookie(&http.Cookie{Name: graphql.SessionCookie, Value: "kses_x"})
		}
		seen, setCookie = authz.Subject{}, true
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.wantStatus {
			t.Errorf("%s: status %d, want %d (%s)", c.name, rec.Code, c.wantStatus, rec.Body.String())
			continue
		}
		if c.wantStatus != 204 {
			continue
		}
		if seen.Kind != c.wantKind {
			t.Errorf("%s: subject %q, want %q", c.name, seen.Kind, c.wantKind)
		}
		if c.wantIP != "" {
			// The fake sees the client only when a credential is given;
			// check through a bearer call.
			req.Header.Set("Authorization", "Bearer kses_x")
			h.ServeHTTP(httptest.NewRecorder(), req)
			if fa.client.IP != c.wantIP {
				t.Errorf("%s: client IP %q, want %q", c.name, fa.client.IP, c.wantIP)
			}
		}
		sc := rec.Header().Get("Set-Cookie")
		if !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") || strings.Contains(sc, "Secure") != c.wantSecure {
			t.Errorf("%s: Set-Cookie %q (want Secure=%v)", c.name, sc, c.wantSecure)
		}
	}
}

func graphqlTransportSet(ctx context.Context) {
	if t, ok := resolver.SessionTransportFrom(ctx); ok {
		t.SetSession("kses_new", time.Now().Add(time.Hour))
	}
}

// TestNoSecretsInLogs runs the account flows in production mode with a
// capturing logger: no password, session token, API key or mailed token
// may appear in any log line.
func TestNoSecretsInLogs(t *testing.T) {
	db := storetest.NewSQLite(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	enf, err := authz.NewEnforcer(ctx, db, authz.Options{ReloadEvery: -1, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer enf.Close()
	acc := account.NewService(db, enf, account.Options{Logger: log})
	srv, err := graphql.New(resolver.Services{Catalog: newCatalog(t, db, enf), Accounts: acc, Access: enf}, graphql.Options{Logger: log, Production: true})
	if err != nil {
		t.Fatal(err)
	}
	e := &accountsEnv{t: t, db: db, enf: enf, acc: acc, srv: srv}
	anon := authz.AnonymousSubject()
	e.exec(anon, registerOp, in("email", "log@example.com", "password", "secret passphrase 42"))
	res := e.exec(anon, loginOp, in("email", "log@example.com", "password", "secret passphrase 42", "returnToken", true))
	token := res.str("customerLogin", "session", "token")
	e.exec(anon, loginOp, in("email", "log@example.com", "password", "wrong passphrase 42"))
	e.exec(anon, `mutation($input: CustomerEmailInput!) { customerRequestPasswordReset(input: $input) { userErrors { code } } }`, in("email", "log@example.com"))
	owner, err := acc.CreateOwner(system(), account.NewStaff{Email: "own@shop.example", Password: "owner secret phrase"})
	if err != nil {
		t.Fatal(err)
	}
	ownerSub := authz.Subject{Kind: authz.KindStaff, ID: owner.ID, Roles: enf.RolesOf(owner.ID, authz.DefaultStore)}
	key := e.exec(ownerSub, `mutation { apiKeyCreate(input: {name: "k", role: "developer"}) { secret } }`, nil).str("apiKeyCreate", "secret")
	e.exec(ownerSub, `mutation { staffInvite(input: {email: "new@shop.example", roles: ["support"]}) { userErrors { code } } }`, nil)
	if token == "" || key == "" {
		t.Fatal("flow did not run")
	}
	logs := buf.String()
	for _, secret := range []string{"secret passphrase", "wrong passphrase", "owner secret", token, key, "ktok_", "kses_", "kkey_", "log@example.com"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}
