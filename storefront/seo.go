package storefront

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The sitemap's operations: every collection and product a buyer may
// see, one page of 100 at a time.
const (
	sitemapProducts    = `query StorefrontSitemapProducts($after: String) { products(first: 100, after: $after) { nodes { handle updatedAt } pageInfo { hasNextPage endCursor } } }`
	sitemapCollections = `query StorefrontSitemapCollections($after: String) { collections(first: 100, after: $after) { nodes { handle updatedAt } pageInfo { hasNextPage endCursor } } }`
	// maxSitemapURLs is the sitemap protocol's limit for one file.
	maxSitemapURLs = 50000
)

// absolute makes a path absolute with the shop's base URL; without one
// configured, with the request's host (fine behind a trusted proxy, and
// what a development shop has).
func (h *Handler) absolute(r *http.Request, path string) string {
	base := h.baseURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + path
}

// canonicalPath is a list page's canonical path: the path with only the
// parameters that change what it lists (never tracking, language,
// currency or the way back).
func canonicalPath(path string, keep url.Values, after string) string {
	q := url.Values{}
	for k, v := range keep {
		q[k] = v
	}
	if after != "" {
		q.Set("after", after)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// sitemapURL is one <url> of the sitemap.
type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// sitemapEntry is a collection or product the sitemap lists.
type sitemapEntry struct {
	Handle    string
	UpdatedAt time.Time
}

// sitemap serves GET /sitemap.xml: the home page, every collection and
// every product, XML-escaped by encoding/xml.
func (h *Handler) sitemap(w http.ResponseWriter, r *http.Request) {
	urls := []sitemapURL{{Loc: h.absolute(r, "/")}}
	for _, src := range []struct{ op, doc, field, prefix string }{
		{"StorefrontSitemapCollections", sitemapCollections, "collections", "/collections/"},
		{"StorefrontSitemapProducts", sitemapProducts, "products", "/products/"},
	} {
		var after any
		for len(urls) < maxSitemapURLs {
			var data map[string]struct {
				Nodes    []sitemapEntry
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
			if errs := h.query(r, src.op, src.doc, map[string]any{"after": after}, &data); errs != nil {
				h.log.WarnContext(r.Context(), "sitemap query failed", "error", errs[0].Message)
				w.Header().Set("Cache-Control", "no-store")
				http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
				return
			}
			conn := data[src.field]
			for _, n := range conn.Nodes {
				u := sitemapURL{Loc: h.absolute(r, src.prefix+url.PathEscape(n.Handle))}
				if !n.UpdatedAt.IsZero() {
					u.LastMod = n.UpdatedAt.UTC().Format("2006-01-02")
				}
				urls = append(urls, u)
			}
			if !conn.PageInfo.HasNextPage || conn.PageInfo.EndCursor == "" {
				break
			}
			after = conn.PageInfo.EndCursor
		}
	}
	if len(urls) > maxSitemapURLs {
		urls = urls[:maxSitemapURLs]
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	doc := struct {
		XMLName xml.Name     `xml:"urlset"`
		NS      string       `xml:"xmlns,attr"`
		URLs    []sitemapURL `xml:"url"`
	}{NS: "http://www.sitemaps.org/schemas/sitemap/0.9", URLs: urls}
	enc := xml.NewEncoder(&buf)
	enc.Indent("", " ")
	if err := enc.Encode(doc); err != nil {
		h.log.ErrorContext(r.Context(), "sitemap encode", "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	shared(w, "max-age=3600")
	_, _ = w.Write(buf.Bytes())
}

// robots serves GET /robots.txt: crawl the catalog, not the buyer's own
// pages or the admin.
func (h *Handler) robots(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	shared(w, "max-age=3600")
	fmt.Fprintf(w, "User-agent: *\nAllow: /\nDisallow: /cart\nDisallow: /checkout\nDisallow: /account\nDisallow: /admin\nDisallow: /search\n\nSitemap: %s\n",
		h.absolute(r, "/sitemap.xml"))
}

// productImagePattern is a product's picture. The catalog has no media
// yet, so each product gets artwork drawn from its handle: a soft colour
// and its initials, the same every time.
const productImagePattern = "/products/{handle}/image.svg"

// productImageSize is the artwork's side in CSS pixels, for the width and
// height attributes that keep the layout still while images load.
const productImageSize = 600

func productImagePath(handle string) string {
	return "/products/" + url.PathEscape(handle) + "/image.svg"
}

// productImage serves the artwork of productImagePattern.
func (h *Handler) productImage(w http.ResponseWriter, r *http.Request) {
	handle := r.PathValue("handle")
	if !validHandle(handle) {
		http.NotFound(w, r)
		return
	}
	f := fnv.New32a()
	_, _ = f.Write([]byte(handle))
	hue := f.Sum32() % 360
	var initials []rune
	for _, word := range strings.FieldsFunc(handle, func(r rune) bool { return r == '-' || r == '_' }) {
		if r, _ := utf8.DecodeRuneInString(word); unicode.IsLetter(r) || unicode.IsDigit(r) {
			initials = append(initials, unicode.ToUpper(r))
		}
		if len(initials) == 2 {
			break
		}
	}
	var label bytes.Buffer
	_ = xml.EscapeText(&label, []byte(string(initials)))
	hd := w.Header()
	hd.Set("Content-Type", "image/svg+xml")
	// An SVG opened on its own is a document: it may run nothing.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	hd.Set("X-Content-Type-Options", "nosniff")
	shared(w, "max-age=86400")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%[1]d" height="%[1]d" viewBox="0 0 %[1]d %[1]d">`+
		`<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(%[2]d,38%%,90%%)"/><stop offset="1" stop-color="hsl(%[3]d,34%%,80%%)"/></linearGradient></defs>`+
		`<rect width="100%%" height="100%%" fill="url(#g)"/>`+
		`<text x="50%%" y="50%%" dy=".35em" text-anchor="middle" font-family="Georgia, 'Times New Roman', serif" font-size="160" fill="hsl(%[2]d,30%%,32%%)" fill-opacity=".55">%[4]s</text></svg>`,
		productImageSize, hue, (hue+40)%360, label.String())
}
