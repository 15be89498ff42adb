package storefront

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"

	"github.com/kassahq/kassa/core/authz"
)

// The storefront's forms and CSRF.
//
// Every POST of the storefront carries the form field csrf_token. Two
// kinds of buyer post forms:
//
//   - A signed-in buyer (a session cookie): the token is the accounts
//     middleware's (httpauth.FormTokenCSRF: an HMAC of the session id),
//     which the app mounts on the storefront's routes and hands to New as
//     Options.SessionFormToken; the middleware refuses a wrong one before
//     the storefront runs, and the storefront checks it again.
//   - A guest has no session, and the middleware lets a request without
//     the session cookie through. A guest's token is therefore bound to a
//     random value in the guest's own cookie kassa_csrf (HttpOnly,
//     SameSite=Lax), as an HMAC under the storefront's form key: a forged
//     cross-site post carries neither the cookie (Lax) nor the token (the
//     forger cannot read either). The cart cookie is not the binding,
//     although it is per buyer too: the first add to the cart is the post
//     that creates it, and it must already be guarded.
//
// Templates reach the token with the func csrfToken, defined for every
// page (the product page's form uses it too):
//
//	<input type="hidden" name="csrf_token" value="{{csrfToken}}">
//
// csrfToken writes a mark that execPage replaces with the request's
// token once the page has rendered; a guest without the cookie gets it
// set on that response.

// csrfCookie holds a guest's random form binding.
const csrfCookie = "kassa_csrf"

// csrfField is the form field of the token (httpauth.FormTokenField).
const csrfField = "csrf_token"

// guestTokenLabel separates guest tokens from any other HMAC of the key.
const guestTokenLabel = "kassa/storefront guest form token v1\x00"

// formKeyLabel is the purpose the form key is derived for.
const formKeyLabel = "kassa/storefront form key v1"

// maxFormBytes bounds the body of a storefront form: the largest is the
// checkout's address, far below.
const maxFormBytes = 64 << 10

// FormKey derives the key of the storefront's form tokens from the
// shop's master key material (KASSA_SECRET_KEY or DATA_DIR/secret.key):
// an HMAC-SHA256 under the master key with a purpose label, so that the
// master key itself is never used for anything but secrets at rest, and
// every instance of the shop derives the same key. The app gives it to
// httpauth.NewFormTokenCSRF and to Options.FormKey. Never log it.
func FormKey(master []byte) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(formKeyLabel))
	return m.Sum(nil)
}

// forms issues and checks the form tokens.
type forms struct {
	key []byte
	// session is the token of a signed-in request (nil: none, every
	// buyer is bound as a guest).
	session func(ctx context.Context) string
	// secure marks every cookie Secure (an https public URL);
	// trustProxy believes X-Forwarded-Proto (Options.TrustProxy).
	secure, trustProxy bool
}

// secureFor reports whether the cookies of r's answer are Secure: the
// public URL is https, the request came over TLS, or it came through the
// trusted proxy over TLS (X-Forwarded-Proto: https) although the proxy
// speaks plain HTTP to Kassa and the public URL may say http. A browser
// that reached the shop over https must not get a session cookie it
// would also send over plain http.
func (f *forms) secureFor(r *http.Request) bool {
	return f.secure || r.TLS != nil || (f.trustProxy && strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https"))
}

func newForms(key []byte, session func(context.Context) string, secure, trustProxy bool) (*forms, error) {
	if key == nil {
		// Without a configured key the tokens live as long as the
		// process (tests, a storefront outside the app).
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	}
	if len(key) < 32 {
		return nil, errors.New("storefront: Options.FormKey must have at least 32 bytes")
	}
	return &forms{key: key, session: session, secure: secure, trustProxy: trustProxy}, nil
}

// signedIn reports whether the request is a signed-in buyer's session.
func signedIn(ctx context.Context) bool { return authz.SubjectFrom(ctx).Session != "" }

// signedInBuyer reports whether the request is a signed-in buyer's: a
// staff member's session (the admin's cookie is the same) is not one on
// the account pages, which then ask to sign in as a buyer.
func signedInBuyer(ctx context.Context) bool {
	s := authz.SubjectFrom(ctx)
	return s.Session != "" && s.Kind == authz.KindCustomer
}

// token returns the form token of the request, setting the guest's
// binding cookie when it has none yet.
func (f *forms) token(w http.ResponseWriter, r *http.Request) string {
	if f.session != nil && signedIn(r.Context()) {
		return f.session(r.Context())
	}
	binding := guestBinding(r)
	if binding == "" {
		var b [24]byte
		_, _ = rand.Read(b[:])
		binding = base64.RawURLEncoding.EncodeToString(b[:])
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: binding, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: f.secureFor(r)})
		// Later calls in the same request must agree with the cookie
		// just set.
		r.AddCookie(&http.Cookie{Name: csrfCookie, Value: binding})
	}
	return f.guestToken(binding)
}

func (f *forms) guestToken(binding string) string {
	m := hmac.New(sha256.New, f.key)
	m.Write([]byte(guestTokenLabel))
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// guestBinding is the value of a well-formed kassa_csrf cookie, else "".
func guestBinding(r *http.Request) string {
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) != 32 {
		return ""
	}
	if _, err := base64.RawURLEncoding.DecodeString(c.Value); err != nil {
		return ""
	}
	return c.Value
}

// check reports whether a parsed form carries the request's token.
func (f *forms) check(r *http.Request) bool {
	got := r.PostForm.Get(csrfField)
	if got == "" || len(got) > 128 {
		return false
	}
	var want string
	if f.session != nil && signedIn(r.Context()) {
		want = f.session(r.Context())
	} else if b := guestBinding(r); b != "" {
		want = f.guestToken(b)
	}
	return want != "" && hmac.Equal([]byte(got), []byte(want))
}

// guarded wraps a POST handler of a form: the form is read (bounded)
// and its token checked first; a missing or wrong token is 403 and the
// handler never runs, so nothing changes.
func (h *Handler) guarded(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			p := h.pageFor(w, r)
			h.refuse(w, r, p, http.StatusBadRequest, "form.unreadable")
			return
		}
		if !h.forms.check(r) {
			p := h.pageFor(w, r)
			h.refuse(w, r, p, http.StatusForbidden, "form.expired")
			return
		}
		next(w, r)
	})
}

// refuse renders a short page saying why a form was not accepted.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, p *page, status int, key string) {
	p.Title = p.T("form.refusedTitle")
	p.Data = &cartView{Refused: p.T(key)}
	h.render(w, r, status, "cart", p)
}

// tokenMark is what csrfToken writes while a page renders; execPage
// swaps it for the request's token. It is random per process, so no
// text a page shows (a product title, a search query) can spell it, and
// parsed pages are shared by every request as they are (binding a func
// per request would mean cloning and escaping the templates each time:
// a millisecond per page).
var tokenMark = func() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "kassa-csrf-" + hex.EncodeToString(b[:])
}()

func init() {
	funcs["csrfToken"] = func() string { return tokenMark }
}

// execPage renders the page's layout into buf, its forms carrying the
// request's token (and a guest's first form setting the binding cookie:
// render writes the headers after this).
func (h *Handler) execPage(buf *bytes.Buffer, w http.ResponseWriter, r *http.Request, name string, p *page) error {
	if err := h.pages[name].ExecuteTemplate(buf, "layout.html", p); err != nil {
		return err
	}
	if bytes.Contains(buf.Bytes(), []byte(tokenMark)) {
		out := h.withToken(buf.Bytes(), w, r)
		buf.Reset()
		buf.Write(out)
	}
	return nil
}

// withToken returns html with the request's token in place of the mark
// (a new slice: html may be a memoized page, never written to), or html
// itself when it has no form.
func (h *Handler) withToken(html []byte, w http.ResponseWriter, r *http.Request) []byte {
	mark := []byte(tokenMark)
	if !bytes.Contains(html, mark) {
		return html // no form: no token, no cookie
	}
	if cw, ok := w.(*cacheWriter); ok {
		cw.personal = true // no shared cache may hand this token on
	}
	// The token is base64url: nothing in it needs escaping anywhere the
	// mark could stand.
	return bytes.ReplaceAll(html, mark, []byte(h.forms.token(w, r)))
}
