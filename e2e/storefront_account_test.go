package e2e

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const accountOwner, accountOwnerPassword = "owner@example.com", "correct horse battery staple"

// accountShop is the demo shop with testpay and banktransfer and an
// owner, served by the built binary; it returns the instance, an
// in-stock product's handle and the owner's bearer token.
func accountShop(t *testing.T) (*instance, string, string) {
	t.Helper()
	dir, bins := t.TempDir(), t.TempDir()
	kassa(t, dir, "plugin", "install", buildPlugin(t, bins, "testpay"))
	kassa(t, dir, "plugin", "install", buildPlugin(t, bins, "banktransfer"))
	createOwner(t, dir, accountOwner, accountOwnerPassword)
	kassa(t, dir, "seed", "demo")
	in := start(t, dir)
	var products struct {
		Products struct {
			Edges []struct {
				Node struct {
					Handle   string
					Variants []struct{ AvailableQuantity int }
				}
			}
		}
	}
	in.graphql(`{ products(first: 30, currency: "CNY") { edges { node { handle variants { availableQuantity } } } } }`, nil, &products)
	for _, e := range products.Products.Edges {
		if len(e.Node.Variants) > 0 && e.Node.Variants[0].AvailableQuantity >= 10 {
			return in, e.Node.Handle, in.staffToken(accountOwner, accountOwnerPassword)
		}
	}
	t.Fatal("the demo shop has nothing in stock")
	return nil, "", ""
}

// phoneBrowser is Chromium at a phone's size, recording what the pages'
// Content-Security-Policy blocks.
func phoneBrowser(t *testing.T) context.Context {
	t.Helper()
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// do runs browser actions, failing the test with what was being done.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// text is the text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// noCSPViolations fails when a page broke its Content-Security-Policy.
func noCSPViolations(t *testing.T, ctx context.Context) {
	t.Helper()
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`)); err != nil || len(v) > 0 {
		t.Fatalf("the Content-Security-Policy blocked parts of the page: %v %v", v, err)
	}
}

// signUp opens an account from the header's sign-in link.
func signUp(t *testing.T, ctx context.Context, base, email, shotName string) {
	t.Helper()
	do(t, ctx, "sign-in link", chromedp.Navigate(base+"/"), chromedp.WaitVisible(`#account-link`), chromedp.Click(`#account-link`),
		chromedp.WaitVisible(`#login-form`), chromedp.Click(`#to-register`), chromedp.WaitVisible(`#register-form`))
	do(t, ctx, "sign-up form", chromedp.SetValue(`#f-firstName`, "芳"), chromedp.SetValue(`#f-lastName`, "王"),
		chromedp.SetValue(`#f-email`, email), chromedp.SetValue(`#f-password`, "tea leaves in the morning"))
	shot(t, ctx, shotName)
	do(t, ctx, "sign up", chromedp.Click(`#register-submit`), chromedp.WaitVisible(`#profile`))
	if got := text(t, ctx, `#account-email`); got != email {
		t.Fatalf("account page shows %q, want %q", got, email)
	}
}

// buyWithTestpay puts the product into the cart and checks out as the
// signed-in buyer, whose email the checkout shows already; pay says
// whether to pay on testpay's page (else the order is left unpaid). It
// returns the order's id.
func buyWithTestpay(t *testing.T, ctx context.Context, base, handle, email, name string, pay bool) string {
	t.Helper()
	do(t, ctx, "add to cart", chromedp.Navigate(base+"/products/"+handle), chromedp.WaitVisible(`form.buy button[type=submit]`),
		chromedp.Click(`form.buy button[type=submit]`), chromedp.WaitVisible(`#to-checkout`))
	shot(t, ctx, "account-cart-"+name+".png")
	do(t, ctx, "to checkout", chromedp.Click(`#to-checkout`), chromedp.WaitVisible(`#f-email`))
	if got, err := chromedp.Run(ctx, chromedp.Value(`#f-email`)); err != nil || got != email {
		t.Fatalf("the checkout's email is %q (%v), want the buyer's %q", got, err, email)
	}
	do(t, ctx, "contact", chromedp.SetValue(`#f-firstName`, "芳"), chromedp.SetValue(`#f-lastName`, "王"),
		chromedp.SetValue(`#f-line1`, "西湖区文三路1号"), chromedp.SetValue(`#f-city`, "杭州市"), chromedp.SetValue(`#f-province`, "浙江省"),
		chromedp.SetValue(`#f-postalCode`, "310012"), chromedp.Click(`#contact button[type=submit]`), chromedp.WaitVisible(`#shipping input[name=method]`))
	do(t, ctx, "shipping", chromedp.Click(`#shipping button[type=submit]`), chromedp.WaitVisible(`#place-order`))
	do(t, ctx, "place order", chromedp.Click(`#place-order`), chromedp.WaitVisible(`#pay-form`))
	if !pay {
		return ""
	}
	do(t, ctx, "to testpay", chromedp.Click(`#pay-form input[value="payment.testpay"]`), chromedp.Click(`#pay-form button[type=submit]`),
		chromedp.WaitVisible(`#fail`)) // on testpay's page: #fail is its own
	do(t, ctx, "pay on testpay", chromedp.Click(`#pay`), chromedp.WaitVisible(`#payment-status`))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#payment-status').dataset.status === 'PAID'`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the status page never turned PAID: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	m := regexp.MustCompile(`/orders/(ord_[0-9A-Z]+)/status`).FindStringSubmatch(loc)
	if err != nil || m == nil {
		t.Fatalf("after paying at %q (%v)", loc, err)
	}
	return m[1]
}

// TestStorefrontAccount is buyers in Chromium on a phone-sized screen:
// (a) one signs up, adds an address, buys with testpay and finds the
// order in their history; (c) staff refund part of it through the API
// and the buyer's order page shows the refund; (d) a buyer cancels an
// unpaid order; (b) a buyer in Chinese buys and every page is Chinese.
// No page breaks the Content-Security-Policy.
func TestStorefrontAccount(t *testing.T) {
	t.Parallel()
	in, handle, staff := accountShop(t)

	t.Run("a verification link opened signed out asks to sign in", func(t *testing.T) {
		ctx := phoneBrowser(t)
		do(t, ctx, "verify link", chromedp.Navigate(in.base+"/account/verify-email?token=kat_from_the_mail"), chromedp.WaitVisible(`#verify-sign-in`))
		shot(t, ctx, "account-verify-sign-in.png")
		if forms, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#verify-form').length`)); err != nil || forms != 0 {
			t.Fatalf("a signed-out visitor is offered to confirm (%d forms, %v)", forms, err)
		}
	})

	t.Run("sign up, address, buy, history, partial refund", func(t *testing.T) {
		ctx := phoneBrowser(t)
		const email = "fang@example.com"
		signUp(t, ctx, in.base, email, "account-signup.png")
		shot(t, ctx, "account-home.png")
		do(t, ctx, "new address", chromedp.Navigate(in.base+"/account/addresses/new"), chromedp.WaitVisible(`#address-form`))
		// On a phone the country's select takes its whole row: half a row
		// cut "China mainland" to "China mainlar".
		if whole, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
			const s = document.querySelector('#f-countryCode'), row = s.closest('.co-row2');
			return s.getBoundingClientRect().width >= 0.9 * row.getBoundingClientRect().width })()`)); err != nil || !whole {
			t.Errorf("the country select does not take its row at 390 px (%v)", err)
		}
		// The book's form suggests provinces as the checkout's does.
		if got := suggestedFor(t, ctx, "CN"); len(got.Options) != 34 || !got.Listed || !slices.Contains(got.Options, "Zhejiang") {
			t.Fatalf("the new address's province suggests %+v, want China's 34", got)
		}
		do(t, ctx, "the address", chromedp.SetValue(`#f-firstName`, "芳"), chromedp.SetValue(`#f-lastName`, "王"), chromedp.SetValue(`#f-line1`, "西湖区文三路1号"),
			chromedp.SetValue(`#f-city`, "杭州市"), chromedp.SetValue(`#f-province`, "浙江省"), chromedp.SetValue(`#f-postalCode`, "310012"),
			chromedp.Click(`#address-save`), chromedp.WaitVisible(`#addresses`))
		if got := text(t, ctx, `#addresses`); !strings.Contains(got, "西湖区文三路1号") {
			t.Fatalf("address book: %q", got)
		}
		shot(t, ctx, "account-addresses.png")

		paidOrder := buyWithTestpay(t, ctx, in.base, handle, email, "a", true)
		do(t, ctx, "history", chromedp.Navigate(in.base+"/account/orders"), chromedp.WaitVisible(`#order-`+paidOrder))
		shot(t, ctx, "account-orders.png")
		do(t, ctx, "order page", chromedp.Click(`#order-`+paidOrder+` a`), chromedp.WaitVisible(`#order-payments`))
		if s := text(t, ctx, `#order-payment-status`); s != "Paid" {
			t.Fatalf("order payment status %q, want Paid", s)
		}

		// (c) Staff refund part of the order through the API.
		out := in.graphqlAs(staff, `mutation { orderRefund(input: {orderId: "`+paidOrder+`", amount: {amount: "1.00", currencyCode: "CNY"}, reason: "a scratch", idempotencyKey: "`+key()+`"}) { refund { id state } userErrors { code message } } }`)
		if !strings.Contains(out, `"refund":{"id":"ref_`) {
			t.Fatalf("orderRefund: %s", out)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			do(t, ctx, "order page after the refund", chromedp.Navigate(in.base+"/account/orders/"+paidOrder), chromedp.WaitVisible(`#order-payments`))
			attr, _ := chromedp.Run(ctx, chromedp.AttributeValue(`#order-payment-status`, "data-status"))
			status := attr.Value
			if status == "PARTIALLY_REFUNDED" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the buyer's order page never showed the partial refund (payment status %q)", status)
			}
			time.Sleep(500 * time.Millisecond)
		}
		refunds := text(t, ctx, `#order-refunds`)
		if !strings.Contains(refunds, "¥1.00") || !strings.Contains(refunds, "Refunded") || !strings.Contains(text(t, ctx, `#amount-refunded`), "¥1.00") {
			t.Fatalf("refunds shown: %q", refunds)
		}
		shot(t, ctx, "account-order-refunded.png")
		noCSPViolations(t, ctx)
	})

	t.Run("cancel an unpaid order", func(t *testing.T) {
		ctx := phoneBrowser(t)
		const email = "lei@example.com"
		signUp(t, ctx, in.base, email, "account-signup-d.png")
		buyWithTestpay(t, ctx, in.base, handle, email, "d", false)
		do(t, ctx, "history", chromedp.Navigate(in.base+"/account/orders"), chromedp.WaitVisible(`.ac-order a`),
			chromedp.Click(`.ac-order a`), chromedp.WaitVisible(`#cancel-order`))
		shot(t, ctx, "account-order-unpaid.png")
		// A tap on "Cancel this order" only asks; the order stays open
		// until the buyer confirms.
		do(t, ctx, "ask to cancel", chromedp.Click(`#cancel-order`), chromedp.WaitVisible(`#cancel-order-yes`))
		shot(t, ctx, "account-order-cancel-confirm.png")
		if s := text(t, ctx, `#order-status`); s == "Cancelled" {
			t.Fatal("one tap cancelled the order")
		}
		do(t, ctx, "cancel", chromedp.Click(`#cancel-order-yes`), chromedp.WaitVisible(`#account-notice`))
		if s := text(t, ctx, `#order-status`); s != "Cancelled" {
			t.Fatalf("order status %q after cancelling, want Cancelled", s)
		}
		if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#cancel-order').length`)); err != nil || n != 0 {
			t.Fatalf("a cancelled order still offers to cancel (%d, %v)", n, err)
		}
		shot(t, ctx, "account-order-cancelled.png")
		noCSPViolations(t, ctx)
	})

	t.Run("a buyer in Chinese", func(t *testing.T) {
		ctx := phoneBrowser(t)
		const email = "li.na@example.com"
		do(t, ctx, "to Chinese", chromedp.Navigate(in.base+"/"), chromedp.WaitVisible(`a.lang`), chromedp.Click(`a.lang`),
			chromedp.WaitVisible(`html[lang="zh-CN"]`))
		if s := text(t, ctx, `#account-link`); s != "登录" {
			t.Fatalf("header link %q, want 登录", s)
		}
		signUp(t, ctx, in.base, email, "account-signup-zh.png")
		if s := text(t, ctx, `h1`); s != "我的账户" {
			t.Fatalf("account page title %q", s)
		}
		order := buyWithTestpay(t, ctx, in.base, handle, email, "zh", true)
		if s := text(t, ctx, `#payment-status`); !strings.Contains(s, "付款") && !strings.Contains(s, "谢谢") {
			t.Fatalf("status page in %q", s)
		}
		do(t, ctx, "history", chromedp.Navigate(in.base+"/account/orders"), chromedp.WaitVisible(`#order-`+order))
		if s := text(t, ctx, `#order-`+order); !strings.Contains(s, "已付款") {
			t.Fatalf("history line %q, want 已付款", s)
		}
		shot(t, ctx, "account-orders-zh.png")
		do(t, ctx, "order page", chromedp.Click(`#order-`+order+` a`), chromedp.WaitVisible(`#order-payments`))
		if s := text(t, ctx, `#order-payments h2`); s != "付款记录" {
			t.Fatalf("order page heading %q", s)
		}
		shot(t, ctx, "account-order-zh.png")
		noCSPViolations(t, ctx)
	})
}
