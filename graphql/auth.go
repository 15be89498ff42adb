package graphql

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/graphql/resolver"
)

// Credential names on the wire.
const (
	// SessionCookie is the name of the session cookie browsers carry.
	SessionCookie = "kassa_session"
	// CSRFHeader must accompany every cookie-authenticated POST. Browsers
	// send no custom header cross-site without a CORS preflight, which
	// Kassa does not grant, so a forged form or fetch cannot act with the
	// victim's cookie. Any non-empty value does ("1"); GraphiQL sends it.
	CSRFHeader = "X-Kassa-CSRF"
	// APIKeyHeader carries an API key for clients that do not use
	// Authorization: Bearer.
	APIKeyHeader = "X-Kassa-Api-Key"
)

// Authenticator turns credentials into subjects. *account.Service
// implements it.
type Authenticator interface {
	// Authenticate resolves a session token.
	Authenticate(ctx context.Context, token string) (authz.Subject, error)
	// AuthenticateAPIKey resolves an API key.
	AuthenticateAPIKey(ctx context.Context, key string) (authz.Subject, error)
}

// AuthOptions tune Authenticate.
type AuthOptions struct {
	// SecureCookies marks the session cookie Secure on every response; it
	// is Secure anyway on requests that arrived over TLS (or, with
	// TrustProxy, whose X-Forwarded-Proto is https).
	SecureCookies bool
	// TrustProxy takes the client address from X-Forwarded-For and the
	// scheme from X-Forwarded-Proto. Set it only behind a proxy that sets
	// both, or clients can pick the address the sign-in throttle sees.
	TrustProxy bool
	// Logger receives authentication failures; nil is slog.Default().
	Logger *slog.Logger
}

// Authenticate is the HTTP middleware that puts the caller into the
// request context: a session from the Authorization: Bearer header or the
// session cookie, or an API key (Bearer kkey_... or X-Kassa-Api-Key);
// nobody is the anonymous subject. A cookie-authenticated request other
// than GET, HEAD or OPTIONS must carry CSRFHeader. An explicit but invalid
// bearer token or API key is refused with 401; a stale cookie is dropped
// and the request goes on as anonymous. The sign-in and sign-out
// mutations set and clear the cookie through resolver.SessionTransport.
func Authenticate(a Authenticator, opts AuthOptions) func(http.Handler) http.Handler {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "auth")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			ctx = account.WithClient(ctx, account.Client{IP: clientIP(r, opts.TrustProxy), UserAgent: r.UserAgent()})
			secure := opts.SecureCookies || r.TLS != nil || (opts.TrustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
			tr := &cookieTransport{w: w, secure: secure}

			sub := authz.AnonymousSubject()
			var err error
			bearer, hasBearer := bearerToken(r)
			apiKey := r.Header.Get(APIKeyHeader)
			switch {
			case apiKey != "" || (hasBearer && strings.HasPrefix(bearer, account.APIKeyPrefix)):
				if apiKey == "" {
					apiKey = bearer
				}
				sub, err = a.AuthenticateAPIKey(ctx, apiKey)
			case hasBearer:
				sub, err = a.Authenticate(ctx, bearer)
			default:
				if c, cerr := r.Cookie(SessionCookie); cerr == nil && c.Value != "" {
					if !safeMethod(r.Method) && r.Header.Get(CSRFHeader) == "" {
						writeJSON(w, http.StatusForbidden, Response{Errors: []*Error{{
							Message:    "cookie-authenticated requests need the " + CSRFHeader + " header",
							Extensions: map[string]any{"code": "CSRF_HEADER_REQUIRED"},
						}}})
						return
					}
					sub, err = a.Authenticate(ctx, c.Value)
					if errors.Is(err, errs.ErrUnauthenticated) {
						tr.ClearSession()
						sub, err = authz.AnonymousSubject(), nil
					}
				}
			}
			if err != nil {
				if errors.Is(err, errs.ErrUnauthenticated) {
					code, msg := Code(err)
					w.Header().Set("WWW-Authenticate", `Bearer realm="kassa"`)
					writeJSON(w, http.StatusUnauthorized, Response{Errors: []*Error{{Message: msg, Extensions: map[string]any{"code": code}}}})
					return
				}
				log.ErrorContext(ctx, "authenticate request", "err", err)
				writeJSON(w, http.StatusServiceUnavailable, Response{Errors: []*Error{{Message: "temporarily unavailable", Extensions: map[string]any{"code": "UNAVAILABLE"}}}})
				return
			}
			ctx = authz.WithSubject(ctx, sub)
			ctx = resolver.WithSessionTransport(ctx, tr)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		// The last entry is the one the trusted proxy appended: the
		// address it saw. Entries before it come from the client and can
		// be forged.
		if xffs := r.Header.Values("X-Forwarded-For"); len(xffs) > 0 {
			all := strings.Split(xffs[len(xffs)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(all[len(all)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// cookieTransport sets and clears the session cookie on the response. The
// resolvers run before the handler writes the response, so the header is
// still open; top-level mutations run one at a time, the lock is for
// safety.
type cookieTransport struct {
	mu     sync.Mutex
	w      http.ResponseWriter
	secure bool
}

func (t *cookieTransport) SetSession(token string, expires time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.w.Header().Set("Cache-Control", "no-store")
	http.SetCookie(t.w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		MaxAge: int(time.Until(expires).Seconds()), HttpOnly: true, Secure: t.secure, SameSite: http.SameSiteLaxMode})
}

func (t *cookieTransport) ClearSession() {
	t.mu.Lock()
	defer t.mu.Unlock()
	http.SetCookie(t.w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: t.secure, SameSite: http.SameSiteLaxMode})
}
