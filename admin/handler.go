package admin

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Prefix is the path the admin is served under.
const Prefix = "/admin/"

// ContentSecurityPolicy is the policy of every admin answer: the
// application's scripts, styles and images come from the shop's origin,
// its API calls go to the same origin, nothing inline runs, and no other
// site may frame it.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Cache-Control values: hashed assets never change under their name;
// index.html names the current assets, so it is revalidated each time.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// leftOutPage is served by a binary built with the no_ui tag.
const leftOutPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kassa admin</title></head>
<body><h1>Kassa admin</h1>
<p>This Kassa binary was built without the web admin (build tag no_ui). The GraphQL API at /graphql works as usual.</p>
<p lang="zh-CN">此 Kassa 程序构建时未包含网页后台（构建标签 no_ui）。/graphql 上的 GraphQL API 照常可用。</p>
</body></html>
`

// Handler serves the admin built into this binary under Prefix.
func Handler() http.Handler { return New(builtFiles()) }

// New serves files, a built admin (index.html at its root, hashed files
// under assets/), under Prefix. A nil files serves the page saying the
// admin was left out of this build.
func New(files fs.FS) http.Handler {
	return &handler{files: files, started: time.Now()}
}

type handler struct {
	files   fs.FS
	started time.Time
	// gzipped holds each compressible file compressed, made at its first
	// request: the build never changes while the process runs, and a
	// staff member's first visit should not download 300 KB of script.
	gzipped sync.Map // name -> []byte
}

// compressible are the extensions worth gzip: text. Images and fonts of
// the build are compressed already.
var compressible = map[string]bool{".js": true, ".css": true, ".html": true, ".svg": true, ".json": true, ".txt": true, ".map": true}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", ContentSecurityPolicy)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if h.files == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", cacheRevalidate)
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(leftOutPage))
		return
	}
	rel, ok := strings.CutPrefix(path.Clean("/"+r.URL.Path), strings.TrimSuffix(Prefix, "/"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	name := strings.TrimPrefix(rel, "/")
	switch {
	case strings.HasPrefix(name, "assets/"):
		// A hashed asset that is missing stays missing: answering
		// index.html would hand a browser HTML for a script, cached.
		h.serveFile(w, r, name, cacheImmutable)
	case name != "" && name != "index.html" && h.exists(name):
		h.serveFile(w, r, name, cacheRevalidate)
	default:
		// Every other path is a screen of the application (/admin/orders/123).
		h.serveFile(w, r, "index.html", cacheRevalidate)
	}
}

// exists reports whether name is a regular file of the build.
func (h *handler) exists(name string) bool {
	st, err := fs.Stat(h.files, name)
	return err == nil && !st.IsDir()
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name, cacheControl string) {
	b, err := fs.ReadFile(h.files, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "cannot read the admin's files", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", cacheControl)
	if compressible[path.Ext(name)] {
		w.Header().Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			b = h.gzip(name, b)
			w.Header().Set("Content-Encoding", "gzip")
		}
	}
	// Embedded files carry no modification time; the process's start
	// stands in, and ServeContent picks the type from the name.
	http.ServeContent(w, r, path.Base(name), h.started, bytes.NewReader(b))
}

// gzip returns b, the file name, compressed at the best level, once.
func (h *handler) gzip(name string, b []byte) []byte {
	if z, ok := h.gzipped.Load(name); ok {
		return z.([]byte)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	_, _ = zw.Write(b)                                       // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	z, _ := h.gzipped.LoadOrStore(name, buf.Bytes())
	return z.([]byte)
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip
// (and does not refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
