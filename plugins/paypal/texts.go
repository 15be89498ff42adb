package main

import "strings"

// text is a buyer-facing message in English and Simplified Chinese.
type text struct{ en, zh string }

// Buyer-facing messages.
var (
	textCurrency = text{
		en: "PayPal cannot take payments in this currency. Please choose another payment method.",
		zh: "PayPal 不支持该币种付款，请选择其他支付方式。",
	}
	textAmount = text{
		en: "The amount cannot be paid with PayPal.",
		zh: "该金额无法使用 PayPal 支付。",
	}
	textMethod = text{
		en: "This PayPal payment method is not available. Please choose another payment method.",
		zh: "该 PayPal 支付方式不可用，请选择其他支付方式。",
	}
	textRefused = text{
		en: "PayPal could not start the payment. Please try again or choose another payment method.",
		zh: "PayPal 暂时无法发起付款，请重试或选择其他支付方式。",
	}
	textApprove = text{
		en: "Log in to PayPal to review and approve the payment.",
		zh: "请登录 PayPal 确认并批准本次付款。",
	}
)

// in picks the message for a BCP 47 locale: Chinese for zh, zh-CN,
// zh-Hans and friends, English otherwise.
func (t text) in(locale string) string {
	if strings.HasPrefix(strings.ToLower(locale), "zh") {
		return t.zh
	}
	return t.en
}

// paypalLocale is the locale PayPal shows its pages in, for the buyer's
// BCP 47 locale; "" lets PayPal choose.
func paypalLocale(locale string) string {
	switch l := strings.ToLower(locale); {
	case strings.HasPrefix(l, "zh-tw"), strings.HasPrefix(l, "zh-hant"):
		return "zh-TW"
	case strings.HasPrefix(l, "zh-hk"):
		return "zh-HK"
	case strings.HasPrefix(l, "zh"):
		return "zh-CN"
	case strings.HasPrefix(l, "en"):
		return "en-US"
	}
	return ""
}
