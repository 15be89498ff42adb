package graphql_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/testkit"
)

const (
	routesSetOp = `mutation($input: PaymentRoutesSetInput!) { paymentRoutesSet(input: $input) {
		routes { id method position gatewayId currency country minAmount { amount currencyCode } maxAmount { amount } createdBy }
		userErrors { field code } } }`
	routesOp        = `{ paymentRoutes { method position gatewayId currency country minAmount { amount } maxAmount { amount } } }`
	routedMethodsOp = `query($id: ID!, $token: String, $lang: String) { availablePaymentMethods(orderId: $id, token: $token) {
		method gatewayId name(language: $lang) actions } }`
	routedPayOp = `mutation($input: PaymentCreateInput!) { paymentCreate(input: $input) {
		payment { id gatewayId method failoverOf state declineCode action { type } } userErrors { field code } } }`
	routedOrderOp = `query($id: ID!) { order(id: $id) { paymentStatus payments { id gatewayId method failoverOf state declineCode } } }`
	pluginNamesOp = `query($lang: String) { plugins { id displayName(language: $lang) description(language: $lang) } }`
)

// Routing through GraphQL with two real plugin processes: testpay first,
// whose binary was tampered with so it cannot start (the plugin is down
// before the call), then banktransfer, which takes the payment.
func TestPaymentRouting(t *testing.T) {
	testpay, banktransfer := payBinaries(t)
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		s := &payShop{cartShop: newCartShop(t, ta)}
		listStorefront(t, ta)
		for _, p := range []struct{ bin, id, settings string }{
			{banktransfer, banktransferID, `{"account_holder":"Kassa Tea Ltd","iban":"DE89370400440532013000","bank_name":"Test Bank"}`},
			{testpay, testpayID, `{"webhook_secret":"` + testpaySecret + `"}`},
		} {
			res, err := ta.Plugins.Install(system(), p.bin, plugin.InstallOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ta.Plugins.UpdateSettings(system(), p.id, []byte(p.settings)); err != nil {
				t.Fatal(err)
			}
			if p.id == testpayID {
				// Not the pinned binary: the host refuses to start it.
				if err := os.WriteFile(filepath.Join(ta.Plugins.Dir(), res.Plugin.FileName), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ta.Plugins.Enable(system(), p.id); err != nil {
				t.Fatal(err)
			}
		}

		t.Run("staff set routes; other roles, guests and GET are refused", func(t *testing.T) {
			card := in("method", "card", "routes", []any{
				vars("gatewayId", testpayID),
				vars("gatewayId", banktransferID, "currency", "cny", "country", "CN", "minAmount", "1.00", "maxAmount", "100000.00"),
			})
			for _, sub := range []authz.Subject{payManager, paySupport, ordClerk, ordAlice} {
				if r := s.do(t, sub, routesSetOp, card); !slices.Equal(r.codes(), []string{"FORBIDDEN"}) {
					t.Errorf("%v set routes: %v", sub.Roles, r.codes())
				}
			}
			if r := s.do(t, ordGuest, routesSetOp, card); !slices.Equal(r.codes(), []string{"UNAUTHENTICATED"}) {
				t.Errorf("a guest set routes: %v", r.codes())
			}
			if r := s.do(t, ordAlice, routesOp, nil); !slices.Equal(r.codes(), []string{"FORBIDDEN"}) {
				t.Errorf("a buyer read routes: %v", r.codes())
			}
			eq(t, "routes before", testkit.EncodeJSON(t, must(t, s.do(t, paySupport, routesOp, nil)).get("paymentRoutes")), `[]`)

			res := must(t, s.do(t, ordFinance, routesSetOp, card))
			eq(t, "userErrors", res.get("paymentRoutesSet", "userErrors"), []any{})
			got := res.get("paymentRoutesSet", "routes").([]any)
			second := got[1].(map[string]any)
			eq(t, "routes", len(got), 2)
			eq(t, "second gateway", second["gatewayId"], banktransferID)
			eq(t, "currency", second["currency"], "CNY")
			eq(t, "minAmount", testkit.EncodeJSON(t, second["minAmount"]), `{"amount":"1.00","currencyCode":"CNY"}`)
			eq(t, "createdBy", second["createdBy"], "stf_finance")
			must(t, s.do(t, ordOwner, routesSetOp, card))

			doc := `mutation { paymentRoutesSet(input: {method: "card", routes: []}) { userErrors { code } } }`
			resp, err := http.Get(ta.URL + "/graphql?" + url.Values{"query": {doc}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			eq(t, "GET status", resp.StatusCode, http.StatusMethodNotAllowed)
			eq(t, "routes after GET", len(must(t, s.do(t, ordOwner, routesOp, nil)).get("paymentRoutes").([]any)), 2)
		})

		t.Run("bad input is refused with codes and changes nothing", func(t *testing.T) {
			before := testkit.EncodeJSON(t, must(t, s.do(t, ordOwner, routesOp, nil)).get("paymentRoutes"))
			many := make([]any, payment.MaxRoutes+1)
			for i := range many {
				many[i] = vars("gatewayId", testpayID)
			}
			route := func(kv ...any) map[string]any { return in("method", "card", "routes", []any{vars(kv...)}) }
			for _, c := range []struct {
				name  string
				input map[string]any
				want  string // a userError as field/path:code, or a top-level code
			}{
				{"an unknown gateway", route("gatewayId", "payment.nope"), "input/routes/0/gatewayId:UNKNOWN_GATEWAY"},
				{"a plugin that is not a gateway id", route("gatewayId", "not a plugin"), "input/routes/0/gatewayId:UNKNOWN_GATEWAY"},
				{"a bad currency", route("gatewayId", testpayID, "currency", "ABC"), "input/routes/0/currency:INVALID_CURRENCY"},
				{"a bad country", route("gatewayId", testpayID, "country", "XX"), "input/routes/0/country:INVALID_COUNTRY"},
				{"min above max", route("gatewayId", testpayID, "currency", "CNY", "minAmount", "10.00", "maxAmount", "9.99"), "input/routes/0/minAmount:INVALID_AMOUNT_RANGE"},
				{"a bound that is no amount", route("gatewayId", testpayID, "currency", "CNY", "maxAmount", "ten"), "input/routes/0/maxAmount:INVALID_AMOUNT_RANGE"},
				{"a huge bound", route("gatewayId", testpayID, "currency", "CNY", "maxAmount", strings.Repeat("9", 30)), "input/routes/0/maxAmount:INVALID_AMOUNT_RANGE"},
				{"a bound without a currency", route("gatewayId", testpayID, "maxAmount", "10.00"), "input/routes/0/currency:REQUIRED"},
				{"a bad method", in("method", "Card Payments", "routes", []any{}), "input/method:INVALID_METHOD"},
				{"a huge method", in("method", strings.Repeat("a", 5000), "routes", []any{}), "input/method:INVALID_METHOD"},
				{"too many routes", in("method", "card", "routes", many), "input/routes:TOO_MANY_ROUTES"},
				{"the same route twice", in("method", "card", "routes", []any{vars("gatewayId", testpayID), vars("gatewayId", testpayID)}), "input/routes/1/gatewayId:DUPLICATE_ROUTE"},
				{"a control character in the method", in("method", "card\x00", "routes", []any{}), "INVALID_CHARACTERS"},
				{"an ESC in a gateway id", route("gatewayId", "payment.testpay\x1b[2J"), "INVALID_CHARACTERS"},
			} {
				r := s.do(t, ordOwner, routesSetOp, c.input)
				var got []string
				if ues, ok := r.get("paymentRoutesSet", "userErrors").([]any); ok {
					for _, ue := range ues {
						m := ue.(map[string]any)
						var field []string
						for _, f := range m["field"].([]any) {
							field = append(field, f.(string))
						}
						got = append(got, strings.Join(field, "/")+":"+m["code"].(string))
					}
				}
				got = append(got, r.codes()...)
				if !slices.Contains(got, c.want) {
					t.Errorf("%s: %v, want %s", c.name, got, c.want)
				}
			}
			// A disabled plugin.
			if _, err := ta.Plugins.Disable(system(), banktransferID); err != nil {
				t.Fatal(err)
			}
			r := s.do(t, ordOwner, routesSetOp, route("gatewayId", banktransferID))
			if codes := testkit.EncodeJSON(t, r.get("paymentRoutesSet", "userErrors")); !strings.Contains(codes, "GATEWAY_DISABLED") {
				t.Errorf("a disabled plugin: %s %v", codes, r.codes())
			}
			if _, err := ta.Plugins.Enable(system(), banktransferID); err != nil {
				t.Fatal(err)
			}
			eq(t, "routes after refusals", testkit.EncodeJSON(t, must(t, s.do(t, ordOwner, routesOp, nil)).get("paymentRoutes")), before)
		})

		t.Run("a buyer pays by method: testpay is down, banktransfer takes it", func(t *testing.T) {
			o := s.guestOrder(t, 1)
			ms := must(t, s.do(t, ordGuest, routedMethodsOp, vars("id", o.id, "token", o.token, "lang", "zh-CN")))
			eq(t, "methods", testkit.EncodeJSON(t, ms.get("availablePaymentMethods")),
				`[{"actions":["NONE","REDIRECT","QR_CODE","INSTRUCTIONS"],"gatewayId":"payment.testpay","method":"card","name":"测试支付"}]`)
			ms = must(t, s.do(t, ordGuest, routedMethodsOp, vars("id", o.id, "token", o.token)))
			eq(t, "default name", ms.str("availablePaymentMethods", "0", "name"), "Test payments")

			res := must(t, s.do(t, ordGuest, routedPayOp, in("orderId", o.id, "token", o.token, "method", "card",
				"returnUrl", "https://shop.example/r", "idempotencyKey", "route-1")))
			p := "paymentCreate.payment."
			eq(t, p+"gatewayId", res.str("paymentCreate", "payment", "gatewayId"), banktransferID)
			eq(t, p+"method", res.str("paymentCreate", "payment", "method"), "card")
			eq(t, p+"state", res.str("paymentCreate", "payment", "state"), "PENDING")
			eq(t, p+"action", res.str("paymentCreate", "payment", "action", "type"), "INSTRUCTIONS")
			first := res.str("paymentCreate", "payment", "failoverOf")

			st := must(t, s.do(t, ordFinance, routedOrderOp, vars("id", o.id)))
			eq(t, "order payments", testkit.EncodeJSON(t, st.get("order", "payments")),
				`[{"declineCode":"gateway_unavailable","failoverOf":null,"gatewayId":"payment.testpay","id":"`+first+`","method":"card","state":"FAILED"},`+
					`{"declineCode":null,"failoverOf":"`+first+`","gatewayId":"payment.banktransfer","id":"`+res.str("paymentCreate", "payment", "id")+`","method":"card","state":"PENDING"}]`)
			eq(t, "paymentStatus", st.str("order", "paymentStatus"), "PENDING")

			// The repeat answers the same payment and makes no other.
			again := must(t, s.do(t, ordGuest, routedPayOp, in("orderId", o.id, "token", o.token, "method", "card",
				"returnUrl", "https://shop.example/r", "idempotencyKey", "route-1")))
			eq(t, "repeat", again.str("paymentCreate", "payment", "id"), res.str("paymentCreate", "payment", "id"))
			eq(t, "payments after repeat", len(must(t, s.do(t, ordFinance, routedOrderOp, vars("id", o.id))).get("order", "payments").([]any)), 2)

			// Gateway and method at once, and a method nobody routes.
			o2 := s.guestOrder(t, 1)
			for _, c := range []struct {
				name  string
				input map[string]any
				want  string
			}{
				{"gateway and method", in("orderId", o2.id, "token", o2.token, "method", "card", "gatewayId", testpayID), payment.CodeGatewayAndMethod},
				{"no route", in("orderId", o2.id, "token", o2.token, "method", "wechat"), payment.CodeNoRoute},
			} {
				if r := s.do(t, ordGuest, routedPayOp, c.input); !strings.Contains(testkit.EncodeJSON(t, r.get("paymentCreate", "userErrors")), c.want) {
					t.Errorf("%s: %v %v", c.name, r.Data, r.codes())
				}
			}
		})

		t.Run("plugins answer in the language asked", func(t *testing.T) {
			zh := must(t, s.do(t, ordOwner, pluginNamesOp, vars("lang", "zh-CN")))
			en := must(t, s.do(t, ordOwner, pluginNamesOp, vars("lang", "en")))
			names := func(r gqlResult) string {
				var out []string
				for _, p := range r.get("plugins").([]any) {
					m := p.(map[string]any)
					out = append(out, m["id"].(string)+"="+m["displayName"].(string))
				}
				slices.Sort(out)
				return strings.Join(out, " ")
			}
			eq(t, "zh-CN", names(zh), "payment.banktransfer=银行转账 payment.testpay=测试支付")
			eq(t, "en", names(en), "payment.banktransfer=Bank transfer payment.testpay=Test payments")
		})
	})
}
