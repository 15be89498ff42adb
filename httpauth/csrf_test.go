package httpauth_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kassahq/kassa/httpauth"
)

var (
	secret      = []byte("0123456789abcdef0123456789abcdef")
	otherSecret = []byte("fedcba9876543210fedcba9876543210")
)

func newForms(t *testing.T, key []byte, maxBytes int64) *httpauth.FormTokenCSRF {
	t.Helper()
	f, err := httpauth.NewFormTokenCSRF(key, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// storefront is a page server behind the middleware, as the storefront
// will mount it: GET /cart renders a form with the session's token,
// POST /cart answers with the quantity the form sent.
func storefront(t *testing.T, csrf httpauth.CSRF, forms *httpauth.FormTokenCSRF, answer httpauth.Responder) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<form method="post"><input type="hidden" name="csrf_token" value="`+
			forms.Token(httpauth.SessionFrom(r.Context()))+`"><input name="quantity"></form>`)
	})
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "quantity="+r.PostFormValue("quantity"))
	})
	srv := httptest.NewServer(httpauth.Authenticate(&fakeAuth{}, httpauth.Options{CSRF: csrf, Responder: answer})(mux))
	t.Cleanup(srv.Close)
	return srv
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type formRequest struct {
	method    string
	cookie    string // session token in the cookie
	bearer    string
	form      url.Values
	multipart bool
	query     string
	referer   string
	body      string // raw body instead of form
}

func (f formRequest) do(t *testing.T, base string) (*http.Response, string) {
	t.Helper()
	var (
		body io.Reader
		ct   string
	)
	switch {
	case f.body != "":
		body, ct = strings.NewReader(f.body), "application/x-www-form-urlencoded"
	case f.multipart:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, vs := range f.form {
			for _, v := range vs {
				_ = mw.WriteField(k, v)
			}
		}
		_ = mw.Close()
		body, ct = &buf, mw.FormDataContentType()
	case f.form != nil:
		body, ct = strings.NewReader(f.form.Encode()), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequest(f.method, base+"/cart"+f.query, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if f.cookie != "" {
		req.AddCookie(&http.Cookie{Name: httpauth.SessionCookie, Value: f.cookie})
	}
	if f.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+f.bearer)
	}
	if f.referer != "" {
		req.Header.Set("Referer", f.referer)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestFormTokenCSRF(t *testing.T) {
	t.Parallel()
	forms := newForms(t, secret, 4096)
	srv := storefront(t, forms, forms, httpauth.HTML{})
	tokenA := forms.Token(httpauth.Session{Cookie: true, ID: "ses_a"})
	tokenB := forms.Token(httpauth.Session{Cookie: true, ID: "ses_b"})
	foreign := newForms(t, otherSecret, 0).Token(httpauth.Session{Cookie: true, ID: "ses_a"})
	const missing = "sent without its security token"
	const invalid = "expired or belongs to another session"
	cases := []struct {
		name       string
		req        formRequest
		wantStatus int
		wantBody   string
	}{
		{name: "GET passes without a token", req: formRequest{method: "GET", cookie: "kses_a"}, wantStatus: 200, wantBody: `value="` + tokenA + `"`},
		{name: "HEAD passes", req: formRequest{method: "HEAD", cookie: "kses_a"}, wantStatus: 200},
		{name: "guest renders an empty token", req: formRequest{method: "GET"}, wantStatus: 200, wantBody: `value=""`},
		{name: "guest POST carries no cookie to abuse", req: formRequest{method: "POST", form: url.Values{"quantity": {"2"}}}, wantStatus: 200, wantBody: "quantity=2"},
		{name: "bearer POST is not a forgery", req: formRequest{method: "POST", bearer: "kses_a", form: url.Values{"quantity": {"2"}}}, wantStatus: 200, wantBody: "quantity=2"},
		{name: "missing token refused", req: formRequest{method: "POST", cookie: "kses_a", form: url.Values{"quantity": {"2"}}}, wantStatus: 403, wantBody: missing},
		{name: "empty token refused", req: formRequest{method: "POST", cookie: "kses_a", form: url.Values{"csrf_token": {""}, "quantity": {"2"}}}, wantStatus: 403, wantBody: missing},
		{name: "token of another session refused", req: formRequest{method: "POST", cookie: "kses_a", form: url.Values{"csrf_token": {tokenB}, "quantity": {"2"}}}, wantStatus: 403, wantBody: invalid},
		{name: "token under another secret refused", req: formRequest{method: "POST", cookie: "kses_a", form: url.Values{"csrf_token": {foreign}, "quantity": {"2"}}}, wantStatus: 403, wantBody: invalid},
		{name: "truncated token refused", req: formRequest{method: "POST", cookie: "kses_a", form: url.Values{"csrf_token": {tokenA[:len(tokenA)-1]}, "quantity": {"2"}}}, wantStatus: 403, wantBody: invalid},
		{name: "token in the query string only refused", req: formRequest{method: "POST", cookie: "kses_a", query: "?csrf_token=" + tokenA, form: url.Values{"quantity": {"2"}}}, wantStatus: 403, wantBody: missing},
		{name: "stale cookie refused", req: formRequest{method: "POST", cookie: "kses_stale", form: url.Values{"csrf_token": {tokenA}, "quantity": {"2"}}}, wantStatus: 403, wantBody: invalid},
		{name: "valid token accepted", req: formRequest{method: "POST", cookie: "kses_a", form: url.Values{"csrf_token": {tokenA}, "quantity": {"2"}}}, wantStatus: 200, wantBody: "quantity=2"},
		{name: "valid token in a multipart form accepted", req: formRequest{method: "POST", cookie: "kses_a", multipart: true, form: url.Values{"csrf_token": {tokenA}, "quantity": {"3"}}}, wantStatus: 200, wantBody: "quantity=3"},
		{name: "form too large", req: formRequest{method: "POST", cookie: "kses_a", body: "csrf_token=" + tokenA + "&quantity=" + strings.Repeat("9", 5000)}, wantStatus: 413, wantBody: "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resp, body := c.req.do(t, srv.URL)
			if resp.StatusCode != c.wantStatus || !strings.Contains(body, c.wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", resp.StatusCode, body, c.wantStatus, c.wantBody)
			}
			if c.wantStatus >= 400 {
				if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("refusal Content-Type %q, want an HTML page", ct)
				}
				if !strings.Contains(body, "<title>"+http.StatusText(c.wantStatus)+"</title>") {
					t.Errorf("refusal page %q lacks its title", body)
				}
			}
		})
	}
}

// TestFormTokenCodes reads the refusals' codes through the JSON
// responder: a missing token and a wrong one are told apart.
func TestFormTokenCodes(t *testing.T) {
	t.Parallel()
	forms := newForms(t, secret, 0)
	srv := storefront(t, forms, forms, httpauth.JSON{})
	cases := []struct {
		name string
		form url.Values
		want string
	}{
		{name: "missing", form: url.Values{"quantity": {"1"}}, want: `"CSRF_TOKEN_REQUIRED"`},
		{name: "another session's", form: url.Values{"csrf_token": {forms.Token(httpauth.Session{ID: "ses_b"})}}, want: `"CSRF_TOKEN_INVALID"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resp, body := formRequest{method: "POST", cookie: "kses_a", form: c.form}.do(t, srv.URL)
			if resp.StatusCode != 403 || !strings.Contains(body, c.want) {
				t.Fatalf("got %d %s, want 403 %s", resp.StatusCode, body, c.want)
			}
		})
	}
}

func TestFormToken(t *testing.T) {
	t.Parallel()
	if _, err := httpauth.NewFormTokenCSRF([]byte("short"), 0); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
	forms := newForms(t, secret, 0)
	a := forms.Token(httpauth.Session{ID: "ses_a"})
	cases := []struct {
		name string
		got  string
		same bool
	}{
		{name: "stable for one session", got: newForms(t, secret, 0).Token(httpauth.Session{Cookie: true, ID: "ses_a"}), same: true},
		{name: "differs by session", got: forms.Token(httpauth.Session{ID: "ses_b"})},
		{name: "differs by secret", got: newForms(t, otherSecret, 0).Token(httpauth.Session{ID: "ses_a"})},
		{name: "empty without a session", got: forms.Token(httpauth.Session{Cookie: true})},
	}
	for _, c := range cases {
		if (c.got == a) != c.same {
			t.Errorf("%s: %q vs %q", c.name, c.got, a)
		}
	}
	if len(a) != 43 || strings.Contains(a, "ses_a") {
		t.Errorf("token %q: want 43 URL-safe characters that do not show the session id", a)
	}
}

// TestNoCSRF: a signed webhook's mount lets cookie posts through; the
// handler authenticates by signature.
func TestNoCSRF(t *testing.T) {
	t.Parallel()
	forms := newForms(t, secret, 0)
	srv := storefront(t, httpauth.NoCSRF{}, forms, httpauth.JSON{})
	resp, body := formRequest{method: "POST", cookie: "kses_a", form: url.Values{"quantity": {"5"}}}.do(t, srv.URL)
	if resp.StatusCode != 200 || body != "quantity=5" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}
