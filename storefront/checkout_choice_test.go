package storefront

import (
	"testing"
)

// TestPaymentChoiceDescription: a gateway's option is described by its
// plugin (in the page's language, as the API answered) when the plugin
// gives a description, else by what paying that way asks of the buyer;
// a routed method the catalogs know keeps the shop's own words.
func TestPaymentChoiceDescription(t *testing.T) {
	h := newTestHandler(t, &catalogGraphQL{ran: map[string]int{}}, "")
	str := func(s string) *string { return &s }
	tests := []struct {
		name, lang string
		m          paymentMethod
		want       paymentChoice
	}{
		{"a gateway's description, en", "en",
			paymentMethod{GatewayID: "payment.testpay", Name: "Test payments", Description: "Sandbox gateway.", Actions: []string{"REDIRECT"}},
			paymentChoice{Value: "payment.testpay", Name: "Test payments", Description: "Sandbox gateway."}},
		{"a gateway's description, zh-CN", "zh-CN",
			paymentMethod{GatewayID: "payment.testpay", Name: "测试支付", Description: "沙盒网关。", Actions: []string{"REDIRECT"}},
			paymentChoice{Value: "payment.testpay", Name: "测试支付", Description: "沙盒网关。"}},
		{"no description: the action's text, en", "en",
			paymentMethod{GatewayID: "payment.x", Name: "X", Actions: []string{"QR_CODE"}},
			paymentChoice{Value: "payment.x", Name: "X", Description: "Scan a QR code with your wallet"}},
		{"a blank description: the action's text, zh-CN", "zh-CN",
			paymentMethod{GatewayID: "payment.x", Name: "X", Description: " \n ", Actions: []string{"INSTRUCTIONS"}},
			paymentChoice{Value: "payment.x", Name: "X", Description: "通过银行转账付款"}},
		{"a known routed method keeps the catalog's words, en", "en",
			paymentMethod{GatewayID: "payment.testpay", Method: str("card"), Name: "Test payments", Description: "Sandbox gateway.", Actions: []string{"REDIRECT"}},
			paymentChoice{Value: "card", Name: "Card", Description: "Pay with a debit or credit card."}},
		{"a known routed method keeps the catalog's words, zh-CN", "zh-CN",
			paymentMethod{GatewayID: "payment.testpay", Method: str("card"), Name: "测试支付", Description: "沙盒网关。", Actions: []string{"REDIRECT"}},
			paymentChoice{Value: "card", Name: "银行卡", Description: "使用借记卡或信用卡付款。"}},
		{"an unknown routed method takes its gateway's description", "zh-CN",
			paymentMethod{GatewayID: "payment.testpay", Method: str("crypto"), Name: "测试支付", Description: "沙盒网关。", Actions: []string{"REDIRECT"}},
			paymentChoice{Value: "crypto", Name: "测试支付", Description: "沙盒网关。"}},
		{"nothing at all", "en",
			paymentMethod{GatewayID: "payment.x", Name: "X"},
			paymentChoice{Value: "payment.x", Name: "X"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &page{Lang: tt.lang, msgs: h.cat}
			if got := tt.m.choice(p); got != tt.want {
				t.Errorf("choice = %+v, want %+v", got, tt.want)
			}
		})
	}
}
