package storefront

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/kassahq/kassa/graphql"
)

// The status page's operations. The query reads the order as the buyer
// may see it: by token for a guest, by id for a signed-in buyer; the
// subscription is the one the page's script follows.
const (
	orderStatusFields = `id number status paymentStatus paymentDeadline total { amount currencyCode }
    amountPaid { amount currencyCode } amountOutstanding { amount currencyCode }
    payments { id state buyerMessage captured { amount } action { type url qrCode instructions expiresAt } }`
	orderStatusByToken = `query StorefrontOrderStatusByToken($token: String!) { order: orderByToken(token: $token) { ` + orderStatusFields + ` } }`
	orderStatusByID    = `query StorefrontOrderStatus($id: ID!) { order(id: $id) { ` + orderStatusFields + ` } }`
	orderStatusLive    = `subscription StorefrontOrderStatusLive($id: ID!, $token: String) { orderUpdated(id: $id, token: $token) { ` + orderStatusFields + ` } }`
)

// maxTokenLen bounds the token taken from the URL; access tokens are far
// shorter.
const maxTokenLen = 256

// statusOrder is the order as the status page reads it.
type statusOrder struct {
	ID              string
	Number          string
	Status          string
	PaymentStatus   string
	PaymentDeadline time.Time
	Total           money
	// AmountPaid is null before money moved; AmountOutstanding is what
	// the buyer still owes.
	AmountPaid, AmountOutstanding *money
	Payments                      []*statusPayment
}

// owesRest says the order was paid in part (PARTIALLY_PAID) and the
// buyer may pay the rest: something is outstanding (a decimal, 0.00 or 0
// when nothing is).
func (o *statusOrder) owesRest() bool {
	return o.Status == "OPEN" && o.PaymentStatus == "PARTIALLY_PAID" && o.AmountOutstanding != nil &&
		strings.Trim(o.AmountOutstanding.Amount, "0.") != ""
}

// statusPayment is one payment attempt of the order, as the status page
// reads it and paymentCreate answers it (startPayment).
type statusPayment struct {
	ID           string
	State        string
	BuyerMessage *string
	// Captured is what the attempt took so far: part of a bank transfer
	// confirmed short, while it stays open for the rest.
	Captured *money
	Action   *struct {
		Type         string
		URL          *string
		QRCode       *string
		Instructions *string
		ExpiresAt    *time.Time
	}
}

// money is GraphQL's Money.
type money struct {
	Amount       string
	CurrencyCode string
}

// orderStatus serves GET /orders/{id}/status[?token=].
func (h *Handler) orderStatus(w http.ResponseWriter, r *http.Request) {
	h.showStatus(w, r, r.URL.Query().Get("token"), http.StatusOK, nil)
}

// showStatus renders the status page of the order in the path, read
// with a guest's token when there is one; errs are problems of a refused
// payment of the rest, shown above its form.
func (h *Handler) showStatus(w http.ResponseWriter, r *http.Request, token string, status int, errs []string) {
	p := h.pageFor(w, r)
	// The page is the buyer's alone (a token in the URL, their order):
	// no cache anywhere keeps it.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	id := r.PathValue("id")
	var req graphql.Request
	switch {
	case len(id) > 64 || len(token) > maxTokenLen || strings.ContainsFunc(id+token, isControl):
		h.notFound(w, r, p)
		return
	case token != "":
		req = graphql.Request{Query: orderStatusByToken, OperationName: "StorefrontOrderStatusByToken", Variables: map[string]any{"token": token}}
	default:
		req = graphql.Request{Query: orderStatusByID, OperationName: "StorefrontOrderStatus", Variables: map[string]any{"id": id}}
	}
	res := h.exec.Exec(r.Context(), req)
	var data struct{ Order *statusOrder }
	if len(res.Errors) > 0 || json.Unmarshal(res.Data, &data) != nil {
		if len(res.Errors) > 0 && !isNotFound(res.Errors) {
			h.log.WarnContext(r.Context(), "status page query failed", "error", res.Errors[0].Message)
			h.unavailable(w, r, p)
			return
		}
		h.notFound(w, r, p)
		return
	}
	o := data.Order
	if o == nil && token != "" && signedInBuyer(r.Context()) {
		// A token the buyer's account retired when it claimed the order
		// (a link from before): their session opens it.
		h.showStatus(w, r, "", status, errs)
		return
	}
	if o == nil || o.ID != id { // a token opens one order: the one in the path
		h.notFound(w, r, p)
		return
	}
	vars, _ := json.Marshal(map[string]any{"id": o.ID, "token": nullable(token)})
	p.Title = p.T("order.title", o.Number)
	v := &orderStatusView{Order: o, Live: live(o), Query: orderStatusLive, Variables: string(vars),
		Total: formatMoney(o.Total), Labels: statusLabels(p), MoneyPrefix: formatMoney(money{CurrencyCode: o.Total.CurrencyCode})}
	if n := len(o.Payments); n > 0 {
		v.Latest = o.Payments[n-1]
		// The buyer's action is shown while the attempt awaits its money.
		// A transfer confirmed short has some of it: its instructions ask
		// the whole amount again, and the rest form asks what is left.
		v.Action = v.Latest.State == "PENDING" && v.Latest.Action != nil &&
			(v.Latest.Captured == nil || strings.Trim(v.Latest.Captured.Amount, "0.") == "")
		// A wallet's QR code is drawn here, as the checkout draws it:
		// the buyer back on this page can still scan it.
		if a := v.Latest.Action; v.Latest.State == "PENDING" && a != nil && a.Type == "QR_CODE" && a.QRCode != nil {
			v.QR = qrSVG(*a.QRCode)
		}
	}
	if o.PaymentStatus == "PARTIALLY_PAID" {
		v.Paid, v.Outstanding = formatMoney(orZero(o.AmountPaid, o.Total.CurrencyCode)), formatMoney(orZero(o.AmountOutstanding, o.Total.CurrencyCode))
		// An authorization of the rest held for staff to capture is the
		// rest on its way: nothing to pay meanwhile. Methods that cannot
		// be read leave the form out rather than the page: the rest may
		// have been paid since the order was read (ORDER_ALREADY_PAID),
		// which the live page shows in a moment.
		if o.owesRest() && (v.Latest == nil || v.Latest.State != "AUTHORIZED") {
			if methods, ok := h.paymentChoices(r, p, orderRef{id: o.ID, token: token}); ok {
				v.Rest = &restForm{Action: "/orders/" + o.ID + "/pay", Token: token, Key: newKey(), Methods: methods}
			}
		}
	}
	v.Errors = errs
	p.Data = v
	h.render(w, r, status, "order_status", p)
}

// orZero is m, or zero in cur when m is null.
func orZero(m *money, cur string) money {
	if m == nil {
		return money{Amount: "0.00", CurrencyCode: cur}
	}
	return *m
}

// payRest serves POST /orders/{id}/pay: the buyer of a PARTIALLY_PAID
// order pays what it still owes (the API asks the rest, never the
// total) with one of the payment methods, as the checkout's payment step
// pays a new order, and is sent where the payment says: the gateway's
// page, or back to the status page (a decline, a QR code, instructions,
// a payment already final). A guest's token comes with the form.
func (h *Handler) payRest(w http.ResponseWriter, r *http.Request) {
	p := h.pageFor(w, r)
	id, token, key, pay := r.PathValue("id"), r.PostForm.Get("token"), r.PostForm.Get("key"), r.PostForm.Get("pay")
	if !validID(id) || (token != "" && !validToken(token)) {
		h.notFound(w, r, p)
		return
	}
	switch {
	case !validID(key):
		h.showStatus(w, r, token, http.StatusUnprocessableEntity, []string{p.T("cartError.GENERIC")})
		return
	case !payMethodPattern.MatchString(pay) && !payGatewayPattern.MatchString(pay):
		h.showStatus(w, r, token, http.StatusUnprocessableEntity, []string{p.T("cartError.PAYMENT_METHOD_REQUIRED")})
		return
	}
	ref := orderRef{id: id, token: token}
	started, refused, ok := h.startPayment(r, p, ref, pay, "rest-"+key)
	switch {
	case !ok:
		h.showStatus(w, r, token, http.StatusServiceUnavailable, []string{p.T("cartError.PAYMENT_UNAVAILABLE")})
	case started == nil:
		h.showStatus(w, r, token, http.StatusUnprocessableEntity, codesText(p, refused))
	case started.gatewayPage() != "":
		http.Redirect(w, r, started.gatewayPage(), http.StatusSeeOther)
	default:
		// The status page shows the rest, the decline or the action.
		http.Redirect(w, r, h.statusURL(r, ref), http.StatusSeeOther)
	}
}

// orderStatusView is the template's data.
type orderStatusView struct {
	Order *statusOrder
	// Latest is the order's last payment attempt, nil before the first.
	Latest *statusPayment
	// Live says whether the page follows the order (its payment is not
	// settled yet).
	Live bool
	// Action says whether Latest's action (a gateway's page, a QR code,
	// instructions) is shown: the attempt awaits the buyer and its money.
	Action           bool
	Query, Variables string
	Total            string
	// Labels are the payment statuses' texts for the script.
	Labels string
	// QR is the latest attempt's QR code (qr.go) when it asks the buyer
	// to scan one.
	QR template.HTML
	// Paid and Outstanding are what a PARTIALLY_PAID order's buyer paid
	// and still owes; MoneyPrefix is the order's currency as amounts
	// start with it ("¥"), for the script.
	Paid, Outstanding, MoneyPrefix string
	// Rest is the form paying what a PARTIALLY_PAID order still owes,
	// nil when nothing may be paid now; Errors are why its last post was
	// refused, translated.
	Rest   *restForm
	Errors []string
}

// restForm is the form paying the rest of a PARTIALLY_PAID order.
type restForm struct {
	// Action is where it posts; Token a guest's access token; Key the
	// post's idempotency key.
	Action, Token, Key string
	Methods            []paymentChoice
}

// live says whether the status may still change by itself: a payment
// under way, or the rest of a PARTIALLY_PAID order the buyer may pay.
func live(o *statusOrder) bool {
	switch o.PaymentStatus {
	case "PENDING", "FAILED", "AUTHORIZED", "PARTIALLY_PAID":
		return o.Status == "OPEN"
	}
	return false
}

// paymentStatuses are the order payment statuses the page names.
var paymentStatuses = []string{"PENDING", "AUTHORIZED", "PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED", "REFUNDED", "VOIDED", "FAILED"}

// statusLabels gives the script the texts it swaps in, in the page's
// language, as JSON.
func statusLabels(p *page) string {
	m := map[string]string{"CANCELLED": p.T("order.cancelled")}
	for _, s := range paymentStatuses {
		m[s] = p.T("payment.status." + s)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// isNotFound reports errors that mean "no such order for you".
func isNotFound(errs []*graphql.Error) bool {
	for _, e := range errs {
		switch e.Extensions["code"] {
		case "ORDER_NOT_FOUND", "NOT_FOUND", "INVALID_ID", "BAD_USER_INPUT", "INVALID_ARGUMENT", "TOO_LONG":
		default:
			return false
		}
	}
	return true
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, p *page) {
	p.Title = p.T("notfound.title")
	p.Data = nil
	h.render(w, r, http.StatusNotFound, "order_status", p)
}

func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, p *page) {
	p.Title = p.T("unavailable.title")
	p.Data = nil
	p.Unavailable = true
	h.render(w, r, http.StatusServiceUnavailable, "order_status", p)
}

// page is what every template gets.
type page struct {
	Lang  string
	Title string
	// SwitchURL is this page in the other language.
	SwitchURL string
	// Unavailable says the page's data could not be read (try again).
	Unavailable bool
	// SignedIn says a buyer is signed in: the header links to their
	// account rather than to the sign-in page.
	SignedIn bool
	Data     any
	msgs     catalogs
}

// pageFor starts r's page with the handler's catalogs and cookie rule.
func (h *Handler) pageFor(w http.ResponseWriter, r *http.Request) *page {
	return newPage(w, r, h.cat, h.forms.secureFor(r))
}

func newPage(w http.ResponseWriter, r *http.Request, cat catalogs, secure bool) *page {
	p := &page{Lang: pickLanguage(w, r, secure), msgs: cat, SignedIn: signedIn(r.Context())}
	u := *r.URL
	q := u.Query()
	q.Set("lang", p.OtherLang().Code)
	u.RawQuery = q.Encode()
	p.SwitchURL = u.RequestURI()
	return p
}

// T translates key into the page's language; args fill %s/%d verbs.
func (p *page) T(key string, args ...any) string {
	s := p.msgs.message(p.Lang, key)
	if len(args) > 0 {
		return sprintf(s, args...)
	}
	return s
}

// OtherLang is the language the switcher offers.
func (p *page) OtherLang() langChoice {
	if p.Lang == "zh-CN" {
		return langChoice{"en", "English"}
	}
	return langChoice{"zh-CN", "简体中文"}
}

// langChoice is a language as the switcher names it, in itself.
type langChoice struct{ Code, Name string }

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	// safeURL admits only http(s) links from a gateway's action: the
	// template escapes, this refuses javascript: and the like outright.
	"httpURL": func(s *string) string {
		if s == nil || !(strings.HasPrefix(*s, "https://") || strings.HasPrefix(*s, "http://")) {
			return ""
		}
		return *s
	},
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
}
