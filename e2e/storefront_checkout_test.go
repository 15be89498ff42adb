package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// checkoutShop is the demo shop with testpay and banktransfer enabled
// by the demo seed, served by the built binary.
func checkoutShop(t *testing.T) (*instance, string) {
	t.Helper()
	dir, bins := t.TempDir(), t.TempDir()
	kassa(t, dir, "plugin", "install", buildPlugin(t, bins, "testpay"))
	kassa(t, dir, "plugin", "install", buildPlugin(t, bins, "banktransfer"))
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
			return in, e.Node.Handle
		}
	}
	t.Fatal("the demo shop has nothing in stock")
	return nil, ""
}

// shot saves a full-page PNG screenshot under e2e/screenshots.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, name, png)
}

// fillCheckout adds the product to the cart from its page and goes
// through the checkout's forms up to the payment step; name tells the
// screenshots apart.
func fillCheckout(t *testing.T, ctx context.Context, base, handle, name string) {
	t.Helper()
	steps := []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"product page", []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/products/" + handle), chromedp.WaitVisible(`form.buy button[type=submit]`)}},
		{"add to cart", []chromedp.Action[chromedp.Void]{chromedp.Click(`form.buy button[type=submit]`), chromedp.WaitVisible(`#to-checkout`)}},
	}
	for _, s := range steps {
		if err := chromedp.Do(ctx, s.actions...); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	shot(t, ctx, "cart-"+name+".png")
	steps = []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"to checkout", []chromedp.Action[chromedp.Void]{chromedp.Click(`#to-checkout`), chromedp.WaitVisible(`#f-email`)}},
		{"contact", []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(`#f-email`, "wang.fang@example.com"), chromedp.SetValue(`#f-firstName`, "芳"), chromedp.SetValue(`#f-lastName`, "王"),
			chromedp.SetValue(`#f-line1`, "西湖区文三路1号"), chromedp.SetValue(`#f-city`, "杭州市"), chromedp.SetValue(`#f-province`, "浙江省"),
			chromedp.SetValue(`#f-postalCode`, "310012"), chromedp.Click(`#contact button[type=submit]`), chromedp.WaitVisible(`#shipping input[name=method]`)}},
	}
	for _, s := range steps {
		if err := chromedp.Do(ctx, s.actions...); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	shot(t, ctx, "checkout-"+name+"-shipping.png")
	if err := chromedp.Do(ctx, chromedp.Click(`#shipping button[type=submit]`), chromedp.WaitVisible(`#place-order`)); err != nil {
		t.Fatalf("shipping method: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#place-order`), chromedp.WaitVisible(`#pay-form`)); err != nil {
		t.Fatalf("place order: %v", err)
	}
	shot(t, ctx, "checkout-"+name+"-payment.png")
}

// TestStorefrontCheckout is a buyer in Chromium on a phone-sized screen:
// the product goes into the cart, the checkout's forms are filled, the
// order is paid on testpay's page and the status page turns PAID by
// itself; a second buyer pays by bank transfer and sees the
// instructions. No page breaks the Content-Security-Policy.
func TestStorefrontCheckout(t *testing.T) {
	t.Parallel()
	in, handle := checkoutShop(t)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}
	fillCheckout(t, ctx, in.base, handle, "testpay")

	// testpay: its page, Pay, and back on the status page.
	if err := chromedp.Do(ctx, chromedp.Click(`#pay-form input[value="payment.testpay"]`), chromedp.Click(`#pay-form button[type=submit]`),
		chromedp.WaitVisible(`#fail`)); err != nil {
		t.Fatalf("to testpay's page: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#pay`), chromedp.WaitVisible(`#payment-status`)); err != nil {
		t.Fatalf("paying on testpay's page: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "/orders/ord_") || !strings.Contains(loc, "/status?token=") {
		t.Fatalf("back from testpay at %q (%v), want the order's status page", loc, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument = true`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#payment-status').dataset.status === 'PAID'`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("the status page never turned PAID: %v", err)
	}
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument === true`))
	if err != nil || !same {
		t.Fatalf("the status page reloaded to show PAID (%v)", err)
	}
	shot(t, ctx, "checkout-paid.png")
	if violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`)); err != nil || len(violations) > 0 {
		t.Fatalf("the Content-Security-Policy blocked parts of the page: %v %v", violations, err)
	}

	// The paid order leaves the checkout: the next buyer's cart is new.
	// This one pays by bank transfer, in Chinese.
	fillCheckout(t, ctx, in.base, handle, "bank")
	if err := chromedp.Do(ctx, chromedp.Click(`#pay-form input[value="payment.banktransfer"]`), chromedp.Click(`#pay-form button[type=submit]`),
		chromedp.WaitVisible(`#instructions`)); err != nil {
		t.Fatalf("bank transfer: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(`#instructions`))
	if err != nil || !strings.Contains(strings.ReplaceAll(text, " ", ""), "DE89370400440532013000") {
		t.Fatalf("bank transfer instructions %q (%v)", text, err)
	}
	shot(t, ctx, "checkout-bank-transfer.png")
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/checkout?lang=zh-CN"), chromedp.WaitVisible(`#instructions`)); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "checkout-bank-transfer-zh.png")
	if violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`)); err != nil || len(violations) > 0 {
		t.Fatalf("the Content-Security-Policy blocked parts of the page: %v %v", violations, err)
	}
}

// TestStorefrontCheckoutProvince: the demo shop taxes Quebec apart from
// the rest of Canada, so a Canadian address must name its province in a
// way Kassa reads. A buyer who types "Q C" is told so next to the field
// and stays on the form; "Québec" is taken and prices Quebec's tax.
func TestStorefrontCheckoutProvince(t *testing.T) {
	t.Parallel()
	in, handle := checkoutShop(t)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	address := func(province string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(`#f-email`, "marie@example.com"), chromedp.SetValue(`#f-firstName`, "Marie"), chromedp.SetValue(`#f-lastName`, "Tremblay"),
			chromedp.SetValue(`#f-line1`, "1 rue Sainte-Catherine"), chromedp.SetValue(`#f-city`, "Montréal"), chromedp.SetValue(`#f-province`, province),
			chromedp.SetValue(`#f-postalCode`, "H2X 1K4"), chromedp.SetValue(`#f-countryCode`, "CA"), chromedp.Click(`#contact button[type=submit]`),
		}
	}
	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(in.base + "/products/" + handle), chromedp.WaitVisible(`form.buy button[type=submit]`),
		chromedp.Click(`form.buy button[type=submit]`), chromedp.WaitVisible(`#to-checkout`),
		chromedp.Click(`#to-checkout`), chromedp.WaitVisible(`#f-email`)}
	steps = append(append(steps, address("Q C")...), chromedp.WaitVisible(`#e-province`))
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("an unreadable province: %v", err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(`#e-province`))
	if err != nil || !strings.Contains(msg, "QC") {
		t.Fatalf("the province's error %q (%v), want the hint naming QC", msg, err)
	}
	shot(t, ctx, "checkout-province-refused.png")
	if err := chromedp.Do(ctx, append(address("Québec"), chromedp.WaitVisible(`#shipping input[name=method]`))...); err != nil {
		t.Fatalf("the province spelled out: %v", err)
	}
	shot(t, ctx, "checkout-province-taken.png")
}

// provinceField is what the checkout's province field suggests: the
// country its datalist holds the subdivisions of ("" while loading), the
// options, and whether the input offers them (its list attribute).
type provinceField struct {
	Country string   `json:"country"`
	Options []string `json:"options"`
	Listed  bool     `json:"listed"`
}

// suggestedFor waits until the province field holds country's
// suggestions and reads them.
func suggestedFor(t *testing.T, ctx context.Context, country string) provinceField {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById('f-province-list').dataset.country === '`+country+`'`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("the province field never suggested %s's subdivisions: %v", country, err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[provinceField](`(() => {
		const list = document.getElementById('f-province-list');
		return {country: list.dataset.country, options: Array.from(list.options, o => o.value),
			listed: document.getElementById('f-province').getAttribute('list') === list.id};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestStorefrontProvinceSuggestions is a buyer in Chromium at checkout:
// the province field suggests the chosen country's subdivisions, drawn
// with the page (China's, by default), then, as the buyer picks another
// country from the select, that country's (the United States', none
// for Hong Kong, Canada's) without a reload; a suggestion picked is an
// address the shop takes, and the page drawn again suggests for the
// saved country. On the Chinese page, paging through the countries with
// the arrow keys ends on China's provinces in Chinese, whatever order the
// lists loaded in. No page breaks the Content-Security-Policy.
func TestStorefrontProvinceSuggestions(t *testing.T) {
	t.Parallel()
	in, handle := checkoutShop(t)
	ctx := phoneBrowser(t)
	do(t, ctx, "to checkout", chromedp.Navigate(in.base+"/products/"+handle+"?lang=en"), chromedp.WaitVisible(`form.buy button[type=submit]`),
		chromedp.Click(`form.buy button[type=submit]`), chromedp.WaitVisible(`#to-checkout`),
		chromedp.Click(`#to-checkout`), chromedp.WaitVisible(`#f-province`))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument = true`)); err != nil {
		t.Fatal(err)
	}
	check := func(what string, got provinceField, n int, first string, has ...string) {
		t.Helper()
		if len(got.Options) != n || got.Listed != (n > 0) || (n > 0 && got.Options[0] != first) {
			t.Fatalf("%s: %d suggestions starting %.3q, offered %v; want %d starting %q", what, len(got.Options), got.Options, got.Listed, n, first)
		}
		for _, s := range has {
			if !slices.Contains(got.Options, s) {
				t.Fatalf("%s: no %q among %q", what, s, got.Options)
			}
		}
	}
	check("China, drawn with the page", suggestedFor(t, ctx, "CN"), 34, "Anhui", "Zhejiang")

	// The buyer picks a country as people do, by typing its name into
	// the select; Chromium reads keys typed within a second of each
	// other as one name, so each pick waits that out first.
	pick := func(name, code string) provinceField {
		t.Helper()
		time.Sleep(1100 * time.Millisecond)
		do(t, ctx, "pick "+name, chromedp.SendKeys(`#f-countryCode`, name))
		if v, err := chromedp.Run(ctx, chromedp.Value(`#f-countryCode`)); err != nil || v != code {
			t.Fatalf("typing %q into the country select chose %q (%v), want %s", name, v, err, code)
		}
		return suggestedFor(t, ctx, code)
	}
	check("the United States", pick("United States", "US"), 57, "Alabama", "California", "New York")
	do(t, ctx, "type into the province", chromedp.ScrollIntoView(`#f-province`), chromedp.SendKeys(`#f-province`, "Cal"))
	shot(t, ctx, "checkout-province-suggestions.png")
	check("Hong Kong", pick("Hong Kong", "HK"), 0, "")
	if v, err := chromedp.Run(ctx, chromedp.Value(`#f-province`)); err != nil || v != "Cal" {
		t.Errorf("what the buyer typed did not stay when the country changed: %q (%v)", v, err)
	}
	check("Canada", pick("Canada", "CA"), 13, "Alberta", "Quebec", "British Columbia")
	if same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sameDocument === true`)); err != nil || !same {
		t.Fatalf("the page reloaded to follow the country (%v)", err)
	}

	// A suggestion picked is an address the shop takes: the demo shop
	// taxes Quebec apart, so it reads the province.
	do(t, ctx, "the address with a suggested province",
		chromedp.SetValue(`#f-email`, "marie@example.com"), chromedp.SetValue(`#f-firstName`, "Marie"), chromedp.SetValue(`#f-lastName`, "Tremblay"),
		chromedp.SetValue(`#f-line1`, "1 rue Sainte-Catherine"), chromedp.SetValue(`#f-city`, "Montréal"), chromedp.SetValue(`#f-province`, "Quebec"),
		chromedp.SetValue(`#f-postalCode`, "H2X 1K4"), chromedp.Click(`#contact button[type=submit]`), chromedp.WaitVisible(`#shipping input[name=method]`))
	check("Canada, drawn for the saved address", suggestedFor(t, ctx, "CA"), 13, "Alberta", "Quebec")
	noCSPViolations(t, ctx)

	// The Chinese page: Canada's in English (Kassa knows no Chinese
	// names for them), then up the select to China, passing Hong Kong
	// and the others; each step asks for its list, and only China's
	// stays.
	do(t, ctx, "the Chinese page", chromedp.Navigate(in.base+"/checkout?lang=zh-CN"), chromedp.WaitVisible(`#f-province`))
	check("Canada on the Chinese page", suggestedFor(t, ctx, "CA"), 13, "Alberta")
	do(t, ctx, "up to China", chromedp.SendKeys(`#f-countryCode`, strings.Repeat(kb.ArrowUp, 7)))
	if v, err := chromedp.Run(ctx, chromedp.Value(`#f-countryCode`)); err != nil || v != "CN" {
		t.Fatalf("seven steps up from Canada chose %q (%v), want CN", v, err)
	}
	check("China on the Chinese page", suggestedFor(t, ctx, "CN"), 34, "安徽省", "浙江省", "北京市", "广西壮族自治区")
	// Quebec was Canada's suggestion: China has no such province, so it
	// goes, as with a province select.
	if v, err := chromedp.Run(ctx, chromedp.Value(`#f-province`)); err != nil || v != "" {
		t.Errorf("Canada's province stayed after moving to China: %q (%v)", v, err)
	}
	do(t, ctx, "type into the province", chromedp.ScrollIntoView(`#f-province`), chromedp.Clear(`#f-province`), chromedp.SendKeys(`#f-province`, "浙江"))
	shot(t, ctx, "checkout-province-suggestions-zh.png")
	noCSPViolations(t, ctx)
}
