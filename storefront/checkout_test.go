package storefront_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/testkit"
)

var (
	methodRE = regexp.MustCompile(`name="method" value="([^"]+)"`)
	keyRE    = regexp.MustCompile(`name="key" value="([^"]+)"`)
)

// contact is a valid contact and address form, in Hangzhou (the demo
// shop ships there).
func contact() url.Values {
	return url.Values{"step": {"contact"}, "email": {"wang.fang@example.com"}, "firstName": {"芳"}, "lastName": {"王"},
		"line1": {"西湖区文三路1号"}, "city": {"杭州市"}, "province": {"浙江省"}, "postalCode": {"310012"}, "countryCode": {"CN"}, "phone": {""}}
}

func with(v url.Values, field, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	out.Set(field, value)
	return out
}

// checkoutToPayment takes a shopper with a cart through the checkout's
// forms up to the payment step; it returns the payment step's page.
// atPayment is a new shopper who put one unit of the shop's product in
// the cart and went through checkout up to the payment step; page is
// that step.
func (s *testShop) atPayment() (b *shopper, page string) {
	s.t.Helper()
	b = s.shopper()
	b.visitProduct()
	wantRedirect(s.t, b.add(s.variant, "1"), "/cart")
	return b, b.checkoutToPayment()
}

func (b *shopper) checkoutToPayment() string {
	b.t.Helper()
	res, page := b.get("/checkout")
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `id="contact"`) {
		b.t.Fatalf("checkout: %d\n%s", res.StatusCode, page)
	}
	res, _ = b.post("/checkout", contact())
	wantRedirect(b.t, res, "/checkout")
	_, page = b.get("/checkout")
	m := methodRE.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no shipping method offered after the address:\n%s", page)
	}
	res, _ = b.post("/checkout", url.Values{"step": {"shipping"}, "method": {m[1]}})
	wantRedirect(b.t, res, "/checkout")
	_, page = b.get("/checkout")
	k := keyRE.FindStringSubmatch(page)
	if k == nil || !strings.Contains(page, `id="place-order"`) {
		b.t.Fatalf("the order cannot be placed after the shipping method:\n%s", page)
	}
	res, _ = b.post("/checkout/complete", url.Values{"key": {k[1]}})
	wantRedirect(b.t, res, "/checkout")
	if b.cookie("kassa_order") == "" || b.cookie("kassa_cart") != "" {
		b.t.Fatalf("after placing: order cookie %q, cart cookie %q", b.cookie("kassa_order"), b.cookie("kassa_cart"))
	}
	// The same form sent twice places one order: the second post finds
	// it awaiting payment.
	res, _ = b.post("/checkout/complete", url.Values{"key": {k[1]}})
	wantRedirect(b.t, res, "/checkout")
	res, page = b.get("/checkout")
	if res.StatusCode != http.StatusOK || !strings.Contains(page, `id="payment"`) {
		b.t.Fatalf("payment step: %d\n%s", res.StatusCode, page)
	}
	return page
}

// pay chooses a method on the payment step.
func (b *shopper) pay(page, gateway string) *http.Response {
	b.t.Helper()
	k := keyRE.FindStringSubmatch(page)
	if k == nil {
		b.t.Fatalf("no payment form:\n%s", page)
	}
	res, _ := b.post("/checkout/complete", url.Values{"key": {k[1]}, "pay": {gateway}})
	return res
}

// TestCheckoutWithoutJavaScript is a guest's whole checkout as forms, on
// both databases: refused addresses and emails change nothing (neither
// the email nor the address) and say why next to the field; the order is placed once; a declined payment comes back to
// the methods with the gateway's message; bank transfer shows its
// instructions; testpay sends the buyer to its page with the status
// page as the return URL.
func TestCheckoutWithoutJavaScript(t *testing.T) {
	for _, engine := range []testkit.Engine{testkit.SQLite, testkit.Postgres} {
		name := map[testkit.Engine]string{testkit.SQLite: "sqlite", testkit.Postgres: "postgres"}[engine]
		t.Run(name, func(t *testing.T) {
			s := newTestShop(t, engine)
			b := s.shopper()
			if res, _ := b.get("/checkout"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/cart" {
				t.Fatalf("checkout without a cart: %d to %q", res.StatusCode, res.Header.Get("Location"))
			}
			b.visitProduct()
			wantRedirect(t, b.add(s.variant, "1"), "/cart")
			res, page := b.get("/checkout")
			if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" || strings.Contains(page, `id="place-order"`) {
				t.Fatalf("checkout: %d %q\n%s", res.StatusCode, res.Header.Get("Cache-Control"), page)
			}

			refused := []struct {
				name, field, value, want string
			}{
				{"no city", "city", "", "This field is required"},
				{"no email", "email", "", "This field is required"},
				{"bad email", "email", "wang@", "valid email"},
				{"email with a name", "email", "Wang <wang@example.com>", "valid email"},
				{"control character", "line1", "文三路\x001号", "cannot be used"},
				{"newline", "city", "杭州\n市", "cannot be used"},
				{"too long", "line1", strings.Repeat("路", 201), "too long"},
				{"unknown country", "countryCode", "XX", "Choose a country"},
				{"invalid UTF-8", "firstName", "\xff\xfe", "cannot be used"},
				// The form takes it; the API does not (no dot in the
				// domain), and then sets the address neither.
				{"an email the API refuses", "email", "wang@localhost", "valid email"},
			}
			for _, c := range refused {
				t.Run(c.name, func(t *testing.T) {
					res, page := b.post("/checkout", with(contact(), c.field, c.value))
					if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="e-`+c.field+`"`) && c.field != "countryCode" || !strings.Contains(page, c.want) {
						t.Fatalf("answer %d, want 422 with %q next to %s:\n%s", res.StatusCode, c.want, c.field, page)
					}
					if !strings.Contains(page, "310012") {
						t.Fatal("the form lost what the buyer typed")
					}
					if _, email := b.cart(); email != "" {
						t.Fatalf("the cart changed: email %q", email)
					}
					var data struct {
						Cart *struct{ ShippingAddress *struct{ City string } }
					}
					b.s.query(`query($t: String) { cart(token: $t) { shippingAddress { city } } }`, map[string]any{"t": b.cookie("kassa_cart")}, &data)
					if data.Cart == nil || data.Cart.ShippingAddress != nil {
						t.Fatalf("the cart changed: shipping address %+v", data.Cart)
					}
				})
			}
			t.Run("nobody to deliver to", func(t *testing.T) {
				res, page := b.post("/checkout", with(with(contact(), "firstName", " "), "lastName", ""))
				if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="e-lastName"`) || !strings.Contains(page, "Enter a name or a company.") {
					t.Fatalf("answer %d, want 422 with the name required:\n%s", res.StatusCode, page)
				}
				if _, email := b.cart(); email != "" {
					t.Fatalf("the cart changed: email %q", email)
				}
			})
			if res, _ := b.post("/checkout", url.Values{"step": {"shipping"}, "method": {"shm_<script>"}}); res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("a malformed shipping method: %d", res.StatusCode)
			}

			page = b.checkoutToPayment()
			for _, want := range []string{`value="payment.testpay"`, `value="payment.banktransfer"`, `id="order-total"`} {
				if !strings.Contains(page, want) {
					t.Fatalf("payment step lacks %s:\n%s", want, page)
				}
			}

			// testpay sends the buyer to its page; the buyer fails there.
			res = b.pay(page, "payment.testpay")
			wantRedirect(t, res, s.URL+"/plugins/payment.testpay/pay/")
			gateway := res.Header.Get("Location")
			back, _ := b.post(strings.TrimPrefix(gateway, s.URL), url.Values{"action": {"fail"}})
			returnURL := back.Header.Get("Location")
			if !strings.HasPrefix(returnURL, s.URL+"/orders/ord_") || !strings.Contains(returnURL, "/status?token=") {
				t.Fatalf("testpay sends the buyer back to %q, want the order's status page", returnURL)
			}
			// testpay notifies Kassa of the decline on its own time.
			for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if _, page = b.get("/checkout"); strings.Contains(page, `id="declined"`) {
					break
				}
			}
			if !strings.Contains(page, `id="declined"`) || !strings.Contains(page, `value="payment.banktransfer"`) {
				t.Fatalf("after a decline the checkout does not offer the methods again:\n%s", page)
			}

			// Bank transfer: the instructions, and the way to the status
			// page.
			res = b.pay(page, "payment.banktransfer")
			wantRedirect(t, res, "/checkout")
			_, page = b.get("/checkout")
			if !strings.Contains(page, `id="instructions"`) || !strings.Contains(page, "DE89") || !strings.Contains(page, `id="status-link"`) {
				t.Fatalf("bank transfer instructions missing:\n%s", page)
			}
			// "Or pay another way" offers the card, not the transfer under way.
			if !strings.Contains(page, `value="payment.testpay"`) || strings.Contains(page, `value="payment.banktransfer"`) {
				t.Fatalf("the other ways to pay:\n%s", page)
			}
			if _, zh := b.get("/checkout?lang=zh-CN"); !strings.Contains(zh, "银行转账说明") {
				t.Fatalf("payment step in Chinese:\n%s", zh)
			}
		})
	}
}

// TestCheckoutPaysByRoutedMethod is the payment step on the shop's
// routes: the gateways are named and described in the buyer's language
// (the plugins' zh-CN names and descriptions, which the API gives every
// buyer and nothing else of the plugins: paymentMethodDescriptions);
// once the owner routes "card" to testpay, then to
// banktransfer, the buyer is offered the method, not the gateways, and
// with testpay down (its binary no longer the pinned one, so the host
// cannot start it) the payment fails over to banktransfer, whose
// instructions the buyer gets.
func TestCheckoutPaysByRoutedMethod(t *testing.T) {
	s := newTestShop(t, testkit.SQLite)
	b, _ := s.atPayment()
	_, zh := b.get("/checkout?lang=zh-CN")
	// The plugins' own descriptions replace the storefront's generic
	// "you pay on the provider's page".
	for _, want := range []string{`value="payment.testpay"`, ">测试支付<", ">银行转账<",
		">用于开发和演示的沙盒网关：由测试卡决定结果，不会产生真实资金流动。<", ">以订单号为附言，将款项转入店铺账户；店铺确认到账。<"} {
		if !strings.Contains(zh, want) {
			t.Fatalf("the payment step in Chinese lacks %s:\n%s", want, zh)
		}
	}
	if strings.Contains(zh, "在支付服务商页面付款") || strings.Contains(zh, "Sandbox gateway") {
		t.Fatalf("the payment step in Chinese shows the generic or the English text:\n%s", zh)
	}
	_, en := b.get("/checkout?lang=en")
	for _, want := range []string{">Sandbox gateway for development and demos: test cards decide the outcome. No money moves.<",
		">Pay by bank transfer to the shop&#39;s account with the order number as the reference; the shop confirms receipt.<"} {
		if !strings.Contains(en, want) {
			t.Fatalf("the payment step in English lacks %s:\n%s", want, en)
		}
	}
	paymentMethodDescriptions(t, s, b)
	b.get("/checkout?lang=zh-CN") // the rest of the test reads Chinese

	sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	if _, err := s.app.Payments.SetRoutes(sys, payment.SetRoutesInput{Method: "card",
		Routes: []payment.RouteInput{{GatewayID: "payment.testpay"}, {GatewayID: "payment.banktransfer"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Plugins.Disable(sys, "payment.testpay"); err != nil {
		t.Fatal(err)
	}
	tp, err := s.app.Plugins.Get(sys, "payment.testpay")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.app.Plugins.Dir(), tp.FileName), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Plugins.Enable(sys, "payment.testpay"); err != nil {
		t.Fatal(err)
	}

	_, zh = b.get("/checkout")
	if !strings.Contains(zh, `name="pay" value="card"`) || !strings.Contains(zh, ">银行卡<") || !strings.Contains(zh, "使用借记卡或信用卡付款。") ||
		strings.Contains(zh, `value="payment.testpay"`) || strings.Contains(zh, `value="payment.banktransfer"`) {
		t.Fatalf("the routed method is not offered alone, in Chinese:\n%s", zh)
	}
	_, page := b.get("/checkout?lang=en")
	if !strings.Contains(page, ">Card<") {
		t.Fatalf("the routed method in English:\n%s", page)
	}
	wantRedirect(t, b.pay(page, "card"), "/checkout")
	_, page = b.get("/checkout")
	if !strings.Contains(page, `id="instructions"`) || !strings.Contains(page, "DE89") {
		t.Fatalf("after failover the buyer does not get banktransfer's instructions:\n%s", page)
	}
	// The card, the only method, is under way: no other to offer, and no
	// claim that there is no way to pay.
	if strings.Contains(page, `value="card"`) || strings.Contains(page, `id="pay-form"`) || strings.Contains(page, `class="co-errors"`) {
		t.Fatalf("the payment under way is offered again, or called impossible:\n%s", page)
	}

	orderID, _, _ := strings.Cut(b.cookie("kassa_order"), "~")
	attempts, err := s.app.Payments.AttemptsOf(sys, []string{orderID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range attempts[orderID] {
		got = append(got, fmt.Sprintf("%s %s %s %s failover=%t", a.Method, a.GatewayID, a.State, a.DeclineCode, a.FailoverOf != nil))
	}
	want := []string{"card payment.testpay FAILED gateway_unavailable failover=false", "card payment.banktransfer PENDING  failover=true"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("attempts %q, want %q", got, want)
	}

	// A choice that is neither a method nor a gateway id is refused
	// before the API is asked.
	if res, _ := b.post("/checkout/complete", url.Values{"key": {newFormKey(page)}, "pay": {"Card!"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a malformed choice: %d", res.StatusCode)
	}
}

func newFormKey(page string) string {
	if k := keyRE.FindStringSubmatch(page); k != nil {
		return k[1]
	}
	return "k"
}
