package storefront

import (
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// The checkout's operations. The page works without JavaScript as a
// sequence of posts: the contact and address form (one operation, the
// email with the address: a problem with either sets neither), then the
// shipping method, then placing the order, then the payment method; each
// post re-renders the page (errors next to their fields) or redirects
// back to it with the next part enabled.
const (
	addressOp  = `mutation StorefrontCartShippingAddressUpdate($input: CartAddressUpdateInput!) { cartShippingAddressUpdate(input: $input) { cart { id } userErrors { field code message } } }`
	methodOp   = `mutation StorefrontCartShippingMethodSelect($input: CartShippingMethodSelectInput!) { cartShippingMethodSelect(input: $input) { cart { id } userErrors { field code message } } }`
	completeOp = `mutation StorefrontCheckoutComplete($input: CheckoutCompleteInput!) { checkoutComplete(input: $input) { order { id } accessToken userErrors { field code message } } }`
	payOp      = `mutation StorefrontPaymentCreate($input: PaymentCreateInput!) { paymentCreate(input: $input) {
    payment { id state buyerMessage action { type url } } userErrors { field code message } } }`
	checkoutOrderFields = `id number status paymentStatus total { amount currencyCode }
    payments { id gatewayId method state buyerMessage action { type url qrCode instructions } }`
	checkoutOrderByToken = `query StorefrontCheckoutOrderByToken($token: String!) { order: orderByToken(token: $token) { ` + checkoutOrderFields + ` } }`
	checkoutOrderByID    = `query StorefrontCheckoutOrder($id: ID!) { order(id: $id) { ` + checkoutOrderFields + ` } }`
	paymentMethodsOp     = `query StorefrontPaymentMethods($id: ID!, $token: String, $lang: String) {
    availablePaymentMethods(orderId: $id, token: $token) { gatewayId method name(language: $lang) description(language: $lang) actions } }`
)

// orderCookie holds the order placed at checkout and awaiting payment:
// its id and, for a guest, its access token ("ord_…~token").
const orderCookie = "kassa_order"

// countries are the ones the address form offers, by ISO 3166-1 code;
// the shop's shipping zones decide which are served (INVALID_COUNTRY or
// no shipping method otherwise). Names come from the catalogs.
var countries = []string{"CN", "HK", "TW", "SG", "JP", "KR", "US", "CA", "GB", "DE", "FR", "NL", "IT", "ES", "AU"}

// addressFields are the form's address fields, GraphQL's
// CustomerAddressInput names, in the form's order.
var addressFields = []string{"firstName", "lastName", "company", "line1", "line2", "city", "province", "postalCode", "countryCode", "phone"}

// maxFieldLen is CustomerAddressInput's limit, in characters.
const maxFieldLen = 200

// placedOrder is the order of the checkout's payment step.
type placedOrder struct {
	ID            string
	Number        string
	Status        string
	PaymentStatus string
	Total         money
	Payments      []*struct {
		ID           string
		GatewayID    string
		Method       *string
		State        string
		BuyerMessage *string
		Action       *struct {
			Type         string
			URL          *string
			QRCode       *string
			Instructions *string
		}
	}
}

// paymentMethod is one way to pay the order, as availablePaymentMethods
// gives it: a routed method (Method set: the shop's routes pick the
// gateway and fail over) or a gateway no route names.
type paymentMethod struct {
	GatewayID string
	Method    *string
	Name      string
	// Description is the gateway plugin's own description in the page's
	// language (its default one when it has none in that language);
	// empty when the plugin gives none.
	Description string
	Actions     []string
}

// paymentChoice is one option of the payment form.
type paymentChoice struct {
	// Value is what the form posts as pay: the routed method (card) or
	// the gateway's plugin id (payment.testpay); a plugin id always has
	// a dot and a method never does.
	Value string
	// Name and Description are in the page's language: a routed method's
	// from the storefront's catalogs (payMethod.<method>.*) when they
	// know it (the shop's word for "card" stays put whichever gateway
	// the routes pick first), else the gateway's name and description as
	// its plugin gives them in that language, else what paying this way
	// asks of the buyer.
	Name, Description string
}

// choice turns a method of the API into the form's option.
func (m paymentMethod) choice(p *page) paymentChoice {
	c := paymentChoice{Value: m.GatewayID, Name: m.Name}
	if m.Method != nil && *m.Method != "" {
		c.Value = *m.Method
		if s, ok := p.msgs.lookup(p.Lang, "payMethod."+*m.Method+".name"); ok {
			c.Name = s
		}
		if s, ok := p.msgs.lookup(p.Lang, "payMethod."+*m.Method+".description"); ok {
			c.Description = s
		}
	}
	if c.Description == "" {
		c.Description = strings.TrimSpace(m.Description)
	}
	if c.Description == "" {
		for _, a := range []string{"REDIRECT", "QR_CODE", "INSTRUCTIONS"} {
			if contains(m.Actions, a) {
				c.Description = p.T("checkout.action." + a)
				break
			}
		}
	}
	return c
}

// payChoices are the pay-choices template's: the payment form's methods,
// and whether the first is checked.
type payChoices struct {
	Methods    []paymentChoice
	CheckFirst bool
}

// Patterns of the payment form's choice, as the API accepts them: a
// routed method, or a gateway plugin's id.
var (
	payMethodPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	payGatewayPattern = regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z0-9][a-z0-9_-]{0,62}$`)
)

// checkoutView is checkout.html's data.
type checkoutView struct {
	Cart *cart
	// Form holds the values shown in the contact and address form.
	Form map[string]string
	// FieldErrors are the problems next to their fields, translated.
	FieldErrors map[string]string
	// Errors are problems of the page as a whole, translated.
	Errors    []string
	Countries []langChoice
	// CanShip says the shipping step is open; CanPlace the order step.
	CanShip, CanPlace bool
	// Key is the idempotency key of the next post that places the order
	// or starts a payment.
	Key string
	// Order is the placed order of the payment step, with its methods.
	Order   *placedOrder
	Methods []paymentChoice
	// Pending is the latest attempt's action the buyer still has to
	// follow (a QR code, bank transfer instructions); Declined its
	// gateway's message after a decline.
	Pending  *pendingAction
	Declined string
	// StatusURL is the order's status page.
	StatusURL string
	Total     string
}

// pendingAction is what the buyer does to finish a started payment.
type pendingAction struct {
	Type         string
	URL          string
	QR           template.HTML // an SVG of the QR code (qr.go)
	QRContent    string
	Instructions string
}

// Money formats an amount for the templates.
func (checkoutView) Money(m money) string { return formatMoney(m) }

// Money formats an amount for the templates.
func (cartView) Money(m money) string { return formatMoney(m) }

// newKey draws an idempotency key.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// orderRef is the order kept in the order cookie.
type orderRef struct{ id, token string }

func readOrderCookie(r *http.Request) (orderRef, bool) {
	c, err := r.Cookie(orderCookie)
	if err != nil {
		return orderRef{}, false
	}
	id, token, _ := strings.Cut(c.Value, "~")
	if !validID(id) || (token != "" && !validToken(token)) {
		return orderRef{}, false
	}
	return orderRef{id: id, token: token}, true
}

func (h *Handler) setOrderCookie(w http.ResponseWriter, r *http.Request, o *orderRef) {
	ck := &http.Cookie{Name: orderCookie, Path: "/", MaxAge: 24 * 3600, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.forms.secureFor(r)}
	if o == nil {
		ck.MaxAge = -1
	} else {
		ck.Value = o.id + "~" + o.token
	}
	http.SetCookie(w, ck)
}

// statusURL is the order's status page, absolute, with a guest's token:
// the return URL gateways send the buyer back to.
func (h *Handler) statusURL(r *http.Request, o orderRef) string {
	base := h.baseURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	u := base + OrderStatusPath(o.id)
	if o.token != "" {
		u += "?token=" + url.QueryEscape(o.token)
	}
	return u
}

// payable reports whether the order still takes a payment.
func (o *placedOrder) payable() bool {
	return o.Status == "OPEN" && (o.PaymentStatus == "PENDING" || o.PaymentStatus == "FAILED")
}

// loadOrder reads the order of the cookie; nil when it opens none.
func (h *Handler) loadOrder(r *http.Request, ref orderRef) (*placedOrder, bool) {
	var data struct{ Order *placedOrder }
	var ok bool
	if ref.token != "" {
		ok = h.run(r, "StorefrontCheckoutOrderByToken", checkoutOrderByToken, map[string]any{"token": ref.token}, &data)
	} else {
		ok = h.run(r, "StorefrontCheckoutOrder", checkoutOrderByID, map[string]any{"id": ref.id}, &data)
	}
	if !ok {
		return nil, false
	}
	if data.Order == nil || data.Order.ID != ref.id {
		return nil, true
	}
	return data.Order, true
}

// checkoutPage serves GET /checkout.
func (h *Handler) checkoutPage(w http.ResponseWriter, r *http.Request) {
	h.showCheckout(w, r, http.StatusOK, nil, nil, nil)
}

// showCheckout renders the checkout as it stands: the payment step when
// an order awaits payment, else the cart's steps. form, when set, holds
// what the buyer typed (a refused post shows it back).
func (h *Handler) showCheckout(w http.ResponseWriter, r *http.Request, status int, form map[string]string, fieldErrs map[string]string, errs []string) {
	p := h.pageFor(w, r)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	p.Title = p.T("checkout.title")
	v := &checkoutView{Form: form, FieldErrors: fieldErrs, Errors: errs, Key: newKey()}
	if ref, ok := readOrderCookie(r); ok {
		o, ok := h.loadOrder(r, ref)
		if !ok {
			h.unavailable(w, r, p)
			return
		}
		if o != nil && o.payable() {
			if !h.paymentStep(r, p, v, ref, o) {
				h.unavailable(w, r, p)
				return
			}
			p.Data = v
			h.render(w, r, status, "checkout", p)
			return
		}
		// Paid, cancelled or gone: the checkout starts over.
		h.setOrderCookie(w, r, nil)
	}
	b := h.buyerOf(r)
	c, ok := h.loadCart(r, b)
	if !ok {
		h.unavailable(w, r, p)
		return
	}
	if c == nil || len(c.Lines) == 0 {
		http.Redirect(w, r, "/cart", http.StatusSeeOther)
		return
	}
	v.Cart = c
	if v.Form == nil {
		v.Form = map[string]string{"countryCode": "CN"}
		if c.Email != nil {
			v.Form["email"] = *c.Email
		}
		if a := c.ShippingAddress; a != nil {
			for k, s := range map[string]string{"firstName": a.FirstName, "lastName": a.LastName, "company": a.Company,
				"line1": a.Line1, "line2": a.Line2, "city": a.City, "province": a.Province, "postalCode": a.PostalCode,
				"countryCode": a.CountryCode, "phone": a.Phone} {
				v.Form[k] = s
			}
		}
	}
	v.CanShip = c.ShippingAddress != nil && c.Email != nil
	v.CanPlace = v.CanShip && c.ShippingMethodID != nil
	for _, code := range countries {
		v.Countries = append(v.Countries, langChoice{Code: code, Name: p.T("country." + code)})
	}
	v.Total = formatMoney(c.Total)
	p.Data = v
	h.render(w, r, status, "checkout", p)
}

// paymentStep fills the view of an order awaiting payment: its methods,
// the action of a started payment, the message of a decline.
func (h *Handler) paymentStep(r *http.Request, p *page, v *checkoutView, ref orderRef, o *placedOrder) bool {
	var ok bool
	if v.Methods, ok = h.paymentChoices(r, p, ref); !ok {
		return false
	}
	v.Order = o
	v.StatusURL = h.statusURL(r, ref)
	v.Total = formatMoney(o.Total)
	if n := len(o.Payments); n > 0 {
		last := o.Payments[n-1]
		switch {
		case last.State == "FAILED":
			v.Declined = p.T("checkout.declined")
			if last.BuyerMessage != nil && *last.BuyerMessage != "" {
				v.Declined = *last.BuyerMessage
			}
		case last.State == "PENDING" && last.Action != nil:
			a := &pendingAction{Type: last.Action.Type, URL: deref(last.Action.URL), Instructions: deref(last.Action.Instructions)}
			if a.Type == "QR_CODE" && last.Action.QRCode != nil {
				a.QRContent = *last.Action.QRCode
				a.QR = qrSVG(a.QRContent)
			}
			if a.Type == "QR_CODE" || a.Type == "INSTRUCTIONS" || a.Type == "REDIRECT" {
				v.Pending = a
				// "Or pay another way" offers the other ways, not the
				// one under way.
				v.Methods = slices.DeleteFunc(v.Methods, func(c paymentChoice) bool {
					return c.Value == last.GatewayID || last.Method != nil && c.Value == *last.Method
				})
			}
		}
	}
	return true
}

// paymentChoices are the ways to pay ref's order, as the payment form
// offers them in the page's language; ok is false when GraphQL failed.
func (h *Handler) paymentChoices(r *http.Request, p *page, ref orderRef) (choices []paymentChoice, ok bool) {
	var data struct{ AvailablePaymentMethods []paymentMethod }
	if !h.run(r, "StorefrontPaymentMethods", paymentMethodsOp, map[string]any{"id": ref.id, "token": nullable(ref.token), "lang": p.Lang}, &data) {
		return nil, false
	}
	for _, m := range data.AvailablePaymentMethods {
		choices = append(choices, m.choice(p))
	}
	return choices, true
}

// gatewayPage is the gateway's page to send the buyer to, when the
// payment waits for them there (REDIRECT); else "".
func (p *statusPayment) gatewayPage() string {
	if p.State != "PENDING" || p.Action == nil || p.Action.Type != "REDIRECT" {
		return ""
	}
	return httpLink(deref(p.Action.URL))
}

// startPayment starts a payment of ref's order with paymentCreate: pay
// is a routed method or a gateway (the form's choice), key the form's
// idempotency key, and the gateway sends the buyer back to the order's
// status page. It returns the payment, or the API's refusal; ok is false
// when GraphQL failed.
func (h *Handler) startPayment(r *http.Request, p *page, ref orderRef, pay, key string) (started *statusPayment, refused []userError, ok bool) {
	in := map[string]any{"orderId": ref.id, "returnUrl": h.statusURL(r, ref), "locale": p.Lang, "idempotencyKey": key}
	if payMethodPattern.MatchString(pay) {
		in["method"] = pay
	} else {
		in["gatewayId"] = pay
	}
	if ref.token != "" {
		in["token"] = ref.token
	}
	var data struct {
		PaymentCreate struct {
			Payment    *statusPayment
			UserErrors []userError
		}
	}
	if !h.run(r, "StorefrontPaymentCreate", payOp, map[string]any{"input": in}, &data) {
		return nil, nil, false
	}
	res := data.PaymentCreate
	if len(res.UserErrors) > 0 || res.Payment == nil {
		return nil, res.UserErrors, true
	}
	return res.Payment, nil, true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// checkoutStep serves POST /checkout: step=contact (email and address)
// or step=shipping (the method).
func (h *Handler) checkoutStep(w http.ResponseWriter, r *http.Request) {
	b := h.buyerOf(r)
	switch r.PostForm.Get("step") {
	case "contact":
		form, fieldErrs := readContact(r)
		p := h.pageFor(w, r)
		if len(fieldErrs) > 0 {
			h.showCheckout(w, r, http.StatusUnprocessableEntity, form, translate(p, fieldErrs), nil)
			return
		}
		if !b.has() {
			http.Redirect(w, r, "/cart", http.StatusSeeOther)
			return
		}
		addr := map[string]any{}
		for _, f := range addressFields {
			if form[f] != "" {
				addr[f] = form[f]
			}
		}
		var a struct {
			CartShippingAddressUpdate struct{ UserErrors []userError }
		}
		in := b.input(map[string]any{"email": form["email"], "address": addr})
		if !h.run(r, "StorefrontCartShippingAddressUpdate", addressOp, map[string]any{"input": in}, &a) {
			h.showCheckout(w, r, http.StatusServiceUnavailable, form, nil, []string{p.T("cartError.UNAVAILABLE")})
			return
		}
		if errs := a.CartShippingAddressUpdate.UserErrors; len(errs) > 0 {
			fieldErrs, general := placeErrors(p, errs, "email")
			h.showCheckout(w, r, http.StatusUnprocessableEntity, form, fieldErrs, general)
			return
		}
		http.Redirect(w, r, "/checkout#shipping", http.StatusSeeOther)
	case "shipping":
		p := h.pageFor(w, r)
		method := r.PostForm.Get("method")
		if !validID(method) {
			h.showCheckout(w, r, http.StatusUnprocessableEntity, nil, nil, []string{p.T("cartError.SHIPPING_METHOD_REQUIRED")})
			return
		}
		var m struct {
			CartShippingMethodSelect struct{ UserErrors []userError }
		}
		if !h.run(r, "StorefrontCartShippingMethodSelect", methodOp, map[string]any{"input": b.input(map[string]any{"methodId": method})}, &m) {
			h.showCheckout(w, r, http.StatusServiceUnavailable, nil, nil, []string{p.T("cartError.UNAVAILABLE")})
			return
		}
		if errs := m.CartShippingMethodSelect.UserErrors; len(errs) > 0 {
			h.showCheckout(w, r, http.StatusUnprocessableEntity, nil, nil, codesText(p, errs))
			return
		}
		http.Redirect(w, r, "/checkout#place", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/checkout", http.StatusSeeOther)
	}
}

// readContact reads and checks the contact and address form: every
// field at most maxFieldLen characters of printable text, the required
// ones present, a plausible email, a country of the list.
func readContact(r *http.Request) (map[string]string, map[string]string) {
	form := map[string]string{}
	errs := map[string]string{}
	for _, f := range append([]string{"email"}, addressFields...) {
		s := strings.TrimSpace(r.PostForm.Get(f))
		switch {
		case !utf8.ValidString(s) || strings.ContainsFunc(s, isControl):
			errs[f] = "INVALID_CHARACTERS"
			s = ""
		case utf8.RuneCountInString(s) > maxFieldLen:
			errs[f] = "TOO_LONG"
			s = string([]rune(s)[:maxFieldLen])
		}
		form[f] = s
	}
	for _, f := range []string{"email", "line1", "city", "countryCode"} {
		if form[f] == "" && errs[f] == "" {
			errs[f] = "REQUIRED"
		}
	}
	// Someone to deliver to, as the API asks: a name or a company. Its
	// message says so: "required" under the last name sent a buyer who
	// has only one name, or ships to a company, the wrong way.
	if form["firstName"] == "" && form["lastName"] == "" && form["company"] == "" && errs["lastName"] == "" {
		errs["lastName"] = "NAME_REQUIRED"
	}
	if e := form["email"]; e != "" && errs["email"] == "" {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			errs["email"] = "INVALID_EMAIL"
		}
	}
	if c := form["countryCode"]; c != "" && errs["countryCode"] == "" && !contains(countries, c) {
		errs["countryCode"] = "INVALID_COUNTRY"
	}
	return form, errs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// translate turns field codes into texts of the page's language.
func translate(p *page, codes map[string]string) map[string]string {
	out := make(map[string]string, len(codes))
	for f, c := range codes {
		out[f] = errorText(p, c)
	}
	return out
}

// placeErrors puts userErrors next to the field their path names (the
// last segment: ["input","address","city"] is city); others are the
// page's.
func placeErrors(p *page, errs []userError, fallback string) (map[string]string, []string) {
	fields := map[string]string{}
	var general []string
	for _, e := range errs {
		f := ""
		if n := len(e.Field); n > 0 {
			f = e.Field[n-1]
		}
		if f == "email" || contains(addressFields, f) {
			fields[f] = errorText(p, e.Code)
			continue
		}
		if e.Code == "INVALID_EMAIL" {
			fields[fallback] = errorText(p, e.Code)
			continue
		}
		general = append(general, errorText(p, e.Code))
	}
	return fields, general
}

// codesText translates userErrors for the top of the page.
func codesText(p *page, errs []userError) []string {
	var out []string
	for _, e := range errs {
		t := errorText(p, e.Code)
		if !contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// checkoutComplete serves POST /checkout/complete: it places the order
// (checkoutComplete, with the form's idempotency key, so a double submit
// places one order) unless one awaits payment already, then, when a way
// to pay was chosen (pay: a routed method or a gateway), starts the
// payment with paymentCreate and sends the buyer where it
// says: the gateway's page (REDIRECT), the checkout's payment panel (a QR
// code, bank transfer instructions), back to the methods after a decline,
// or the status page.
func (h *Handler) checkoutComplete(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	key := r.PostForm.Get("key")
	if !validID(key) {
		h.showCheckout(w, r, http.StatusUnprocessableEntity, nil, nil, []string{p.T("cartError.GENERIC")})
		return
	}
	// pay is a routed method (the shop's routes choose the gateway and
	// fail over, so the owner's routing applies to the storefront's
	// buyers) or a gateway no route names.
	pay := r.PostForm.Get("pay")
	if pay != "" && !payMethodPattern.MatchString(pay) && !payGatewayPattern.MatchString(pay) {
		h.showCheckout(w, r, http.StatusUnprocessableEntity, nil, nil, []string{p.T("cartError.PAYMENT_METHOD_REQUIRED")})
		return
	}
	ref, placed := readOrderCookie(r)
	if placed {
		o, ok := h.loadOrder(r, ref)
		if !ok {
			h.unavailable(w, r, p)
			return
		}
		placed = o != nil && o.payable()
	}
	if !placed {
		b := h.buyerOf(r)
		if !b.has() {
			http.Redirect(w, r, "/cart", http.StatusSeeOther)
			return
		}
		var data struct {
			CheckoutComplete struct {
				Order       *struct{ ID string }
				AccessToken *string
				UserErrors  []userError
			}
		}
		if !h.run(r, "StorefrontCheckoutComplete", completeOp, map[string]any{"input": b.input(map[string]any{"idempotencyKey": "chk-" + key})}, &data) {
			h.showCheckout(w, r, http.StatusServiceUnavailable, nil, nil, []string{p.T("cartError.UNAVAILABLE")})
			return
		}
		res := data.CheckoutComplete
		if len(res.UserErrors) > 0 || res.Order == nil {
			h.showCheckout(w, r, http.StatusUnprocessableEntity, nil, nil, codesText(p, res.UserErrors))
			return
		}
		ref = orderRef{id: res.Order.ID, token: deref(res.AccessToken)}
		h.setOrderCookie(w, r, &ref)
		if !b.signedIn {
			h.setCartCookie(w, r, "") // the cart is the order's now
		}
	}
	if pay == "" {
		http.Redirect(w, r, "/checkout#payment", http.StatusSeeOther)
		return
	}
	status := h.statusURL(r, ref)
	started, refused, ok := h.startPayment(r, p, ref, pay, "pay-"+key)
	switch {
	case !ok:
		h.showCheckout(w, r, http.StatusServiceUnavailable, nil, nil, []string{p.T("cartError.PAYMENT_UNAVAILABLE")})
		return
	case len(refused) > 0 && refused[0].Code == "ORDER_ALREADY_PAID":
		http.Redirect(w, r, status, http.StatusSeeOther)
		return
	case started == nil:
		h.showCheckout(w, r, http.StatusUnprocessableEntity, nil, nil, codesText(p, refused))
		return
	}
	switch {
	case started.State == "FAILED":
		// The page shows the gateway's message and the methods again.
		http.Redirect(w, r, "/checkout#payment", http.StatusSeeOther)
	case started.gatewayPage() != "":
		http.Redirect(w, r, started.gatewayPage(), http.StatusSeeOther)
	case started.State == "PENDING" && started.Action != nil && (started.Action.Type == "QR_CODE" || started.Action.Type == "INSTRUCTIONS"):
		// The checkout's payment panel shows the QR code or the
		// instructions beside the other methods, so the buyer can still
		// switch, and links to the status page, which shows them too
		// and follows the payment live.
		http.Redirect(w, r, "/checkout#payment", http.StatusSeeOther)
	default:
		http.Redirect(w, r, status, http.StatusSeeOther)
	}
}

// httpLink admits only an http(s) URL from a gateway.
func httpLink(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return s
}

// formField is one input of the contact form, for the "field" template.
type formField struct {
	Name, Label, Value, Error, Autocomplete, Type string
	// Hint, when set, is shown under the field and read with it (the
	// rules of a new password).
	Hint     string
	Required bool
	// Suggestions, when set, are the input's datalist (address.go).
	Suggestions *fieldSuggestions
}

// DescribedBy is the ids of the field's error and hint, for its
// aria-describedby: a screen reader reads them with the field.
func (f formField) DescribedBy() string {
	var ids []string
	if f.Error != "" {
		ids = append(ids, "e-"+f.Name)
	}
	if f.Hint != "" {
		ids = append(ids, "h-"+f.Name)
	}
	return strings.Join(ids, " ")
}

// fieldProblems sums up a form's invalid fields, for the "field-errors"
// template: their labels and messages, in the form's order.
type fieldProblems struct {
	Title    string
	Problems []fieldProblem
}

// fieldProblem is one invalid field: its name and "label: message".
type fieldProblem struct{ Name, Text string }

// chineseAddressOrder is the order of a Chinese address form's fields,
// from the country down to the street.
var chineseAddressOrder = []string{"countryCode", "province", "city", "postalCode", "line1", "line2"}

// nameField is a name input of an address or account form.
type nameField struct{ Name, Autocomplete string }

// nameFields are the name inputs in the order the page's language
// writes a name: a Chinese name is family name first (王芳), so its
// form asks for 姓 before 名, in the page's order as in focus order.
func nameFields(p *page) []nameField {
	given, family := nameField{"firstName", "given-name"}, nameField{"lastName", "family-name"}
	if strings.HasPrefix(p.Lang, "zh") {
		return []nameField{family, given}
	}
	return []nameField{given, family}
}

func init() {
	// fieldProblems lists the fields of names that errs has a message
	// for; none, nil.
	funcs["fieldProblems"] = func(p *page, errs map[string]string, names ...string) *fieldProblems {
		var s fieldProblems
		// The summary follows the form, whose name inputs come in the
		// language's order.
		names = slices.Clone(names)
		if i, j := slices.Index(names, "firstName"), slices.Index(names, "lastName"); i >= 0 && j >= 0 {
			order := nameFields(p)
			names[min(i, j)], names[max(i, j)] = order[0].Name, order[1].Name
		}
		// A Chinese address form goes from the country down to the
		// street (_address_form.html): its summary too.
		if strings.HasPrefix(p.Lang, "zh") {
			var at []int
			for i, n := range names {
				if slices.Contains(chineseAddressOrder, n) {
					at = append(at, i)
				}
			}
			if len(at) == len(chineseAddressOrder) {
				for k, i := range at {
					names[i] = chineseAddressOrder[k]
				}
			}
		}
		for _, n := range names {
			if e := errs[n]; e != "" {
				s.Problems = append(s.Problems, fieldProblem{Name: n, Text: p.T("form.problem", p.T("field."+n), e)})
			}
		}
		if len(s.Problems) == 0 {
			return nil
		}
		s.Title = p.T("form.problems")
		return &s
	}
	funcs["nameFields"] = nameFields
	funcs["field"] = func(p *page, v *checkoutView, name, autocomplete, typ string, required bool) formField {
		return formField{Name: name, Label: p.T("field." + name), Value: v.Form[name], Error: v.FieldErrors[name],
			Autocomplete: autocomplete, Type: typ, Required: required, Suggestions: provinceSuggestions(p, v.Form, name)}
	}
	funcs["errText"] = func(p *page, code string) string { return errorText(p, code) }
	funcs["payChoices"] = func(ms []paymentChoice, checkFirst bool) payChoices {
		return payChoices{Methods: ms, CheckFirst: checkFirst}
	}
	// httpURL1 admits an http(s) link from a gateway, as httpURL does for
	// a pointer.
	funcs["httpURL1"] = httpLink
}
