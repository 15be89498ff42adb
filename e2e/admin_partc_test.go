package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestAdminPluginSettingsInWordsAndRows is the plugin settings screen in
// Chromium, in English and in Simplified Chinese:
//
//   - capabilities read as words (the code in a tooltip), not codes;
//   - in Chinese, the settings' titles and descriptions are the ones the
//     plugin's schema gives in zh-CN (x-kassa-titles), none of its English;
//   - notify.webhook's endpoints (an array of objects) are rows of fields:
//     two are added and saved with the signing secrets, which the page
//     and the API never show back; a row is removed; a refused URL shows
//     its error in its row.
func TestAdminPluginSettingsInWordsAndRows(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t, "notify-webhook")
	owner := newAdminTab(t, s.in.base, "owner-plugin-rows")
	owner.signIn(crashOwner, crashPassword)

	owner.do("testpay's page", chromedp.Navigate(s.in.base+"/admin/plugins/payment.testpay"), chromedp.WaitVisible(`#plugin-capabilities`))
	owner.shotAs("admin-partc-plugin-capabilities.png")
	caps := owner.text(`#plugin-capabilities`)
	for _, want := range []string{"Partial refunds", "Payment on the gateway's page", "Payment notifications"} {
		if !strings.Contains(caps, want) {
			t.Errorf("testpay's capabilities lack %q: %q", want, caps)
		}
	}
	if strings.Contains(caps, "refund.partial") || strings.Contains(caps, "action.redirect") {
		t.Errorf("testpay's capabilities show codes: %q", caps)
	}
	if owner.count(`#plugin-capabilities [title="refund.partial"]`) != 1 {
		t.Error("the capability's code is not in its tooltip")
	}

	owner.do("the webhook plugin in Chinese", chromedp.Navigate(s.in.base+"/admin/plugins/notify.webhook"), chromedp.WaitVisible(`#setting-endpoints`),
		fill(`.topbar .lang`, "zh-CN"), until(`document.querySelector('#setting-endpoints legend')?.textContent.startsWith('端点')`))
	if caps := owner.text(`#plugin-capabilities`); !strings.Contains(caps, "将店铺事件发送到您的系统") || strings.Contains(caps, "merchant_events") {
		t.Errorf("the webhook's capabilities in Chinese: %q", caps)
	}
	wordsIn(t, "the Chinese settings form", owner.text(`#plugin-settings`),
		[]string{"签名密钥", "尝试次数", "超时（毫秒）", "事件以 POST 发送到的地址", "尚未添加", "（必填）"},
		[]string{"Signing secrets", "Attempts", "Timeout (ms)", "Where events are POSTed", " (必填)"})

	const secretERP, secretCRM = "whsec_rows_erp_4kQ9zT2mW8", "whsec_rows_crm_7pL3xV6nB1"
	secrets, _ := json.Marshal(map[string]string{"erp": secretERP, "crm": secretCRM})
	owner.do("add two endpoints", chromedp.Click(`#add-setting-endpoints`), chromedp.Click(`#add-setting-endpoints`),
		until(`document.querySelectorAll('#setting-endpoints .setting-row').length === 2`),
		fill(`#setting-endpoints-0-name`, "erp"), fill(`#setting-endpoints-0-url`, "https://erp.example.com/hooks"),
		fill(`#setting-endpoints-0-events`, "order.paid\norder.*\n"), fill(`#setting-endpoints-0-description`, "账务系统"),
		fill(`#setting-endpoints-1-name`, "crm"), fill(`#setting-endpoints-1-url`, "https://crm.example.com/in"),
		fill(`#setting-signing_secrets`, string(secrets)))
	owner.shotAs("admin-partc-plugin-rows-zh.png")
	owner.do("save the endpoints", chromedp.Click(`#plugin-save`), chromedp.WaitVisible(`.banner-success`))
	type endpoint struct {
		Name, URL, Description string
		Events                 []string
	}
	stored := func() []endpoint {
		t.Helper()
		var res struct {
			Plugin struct {
				Settings struct{ Endpoints []endpoint }
			}
		}
		s.do(s.staff, `{ plugin(id: "notify.webhook") { settings } }`, nil, &res)
		return res.Plugin.Settings.Endpoints
	}
	got, _ := json.Marshal(stored())
	if want := `[{"Name":"erp","URL":"https://erp.example.com/hooks","Description":"账务系统","Events":["order.paid","order.*"]},{"Name":"crm","URL":"https://crm.example.com/in","Description":"","Events":null}]`; string(got) != want {
		t.Errorf("the stored endpoints:\n%s\nwant\n%s", got, want)
	}
	answer := s.in.graphqlAs(s.staff, `{ plugin(id: "notify.webhook") { settings secretFields { name isSet } } }`)
	if strings.Contains(answer, "whsec_rows") || !strings.Contains(answer, `{"name":"signing_secrets","isSet":true}`) {
		t.Errorf("the API after saving: %s", answer)
	}
	// A browser has a minute: the rest in another one (the language stays
	// the admin's default, English, there until chosen again).
	owner = newAdminTab(t, s.in.base, "owner-plugin-rows-2")
	owner.signIn(crashOwner, crashPassword)
	owner.do("the saved endpoints in Chinese", chromedp.Navigate(s.in.base+"/admin/plugins/notify.webhook"), chromedp.WaitVisible(`#setting-endpoints-1-url`),
		fill(`.topbar .lang`, "zh-CN"), until(`document.querySelector('#setting-endpoints legend')?.textContent.startsWith('端点')`))
	html, err := chromedp.Run(owner.ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML + [...document.querySelectorAll('input, textarea')].map(e => e.value).join(' ')`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "whsec_rows") {
		t.Error("the page holds a signing secret after a reload")
	}
	if v, err := chromedp.Run(owner.ctx, chromedp.Value(`#setting-endpoints-0-events`)); err != nil || v != "order.paid\norder.*" {
		t.Errorf("the first endpoint's events read %q (%v)", v, err)
	}
	if got := owner.text(`.secret-field .badge`); got != "已设置" {
		t.Errorf("the secrets' state reads %q", got)
	}

	// A URL the plugin refuses shows its error in its own row.
	// A new address needs its secret again (SECRET_REQUIRED otherwise).
	owner.do("a bad URL in the second row", fill(`#setting-endpoints-1-url`, "not a url"), fill(`#setting-signing_secrets`, string(secrets)),
		chromedp.Click(`#plugin-save`), chromedp.WaitVisible(`#setting-endpoints [data-row="1"] .field-error`))
	owner.shotAs("admin-partc-plugin-row-refused-zh.png")
	if e := owner.text(`#setting-endpoints [data-row="1"] .field-error`); !strings.Contains(e, "INVALID_SETTINGS") {
		t.Errorf("the row's error reads %q", e)
	}
	if n := owner.count(`#setting-endpoints [data-row="0"] .field-error`); n != 0 {
		t.Errorf("the good row shows %d errors", n)
	}

	owner.do("remove the second row and save", fill(`#setting-endpoints-1-url`, "https://crm.example.com/in"),
		chromedp.Click(`#setting-endpoints [data-row="1"] .remove-row`), until(`document.querySelectorAll('#setting-endpoints .setting-row').length === 1`),
		fill(`#setting-signing_secrets`, `{"erp":"`+secretERP+`"}`), chromedp.Click(`#plugin-save`), chromedp.WaitVisible(`.banner-success`))
	if eps := stored(); len(eps) != 1 || eps[0].Name != "erp" || strings.Join(eps[0].Events, " ") != "order.paid order.*" {
		t.Errorf("after removing a row the endpoints are %+v", eps)
	}
	owner.do("back to English", fill(`.topbar .lang`, "en"), until(`document.querySelector('#setting-endpoints legend')?.textContent.startsWith('Endpoints')`))
	owner.shotAs("admin-partc-plugin-rows-en.png")
	if form := owner.text(`#plugin-settings`); !strings.Contains(form, "Signing secrets") || strings.Contains(form, "签名密钥") {
		t.Errorf("the English settings form:\n%s", form)
	}
	owner.noCSPViolations()
}

// TestAdminRolesInWords is the roles screen in Chromium: the built-in
// roles' names and seeded descriptions and the permission matrix's
// objects and actions read as words in English and in Chinese, each code
// kept beside them, muted, or in a tooltip; saving a built-in role's
// permissions leaves its description as the server keeps it (never the
// translation shown), and a description staff write is saved as written.
func TestAdminRolesInWords(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t)
	owner := newAdminTab(t, s.in.base, "owner-roles-words")
	owner.signIn(crashOwner, crashPassword)
	description := func() string {
		t.Helper()
		var res struct{ Role struct{ Description string } }
		s.do(s.staff, `{ role(name: "finance") { description } }`, nil, &res)
		return res.Role.Description
	}
	seeded := description()

	owner.do("the finance role", chromedp.Navigate(s.in.base+"/admin/roles/finance"), chromedp.WaitVisible(`#permission-matrix`))
	owner.shotAs("admin-partc-roles-en.png")
	if got := owner.text(`#role-name`); got != "Finance" {
		t.Errorf("the role's name reads %q", got)
	}
	if got := owner.text(`[data-role="fulfillment"]`); !strings.Contains(got, "Fulfillment") || !strings.Contains(got, "fulfillment") {
		t.Errorf("the role list's entry reads %q, want the name and its code", got)
	}
	matrix := owner.text(`#permission-matrix`)
	for _, want := range []string{"API keys", "apikey", "Refunds", "refund", "Read own"} {
		if !strings.Contains(matrix, want) {
			t.Errorf("the English matrix lacks %q", want)
		}
	}
	if owner.count(`#permission-matrix th[title="read:own"]`) != 1 || owner.count(`input[data-perm="payment:read"][title="payment:read"][aria-label="Payments: Read"]`) != 1 {
		t.Error("the matrix's codes are not in its tooltips, or its boxes are not named in words")
	}

	owner.do("the roles in Chinese", fill(`.topbar .lang`, "zh-CN"), until(`document.querySelector('#role-name').textContent === "财务"`))
	owner.shotAs("admin-partc-roles-zh.png")
	if got := owner.text(`.role-list`); !strings.Contains(got, "所有者") || !strings.Contains(got, "拣货、打包和发货") || !strings.Contains(got, "owner") {
		t.Errorf("the Chinese role list:\n%s", got)
	}
	if v, err := chromedp.Run(owner.ctx, chromedp.Value(`#role-description`)); err != nil || v != "管理资金：付款、退款和报表。" {
		t.Errorf("the description field reads %q (%v)", v, err)
	}
	wordsIn(t, "the Chinese matrix", owner.text(`#permission-matrix`),
		[]string{"对象", "订单", "order", "API 密钥", "读取自己的"}, []string{"Orders", "Products", "Refunds", "Read own"})

	owner.do("give finance settings read", chromedp.Click(`input[data-perm="settings:read"]`), chromedp.Click(`#save-role`),
		chromedp.WaitVisible(`.banner-success`), chromedp.WaitVisible(`input[data-perm="settings:read"]:checked`))
	if got := description(); got != seeded {
		t.Errorf("saving the permissions wrote the description %q, was %q", got, seeded)
	}
	if msg := owner.text(`.banner-success`); !strings.Contains(msg, "财务") {
		t.Errorf("the notice reads %q", msg)
	}
	owner.do("write a description", fill(`#role-description`, "对账和开票"), chromedp.Click(`#save-role`),
		until(`document.querySelector('[data-role="finance"]')?.textContent.includes("对账和开票")`))
	if got := description(); got != "对账和开票" {
		t.Errorf("the typed description was saved as %q", got)
	}
	owner.do("the staff screen in Chinese", chromedp.Navigate(s.in.base+"/admin/staff"), chromedp.WaitVisible(`#invite-form`))
	owner.shotAs("admin-partc-staff-roles-zh.png")
	if got := owner.text(`#invite-form`); !strings.Contains(got, "客服") || !strings.Contains(got, "帮助买家") {
		t.Errorf("the invite form's roles in Chinese:\n%s", got)
	}
	if got := owner.text(`.staff-roles[data-email="` + crashOwner + `"]`); !strings.HasPrefix(got, "所有者") {
		t.Errorf("the owner's roles read %q", got)
	}
	owner.noCSPViolations()
}

// TestAdminRefundByLines is a refund by items on the order page in
// Chromium. The form offers each line's units not yet refunded and the
// shipping left, and sends units, not an amount: the server works the
// amount out, and the page shows what it made. When another staff member
// refunded the same units meanwhile, the server's LINE_ALREADY_REFUNDED
// shows, in English and then in Chinese, with its code; after a reload
// the form offers only the unit left, and refunding it with the shipping
// refunds the order whole.
func TestAdminRefundByLines(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t)
	o := s.placeOrderOf(3)
	if out, err := s.pay(o, "succeed"); err != nil {
		t.Fatalf("pay: %v %s", err, out)
	}
	s.waitFor(o, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" })
	var detail struct {
		Order struct {
			Lines    []struct{ ID string }
			Shipping struct{ Amount string }
		}
	}
	s.do(s.staff, `query($id: ID!) { order(id: $id) { lines { id } shipping { amount } } }`, map[string]any{"id": o.id}, &detail)
	if len(detail.Order.Lines) != 1 || detail.Order.Shipping.Amount == "0.00" {
		t.Fatalf("the order: %+v", detail.Order)
	}
	line := detail.Order.Lines[0].ID
	qty := `#refund-qty-` + line

	owner := newAdminTab(t, s.in.base, "owner-refund-lines")
	owner.signIn(crashOwner, crashPassword)
	owner.do("the refund form by items", chromedp.Navigate(s.in.base+"/admin/orders/"+o.id), chromedp.WaitVisible(`#refund`),
		chromedp.Click(`#refund`), chromedp.WaitVisible(`#refund-form`), chromedp.Click(`#refund-mode-lines`), chromedp.WaitVisible(qty))
	if got := owner.text(`label[for="refund-qty-` + line + `"]`); !strings.Contains(got, "3 of 3 refundable") {
		t.Errorf("the line's label reads %q", got)
	}
	if owner.count(`#refund-form-amount`) != 0 || owner.count(`#refund-shipping`) != 1 {
		t.Error("refunding by items still asks for an amount, or does not offer the shipping")
	}

	// Another staff member refunds two units meanwhile.
	var other struct {
		OrderRefund struct {
			Refunds    []struct{ State string }
			UserErrors []struct{ Code string }
		}
	}
	s.do(s.staff, `mutation($in: OrderRefundInput!) { orderRefund(input: $in) { refunds { state } userErrors { code } } }`,
		map[string]any{"in": map[string]any{"orderId": o.id, "lines": []any{map[string]any{"lineId": line, "quantity": 2}}, "idempotencyKey": key()}}, &other)
	if len(other.OrderRefund.UserErrors) > 0 || len(other.OrderRefund.Refunds) != 1 {
		t.Fatalf("the other refund: %+v", other.OrderRefund)
	}
	owner.do("refund the same two units", fill(qty, "2"), chromedp.Click(`#refund-form button[type=submit]`), chromedp.WaitVisible(`.banner-critical`))
	if got := owner.text(`.banner-critical`); !strings.Contains(got, "LINE_ALREADY_REFUNDED") {
		t.Errorf("the refused refund reads %q", got)
	}
	owner.do("the refusal in Chinese", fill(`.topbar .lang`, "zh-CN"),
		until(`document.querySelector('.banner-critical')?.textContent.includes('这些商品已经退过款')`))
	owner.shotAs("admin-partc-refund-lines-refused-zh.png")
	if got := owner.text(`.banner-critical`); !strings.Contains(got, "LINE_ALREADY_REFUNDED") {
		t.Errorf("the Chinese refusal lost its code: %q", got)
	}

	owner.do("reload and refund the last unit with the shipping", chromedp.Reload(), chromedp.WaitVisible(`#refund`),
		chromedp.Click(`#refund`), chromedp.Click(`#refund-mode-lines`), chromedp.WaitVisible(qty))
	if got := owner.text(`label[for="refund-qty-` + line + `"]`); !strings.Contains(got, "可退 1 件，共 3 件") {
		t.Errorf("after the other refund the line's label reads %q", got)
	}
	owner.do("refund it", fill(qty, "1"), chromedp.Click(`#refund-shipping`), fill(`#refund-form-reason`, "买家退货"),
		chromedp.Click(`#refund-form button[type=submit]`), chromedp.WaitVisible(`#refund-result`))
	owner.shotAs("admin-partc-refund-lines-made-zh.png")
	var refunds struct {
		Order struct {
			Refunds []struct {
				Amount, Shipping struct{ Amount string }
				Reason           string
				Lines            []struct {
					LineID   string
					Quantity int
				}
			}
		}
	}
	s.do(s.staff, `query($id: ID!) { order(id: $id) { refunds { amount { amount } shipping { amount } reason lines { lineId quantity } } } }`,
		map[string]any{"id": o.id}, &refunds)
	if n := len(refunds.Order.Refunds); n != 2 {
		t.Fatalf("the order has %d refunds, want 2", n)
	}
	last := refunds.Order.Refunds[1]
	if last.Shipping.Amount != detail.Order.Shipping.Amount || last.Reason != "买家退货" || len(last.Lines) != 1 || last.Lines[0].LineID != line || last.Lines[0].Quantity != 1 {
		t.Errorf("the refund made: %+v", last)
	}
	result := owner.text(`#refund-result`)
	if !strings.Contains(result, last.Amount.Amount) || !strings.Contains(result, "1 × ") || !strings.Contains(result, "运费") {
		t.Errorf("the page shows %q for the refund of %s", result, last.Amount.Amount)
	}
	s.waitFor(o, "REFUNDED", func(m money) bool { return m.PaymentStatus == "REFUNDED" })
	owner.do("the refunded order", chromedp.Reload(), until(`document.querySelector('#payment-status')?.textContent === "已退款"`),
		until(`document.querySelectorAll('.refund-parts').length === 2`))
	owner.shotAs("admin-partc-refund-lines-done-zh.png")
	if owner.count(`#refund`) != 0 {
		t.Error("a fully refunded order still offers a refund")
	}
	owner.noCSPViolations()
}

// TestAdminDashboardPaymentDays is the dashboard's payments per day in
// Chromium, in a browser whose time zone is on another calendar day than
// UTC now (Pago Pago, UTC-11, in the UTC morning; Kiritimati, UTC+14,
// after): the success-rate chart has its point for the paid order on the
// browser's today, the day the server cut at the browser's midnight, and
// none on UTC's.
func TestAdminDashboardPaymentDays(t *testing.T) {
	t.Parallel()
	zoneName := "Pacific/Kiritimati"
	if time.Now().UTC().Hour() < 10 {
		zoneName = "Pacific/Pago_Pago"
	}
	zone := oneDayIn(t, zoneName)
	s := newPaymentShop(t)
	o := s.placeOrder()
	if out, err := s.pay(o, "succeed"); err != nil {
		t.Fatalf("pay: %v %s", err, out)
	}
	s.waitFor(o, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" })
	today, utcToday := time.Now().In(zone).Format(time.DateOnly), time.Now().UTC().Format(time.DateOnly)
	if today == utcToday {
		t.Fatalf("%s is on UTC's day %s", zoneName, today)
	}

	owner := newAdminTab(t, s.in.base, "owner-dashboard-days")
	if _, err := chromedp.Call(owner.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zoneName}); err != nil {
		t.Fatal(err)
	}
	owner.signIn(crashOwner, crashPassword)
	owner.do("the dashboard's payments", chromedp.Navigate(s.in.base+"/admin/"), chromedp.WaitVisible(`.chart circle`))
	owner.shotAs("admin-partc-dashboard-days.png")
	points, err := chromedp.Run(owner.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.chart circle title')].map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 1 || !strings.HasPrefix(points[0], "payment.testpay "+today+": ") {
		t.Errorf("the success rate's points are %q, want one for payment.testpay on %s (the browser's day), not %s (UTC's)", points, today, utcToday)
	}
	if got := owner.text(`#dash-time-zone`); !strings.Contains(got, zoneName) {
		t.Errorf("the dashboard names its days' zone as %q", got)
	}
	owner.noCSPViolations()
}

// TestAdminOrdersPagerCount is the orders list's pager in Chromium on a
// shop of 1,060 orders (`kassa seed orders`): it says "1–50 of more than
// 1,000" (ordersCount stops counting at 1,000), "51–100 of more than
// 1,000" on the next page, the exact total under a filter matching fewer,
// and the same in Chinese.
func TestAdminOrdersPagerCount(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	kassa(t, dir, "plugin", "install", buildPlugin(t, t.TempDir(), "testpay"))
	createOwner(t, dir, crashOwner, crashPassword)
	kassa(t, dir, "seed", "demo")
	kassa(t, dir, "seed", "orders", "--count", "1060")
	s := &paymentShop{t: t, dir: dir, addr: freeAddr(t)}
	s.start()

	// A filter that matches more than a page and fewer than 1,000 orders.
	var filter string
	var want int
	for _, status := range []string{"REFUNDED", "PARTIALLY_REFUNDED", "FAILED", "VOIDED", "PENDING", "AUTHORIZED", "PAID"} {
		var res struct{ OrdersCount struct{ Count *int } }
		s.do(s.staff, `query($f: OrderFilter) { ordersCount(filter: $f) { count } }`, map[string]any{"f": map[string]any{"paymentStatus": status}}, &res)
		if c := res.OrdersCount.Count; c != nil && *c > 50 && *c < 1000 {
			filter, want = status, *c
			break
		}
	}
	if filter == "" {
		t.Fatal("no payment status matches between 51 and 999 of the seeded orders")
	}

	owner := newAdminTab(t, s.in.base, "owner-orders-count")
	owner.signIn(crashOwner, crashPassword)
	owner.do("the orders", chromedp.Navigate(s.in.base+"/admin/orders"), until(`document.querySelector('#orders-range')?.textContent.includes('of')`))
	if got := owner.text(`#orders-range`); got != "1–50 of more than 1,000" {
		t.Errorf("the first page's range reads %q", got)
	}
	owner.do("the next page", chromedp.Click(`#next-page`), until(`document.querySelector('#orders-range')?.textContent.startsWith('51–100')`))
	if got := owner.text(`#orders-range`); got != "51–100 of more than 1,000" {
		t.Errorf("the second page's range reads %q", got)
	}
	owner.do("a filter", chromedp.Navigate(s.in.base+"/admin/orders?paymentStatus="+filter), until(`document.querySelector('#orders-range')?.textContent.includes('of')`))
	if got, want := owner.text(`#orders-range`), fmt.Sprintf("1–50 of %d", want); got != want {
		t.Errorf("the filtered range reads %q, want %q", got, want)
	}
	owner.do("the orders in Chinese", chromedp.Navigate(s.in.base+"/admin/orders"), chromedp.WaitVisible(`#orders-range`), fill(`.topbar .lang`, "zh-CN"),
		until(`document.querySelector('#orders-range')?.textContent.startsWith('第')`))
	owner.shotAs("admin-partc-orders-count-zh.png")
	if got := owner.text(`#orders-range`); got != "第 1–50 条，共超过 1,000 条" {
		t.Errorf("the Chinese range reads %q", got)
	}
	owner.noCSPViolations()
}

// wordsIn fails for each of want that text lacks and each of unwanted it
// holds: a page in one language, none of the other's words left.
func wordsIn(t *testing.T, what, text string, want, unwanted []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
	for _, w := range unwanted {
		if strings.Contains(text, w) {
			t.Errorf("%s shows %q:\n%s", what, w, text)
		}
	}
}
