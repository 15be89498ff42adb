package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/notify"
)

// templateFS holds the emails: templates/<locale>/<template id>.tmpl, each
// defining "subject", "text" and "html", plus templates/<locale>/layout.tmpl
// with the shared parts. "subject" and "text" run as text/template, "html"
// as html/template (so every value is escaped for HTML).
//
//go:embed templates
var templateFS embed.FS

// Locales with templates; everything else falls back to English.
const (
	localeEN = "en"
	localeZH = "zh-CN"
)

// Template ids of the order emails Kassa sends beyond the SDK's
// constants: its order event names (core/notify maps the events to them).
const (
	templateOrderCancelled       = "order.cancelled"
	templateOrderDelivered       = "order.delivered"
	templateOrderCompleted       = "order.completed"
	templateOrderPaymentReminder = "order.payment_reminder"
	// The payment emails: a declined payment the buyer may retry, the
	// instructions of an offline payment (bank transfer), and staff told
	// that an order was paid.
	templatePaymentFailed       = "payment.failed"
	templatePaymentInstructions = "payment.instructions"
	templateStaffOrderPaid      = "staff.order_paid"
)

// templateIDs are the templates every locale has.
var templateIDs = []string{
	notify.TemplateOrderPlaced, notify.TemplateOrderPaid, notify.TemplateOrderShipped, notify.TemplateOrderRefunded,
	templateOrderCancelled, templateOrderDelivered, templateOrderCompleted, templateOrderPaymentReminder,
	templatePaymentFailed, templatePaymentInstructions, templateStaffOrderPaid,
	notify.TemplateAccountVerifyEmail, notify.TemplateAccountPasswordReset, notify.TemplateStaffInvitation,
}

// templateAliases map other names for the account emails to the SDK's
// template ids (Kassa's event names, and the names some integrations use).
var templateAliases = map[string]string{
	"customer.email_verification":       notify.TemplateAccountVerifyEmail,
	"customer.verification_requested":   notify.TemplateAccountVerifyEmail,
	"customer.password_reset":           notify.TemplateAccountPasswordReset,
	"customer.password_reset_requested": notify.TemplateAccountPasswordReset,
	"staff.invited":                     notify.TemplateStaffInvitation,
}

// Money is an amount in minor units of an ISO 4217 currency, as Kassa
// sends it.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// IsZero reports whether m is absent.
func (m Money) IsZero() bool { return m.Amount == 0 && m.Currency == "" }

// StoreData describes the shop sending the email.
type StoreData struct {
	// Name of the shop; default: the from_name setting.
	Name string `json:"name"`
	// URL of the storefront.
	URL string `json:"url"`
	// SupportEmail for questions.
	SupportEmail string `json:"support_email"`
}

// LineData is an order line.
type LineData struct {
	Name     string `json:"name"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	Total    Money  `json:"total"`
}

// AddressData is a postal address.
type AddressData struct {
	Name       string   `json:"name"`
	Lines      []string `json:"lines"`
	PostalCode string   `json:"postal_code"`
	City       string   `json:"city"`
	Region     string   `json:"region"`
	Country    string   `json:"country"`
}

// OrderData is the order of the order.* emails.
type OrderData struct {
	// Number is the human order number, e.g. "#1001". Required.
	Number string `json:"number"`
	// URL is the order's status page for the buyer.
	URL string `json:"url"`
	// PlacedAt is when the order was placed.
	PlacedAt time.Time  `json:"placed_at"`
	Lines    []LineData `json:"lines"`
	Subtotal Money      `json:"subtotal"`
	Discount Money      `json:"discount"`
	Shipping Money      `json:"shipping"`
	Tax      Money      `json:"tax"`
	// Total is what the buyer pays. Required.
	Total           Money        `json:"total"`
	ShippingAddress *AddressData `json:"shipping_address"`
	// PaymentMethod as shown to the buyer, e.g. "Visa •••• 4242".
	PaymentMethod string `json:"payment_method"`
	// PaymentDeadline is when an unpaid order is cancelled. Required by
	// order.payment_reminder.
	PaymentDeadline time.Time `json:"payment_deadline"`
	// PaymentURL is where the buyer pays for an unpaid order.
	PaymentURL string `json:"payment_url"`
}

// CancellationData is the cancellation of order.cancelled.
type CancellationData struct {
	// Reason as staff, the buyer or the shop gave it, in the shop's
	// language.
	Reason string `json:"reason"`
	// Code names a cancellation the shop made itself, so that each
	// locale words it in its own language: "payment_deadline" when the
	// order was not paid in time. Empty for the others, whose Reason is
	// shown as written.
	Code string `json:"code"`
}

// ShipmentData is the parcel of order.shipped.
type ShipmentData struct {
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
	TrackingURL    string `json:"tracking_url"`
}

// RefundData is the refund of order.refunded.
type RefundData struct {
	// Amount refunded. Required.
	Amount Money  `json:"amount"`
	Reason string `json:"reason"`
}

// PaymentData is the payment attempt of payment.failed and
// payment.instructions.
type PaymentData struct {
	// State is the attempt's state, e.g. FAILED or PENDING.
	State string `json:"state"`
	// Amount asked of the buyer. Required.
	Amount Money `json:"amount"`
	// DeclineCode and Message are the gateway's reason for a decline;
	// Message is meant for the buyer.
	DeclineCode string `json:"decline_code"`
	Message     string `json:"message"`
	// Action is the buyer's next step (INSTRUCTIONS, REDIRECT, ...).
	Action string `json:"action"`
	// Instructions are the text to follow, e.g. bank details. Required by
	// payment.instructions.
	Instructions string `json:"instructions"`
	// Reference is what to quote with the payment (the order number).
	Reference string `json:"reference"`
	// ExpiresAt is when the instructions stop working, if they do.
	ExpiresAt time.Time `json:"expires_at"`
}

// CustomerData is the buyer named in staff.order_paid.
type CustomerData struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// InvitationData is the invitation of staff.invitation.
type InvitationData struct {
	// InviterName is who invited.
	InviterName string `json:"inviter_name"`
	// Role offered, e.g. "manager".
	Role string `json:"role"`
}

// Data is the JSON object Kassa sends as notify.Message.Data. Each email
// uses the parts it needs; unknown fields are ignored.
type Data struct {
	Store        StoreData         `json:"store"`
	Order        *OrderData        `json:"order"`
	Shipment     *ShipmentData     `json:"shipment"`
	Refund       *RefundData       `json:"refund"`
	Cancellation *CancellationData `json:"cancellation"`
	Invitation   *InvitationData   `json:"invitation"`
	Payment      *PaymentData      `json:"payment"`
	Customer     *CustomerData     `json:"customer"`
	// ExpiresAt is when the link of an account email stops working.
	ExpiresAt time.Time `json:"expires_at"`
}

// SecretData is the JSON object Kassa sends as notify.Message.SecretData:
// what must never be logged or kept.
type SecretData struct {
	// Link is the absolute URL with the token (verify, reset, accept
	// invitation). Required by the account emails.
	Link string `json:"link"`
	// Code is the token to type in by hand, when Kassa offers that.
	Code string `json:"code"`
}

// view is what the templates see.
type view struct {
	Data
	Recipient notify.Recipient
	Secret    SecretData
	Locale    string
}

// templateSet is the parsed templates of one message in one locale.
type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// catalog holds every template, by locale and id.
type catalog map[string]map[string]*templateSet

// loadCatalog parses the embedded templates.
func loadCatalog() (catalog, error) {
	cat := catalog{}
	for _, loc := range []string{localeEN, localeZH} {
		layout, err := fs.ReadFile(templateFS, path.Join("templates", loc, "layout.tmpl"))
		if err != nil {
			return nil, err
		}
		cat[loc] = map[string]*templateSet{}
		for _, id := range templateIDs {
			name := path.Join("templates", loc, id+".tmpl")
			body, err := fs.ReadFile(templateFS, name)
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", name, err)
			}
			funcs := funcsFor(loc)
			tt, err := texttemplate.New(id).Funcs(funcs).Option("missingkey=error").Parse(string(layout) + string(body))
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", name, err)
			}
			ht, err := htmltemplate.New(id).Funcs(funcs).Option("missingkey=error").Parse(string(layout) + string(body))
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", name, err)
			}
			for _, part := range []string{"subject", "text", "html"} {
				if tt.Lookup(part) == nil {
					return nil, fmt.Errorf("template %s defines no %q", name, part)
				}
			}
			cat[loc][id] = &templateSet{text: tt, html: ht}
		}
	}
	return cat, nil
}

// matchLocale picks the templates' locale for a BCP 47 tag: Simplified
// Chinese (zh, zh-CN, zh-Hans, zh-SG) gets zh-CN, everything else English.
func matchLocale(tag string) string {
	t := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
	if t == "zh" || strings.HasPrefix(t, "zh-") {
		if strings.Contains(t, "hant") || strings.HasSuffix(t, "-tw") || strings.HasSuffix(t, "-hk") || strings.HasSuffix(t, "-mo") {
			return localeEN // no Traditional Chinese templates yet
		}
		return localeZH
	}
	return localeEN
}

// rendered is an email's content.
type rendered struct {
	Subject, Text, HTML string
}

// render runs one template set.
func (s *templateSet) render(v *view) (rendered, error) {
	var subj, text, html bytes.Buffer
	if err := s.text.ExecuteTemplate(&subj, "subject", v); err != nil {
		return rendered{}, err
	}
	if err := s.text.ExecuteTemplate(&text, "text", v); err != nil {
		return rendered{}, err
	}
	if err := s.html.ExecuteTemplate(&html, "html", v); err != nil {
		return rendered{}, err
	}
	return rendered{
		Subject: strings.Join(strings.Fields(subj.String()), " "),
		Text:    strings.TrimSpace(text.String()) + "\n",
		HTML:    strings.TrimSpace(html.String()) + "\n",
	}, nil
}

// prepare decodes and checks a message's data for its template. A
// problem is reported as the message of an invalid_data failure.
func prepare(templateID string, msg notify.Message) (*view, error) {
	v := &view{Recipient: msg.Recipient}
	if len(bytes.TrimSpace(msg.Data)) > 0 {
		if err := json.Unmarshal(msg.Data, &v.Data); err != nil {
			return nil, fmt.Errorf("data is not a JSON object of the expected shape: %v", err)
		}
	}
	if len(bytes.TrimSpace(msg.SecretData)) > 0 {
		if err := json.Unmarshal(msg.SecretData, &v.Secret); err != nil {
			// Never quote secret data in the message.
			return nil, fmt.Errorf("secret_data is not a JSON object of the expected shape")
		}
	}
	switch templateID {
	case notify.TemplateOrderPlaced, notify.TemplateOrderPaid, notify.TemplateOrderShipped, notify.TemplateOrderRefunded,
		templateOrderCancelled, templateOrderDelivered, templateOrderCompleted, templateOrderPaymentReminder,
		templatePaymentFailed, templatePaymentInstructions, templateStaffOrderPaid:
		if v.Order == nil || v.Order.Number == "" {
			return nil, fmt.Errorf("data.order.number is required by %s", templateID)
		}
		if v.Order.Total.Currency == "" {
			return nil, fmt.Errorf("data.order.total is required by %s", templateID)
		}
		if templateID == notify.TemplateOrderRefunded && (v.Refund == nil || v.Refund.Amount.Currency == "") {
			return nil, fmt.Errorf("data.refund.amount is required by %s", templateID)
		}
		if (templateID == templateOrderPaymentReminder || templateID == templatePaymentFailed) && v.Order.PaymentDeadline.IsZero() {
			return nil, fmt.Errorf("data.order.payment_deadline is required by %s", templateID)
		}
		if (templateID == templatePaymentFailed || templateID == templatePaymentInstructions) && (v.Payment == nil || v.Payment.Amount.Currency == "") {
			return nil, fmt.Errorf("data.payment.amount is required by %s", templateID)
		}
		if templateID == templatePaymentInstructions && strings.TrimSpace(v.Payment.Instructions) == "" {
			return nil, fmt.Errorf("data.payment.instructions is required by %s", templateID)
		}
	case notify.TemplateAccountVerifyEmail, notify.TemplateAccountPasswordReset, notify.TemplateStaffInvitation:
		u, err := url.Parse(v.Secret.Link)
		if v.Secret.Link == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("secret_data.link (an absolute http(s) URL) is required by %s", templateID)
		}
	}
	return v, nil
}

// funcsFor returns the template functions of a locale.
func funcsFor(locale string) map[string]any {
	money, inZone := formatMoney, time.UTC
	if locale == localeZH {
		// Chinese buyers read yuan as ¥128.00, as the storefront shows them,
		// and times on Beijing time (China has one zone and no daylight
		// saving), not in UTC.
		money, inZone = formatMoneyZH, beijing
	}
	return map[string]any{
		"money": money,
		// country names a country code in the email's language; codes it
		// does not know stay codes.
		"country": func(code string) string {
			if name, ok := countryNames[locale][strings.ToUpper(code)]; ok {
				return name
			}
			return code
		},
		// button pairs a link and its label for the "button" template.
		"button": func(url, label string) struct{ URL, Label string } {
			return struct{ URL, Label string }{url, label}
		},
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			t = t.In(inZone)
			if locale == localeZH {
				return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
			}
			return t.Format("2 January 2006")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			t = t.In(inZone)
			if locale == localeZH {
				return fmt.Sprintf("%d年%d月%d日 %02d:%02d（北京时间）", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute())
			}
			return t.Format("2 January 2006, 15:04 UTC")
		},
	}
}

// beijing is China Standard Time, UTC+8 all year; a fixed zone needs no
// time zone database on the shop's machine.
var beijing = time.FixedZone("CST", 8*60*60)

// countryNames are the names of the countries shops ship to most, by
// locale; the English emails keep the code.
var countryNames = map[string]map[string]string{
	localeZH: {
		"CN": "中国", "HK": "中国香港", "MO": "中国澳门", "TW": "中国台湾", "SG": "新加坡", "JP": "日本",
		"KR": "韩国", "US": "美国", "CA": "加拿大", "GB": "英国", "DE": "德国", "FR": "法国",
		"NL": "荷兰", "IT": "意大利", "ES": "西班牙", "AU": "澳大利亚", "MY": "马来西亚", "TH": "泰国",
	},
}

// formatMoneyZH is formatMoney for Chinese readers: yuan as ¥1,234.56,
// other currencies with their code.
func formatMoneyZH(m Money) string {
	s := formatMoney(m)
	if !strings.EqualFold(m.Currency, "CNY") {
		return s
	}
	s = strings.TrimSuffix(s, " "+m.Currency)
	if neg, ok := strings.CutPrefix(s, "-"); ok {
		return "-¥" + neg
	}
	return "¥" + s
}

// minorDigits are the ISO 4217 currencies whose minor unit is not 1/100.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// formatMoney shows minor units with the currency's decimals and code:
// {123456 EUR} -> "1,234.56 EUR", {1500 JPY} -> "1,500 JPY".
func formatMoney(m Money) string {
	digits, ok := minorDigits[strings.ToUpper(m.Currency)]
	if !ok {
		digits = 2
	}
	neg := m.Amount < 0
	u := uint64(m.Amount)
	if neg {
		u = uint64(-m.Amount)
	}
	s := strconv.FormatUint(u, 10)
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	whole, frac := s[:len(s)-digits], s[len(s)-digits:]
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if digits > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String() + " " + m.Currency
}
