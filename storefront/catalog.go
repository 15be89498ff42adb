package storefront

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/graphql"
)

// The catalog pages' operations. Every page first reads the shop's chrome
// (currencies and the collections of the menu), then its own data in the
// chosen currency; anonymous answers come from GraphQL's response cache.
const (
	cardFields = `handle title vendor
    priceRange { min { amount currencyCode } max { amount currencyCode } }
    featuredVariant { price { amount currencyCode } compareAtPrice { amount currencyCode } }
    variants { availableForSale }`
	chromeQuery  = `query StorefrontChrome { shopSettings { currencies defaultCurrency } collections(first: 8) { nodes { handle title } } }`
	homeQuery    = `query StorefrontHome($currency: String) { collections(first: 3, currency: $currency) { nodes { handle title description products(first: 4) { nodes { ` + cardFields + ` } } } } products(first: 12, currency: $currency, sortKey: CREATED_AT, reverse: true) { nodes { ` + cardFields + ` } } }`
	collectionQ  = `query StorefrontCollection($handle: String!, $currency: String, $first: Int, $after: String, $sortKey: ProductSortKey, $reverse: Boolean) { collection(handle: $handle, currency: $currency) { handle title description products(first: $first, after: $after, sortKey: $sortKey, reverse: $reverse) { nodes { ` + cardFields + ` } pageInfo { hasNextPage endCursor } } } }`
	searchQuery  = `query StorefrontSearch($q: String!, $currency: String, $first: Int, $after: String, $sortKey: ProductSortKey, $reverse: Boolean) { products(query: $q, currency: $currency, first: $first, after: $after, sortKey: $sortKey, reverse: $reverse) { nodes { ` + cardFields + ` } pageInfo { hasNextPage endCursor } } }`
	productQuery = `query StorefrontProduct($handle: String!, $currency: String) { product(handle: $handle, currency: $currency) { handle title description vendor productType
    options { name values }
    variants { id title selectedOptions { name value } price { amount currencyCode } compareAtPrice { amount currencyCode } availableQuantity availableForSale }
    priceRange { min { amount currencyCode } max { amount currencyCode } }
    collections { handle title } } }`
)

// Limits on what a URL may ask of the catalog pages.
const (
	// pageSize is the number of products on a collection or search page.
	pageSize = 24
	// maxQueryRunes bounds a search; longer ones are refused with 400.
	maxQueryRunes = 100
	// maxHandleLen bounds a handle taken from the path.
	maxHandleLen = 255
	// maxCursorLen bounds one cursor; real ones are far shorter.
	maxCursorLen = 512
	// maxTrail is how many earlier pages "previous" can walk back through;
	// further back it leads to the first page.
	maxTrail = 10
)

// sessionCookie is the buyer's session cookie (httpauth.SessionCookie,
// which the storefront may not import): its presence makes a page
// private to caches.
const sessionCookie = "kassa_session"

// shopInfo is the public part of the shop's settings.
type shopInfo struct {
	Currencies      []string
	DefaultCurrency string
}

// link is a titled link of the menu or a product's collections.
type link struct{ Handle, Title string }

// chrome is what the layout shows around a catalog page: the shop's
// name, menu, currency switcher and search box, and the page's SEO
// metadata. A page whose Data embeds *chrome gets the full layout.
type chrome struct {
	ShopName    string
	Currency    string
	Currencies  []currencyChoice
	Collections []link
	// Query is the search box's value.
	Query string
	// Description is the meta and Open Graph description.
	Description string
	// Canonical is the page's absolute URL without tracking, language or
	// currency parameters.
	Canonical string
	// OGType is the Open Graph type: website or product.
	OGType string
	// OGImage is an absolute image URL, or empty.
	OGImage string
	// NoIndex keeps search result pages out of search engines.
	NoIndex bool
	// answer names the chrome's GraphQL answer, for a memoized page's key.
	answer memoKey
}

// currencyChoice is a currency as the switcher offers it.
type currencyChoice struct {
	Code, URL string
	Current   bool
}

func (c *chrome) chromeOf() *chrome { return c }

// Chrome is the layout's data of a catalog page; nil for pages without
// it (the layout then shows a plain header).
func (p *page) Chrome() *chrome {
	if v, ok := p.Data.(interface{ chromeOf() *chrome }); ok {
		return v.chromeOf()
	}
	return nil
}

// productCard is a product in a grid.
type productCard struct {
	Handle, Title, Vendor string
	PriceRange            *struct{ Min, Max money }
	FeaturedVariant       *struct{ Price, CompareAtPrice *money }
	Variants              []struct{ AvailableForSale bool }
}

// Price is the card's price: the lowest, with Varies set when variants
// differ; empty when the product has no price in the currency.
func (c *productCard) Price() string {
	if c.PriceRange == nil {
		return ""
	}
	return formatMoney(c.PriceRange.Min)
}

// Varies says the variants have different prices ("from ¥48.00").
func (c *productCard) Varies() bool {
	return c.PriceRange != nil && c.PriceRange.Min.Amount != c.PriceRange.Max.Amount
}

// WasPrice is the struck-through price of the featured variant, if any.
func (c *productCard) WasPrice() string {
	if c.FeaturedVariant == nil || c.FeaturedVariant.CompareAtPrice == nil || c.Varies() {
		return ""
	}
	return formatMoney(*c.FeaturedVariant.CompareAtPrice)
}

// SoldOut says no variant can be bought.
func (c *productCard) SoldOut() bool {
	for _, v := range c.Variants {
		if v.AvailableForSale {
			return false
		}
	}
	return true
}

// Image is the card's image path.
func (c *productCard) Image() string { return productImagePath(c.Handle) }

// productConnection is a page of products.
type productConnection struct {
	Nodes    []*productCard
	PageInfo struct {
		HasNextPage bool
		EndCursor   *string
	}
}

// homeView is the home page's data.
type homeView struct {
	*chrome
	Featured []struct {
		Handle, Title, Description string
		Products                   struct{ Nodes []*productCard }
	}
	Products []*productCard
}

// listView is a collection or search page's data.
type listView struct {
	*chrome
	// Collection is set on a collection page.
	Collection *struct{ Handle, Title, Description string }
	// Searched says a search ran (q was not empty).
	Searched bool
	Products []*productCard
	Sorts    []sortChoice
	// Sort is the chosen ?sort= value.
	Sort string
	// Action is the sort form's target.
	Action           string
	NextURL, PrevURL string
}

// messageView is a page that only says something: not found, bad
// request, try again.
type messageView struct {
	*chrome
	Heading, Text string
}

// sortOption is one order a list offers.
type sortOption struct {
	value, key string
	reverse    bool
	label      string
}

// sortChoice is a sort option as the select shows it.
type sortChoice struct {
	Value, Label string
	Selected     bool
}

// The orders of the lists; the first is the default (no ?sort=). The API
// has no price or relevance order, so the lists offer what it has.
var (
	collectionSorts = []sortOption{{"", "MANUAL", false, "sort.featured"}, {"title", "TITLE", false, "sort.titleAsc"},
		{"title-desc", "TITLE", true, "sort.titleDesc"}, {"newest", "CREATED_AT", true, "sort.newest"}, {"oldest", "CREATED_AT", false, "sort.oldest"}}
	searchSorts = []sortOption{{"", "TITLE", false, "sort.titleAsc"}, {"title-desc", "TITLE", true, "sort.titleDesc"},
		{"newest", "CREATED_AT", true, "sort.newest"}, {"oldest", "CREATED_AT", false, "sort.oldest"}}
)

// pickSort returns the option named by ?sort=, the default for anything
// else, and the choices for the select.
func pickSort(p *page, opts []sortOption, value string) (sortOption, []sortChoice) {
	chosen := opts[0]
	for _, o := range opts {
		if o.value == value {
			chosen = o
		}
	}
	choices := make([]sortChoice, len(opts))
	for i, o := range opts {
		choices[i] = sortChoice{Value: o.value, Label: p.T(o.label), Selected: o.value == chosen.value}
	}
	return chosen, choices
}

// pager is where a list page starts: after the cursor After, with Back
// the cursors of the pages before it (the API pages forward only, so the
// way back travels in the URL).
type pager struct {
	After string
	Back  []string
}

// parsePager reads ?after= and ?back=; ok is false for anything that is
// not a short list of cursor-shaped strings.
func parsePager(q url.Values) (pager, bool) {
	p := pager{After: q.Get("after")}
	if !validCursor(p.After) {
		return p, false
	}
	if b := q.Get("back"); b != "" {
		p.Back = strings.Split(b, ".")
		if len(p.Back) > maxTrail {
			return p, false
		}
		for _, c := range p.Back {
			if c == "" || !validCursor(c) {
				return p, false
			}
		}
	}
	return p, true
}

// validCursor admits the API's cursors' alphabet (base64url) and length.
func validCursor(s string) bool {
	if len(s) > maxCursorLen {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// links returns the previous and next pages' URLs (empty when there is
// none); keep are the parameters every page of the list carries.
func (p pager) links(path string, keep url.Values, next *string, hasNext bool) (prev, nextURL string) {
	build := func(after string, back []string) string {
		q := url.Values{}
		for k, v := range keep {
			q[k] = v
		}
		if after != "" {
			q.Set("after", after)
		}
		if len(back) > 0 {
			q.Set("back", strings.Join(back, "."))
		}
		if len(q) == 0 {
			return path
		}
		return path + "?" + q.Encode()
	}
	if p.After != "" {
		if n := len(p.Back); n > 0 {
			prev = build(p.Back[n-1], p.Back[:n-1])
		} else {
			prev = build("", nil)
		}
	}
	if hasNext && next != nil && *next != "" {
		back := p.Back
		if p.After != "" {
			back = append(append([]string(nil), p.Back...), p.After)
		}
		if len(back) > maxTrail {
			back = back[len(back)-maxTrail:]
		}
		nextURL = build(*next, back)
	}
	return prev, nextURL
}

// catalogError is how a failed page query ends: 400 for what the URL
// asked wrong, 503 for the rest.
func (h *Handler) catalogError(w http.ResponseWriter, r *http.Request, p *page, c *chrome, errs []*graphql.Error) {
	for _, e := range errs {
		switch e.Extensions["code"] {
		case "INVALID_CURSOR", "INVALID_ARGUMENT", "BAD_USER_INPUT", "TOO_LONG", "INVALID_PAGE_SIZE", "INVALID_ID":
		default:
			h.log.WarnContext(r.Context(), "catalog query failed", "error", e.Message)
			h.message(w, r, p, c, http.StatusServiceUnavailable, "unavailable.title", "unavailable.text")
			return
		}
	}
	h.message(w, r, p, c, http.StatusBadRequest, "error.badRequest.title", "error.badRequest.text")
}

// unknownPage answers an address the instance has no page at (NotFound):
// a page saying so for a browser's GET or HEAD, the plain 404 for
// anything else.
func (h *Handler) unknownPage(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.NotFound(w, r)
		return
	}
	p := h.pageFor(w, r)
	c := h.chrome(w, r, p)
	if c == nil {
		return
	}
	h.message(w, r, p, c, http.StatusNotFound, "error.pageNotFound.title", "error.pageNotFound.text")
}

// message renders a page that only says something.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, p *page, c *chrome, status int, title, text string) {
	if c == nil {
		c = &chrome{ShopName: h.storeName}
	}
	c.NoIndex = true
	c.Canonical = ""
	p.Title = p.T(title) + " – " + c.ShopName
	p.Data = &messageView{chrome: c, Heading: p.T(title), Text: p.T(text)}
	if status == http.StatusNotFound {
		w = h.cacheable(w, r)
	} else {
		w.Header().Set("Cache-Control", "no-store")
	}
	h.render(w, r, status, "not_found", p)
}

// query runs a named operation and decodes its data into out.
func (h *Handler) query(r *http.Request, op, doc string, vars map[string]any, out any) []*graphql.Error {
	data, errs := h.queryRaw(r, op, doc, vars)
	if errs != nil {
		return errs
	}
	return decodeAnswer(op, data, out)
}

// queryRaw runs a named operation and returns its data undecoded, for a
// page that may be memoized (memo.go): the answer's bytes are part of
// its key, and a memoized page needs no decoding.
func (h *Handler) queryRaw(r *http.Request, op, doc string, vars map[string]any) (json.RawMessage, []*graphql.Error) {
	res := h.exec.Exec(r.Context(), graphql.Request{Query: doc, OperationName: op, Variables: vars})
	if len(res.Errors) > 0 {
		return nil, res.Errors
	}
	return res.Data, nil
}

// decodeAnswer decodes an operation's data into out.
func decodeAnswer(op string, data json.RawMessage, out any) []*graphql.Error {
	if err := json.Unmarshal(data, out); err != nil {
		return []*graphql.Error{{Message: fmt.Sprintf("decode %s: %v", op, err), Extensions: map[string]any{"code": "INTERNAL"}}}
	}
	return nil
}

// chromeAnswer is StorefrontChrome's data, decoded once per distinct
// answer (memo.go) and shared by the requests that get the same bytes:
// read it, never change it.
type chromeAnswer struct {
	ShopSettings shopInfo
	Collections  struct{ Nodes []link }
}

// chrome reads the shop's chrome and picks the currency; a failure is a
// 503 already written (nil returned).
func (h *Handler) chrome(w http.ResponseWriter, r *http.Request, p *page) *chrome {
	raw, errs := h.queryRaw(r, "StorefrontChrome", chromeQuery, nil)
	key := newMemoKey().add(raw).sum()
	data, ok := h.answers.get(key)
	if !ok && errs == nil {
		data = &chromeAnswer{}
		if errs = decodeAnswer("StorefrontChrome", raw, data); errs == nil {
			h.answers.put(key, data)
		}
	}
	if errs != nil {
		h.log.WarnContext(r.Context(), "chrome query failed", "error", errs[0].Message)
		h.message(w, r, p, nil, http.StatusServiceUnavailable, "unavailable.title", "unavailable.text")
		return nil
	}
	c := &chrome{ShopName: h.storeName, Collections: data.Collections.Nodes, OGType: "website",
		Currency: pickCurrency(w, r, data.ShopSettings, h.forms.secureFor(r)), answer: key}
	for _, code := range data.ShopSettings.Currencies {
		u := *r.URL
		q := u.Query()
		q.Set("currency", code)
		u.RawQuery = q.Encode()
		c.Currencies = append(c.Currencies, currencyChoice{Code: code, URL: u.RequestURI(), Current: code == c.Currency})
	}
	return c
}

// cacheable marks a public page: shared caches may keep it a minute when
// nobody is signed in (no session cookie, no bearer token or API key),
// the answer sets no cookie (a choice of language or currency, a guest's
// form binding) and its forms carry no token (withToken: a token is bound
// to one visitor's cookie or session); otherwise only the visitor's
// browser may, revalidating. Cookies and tokens go in while the page
// renders, so the verdict is taken when the header is written.
func (h *Handler) cacheable(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	_, err := r.Cookie(sessionCookie)
	signedIn := err == nil || authz.SubjectFrom(r.Context()).Kind != authz.KindAnonymous
	return &cacheWriter{ResponseWriter: w, session: signedIn}
}

// cacheWriter sets Cache-Control as the header is written.
type cacheWriter struct {
	http.ResponseWriter
	session, wrote bool
	// personal is set when the page's forms got the visitor's token.
	personal bool
}

// WriteHeader implements http.ResponseWriter.
func (c *cacheWriter) WriteHeader(status int) {
	if !c.wrote {
		c.wrote = true
		hd := c.Header()
		switch {
		case c.session || c.personal || len(hd.Values("Set-Cookie")) > 0:
			hd.Set("Cache-Control", "private, no-cache")
		default:
			hd.Set("Cache-Control", "public, max-age=60")
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (c *cacheWriter) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(b)
}

// home serves GET /{$}.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	c := h.chrome(w, r, p)
	if c == nil {
		return
	}
	raw, errs := h.queryRaw(r, "StorefrontHome", homeQuery, map[string]any{"currency": c.Currency})
	if errs != nil {
		h.catalogError(w, r, p, c, errs)
		return
	}
	// Everything the page shows comes from these inputs (memo.go).
	key := h.pageKey("home", r, p, c).add(raw).sum()
	if h.replay(h.cacheable(w, r), r, http.StatusOK, p, key) {
		return
	}
	v := &homeView{chrome: c}
	var data struct {
		Collections struct {
			Nodes []struct {
				Handle, Title, Description string
				Products                   struct{ Nodes []*productCard }
			}
		}
		Products struct{ Nodes []*productCard }
	}
	if errs := decodeAnswer("StorefrontHome", raw, &data); errs != nil {
		h.catalogError(w, r, p, c, errs)
		return
	}
	for _, col := range data.Collections.Nodes {
		if len(col.Products.Nodes) > 0 {
			v.Featured = append(v.Featured, col)
		}
	}
	v.Products = data.Products.Nodes
	p.Title = c.ShopName
	c.Description = p.T("home.description", c.ShopName)
	c.Canonical = h.absolute(r, "/")
	p.Data = v
	h.renderMemo(h.cacheable(w, r), r, http.StatusOK, "home", p, key)
}

// collection serves GET /collections/{handle}.
func (h *Handler) collection(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	c := h.chrome(w, r, p)
	if c == nil {
		return
	}
	handle := r.PathValue("handle")
	if !validHandle(handle) {
		h.message(w, r, p, c, http.StatusNotFound, "error.collectionNotFound.title", "error.collectionNotFound.text")
		return
	}
	q := r.URL.Query()
	pg, ok := parsePager(q)
	if !ok {
		h.message(w, r, p, c, http.StatusBadRequest, "error.badRequest.title", "error.badRequest.text")
		return
	}
	sort, choices := pickSort(p, collectionSorts, q.Get("sort"))
	vars := map[string]any{"handle": handle, "currency": c.Currency, "first": pageSize, "after": nullable(pg.After),
		"sortKey": sort.key, "reverse": sort.reverse}
	raw, errs := h.queryRaw(r, "StorefrontCollection", collectionQ, vars)
	if errs != nil {
		h.catalogError(w, r, p, c, errs)
		return
	}
	// Everything the page shows comes from these inputs (memo.go).
	key := h.pageKey("collection", r, p, c).add(raw).sum()
	if h.replay(h.cacheable(w, r), r, http.StatusOK, p, key) {
		return
	}
	var data struct {
		Collection *struct {
			Handle, Title, Description string
			Products                   productConnection
		}
	}
	if errs := decodeAnswer("StorefrontCollection", raw, &data); errs != nil {
		h.catalogError(w, r, p, c, errs)
		return
	}
	col := data.Collection
	if col == nil {
		h.message(w, r, p, c, http.StatusNotFound, "error.collectionNotFound.title", "error.collectionNotFound.text")
		return
	}
	path := "/collections/" + url.PathEscape(col.Handle)
	keep := url.Values{}
	if sort.value != "" {
		keep.Set("sort", sort.value)
	}
	v := &listView{chrome: c, Collection: &struct{ Handle, Title, Description string }{col.Handle, col.Title, col.Description},
		Products: col.Products.Nodes, Sorts: choices, Sort: sort.value, Action: path}
	v.PrevURL, v.NextURL = pg.links(path, keep, col.Products.PageInfo.EndCursor, col.Products.PageInfo.HasNextPage)
	p.Title = col.Title + " – " + c.ShopName
	c.Description = summary(col.Description, p.T("collection.description", col.Title, c.ShopName))
	c.Canonical = h.absolute(r, canonicalPath(path, keep, pg.After))
	p.Data = v
	h.renderMemo(h.cacheable(w, r), r, http.StatusOK, "collection", p, key)
}

// search serves GET /search?q=.
func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	c := h.chrome(w, r, p)
	if c == nil {
		return
	}
	q := r.URL.Query()
	term := strings.TrimSpace(q.Get("q"))
	if utf8.RuneCountInString(term) > maxQueryRunes || !utf8.ValidString(term) || strings.ContainsFunc(term, isControl) {
		h.message(w, r, p, c, http.StatusBadRequest, "error.badSearch.title", "error.badSearch.text")
		return
	}
	pg, ok := parsePager(q)
	if !ok {
		h.message(w, r, p, c, http.StatusBadRequest, "error.badRequest.title", "error.badRequest.text")
		return
	}
	sort, choices := pickSort(p, searchSorts, q.Get("sort"))
	c.Query, c.NoIndex = term, true
	// Everything the page shows comes from the request and, with a
	// term, the search's answer (memo.go); without one the page is the
	// empty search form.
	var raw json.RawMessage
	if term != "" {
		vars := map[string]any{"q": term, "currency": c.Currency, "first": pageSize, "after": nullable(pg.After),
			"sortKey": sort.key, "reverse": sort.reverse}
		var errs []*graphql.Error
		if raw, errs = h.queryRaw(r, "StorefrontSearch", searchQuery, vars); errs != nil {
			h.catalogError(w, r, p, c, errs)
			return
		}
	}
	key := h.pageKey("search", r, p, c).add(raw).sum()
	if h.replay(h.cacheable(w, r), r, http.StatusOK, p, key) {
		return
	}
	v := &listView{chrome: c, Sorts: choices, Sort: sort.value, Action: "/search", Searched: term != ""}
	keep := url.Values{}
	if term != "" {
		keep.Set("q", term)
		var data struct{ Products productConnection }
		if errs := decodeAnswer("StorefrontSearch", raw, &data); errs != nil {
			h.catalogError(w, r, p, c, errs)
			return
		}
		if sort.value != "" {
			keep.Set("sort", sort.value)
		}
		v.Products = data.Products.Nodes
		v.PrevURL, v.NextURL = pg.links("/search", keep, data.Products.PageInfo.EndCursor, data.Products.PageInfo.HasNextPage)
		p.Title = p.T("search.titleFor", term) + " – " + c.ShopName
	} else {
		p.Title = p.T("search.title") + " – " + c.ShopName
	}
	c.Description = p.T("search.description", c.ShopName)
	c.Canonical = h.absolute(r, canonicalPath("/search", keep, pg.After))
	p.Data = v
	h.renderMemo(h.cacheable(w, r), r, http.StatusOK, "search", p, key)
}

// productVariant is a variant as the picker shows it.
type productVariant struct {
	ID, Title         string
	SelectedOptions   []struct{ Name, Value string }
	Price             *money
	CompareAtPrice    *money
	AvailableQuantity int
	AvailableForSale  bool
}

// Buyable says the variant can be picked: in stock and priced in the
// page's currency.
func (v *productVariant) Buyable() bool { return v.AvailableForSale && v.Price != nil }

// PriceText is the variant's price, empty without one in the currency.
func (v *productVariant) PriceText() string {
	if v.Price == nil {
		return ""
	}
	return formatMoney(*v.Price)
}

// WasText is the struck-through price, if any.
func (v *productVariant) WasText() string {
	if v.CompareAtPrice == nil {
		return ""
	}
	return formatMoney(*v.CompareAtPrice)
}

// productView is the product page's data.
type productView struct {
	*chrome
	Product *struct {
		Handle, Title, Description, Vendor, ProductType string
		Options                                         []struct {
			Name   string
			Values []string
		}
		Variants    []*productVariant
		PriceRange  *struct{ Min, Max money }
		Collections []link
	}
	// Selected is the variant checked at first: ?variant= when it can be
	// bought, else the first that can.
	Selected string
	// Image is the product image's path.
	Image string
	// MaxQuantity bounds the quantity field: the selected variant's stock.
	MaxQuantity int
}

// Price is the product's price (the lowest when variants differ).
func (v *productView) Price() string {
	if v.Product.PriceRange == nil {
		return ""
	}
	return formatMoney(v.Product.PriceRange.Min)
}

// Varies says the variants' prices differ.
func (v *productView) Varies() bool {
	pr := v.Product.PriceRange
	return pr != nil && pr.Min.Amount != pr.Max.Amount
}

// SoldOut says no variant can be bought.
func (v *productView) SoldOut() bool { return v.Selected == "" }

// product serves GET /products/{handle}.
func (h *Handler) product(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	c := h.chrome(w, r, p)
	if c == nil {
		return
	}
	handle := r.PathValue("handle")
	if !validHandle(handle) {
		h.message(w, r, p, c, http.StatusNotFound, "error.productNotFound.title", "error.productNotFound.text")
		return
	}
	raw, errs := h.queryRaw(r, "StorefrontProduct", productQuery, map[string]any{"handle": handle, "currency": c.Currency})
	if errs != nil {
		h.catalogError(w, r, p, c, errs)
		return
	}
	// Everything the page shows comes from these inputs (memo.go): the
	// variant picked by ?variant= is in the URL, the form token is
	// swapped in per request.
	key := h.pageKey("product", r, p, c).add(raw).sum()
	if h.replay(h.cacheable(w, r), r, http.StatusOK, p, key) {
		return
	}
	v := &productView{chrome: c}
	var data struct{ Product json.RawMessage }
	if errs := decodeAnswer("StorefrontProduct", raw, &data); errs != nil {
		h.catalogError(w, r, p, c, errs)
		return
	}
	if len(data.Product) == 0 || string(data.Product) == "null" {
		h.message(w, r, p, c, http.StatusNotFound, "error.productNotFound.title", "error.productNotFound.text")
		return
	}
	if err := json.Unmarshal(data.Product, &v.Product); err != nil {
		h.catalogError(w, r, p, c, []*graphql.Error{{Message: "decode product: " + err.Error()}})
		return
	}
	want := r.URL.Query().Get("variant")
	for _, pv := range v.Product.Variants {
		if pv.Buyable() && (v.Selected == "" || pv.ID == want) {
			v.Selected, v.MaxQuantity = pv.ID, pv.AvailableQuantity
		}
	}
	path := "/products/" + url.PathEscape(v.Product.Handle)
	v.Image = productImagePath(v.Product.Handle)
	p.Title = v.Product.Title + " – " + c.ShopName
	c.Description = summary(v.Product.Description, v.Product.Title)
	c.Canonical = h.absolute(r, path)
	c.OGType = "product"
	c.OGImage = h.absolute(r, v.Image)
	p.Data = v
	h.renderMemo(h.cacheable(w, r), r, http.StatusOK, "product", p, key)
}

// validHandle admits what a handle can be: short, lowercase letters,
// digits and dashes (and any letter, for handles in other scripts).
func validHandle(s string) bool {
	if s == "" || len(s) > maxHandleLen || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return isControl(r) || r == '/' || r == ' ' || r == '<' || r == '>' })
}

// summary is a meta description: the text's first 160 characters, on one
// line; fallback when the text is empty.
func summary(text, fallback string) string {
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return fallback
	}
	if utf8.RuneCountInString(text) <= 160 {
		return text
	}
	rs := []rune(text)[:157]
	return strings.TrimSpace(string(rs)) + "…"
}

// grid is a product grid partial's data: the products and the page, for
// its messages.
type grid struct {
	Page     *page
	Products []*productCard
}

// Grid hands products to the "product-grid" partial.
func (p *page) Grid(products []*productCard) grid { return grid{Page: p, Products: products} }

// listPart is the data of a list page's partials (sort form,
// pagination): the list and the page, for its messages.
type listPart struct {
	Page *page
	*listView
}

// List hands a list page's data to its partials.
func (p *page) List(v *listView) listPart { return listPart{Page: p, listView: v} }
