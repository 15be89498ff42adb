package main

import "strings"

// text ids of messages shown to buyers.
const (
	msgCurrency      = "currency"
	msgAmount        = "amount"
	msgMethod        = "method"
	msgNeedsWeChat   = "needs_wechat"
	msgNeedsIP       = "needs_ip"
	msgFailed        = "failed"
	msgClosed        = "closed"
	msgScan          = "scan"
	msgOpenInWeChat  = "open_in_wechat"
	msgRedirect      = "redirect"
	msgPaid          = "paid"
	msgNotConfigured = "not_configured"
)

// texts holds every buyer-facing message in English and Simplified Chinese.
var texts = map[string][2]string{
	msgCurrency:      {"WeChat Pay only accepts payments in Chinese yuan (CNY). Please choose another payment method.", "微信支付仅支持人民币（CNY）付款，请选择其他支付方式。"},
	msgAmount:        {"The amount to pay is not valid.", "支付金额无效。"},
	msgMethod:        {"This WeChat Pay method is not available. Please choose another payment method.", "该微信支付方式不可用，请选择其他支付方式。"},
	msgNeedsWeChat:   {"Please open this page in WeChat to pay with WeChat Pay.", "请在微信内打开此页面，使用微信支付付款。"},
	msgNeedsIP:       {"WeChat Pay could not be started from this browser. Please scan the QR code instead.", "无法在此浏览器中发起微信支付，请改用扫码支付。"},
	msgFailed:        {"WeChat Pay could not start the payment. Please try again later or choose another payment method.", "微信支付暂时无法发起付款，请稍后重试或选择其他支付方式。"},
	msgClosed:        {"This payment has expired. Please start the payment again.", "该笔支付已关闭，请重新发起支付。"},
	msgScan:          {"Scan the QR code with WeChat to pay.", "请使用微信扫一扫扫描二维码完成支付。"},
	msgOpenInWeChat:  {"Confirm the payment in WeChat.", "请在微信中确认支付。"},
	msgRedirect:      {"You will be taken to WeChat Pay to complete the payment.", "即将跳转到微信支付完成付款。"},
	msgPaid:          {"This order has already been paid.", "该订单已支付。"},
	msgNotConfigured: {"WeChat Pay is not available at the moment.", "微信支付暂不可用。"},
}

// text returns message id in the buyer's locale: Simplified Chinese for
// any "zh" locale, English otherwise.
func text(id, locale string) string {
	t, ok := texts[id]
	if !ok {
		return id
	}
	l := strings.ToLower(locale)
	if l == "zh" || strings.HasPrefix(l, "zh-") || strings.HasPrefix(l, "zh_") {
		return t[1]
	}
	return t[0]
}
