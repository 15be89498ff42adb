package main

import "strings"

// text is a buyer-facing message in English and Simplified Chinese.
type text struct{ en, zh string }

// Buyer-facing messages.
var (
	textCurrency = text{
		en: "UnionPay online payment accepts Chinese yuan (CNY) only. Please choose another payment method.",
		zh: "银联在线支付仅支持人民币（CNY）付款，请选择其他支付方式。",
	}
	textMethod = text{
		en: "This UnionPay payment method is not available. Please choose another payment method.",
		zh: "该银联支付方式不可用，请选择其他支付方式。",
	}
	textAmount = text{
		en: "The amount cannot be paid with UnionPay.",
		zh: "该金额无法使用银联支付。",
	}
	textRefused = text{
		en: "UnionPay could not start the payment. Please try again or choose another payment method.",
		zh: "银联暂时无法发起付款，请重试或选择其他支付方式。",
	}
	textDeclined = text{
		en: "The bank card payment was declined. Please try another card or payment method.",
		zh: "银行卡支付未成功，请更换银行卡或其他支付方式。",
	}
	textPayTitle = text{
		en: "Continue to UnionPay",
		zh: "前往银联在线支付",
	}
	textPayBody = text{
		en: "You are being taken to UnionPay's secure page to pay %s. If nothing happens, press the button.",
		zh: "正在跳转到银联安全支付页面支付 %s。如果页面没有自动跳转，请点击下方按钮。",
	}
	textPayButton = text{
		en: "Pay with UnionPay",
		zh: "使用银联支付",
	}
	textCanceled = text{
		en: "This payment was canceled. Please return to the shop and start a new payment.",
		zh: "该笔付款已取消，请返回商店重新发起付款。",
	}
	textExpired = text{
		en: "The time to pay this order has run out. Please return to the shop and start a new payment.",
		zh: "该订单的付款时间已过，请返回商店重新发起付款。",
	}
	textReturned = text{
		en: "Thank you. The shop will confirm your payment as soon as UnionPay reports it; you can close this page.",
		zh: "谢谢。银联通知结果后商店将确认您的付款，您可以关闭此页面。",
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

// pageLocale picks the locale of a page: the attempt's, else the
// browser's first Accept-Language.
func pageLocale(stored, acceptLanguage string) string {
	if stored != "" {
		return stored
	}
	first, _, _ := strings.Cut(acceptLanguage, ",")
	return strings.TrimSpace(first)
}
