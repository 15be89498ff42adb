package storefront_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// apiAs runs an operation on the shop's API with the shopper's cookies
// (a signed-in buyer's session, or none: a guest), as the buyer's own
// script would, with the CSRF header the API wants of cookie callers. It
// returns the data and the errors' codes.
func (b *shopper) apiAs(query string, vars map[string]any) (map[string]any, []string) {
	b.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, b.s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Kassa-CSRF", "1")
	res, raw := b.do(req)
	var env struct {
		Data   map[string]any
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal([]byte(raw), &env); err != nil {
		b.t.Fatalf("graphql answer %d: %v\n%s", res.StatusCode, err, raw)
	}
	var codes []string
	for _, e := range env.Errors {
		codes = append(codes, e.Extensions.Code)
	}
	return env.Data, codes
}

// paymentMethodDescriptions attacks PaymentMethod.description through
// the API: the order's guest (holding its token) reads each gateway's
// description in the language asked, and the default one for an absent,
// unknown, malformed or huge language; a control character is refused
// as any text input is; another guest and a signed-in buyer who do not
// own the order read nothing; and the plugins themselves stay closed to
// buyers. b is a guest whose order awaits payment.
func paymentMethodDescriptions(t *testing.T, s *testShop, b *shopper) {
	t.Helper()
	const op = `query($id: ID!, $token: String, $lang: String) { availablePaymentMethods(orderId: $id, token: $token) {
		gatewayId description(language: $lang) } }`
	orderID, token, _ := strings.Cut(b.cookie("kassa_order"), "~")
	if orderID == "" || token == "" {
		t.Fatalf("no guest order in the cookie %q", b.cookie("kassa_order"))
	}
	const testpayEN = "Sandbox gateway for development and demos: test cards decide the outcome. No money moves."
	const testpayZH = "用于开发和演示的沙盒网关：由测试卡决定结果，不会产生真实资金流动。"
	describe := func(data map[string]any) map[string]string {
		out := map[string]string{}
		ms, _ := data["availablePaymentMethods"].([]any)
		for _, m := range ms {
			m := m.(map[string]any)
			out[m["gatewayId"].(string)], _ = m["description"].(string)
		}
		return out
	}
	t.Run("the order's guest reads descriptions in every language asked", func(t *testing.T) {
		for _, c := range []struct {
			name string
			lang any
			want string
		}{
			{"absent", nil, testpayEN},
			{"English", "en", testpayEN},
			{"Chinese", "zh-CN", testpayZH},
			{"Chinese by script and region", "zh-Hans-CN", testpayZH},
			{"another script", "zh-TW", testpayEN},
			{"unknown", "fr", testpayEN},
			{"empty", "", testpayEN},
			{"malformed", "<script>!!", testpayEN},
			{"huge", strings.Repeat("zh-CN-", 20000), testpayEN},
		} {
			data, codes := b.apiAs(op, map[string]any{"id": orderID, "token": token, "lang": c.lang})
			got := describe(data)
			if len(codes) > 0 || got["payment.testpay"] != c.want || got["payment.banktransfer"] == "" {
				t.Errorf("%s: codes %v, descriptions %q; want testpay's %q", c.name, codes, got, c.want)
			}
		}
	})
	t.Run("a control character in the language is refused, nothing read", func(t *testing.T) {
		for _, lang := range []string{"zh-CN\x00", "en\n", "\x1b[31m"} {
			data, codes := b.apiAs(op, map[string]any{"id": orderID, "token": token, "lang": lang})
			if !slices.Equal(codes, []string{"INVALID_CHARACTERS"}) || len(describe(data)) > 0 {
				t.Errorf("language %q: codes %v, data %v", lang, codes, data)
			}
		}
	})
	t.Run("callers who do not own the order read nothing", func(t *testing.T) {
		stranger := s.shopper()
		data, codes := stranger.apiAs(op, map[string]any{"id": orderID, "lang": "zh-CN"})
		if len(codes) == 0 || len(describe(data)) > 0 {
			t.Errorf("a guest without the token: codes %v, data %v", codes, data)
		}
		data, codes = stranger.apiAs(op, map[string]any{"id": orderID, "token": strings.Repeat("x", 40), "lang": "zh-CN"})
		if len(codes) == 0 || len(describe(data)) > 0 {
			t.Errorf("a guest with a wrong token: codes %v, data %v", codes, data)
		}
		buyer := s.shopper()
		buyer.register("li.wei@example.com")
		data, codes = buyer.apiAs(op, map[string]any{"id": orderID, "lang": "zh-CN"})
		if len(codes) == 0 || len(describe(data)) > 0 {
			t.Errorf("another buyer: codes %v, data %v", codes, data)
		}
	})
	t.Run("the plugins stay closed to buyers", func(t *testing.T) {
		buyer := s.shopper()
		buyer.register("zhang.min@example.com")
		const plugins = `query($lang: String) { plugins { id description(language: $lang) } }`
		for name, who := range map[string]*shopper{"the order's guest": b, "a signed-in buyer": buyer} {
			data, codes := who.apiAs(plugins, map[string]any{"lang": "zh-CN"})
			if !slices.Contains(codes, "FORBIDDEN") && !slices.Contains(codes, "UNAUTHENTICATED") || (data != nil && data["plugins"] != nil) {
				t.Errorf("%s read the plugins: codes %v, data %v", name, codes, data)
			}
		}
	})
}
