package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kassahq/kassa/plugins/sdk/notify"
)

// corePaymentData is a payment email's data as Kassa's core sends it
// (core/notify, from the order and payment services): the order email's
// data with the payment attempt and, for staff, the buyer.
const corePaymentData = `{
 "store":{"name":"Teahouse","url":"https://tea.example","support_email":"help@tea.example"},
 "order":{"number":"#1042","placed_at":"2026-12-04T10:00:00Z",
  "lines":[{"name":"龙井茶 <礼盒>","sku":"TEA-2","quantity":1,"total":{"amount":8800,"currency":"CNY"}}],
  "subtotal":{"amount":8800,"currency":"CNY"},"discount":{"amount":0,"currency":"CNY"},
  "shipping":{"amount":1000,"currency":"CNY"},"tax":{"amount":0,"currency":"CNY"},"total":{"amount":9800,"currency":"CNY"},
  "payment_deadline":"2026-12-04T10:30:00Z","payment_url":"https://tea.example/orders/ord_01/status?token=t"},
 "payment":{"state":"FAILED","amount":{"amount":9800,"currency":"CNY"},"decline_code":"card_declined","message":"Your card was declined <sorry>.",
  "action":"INSTRUCTIONS","instructions":"Please transfer 98.00 CNY to:\nIBAN: DE89 3704 0044 0532 0130 00\nReference: #1042","reference":"#1042"},
 "customer":{"name":"王小明","email":"wang@example.com"}
}`

// TestPaymentTemplatesRender renders the payment emails in English and
// Simplified Chinese with the data the core sends: the subject names the
// order, the body the amount and what the email is for (the decline and
// the way to try again, the instructions with their reference, the paid
// order for staff), and the HTML escapes what gateways and buyers wrote.
func TestPaymentTemplatesRender(t *testing.T) {
	t.Parallel()
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id      string
		subject map[string]string
		text    map[string][]string
	}{
		{templatePaymentFailed,
			map[string]string{localeEN: "Your payment for order #1042 did not go through", localeZH: "订单 #1042 付款未成功"},
			map[string][]string{
				localeEN: {"your payment of 98.00 CNY for order #1042 did not go through", "Your card was declined <sorry>.",
					"reserved for you until 4 December 2026, 10:30 UTC", "Try again: https://tea.example/orders/ord_01/status?token=t"},
				localeZH: {"支付的 ¥98.00 未能成功", "保留至 2026年12月4日 18:30（北京时间）", "重新付款：https://tea.example/orders/ord_01/status?token=t"}}},
		{templatePaymentInstructions,
			map[string]string{localeEN: "How to pay for order #1042", localeZH: "订单 #1042 的付款方式"},
			map[string][]string{
				localeEN: {"Please pay 98.00 CNY, quoting the reference #1042,", "IBAN: DE89 3704 0044 0532 0130 00", "reserved for you until 4 December 2026, 10:30 UTC"},
				localeZH: {"请按以下方式支付 ¥98.00，并注明付款附言 #1042", "IBAN: DE89 3704 0044 0532 0130 00", "保留至 2026年12月4日 18:30（北京时间）"}}},
		{templateStaffOrderPaid,
			map[string]string{localeEN: "Order #1042 was paid: 98.00 CNY", localeZH: "订单 #1042 已付款：¥98.00"},
			map[string][]string{
				localeEN: {"order #1042 at Teahouse was paid (98.00 CNY) and can be prepared for shipping", "Customer: 王小明, wang@example.com"},
				localeZH: {"Teahouse的订单 #1042 已付款（¥98.00），可以备货发货了", "客户：王小明，wang@example.com"}}},
	}
	for _, tc := range tests {
		for _, loc := range []string{localeEN, localeZH} {
			t.Run(loc+"/"+tc.id, func(t *testing.T) {
				msg := notify.Message{ID: "evt_1.notify.email", TemplateID: tc.id, Locale: loc,
					Recipient: notify.Recipient{Email: "wang@example.com", Name: "王小明"}, Data: json.RawMessage(corePaymentData)}
				v, err := prepare(tc.id, msg)
				if err != nil {
					t.Fatal(err)
				}
				v.Locale = loc
				got, err := cat[loc][tc.id].render(v)
				if err != nil {
					t.Fatal(err)
				}
				if got.Subject != tc.subject[loc] {
					t.Errorf("subject %q, want %q", got.Subject, tc.subject[loc])
				}
				for _, w := range append([]string{"#1042", "龙井茶 <礼盒>"}, tc.text[loc]...) {
					if !strings.Contains(got.Text, w) {
						t.Errorf("text lacks %q:\n%s", w, got.Text)
					}
				}
				if !strings.Contains(got.HTML, "龙井茶 &lt;礼盒&gt;") || strings.Contains(got.HTML, "<礼盒>") || strings.Contains(got.HTML, "<sorry>") {
					t.Errorf("the HTML does not escape what others wrote:\n%s", got.HTML)
				}
				for _, part := range []string{got.Subject, got.Text, got.HTML} {
					if strings.Contains(part, "<no value>") || strings.Contains(part, "%!") || strings.Contains(part, "ZgotmplZ") {
						t.Errorf("a missing value renders:\n%s", part)
					}
				}
			})
		}
	}
}

// TestPaymentTemplatesNeedTheirData: a payment email without the amount,
// instructions without their text, a decline without the deadline to pay
// by, are refused as invalid data rather than sent saying nothing; a
// decline without a way back says to come back to the website.
func TestPaymentTemplatesNeedTheirData(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		id, from, to, want string
	}{
		{templatePaymentFailed, `"amount":{"amount":9800,"currency":"CNY"},"decline_code"`, `"decline_code"`, "data.payment.amount"},
		{templatePaymentInstructions, `"instructions":"Please transfer`, `"other":"Please transfer`, "data.payment.instructions"},
		{templatePaymentFailed, `"payment_deadline":"2026-12-04T10:30:00Z",`, ``, "data.order.payment_deadline"},
		{templateStaffOrderPaid, `"total":{"amount":9800,"currency":"CNY"},`, ``, "data.order.total"},
	} {
		data := strings.Replace(corePaymentData, tc.from, tc.to, 1)
		if data == corePaymentData {
			t.Fatalf("%s: the data did not change", tc.id)
		}
		if _, err := prepare(tc.id, notify.Message{TemplateID: tc.id, Data: json.RawMessage(data)}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %s required", tc.id, err, tc.want)
		}
	}
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	noLink := strings.Replace(corePaymentData, `,"payment_url":"https://tea.example/orders/ord_01/status?token=t"`, ``, 1)
	for loc, want := range map[string]string{localeEN: "try again with the same or another payment method on our website.", localeZH: "请返回我们的网站完成付款"} {
		v, err := prepare(templatePaymentFailed, notify.Message{TemplateID: templatePaymentFailed, Data: json.RawMessage(noLink)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := cat[loc][templatePaymentFailed].render(v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got.Text, want) || strings.Contains(got.HTML, "https://tea.example/orders") {
			t.Errorf("%s: a decline without a link:\n%s", loc, got.Text)
		}
	}
}
