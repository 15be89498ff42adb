package httpauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// Refusal is a request the middleware turns away: the HTTP status, a
// stable code and a short message for the client. CSRF strategies return
// one as their error.
type Refusal struct {
	// Status is the HTTP status: 401, 403, 413, 503, ...
	Status int
	// Code is stable and upper snake case (CSRF_HEADER_REQUIRED).
	Code string
	// Message is a short English sentence for the person or developer
	// on the other end.
	Message string
}

// Error implements error.
func (r *Refusal) Error() string { return fmt.Sprintf("%d %s: %s", r.Status, r.Code, r.Message) }

// refusalOf is the refusal a CSRF strategy's error stands for.
func refusalOf(err error) *Refusal {
	var ref *Refusal
	if errors.As(err, &ref) {
		return ref
	}
	return &Refusal{Status: http.StatusForbidden, Code: "CSRF_REFUSED", Message: "the request failed the anti-forgery check"}
}

// Responder writes a refusal in the format of the mount: JSON for the
// API, an HTML page or a redirect for the storefront's pages.
type Responder interface {
	Refuse(w http.ResponseWriter, r *http.Request, ref *Refusal)
}

// JSON answers with the error envelope of Kassa's GraphQL API, byte for
// byte what graphql.Server writes for its own errors:
// {"errors":[{"message":"…","extensions":{"code":"…"}}]}.
type JSON struct{}

// jsonEnvelope mirrors graphql.Response and graphql.Error; httpauth
// cannot import graphql, which builds on it.
type jsonEnvelope struct {
	Errors []jsonError `json:"errors"`
}

type jsonError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// Refuse implements Responder.
func (JSON) Refuse(w http.ResponseWriter, _ *http.Request, ref *Refusal) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(ref.Status)
	_ = json.NewEncoder(w).Encode(jsonEnvelope{Errors: []jsonError{{Message: ref.Message, Extensions: map[string]any{"code": ref.Code}}}})
}

// HTML answers with a small plain page saying what went wrong, with the
// refusal's status.
type HTML struct{}

var errorPage = template.Must(template.New("refusal").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<p><a href="/">Back to the shop</a></p>
</body>
</html>
`))

// Refuse implements Responder.
func (HTML) Refuse(w http.ResponseWriter, _ *http.Request, ref *Refusal) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(ref.Status)
	_ = errorPage.Execute(w, struct{ Title, Message string }{http.StatusText(ref.Status), ref.Message})
}

// ReturnParam is the query parameter of the sign-in page that carries
// the path to go back to.
const ReturnParam = "return"

// Redirect answers the refusals that signing in fixes (401, 403) with a
// 303 to the sign-in page, passing the path to come back to in
// ReturnParam; other refusals (an outage, a body too large) go to its
// fallback.
type Redirect struct {
	signIn   string
	fallback Responder
}

// NewRedirect returns a Redirect to the local path signIn; fallback nil
// is HTML.
func NewRedirect(signIn string, fallback Responder) (*Redirect, error) {
	if _, ok := ReturnPath(signIn); !ok || strings.Contains(signIn, "?") {
		return nil, fmt.Errorf("sign-in page %q is not a local path without a query", signIn)
	}
	if fallback == nil {
		fallback = HTML{}
	}
	return &Redirect{signIn: signIn, fallback: fallback}, nil
}

// Refuse implements Responder.
func (d *Redirect) Refuse(w http.ResponseWriter, r *http.Request, ref *Refusal) {
	if ref.Status != http.StatusUnauthorized && ref.Status != http.StatusForbidden {
		d.fallback.Refuse(w, r, ref)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, d.signIn+"?"+url.Values{ReturnParam: {returnPathOf(r)}}.Encode(), http.StatusSeeOther)
}

// returnPathOf is where to come back to after signing in: the page asked
// for, or for a form post (whose address may answer POST only) the page
// of the form, from a same-origin Referer; the home page otherwise.
func returnPathOf(r *http.Request) string {
	candidate := r.URL.RequestURI()
	if !safeMethod(r.Method) {
		candidate = "/"
		if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host && (u.Scheme == "http" || u.Scheme == "https") {
			candidate = u.RequestURI()
		}
	}
	if p, ok := ReturnPath(candidate); ok {
		return p
	}
	return "/"
}

// maxReturnPath bounds the return path carried through the sign-in page.
const maxReturnPath = 2048

// ReturnPath reports whether raw is a path on this site that is safe to
// redirect to, and returns it. The sign-in page checks the return
// parameter with it before redirecting, since anyone can craft the link.
// Only an absolute path qualifies: no scheme or host, not "//host" or
// "/\host" (browsers read a backslash as a slash), no control characters
// or spaces (browsers drop tabs and newlines, so "/\t/host" would become
// "//host"), no raw non-ASCII bytes.
func ReturnPath(raw string) (string, bool) {
	if raw == "" || len(raw) > maxReturnPath || raw[0] != '/' {
		return "", false
	}
	if len(raw) > 1 && (raw[1] == '/' || raw[1] == '\\') {
		return "", false
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return raw, true
}
