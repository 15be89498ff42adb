package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
	"github.com/kassahq/kassa/httpauth"
)

// TestRefusalEnvelope: the refusals httpauth writes on the /graphql mount
// are the bytes this package writes for a GraphQL error, so clients read
// a refused request and a failed operation alike.
func TestRefusalEnvelope(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ref  httpauth.Refusal
	}{
		{name: "CSRF", ref: httpauth.Refusal{Status: 403, Code: "CSRF_HEADER_REQUIRED", Message: "cookie-authenticated requests need the " + httpauth.CSRFHeader + " header"}},
		{name: "unauthenticated", ref: httpauth.Refusal{Status: 401, Code: "UNAUTHENTICATED", Message: "the API key is invalid or revoked"}},
		{name: "escaped", ref: httpauth.Refusal{Status: 503, Code: "UNAVAILABLE", Message: "a <b> & \"c\""}},
	}
	for _, c := range cases {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(graphql.Response{Errors: []*graphql.Error{{Message: c.ref.Message, Extensions: map[string]any{"code": c.ref.Code}}}}); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		httpauth.JSON{}.Refuse(rec, httptest.NewRequest("POST", "/graphql", nil), &c.ref)
		if rec.Code != c.ref.Status || rec.Body.String() != want.String() {
			t.Errorf("%s: got %d %q, want %d %q", c.name, rec.Code, rec.Body.String(), c.ref.Status, want.String())
		}
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
	acc := newAccounts(t, db, enf, account.Options{Logger: log})
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
