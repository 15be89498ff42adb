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
    payments { id state buyerMessage action { type url qrCode instructions expiresAt } }`
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
	Payments        []*statusPayment
}

// statusPayment is one payment attempt of the order.
type statusPayment struct {
	ID           string
	State        string
	BuyerMessage *string
	Action       *struct {
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
	p := h.pageFor(w, r)
	// The page is the buyer's alone (a token in the URL, their order):
	// no cache anywhere keeps it.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	id, token := r.PathValue("id"), r.URL.Query().Get("token")
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
	if o == nil || o.ID != id { // a token opens one order: the one in the path
		h.notFound(w, r, p)
		return
	}
	vars, _ := json.Marshal(map[string]any{"id": o.ID, "token": nullable(token)})
	p.Title = p.T("order.title", o.Number)
	v := &orderStatusView{Order: o, Live: live(o), Query: orderStatusLive, Variables: string(vars),
		Total: formatMoney(o.Total), Labels: statusLabels(p)}
	if n := len(o.Payments); n > 0 {
		v.Latest = o.Payments[n-1]
		// A wallet's QR code is drawn here, as the checkout draws it:
		// the buyer back on this page can still scan it.
		if a := v.Latest.Action; v.Latest.State == "PENDING" && a != nil && a.Type == "QR_CODE" && a.QRCode != nil {
			v.QR = qrSVG(*a.QRCode)
		}
	}
	p.Data = v
	h.render(w, r, http.StatusOK, "order_status", p)
}

// orderStatusView is the template's data.
type orderStatusView struct {
	Order *statusOrder
	// Latest is the order's last payment attempt, nil before the first.
	Latest *statusPayment
	// Live says whether the page follows the order (its payment is not
	// settled yet).
	Live             bool
	Query, Variables string
	Total            string
	// Labels are the payment statuses' texts for the script.
	Labels string
	// QR is the latest attempt's QR code (qr.go) when it asks the buyer
	// to scan one.
	QR template.HTML
}

// live says whether the status may still change by itself.
func live(o *statusOrder) bool {
	return o.Status == "OPEN" && (o.PaymentStatus == "PENDING" || o.PaymentStatus == "FAILED" || o.PaymentStatus == "AUTHORIZED")
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
