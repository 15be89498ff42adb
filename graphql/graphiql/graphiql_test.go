package graphiql

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestPageRunsOnlyItsOwnTags: the page's policy allows scripts and style
// sheets by a nonce that is new on every answer and that every one of the
// page's own tags carries; the page has no inline script or style, which
// the policy would block; the IDE's assets are all served.
func TestPageRunsOnlyItsOwnTags(t *testing.T) {
	get := func() (csp, body string) {
		rec := httptest.NewRecorder()
		Page("/graphql", "/graphql/assets").ServeHTTP(rec, httptest.NewRequest("GET", "/graphql", nil))
		return rec.Header().Get("Content-Security-Policy"), rec.Body.String()
	}
	csp, body := get()
	m := regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]+)'`).FindStringSubmatch(csp)
	if m == nil {
		t.Fatalf("CSP %q has no script nonce", csp)
	}
	nonce := m[1]
	for _, want := range []string{"default-src 'none'", "style-src 'nonce-" + nonce + "'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe sources", csp)
	}
	if again, _ := get(); again == csp {
		t.Error("the nonce is the same on two answers")
	}
	tags := regexp.MustCompile(`<(script|link|style)[^>]*>`).FindAllString(body, -1)
	if len(tags) != 6 {
		t.Fatalf("page has %d script/link/style tags, want 6:\n%s", len(tags), body)
	}
	for _, tag := range tags {
		if !strings.Contains(tag, `nonce="`+nonce+`"`) || !regexp.MustCompile(`(src|href)="/graphql/assets/`).MatchString(tag) {
			t.Errorf("tag %s is not an asset with the nonce", tag)
		}
		name := regexp.MustCompile(`/graphql/assets/([^"]+)`).FindStringSubmatch(tag)[1]
		rec := httptest.NewRecorder()
		Assets().ServeHTTP(rec, httptest.NewRequest("GET", "/"+name, nil))
		if rec.Code != 200 {
			t.Errorf("asset %s: status %d", name, rec.Code)
		}
	}
	if !strings.Contains(body, `data-endpoint="/graphql"`) {
		t.Error("page does not name the endpoint")
	}
}

// TestAssetsServeFilesOnly: the embedded files are served, the directory
// that holds them is not listed.
func TestAssetsServeFilesOnly(t *testing.T) {
	h := http.StripPrefix("/graphql/assets/", Assets())
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/graphql/assets/graphiql.min.css", http.StatusOK},
		{"/graphql/assets/", http.StatusNotFound},
		{"/graphql/assets/./", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.want || strings.Contains(rec.Body.String(), "<a href") {
			t.Errorf("GET %s: %d, want %d; body starts %.80q", tc.path, rec.Code, tc.want, rec.Body.String())
		}
	}
}
