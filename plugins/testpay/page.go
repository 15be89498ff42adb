package main

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// The simulated payment page, served by Kassa under
// /plugins/payment.testpay/pay/{ref}: the buyer clicks Pay or Fail, like on
// a 3-D Secure challenge or a wallet's checkout page.
var pageTmpl = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="{{.T.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>testpay · {{.Amount}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
.box{border:1px solid #ccc;border-radius:8px;padding:1.5rem}.amt{font-size:2rem;margin:.5rem 0}
.note{color:#666;font-size:.9rem}button{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem;border-radius:6px;border:1px solid #888;cursor:pointer}
button.pay{background:#1a7f37;color:#fff;border-color:#1a7f37}</style></head>
<body><div class="box" id="testpay">
<p class="note">{{.T.Note}}</p>
<h1>{{.T.Order}} {{.Order}}</h1>
<p class="amt" id="amount">{{.Amount}}</p>
{{if .Open}}
<form method="post" action="{{.Action}}">
<button class="pay" type="submit" name="action" value="pay" id="pay">{{.T.Pay}}</button>
<button type="submit" name="action" value="fail" id="fail">{{.T.Fail}}</button>
</form>
{{else}}
<p id="status">{{printf .T.Status .Status}}</p>
{{if .ReturnURL}}<p><a href="{{.ReturnURL}}" id="return">{{.T.Back}}</a></p>{{end}}
{{end}}
</div></body></html>`))

type pageData struct {
	Order, Amount, Status, Action string
	ReturnURL                     template.URL
	Open                          bool
	T                             pageTexts
}

// pageTexts are the page's words in one language.
type pageTexts struct {
	Lang, Note, Order, Pay, Fail, Back string
	// Status is a sentence around the payment's state.
	Status string
	// States name the payment's states (lower case); others show as they are.
	States map[string]string
}

// The page speaks the buyer's language (CreateRequest.Locale): Simplified
// Chinese for zh, else English.
var (
	textsEN = pageTexts{Lang: "en", Note: "testpay sandbox · no real money moves", Order: "Order", Pay: "Pay", Fail: "Fail",
		Back: "Back to the shop", Status: "This payment is %s.", States: map[string]string{
			"requires_action": "waiting for you", "succeeded": "complete", "failed": "declined", "canceled": "closed"}}
	textsZH = pageTexts{Lang: "zh-CN", Note: "testpay 沙盒 · 不会产生真实资金流动", Order: "订单", Pay: "付款", Fail: "模拟失败",
		Back: "返回商店", Status: "此笔付款%s。", States: map[string]string{
			"pending": "处理中", "requires_action": "等待付款", "authorized": "已授权", "succeeded": "已完成",
			"failed": "未成功", "canceled": "已关闭", declineExpired: "已过期"}}
)

// textsFor picks the page's language for a BCP 47 tag.
func textsFor(locale string) pageTexts {
	if l := strings.ToLower(locale); l == "zh" || strings.HasPrefix(l, "zh-") {
		return textsZH
	}
	return textsEN
}

func formatAmount(amount int64, currency string) string {
	digits := 2
	switch currency {
	case "JPY", "KRW", "VND", "CLP", "ISK", "XOF", "XAF", "UGX":
		digits = 0
	case "BHD", "KWD", "OMR", "JOD", "TND":
		digits = 3
	}
	if digits == 0 {
		return fmt.Sprintf("%d %s", amount, currency)
	}
	div := int64(1)
	for range digits {
		div *= 10
	}
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, amount/div, digits, amount%div, currency)
}

// HandleHTTP implements sdk.Plugin: GET shows the payment page, POST with
// action=pay or action=fail completes it and redirects to the shop.
func (g *Gateway) HandleHTTP(_ context.Context, req sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	ref, ok := strings.CutPrefix(req.Path, "/pay/")
	if !ok || ref == "" || strings.Contains(ref, "/") {
		return text(http.StatusNotFound, "not found"), nil
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		return g.showPage(ref, req.BaseURL)
	case http.MethodPost:
		form, err := url.ParseQuery(string(req.Body))
		if err != nil {
			return text(http.StatusBadRequest, "bad form"), nil
		}
		return g.completePage(ref, form.Get("action"))
	default:
		return sdk.HTTPResponse{Status: http.StatusMethodNotAllowed, Header: http.Header{"Allow": {"GET, POST"}}}, nil
	}
}

func text(status int, msg string) sdk.HTTPResponse {
	return sdk.HTTPResponse{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte(msg + "\n")}
}

func (g *Gateway) showPage(ref, baseURL string) (sdk.HTTPResponse, error) {
	g.mu.Lock()
	p := g.st.byRef(ref)
	var d pageData
	var expired notification
	notifyURL := ""
	if p != nil && g.expire(p, time.Now()) {
		g.persist(entry{Payment: p})
		expired, notifyURL = g.eventFor(p, ""), p.NotifyURL
	}
	if p != nil {
		d = pageData{
			Order: p.OrderNumber, Amount: formatAmount(p.Amount, p.Currency), Status: strings.ToLower(p.Status),
			Action: baseURL + "/pay/" + ref, ReturnURL: template.URL(safeURL(p.ReturnURL)),
			Open: parseStatus(p.Status) == payment.StatusRequiresAction,
		}
	}
	if p != nil && p.DeclineCode == declineExpired {
		d.Status = declineExpired
	}
	if p != nil {
		d.T = textsFor(p.Locale)
		if w, ok := d.T.States[d.Status]; ok {
			d.Status = w
		}
		if n, ok := strings.CutSuffix(d.Amount, " CNY"); ok && d.T.Lang == textsZH.Lang {
			d.Amount = "¥" + n // as the shop's checkout shows yuan
		}
	}
	g.mu.Unlock()
	if p == nil {
		return text(http.StatusNotFound, "unknown payment"), nil
	}
	if notifyURL != "" {
		g.sync()
		g.notify(notifyURL, expired, 0)
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, d); err != nil {
		return sdk.HTTPResponse{}, err
	}
	return sdk.HTTPResponse{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Cache-Control": {"no-store"}},
		Body:   buf.Bytes(),
	}, nil
}

// safeURL keeps only absolute http(s) URLs for links and redirects. The
// page sends the buyer only to the return URL Kassa gave CreatePayment
// (Kassa admits the shop's own origins only); this is the page's own
// guard should a stored one be anything else ("http:evil", a URL with
// credentials, control characters).
func safeURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" || u.User != nil ||
		strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return ""
	}
	return s
}

func (g *Gateway) completePage(ref, action string) (sdk.HTTPResponse, error) {
	if action != "pay" && action != "fail" {
		return text(http.StatusBadRequest, "action must be pay or fail"), nil
	}
	g.mu.Lock()
	p := g.st.byRef(ref)
	if p == nil {
		g.mu.Unlock()
		return text(http.StatusNotFound, "unknown payment"), nil
	}
	changed := g.expire(p, time.Now())
	if changed {
		g.persist(entry{Payment: p})
	} else if parseStatus(p.Status) == payment.StatusRequiresAction {
		g.settle(p, action == "pay", payment.DeclineAuthenticationFailed)
		g.persist(entry{Payment: p})
		changed = true
	}
	ev, notifyURL, returnURL, status := g.eventFor(p, ""), p.NotifyURL, safeURL(p.ReturnURL), p.Status
	g.mu.Unlock()
	if changed {
		g.sync()
		g.notify(notifyURL, ev, 0)
	}
	if returnURL == "" {
		return text(http.StatusOK, "payment "+strings.ToLower(status)), nil
	}
	return sdk.HTTPResponse{Status: http.StatusSeeOther, Header: http.Header{"Location": {returnURL}}}, nil
}
