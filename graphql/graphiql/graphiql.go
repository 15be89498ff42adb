// Package graphiql serves the GraphiQL IDE with its assets embedded, since
// a shop's machine may be offline.
package graphiql

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

//go:embed *.js *.css
var assets embed.FS

var page = template.Must(template.New("graphiql").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kassa GraphiQL</title>
<link rel="stylesheet" href="{{.Base}}/graphiql.min.css" nonce="{{.Nonce}}">
<link rel="stylesheet" href="{{.Base}}/kassa-graphiql.css" nonce="{{.Nonce}}">
</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}">Loading…</div>
<script src="{{.Base}}/react.production.min.js" nonce="{{.Nonce}}"></script>
<script src="{{.Base}}/react-dom.production.min.js" nonce="{{.Nonce}}"></script>
<script src="{{.Base}}/graphiql.min.js" nonce="{{.Nonce}}"></script>
<script src="{{.Base}}/kassa-graphiql.js" nonce="{{.Nonce}}"></script>
</body>
</html>`))

// csp is the page's Content-Security-Policy. Scripts and style sheets run
// only from the page's own tags, which carry a nonce drawn per response:
// not every same-origin URL (a plugin page could answer JavaScript), and
// nothing inline an injection could add. GraphiQL sets element styles from
// script (editor sizes), which style-src does not govern for the CSSOM, and
// its fonts are data: URLs inside its style sheet. It talks only to the
// shop's own endpoint and is never framed.
const csp = "default-src 'none'; script-src 'nonce-%[1]s'; style-src 'nonce-%[1]s'; " +
	"font-src data:; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Page returns a handler for the IDE page; its assets live under base
// (served by Assets) and it talks to endpoint. The page sets its own
// Content-Security-Policy, replacing any default.
func Page(endpoint, base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [18]byte
		_, _ = rand.Read(b[:])
		// URL-safe base64 (allowed in a CSP nonce): html/template would
		// write a '+' as &#43;, which the page's own test cannot match.
		nonce := base64.RawURLEncoding.EncodeToString(b[:])
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", fmt.Sprintf(csp, nonce))
		_ = page.Execute(w, struct{ Endpoint, Base, Nonce string }{endpoint, base, nonce})
	})
}

// Assets serves the embedded scripts and styles; mount it with
// http.StripPrefix at the base given to Page.
func Assets() http.Handler {
	fs := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // files only, no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fs.ServeHTTP(w, r)
	})
}
