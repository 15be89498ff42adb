package httpauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
)

// CSRF is a mount's rule against cross-site request forgery. The
// middleware calls Check for every request that carried the session
// cookie (even a stale one) or was signed in by another credential,
// after the session lookup and before the handler. A non-nil error
// refuses the request: a *Refusal is answered as it says, any other
// error as 403 CSRF_REFUSED.
type CSRF interface {
	Check(r *http.Request, s Session) error
}

// HeaderCSRF is the rule of the API (/graphql): a request that carried
// the session cookie and whose method is not GET, HEAD or OPTIONS must
// carry CSRFHeader. Bearer tokens and API keys are not ambient
// credentials and need nothing.
type HeaderCSRF struct{}

// Check implements CSRF.
func (HeaderCSRF) Check(r *http.Request, s Session) error {
	if s.Cookie && !safeMethod(r.Method) && r.Header.Get(CSRFHeader) == "" {
		return &Refusal{Status: http.StatusForbidden, Code: "CSRF_HEADER_REQUIRED",
			Message: "cookie-authenticated requests need the " + CSRFHeader + " header"}
	}
	return nil
}

// NoCSRF checks nothing. It is for routes whose requests authenticate
// themselves, such as a payment gateway's webhooks signed over their
// body. Warning: a browser still attaches the session cookie to a forged
// request, so a handler behind NoCSRF must act on the signature alone,
// never on the subject in its context.
type NoCSRF struct{}

// Check implements CSRF.
func (NoCSRF) Check(*http.Request, Session) error { return nil }

// FormTokenField is the form field FormTokenCSRF reads the token from.
const FormTokenField = "csrf_token"

// DefaultMaxFormBytes is the largest form body FormTokenCSRF reads when
// none is configured.
const DefaultMaxFormBytes = 1 << 20

// formTokenLabel separates the tokens from any other use of the server
// secret's HMAC.
const formTokenLabel = "kassa/httpauth form token v1\x00"

// FormTokenCSRF is the rule of server-rendered HTML forms: a request that
// carried the session cookie and whose method is not GET, HEAD or OPTIONS
// must carry, in the form field csrf_token, the token of its session.
// The token is an HMAC of the session id under a server secret, so
// nothing is stored, and it changes whenever the session does (every
// sign-in rotates the session): a form rendered before signing in or for
// another session is refused. Pages embed Token(SessionFrom(ctx)).
type FormTokenCSRF struct {
	key      []byte
	maxBytes int64
}

// NewFormTokenCSRF returns the rule keyed by secret, at least 32 random
// bytes that every instance of the shop shares and that is used for
// nothing else; maxFormBytes caps the form body read to find the token
// (0 is DefaultMaxFormBytes).
func NewFormTokenCSRF(secret []byte, maxFormBytes int64) (*FormTokenCSRF, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("form token secret has %d bytes, want at least 32", len(secret))
	}
	if maxFormBytes <= 0 {
		maxFormBytes = DefaultMaxFormBytes
	}
	return &FormTokenCSRF{key: append([]byte(nil), secret...), maxBytes: maxFormBytes}, nil
}

// Token returns the token to embed in the forms of a page rendered for
// s; it is empty for a request without a session, whose posts carry no
// session cookie to abuse.
func (f *FormTokenCSRF) Token(s Session) string {
	if s.ID == "" {
		return ""
	}
	mac := hmac.New(sha256.New, f.key)
	mac.Write([]byte(formTokenLabel))
	mac.Write([]byte(s.ID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Check implements CSRF. It parses the request's form (URL-encoded or
// multipart, at most the configured bytes), so the handler finds it
// parsed in r.PostForm.
func (f *FormTokenCSRF) Check(r *http.Request, s Session) error {
	if !s.Cookie || safeMethod(r.Method) {
		return nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, f.maxBytes)
	var err error
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		err = r.ParseMultipartForm(f.maxBytes)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return &Refusal{Status: http.StatusRequestEntityTooLarge, Code: "LIMIT_EXCEEDED", Message: "the form is too large"}
		}
		return &Refusal{Status: http.StatusBadRequest, Code: "BAD_REQUEST", Message: "the form could not be read"}
	}
	got := r.PostForm.Get(FormTokenField)
	if got == "" {
		return &Refusal{Status: http.StatusForbidden, Code: "CSRF_TOKEN_REQUIRED",
			Message: "the form was sent without its security token; reload the page and try again"}
	}
	want := f.Token(s)
	if want == "" || !hmac.Equal([]byte(got), []byte(want)) {
		return &Refusal{Status: http.StatusForbidden, Code: "CSRF_TOKEN_INVALID",
			Message: "the form has expired or belongs to another session; reload the page and try again"}
	}
	return nil
}
