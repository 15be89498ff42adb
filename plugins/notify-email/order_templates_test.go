package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kassahq/kassa/plugins/sdk/notify"
)

// coreOrderData is an order email's data as Kassa's core sends it
// (core/notify, from the order service): the shop, the order with its
// lines, totals, shipping address and payment deadline, and what the
// event adds (the parcel of a shipment, the reason of a cancellation).
const coreOrderData = `{
 "store":{"name":"Teahouse","url":"https://tea.example","support_email":"help@tea.example"},
 "order":{"number":"#1042","url":"https://tea.example/account/orders/ord_01","placed_at":"2026-12-04T10:00:00Z",
  "lines":[{"name":"Oolong Tea – 100 g","sku":"TEA-1","quantity":2,"total":{"amount":2500,"currency":"CNY"}},
           {"name":"龙井茶 <礼盒>","sku":"TEA-2","quantity":1,"total":{"amount":8800,"currency":"CNY"}}],
  "subtotal":{"amount":11300,"currency":"CNY"},"discount":{"amount":0,"currency":"CNY"},
  "shipping":{"amount":1000,"currency":"CNY"},"tax":{"amount":640,"currency":"CNY"},"total":{"amount":12300,"currency":"CNY"},
  "shipping_address":{"name":"王小明","lines":["西湖区文三路 1 号"],"postal_code":"310000","city":"杭州","region":"浙江","country":"CN"},
  "payment_deadline":"2026-12-04T10:30:00Z"},
 "shipment":{"carrier":"SF Express","tracking_number":"SF1234567890"},
 "cancellation":{"reason":"payment deadline passed","code":"payment_deadline"}
}`

// TestOrderTemplatesRender renders every order email of the order's life
// in English and Simplified Chinese with the data the core sends: the
// subject names the order, the body its lines and total, and each email
// what its event adds; nothing renders as a missing value and the HTML
// escapes what buyers and staff wrote.
func TestOrderTemplatesRender(t *testing.T) {
	t.Parallel()
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id      string
		subject map[string]string
		// text holds what the plain text must say, by locale.
		text map[string][]string
	}{
		{notify.TemplateOrderPlaced,
			map[string]string{localeEN: "Thank you for your order #1042", localeZH: "感谢您的订单 #1042"},
			map[string][]string{localeEN: {"thank you for your order at Teahouse"}, localeZH: {"感谢您在Teahouse下单"}}},
		{notify.TemplateOrderShipped,
			map[string]string{localeEN: "Your order #1042 is on its way", localeZH: "您的订单 #1042 已发货"},
			map[string][]string{localeEN: {"Carrier: SF Express", "Tracking number: SF1234567890"}, localeZH: {"快递公司：SF Express", "运单号：SF1234567890"}}},
		{templateOrderCancelled,
			map[string]string{localeEN: "Your order #1042 has been cancelled", localeZH: "您的订单 #1042 已取消"},
			map[string][]string{localeEN: {"Reason: it was not paid in time.", "You have not been charged"}, localeZH: {"取消原因：订单未在付款期限内支付", "未向您收取任何费用"}}},
		{templateOrderDelivered,
			map[string]string{localeEN: "Your order #1042 has been delivered", localeZH: "您的订单 #1042 已送达"},
			map[string][]string{localeEN: {"your order #1042 has arrived"}, localeZH: {"已送达，祝您使用愉快"}}},
		{templateOrderCompleted,
			map[string]string{localeEN: "Your order #1042 is complete", localeZH: "您的订单 #1042 已完成"},
			map[string][]string{localeEN: {"Thank you for shopping at Teahouse"}, localeZH: {"感谢您在Teahouse购物"}}},
		{templateOrderPaymentReminder,
			map[string]string{localeEN: "Reminder: your order #1042 is waiting for payment", localeZH: "提醒：您的订单 #1042 尚未付款"},
			map[string][]string{localeEN: {"reserved for you until 4 December 2026, 10:30 UTC", "Please pay 123.00 CNY"},
				localeZH: {"保留至 2026年12月4日 18:30（北京时间）", "支付 ¥123.00"}}},
	}
	for _, tc := range tests {
		for _, loc := range []string{localeEN, localeZH} {
			t.Run(loc+"/"+tc.id, func(t *testing.T) {
				msg := notify.Message{ID: "evt_1.notify.email", TemplateID: tc.id, Locale: loc,
					Recipient: notify.Recipient{Email: "wang@example.com", Name: "王小明"}, Data: json.RawMessage(coreOrderData)}
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
				// A Chinese email reads yuan as ¥, as the storefront does, and
				// the address from the country down, the country in words.
				want := map[string][]string{localeEN: {"123.00 CNY", "CN"}, localeZH: {"¥123.00", "中国 浙江 杭州 西湖区文三路 1 号 310000", "下单时间：2026年12月4日"}}[loc]
				want = append(append(want, "#1042", "王小明", "龙井茶 <礼盒>", "Oolong Tea – 100 g"), tc.text[loc]...)
				for _, w := range want {
					if !strings.Contains(got.Text, w) {
						t.Errorf("text lacks %q:\n%s", w, got.Text)
					}
				}
				if !strings.Contains(got.HTML, "龙井茶 &lt;礼盒&gt;") || strings.Contains(got.HTML, "<礼盒>") {
					t.Errorf("the HTML does not escape the line's name:\n%s", got.HTML)
				}
				if !strings.Contains(got.HTML, `lang="`+loc+`"`) {
					t.Errorf("the HTML is not marked as %s", loc)
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

// TestPaymentReminderNeedsDeadline: a reminder without the deadline it
// reminds of is refused as invalid data, not sent saying nothing.
func TestPaymentReminderNeedsDeadline(t *testing.T) {
	t.Parallel()
	data := strings.Replace(coreOrderData, `"payment_deadline":"2026-12-04T10:30:00Z"`, `"payment_deadline":"0001-01-01T00:00:00Z"`, 1)
	_, err := prepare(templateOrderPaymentReminder, notify.Message{TemplateID: templateOrderPaymentReminder, Data: json.RawMessage(data)})
	if err == nil || !strings.Contains(err.Error(), "payment_deadline") {
		t.Errorf("err = %v, want data.order.payment_deadline required", err)
	}
	if _, err := prepare(templateOrderCancelled, notify.Message{TemplateID: templateOrderCancelled, Data: json.RawMessage(data)}); err != nil {
		t.Errorf("a cancellation needs no deadline: %v", err)
	}
}

// TestCancellationReason: a cancellation the shop made itself is worded
// by each locale; one by staff or the buyer shows their reason as written.
func TestCancellationReason(t *testing.T) {
	t.Parallel()
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	staffReason := strings.Replace(coreOrderData, `"reason":"payment deadline passed","code":"payment_deadline"`, `"reason":"缺货 & out of stock"`, 1)
	for loc, want := range map[string]string{localeEN: "Reason: 缺货 & out of stock", localeZH: "取消原因：缺货 & out of stock"} {
		v, err := prepare(templateOrderCancelled, notify.Message{TemplateID: templateOrderCancelled, Data: json.RawMessage(staffReason)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := cat[loc][templateOrderCancelled].render(v)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got.Text, want) || !strings.Contains(got.HTML, "缺货 &amp; out of stock") {
			t.Errorf("%s: the staff's reason is not shown as written:\n%s\n%s", loc, got.Text, got.HTML)
		}
		if strings.Contains(got.Text, "not paid in time") || strings.Contains(got.Text, "付款期限") {
			t.Errorf("%s: a staff cancellation worded as a missed deadline:\n%s", loc, got.Text)
		}
	}
}
