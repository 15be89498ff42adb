package gateway

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// The hosted payment page. A plugin has no listener: Kassa serves
// /plugins/payment.example/... on the shop's origin and hands each request
// to HandleHTTP. The page is where a real gateway's own checkout would be
// (its card form, 3-D Secure, a wallet's login); here the buyer clicks Pay
// or Cancel.
//
// Security, in the order a reviewer asks:
//   - The link carries a 128-bit token made by CreatePayment. Without it the
//     page does not exist (404, the same as an unknown attempt), so knowing
//     an attempt id, which is no secret, is not enough.
//   - Pay and Cancel are POSTs that must carry the token in the form body,
//     which another site cannot read: no cross-site request can pay or
//     cancel for the buyer. GET never changes anything.
//   - The page works without JavaScript (Kassa serves plugin pages in a
//     sandbox without same-origin access anyway), is never cached, and sends
//     no Referer that would leak the token.
//   - Coming back to ReturnURL proves nothing to Kassa: it asks GetPayment,
//     and the notification of webhook.go follows.
var pageTmpl = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{{.T.Title}} {{.Order}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}
.amount{font-size:2rem}button{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem}</style></head>
<body><main>
<p><small>{{.T.Note}}</small></p>
<h1>{{.T.Title}} {{.Order}}</h1>
<p class="amount" id="amount">{{.Amount}}</p>
{{if .Open}}<form method="post" action="{{.Action}}">
<input type="hidden" name="token" value="{{.Token}}">
<button type="submit" name="action" value="pay" id="pay">{{.T.Pay}}</button>
<button type="submit" name="action" value="cancel" id="cancel">{{.T.Cancel}}</button>
</form>
{{else}}<p id="status">{{.Status}}</p>
{{if .ReturnURL}}<p><a href="{{.ReturnURL}}" id="return">{{.T.Back}}</a></p>{{end}}
{{end}}</main></body></html>`))

// pageTexts are the page's words in one language.
type pageTexts struct{ Title, Note, Pay, Cancel, Back, Paid, Failed, Closed string }

var pageWords = map[bool]pageTexts{ // keyed by "is Chinese"
	false: {Title: "Pay order", Note: "Example gateway: no real money moves.", Pay: "Pay", Cancel: "Cancel",
		Back: "Back to the shop", Paid: "This order is paid.", Failed: "The payment was cancelled.", Closed: "This payment is closed."},
	true: {Title: "支付订单", Note: "示例网关：不会产生真实扣款。", Pay: "支付", Cancel: "取消",
		Back: "返回商店", Paid: "该订单已支付。", Failed: "付款已取消。", Closed: "该付款已关闭。"},
}

// HandleHTTP implements sdk.Plugin: GET /pay/{attempt}?token=… shows the
// page, POST /pay/{attempt} with token and action=pay|cancel settles the
// payment and sends the buyer back to the shop. Anything else is 404, as
// the conformance kit checks.
func (g *Gateway) HandleHTTP(_ context.Context, req sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	attempt, ok := strings.CutPrefix(req.Path, "/pay/")
	if !ok || attempt == "" || strings.Contains(attempt, "/") {
		return plain(http.StatusNotFound, "not found"), nil
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		q, _ := url.ParseQuery(req.Query)
		return g.showPage(attempt, q.Get("token"), req.BaseURL)
	case http.MethodPost:
		form, err := url.ParseQuery(string(req.Body))
		if err != nil {
			return plain(http.StatusBadRequest, "malformed form"), nil
		}
		return g.submitPage(attempt, form.Get("token"), form.Get("action"), req.BaseURL)
	default:
		return sdk.HTTPResponse{Status: http.StatusMethodNotAllowed, Header: http.Header{"Allow": {"GET, HEAD, POST"}}}, nil
	}
}

// pageCharge finds the charge a page request is about, or nil when the
// attempt is unknown, has no page or the token is wrong; callers hold g.mu.
func (g *Gateway) pageCharge(attempt, token string) *charge {
	c, ok := g.payments[attempt]
	if !ok || c.token == "" || subtle.ConstantTimeCompare([]byte(c.token), []byte(token)) != 1 {
		return nil
	}
	return c
}

func (g *Gateway) showPage(attempt, token, baseURL string) (sdk.HTTPResponse, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.pageCharge(attempt, token)
	if c == nil {
		return plain(http.StatusNotFound, "not found"), nil
	}
	return render(c, baseURL)
}

// submitPage settles an open payment once; a second click, or a click after
// Kassa closed the payment (CancelPayment at the order's deadline), changes
// nothing and just takes the buyer back.
func (g *Gateway) submitPage(attempt, token, action, baseURL string) (sdk.HTTPResponse, error) {
	if action != "pay" && action != "cancel" {
		return plain(http.StatusBadRequest, "action must be pay or cancel"), nil
	}
	g.mu.Lock()
	c := g.pageCharge(attempt, token)
	if c == nil {
		g.mu.Unlock()
		return plain(http.StatusNotFound, "not found"), nil
	}
	var settled *Notification
	if c.status == payment.StatusRequiresAction {
		if action == "pay" {
			c.status = payment.StatusSucceeded
		} else {
			c.status, c.decline = payment.StatusFailed, payment.DeclineBuyerCanceled
		}
		n := notificationFor(c)
		settled = &n
	}
	returnURL, notifyURL := c.returnURL, c.notifyURL
	var page sdk.HTTPResponse
	var err error
	if returnURL == "" {
		page, err = render(c, baseURL) // no way back: show the outcome
	}
	g.mu.Unlock()
	if settled != nil {
		g.announce(notifyURL, *settled)
	}
	if returnURL == "" {
		return page, err
	}
	// 303: the browser follows with a GET, so a reload of the shop's page
	// does not post the form again.
	return sdk.HTTPResponse{Status: http.StatusSeeOther, Header: http.Header{"Location": {returnURL}}}, nil
}

// render draws the page for c; callers hold g.mu.
func render(c *charge, baseURL string) (sdk.HTTPResponse, error) {
	zh := isChinese(c.locale)
	d := struct {
		Lang, Order, Amount, Action, Token, Status string
		ReturnURL                                  string
		Open                                       bool
		T                                          pageTexts
	}{Lang: "en", Order: c.orderNumber, Amount: formatAmount(c.amount), Action: baseURL + "/pay/" + c.attemptID,
		Token: c.token, ReturnURL: c.returnURL, Open: c.status == payment.StatusRequiresAction, T: pageWords[zh]}
	if zh {
		d.Lang = "zh-CN"
	}
	switch c.status {
	case payment.StatusSucceeded:
		d.Status = d.T.Paid
	case payment.StatusFailed:
		d.Status = d.T.Failed
	default:
		d.Status = d.T.Closed
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, d); err != nil {
		return sdk.HTTPResponse{}, err
	}
	return sdk.HTTPResponse{Status: http.StatusOK, Body: buf.Bytes(), Header: http.Header{
		"Content-Type": {"text/html; charset=utf-8"}, "Cache-Control": {"no-store"}, "Referrer-Policy": {"no-referrer"},
	}}, nil
}

func plain(status int, msg string) sdk.HTTPResponse {
	return sdk.HTTPResponse{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte(msg + "\n")}
}

// formatAmount writes minor units in the currency's major unit, e.g.
// "19.99 EUR", "500 JPY".
func formatAmount(m sdk.Money) string {
	digits := 2
	switch m.Currency {
	case "JPY", "KRW", "VND", "CLP", "ISK", "XAF", "XOF", "UGX":
		digits = 0
	case "BHD", "JOD", "KWD", "OMR", "TND":
		digits = 3
	}
	if digits == 0 {
		return fmt.Sprintf("%d %s", m.Amount, m.Currency)
	}
	div, sign, v := int64(1), "", m.Amount
	for range digits {
		div *= 10
	}
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, v/div, digits, v%div, m.Currency)
}

// text is a buyer-facing message in English and Simplified Chinese.
type text struct{ en, zh string }

// Buyer-facing messages of CreatePayment.
var (
	textScan     = text{en: "Scan the QR code with your phone to pay.", zh: "请用手机扫描二维码完成付款。"}
	textDeclined = text{en: "The payment was declined. Please use another payment method.",
		zh: "付款被拒绝，请使用其他支付方式。"}
	textUnavailable = text{en: "This payment method is not available. Please choose another one.",
		zh: "该支付方式不可用，请选择其他支付方式。"}
)

// in picks the message for a BCP 47 locale (CreateRequest.Locale).
func (t text) in(locale string) string {
	if isChinese(locale) {
		return t.zh
	}
	return t.en
}

// isChinese reports whether a BCP 47 tag is Chinese (zh, zh-CN, zh-Hans ...).
func isChinese(locale string) bool { return strings.HasPrefix(strings.ToLower(locale), "zh") }
