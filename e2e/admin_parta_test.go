package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	kmoney "github.com/kassahq/kassa/core/money"
)

// partAZone is the browser's time zone in TestAdminPartA: the dashboard
// asks the server for days cut at its midnights, and the test computes
// the expected figures in it too.
const partAZone = "Asia/Shanghai"

// TestAdminPartA drives the dashboard, plugins and settings screens in
// Chromium against the built binary with testpay installed:
//
//   - the dashboard's figures (orders and revenue today, orders waiting to
//     ship, unpaid orders) equal those computed from the orders the test
//     placed and paid through GraphQL;
//   - the plugin settings form shows a refused value's error, then saves a
//     new webhook secret that never comes back, neither in the page (its
//     markup and its inputs) nor in the GraphQL answer;
//   - the settings screen adds a tax rate;
//   - a fulfillment member, without plugin or report permission, sees no
//     plugins or settings in the navigation, gets the "not allowed" page
//     on the plugins URL, and the API refuses them the plugins.
//
// Every screen is saved as a screenshot, and none trips the admin's
// Content-Security-Policy.
func TestAdminPartA(t *testing.T) {
	t.Parallel()
	zone := oneDayIn(t, partAZone)
	s := newPaymentShop(t)
	paid1, paid2, unpaid := s.placeOrder(), s.placeOrder(), s.placeOrder()
	for _, o := range []order{paid1, paid2} {
		if out, err := s.pay(o, "succeed"); err != nil {
			t.Fatalf("pay: %v %s", err, out)
		}
		s.waitFor(o, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" })
	}
	_ = unpaid

	// What the dashboard must show, from the shop's orders.
	var all struct {
		Orders struct {
			Nodes []struct {
				CreatedAt, Status, PaymentStatus, FulfillmentStatus string
				Total                                               struct{ Amount, CurrencyCode string }
			}
			PageInfo struct{ HasNextPage bool }
		}
	}
	s.do(s.staff, `{ orders(first: 100) { nodes { createdAt status paymentStatus fulfillmentStatus total { amount currencyCode } } pageInfo { hasNextPage } } }`, nil, &all)
	if all.Orders.PageInfo.HasNextPage || len(all.Orders.Nodes) < 3 {
		t.Fatalf("the shop has %d orders (more: %v)", len(all.Orders.Nodes), all.Orders.PageInfo.HasNextPage)
	}
	today := time.Now().In(zone).Format(time.DateOnly)
	var wantToday, wantAwaiting, wantUnpaid int
	revenue := map[string]kmoney.Money{}
	for _, o := range all.Orders.Nodes {
		at, err := time.Parse(time.RFC3339Nano, o.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		paid := o.PaymentStatus == "PAID" || o.PaymentStatus == "PARTIALLY_REFUNDED" || o.PaymentStatus == "REFUNDED"
		if at.In(zone).Format(time.DateOnly) == today {
			wantToday++
			if paid {
				cur, err := kmoney.ParseCurrency(o.Total.CurrencyCode)
				if err != nil {
					t.Fatal(err)
				}
				m, err := kmoney.Parse(o.Total.Amount, cur)
				if err != nil {
					t.Fatal(err)
				}
				if prev, ok := revenue[o.Total.CurrencyCode]; ok {
					m, _ = prev.Add(m)
				}
				revenue[o.Total.CurrencyCode] = m
			}
		}
		unshipped := o.FulfillmentStatus == "UNFULFILLED" || o.FulfillmentStatus == "PARTIALLY_FULFILLED"
		if o.Status == "OPEN" && unshipped && (paid || o.PaymentStatus == "AUTHORIZED") {
			wantAwaiting++
		}
		if o.Status == "OPEN" && o.PaymentStatus == "PENDING" {
			wantUnpaid++
		}
	}
	if wantToday < 3 || wantAwaiting < 2 || wantUnpaid < 1 || len(revenue) != 1 {
		t.Fatalf("the orders placed: today %d, awaiting %d, unpaid %d, revenue %v", wantToday, wantAwaiting, wantUnpaid, revenue)
	}
	var wantRevenue string
	for _, m := range revenue {
		wantRevenue = m.Decimal()
	}

	ctx := newBrowser(t)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: partAZone}); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		screenshot(t, "admin-parta-"+name+".png", png)
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			shot("failed")
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			shot("failed")
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+sel+`').length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	digits := regexp.MustCompile(`[^0-9.]`)

	// The dashboard.
	do("sign in as the owner", chromedp.Navigate(s.in.base+"/admin/"), chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, crashOwner), chromedp.SendKeys(`#password`, crashPassword), chromedp.Click(`#sign-in`),
		chromedp.WaitVisible(`#stat-today`), chromedp.WaitVisible(`.chart`))
	shot("dashboard")
	if got := text(`#stat-today`); got != strconv.Itoa(wantToday) {
		t.Errorf("orders today: the dashboard shows %q, the orders make %d", got, wantToday)
	}
	if got := digits.ReplaceAllString(text(`#stat-today-revenue`), ""); got != wantRevenue {
		t.Errorf("revenue today: the dashboard shows %q, the orders make %s", text(`#stat-today-revenue`), wantRevenue)
	}
	if got := text(`#stat-awaiting`); got != strconv.Itoa(wantAwaiting) {
		t.Errorf("waiting to ship: the dashboard shows %q, the orders make %d", got, wantAwaiting)
	}
	if got := text(`#stat-unpaid`); !strings.HasPrefix(got, strconv.Itoa(wantUnpaid)+" unpaid") {
		t.Errorf("unpaid: the dashboard shows %q, the orders make %d", got, wantUnpaid)
	}
	if !strings.Contains(text(`.content`), "payment.testpay") {
		t.Error("the dashboard lacks the payments by gateway")
	}
	// How buyers were asked to pay, in words, not the API's enum.
	if got := text(`.content`); !strings.Contains(got, "\nPayment without a buyer step\t") || strings.Contains(got, "\nNONE\t") {
		t.Errorf("the payments by method read:\n%s", got)
	}

	// The plugins and the delivery log.
	do("the plugins", chromedp.Navigate(s.in.base+"/admin/plugins"), chromedp.WaitVisible(`.plugin-link`))
	shot("plugins")
	// Kinds and health in the staff member's language, not the API's enums.
	healthZh := `["运行正常", "部分可用", "无法工作", "尚未检查", "不可用", "已停止"]`
	do("the plugins in Chinese", fill(`.topbar .lang`, "zh-CN"),
		until(`document.querySelector('.content table').textContent.includes('支付') && `+healthZh+`.some(w => document.querySelector('.content').textContent.includes(w))`))
	shot("plugins-zh")
	if words := text(`.content table`); regexp.MustCompile(`(?i)\b(serving|stopped|unknown|invoice|notify)\b`).MatchString(words) {
		t.Errorf("the Chinese plugin list shows the API's words:\n%s", words)
	}
	do("the delivery log's filter in Chinese", until(`document.querySelector('#delivery-status').selectedOptions[0].textContent === "投递失败"`))
	do("back to English", fill(`.topbar .lang`, "en"), until(`document.documentElement.lang === "en"`))
	do("testpay's page", chromedp.Click(`a.plugin-link[href$="/plugins/payment.testpay"]`), chromedp.WaitVisible(`#plugin-settings`))
	if v, err := chromedp.Run(ctx, chromedp.Value(`#setting-webhook_secret`)); err != nil || v != "" {
		t.Fatalf("the secret's input holds %q (%v)", v, err)
	}
	if got := text(`.secret-field .badge`); !strings.EqualFold(got, "set") {
		t.Errorf("the secret's state reads %q, want set", got)
	}
	do("a refused delay", chromedp.SetValue(`#setting-async_delay_ms`, ""), chromedp.SendKeys(`#setting-async_delay_ms`, "99999999"),
		chromedp.Click(`#plugin-save`), chromedp.WaitVisible(`.field-error`))
	shot("plugin-refused")
	if e := text(`.field-error`); !strings.Contains(e, "at most 600000") || !strings.Contains(e, "INVALID_SETTINGS") {
		t.Errorf("the delay's error reads %q", text(`.field-error`))
	}
	const secret = "whsec_parta_Zq8v3kT1mN5pR7xW"
	do("save a new secret", chromedp.SetValue(`#setting-async_delay_ms`, ""), chromedp.SendKeys(`#setting-async_delay_ms`, "50"),
		chromedp.SendKeys(`#setting-webhook_secret`, secret), chromedp.Click(`#plugin-save`), chromedp.WaitVisible(`.banner-success`))
	shot("plugin-saved")
	leaks := func(where string) {
		t.Helper()
		html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML + [...document.querySelectorAll('input, textarea')].map(e => e.value).join(' ')`))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(html, secret) {
			t.Errorf("%s: the page holds the secret", where)
		}
	}
	leaks("after saving")
	do("reload testpay's page", chromedp.Reload(), chromedp.WaitVisible(`#plugin-settings`))
	leaks("after a reload")
	if v, err := chromedp.Run(ctx, chromedp.Value(`#setting-async_delay_ms`)); err != nil || v != "50" {
		t.Errorf("the delay reads %q after saving (%v)", v, err)
	}
	if got := text(`.secret-field .badge`); !strings.EqualFold(got, "set") {
		t.Errorf("the secret's state reads %q after saving", got)
	}
	answer := s.in.graphqlAs(s.staff, `{ plugin(id: "payment.testpay") { settings secretFields { name isSet } configSchema updatedAt } plugins { settings } }`)
	if strings.Contains(answer, secret) || !strings.Contains(answer, `"isSet":true`) || !strings.Contains(answer, `"async_delay_ms":50`) {
		t.Errorf("the GraphQL answer after saving: %s", answer)
	}

	// The settings: add a tax rate.
	do("the settings", chromedp.Navigate(s.in.base+"/admin/settings"), chromedp.WaitVisible(`#store-settings`), chromedp.WaitVisible(`#tax-form`))
	do("add a tax rate", chromedp.SendKeys(`#tax-country`, "SG"), chromedp.SendKeys(`#tax-name`, "GST"), chromedp.SendKeys(`#tax-rate`, "9"),
		chromedp.Click(`#tax-add`))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('.content').textContent.includes('GST')`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		shot("failed")
		t.Fatalf("the tax rate did not appear: %v", err)
	}
	shot("settings")
	if rates := s.in.graphqlAs(s.staff, `{ taxRates { country name basisPoints } }`); !strings.Contains(rates, `{"country":"SG","name":"GST","basisPoints":900}`) {
		t.Errorf("tax rates after the form: %s", rates)
	}
	// An emptied or mistyped rate is refused on the page, never saved as
	// 0 % nor silently dropped; a comma decimal is a decimal.
	for _, typed := range []string{"", "abc", "101"} {
		do("type the rate "+typed, chromedp.SendKeys(`input[data-rate="SG"]`, strings.Repeat("\b", 8)+typed),
			chromedp.Click(`[data-save-rate="SG"]`), chromedp.WaitVisible(`.banner-critical`))
		if rates := s.in.graphqlAs(s.staff, `{ taxRates { country basisPoints } }`); !strings.Contains(rates, `{"country":"SG","basisPoints":900}`) {
			t.Fatalf("after saving the rate %q: %s", typed, rates)
		}
	}
	shot("settings-rate-refused")
	do("type 7,5", chromedp.SendKeys(`input[data-rate="SG"]`, strings.Repeat("\b", 8)+"7,5"), chromedp.Click(`[data-save-rate="SG"]`))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!document.querySelector('[data-save-rate="SG"]')`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		shot("failed")
		t.Fatalf("the rate 7,5 was not saved: %v", err)
	}
	if rates := s.in.graphqlAs(s.staff, `{ taxRates { country basisPoints } }`); !strings.Contains(rates, `{"country":"SG","basisPoints":750}`) {
		t.Errorf("after saving 7,5: %s", rates)
	}

	// A fulfillment member, invited by the owner.
	var inv struct {
		StaffInvite struct{ UserErrors []struct{ Code string } }
	}
	s.do(s.staff, `mutation { staffInvite(input: {email: "packer@example.com", name: "Pat Packer", roles: ["fulfillment"]}) { userErrors { code } } }`, nil, &inv)
	if len(inv.StaffInvite.UserErrors) > 0 {
		t.Fatalf("staffInvite: %+v", inv.StaffInvite.UserErrors)
	}
	linkRE := regexp.MustCompile(`link=\S*(/admin/accept-invitation\?token=[A-Za-z0-9_%.~-]+)`)
	var link []string
	for deadline := time.Now().Add(20 * time.Second); link == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		link = linkRE.FindStringSubmatch(s.in.logs.String())
	}
	if link == nil {
		t.Fatal("no invitation link in the development log")
	}
	// The owner's screens kept to the Content-Security-Policy; the
	// fulfillment member gets a browser of their own (each one has a
	// minute).
	if violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`)); err != nil || len(violations) > 0 {
		t.Fatalf("the Content-Security-Policy blocked parts of the admin: %v %v", violations, err)
	}
	ctx = newBrowser(t)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}
	do("accept the invitation", chromedp.Navigate(s.in.base+link[1]), chromedp.WaitVisible(`#token-form`),
		chromedp.SendKeys(`#password`, "packer's long passphrase"), chromedp.Click(`#token-submit`), chromedp.WaitVisible(`#sign-out`))
	do("fulfillment's dashboard", chromedp.Navigate(s.in.base+"/admin/"), chromedp.WaitVisible(`.empty`))
	shot("dashboard-fulfillment")
	if nav := text(`.sidenav`); strings.Contains(nav, "Plugins") || strings.Contains(nav, "Settings") || !strings.Contains(nav, "Orders") {
		t.Errorf("fulfillment's navigation: %q", nav)
	}
	if count(`#stat-today`) > 0 {
		t.Error("fulfillment, without report read, sees sales figures")
	}
	do("fulfillment opens the plugins URL", chromedp.Navigate(s.in.base+"/admin/plugins"), chromedp.WaitVisible(`#forbidden`))
	shot("plugins-forbidden")
	if count(`.plugin-link`)+count(`#plugin-settings`) > 0 {
		t.Error("fulfillment sees plugins")
	}
	packer := s.in.staffToken("packer@example.com", "packer's long passphrase")
	for _, q := range []string{`{ plugins { id } }`, `{ plugin(id: "payment.testpay") { id secretFields { isSet } } }`,
		`mutation { pluginSettingsUpdate(input: {id: "payment.testpay", settings: {}}) { userErrors { code } } }`,
		`{ eventDeliveries(first: 5) { nodes { eventId } } }`, `{ salesSummary(timeZone: "UTC", from: "2026-01-01", to: "2026-01-02") { orders } }`} {
		if res := s.in.graphqlAs(packer, q); !strings.Contains(res, "FORBIDDEN") || strings.Contains(res, "payment.testpay\"") {
			t.Errorf("fulfillment's %s: %s", q, res)
		}
	}

	if violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`)); err != nil || len(violations) > 0 {
		t.Fatalf("the Content-Security-Policy blocked parts of the admin: %v %v", violations, err)
	}
}

// TestAdminSettingsCaptureAndOrigins is the settings screen's payment
// capture mode and storefront origins in Chromium:
//
//   - the owner asks for manual capture with a javascript: origin and an
//     origin with a path: each origin's INVALID_ORIGIN shows under the
//     origins, naming it, and nothing is stored;
//   - fixed, the owner's manual capture and origins (typed with a
//     trailing slash, spaces and a blank line) are stored as the API
//     shows them, and the page shows them after a reload, in English and
//     in Chinese;
//   - a manager (settings read, not write) sees them, disabled, and no
//     way to save.
func TestAdminSettingsCaptureAndOrigins(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t)
	type stored struct {
		PaymentCaptureMode   string
		StorefrontOrigins    []string
		UnpaidOrdersPerBuyer int
	}
	settings := func() stored {
		t.Helper()
		var res struct{ ShopSettings stored }
		s.do(s.staff, `{ shopSettings { paymentCaptureMode storefrontOrigins unpaidOrdersPerBuyer } }`, nil, &res)
		return res.ShopSettings
	}
	if got := settings(); got.PaymentCaptureMode != "AUTOMATIC" || len(got.StorefrontOrigins) != 0 {
		t.Fatalf("a new shop's settings: %+v", got)
	}

	owner := newAdminTab(t, s.in.base, "owner-settings")
	shot := func(a *adminTab, name string) {
		t.Helper()
		png, err := chromedp.Run(a.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		screenshot(t, "admin-parta-"+name+".png", png)
	}
	owner.signIn(crashOwner, crashPassword)
	owner.do("the settings", chromedp.Navigate(s.in.base+"/admin/settings"), chromedp.WaitVisible(`#store-settings`),
		until(`document.querySelector('#set-capture-AUTOMATIC').checked && document.querySelector('#set-origins').value === "" && document.querySelector('#set-unpaid').value === "10"`))

	owner.do("manual capture with bad origins", chromedp.Click(`#set-capture-MANUAL`),
		fill(`#set-origins`, "https://shop.example.com\njavascript:alert(1)\nhttps://shop.example.com/checkout"),
		chromedp.Click(`#store-save`), chromedp.WaitVisible(`.origins-field #set-origins-error`))
	shot(owner, "settings-origins-refused")
	errText := owner.text(`#set-origins-error`)
	for _, want := range []string{"javascript:alert(1): ", "https://shop.example.com/checkout: ", "INVALID_ORIGIN"} {
		if !strings.Contains(errText, want) {
			t.Errorf("the origins' error reads %q, want %q in it", errText, want)
		}
	}
	if n := owner.count(`#set-origins-error li`); n != 2 {
		t.Errorf("the origins show %d errors, want 2: %q", n, errText)
	}
	if n := owner.count(`#store-settings .banner-critical, #store-settings .banner-success`); n != 0 {
		t.Errorf("the refused save shows %d banners, want the error under the field only", n)
	}
	if got := settings(); got.PaymentCaptureMode != "AUTOMATIC" || len(got.StorefrontOrigins) != 0 {
		t.Errorf("a refused save changed the settings: %+v", got)
	}

	want := []string{"https://shop.example.com", "http://localhost:3000"}
	owner.do("fix the origins and save", fill(`#set-origins`, " https://shop.example.com/\n\n  http://localhost:3000  \n"), fill(`#set-unpaid`, "4"),
		chromedp.Click(`#store-save`), chromedp.WaitVisible(`#store-settings .banner-success`))
	if n := owner.count(`#set-origins-error`); n != 0 {
		t.Errorf("the origins' error stays after a good save")
	}
	if got := settings(); got.PaymentCaptureMode != "MANUAL" || strings.Join(got.StorefrontOrigins, " ") != strings.Join(want, " ") || got.UnpaidOrdersPerBuyer != 4 {
		t.Errorf("the settings after saving: %+v, want MANUAL, %v and 4 unpaid orders per buyer", got, want)
	}
	owner.do("reload", chromedp.Reload(), chromedp.WaitVisible(`#store-settings`))
	manualShown := `document.querySelector('#set-capture-MANUAL').checked && !document.querySelector('#set-capture-AUTOMATIC').checked`
	originsShown := `document.querySelector('#set-origins').value === "` + strings.Join(want, `\n`) + `"`
	owner.do("the saved settings after a reload", until(manualShown+` && `+originsShown))
	shot(owner, "settings-payments")
	owner.do("the settings in Chinese", fill(`.topbar .lang`, "zh-CN"), until(`document.querySelector('#set-capture legend').textContent === "买家付款的扣款时机"`))
	shot(owner, "settings-payments-zh")
	owner.do("back to English", fill(`.topbar .lang`, "en"), until(`document.querySelector('h1').textContent === "Settings"`))

	// The other fields' errors show under them too, none in a banner, and
	// nothing is stored: a currency that is none (the second sent), a
	// reminder after the deadline, a line limit out of range.
	currencies := func() string {
		t.Helper()
		var cur struct{ ShopSettings struct{ Currencies []string } }
		s.do(s.staff, `{ shopSettings { currencies } }`, nil, &cur)
		return strings.Join(cur.ShopSettings.Currencies, ",")
	}
	before := currencies()
	owner.do("bad currencies, reminder and limit", fill(`#set-currencies`, "CNY, 12"), fill(`#set-reminder`, "999"), fill(`#set-limit`, "100000"), fill(`#set-unpaid`, "1001"),
		chromedp.Click(`#store-save`), chromedp.WaitVisible(`#set-currencies-error`))
	shot(owner, "settings-fields-refused")
	for sel, want := range map[string][]string{
		`#set-currencies-error`: {"12: ", "INVALID_CURRENCY"},
		`#set-reminder-error`:   {"REMINDER_NOT_BEFORE_DEADLINE"},
		`#set-limit-error`:      {"OUT_OF_RANGE"},
		`#set-unpaid-error`:     {"OUT_OF_RANGE"},
	} {
		got := owner.text(sel)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s reads %q, want %q in it", sel, got, w)
			}
		}
	}
	if n := owner.count(`#store-settings .banner-critical, #store-settings .banner-success`); n != 0 {
		t.Errorf("the refused save shows %d banners, want the errors under their fields only", n)
	}
	if n := owner.count(`#set-reminder[aria-invalid="true"][aria-describedby="set-reminder-error"]`); n != 1 {
		t.Error("the reminder's input is not marked invalid and described by its error")
	}
	if got := currencies(); got != before {
		t.Errorf("a refused save changed the currencies: %s, was %s", got, before)
	}
	owner.do("reload after the refused save", chromedp.Reload(), chromedp.WaitVisible(`#store-settings`), until(manualShown+` && `+originsShown))
	owner.noCSPViolations()

	// A manager reads the settings but may not change them.
	link := s.invite("mia@example.com", "manager")
	mia := newAdminTab(t, s.in.base, "manager-settings")
	mia.do("mia accepts", chromedp.Navigate(s.in.base+link), chromedp.WaitVisible(`#token-form`),
		chromedp.SendKeys(`#password`, "mia's long passphrase"), chromedp.Click(`#token-submit`), chromedp.WaitVisible(`#sign-out`))
	mia.do("the manager's settings", chromedp.Navigate(s.in.base+"/admin/settings"), chromedp.WaitVisible(`#store-settings`),
		until(manualShown+` && `+originsShown))
	shot(mia, "settings-payments-manager")
	if n := mia.count(`#store-save`); n != 0 {
		t.Error("the manager sees the settings' save button")
	}
	if n := mia.count(`#set-capture input:not(:disabled), #set-origins:not(:disabled)`); n != 0 {
		t.Errorf("the manager may change %d of the capture mode and origins controls", n)
	}
}

// partlyPaidOrderTab is a payment shop with a guest's order of which
// staff captured all but 10.00 (partlyPay), and the owner signed in to
// the admin in a browser tab named name. It returns the order's total
// and the part captured, as decimals.
func partlyPaidOrderTab(t *testing.T, name string) (s *paymentShop, o order, owner *adminTab, total, part string) {
	t.Helper()
	s = newPaymentShop(t)
	o = s.placeOrder()
	total, part = s.partlyPay(o)
	owner = newAdminTab(t, s.in.base, name)
	owner.signIn(crashOwner, crashPassword)
	return s, o, owner, total, part
}

// TestAdminOrderShowsWhatIsOwed is staff opening a partly paid order in
// Chromium: its totals show what was paid and, in bold, what the buyer
// still owes (in English and in Chinese); once the buyer pays the rest,
// the outstanding row is gone.
func TestAdminOrderShowsWhatIsOwed(t *testing.T) {
	t.Parallel()
	s, o, owner, _, part := partlyPaidOrderTab(t, "owner-owed")
	owner.do("the partly paid order", chromedp.Navigate(s.in.base+"/admin/orders/"+o.id), chromedp.WaitVisible(`#order-number`),
		until(`[...document.querySelectorAll('.total-row.strong dt')].some(e => e.textContent === "Outstanding")`))
	owner.shot("order-outstanding")
	totals := owner.text(`dl.totals`)
	for _, want := range []string{"Paid", "¥" + part, "Outstanding", "¥10.00"} {
		if !strings.Contains(totals, want) {
			t.Errorf("the totals lack %q:\n%s", want, totals)
		}
	}
	// The buyer's Chinese address reads as a Chinese envelope does, from
	// the country down, the country named in the staff member's language.
	if addr := owner.text(`address`); !strings.Contains(addr, "王芳\nChina 浙江省 杭州市\n西湖区文三路1号\n310012") {
		t.Errorf("the shipping address in English:\n%s", addr)
	}
	owner.do("the order in Chinese", fill(`.topbar .lang`, "zh-CN"),
		until(`[...document.querySelectorAll('.total-row.strong dt')].some(e => e.textContent === "待付")`))
	owner.shot("order-outstanding-zh")
	if addr := owner.text(`address`); !strings.Contains(addr, "王芳\n中国 浙江省 杭州市\n西湖区文三路1号\n310012") {
		t.Errorf("the shipping address in Chinese:\n%s", addr)
	}

	if out, err := s.pay(o, "succeed"); err != nil {
		t.Fatalf("paying the rest: %v %s", err, out)
	}
	s.waitFor(o, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" })
	owner.do("the paid order", chromedp.Reload(), chromedp.WaitVisible(`#order-number`), until(`document.querySelector('dl.totals') !== null`))
	if totals := owner.text(`dl.totals`); strings.Contains(totals, "待付") || strings.Contains(totals, "Outstanding") {
		t.Fatalf("a paid order still shows an outstanding row:\n%s", totals)
	}
}

// TestAdminOrderDetailInChinese is staff reading a partly paid order in
// Chromium, in English and then in Simplified Chinese. In English the
// payment row says how much of the attempt was captured, and the gateway
// events and ledger tables fit their cards at 1280 px (nothing scrolls
// out of sight). In Chinese the header's statuses, the payment's state,
// its gateway events (outcome and the UNDERPAID flag), the ledger and the
// timeline are Chinese words, and no lowercased English enum value is
// left in the page.
func TestAdminOrderDetailInChinese(t *testing.T) {
	t.Parallel()
	s, o, owner, total, part := partlyPaidOrderTab(t, "owner-zh")
	owner.do("the partly paid order", chromedp.Navigate(s.in.base+"/admin/orders/"+o.id), chromedp.WaitVisible(`#order-number`),
		chromedp.WaitVisible(`.payment`), until(`document.querySelectorAll('.payment tr').length >= 2`))
	owner.shot("order-detail-en")
	if head, want := owner.text(`.payment-head`), "¥"+part+" captured of CN¥"+total; !strings.Contains(head, want) {
		t.Errorf("the payment row lacks %q:\n%s", want, head)
	}
	// Every table fits its card: a table wider than its wrapper scrolls,
	// and its last column (the dates) is out of sight.
	fits := func(lang string) {
		t.Helper()
		cut, err := chromedp.Run(owner.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.content .table-wrap')]
			.filter(w => w.scrollWidth > w.clientWidth).map(w => w.closest('.card').querySelector('h2').textContent)`))
		if err != nil || len(cut) > 0 {
			t.Errorf("in %s, tables wider than their cards: %v %v", lang, cut, err)
		}
	}
	fits("English")

	owner.do("the order in Chinese", fill(`.topbar .lang`, "zh-CN"),
		until(`document.querySelector('#payment-status').textContent === "部分付款"`))
	owner.shot("order-detail-zh")
	fits("Chinese")
	for sel, wants := range map[string][]string{
		`.page-header .badges`: {"进行中", "部分付款", "未发货"},
		`dl.totals`:            {"税费（已含）"},
		`.payment-head`:        {"已扣款", "已扣款 ¥" + part + "，共 ¥" + total},
		// Outcome, flag and source of the gateway events; the ledger's void.
		`.main-col`: {"已处理", "付款不足", "发起支付", "撤销授权"},
		// Kassa's own reasons, in Chinese too.
		`#timeline`: {"下单 → 进行中", "付款状态 已授权 → 部分付款", "系统", "访客", "付款 pay_", " 已扣款", " 已授权"},
	} {
		got := owner.text(sel)
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("%s lacks %q:\n%s", sel, want, got)
			}
		}
	}
	// The page's own words, without what is not an enum: code (event
	// types, ids, SKUs) and the ids within the timeline's reasons.
	words, err := chromedp.Run(owner.ctx, chromedp.Evaluate[string](`(() => { const c = document.querySelector('.content').cloneNode(true);
		c.querySelectorAll('code').forEach(e => e.remove()); return c.textContent.replace(/\bpay_[0-9A-Z]+/g, ""); })()`))
	if err != nil {
		t.Fatal(err)
	}
	raw := regexp.MustCompile(`(?i)\b(open|partially paid|unfulfilled|captured|authorized|applied|ignored|refused|underpaid|authorization|capture|void|placed|payment status|system|anonymous|webhook|create|staff)\b`)
	if m := raw.FindAllString(words, -1); len(m) > 0 {
		t.Errorf("the Chinese order page still shows English enum words %q:\n%s", m, words)
	}
	// The server's refusal reads in Chinese, its code kept beside it.
	owner.do("an oversized refund", chromedp.Click(`#refund`), chromedp.WaitVisible(`#refund-form`),
		chromedp.SendKeys(`#refund-form-amount`, "99999"), chromedp.Click(`#refund-form button[type=submit]`),
		until(`!!document.querySelector('.banner-critical')`))
	owner.shot("order-refund-refused-zh")
	if got := owner.text(`.banner-critical`); !strings.Contains(got, "退款金额超过此订单剩余可退金额") || !strings.Contains(got, "REFUND_EXCEEDS_CAPTURED") {
		t.Errorf("the refused refund in Chinese reads %q", got)
	}
}

// oneDayIn loads the time zone name and, when its day ends within three
// minutes, waits for the next one: the test's figures are of one day.
func oneDayIn(t *testing.T, name string) *time.Location {
	t.Helper()
	zone, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	if now := time.Now().In(zone); now.Add(3*time.Minute).Day() != now.Day() {
		time.Sleep(4 * time.Minute)
	}
	return zone
}
