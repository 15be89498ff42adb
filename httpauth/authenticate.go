package httpauth

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
)

// Credential names on the wire.
const (
	// SessionCookie is the name of the session cookie browsers carry.
	SessionCookie = "kassa_session"
	// CSRFHeader must accompany every cookie-authenticated unsafe request
	// on a mount guarded by HeaderCSRF. Browsers send no custom header
	// cross-site without a CORS preflight, which Kassa does not grant, so
	// a forged form or fetch cannot act with the victim's cookie. Any
	// non-empty value does ("1"); GraphiQL sends it.
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

var _ Authenticator = (*account.Service)(nil)

// Options configure one mount of Authenticate.
type Options struct {
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
	// CSRF is the mount's anti-forgery rule; nil is HeaderCSRF, the rule
	// of the API. A mount that needs none (signed webhooks) says so with
	// NoCSRF.
	CSRF CSRF
	// Responder answers refused requests in the mount's format; nil is
	// JSON, the API's error envelope.
	Responder Responder
}

// Session is what the middleware knows of a request's session, for the
// CSRF strategies and the pages that embed a form token.
type Session struct {
	// Cookie reports that the request carried the session cookie: the
	// credential a browser also attaches to requests another site forges.
	Cookie bool
	// ID is the id of the session the request is signed in with
	// (authz.Subject.Session, never the token); empty for guests, API
	// keys and a cookie that no longer signs anybody in.
	ID string
}

// requestKey keys the one value the middleware puts into a request's
// context for SessionFrom and SessionWriterFrom: one allocation per
// request for both.
type requestKey struct{}

// request is what the middleware knows of one request: its session, the
// credential that signed it in, and the writer of its session cookie.
type request struct {
	sess   Session
	cred   Credential
	cookie cookieWriter
}

// SessionFrom returns the session the middleware found for the request
// whose context is ctx; the zero Session outside the middleware.
func SessionFrom(ctx context.Context) Session {
	if rq, ok := ctx.Value(requestKey{}).(*request); ok {
		return rq.sess
	}
	return Session{}
}

// CredentialFrom returns the credential that signed in the request whose
// context is ctx (the session cookie, a bearer token or an API key); the
// zero Credential for guests, a stale cookie and outside the middleware.
// A live connection keeps it to check the caller again while it is open.
func CredentialFrom(ctx context.Context) Credential {
	if rq, ok := ctx.Value(requestKey{}).(*request); ok {
		return rq.cred
	}
	return Credential{}
}

// SessionWriter sets and clears the session cookie on the response: the
// sign-in and sign-out handlers (GraphQL resolvers, storefront forms)
// hand the client its session through it.
type SessionWriter interface {
	// SetSession hands a new session token to the client.
	SetSession(token string, expires time.Time)
	// ClearSession removes the client's session token.
	ClearSession()
}

// SessionWriterFrom returns the writer the middleware put into the
// context of the request; in-process callers have none.
func SessionWriterFrom(ctx context.Context) (SessionWriter, bool) {
	if rq, ok := ctx.Value(requestKey{}).(*request); ok {
		return &rq.cookie, true
	}
	return nil, false
}

// Authenticate is the HTTP middleware that puts the caller into the
// request context: a session from the Authorization: Bearer header or the
// session cookie, or an API key (Bearer kkey_... or X-Kassa-Api-Key);
// nobody is the anonymous subject. The mount's CSRF strategy then judges
// the request, knowing whether it carried the cookie and which session it
// signs in. An explicit but invalid bearer token or API key is refused
// with 401; a stale cookie is dropped and the request goes on as
// anonymous. Refusals are written by the mount's Responder. The context
// also carries the client (account.WithClient), the Session
// (SessionFrom) and a SessionWriter (SessionWriterFrom).
func Authenticate(a Authenticator, opts Options) func(http.Handler) http.Handler {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "auth")
	csrf := opts.CSRF
	if csrf == nil {
		csrf = HeaderCSRF{}
	}
	answer := opts.Responder
	if answer == nil {
		answer = JSON{}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			ctx = account.WithClient(ctx, account.Client{IP: clientIP(r, opts.TrustProxy), UserAgent: r.UserAgent()})
			secure := opts.SecureCookies || r.TLS != nil || (opts.TrustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
			rq := &request{cookie: cookieWriter{w: w, secure: secure}}
			tr := &rq.cookie

			sub := authz.AnonymousSubject()
			var err error
			sess := &rq.sess
			var cred Credential
			bearer, hasBearer := bearerToken(r)
			switch apiKey := r.Header.Get(APIKeyHeader); {
			case apiKey != "":
				cred = APIKeyCredential(a, apiKey)
			case hasBearer:
				cred = BearerCredential(a, bearer)
			default:
				if c, cerr := r.Cookie(SessionCookie); cerr == nil && c.Value != "" {
					sess.Cookie = true
					cred = Credential{kind: credentialSession, secret: c.Value, a: a}
				}
			}
			if !cred.IsZero() {
				sub, err = cred.Authenticate(ctx)
			}
			if err == nil {
				sess.ID = sub.Session
				rq.cred = cred
			}
			// A cookie request is judged even when its session is stale
			// or could not be looked up, before the cookie is cleared: a
			// forged request gets the refusal, whatever the cookie is
			// worth.
			if sess.Cookie || err == nil {
				if cerr := csrf.Check(r, *sess); cerr != nil {
					answer.Refuse(w, r, refusalOf(cerr))
					return
				}
			}
			if sess.Cookie && errors.Is(err, errs.ErrUnauthenticated) {
				tr.ClearSession()
				sub, err = authz.AnonymousSubject(), nil
			}
			if err != nil {
				if errors.Is(err, errs.ErrUnauthenticated) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="kassa"`)
					answer.Refuse(w, r, unauthenticated(err))
					return
				}
				log.ErrorContext(ctx, "authenticate request", "err", err)
				answer.Refuse(w, r, &Refusal{Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE", Message: "temporarily unavailable"})
				return
			}
			ctx = authz.WithSubject(ctx, sub)
			ctx = context.WithValue(ctx, requestKey{}, rq)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// unauthenticated is the refusal of an explicit credential that signs
// nobody in, with the service's code and message when it gave them.
func unauthenticated(err error) *Refusal {
	var de *errs.Error
	if errors.As(err, &de) {
		return &Refusal{Status: http.StatusUnauthorized, Code: de.Code, Message: de.Message}
	}
	return &Refusal{Status: http.StatusUnauthorized, Code: "UNAUTHENTICATED", Message: "sign in required"}
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
			if ip := forwardedIP(all[len(all)-1]); ip != nil {
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

// forwardedIP reads an address as proxies write it in X-Forwarded-For:
// bare (203.0.113.9, 2001:db8::1), with a port (203.0.113.9:4444,
// [2001:db8::1]:443), in brackets, or with an IPv6 zone. nil when it is
// none of these: the request's own address then stands for the client,
// and per-address limits count the proxy, which they leave alone.
func forwardedIP(s string) net.IP {
	s = strings.TrimSpace(s)
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if i := strings.IndexByte(s, '%'); i >= 0 {
		s = s[:i]
	}
	return net.ParseIP(s)
}

// cookieWriter sets and clears the session cookie on the response. The
// handlers call it before they write the response, so the header is
// still open; GraphQL runs top-level mutations one at a time, the lock is
// for safety.
type cookieWriter struct {
	mu     sync.Mutex
	w      http.ResponseWriter
	secure bool
}

func (t *cookieWriter) SetSession(token string, expires time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.w.Header().Set("Cache-Control", "no-store")
	http.SetCookie(t.w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		MaxAge: int(time.Until(expires).Seconds()), HttpOnly: true, Secure: t.secure, SameSite: http.SameSiteLaxMode})
}

func (t *cookieWriter) ClearSession() {
	t.mu.Lock()
	defer t.mu.Unlock()
	http.SetCookie(t.w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: t.secure, SameSite: http.SameSiteLaxMode})
}
