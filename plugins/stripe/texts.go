package main

import "strings"

// text is a buyer-facing message in English and Simplified Chinese.
type text struct{ en, zh string }

// Buyer-facing messages.
var (
	textDeclined = text{
		en: "Your card was declined. Please try another card or payment method.",
		zh: "您的银行卡被拒绝，请换一张卡或选择其他支付方式。",
	}
	textFunds = text{
		en: "Your card has insufficient funds. Please try another card.",
		zh: "您的银行卡余额不足，请换一张卡。",
	}
	textExpired = text{
		en: "Your card has expired. Please try another card.",
		zh: "您的银行卡已过期，请换一张卡。",
	}
	textAuthentication = text{
		en: "The card could not be authenticated. Please try again or use another card.",
		zh: "银行卡验证未通过，请重试或换一张卡。",
	}
	textCurrency = text{
		en: "This currency cannot be paid by card here. Please choose another payment method.",
		zh: "该币种无法在此使用银行卡支付，请选择其他支付方式。",
	}
	textAmount = text{
		en: "The amount cannot be paid by card.",
		zh: "该金额无法使用银行卡支付。",
	}
	textMethod = text{
		en: "This payment method is not available. Please choose another payment method.",
		zh: "该支付方式不可用，请选择其他支付方式。",
	}
	textRefused = text{
		en: "The card payment could not be started. Please try again or choose another payment method.",
		zh: "暂时无法发起银行卡付款，请重试或选择其他支付方式。",
	}
	textPayOnPage = text{
		en: "Enter your card or wallet details to pay.",
		zh: "请输入银行卡或电子钱包信息完成付款。",
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

// declineText is the buyer's message for a Stripe decline or error code.
func declineText(code string) text {
	switch code {
	case "insufficient_funds":
		return textFunds
	case "expired_card":
		return textExpired
	case "authentication_required", "authentication_failed", "payment_intent_authentication_failure":
		return textAuthentication
	case "invalid_amount", "amount_too_small", "amount_too_large":
		return textAmount
	case "currency_not_supported":
		return textCurrency
	case "processing_error", "invalid_request", "api_error":
		return textRefused
	}
	return textDeclined
}

// checkoutLocale maps a BCP 47 locale to a Stripe Checkout locale ("auto"
// lets Stripe use the browser's).
func checkoutLocale(locale string) string {
	l := strings.ToLower(locale)
	switch {
	case l == "":
		return "auto"
	case strings.HasPrefix(l, "zh-tw"), strings.HasPrefix(l, "zh-hant"):
		return "zh-TW"
	case strings.HasPrefix(l, "zh-hk"):
		return "zh-HK"
	case strings.HasPrefix(l, "zh"):
		return "zh"
	case strings.HasPrefix(l, "en"):
		return "en"
	}
	return "auto"
}
