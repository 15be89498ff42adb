package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// startPayment starts a testpay payment whose gateway sends the buyer
// back to the order's status page; it returns the payment's action URL
// (empty when the scenario needs none).
func (s *paymentShop) startPayment(o order, card string) (statusURL, actionURL string) {
	s.t.Helper()
	statusURL = s.in.base + "/orders/" + o.id + "/status?token=" + url.QueryEscape(o.token)
	var res struct {
		PaymentCreate struct {
			Payment *struct {
				State  string
				Action *struct{ Type, URL string }
			}
			UserErrors []struct{ Code, Message string }
		}
	}
	s.do("", `mutation($in: PaymentCreateInput!) { paymentCreate(input: $in) { payment { state action { type url } } userErrors { code message } } }`,
		map[string]any{"in": map[string]any{"orderId": o.id, "token": o.token, "gatewayId": "payment.testpay",
			"returnUrl": statusURL, "paymentMethod": card, "idempotencyKey": key()}}, &res)
	p := res.PaymentCreate.Payment
	if p == nil || len(res.PaymentCreate.UserErrors) > 0 {
		s.t.Fatalf("paymentCreate %s: %+v", card, res.PaymentCreate.UserErrors)
	}
	if p.Action != nil {
		actionURL = p.Action.URL
	}
	return statusURL, actionURL
}

// cspRecorder records, from the first byte of every page on, what the
// pages' Content-Security-Policy blocked.
const cspRecorder = `window.__csp = []; document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`

// TestStatusPageTurnsPaidLive is the buyer's payment in Chromium: the
// order's status page shows the payment waiting, and turns PAID by
// itself when testpay's notification arrives, without a reload; and the
// buyer who pays on testpay's page lands back on the status page, PAID.
func TestStatusPageTurnsPaidLive(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t)
	ctx := newBrowser(t)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}

	// The buyer opens the status page of an order awaiting payment; an
	// asynchronous payment starts (testpay settles it two seconds later
	// and notifies Kassa); the page must follow.
	o := s.placeOrder()
	statusURL := s.in.base + "/orders/" + o.id + "/status?token=" + url.QueryEscape(o.token)
	if err := chromedp.Do(ctx, chromedp.Navigate(statusURL), chromedp.WaitVisible(`#payment-status`)); err != nil {
		t.Fatalf("status page: %v", err)
	}
	before, err := chromedp.Run(ctx, chromedp.Text(`#payment-status`))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, "order-status-pending.png", png)
	if !strings.Contains(before, "Waiting for your payment") {
		t.Fatalf("status page shows %q before any payment", before)
	}
	// A reload would lose this mark.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument = true`)); err != nil {
		t.Fatal(err)
	}
	s.startPayment(o, "async")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#payment-status').dataset.status === 'PAID'`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the status page never turned PAID: %v", err)
	}
	after, err := chromedp.Run(ctx, chromedp.Text(`#payment-status`))
	if err != nil {
		t.Fatal(err)
	}
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument === true`))
	if err != nil {
		t.Fatal(err)
	}
	png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, "order-status-paid.png", png)
	if !strings.Contains(after, "Paid. Thank you!") || !same {
		t.Fatalf("status %q, same document %v: want PAID without a reload", after, same)
	}
	hint, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#live-hint').hidden`))
	if err != nil || !hint {
		t.Fatalf("the 'updates by itself' hint still shows after PAID (%v)", err)
	}
	if violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`)); err != nil || len(violations) > 0 {
		t.Fatalf("the Content-Security-Policy blocked parts of the page: %v %v", violations, err)
	}
	paidOnce(t, s.money(o))

	// A redirect payment, in Chinese: the buyer pays on testpay's page
	// and comes back to the status page.
	o = s.placeOrder()
	statusURL, action := s.startPayment(o, "redirect")
	if action == "" {
		t.Fatal("the redirect scenario gave no action URL")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(action), chromedp.WaitVisible(`#pay`)); err != nil {
		t.Fatalf("testpay page: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#pay`), chromedp.WaitVisible(`#payment-status`)); err != nil {
		t.Fatalf("paying on testpay's page: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(statusURL+"&lang=zh-CN"), chromedp.WaitVisible(`#payment-status`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#payment-status').dataset.status === 'PAID'`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("back from testpay, the status page never showed PAID: %v", err)
	}
	zh, err := chromedp.Run(ctx, chromedp.Text(`#payment-status`))
	if err != nil {
		t.Fatal(err)
	}
	png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, "order-status-paid-zh.png", png)
	if !strings.Contains(zh, "已付款") {
		t.Fatalf("status in Chinese %q", zh)
	}
	paidOnce(t, s.money(o))
}
