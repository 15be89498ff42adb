package storefront

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/kassahq/kassa/graphql"
)

// embedded holds the default theme: templates, static files, catalogs.
//
//go:embed all:templates static i18n
var embedded embed.FS

// Executor runs a GraphQL operation in-process with the subject in ctx;
// *graphql.Server is one.
type Executor interface {
	Exec(ctx context.Context, req graphql.Request) *graphql.Response
}

// Options are what New needs.
type Options struct {
	// GraphQL answers every page's data. Required.
	GraphQL Executor
	// ThemeDir, when set, overrides embedded files of the same path
	// (templates/…, static/…, i18n/…).
	ThemeDir string
	// Logger is the parent logger; nil is slog.Default().
	Logger *slog.Logger
	// BaseURL is the shop's public address (https://shop.example), for
	// canonical links, Open Graph, the sitemap and robots.txt; empty uses
	// the request's host.
	BaseURL string
	// StoreName is the shop's name in the header and page titles; empty
	// is "Kassa".
	StoreName string
	// FormKey keys guests' form tokens (FormKey(master), csrf.go); nil
	// draws a random key that lives as long as the process.
	FormKey []byte
	// SessionFormToken is a signed-in request's form token (the accounts
	// middleware's httpauth.FormTokenCSRF); nil binds all forms as guests'.
	SessionFormToken func(context.Context) string
	// TrustProxy believes the X-Forwarded-Proto header of a reverse proxy
	// in front (config TrustProxy, KASSA_TRUST_PROXY): a request that
	// reached the proxy over https gets Secure cookies (the session, the
	// cart, the form binding) even when BaseURL is http. Leave it off
	// when clients reach Kassa directly: they could forge the header.
	TrustProxy bool
}

// Handler serves the storefront's pages.
type Handler struct {
	exec  Executor
	files fs.FS
	cat   catalogs
	pages map[string]*template.Template
	mux   *http.ServeMux
	// patterns are the routes registered with handle, for Patterns.
	patterns []string
	log      *slog.Logger
	// storeName and baseURL are Options.StoreName and Options.BaseURL.
	storeName, baseURL string
	forms              *forms // csrf.go
	// answers and rendered memoize decoded chrome answers and rendered
	// catalog pages: home, collection, product, search (memo.go).
	answers  *memo[*chromeAnswer]
	rendered *memo[[]byte]
}

// New reads the theme (templates and catalogs are parsed once, here: a
// broken theme fails the start, not a buyer's request) and returns the
// storefront.
func New(opts Options) (*Handler, error) {
	if opts.GraphQL == nil {
		return nil, errors.New("storefront: Options.GraphQL is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	var files fs.FS = embedded
	if opts.ThemeDir != "" {
		st, err := os.Stat(opts.ThemeDir)
		if err != nil || !st.IsDir() {
			return nil, fmt.Errorf("storefront: theme directory %q: not a readable directory", opts.ThemeDir)
		}
		files = layered{top: os.DirFS(opts.ThemeDir), base: embedded}
	}
	cat, err := loadCatalogs(files)
	if err != nil {
		return nil, err
	}
	h := &Handler{exec: opts.GraphQL, files: files, cat: cat, pages: map[string]*template.Template{},
		answers: newMemo[*chromeAnswer](maxMemoAnswers), rendered: newMemo[[]byte](maxMemoPages),
		mux: http.NewServeMux(), log: opts.Logger.With("component", "storefront")}
	h.storeName, h.baseURL = cmp.Or(opts.StoreName, "Kassa"), strings.TrimRight(opts.BaseURL, "/")
	if err := h.parsePages(); err != nil {
		return nil, err
	}
	if h.forms, err = newForms(opts.FormKey, opts.SessionFormToken, strings.HasPrefix(opts.BaseURL, "https://"), opts.TrustProxy); err != nil {
		return nil, err
	}
	// Each part of the storefront registers its routes here, one line
	// each, from its own file.
	h.handle("GET "+OrderStatusPattern, http.HandlerFunc(h.orderStatus))
	h.handle("POST /orders/{id}/pay", h.guarded(h.payRest))
	h.handle("GET /static/", h.static())
	h.handle("GET /{$}", http.HandlerFunc(h.home))
	h.handle("GET /collections/{handle}", http.HandlerFunc(h.collection))
	h.handle("GET /search", http.HandlerFunc(h.search))
	h.handle("GET /products/{handle}", http.HandlerFunc(h.product))
	h.handle("GET "+productImagePattern, http.HandlerFunc(h.productImage))
	h.handle("GET /sitemap.xml", http.HandlerFunc(h.sitemap))
	h.handle("GET /robots.txt", http.HandlerFunc(h.robots))
	h.handle("GET /cart", http.HandlerFunc(h.cartPage))
	h.handle("POST /cart/add", h.guarded(h.cartAdd))
	h.handle("POST /cart/update", h.guarded(h.cartUpdate))
	h.handle("POST /cart/remove", h.guarded(h.cartRemove))
	h.handle("GET /checkout", http.HandlerFunc(h.checkoutPage))
	h.handle("POST /checkout", h.guarded(h.checkoutStep))
	h.handle("POST /checkout/complete", h.guarded(h.checkoutComplete))
	h.handle("GET /subdivisions/{country}", http.HandlerFunc(h.subdivisionList))
	h.handle("GET /account", http.HandlerFunc(h.accountHome))
	h.handle("GET /account/login", http.HandlerFunc(h.loginPage))
	h.handle("POST /account/login", h.guarded(h.login))
	h.handle("GET /account/register", http.HandlerFunc(h.registerPage))
	h.handle("POST /account/register", h.guarded(h.register))
	h.handle("POST /account/logout", h.guarded(h.logout))
	h.handle("GET /account/forgot-password", http.HandlerFunc(h.forgotPage))
	h.handle("POST /account/forgot-password", h.guarded(h.forgot))
	h.handle("GET /account/reset-password", http.HandlerFunc(h.resetPage))
	h.handle("POST /account/reset-password", h.guarded(h.reset))
	h.handle("GET /account/verify-email", http.HandlerFunc(h.verifyPage))
	h.handle("POST /account/verify-email", h.guarded(h.verify))
	h.handle("GET /account/addresses", http.HandlerFunc(h.addressesPage))
	h.handle("GET /account/addresses/new", http.HandlerFunc(h.newAddressPage))
	h.handle("POST /account/addresses/new", h.guarded(h.saveAddress))
	h.handle("GET /account/addresses/{id}", http.HandlerFunc(h.editAddressPage))
	h.handle("POST /account/addresses/{id}", h.guarded(h.saveAddress))
	h.handle("POST /account/addresses/{id}/delete", h.guarded(h.deleteAddress))
	h.handle("POST /account/addresses/{id}/default", h.guarded(h.defaultAddress))
	h.handle("GET /account/orders", http.HandlerFunc(h.ordersPage))
	h.handle("GET /account/orders/{id}", http.HandlerFunc(h.orderPage))
	h.handle("POST /account/orders/{id}/cancel", h.guarded(h.cancelOrder))
	return h, nil
}

// NotFound is the shop's own "page not found", in the buyer's language
// with the shop's header, for a GET or HEAD of an address that no route of
// the instance takes (core/app routes those here): better than the bare
// text of net/http for a buyer who followed an old link.
func (h *Handler) NotFound() http.Handler { return http.HandlerFunc(h.unknownPage) }

// handle registers a route of the storefront.
func (h *Handler) handle(pattern string, handler http.Handler) {
	h.mux.Handle(pattern, handler)
	h.patterns = append(h.patterns, pattern)
}

// parsePages parses every page of templates/: each NAME.html but the
// layout and the partials (_NAME.html, shared by all pages) is a page,
// rendered inside layout.html.
func (h *Handler) parsePages() error {
	entries, err := fs.ReadDir(h.files, "templates")
	if err != nil {
		return fmt.Errorf("storefront: templates: %w", err)
	}
	shared := []string{"templates/layout.html"}
	var pages []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir() || path.Ext(name) != ".html" || name == "layout.html":
		case strings.HasPrefix(name, "_"):
			shared = append(shared, "templates/"+name)
		default:
			pages = append(pages, name)
		}
	}
	for _, name := range pages {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(h.files, append(slices.Clone(shared), "templates/"+name)...)
		if err != nil {
			return fmt.Errorf("storefront: template %s: %w", name, err)
		}
		h.pages[strings.TrimSuffix(name, ".html")] = t
	}
	return nil
}

// OrderStatusPattern is the status page's route; OrderStatusPath builds
// its path.
const OrderStatusPattern = "/orders/{id}/status"

// OrderStatusPath is the status page of an order, the return URL to give
// a gateway (with ?token= for a guest).
func OrderStatusPath(orderID string) string { return "/orders/" + orderID + "/status" }

// Patterns are the routes to mount the Handler on.
func (h *Handler) Patterns() []string { return slices.Clone(h.patterns) }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// static serves the theme's static files, revalidated hourly.
func (h *Handler) static() http.Handler {
	sub, _ := fs.Sub(h.files, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if path.Ext(r.URL.Path) == "" { // no directory listings
			http.NotFound(w, r)
			return
		}
		shared(w, "max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// shared lets browsers keep an answer that is the same for everyone for
// maxAge ("max-age=3600"), and shared caches too unless the answer sets a
// cookie: the sign-in middleware clears a stale session cookie on any
// request, and a CDN that kept that answer would sign out everyone it
// serves it to.
func shared(w http.ResponseWriter, maxAge string) {
	hd := w.Header()
	if len(hd.Values("Set-Cookie")) > 0 {
		hd.Set("Cache-Control", "private, "+maxAge)
		return
	}
	hd.Set("Cache-Control", "public, "+maxAge)
}

// pageCSP lets a page load the shop's own scripts, styles and images and
// follow live updates from /graphql/stream; nothing inline, nothing from
// elsewhere. Links to a gateway's page are navigation, which it allows.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// render writes a page: rendered into a buffer first, so that a template
// error becomes a clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := h.execPage(&buf, w, r, name, p); err != nil {
		h.log.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	writePage(w, status, p, buf.Bytes())
}

// writePage writes a rendered page with the headers of every page.
func writePage(w http.ResponseWriter, status int, p *page, html []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("Content-Language", p.Lang)
	hd.Set("Vary", "Accept-Language, Cookie")
	w.WriteHeader(status)
	_, _ = w.Write(html)
}

// pageKey starts the key of a memoized page (memo.go) with what the
// request adds to its GraphQL answers: the template, the language, the
// signed-in flag (the header's account link), the currency, the URL
// (the language and currency switchers' links, pagination, the sort
// form), the public base (canonical and Open Graph links) and the
// chrome's answer. The caller adds the page's own answers.
func (h *Handler) pageKey(name string, r *http.Request, p *page, c *chrome) *keyBuilder {
	signed := "guest"
	if p.SignedIn {
		signed = "buyer"
	}
	return newMemoKey(name, p.Lang, signed, c.Currency, r.URL.RequestURI(), h.absolute(r, "/")).add(c.answer[:])
}

// replay writes the memoized page of key, with the request's form token,
// and reports whether there was one.
func (h *Handler) replay(w http.ResponseWriter, r *http.Request, status int, p *page, key memoKey) bool {
	html, ok := h.rendered.get(key)
	if !ok {
		return false
	}
	writePage(w, status, p, h.withToken(html, w, r))
	return true
}

// renderMemo renders a page as render does and keeps its bytes under
// key, before the form token goes in, for replay. Without a page memo it
// is render.
func (h *Handler) renderMemo(w http.ResponseWriter, r *http.Request, status int, name string, p *page, key memoKey) {
	if h.rendered == nil {
		h.render(w, r, status, name, p)
		return
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout.html", p); err != nil {
		h.log.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	html := buf.Bytes()
	h.rendered.put(key, html)
	writePage(w, status, p, h.withToken(html, w, r))
}

// layered is a theme directory over the embedded files.
type layered struct{ top, base fs.FS }

// Open implements fs.FS: the theme's file when it has one.
func (l layered) Open(name string) (fs.File, error) {
	f, err := l.top.Open(name)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return l.base.Open(name)
}

// ReadDir implements fs.ReadDirFS for ParseFS's globs: both layers'
// entries, the theme's winning.
func (l layered) ReadDir(name string) ([]fs.DirEntry, error) {
	top, terr := fs.ReadDir(l.top, name)
	base, berr := fs.ReadDir(l.base, name)
	if terr != nil && berr != nil {
		return nil, berr
	}
	seen := map[string]bool{}
	var out []fs.DirEntry
	for _, e := range top {
		seen[e.Name()] = true
		out = append(out, e)
	}
	for _, e := range base {
		if !seen[e.Name()] {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}
