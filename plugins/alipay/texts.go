package main

import "strings"

// text is a buyer-facing message in English and Simplified Chinese.
type text struct{ en, zh string }

// Buyer-facing messages.
var (
	textCurrency = text{
		en: "Alipay accepts payments in Chinese yuan (CNY) only. Please choose another payment method.",
		zh: "支付宝仅支持人民币（CNY）付款，请选择其他支付方式。",
	}
	textMethod = text{
		en: "This Alipay payment method is not available. Please choose another payment method.",
		zh: "该支付宝支付方式不可用，请选择其他支付方式。",
	}
	textAmount = text{
		en: "The amount cannot be paid with Alipay.",
		zh: "该金额无法使用支付宝支付。",
	}
	textRefused = text{
		en: "Alipay could not start the payment. Please try again or choose another payment method.",
		zh: "支付宝暂时无法发起付款，请重试或选择其他支付方式。",
	}
	textClosed = text{
		en: "This Alipay payment was closed. Please start a new payment.",
		zh: "该支付宝交易已关闭，请重新发起付款。",
	}
	textScan = text{
		en: "Scan the QR code with the Alipay app to pay.",
		zh: "请使用支付宝 App 扫描二维码完成付款。",
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
