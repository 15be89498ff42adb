package storefront

import (
	"encoding/json"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/text"
	"github.com/kassahq/kassa/graphql"
)

// The buyer's account: signing up, in and out, the password reset and
// email verification links the shop mails (core/notify's
// /account/reset-password and /account/verify-email), the address book
// and the order history. Every page is a plain form flow that works
// without JavaScript, and every page is the buyer's alone: no-store,
// noindex.
//
// The session is the one the API issues: customerLogin with returnToken
// gives the token, which the storefront keeps in the kassa_session cookie
// (HttpOnly, SameSite=Lax, Secure on https), the cookie the accounts
// middleware reads on every later request. Sign-in hands the guest's
// cart token to customerLogin, which joins it to the buyer's cart.
const (
	accountMeOp = `query StorefrontAccountMe { me { id email emailVerified firstName lastName phone
    addresses { id firstName lastName company line1 line2 city province postalCode countryCode phone }
    defaultShippingAddress { id } } }`
	accountRegisterOp = `mutation StorefrontAccountRegister($input: CustomerRegisterInput!) { customerRegister(input: $input) { userErrors { field code message } } }`
	accountLoginOp    = `mutation StorefrontAccountLogin($input: LoginInput!) { customerLogin(input: $input) { session { token expiresAt } userErrors { field code message } } }`
	accountLogoutOp   = `mutation StorefrontAccountLogout { logout { loggedOut } }`
	accountForgotOp   = `mutation StorefrontAccountRequestPasswordReset($input: CustomerEmailInput!) { customerRequestPasswordReset(input: $input) { userErrors { field code message } } }`
	accountResetOp    = `mutation StorefrontAccountResetPassword($input: CustomerResetPasswordInput!) { customerResetPassword(input: $input) { userErrors { field code message } } }`
	accountVerifyOp   = `mutation StorefrontAccountVerifyEmail($input: CustomerVerifyEmailInput!) { customerVerifyEmail(input: $input) { customer { id } userErrors { field code message } } }`
	accountAddrAddOp  = `mutation StorefrontAccountAddressCreate($input: CustomerAddressCreateInput!) { customerAddressCreate(input: $input) { address { id } userErrors { field code message } } }`
	accountAddrSetOp  = `mutation StorefrontAccountAddressUpdate($input: CustomerAddressUpdateInput!) { customerAddressUpdate(input: $input) { address { id } userErrors { field code message } } }`
	accountAddrDelOp  = `mutation StorefrontAccountAddressDelete($input: CustomerAddressDeleteInput!) { customerAddressDelete(input: $input) { deletedAddressId userErrors { field code message } } }`
	accountOrdersOp   = `query StorefrontAccountOrders($first: Int, $after: String) { myOrders(first: $first, after: $after) {
    nodes { id number status paymentStatus fulfillmentStatus total { amount currencyCode } createdAt }
    pageInfo { hasNextPage endCursor } } }`
	accountOrderOp = `query StorefrontAccountOrder($id: ID!) { order(id: $id) { id number email status paymentStatus fulfillmentStatus createdAt
    paymentDeadline cancelledAt shippingMethodName taxIncluded
    shippingAddress { firstName lastName company line1 line2 city province postalCode countryCode phone }
    subtotal { amount currencyCode } shipping { amount currencyCode } tax { amount currencyCode }
    discountTotal { amount currencyCode } total { amount currencyCode }
    lines { id productTitle variantTitle sku quantity quantityShipped unitPrice { amount currencyCode } total { amount currencyCode } }
    shipments { id carrier trackingNumber createdAt deliveredAt }
    payments { id gatewayId state amount { amount currencyCode } captured { amount currencyCode } refunded { amount currencyCode } createdAt }
    refunds { id state amount { amount currencyCode } createdAt }
    amountPaid { amount currencyCode } amountRefunded { amount currencyCode }
    invoices { id kind number issuedAt total { amount currencyCode } downloadUrl } } }`
	accountCancelOp = `mutation StorefrontAccountOrderCancel($input: OrderCancelInput!) { orderCancel(input: $input) { order { id status } userErrors { field code message } } }`
)

// ordersPerPage is the order history's page size.
const ordersPerPage = 10

// Form limits, checked before GraphQL sees the values: the API's own
// limits are the same or lower and say so with their codes.
const (
	maxEmailLen    = 254
	maxPasswordLen = 1024
	maxReturnLen   = 512
)

// customer is GraphQL's Customer as the account pages read it.
type customer struct {
	ID, Email, FirstName, LastName, Phone string
	EmailVerified                         bool
	Addresses                             []*customerAddress
	DefaultShippingAddress                *struct{ ID string }
}

// customerAddress is an entry of the address book.
type customerAddress struct {
	ID string
	address
	// Default marks the default shipping address.
	Default bool `json:"-"`
}

// orderSummary is an order in the history's list.
type orderSummary struct {
	ID, Number, Status, PaymentStatus, FulfillmentStatus string
	Total                                                money
	CreatedAt                                            time.Time
}

// accountOrder is one order of the buyer, as its page shows it.
type accountOrder struct {
	orderSummary
	Email                                  string
	PaymentDeadline                        time.Time
	CancelledAt                            *time.Time
	ShippingMethodName                     string
	TaxIncluded                            bool
	ShippingAddress                        address
	Subtotal, Shipping, Tax, DiscountTotal money
	AmountPaid, AmountRefunded             *money
	Lines                                  []struct {
		ID, ProductTitle, VariantTitle, SKU string
		Quantity, QuantityShipped           int
		UnitPrice, Total                    money
	}
	Shipments []struct {
		ID, Carrier, TrackingNumber string
		CreatedAt                   time.Time
		DeliveredAt                 *time.Time
	}
	Payments []struct {
		ID, GatewayID, State       string
		Amount, Captured, Refunded money
		CreatedAt                  time.Time
	}
	Refunds []struct {
		ID, State string
		Amount    money
		CreatedAt time.Time
	}
	Invoices []struct {
		ID, Kind, Number string
		IssuedAt         time.Time
		Total            money
		DownloadURL      string
	}
}

// Cancellable says whether the buyer may still cancel the order: open,
// not paid yet, nothing shipped (orderCancel's rule for buyers; the API
// decides, this only offers the button).
func (o *accountOrder) Cancellable() bool {
	return o.Status == "OPEN" && (o.PaymentStatus == "PENDING" || o.PaymentStatus == "FAILED") && o.FulfillmentStatus == "UNFULFILLED"
}

// Payable says whether the order still waits for the buyer's payment:
// unpaid, or paid in part (PARTIALLY_PAID: the status page takes the
// rest, whatever the deadline).
func (o *accountOrder) Payable() bool {
	return o.Status == "OPEN" && (o.PaymentStatus == "PENDING" || o.PaymentStatus == "FAILED" || o.PaymentStatus == "PARTIALLY_PAID")
}

// StatusPath is the order's payment status page.
func (o *accountOrder) StatusPath() string { return OrderStatusPath(o.ID) }

// accountView is the data of every account page.
type accountView struct {
	*chrome
	// Section names the page for the account menu: home, orders,
	// addresses; empty on the sign-in pages.
	Section string
	// Mode is the sign-in page's form: login, register, forgot, sent,
	// reset, verify.
	Mode string
	// Errors are problems of the page as a whole; FieldErrors are shown
	// next to their fields; both translated.
	Errors      []string
	FieldErrors map[string]string
	// Form holds what the buyer typed (never a password).
	Form map[string]string
	// Notice is a translated confirmation (saved, signed out, ...).
	Notice string
	// Return is where sign-in goes next (a local path).
	Return string
	// Token is a mailed link's token, carried by the form that redeems it.
	Token string
	// SignIn, on the verify page, is where a visitor not signed in to
	// the account the link verifies signs in first (and comes back).
	SignIn    string
	Me        *customer
	Address   *customerAddress
	Countries []langChoice
	Orders    []*orderSummary
	// NextURL and FirstURL page the order history.
	NextURL, FirstURL string
	Order             *accountOrder
	lang              string
}

// Money formats an amount for the templates.
func (accountView) Money(m money) string { return formatMoney(m) }

// MoneyP formats an optional amount; nil is a dash.
func (accountView) MoneyP(m *money) string {
	if m == nil {
		return "—"
	}
	return formatMoney(*m)
}

// Date is an instant as the buyer reads it: on Beijing time for a Chinese
// buyer (an order placed at 01:00 in Hangzhou is placed that day, not the
// day before at 17:00), else in the shop's time zone of record (UTC, as
// the API gives it).
func (v accountView) Date(t time.Time) string {
	if v.lang == "zh-CN" {
		return t.In(beijing).Format("2006年1月2日 15:04")
	}
	return t.UTC().Format("2 Jan 2006, 15:04")
}

// beijing is China Standard Time, UTC+8 all year; a fixed zone needs no
// time zone database on the shop's machine.
var beijing = time.FixedZone("CST", 8*60*60)

// DateP is Date of an optional instant.
func (v accountView) DateP(t *time.Time) string {
	if t == nil {
		return ""
	}
	return v.Date(*t)
}

// Country is a country's name in the page's language.
func (v accountView) Country(p *page, code string) string {
	if s := p.T("country." + code); s != "country."+code {
		return s
	}
	return code
}

// newAccountView starts the data of an account page: the layout's
// chrome without menu, noindex.
func (h *Handler) newAccountView(p *page, section string) *accountView {
	return &accountView{chrome: &chrome{ShopName: h.storeName, NoIndex: true}, Section: section, lang: p.Lang,
		FieldErrors: map[string]string{}, Form: map[string]string{}}
}

// renderAccount writes an account page: never cached, never indexed,
// never a referrer (mailed links carry tokens in the URL).
func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, p *page, status int, name, titleKey string, v *accountView) {
	h.renderAccountTitled(w, r, p, status, name, p.T(titleKey), v)
}

// renderAccountTitled is renderAccount with a title already in the
// page's language.
func (h *Handler) renderAccountTitled(w http.ResponseWriter, r *http.Request, p *page, status int, name, title string, v *accountView) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Robots-Tag", "noindex")
	p.Title = title + " – " + h.storeName
	p.Data = v
	h.render(w, r, status, name, p)
}

// runOp runs one named operation and decodes its data into out. It
// returns "" on success, else the code of the first top-level error:
// the page tells the buyer what it means, and an unexpected one is
// logged and read as UNAVAILABLE.
func (h *Handler) runOp(r *http.Request, name, query string, vars map[string]any, out any) string {
	res := h.exec.Exec(r.Context(), graphql.Request{Query: query, OperationName: name, Variables: vars})
	if len(res.Errors) > 0 {
		code, _ := res.Errors[0].Extensions["code"].(string)
		switch code {
		case "TOO_MANY_ATTEMPTS", "TOO_MANY_REQUESTS", "INVALID_CHARACTERS", "TOO_LONG", "UNAUTHENTICATED",
			"ORDER_NOT_FOUND", "NOT_FOUND", "INVALID_ID", "INVALID_CURSOR", "BAD_USER_INPUT", "INVALID_ARGUMENT":
			return code
		}
		h.log.WarnContext(r.Context(), "storefront operation failed", "operation", name, "code", code, "error", res.Errors[0].Message)
		return "UNAVAILABLE"
	}
	if err := json.Unmarshal(res.Data, out); err != nil {
		h.log.ErrorContext(r.Context(), "decode storefront operation", "operation", name, "error", err)
		return "UNAVAILABLE"
	}
	return ""
}

// accountText is an account error code in the page's language: the
// account's own messages, else the cart's, else the generic one.
func accountText(p *page, code string) string {
	if code != "" && len(code) <= 40 && !strings.ContainsFunc(code, func(r rune) bool { return (r < 'A' || r > 'Z') && r != '_' }) {
		if s := p.T("account.error." + code); s != "account.error."+code {
			return s
		}
	}
	return errorText(p, code)
}

// placeAccountErrors puts userErrors next to the field their path ends
// with when the form has it (as codes, which translateFields turns into
// texts); the rest are the page's, translated.
func placeAccountErrors(p *page, v *accountView, errs []userError, fields ...string) {
	for _, e := range errs {
		f := ""
		if n := len(e.Field); n > 0 {
			f = e.Field[n-1]
		}
		if contains(fields, f) {
			v.FieldErrors[f] = e.Code // translated when the form is shown
			continue
		}
		if t := accountText(p, e.Code); !contains(v.Errors, t) {
			v.Errors = append(v.Errors, t)
		}
	}
}

// readText reads a trimmed form field: printable UTF-8 of at most max
// characters. code is why it is refused, "" when it is fine.
func readText(r *http.Request, name string, max int) (string, string) {
	s := strings.TrimSpace(r.PostForm.Get(name))
	switch {
	case !utf8.ValidString(s) || strings.ContainsFunc(s, isControl):
		return "", "INVALID_CHARACTERS"
	case utf8.RuneCountInString(s) > max:
		return string([]rune(s)[:max]), "TOO_LONG"
	}
	return s, ""
}

// readEmail reads the email field: required, one plain address.
func readEmail(r *http.Request, v *accountView) string {
	e, code := readText(r, "email", maxEmailLen)
	v.Form["email"] = e
	if code == "" && e == "" {
		code = "REQUIRED"
	}
	if code == "" {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			code = "INVALID_EMAIL"
		}
	}
	if code != "" {
		v.FieldErrors["email"] = code
	}
	return e
}

// readPassword reads a password field as typed (spaces count), never
// shown back: required, valid UTF-8 without control characters, bounded.
func readPassword(r *http.Request, v *accountView, name string) string {
	pw := r.PostForm.Get(name)
	switch {
	case pw == "":
		v.FieldErrors[name] = "REQUIRED"
	case !utf8.ValidString(pw) || strings.ContainsFunc(pw, isControl):
		v.FieldErrors[name] = "INVALID_CHARACTERS"
	case len(pw) > maxPasswordLen:
		v.FieldErrors[name] = "PASSWORD_TOO_LONG"
	}
	return pw
}

// translateFields turns the codes of FieldErrors into texts.
func translateFields(p *page, v *accountView) {
	for f, c := range v.FieldErrors {
		v.FieldErrors[f] = accountText(p, c)
	}
}

// safeReturn admits a local path to go back to after sign-in, else
// /account: never another site (//host, /\host), never a control
// character.
func safeReturn(s string) string {
	if s == "" || len(s) > maxReturnLen || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") ||
		strings.ContainsAny(s, "\\") || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "/account"
	}
	u, err := url.Parse(s)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/account"
	}
	return s
}

// setSessionCookie keeps the session token the API issued; an empty
// token clears it. The cookie is Secure when the request came over TLS,
// directly or through a trusted proxy, or the public URL is https
// (forms.secureFor).
func (h *Handler) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	ck := &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: h.forms.secureFor(r)}
	if token == "" {
		ck.MaxAge = -1
	} else {
		ck.Expires, ck.MaxAge = expires, int(time.Until(expires).Seconds())
	}
	http.SetCookie(w, ck)
}

// requireBuyer sends a guest to the sign-in page, coming back here
// afterwards; it reports whether the request is a signed-in buyer's.
func requireBuyer(w http.ResponseWriter, r *http.Request) bool {
	if signedInBuyer(r.Context()) {
		return true
	}
	w.Header().Set("Cache-Control", "no-store")
	target := "/account/login"
	if r.Method == http.MethodGet && r.URL.Path != "/account" {
		target += "?return=" + url.QueryEscape(safeReturn(r.URL.RequestURI()))
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return false
}

// notices are the confirmations a redirect may ask a page to show
// (?n=KEY); anything else shows nothing.
var notices = []string{"signedOut", "registered", "reset", "verified", "saved", "deleted", "defaultSet", "cancelled", "welcome"}

func notice(p *page, r *http.Request) string {
	n := r.URL.Query().Get("n")
	if contains(notices, n) {
		return p.T("account.notice." + n)
	}
	return ""
}

// accountNotFound answers an id the buyer cannot see: 404, as for one
// that does not exist.
func (h *Handler) accountNotFound(w http.ResponseWriter, r *http.Request, p *page) {
	v := h.newAccountView(p, "")
	v.Errors = []string{p.T("account.notFound.text")}
	h.renderAccount(w, r, p, http.StatusNotFound, "account_home", "account.notFound.title", v)
}

// accountUnavailable answers when GraphQL could not answer.
func (h *Handler) accountUnavailable(w http.ResponseWriter, r *http.Request, p *page) {
	v := h.newAccountView(p, "")
	v.Errors = []string{p.T("unavailable.text")}
	h.renderAccount(w, r, p, http.StatusServiceUnavailable, "account_home", "unavailable.title", v)
}

// loadMe reads the signed-in buyer; nil when the session no longer
// names one (the page then asks to sign in again).
func (h *Handler) loadMe(r *http.Request) (*customer, string) {
	var data struct{ Me *customer }
	if code := h.runOp(r, "StorefrontAccountMe", accountMeOp, nil, &data); code != "" {
		return nil, code
	}
	if data.Me != nil {
		for _, a := range data.Me.Addresses {
			a.Default = data.Me.DefaultShippingAddress != nil && data.Me.DefaultShippingAddress.ID == a.ID
		}
	}
	return data.Me, ""
}

// accountHome serves GET /account: who is signed in, the latest orders,
// the way to the address book and out.
func (h *Handler) accountHome(w http.ResponseWriter, r *http.Request) {
	if !requireBuyer(w, r) {
		return
	}
	p := h.pageFor(w, r)
	me, code := h.loadMe(r)
	if code != "" || me == nil {
		h.accountUnavailable(w, r, p)
		return
	}
	v := h.newAccountView(p, "home")
	v.Me, v.Notice = me, notice(p, r)
	var data struct {
		MyOrders struct{ Nodes []*orderSummary }
	}
	if code := h.runOp(r, "StorefrontAccountOrders", accountOrdersOp, map[string]any{"first": 3, "after": nil}, &data); code != "" {
		h.accountUnavailable(w, r, p)
		return
	}
	v.Orders = data.MyOrders.Nodes
	h.renderAccount(w, r, p, http.StatusOK, "account_home", "account.title", v)
}

// showAuth renders the sign-in page in one of its modes.
func (h *Handler) showAuth(w http.ResponseWriter, r *http.Request, p *page, status int, v *accountView) {
	translateFields(p, v)
	h.renderAccount(w, r, p, status, "account_auth", "account.auth."+v.Mode+".title", v)
}

// loginPage serves GET /account/login[?return=]; a signed-in buyer goes
// on to their account.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	ret := safeReturn(r.URL.Query().Get("return"))
	if signedInBuyer(r.Context()) {
		http.Redirect(w, r, ret, http.StatusSeeOther)
		return
	}
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "")
	v.Mode, v.Return, v.Notice = "login", ret, notice(p, r)
	h.showAuth(w, r, p, http.StatusOK, v)
}

// login signs the buyer in with email and password; the guest's cart
// joins theirs.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "")
	v.Mode, v.Return = "login", safeReturn(r.PostForm.Get("return"))
	email := readEmail(r, v)
	pw := readPassword(r, v, "password")
	if len(v.FieldErrors) > 0 {
		h.showAuth(w, r, p, http.StatusUnprocessableEntity, v)
		return
	}
	if !h.signIn(w, r, p, v, email, pw) {
		return
	}
	http.Redirect(w, r, v.Return, http.StatusSeeOther)
}

// signIn runs customerLogin and keeps the session; false means the page
// was answered with why not.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, p *page, v *accountView, email, pw string) bool {
	in := map[string]any{"email": email, "password": pw, "returnToken": true}
	b := h.buyerOf(r)
	if b.token != "" {
		in["cartToken"] = b.token
	}
	var data struct {
		CustomerLogin struct {
			Session *struct {
				Token     *string
				ExpiresAt time.Time
			}
			UserErrors []userError
		}
	}
	if code := h.runOp(r, "StorefrontAccountLogin", accountLoginOp, map[string]any{"input": in}, &data); code != "" {
		v.Errors = []string{accountText(p, code)}
		h.showAuth(w, r, p, statusOf(code), v)
		return false
	}
	res := data.CustomerLogin
	if len(res.UserErrors) > 0 || res.Session == nil || res.Session.Token == nil {
		placeAccountErrors(p, v, res.UserErrors, "email")
		if len(v.Errors) == 0 && len(v.FieldErrors) == 0 {
			v.Errors = []string{accountText(p, "INVALID_CREDENTIALS")}
		}
		h.showAuth(w, r, p, http.StatusUnprocessableEntity, v)
		return false
	}
	h.setSessionCookie(w, r, *res.Session.Token, res.Session.ExpiresAt)
	if b.token != "" {
		h.setCartCookie(w, r, "") // the guest cart is the buyer's now
	}
	return true
}

// statusOf is the HTTP status of a top-level error code.
func statusOf(code string) int {
	switch code {
	case "TOO_MANY_ATTEMPTS", "TOO_MANY_REQUESTS":
		return http.StatusTooManyRequests
	case "UNAVAILABLE":
		return http.StatusServiceUnavailable
	}
	return http.StatusUnprocessableEntity
}

// registerPage serves GET /account/register.
func (h *Handler) registerPage(w http.ResponseWriter, r *http.Request) {
	if signedInBuyer(r.Context()) {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "")
	v.Mode, v.Return = "register", safeReturn(r.URL.Query().Get("return"))
	h.showAuth(w, r, p, http.StatusOK, v)
}

// register opens an account and signs its buyer in. customerRegister
// answers alike whether or not the address had an account, so a taken
// address ends on the sign-in page with the same neutral notice.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "")
	v.Mode, v.Return = "register", safeReturn(r.PostForm.Get("return"))
	email := readEmail(r, v)
	in := map[string]any{"email": email, "acceptsMarketing": r.PostForm.Get("acceptsMarketing") == "on"}
	for _, f := range []string{"firstName", "lastName"} {
		s, code := readText(r, f, 100)
		v.Form[f] = s
		if code != "" {
			v.FieldErrors[f] = code
		} else if s != "" {
			in[f] = s
		}
	}
	pw := readPassword(r, v, "password")
	if len(v.FieldErrors) > 0 {
		h.showAuth(w, r, p, http.StatusUnprocessableEntity, v)
		return
	}
	in["password"] = pw
	var data struct {
		CustomerRegister struct{ UserErrors []userError }
	}
	if code := h.runOp(r, "StorefrontAccountRegister", accountRegisterOp, map[string]any{"input": in}, &data); code != "" {
		v.Errors = []string{accountText(p, code)}
		h.showAuth(w, r, p, statusOf(code), v)
		return
	}
	if errs := data.CustomerRegister.UserErrors; len(errs) > 0 {
		placeAccountErrors(p, v, errs, "email", "password", "firstName", "lastName")
		h.showAuth(w, r, p, http.StatusUnprocessableEntity, v)
		return
	}
	lv := h.newAccountView(p, "")
	lv.Mode, lv.Return, lv.Form["email"] = "login", v.Return, email
	lv.Notice = p.T("account.notice.registered")
	if !h.signIn(w, r, p, lv, email, pw) {
		return
	}
	target := v.Return
	if target == "/account" {
		target = "/account?n=welcome"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// logout ends the session at the API and drops the cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	var data struct{ Logout struct{ LoggedOut bool } }
	if code := h.runOp(r, "StorefrontAccountLogout", accountLogoutOp, nil, &data); code != "" && code != "UNAUTHENTICATED" {
		p := h.pageFor(w, r)
		h.accountUnavailable(w, r, p)
		return
	}
	h.setSessionCookie(w, r, "", time.Time{})
	http.Redirect(w, r, "/account/login?n=signedOut", http.StatusSeeOther)
}

// forgotPage serves GET /account/forgot-password.
func (h *Handler) forgotPage(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "")
	v.Mode = "forgot"
	h.showAuth(w, r, p, http.StatusOK, v)
}

// forgot asks the API to mail a reset link; the answer is the same for
// every well-formed address.
func (h *Handler) forgot(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "")
	v.Mode = "forgot"
	email := readEmail(r, v)
	if len(v.FieldErrors) > 0 {
		h.showAuth(w, r, p, http.StatusUnprocessableEntity, v)
		return
	}
	var data struct {
		CustomerRequestPasswordReset struct{ UserErrors []userError }
	}
	if code := h.runOp(r, "StorefrontAccountRequestPasswordReset", accountForgotOp, map[string]any{"input": map[string]any{"email": email}}, &data); code != "" {
		v.Errors = []string{accountText(p, code)}
		h.showAuth(w, r, p, statusOf(code), v)
		return
	}
	if errs := data.CustomerRequestPasswordReset.UserErrors; len(errs) > 0 {
		placeAccountErrors(p, v, errs, "email")
		h.showAuth(w, r, p, http.StatusUnprocessableEntity, v)
		return
	}
	v.Mode = "sent"
	h.showAuth(w, r, p, http.StatusOK, v)
}

// linkToken reads a mailed link's token (query or form); "" when it
// cannot be one.
func linkToken(s string) string {
	if !validToken(s) {
		return ""
	}
	return s
}

// resetPage serves GET /account/reset-password?token=, the mailed link.
func (h *Handler) resetPage(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "")
	v.Mode, v.Token = "reset", linkToken(r.URL.Query().Get("token"))
	if v.Token == "" {
		v.Errors = []string{accountText(p, "INVALID_TOKEN")}
		h.showAuth(w, r, p, http.StatusBadRequest, v)
		return
	}
	h.showAuth(w, r, p, http.StatusOK, v)
}

// reset sets the new password; every session of the buyer ends, so they
// sign in again with it.
func (h *Handler) reset(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "")
	v.Mode, v.Token = "reset", linkToken(r.PostForm.Get("token"))
	pw := readPassword(r, v, "password")
	if v.Token == "" {
		v.Errors = []string{accountText(p, "INVALID_TOKEN")}
	}
	if len(v.FieldErrors) > 0 || v.Token == "" {
		h.showAuth(w, r, p, http.StatusUnprocessableEntity, v)
		return
	}
	var data struct {
		CustomerResetPassword struct{ UserErrors []userError }
	}
	if code := h.runOp(r, "StorefrontAccountResetPassword", accountResetOp, map[string]any{"input": map[string]any{"token": v.Token, "password": pw}}, &data); code != "" {
		v.Errors = []string{accountText(p, code)}
		h.showAuth(w, r, p, statusOf(code), v)
		return
	}
	if errs := data.CustomerResetPassword.UserErrors; len(errs) > 0 {
		placeAccountErrors(p, v, errs, "password")
		h.showAuth(w, r, p, http.StatusUnprocessableEntity, v)
		return
	}
	if signedInBuyer(r.Context()) {
		h.setSessionCookie(w, r, "", time.Time{}) // the reset ended it
	}
	http.Redirect(w, r, "/account/login?n=reset", http.StatusSeeOther)
}

// verifyPage serves GET /account/verify-email?token=, the mailed link:
// a button confirms, so that a mail scanner following links does not
// spend the token.
func (h *Handler) verifyPage(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "")
	v.Mode, v.Token = "verify", linkToken(r.URL.Query().Get("token"))
	status := http.StatusOK
	if v.Token == "" {
		v.Errors, status = []string{accountText(p, "INVALID_TOKEN")}, http.StatusBadRequest
	} else if authz.SubjectFrom(r.Context()).Kind != authz.KindCustomer {
		// Only the buyer signed in to the account verifies it
		// (account.Service.VerifyEmail): sign in first, then back here.
		v.SignIn = verifySignIn(v.Token)
	}
	h.showAuth(w, r, p, status, v)
}

// verifySignIn is the sign-in page that comes back to the verify link of
// token.
func verifySignIn(token string) string {
	return "/account/login?return=" + url.QueryEscape("/account/verify-email?token="+url.QueryEscape(token))
}

// verify redeems the verification token.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	v := h.newAccountView(p, "")
	v.Mode, v.Token = "verify", linkToken(r.PostForm.Get("token"))
	if v.Token == "" {
		v.Errors = []string{accountText(p, "INVALID_TOKEN")}
		h.showAuth(w, r, p, http.StatusUnprocessableEntity, v)
		return
	}
	var data struct {
		CustomerVerifyEmail struct{ UserErrors []userError }
	}
	if code := h.runOp(r, "StorefrontAccountVerifyEmail", accountVerifyOp, map[string]any{"input": map[string]any{"token": v.Token}}, &data); code != "" {
		v.Errors = []string{accountText(p, code)}
		h.showAuth(w, r, p, statusOf(code), v)
		return
	}
	if errs := data.CustomerVerifyEmail.UserErrors; len(errs) > 0 {
		placeAccountErrors(p, v, errs)
		for _, e := range errs {
			if e.Code == "SIGN_IN_TO_VERIFY" {
				v.SignIn = verifySignIn(v.Token)
			}
		}
		h.showAuth(w, r, p, http.StatusUnprocessableEntity, v)
		return
	}
	target := "/account/login?n=verified"
	if signedIn(r.Context()) {
		target = "/account?n=verified"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// addressArgs are the account-address template's: the page, the view
// (for country names) and the address.
type addressArgs struct {
	P *page
	V *accountView
	A address
}

func init() {
	funcs["accountField"] = func(p *page, v *accountView, name, autocomplete, typ string, required bool) formField {
		f := formField{Name: name, Label: p.T("field." + name), Error: v.FieldErrors[name],
			Autocomplete: autocomplete, Type: typ, Required: required, Suggestions: provinceSuggestions(p, v.Form, name)}
		if typ != "password" { // a password is never sent back
			f.Value = v.Form[name]
		}
		if autocomplete == "new-password" {
			f.Hint = p.T("account.auth.register.passwordHint")
		}
		return f
	}
	funcs["fullName"] = text.FullName
	funcs["addressArgs"] = func(p *page, v *accountView, a any) addressArgs {
		switch a := a.(type) {
		case *customerAddress:
			return addressArgs{P: p, V: v, A: a.address}
		case address:
			return addressArgs{P: p, V: v, A: a}
		}
		return addressArgs{P: p, V: v}
	}
}
