package admin

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// get serves one request through h and returns the answer.
func get(t *testing.T, h http.Handler, method, target string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHandlerServesTheBuild runs the handler over a small build: the
// index at the root, the index for every screen path (SPA fallback), hashed
// assets cached as immutable, a missing hashed asset 404, and the
// Content-Security-Policy on every answer.
func TestHandlerServesTheBuild(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"index.html":              {Data: []byte(`<!doctype html><script type="module" src="/admin/assets/index-abc123.js"></script>`)},
		"assets/index-abc123.js":  {Data: []byte(`console.log("admin")`)},
		"assets/index-abc123.css": {Data: []byte(`body{}`)},
		"favicon.svg":             {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`)},
	}
	h := New(files)
	cases := []struct {
		name, method, target string
		status               int
		cache, typePrefix    string
		bodyHas              string
	}{
		{"root is the index", "GET", "/admin/", 200, "no-cache", "text/html", "index-abc123.js"},
		{"a screen path falls back to the index", "GET", "/admin/orders/123", 200, "no-cache", "text/html", "index-abc123.js"},
		{"the setup link falls back to the index", "GET", "/admin/setup?token=abc", 200, "no-cache", "text/html", "index-abc123.js"},
		{"index.html by name", "GET", "/admin/index.html", 200, "no-cache", "text/html", "index-abc123.js"},
		{"a hashed script is immutable", "GET", "/admin/assets/index-abc123.js", 200, "public, max-age=31536000, immutable", "text/javascript", "console.log"},
		{"a hashed stylesheet is immutable", "GET", "/admin/assets/index-abc123.css", 200, "public, max-age=31536000, immutable", "text/css", "body{}"},
		{"an unhashed file is revalidated", "GET", "/admin/favicon.svg", 200, "no-cache", "image/svg+xml", "<svg"},
		{"a missing hashed asset is 404, not the index", "GET", "/admin/assets/index-gone00.js", 404, "", "text/plain", "404"},
		{"dot segments cannot leave the admin", "GET", "/admin/assets/../../etc/passwd", 404, "", "text/plain", "404"},
		{"HEAD is served", "HEAD", "/admin/orders", 200, "no-cache", "text/html", ""},
		{"POST is refused", "POST", "/admin/orders", 405, "", "text/plain", "method not allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			res := get(t, h, c.method, c.target)
			b := body(t, res)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%q)", res.StatusCode, c.status, b)
			}
			if got := res.Header.Get("Cache-Control"); got != c.cache {
				t.Errorf("Cache-Control %q, want %q", got, c.cache)
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, c.typePrefix) {
				t.Errorf("Content-Type %q, want %s…", got, c.typePrefix)
			}
			if got := res.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q", got)
			}
			if !strings.Contains(b, c.bodyHas) {
				t.Errorf("body %q lacks %q", b, c.bodyHas)
			}
		})
	}
}

// TestGzip serves text assets compressed to browsers that take gzip, the
// same bytes as the file once unpacked, and plain to those that do not.
func TestGzip(t *testing.T) {
	t.Parallel()
	script := strings.Repeat(`console.log("admin");`, 500)
	h := New(fstest.MapFS{
		"index.html":             {Data: []byte(`<!doctype html>`)},
		"assets/index-abc123.js": {Data: []byte(script)},
		"assets/logo-abc123.png": {Data: []byte("\x89PNG")},
	})
	cases := []struct {
		name, target, accept string
		gzipped              bool
	}{
		{"gzip taken", "/admin/assets/index-abc123.js", "gzip, deflate, br", true},
		{"gzip with a weight", "/admin/assets/index-abc123.js", "br;q=1.0, gzip;q=0.8", true},
		{"gzip refused", "/admin/assets/index-abc123.js", "gzip;q=0, br", false},
		{"no Accept-Encoding", "/admin/assets/index-abc123.js", "", false},
		{"an image stays as it is", "/admin/assets/logo-abc123.png", "gzip", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest("GET", c.target, nil)
			if c.accept != "" {
				req.Header.Set("Accept-Encoding", c.accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != c.gzipped {
				t.Fatalf("Content-Encoding %q, want gzip %v", res.Header.Get("Content-Encoding"), c.gzipped)
			}
			if !c.gzipped {
				return
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary %q lacks Accept-Encoding", res.Header.Get("Vary"))
			}
			zr, err := gzip.NewReader(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || string(plain) != script {
				t.Fatalf("unpacked %d bytes (%v), want the script's %d", len(plain), err, len(script))
			}
			if n := rec.Body.Len(); n >= len(script)/4 {
				t.Errorf("gzip body %d bytes for %d of script", n, len(script))
			}
		})
	}
}

// TestContentSecurityPolicyIsStrict keeps the policy free of what would
// let an injected script or style run.
func TestContentSecurityPolicyIsStrict(t *testing.T) {
	t.Parallel()
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(ContentSecurityPolicy, want) {
			t.Errorf("policy lacks %q", want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:"} {
		if strings.Contains(ContentSecurityPolicy, bad) {
			t.Errorf("policy allows %q", bad)
		}
	}
}

// TestLeftOutAdmin is a binary built with no_ui: every admin path says
// the admin was left out.
func TestLeftOutAdmin(t *testing.T) {
	t.Parallel()
	res := get(t, New(nil), "GET", "/admin/orders/1")
	b := body(t, res)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(b, "built without the web admin") {
		t.Fatalf("status %d, body %q", res.StatusCode, b)
	}
	if res.Header.Get("Content-Security-Policy") != ContentSecurityPolicy {
		t.Fatal("the left-out page has no Content-Security-Policy")
	}
}

// TestEmbeddedBuild checks the committed dist/ that the binary embeds:
// its index loads only files of the build, from /admin/assets/, with no
// inline script or style for the policy to block, and each of them is
// served.
func TestEmbeddedBuild(t *testing.T) {
	t.Parallel()
	files := builtFiles()
	if files == nil {
		t.Skip("built with no_ui: no admin embedded")
	}
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		t.Fatalf("dist/index.html: %v (run make admin)", err)
	}
	if regexp.MustCompile(`<script(?:\s+type="module")?>|<style|\sstyle=`).Match(index) {
		t.Fatalf("index.html has inline script or style, which the policy blocks:\n%s", index)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(index), -1)
	if len(refs) == 0 {
		t.Fatal("index.html references no asset")
	}
	h := Handler()
	for _, ref := range refs {
		if !strings.HasPrefix(ref[1], "/admin/assets/") {
			t.Errorf("index.html references %q, outside /admin/assets/", ref[1])
			continue
		}
		res := get(t, h, "GET", ref[1])
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != cacheImmutable {
			t.Errorf("%s: status %d, Cache-Control %q", ref[1], res.StatusCode, res.Header.Get("Cache-Control"))
		}
	}
}
