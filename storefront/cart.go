package storefront

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/graphql"
)

// The cart's operations. A guest's cart is reached by the token in the
// kassa_cart cookie, a signed-in buyer's by their session (no token):
// GraphQL answers another buyer's token, or a token that reaches
// nothing, with no cart, so a cookie opens one cart and never more.
const (
	cartFields = `id currencyCode totalQuantity email completedAt
    lines { id variantId productId productHandle productTitle variantTitle sku quantity availableQuantity problem
      unitPrice { amount currencyCode } subtotal { amount currencyCode } }
    shippingAddress { firstName lastName company line1 line2 city province postalCode countryCode phone }
    shippingMethods { methodId name price { amount currencyCode } }
    shippingMethodId
    subtotal { amount currencyCode } shipping { amount currencyCode } tax { amount currencyCode }
    taxIncluded discountTotal { amount currencyCode } total { amount currencyCode }`
	cartQuery    = `query StorefrontCart($token: String) { cart(token: $token) { ` + cartFields + ` } }`
	cartCreateOp = `mutation StorefrontCartCreate($input: CartCreateInput!) { cartCreate(input: $input) { token cart { id } userErrors { field code message } } }`
	cartAddOp    = `mutation StorefrontCartLinesAdd($input: CartLinesAddInput!) { cartLinesAdd(input: $input) { cart { id } userErrors { field code message } } }`
	cartUpdateOp = `mutation StorefrontCartLinesUpdate($input: CartLinesUpdateInput!) { cartLinesUpdate(input: $input) { cart { id } userErrors { field code message } } }`
	cartRemoveOp = `mutation StorefrontCartLinesRemove($input: CartLinesRemoveInput!) { cartLinesRemove(input: $input) { cart { id } userErrors { field code message } } }`
)

// cartCookie holds a guest cart's access token.
const cartCookie = "kassa_cart"

// maxQuantity bounds a quantity typed into a form before GraphQL sees
// it: the shop's line limit is lower (QUANTITY_OVER_LIMIT says so), this
// only keeps absurd numbers from being parsed at all.
const maxQuantity = 9999

// cart is a Cart as the storefront reads it.
type cart struct {
	ID              string
	CurrencyCode    string
	TotalQuantity   int
	Email           *string
	CompletedAt     *string
	Lines           []*cartLine
	ShippingAddress *address
	ShippingMethods []struct {
		MethodID string
		Name     string
		Price    money
	}
	ShippingMethodID *string
	Subtotal         money
	Shipping         money
	Tax              money
	TaxIncluded      bool
	DiscountTotal    money
	Total            money
}

// cartLine is one line of the cart.
type cartLine struct {
	ID                string
	VariantID         string
	ProductID         string
	ProductTitle      string
	VariantTitle      string
	SKU               string
	Quantity          int
	AvailableQuantity int
	Problem           *string
	UnitPrice         money
	Subtotal          money
	// Handle is the product's, for the link to its page; empty when the
	// variant is no longer for sale.
	Handle string `json:"productHandle"`
}

// Initial is the first letter of the product, the line's picture.
func (l *cartLine) Initial() string {
	r, _ := utf8.DecodeRuneInString(l.ProductTitle)
	if r == utf8.RuneError {
		return "?"
	}
	return strings.ToUpper(string(r))
}

// Image is the product's picture (the artwork of productImagePattern);
// empty when the product is no longer for sale.
func (l *cartLine) Image() string {
	if l.Handle == "" {
		return ""
	}
	return productImagePath(l.Handle)
}

// address is GraphQL's Address.
type address struct {
	FirstName, LastName, Company, Line1, Line2, City, Province, PostalCode, CountryCode, Phone string
}

// userError is GraphQL's UserError.
type userError struct {
	Field   []string
	Code    string
	Message string
}

// cartView is cart.html's data.
type cartView struct {
	Cart *cart
	// Errors are the problems of the last post, translated.
	Errors []string
	// Refused, when set, is why a form was not accepted (the whole page).
	Refused string
}

// buyer is who the cart pages act for: a guest's cart token from the
// cookie ("" for none), or a signed-in buyer.
type buyer struct {
	token    string
	signedIn bool
}

func (h *Handler) buyerOf(r *http.Request) buyer {
	b := buyer{signedIn: signedIn(r.Context())}
	if c, err := r.Cookie(cartCookie); err == nil && validToken(c.Value) {
		b.token = c.Value
	}
	return b
}

// validToken admits what a cart or order token may be: short, printable.
func validToken(s string) bool {
	return s != "" && len(s) <= maxTokenLen && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r > 0x7e })
}

// has reports whether the buyer may have a cart at all.
func (b buyer) has() bool { return b.signedIn || b.token != "" }

// vars adds the buyer's token to an input; a signed-in buyer's cart is
// found by the session, but a guest token they still hold names the same
// cart only when it is theirs, so it is left out for them.
func (b buyer) input(in map[string]any) map[string]any {
	if !b.signedIn && b.token != "" {
		in["token"] = b.token
	}
	return in
}

// exec runs one named operation and decodes its data into out. A
// top-level error is logged and returned as false: the page says the
// shop could not do it now.
func (h *Handler) run(r *http.Request, name, query string, vars map[string]any, out any) bool {
	res := h.exec.Exec(r.Context(), graphql.Request{Query: query, OperationName: name, Variables: vars})
	if len(res.Errors) > 0 {
		h.log.WarnContext(r.Context(), "storefront operation failed", "operation", name, "code", res.Errors[0].Extensions["code"], "error", res.Errors[0].Message)
		return false
	}
	if err := json.Unmarshal(res.Data, out); err != nil {
		h.log.ErrorContext(r.Context(), "decode storefront operation", "operation", name, "error", err)
		return false
	}
	return true
}

// loadCart reads the buyer's cart; nil when there is none (or it was
// completed). ok is false when GraphQL failed.
func (h *Handler) loadCart(r *http.Request, b buyer) (c *cart, ok bool) {
	if !b.has() {
		return nil, true
	}
	vars := map[string]any{"token": nil}
	if !b.signedIn {
		vars["token"] = b.token
	}
	var data struct{ Cart *cart }
	if !h.run(r, "StorefrontCart", cartQuery, vars, &data) {
		return nil, false
	}
	if data.Cart == nil || data.Cart.CompletedAt != nil {
		return nil, true
	}
	return data.Cart, true
}

// setCartCookie keeps a guest cart's token; an empty token clears it.
func (h *Handler) setCartCookie(w http.ResponseWriter, r *http.Request, token string) {
	ck := &http.Cookie{Name: cartCookie, Value: token, Path: "/", MaxAge: 30 * 24 * 3600, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.forms.secureFor(r)}
	if token == "" {
		ck.MaxAge = -1
	}
	http.SetCookie(w, ck)
}

// cartPage serves GET /cart: the lines, their quantities and the
// subtotal, or the empty cart; errors of the last post come in the flash
// query (?e=CODE,CODE), as codes only, translated here.
func (h *Handler) cartPage(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	w.Header().Set("Cache-Control", "no-store")
	b := h.buyerOf(r)
	c, ok := h.loadCart(r, b)
	if !ok {
		h.unavailable(w, r, p)
		return
	}
	if c == nil && b.token != "" {
		h.setCartCookie(w, r, "") // completed or gone: forget it
	}
	p.Title = p.T("cart.title")
	p.Data = &cartView{Cart: c, Errors: flashErrors(p, r.URL.Query().Get("e"))}
	h.render(w, r, http.StatusOK, "cart", p)
}

// cartAdd serves POST /cart/add (variant, quantity): the first add
// creates the cart.
func (h *Handler) cartAdd(w http.ResponseWriter, r *http.Request) {
	variant := r.PostForm.Get("variant")
	qty, code := parseQuantity(r.PostForm.Get("quantity"), 1)
	if code == "" && !validID(variant) {
		code = "VARIANT_NOT_FOUND"
	}
	if code != "" {
		h.backToCart(w, r, []userError{{Code: code}})
		return
	}
	lines := []any{map[string]any{"variantId": variant, "quantity": qty}}
	b := h.buyerOf(r)
	var errs []userError
	if c, ok := h.loadCart(r, b); !ok {
		errs = []userError{{Code: "UNAVAILABLE"}}
	} else if c == nil {
		var data struct {
			CartCreate struct {
				Token      *string
				UserErrors []userError
			}
		}
		if !h.run(r, "StorefrontCartCreate", cartCreateOp, map[string]any{"input": map[string]any{"lines": lines}}, &data) {
			errs = []userError{{Code: "UNAVAILABLE"}}
		} else if errs = data.CartCreate.UserErrors; len(errs) == 0 && data.CartCreate.Token != nil {
			h.setCartCookie(w, r, *data.CartCreate.Token)
		}
	} else {
		var data struct {
			CartLinesAdd struct{ UserErrors []userError }
		}
		if !h.run(r, "StorefrontCartLinesAdd", cartAddOp, map[string]any{"input": b.input(map[string]any{"lines": lines})}, &data) {
			errs = []userError{{Code: "UNAVAILABLE"}}
		} else {
			errs = data.CartLinesAdd.UserErrors
		}
	}
	h.backToCart(w, r, errs)
}

// cartUpdate serves POST /cart/update (line, quantity); 0 removes.
func (h *Handler) cartUpdate(w http.ResponseWriter, r *http.Request) {
	line := r.PostForm.Get("line")
	qty, code := parseQuantity(r.PostForm.Get("quantity"), 0)
	if code == "" && !validID(line) {
		code = "LINE_NOT_FOUND"
	}
	if code != "" {
		h.backToCart(w, r, []userError{{Code: code}})
		return
	}
	var data struct {
		CartLinesUpdate struct{ UserErrors []userError }
	}
	in := h.buyerOf(r).input(map[string]any{"lines": []any{map[string]any{"lineId": line, "quantity": qty}}})
	if !h.run(r, "StorefrontCartLinesUpdate", cartUpdateOp, map[string]any{"input": in}, &data) {
		h.backToCart(w, r, []userError{{Code: "UNAVAILABLE"}})
		return
	}
	h.backToCart(w, r, data.CartLinesUpdate.UserErrors)
}

// cartRemove serves POST /cart/remove (line).
func (h *Handler) cartRemove(w http.ResponseWriter, r *http.Request) {
	line := r.PostForm.Get("line")
	if !validID(line) {
		h.backToCart(w, r, []userError{{Code: "LINE_NOT_FOUND"}})
		return
	}
	var data struct {
		CartLinesRemove struct{ UserErrors []userError }
	}
	in := h.buyerOf(r).input(map[string]any{"lineIds": []any{line}})
	if !h.run(r, "StorefrontCartLinesRemove", cartRemoveOp, map[string]any{"input": in}, &data) {
		h.backToCart(w, r, []userError{{Code: "UNAVAILABLE"}})
		return
	}
	h.backToCart(w, r, data.CartLinesRemove.UserErrors)
}

// backToCart answers a cart post with 303 to /cart (post/redirect/get),
// carrying the codes of its errors, never their text.
func (h *Handler) backToCart(w http.ResponseWriter, r *http.Request, errs []userError) {
	target := "/cart"
	if len(errs) > 0 {
		codes := make([]string, 0, len(errs))
		for _, e := range errs {
			codes = append(codes, e.Code)
		}
		target += "?e=" + url.QueryEscape(strings.Join(codes, ","))
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// flashErrors translates the codes of ?e=; unknown or malformed codes
// read as the generic message, never as the text sent.
func flashErrors(p *page, raw string) []string {
	if raw == "" || len(raw) > 200 {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, code := range strings.Split(raw, ",") {
		msg := errorText(p, code)
		if !seen[msg] {
			seen[msg] = true
			out = append(out, msg)
		}
	}
	return out
}

// errorText is a userError code in the page's language.
func errorText(p *page, code string) string {
	valid := code != "" && len(code) <= 40 && !strings.ContainsFunc(code, func(r rune) bool { return (r < 'A' || r > 'Z') && r != '_' })
	if valid {
		if s := p.msgs.message(p.Lang, "cartError."+code); s != "cartError."+code {
			return s
		}
	}
	return p.T("cartError.GENERIC")
}

// parseQuantity reads a quantity field: digits only, at least min, at
// most maxQuantity; an empty field is 1 (the product page's default).
func parseQuantity(s string, min int) (int, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = "1"
	}
	if len(s) > 6 || strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, "INVALID_QUANTITY"
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 0, "INVALID_QUANTITY"
	case n > maxQuantity:
		return 0, "QUANTITY_OVER_LIMIT"
	case n < min:
		return 0, "INVALID_QUANTITY"
	}
	return n, ""
}

// validID admits a prefixed id (var_…, cln_…): short, letters, digits
// and underscores.
func validID(s string) bool {
	return s != "" && len(s) <= 64 && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r == '_' || r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	})
}
