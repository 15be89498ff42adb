package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// storedRoute is what paymentRoutes answers of one route.
type storedRoute struct {
	Method    string
	GatewayID string
	Currency  *string
	Country   *string
	MinAmount *struct{ Amount string }
	Position  int
}

func (s *paymentShop) routes() []storedRoute {
	s.t.Helper()
	var res struct{ PaymentRoutes []storedRoute }
	s.do(s.staff, `{ paymentRoutes { method gatewayId currency country minAmount { amount } position } }`, nil, &res)
	return res.PaymentRoutes
}

// routeList is the routes as "method:gateway" in the order they are tried.
func routeList(rs []storedRoute) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Method+":"+r.GatewayID)
	}
	return strings.Join(out, ",")
}

var invitationLinkRE = regexp.MustCompile(`link=\S*(/admin/accept-invitation\?token=[A-Za-z0-9_%.~-]+)`)

// invite has the owner invite a staff member through the API and returns
// the invitation link the development log shows (one invitation at a
// time: the log line does not name its recipient).
func (s *paymentShop) invite(email string, roles ...string) string {
	s.t.Helper()
	before := len(invitationLinkRE.FindAllStringSubmatch(s.in.logs.String(), -1))
	var res struct {
		StaffInvite struct{ UserErrors []struct{ Code string } }
	}
	s.do(s.staff, `mutation($input: StaffInviteInput!) { staffInvite(input: $input) { userErrors { code } } }`,
		map[string]any{"input": map[string]any{"email": email, "roles": roles}}, &res)
	if len(res.StaffInvite.UserErrors) > 0 {
		s.t.Fatalf("invite %s: %+v", email, res.StaffInvite.UserErrors)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if links := invitationLinkRE.FindAllStringSubmatch(s.in.logs.String(), -1); len(links) > before {
			return links[len(links)-1][1]
		}
	}
	s.t.Fatalf("no invitation link for %s in the development log", email)
	return ""
}

// TestAdminPaymentRoutes is the payments screen in Chromium, with the
// testpay and bank transfer gateways installed and enabled:
//   - the owner routes the card method to testpay, then bank transfer for
//     CNY orders from 100.00; a bad country comes back as the API's
//     userError and nothing is stored; fixed, the routes are stored in
//     order;
//   - the owner moves bank transfer first, then removes testpay, and the
//     API shows each order saved; the screen reads in Chinese;
//   - support (payment read) sees the routes without a way to change
//     them, and the API refuses its change; fulfillment (no payment read)
//     gets neither the menu item nor the screen.
func TestAdminPaymentRoutes(t *testing.T) {
	t.Parallel()
	dir, bins := t.TempDir(), t.TempDir()
	for _, name := range []string{"testpay", "banktransfer"} {
		kassa(t, dir, "plugin", "install", buildPlugin(t, bins, name))
	}
	createOwner(t, dir, crashOwner, crashPassword)
	kassa(t, dir, "seed", "demo")
	s := &paymentShop{t: t, dir: dir, addr: freeAddr(t)}
	s.start()

	owner := newAdminTab(t, s.in.base, "owner-routes")
	owner.signIn(crashOwner, crashPassword)
	if nav := owner.text(`.sidenav`); !strings.Contains(nav, "Payment routing") {
		t.Errorf("the owner's navigation lacks Payments: %q", nav)
	}
	owner.do("the payments screen", chromedp.Navigate(s.in.base+"/admin/payments"), chromedp.WaitVisible(`#method-add-form`), chromedp.WaitVisible(`.empty`))
	owner.shot("routes-empty")

	const card = `.route-method[data-method="card"]`
	row := func(n int) string { return card + ` .route-row:nth-child(` + string(rune('0'+n)) + `)` }
	owner.do("route the card method", fill(`#route-method`, "card"), chromedp.Click(`#route-method-add`), chromedp.WaitVisible(row(1)),
		fill(row(1)+` .route-gateway`, "payment.testpay"), fill(row(1)+` .route-country`, "Z9"),
		chromedp.Click(card+` .route-add`), chromedp.WaitVisible(row(2)),
		fill(row(2)+` .route-gateway`, "payment.banktransfer"), fill(row(2)+` .route-currency`, "cny"), fill(row(2)+` .route-min`, "100.00"),
		chromedp.Click(card+` .route-save`), chromedp.WaitVisible(card+` .banner-critical`))
	owner.shot("routes-refused")
	if msg := owner.text(card + ` .banner-critical`); !strings.Contains(msg, "INVALID_COUNTRY") {
		t.Errorf("the refused routes show %q, want the INVALID_COUNTRY userError", msg)
	}
	if rs := s.routes(); len(rs) != 0 {
		t.Fatalf("refused routes were stored: %+v", rs)
	}

	owner.do("fix the country and save", fill(row(1)+` .route-country`, ""), chromedp.Click(card+` .route-save`), chromedp.WaitVisible(card+` .banner-success`))
	owner.shot("routes")
	rs := s.routes()
	if got := routeList(rs); got != "card:payment.testpay,card:payment.banktransfer" {
		t.Fatalf("stored routes %s", got)
	}
	if r := rs[1]; r.Currency == nil || *r.Currency != "CNY" || r.MinAmount == nil || r.MinAmount.Amount != "100.00" || r.Country != nil || r.Position != 1 {
		t.Errorf("the bank transfer route is stored as %+v", r)
	}

	owner.do("try bank transfer first", chromedp.Click(row(2)+` .route-up`),
		until(`document.querySelector('`+row(1)+`').dataset.gateway === "payment.banktransfer"`),
		chromedp.Click(card+` .route-save`), chromedp.WaitVisible(card+` .banner-success`))
	if got := routeList(s.routes()); got != "card:payment.banktransfer,card:payment.testpay" {
		t.Errorf("after moving bank transfer up the routes are %s", got)
	}
	owner.do("the screen in Chinese", fill(`.topbar .lang`, "zh-CN"), until(`document.querySelector('h1').textContent === "支付路由"`))
	owner.shot("routes-zh")
	owner.do("back to English", fill(`.topbar .lang`, "en"), until(`document.querySelector('h1').textContent === "Payment routing"`))
	owner.do("remove testpay", chromedp.Click(row(2)+` .route-remove`), until(`document.querySelectorAll('`+card+` .route-row').length === 1`),
		chromedp.Click(card+` .route-save`), chromedp.WaitVisible(card+` .banner-success`))
	if got := routeList(s.routes()); got != "card:payment.banktransfer" {
		t.Errorf("after removing testpay the routes are %s", got)
	}
	owner.noCSPViolations()

	// Support reads payments but may not route them.
	link := s.invite("rita@example.com", "support")
	rita := newAdminTab(t, s.in.base, "support-routes")
	rita.do("rita accepts", chromedp.Navigate(s.in.base+link), chromedp.WaitVisible(`#token-form`),
		chromedp.SendKeys(`#password`, "rita's long passphrase"), chromedp.Click(`#token-submit`), chromedp.WaitVisible(`#sign-out`))
	rita.do("support's payments screen", chromedp.Navigate(s.in.base+"/admin/payments"), chromedp.WaitVisible(`#routes-readonly`), chromedp.WaitVisible(card+` .route-row`))
	rita.shot("routes-support")
	if n := rita.count(`.route-save, .route-add, .route-remove, #method-add-form, select.route-gateway`); n != 0 {
		t.Errorf("support sees %d controls that change routes", n)
	}
	if g := rita.text(row(1) + ` .route-gateway`); !strings.Contains(g, "payment.banktransfer") {
		t.Errorf("support's first route reads %q", g)
	}
	support := s.in.staffToken("rita@example.com", "rita's long passphrase")
	if out := s.in.graphqlAs(support, `mutation { paymentRoutesSet(input: {method: "card", routes: []}) { userErrors { code } } }`); !strings.Contains(out, "FORBIDDEN") {
		t.Errorf("the API lets support change the routes: %s", out)
	}

	// Fulfillment holds no payment read: no menu item, and the screen says why.
	link = s.invite("fred@example.com", "fulfillment")
	fred := newAdminTab(t, s.in.base, "fulfillment-routes")
	fred.do("fred accepts", chromedp.Navigate(s.in.base+link), chromedp.WaitVisible(`#token-form`),
		chromedp.SendKeys(`#password`, "fred's long passphrase"), chromedp.Click(`#token-submit`), chromedp.WaitVisible(`#sign-out`))
	if nav := fred.text(`.sidenav`); strings.Contains(nav, "Payment routing") {
		t.Errorf("fulfillment's navigation offers Payments: %q", nav)
	}
	fred.do("fulfillment opens the payments screen", chromedp.Navigate(s.in.base+"/admin/payments"), chromedp.WaitVisible(`#forbidden`))
	if fred.count(`.route-method`) != 0 {
		t.Error("the payments screen shows routes to a role without payment read")
	}
}
