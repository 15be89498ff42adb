package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// TestPageRedirectsOnlyToTheReturnURL: completing the payment page sends
// the buyer to the return URL CreatePayment was given, and nowhere when
// that is not an absolute http(s) URL: the page takes no destination of
// its own from the request.
func TestPageRedirectsOnlyToTheReturnURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newInProcess(t, "")
	cases := []struct {
		name, returnURL, want string
	}{
		{"the shop's return URL", "https://shop.test/orders/ord_1/status?token=t", "https://shop.test/orders/ord_1/status?token=t"},
		{"none", "", ""},
		{"a scheme without a host", "http:evil.example", ""},
		{"credentials", "https://shop.test@evil.example/", ""},
		{"javascript", "javascript:alert(1)", ""},
		{"relative", "//evil.example/", ""},
		{"a control character", "https://shop.test/\r\nX: y", ""},
	}
	for i, c := range cases {
		res, err := g.CreatePayment(ctx, payment.CreateRequest{
			AttemptID: "pay_page_" + string(rune('a'+i)), OrderNumber: "#1", PaymentMethod: "redirect",
			Amount: sdk.Money{Amount: 100, Currency: "EUR"}, PluginBaseURL: "https://shop.test/plugins/payment.testpay", ReturnURL: c.returnURL,
		})
		if err != nil || res.Action.Type != payment.ActionRedirect {
			t.Fatalf("%s: CreatePayment: %+v %v", c.name, res, err)
		}
		ref := strings.TrimPrefix(res.Action.URL, "https://shop.test/plugins/payment.testpay/pay/")
		// A destination in the request is not one: only the stored URL counts.
		got, err := g.HandleHTTP(ctx, sdk.HTTPRequest{Method: http.MethodPost, Path: "/pay/" + ref,
			Body: []byte("action=pay&return=https%3A%2F%2Fevil.example%2F&returnUrl=https%3A%2F%2Fevil.example%2F")})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if loc := got.Header.Get("Location"); loc != c.want {
			t.Errorf("%s: %d Location %q, want %q", c.name, got.Status, loc, c.want)
		}
		if c.want == "" && got.Status != http.StatusOK {
			t.Errorf("%s: status %d, want 200 without a redirect", c.name, got.Status)
		}
		page, err := g.HandleHTTP(ctx, sdk.HTTPRequest{Method: http.MethodGet, Path: "/pay/" + ref, BaseURL: "https://shop.test/plugins/payment.testpay"})
		if err != nil {
			t.Fatal(err)
		}
		if c.want == "" && strings.Contains(string(page.Body), `id="return"`) {
			t.Errorf("%s: the finished page links back to %q", c.name, c.returnURL)
		}
	}
}

// TestPageInTheBuyersLanguage: a Chinese buyer's payment page is in
// Chinese, the amount in yuan as the checkout shows it, and so is the page
// once paid; others get English.
func TestPageInTheBuyersLanguage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := newInProcess(t, "")
	for _, c := range []struct {
		locale     string
		open, done []string
	}{
		{"zh-CN", []string{`<html lang="zh-CN">`, "<h1>订单 #7</h1>", "¥1.00", `id="pay">付款<`, "不会产生真实资金流动"}, []string{"此笔付款已完成。", "返回商店"}},
		{"en-GB", []string{`<html lang="en">`, "<h1>Order #7</h1>", "1.00 CNY", `id="pay">Pay<`}, []string{"This payment is complete.", "Back to the shop"}},
	} {
		res, err := g.CreatePayment(ctx, payment.CreateRequest{
			AttemptID: "pay_lang_" + c.locale, OrderNumber: "#7", PaymentMethod: "redirect", Locale: c.locale,
			Amount: sdk.Money{Amount: 100, Currency: "CNY"}, PluginBaseURL: "https://shop.test/plugins/payment.testpay", ReturnURL: "https://shop.test/r",
		})
		if err != nil {
			t.Fatal(err)
		}
		get := func() string {
			page, err := g.HandleHTTP(ctx, sdk.HTTPRequest{Method: http.MethodGet, Path: strings.TrimPrefix(res.Action.URL, "https://shop.test/plugins/payment.testpay"),
				BaseURL: "https://shop.test/plugins/payment.testpay"})
			if err != nil {
				t.Fatal(err)
			}
			return string(page.Body)
		}
		for _, want := range c.open {
			if body := get(); !strings.Contains(body, want) {
				t.Errorf("%s: the open page lacks %q:\n%s", c.locale, want, body)
			}
		}
		if _, err := g.HandleHTTP(ctx, sdk.HTTPRequest{Method: http.MethodPost, Path: strings.TrimPrefix(res.Action.URL, "https://shop.test/plugins/payment.testpay"),
			Body: []byte("action=pay")}); err != nil {
			t.Fatal(err)
		}
		for _, want := range c.done {
			if body := get(); !strings.Contains(body, want) {
				t.Errorf("%s: the paid page lacks %q:\n%s", c.locale, want, body)
			}
		}
	}
}
