package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// statusPage is o's status page, opened by the guest's token.
func (s *paymentShop) statusPage(o order) string {
	return s.in.base + "/orders/" + o.id + "/status?token=" + url.QueryEscape(o.token)
}

// startPayment starts a testpay payment whose gateway sends the buyer
// back to the order's status page; it returns the payment's action URL
// (empty when the scenario needs none).
func (s *paymentShop) startPayment(o order, card string) (statusURL, actionURL string) {
	s.t.Helper()
	statusURL = s.statusPage(o)
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

// paymentPages is a payment shop and a browser that records, from the
// first byte of every page on, what the pages' Content-Security-Policy
// blocked.
func paymentPages(t *testing.T) (*paymentShop, context.Context) {
	t.Helper()
	s := newPaymentShop(t)
	ctx := newBrowser(t)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}
	return s, ctx
}

// TestStatusPageTurnsPaidLive is the buyer's payment in Chromium: the
// order's status page shows the payment waiting, and turns PAID by
// itself when testpay's notification arrives, without a reload; and the
// buyer who pays on testpay's page lands back on the status page, PAID.
func TestStatusPageTurnsPaidLive(t *testing.T) {
	t.Parallel()
	s, ctx := paymentPages(t)

	// The buyer opens the status page of an order awaiting payment; an
	// asynchronous payment starts (testpay settles it two seconds later
	// and notifies Kassa); the page must follow.
	o := s.placeOrder()
	statusURL := s.statusPage(o)
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

// partlyPay has staff hold o's payment at testpay and capture all of it
// but 10.00: the order is PARTIALLY_PAID and owes 10.00. It returns the
// order's total and the part captured, as decimals.
func (s *paymentShop) partlyPay(o order) (total, part string) {
	s.t.Helper()
	var held struct {
		PaymentCreate struct {
			Payment    *struct{ ID, State string }
			UserErrors []struct{ Code, Message string }
		}
	}
	s.do(s.staff, `mutation($in: PaymentCreateInput!) { paymentCreate(input: $in) { payment { id state } userErrors { code message } } }`,
		map[string]any{"in": map[string]any{"orderId": o.id, "gatewayId": "payment.testpay", "paymentMethod": "succeed",
			"manualCapture": true, "returnUrl": s.in.base + "/orders/" + o.id + "/status", "idempotencyKey": key()}}, &held)
	if p := held.PaymentCreate.Payment; p == nil || p.State != "AUTHORIZED" {
		s.t.Fatalf("staff's authorization: %+v", held.PaymentCreate)
	}
	total = s.money(o).Total.Amount
	cents, err := strconv.ParseInt(strings.Replace(total, ".", "", 1), 10, 64)
	if err != nil || cents <= 1000 {
		s.t.Fatalf("total %q", total)
	}
	part = fmt.Sprintf("%d.%02d", (cents-1000)/100, (cents-1000)%100)
	var captured struct {
		PaymentCapture struct {
			Payment *struct {
				Order struct{ PaymentStatus string }
			}
			UserErrors []struct{ Code, Message string }
		}
	}
	s.do(s.staff, `mutation($in: PaymentCaptureInput!) { paymentCapture(input: $in) { payment { order { paymentStatus } } userErrors { code message } } }`,
		map[string]any{"in": map[string]any{"paymentId": held.PaymentCreate.Payment.ID, "amount": map[string]any{"amount": part, "currencyCode": "CNY"},
			"idempotencyKey": key()}}, &captured)
	if p := captured.PaymentCapture.Payment; p == nil || p.Order.PaymentStatus != "PARTIALLY_PAID" {
		s.t.Fatalf("staff's partial capture: %+v", captured.PaymentCapture)
	}
	return total, part
}

// TestStatusPagePaysTheRest is a buyer paying the rest of a partly paid
// order in Chromium: staff captured all but 10.00 of the payment; the
// status page shows what was paid and what is left (in English and in
// Chinese) with the payment methods; the buyer pays the rest on
// testpay's page, lands back on the status page and sees it PAID. The
// order took the rest once: two captures in the ledger adding up to the
// total, no payment flagged as a duplicate.
func TestStatusPagePaysTheRest(t *testing.T) {
	t.Parallel()
	s, ctx := paymentPages(t)
	o := s.placeOrder()
	total, part := s.partlyPay(o)
	statusURL := s.statusPage(o)
	shows := func(lang string, want ...string) {
		t.Helper()
		do(t, ctx, "the status page in "+lang, chromedp.Navigate(statusURL+"&lang="+lang), chromedp.WaitVisible(`#rest-form`))
		got := text(t, ctx, `#order-status`)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("the page in %s lacks %q:\n%s", lang, w, got)
			}
		}
	}

	// In Chinese first, then in English, where the buyer pays with the
	// first method, on testpay's page.
	shows("zh-CN", "部分付款", "已付", "¥"+part, "待付", "¥10.00", "支付余款", "请支付剩余的 ¥10.00", "支付 ¥10.00")
	shot(t, ctx, "order-status-partially-paid-zh.png")
	shows("en", "Partly paid", "¥"+total, "Paid", "¥"+part, "Still to pay", "¥10.00", "Pay the rest", "Pay ¥10.00")
	shot(t, ctx, "order-status-partially-paid.png")
	do(t, ctx, "paying the rest", chromedp.Click(`#rest-submit`), chromedp.WaitVisible(`#pay`))
	do(t, ctx, "paying on testpay's page", chromedp.Click(`#pay`), chromedp.WaitVisible(`#payment-status`))
	// Back before or after testpay's notification: PAID at once, or live.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#payment-status').dataset.status === 'PAID' && `+
		`(!document.querySelector('#rest') || document.querySelector('#rest').hidden)`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("back from testpay, the status page never showed PAID: %v", err)
	}
	shot(t, ctx, "order-status-rest-paid.png")
	if paid := text(t, ctx, `#payment-status`); !strings.Contains(paid, "Paid. Thank you!") {
		t.Fatalf("after paying the rest: %q", paid)
	}
	noCSPViolations(t, ctx)

	// Another partly paid order, its page open while the rest is paid
	// elsewhere (an asynchronous payment testpay settles two seconds
	// later): the page follows, without a reload.
	o2 := s.placeOrder()
	total2, _ := s.partlyPay(o2)
	do(t, ctx, "the second order's page", chromedp.Navigate(s.statusPage(o2)),
		chromedp.WaitVisible(`#rest-form`))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument = true`)); err != nil {
		t.Fatal(err)
	}
	s.startPayment(o2, "async")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#payment-status').dataset.status === 'PAID' && `+
		`document.querySelector('#amount-outstanding').textContent === '¥0.00'`, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the second order's page never turned PAID: %v", err)
	}
	shot(t, ctx, "order-status-rest-paid-live.png")
	live, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument === true && document.querySelector('#rest').hidden && `+
		`document.querySelector('#live-hint').hidden`))
	if err != nil || !live {
		t.Fatalf("the page turned PAID, but reloaded or still offers to pay the rest (%v)", err)
	}
	if paid := text(t, ctx, `#amount-paid`); paid != "¥"+total2 {
		t.Fatalf("the live page says %s paid, want the total %s", paid, total2)
	}

	// Each order took the rest once: two captures adding up to the
	// total, nothing flagged but the partial capture.
	var flagged struct {
		FlaggedPaymentEvents []struct{ Flag, OrderID string }
	}
	s.do(s.staff, `{ flaggedPaymentEvents(first: 100) { flag orderId } }`, nil, &flagged)
	for _, f := range flagged.FlaggedPaymentEvents {
		if f.Flag != "UNDERPAID" {
			t.Fatalf("order %s's payments were flagged %s", f.OrderID, f.Flag)
		}
	}
	for _, o := range []order{o, o2} {
		m := s.waitFor(o, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" })
		var captures []string
		for _, l := range m.PaymentLedger {
			if l.Kind == "CAPTURE" {
				captures = append(captures, l.Amount.Amount)
			}
		}
		if len(captures) != 2 || captures[1] != "10.00" || m.AmountPaid == nil || m.AmountPaid.Amount != m.Total.Amount {
			t.Fatalf("order %s: captures %v, paid %+v of %s", o.id, captures, m.AmountPaid, m.Total.Amount)
		}
	}
}

// TestStatusPageFollowsAShortTransfer is a guest's status page in
// Chromium while staff confirm their bank transfer short: the page shows
// the transfer's instructions, then, without the buyer doing anything,
// turns partly paid with what is left and the form paying it, and no
// longer the instructions asking the whole amount.
func TestStatusPageFollowsAShortTransfer(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t, "banktransfer")
	ctx := newBrowser(t)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}
	o := s.placeOrder()
	var res struct {
		PaymentCreate struct {
			Payment    *struct{ ID, State string }
			UserErrors []struct{ Code, Message string }
		}
	}
	s.do("", `mutation($in: PaymentCreateInput!) { paymentCreate(input: $in) { payment { id state } userErrors { code message } } }`,
		map[string]any{"in": map[string]any{"orderId": o.id, "token": o.token, "gatewayId": "payment.banktransfer", "idempotencyKey": key()}}, &res)
	if p := res.PaymentCreate.Payment; p == nil || p.State != "PENDING" {
		t.Fatalf("the bank transfer: %+v", res.PaymentCreate)
	}
	do(t, ctx, "the status page", chromedp.Navigate(s.statusPage(o)), chromedp.WaitVisible(`#instructions`))
	shot(t, ctx, "order-status-transfer.png")
	total := s.money(o).Total.Amount
	cents, err := strconv.ParseInt(strings.Replace(total, ".", "", 1), 10, 64)
	if err != nil || cents <= 1000 {
		t.Fatalf("total %q", total)
	}
	var confirmed struct {
		PaymentConfirmBankTransfer struct{ UserErrors []struct{ Code string } }
	}
	s.do(s.staff, `mutation($in: PaymentConfirmBankTransferInput!) { paymentConfirmBankTransfer(input: $in) { userErrors { code } } }`,
		map[string]any{"in": map[string]any{"orderId": o.id, "amount": map[string]any{"amount": fmt.Sprintf("%d.%02d", (cents-1000)/100, (cents-1000)%100), "currencyCode": "CNY"},
			"idempotencyKey": key()}}, &confirmed)
	if len(confirmed.PaymentConfirmBankTransfer.UserErrors) > 0 {
		t.Fatalf("staff's confirmation: %+v", confirmed.PaymentConfirmBankTransfer.UserErrors)
	}
	// The page reloads itself on the way: an evaluation may meet the
	// document going away, and is asked again.
	turned := false
	for deadline := time.Now().Add(30 * time.Second); !turned && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		turned, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#payment-status')?.dataset.status === 'PARTIALLY_PAID' && `+
			`document.querySelector('#rest-form') !== null && document.querySelector('#instructions') === null`))
	}
	if !turned {
		shot(t, ctx, "order-status-transfer-failed.png")
		t.Fatal("the open page never turned partly paid with the rest form")
	}
	shot(t, ctx, "order-status-transfer-short.png")
	if got := text(t, ctx, `#amount-outstanding`); got != "¥10.00" {
		t.Fatalf("the page says %s is left, want ¥10.00", got)
	}
	noCSPViolations(t, ctx)
}
