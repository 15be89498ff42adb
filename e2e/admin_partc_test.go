package e2e

import (
	"encoding/json"
	"strings"
	"testing"

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
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(owner.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		screenshot(t, "admin-partc-"+name+".png", png)
	}
	owner.signIn(crashOwner, crashPassword)

	owner.do("testpay's page", chromedp.Navigate(s.in.base+"/admin/plugins/payment.testpay"), chromedp.WaitVisible(`#plugin-capabilities`))
	shot("plugin-capabilities")
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
	form := owner.text(`#plugin-settings`)
	for _, want := range []string{"签名密钥", "尝试次数", "超时（毫秒）", "事件以 POST 发送到的地址", "尚未添加"} {
		if !strings.Contains(form, want) {
			t.Errorf("the Chinese settings form lacks %q:\n%s", want, form)
		}
	}
	for _, english := range []string{"Signing secrets", "Attempts", "Timeout (ms)", "Where events are POSTed"} {
		if strings.Contains(form, english) {
			t.Errorf("the Chinese settings form shows the schema's English %q", english)
		}
	}

	const secretERP, secretCRM = "whsec_rows_erp_4kQ9zT2mW8", "whsec_rows_crm_7pL3xV6nB1"
	secrets, _ := json.Marshal(map[string]string{"erp": secretERP, "crm": secretCRM})
	owner.do("add two endpoints", chromedp.Click(`#add-setting-endpoints`), chromedp.Click(`#add-setting-endpoints`),
		until(`document.querySelectorAll('#setting-endpoints .setting-row').length === 2`),
		fill(`#setting-endpoints-0-name`, "erp"), fill(`#setting-endpoints-0-url`, "https://erp.example.com/hooks"),
		fill(`#setting-endpoints-0-events`, "order.paid\norder.*\n"), fill(`#setting-endpoints-0-description`, "账务系统"),
		fill(`#setting-endpoints-1-name`, "crm"), fill(`#setting-endpoints-1-url`, "https://crm.example.com/in"),
		fill(`#setting-signing_secrets`, string(secrets)))
	shot("plugin-rows-zh")
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
	shot("plugin-row-refused-zh")
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
	shot("plugin-rows-en")
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
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(owner.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		screenshot(t, "admin-partc-"+name+".png", png)
	}
	description := func() string {
		t.Helper()
		var res struct{ Role struct{ Description string } }
		s.do(s.staff, `{ role(name: "finance") { description } }`, nil, &res)
		return res.Role.Description
	}
	seeded := description()

	owner.do("the finance role", chromedp.Navigate(s.in.base+"/admin/roles/finance"), chromedp.WaitVisible(`#permission-matrix`))
	shot("roles-en")
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
	shot("roles-zh")
	if got := owner.text(`.role-list`); !strings.Contains(got, "所有者") || !strings.Contains(got, "拣货、打包和发货") || !strings.Contains(got, "owner") {
		t.Errorf("the Chinese role list:\n%s", got)
	}
	if v, err := chromedp.Run(owner.ctx, chromedp.Value(`#role-description`)); err != nil || v != "管理资金：付款、退款和报表。" {
		t.Errorf("the description field reads %q (%v)", v, err)
	}
	matrix = owner.text(`#permission-matrix`)
	for _, want := range []string{"对象", "订单", "order", "API 密钥", "读取自己的"} {
		if !strings.Contains(matrix, want) {
			t.Errorf("the Chinese matrix lacks %q:\n%s", want, matrix)
		}
	}
	for _, english := range []string{"Orders", "Products", "Refunds", "Read own"} {
		if strings.Contains(matrix, english) {
			t.Errorf("the Chinese matrix shows %q", english)
		}
	}

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
	shot("staff-roles-zh")
	if got := owner.text(`#invite-form`); !strings.Contains(got, "客服") || !strings.Contains(got, "帮助买家") {
		t.Errorf("the invite form's roles in Chinese:\n%s", got)
	}
	if got := owner.text(`.staff-roles[data-email="` + crashOwner + `"]`); !strings.HasPrefix(got, "所有者") {
		t.Errorf("the owner's roles read %q", got)
	}
	owner.noCSPViolations()
}
