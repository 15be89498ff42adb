// Package graphiql serves the GraphiQL IDE with its assets embedded, since
// a shop's machine may be offline.
package graphiql

import (
	"embed"
	"html/template"
	"net/http"
)

//go:embed *.js *.css
var assets embed.FS

var page = template.Must(template.New("graphiql").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kassa GraphiQL</title>
<link rel="stylesheet" href="{{.Base}}/graphiql.min.css">
<style>html,body,#graphiql{height:100%;margin:0}</style>
</head>
<body>
<div id="graphiql">Loading…</div>
<script src="{{.Base}}/react.production.min.js"></script>
<script src="{{.Base}}/react-dom.production.min.js"></script>
<script src="{{.Base}}/graphiql.min.js"></script>
<script>
const fetcher = GraphiQL.createFetcher({ url: {{.Endpoint}}, headers: { "X-Kassa-CSRF": "1" } });
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true,
    defaultQuery: "# Welcome to Kassa's GraphQL API.\n{\n  products(first: 5) {\n    edges { node { title handle } }\n  }\n}\n" }));
</script>
</body>
</html>`))

// Page returns a handler for the IDE page; its assets live under base
// (served by Assets) and it talks to endpoint.
func Page(endpoint, base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = page.Execute(w, struct{ Endpoint, Base string }{endpoint, base})
	})
}

// Assets serves the embedded scripts and styles; mount it with
// http.StripPrefix at the base given to Page.
func Assets() http.Handler {
	fs := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fs.ServeHTTP(w, r)
	})
}
