package httpauth

import (
	"context"
	"log/slog"
	"strings"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
)

// credentialKind says which secret a Credential holds.
type credentialKind uint8

const (
	credentialNone credentialKind = iota
	credentialSession
	credentialAPIKey
)

// Credential is the secret a caller signs in with: a session token (from
// the Authorization header or the session cookie) or an API key. It is
// what a connection that outlives its request (a WebSocket, an event
// stream) checks again, so that it acts as the caller is now: a revoked
// key, a disabled member or an ended session stop it, and changed roles
// apply. It keeps the Authenticator that resolves it. The secret never
// leaves it: printed or logged, a Credential shows its kind only.
type Credential struct {
	kind   credentialKind
	secret string
	a      Authenticator
}

// BearerCredential is the credential of an Authorization: Bearer token,
// resolved by a: an API key when it has the API key prefix (kkey_), else
// a session token.
func BearerCredential(a Authenticator, token string) Credential {
	if strings.HasPrefix(token, account.APIKeyPrefix) {
		return Credential{kind: credentialAPIKey, secret: token, a: a}
	}
	return Credential{kind: credentialSession, secret: token, a: a}
}

// APIKeyCredential is the credential of an API key (the X-Kassa-Api-Key
// header), resolved by a.
func APIKeyCredential(a Authenticator, key string) Credential {
	return Credential{kind: credentialAPIKey, secret: key, a: a}
}

// IsZero reports whether c holds no credential (a guest).
func (c Credential) IsZero() bool { return c.kind == credentialNone }

// Authenticate resolves c into the subject it signs in now:
// errs.ErrUnauthenticated when it signs nobody in any more, any other
// error when that could not be told. The zero Credential is the
// anonymous subject.
func (c Credential) Authenticate(ctx context.Context) (authz.Subject, error) {
	switch c.kind {
	case credentialSession:
		return c.a.Authenticate(ctx, c.secret)
	case credentialAPIKey:
		return c.a.AuthenticateAPIKey(ctx, c.secret)
	}
	return authz.AnonymousSubject(), nil
}

// String names the kind of credential, never the secret.
func (c Credential) String() string {
	switch c.kind {
	case credentialSession:
		return "session token"
	case credentialAPIKey:
		return "API key"
	}
	return "none"
}

// LogValue keeps the secret out of structured logs.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.String()) }

// GoString keeps the secret out of %#v.
func (c Credential) GoString() string { return "httpauth.Credential(" + c.String() + ")" }
