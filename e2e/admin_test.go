package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestAdminOrdersAndPermissions is the staff's path through the web admin
// in Chromium: the owner signs in, finds the order a buyer just paid in
// the orders list, opens it and sees its lines, payment and the refund
// action; a support member, invited by the owner and joining through the
// admin's invitation screen, sees the same order without the refund
// action, and the API refuses the refund too. The pages run under the
// admin's Content-Security-Policy without a single violation.
func TestAdminOrdersAndPermissions(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t)
	o := s.placeOrder()
	if out, err := s.pay(o, "succeed"); err != nil {
		t.Fatalf("pay: %v %s", err, out)
	}
	s.waitFor(o, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" })
	var ord struct{ Order struct{ Number string } }
	s.do(s.staff, `query($id: ID!) { order(id: $id) { number } }`, map[string]any{"id": o.id}, &ord)
	number := ord.Order.Number

	// The owner invites a support member; without a mail channel the
	// development log shows the invitation's link.
	var inv struct {
		StaffInvite struct{ UserErrors []struct{ Code string } }
	}
	s.do(s.staff, `mutation { staffInvite(input: {email: "support@example.com", name: "Sam Support", roles: ["support"]}) { userErrors { code } } }`, nil, &inv)
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

	ctx := newBrowser(t)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		screenshot(t, "admin-"+name+".png", png)
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			shot("failed")
			t.Fatalf("%s: %v", what, err)
		}
	}
	visible := func(sel string) bool {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('`+sel+`').length`))
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}

	// Signed out, every admin path shows the sign-in screen.
	do("open the admin", chromedp.Navigate(s.in.base+"/admin/orders"), chromedp.WaitVisible(`#email`))
	shot("sign-in")
	do("sign in as the owner",
		chromedp.SendKeys(`#email`, crashOwner), chromedp.SendKeys(`#password`, crashPassword), chromedp.Click(`#sign-in`),
		chromedp.WaitVisible(`#sign-out`))
	do("the owner's orders list", chromedp.Navigate(s.in.base+"/admin/orders"), chromedp.WaitVisible(`.order-link`))
	shot("orders")
	list, err := chromedp.Run(ctx, chromedp.Text(`.table`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list, number) {
		t.Fatalf("the orders list lacks %s:\n%s", number, list)
	}
	nav, err := chromedp.Run(ctx, chromedp.Text(`.sidenav`))
	if err != nil || !strings.Contains(nav, "Orders") {
		t.Fatalf("left nav %q (%v)", nav, err)
	}

	do("open the order", chromedp.Click(`a.order-link[href$="/orders/`+o.id+`"]`), chromedp.WaitVisible(`#order-number`))
	do("the order's payment", chromedp.WaitVisible(`.payment`))
	shot("order-owner")
	detail, err := chromedp.Run(ctx, chromedp.Text(`.content`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{number, "payment.testpay", "paid", "Ledger", "Timeline"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the order page lacks %q", want)
		}
	}
	if !visible(`#refund`) {
		t.Error("the owner does not see the refund button of a paid order")
	}
	if visible(`#cancel-order`) {
		t.Error("a paid order offers cancellation, which the API refuses")
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/admin/orders/"+o.id) {
		t.Errorf("the order's URL is %q (%v)", loc, err)
	}

	// The owner ships the order in one parcel with its tracking number,
	// sees the parcel on the order, marks it delivered and completes it.
	do("open the ship form", chromedp.Click(`#ship`), chromedp.WaitVisible(`#ship-form`),
		chromedp.SendKeys(`#ship-carrier`, "SF Express"), chromedp.SendKeys(`#ship-tracking`, "SF1234567890"))
	shot("order-ship-form")
	do("record the shipment", chromedp.Click(`#ship-form button[type=submit]`), chromedp.WaitVisible(`#shipments`),
		chromedp.WaitVisible(`#mark-delivered`))
	shipped, err := chromedp.Run(ctx, chromedp.Text(`.content`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Shipment recorded.", "SF Express", "SF1234567890", "Fulfilled"} {
		if !strings.Contains(shipped, want) {
			t.Errorf("after shipping, the order page lacks %q", want)
		}
	}
	if visible(`#ship`) {
		t.Error("every unit shipped, yet the page offers to ship")
	}
	shot("order-shipped")
	do("mark delivered", chromedp.Click(`#mark-delivered`), chromedp.WaitVisible(`#complete-order`))
	do("complete the order", chromedp.Click(`#complete-order`))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('.badges').textContent.includes('Completed')`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		shot("failed")
		t.Fatalf("the order does not show completed: %v", err)
	}
	var fin struct {
		Order struct {
			Status, FulfillmentStatus string
			Shipments                 []struct{ Carrier, TrackingNumber string }
		}
	}
	s.do(s.staff, `query($id: ID!) { order(id: $id) { status fulfillmentStatus shipments { carrier trackingNumber } } }`, map[string]any{"id": o.id}, &fin)
	if fin.Order.Status != "COMPLETED" || fin.Order.FulfillmentStatus != "DELIVERED" || len(fin.Order.Shipments) != 1 ||
		fin.Order.Shipments[0].TrackingNumber != "SF1234567890" {
		t.Errorf("after the page's ship, deliver and complete: %+v", fin.Order)
	}
	shot("order-completed")

	// On a phone the order, its list and the settings fit the screen:
	// wide tables scroll inside their cards, the page does not.
	do("a phone's screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	for _, p := range []struct{ name, path, wait string }{
		{"orders", "/admin/orders", `.order-link`},
		{"order", "/admin/orders/" + o.id, `#shipments`},
		{"settings", "/admin/settings", `#tax-form`},
	} {
		do("the "+p.name+" on a phone", chromedp.Navigate(s.in.base+p.path), chromedp.WaitVisible(p.wait))
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
		if err != nil {
			t.Fatal(err)
		}
		shot("phone-" + p.name)
		if overflow > 0 {
			t.Errorf("the %s page is %dpx wider than a 390px phone", p.name, overflow)
		}
	}
	do("back to a desktop", chromedp.EmulateViewport(1280, 800))

	// The owner signs out; the support member joins through the
	// invitation screen and is signed in by it.
	do("sign out", chromedp.Click(`#sign-out`), chromedp.WaitVisible(`#email`))
	do("open the invitation", chromedp.Navigate(s.in.base+link[1]), chromedp.WaitVisible(`#token-form`))
	shot("accept-invitation")
	do("accept the invitation",
		chromedp.SendKeys(`#password`, "support's long passphrase"), chromedp.Click(`#token-submit`),
		chromedp.WaitVisible(`#sign-out`))
	who, err := chromedp.Run(ctx, chromedp.Text(`#staff-name`))
	if err != nil || who != "Sam Support" {
		t.Errorf("header shows %q (%v), want the support member", who, err)
	}
	do("the support member opens the order", chromedp.Navigate(s.in.base+"/admin/orders/"+o.id), chromedp.WaitVisible(`#order-number`),
		chromedp.WaitVisible(`.payment`))
	shot("order-support")
	if visible(`#refund`) {
		t.Error("support, without refund write, sees the refund button")
	}
	if visible(`#capture`) || visible(`#confirm-transfer`) {
		t.Error("support, without payment write, sees payment actions")
	}

	// The API refuses support's refund whatever the page shows.
	support := s.in.staffToken("support@example.com", "support's long passphrase")
	refused := s.in.graphqlAs(support, `mutation { orderRefund(input: {orderId: "`+o.id+`", amount: {amount: "1.00", currencyCode: "CNY"}, idempotencyKey: "`+key()+`"}) { refund { id } userErrors { code } } }`)
	if !strings.Contains(refused, "FORBIDDEN") {
		t.Errorf("support's refund through the API: %s", refused)
	}
	if m := s.money(o); m.PaymentStatus != "PAID" {
		t.Errorf("after the refused refund the order is %s", m.PaymentStatus)
	}

	// The dashboard in Chinese, chosen with the switcher.
	// Support holds no report permission: its dashboard points to the
	// orders instead of showing sales figures.
	do("the dashboard", chromedp.Navigate(s.in.base+"/admin/"), chromedp.WaitVisible(`.content`),
		chromedp.SetValue(`.topbar .lang`, "zh-CN"))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('.topbar .lang').dispatchEvent(new Event('change', {bubbles: true}))`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('.sidenav').textContent.includes('订单')`, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		shot("failed")
		t.Fatalf("the switcher did not turn the admin Chinese: %v", err)
	}
	shot("dashboard-zh")

	if violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`)); err != nil || len(violations) > 0 {
		t.Fatalf("the Content-Security-Policy blocked parts of the admin: %v %v", violations, err)
	}
}
