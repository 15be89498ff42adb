package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// adminTab is one Chromium with the admin open, and the few actions the
// part B tests repeat: act, fill a React-controlled field, read, shoot.
type adminTab struct {
	t    *testing.T
	ctx  context.Context
	base string
	name string
}

// newAdminTab starts a browser (each has its own 60 s budget, so a long
// test opens one per phase) that records Content-Security-Policy
// violations.
func newAdminTab(t *testing.T, base, name string) *adminTab {
	t.Helper()
	ctx := newBrowser(t)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}); err != nil {
		t.Fatal(err)
	}
	return &adminTab{t: t, ctx: ctx, base: base, name: name}
}

func (a *adminTab) shot(name string) {
	a.t.Helper()
	a.shotAs("admin-partb-" + name + ".png")
}

// shotAs saves the whole page as the screenshot file.
func (a *adminTab) shotAs(file string) {
	a.t.Helper()
	png, err := chromedp.Run(a.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		a.t.Fatal(err)
	}
	screenshot(a.t, file, png)
}

func (a *adminTab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	a.t.Helper()
	if err := chromedp.Do(a.ctx, actions...); err != nil {
		a.shot(a.name + "-failed")
		a.t.Fatalf("%s: %v", what, err)
	}
}

// js runs an expression that ends in true, as a step of do.
func js(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](expr)(ctx, t)
		return chromedp.Void{}, err
	}
}

// until waits for a JavaScript condition, as a step of do.
func until(cond string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(15*time.Second))(ctx, t)
		return chromedp.Void{}, err
	}
}

// fill sets a React-controlled input, text area or select the way typing
// does: through the native value setter, then the event React listens to.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	s, _ := json.Marshal(sel)
	v, _ := json.Marshal(value)
	return js(fmt.Sprintf(`(() => { const el = document.querySelector(%s); if (!el) throw new Error("no " + %s);
		const proto = el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
		Object.getOwnPropertyDescriptor(proto, "value").set.call(el, %s);
		el.dispatchEvent(new Event(el instanceof HTMLSelectElement ? "change" : "input", { bubbles: true })); return true; })()`, s, s, v))
}

func (a *adminTab) text(sel string) string {
	a.t.Helper()
	s, err := chromedp.Run(a.ctx, chromedp.Text(sel))
	if err != nil {
		a.shot(a.name + "-failed")
		a.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (a *adminTab) count(sel string) int {
	a.t.Helper()
	s, _ := json.Marshal(sel)
	n, err := chromedp.Run(a.ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+string(s)+`).length`))
	if err != nil {
		a.t.Fatal(err)
	}
	return n
}

func (a *adminTab) signIn(email, password string) {
	a.t.Helper()
	a.do("open the admin", chromedp.Navigate(a.base+"/admin/"), chromedp.WaitVisible(`#email`))
	a.do("sign in as "+email, chromedp.SendKeys(`#email`, email), chromedp.SendKeys(`#password`, password), chromedp.Click(`#sign-in`),
		chromedp.WaitVisible(`#sign-out`))
}

// noCSPViolations fails when the page's policy blocked anything.
func (a *adminTab) noCSPViolations() {
	a.t.Helper()
	if v, err := chromedp.Run(a.ctx, chromedp.Evaluate[[]string](`window.__csp`)); err != nil || len(v) > 0 {
		a.t.Errorf("the Content-Security-Policy blocked parts of the admin: %v %v", v, err)
	}
}

// demoVariant is what the API shows of the demo tea's first variant.
type demoVariant struct {
	ID                string
	AvailableQuantity int
	Price             *struct{ Amount string }
}

func (s *paymentShop) demoTea(token string) (productID string, v demoVariant) {
	s.t.Helper()
	var res struct {
		Product struct {
			ID       string
			Variants []demoVariant
		}
	}
	s.do(token, `{ product(handle: "tieguanyin-oolong", currency: "CNY") { id variants { id availableQuantity price { amount } } } }`, nil, &res)
	if len(res.Product.Variants) == 0 {
		s.t.Fatal("the demo tea has no variants")
	}
	return res.Product.ID, res.Product.Variants[0]
}

// TestAdminPartB is the back office's products, staff, roles and orders
// screens in Chromium, against one shop:
//   - the owner changes a variant's price and stock in the product editor,
//     and the API (as a guest) and the storefront show them; then creates
//     a product with the new product form;
//   - the owner invites a support member from the staff screen, who joins
//     through the invitation link; support sees Customers but no refund
//     button on a paid order, and the API refuses their refund;
//   - the owner's role screen shows the owner role read-only and creates
//     a role; on the staff screen the owner cannot drop the shop's last
//     owner (LAST_OWNER shown) and gives the support member that role too;
//     then takes customer read from support in the matrix, and the support
//     member no longer sees the Customers screen nor the staff screen;
//   - the owner cancels two unpaid orders at once from the orders list.
func TestAdminPartB(t *testing.T) {
	t.Parallel()
	s := newPaymentShop(t)

	// Products: price and stock.
	productID, before := s.demoTea("")
	owner := newAdminTab(t, s.in.base, "owner")
	owner.signIn(crashOwner, crashPassword)
	owner.do("the products list", chromedp.Navigate(s.in.base+"/admin/products"), chromedp.WaitVisible(`.product-link`))
	owner.shot("products")
	owner.do("search the products", fill(`#product-search`, "oolong"), chromedp.Click(`.filters button[type=submit]`),
		until(`[...document.querySelectorAll('.product-link')].length >= 1 && [...document.querySelectorAll('.product-link')].every(a => /oolong/i.test(a.closest('tr').textContent))`))
	owner.do("open the tea", chromedp.Navigate(s.in.base+"/admin/products/"+productID), chromedp.WaitVisible(`#price-`+before.ID+`-CNY`))
	owner.shot("product-editor")
	owner.do("change the CNY price", fill(`#price-`+before.ID+`-CNY`, "123.45"),
		chromedp.Click(`[data-variant="`+before.ID+`"] .save-variant`), chromedp.WaitVisible(`.banner-success`))
	owner.do("receive 7 more", fill(`#delta-`+before.ID, "7"), fill(`#reason-`+before.ID, "RECEIVED"), fill(`#note-`+before.ID, "delivery 42"),
		chromedp.Click(`[data-variant="`+before.ID+`"] .adjust-stock`),
		until(`document.querySelector('[data-variant="`+before.ID+`"] .available')?.textContent === "`+fmt.Sprint(before.AvailableQuantity+7)+`"`))
	owner.do("open the stock ledger", chromedp.Click(`[data-variant="`+before.ID+`"] .ledger summary`))
	owner.shot("product-edited")
	if ledger := owner.text(`[data-variant="` + before.ID + `"] .ledger`); !strings.Contains(ledger, "delivery 42") || !strings.Contains(ledger, "Received") {
		t.Errorf("the stock ledger lacks the adjustment:\n%s", ledger)
	}
	// Guests read through the response cache, which events invalidate
	// after commit: the change shows within moments, not at once.
	var after demoVariant
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, after = s.demoTea("")
		if after.Price != nil && after.Price.Amount == "123.45" && after.AvailableQuantity == before.AvailableQuantity+7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API shows %+v after the edit, want price 123.45 and %d available", after, before.AvailableQuantity+7)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, body := s.in.get("/products/tieguanyin-oolong?currency=CNY"); strings.Contains(body, "123.45") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the storefront's product page does not show the new price 123.45")
		}
	}

	owner.do("the new product form", chromedp.Navigate(s.in.base+"/admin/products/new"), chromedp.WaitVisible(`#create-title`))
	owner.do("create a product with two sizes", fill(`#create-title`, "Jasmine Pearls"), fill(`#create-description`, "Hand-rolled green tea."),
		chromedp.Click(`#add-option`), fill(`#create-option-0`, "Size"), fill(`#create-values-0`, "50 g, 100 g"),
		fill(`#create-price`, "88.00"), fill(`#create-sku`, "JP"), fill(`#create-stock`, "5"), fill(`#create-status`, "ACTIVE"))
	owner.shot("product-new")
	owner.do("save the new product", chromedp.Click(`#create-product`), chromedp.WaitVisible(`#product-title`), until(`document.querySelectorAll('.variant').length === 2`))
	if title := owner.text(`#product-title`); title != "Jasmine Pearls" {
		t.Errorf("the new product's page shows %q", title)
	}

	// Staff: invite a support member from the staff screen.
	owner = newAdminTab(t, s.in.base, "owner-staff")
	owner.signIn(crashOwner, crashPassword)
	owner.do("the staff screen", chromedp.Navigate(s.in.base+"/admin/staff"), chromedp.WaitVisible(`#invite-form`))
	owner.do("invite a support member", fill(`#invite-email`, "sam@example.com"), fill(`#invite-name`, "Sam Support"),
		chromedp.Click(`#invite-role-support`), chromedp.Click(`#send-invite`), chromedp.WaitVisible(`#invite-result`),
		until(`[...document.querySelectorAll('.invitation-email')].some(e => e.textContent === "sam@example.com")`))
	owner.shot("staff-invited")
	if res := owner.text(`#invite-result`); !strings.Contains(res, "sam@example.com") || !strings.Contains(res, "Support") {
		t.Errorf("the invitation result says %q", res)
	}
	linkRE := regexp.MustCompile(`link=\S*(/admin/accept-invitation\?token=[A-Za-z0-9_%.~-]+)`)
	var link []string
	for deadline := time.Now().Add(20 * time.Second); link == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		link = linkRE.FindStringSubmatch(s.in.logs.String())
	}
	if link == nil {
		t.Fatal("no invitation link in the development log")
	}

	// Roles: the owner role is read-only; a new role is made in the matrix.
	owner.do("the owner role", chromedp.Navigate(s.in.base+"/admin/roles/owner"), chromedp.WaitVisible(`#owner-readonly`))
	if n, off := owner.count(`#permission-matrix input[type=checkbox]`), owner.count(`#permission-matrix input[type=checkbox]:disabled:checked`); n == 0 || n != off {
		t.Errorf("the owner role's matrix: %d boxes, %d of them checked and disabled", n, off)
	}
	if owner.count(`#save-role`) != 0 {
		t.Error("the owner role offers to save")
	}
	owner.shot("role-owner")
	owner.do("create a role", chromedp.Navigate(s.in.base+"/admin/roles/new"), chromedp.WaitVisible(`#role-name-input`),
		fill(`#role-name-input`, "stock-clerk"), fill(`#role-description`, "Counts the shelves"),
		chromedp.Click(`input[data-perm="product:read"]`), chromedp.Click(`input[data-perm="inventory:read"]`), chromedp.Click(`input[data-perm="inventory:write"]`),
		chromedp.Click(`#save-role`), chromedp.WaitVisible(`#role-name`), until(`document.querySelector('#role-name').textContent === "stock-clerk"`))
	owner.shot("role-created")
	var role struct {
		Role *struct{ Permissions []string }
	}
	s.do(s.staff, `{ role(name: "stock-clerk") { permissions } }`, nil, &role)
	if role.Role != nil {
		sort.Strings(role.Role.Permissions)
	}
	if role.Role == nil || strings.Join(role.Role.Permissions, ",") != "inventory:read,inventory:write,product:read" {
		t.Errorf("the created role holds %+v", role.Role)
	}

	// A paid order, for support to look at.
	paid := s.placeOrder()
	if out, err := s.pay(paid, "succeed"); err != nil {
		t.Fatalf("pay: %v %s", err, out)
	}
	s.waitFor(paid, "PAID", func(m money) bool { return m.PaymentStatus == "PAID" })

	// The support member joins and sees what support may see.
	sam := newAdminTab(t, s.in.base, "support")
	sam.do("open the invitation", chromedp.Navigate(s.in.base+link[1]), chromedp.WaitVisible(`#token-form`))
	// The link's token leaves the address bar (history, bookmarks, screen
	// shares) and survives a reload in the tab.
	sam.do("the token leaves the address bar", until(`!location.search.includes("token") && location.pathname.length > 1`))
	sam.do("reload the invitation", chromedp.Reload(), chromedp.WaitVisible(`#token-form`))
	sam.do("accept the invitation", chromedp.SendKeys(`#password`, "sam's long passphrase"), chromedp.Click(`#token-submit`), chromedp.WaitVisible(`#sign-out`))
	nav := sam.text(`.sidenav`)
	if !strings.Contains(nav, "Customers") || strings.Contains(nav, "Staff") || strings.Contains(nav, "Roles") {
		t.Errorf("support's navigation: %q", nav)
	}
	sam.do("support's customers screen", chromedp.Navigate(s.in.base+"/admin/customers"), chromedp.WaitVisible(`#customer-search`))
	sam.shot("customers-support")
	sam.do("support opens the paid order", chromedp.Navigate(s.in.base+"/admin/orders/"+paid.id), chromedp.WaitVisible(`#order-number`), chromedp.WaitVisible(`.payment`))
	sam.shot("order-support")
	if sam.count(`#refund`) != 0 {
		t.Error("support, without refund write, sees the refund button")
	}
	support := s.in.staffToken("sam@example.com", "sam's long passphrase")
	refused := s.in.graphqlAs(support, `mutation { orderRefund(input: {orderId: "`+paid.id+`", amount: {amount: "1.00", currencyCode: "CNY"}, idempotencyKey: "`+key()+`"}) { refund { id } userErrors { code } } }`)
	if !strings.Contains(refused, "FORBIDDEN") {
		t.Errorf("support's refund through the API: %s", refused)
	}
	if m := s.money(paid); m.PaymentStatus != "PAID" {
		t.Errorf("after the refused refund the order is %s", m.PaymentStatus)
	}
	sam.noCSPViolations()

	// The owner takes customer read from support in the matrix; the
	// support member's next page load no longer offers Customers.
	owner = newAdminTab(t, s.in.base, "owner-roles")
	owner.signIn(crashOwner, crashPassword)

	// Staff roles: the shop keeps its last owner (the API's userError
	// shows in place); the owner gives sam the stock-clerk role as well.
	ownerForm, samForm := `.role-form[data-email="`+crashOwner+`"]`, `.role-form[data-email="sam@example.com"]`
	owner.do("the staff screen", chromedp.Navigate(s.in.base+"/admin/staff"), chromedp.WaitVisible(`.edit-roles[data-email="sam@example.com"]`))
	owner.do("drop the owner's own owner role", chromedp.Click(`.edit-roles[data-email="`+crashOwner+`"]`), chromedp.WaitVisible(ownerForm),
		chromedp.Click(ownerForm+` input[value="owner"]`), chromedp.Click(ownerForm+` input[value="support"]`),
		chromedp.Click(ownerForm+` .save-roles`), chromedp.WaitVisible(ownerForm+` .banner-critical`))
	owner.shot("staff-last-owner")
	if msg := owner.text(ownerForm + ` .banner-critical`); !strings.Contains(msg, "LAST_OWNER") {
		t.Errorf("dropping the last owner shows %q, want LAST_OWNER", msg)
	}
	owner.do("give sam stock-clerk too", chromedp.Click(`.edit-roles[data-email="sam@example.com"]`), chromedp.WaitVisible(samForm),
		chromedp.Click(samForm+` input[value="stock-clerk"]`), chromedp.Click(samForm+` .save-roles`),
		until(`document.querySelector('.staff-roles[data-email="sam@example.com"]')?.textContent.includes('stock-clerk')`))
	owner.shot("staff-roles-changed")
	var members struct {
		StaffMembers struct {
			Nodes []struct {
				Email string
				Roles []string
			}
		}
	}
	s.do(s.staff, `{ staffMembers(first: 50) { nodes { email roles } } }`, nil, &members)
	for _, m := range members.StaffMembers.Nodes {
		if got := strings.Join(m.Roles, ","); m.Email == "sam@example.com" && got != "stock-clerk,support" || m.Email == crashOwner && got != "owner" {
			t.Errorf("after the role changes %s holds %s", m.Email, got)
		}
	}
	owner.do("the support role", chromedp.Navigate(s.in.base+"/admin/roles/support"), chromedp.WaitVisible(`input[data-perm="customer:read"]:checked`),
		chromedp.Click(`input[data-perm="customer:read"]`), chromedp.Click(`input[data-perm="customer:write"]`),
		chromedp.Click(`#save-role`), chromedp.WaitVisible(`.banner-success`), chromedp.WaitVisible(`input[data-perm="customer:read"]:not(:checked)`))
	owner.shot("role-support-edited")
	sam = newAdminTab(t, s.in.base, "support-after")
	sam.signIn("sam@example.com", "sam's long passphrase")
	if nav := sam.text(`.sidenav`); strings.Contains(nav, "Customers") || !strings.Contains(nav, "Orders") {
		t.Errorf("after losing customer read, support's navigation: %q", nav)
	}
	sam.do("support opens the staff screen", chromedp.Navigate(s.in.base+"/admin/staff"), chromedp.WaitVisible(`#forbidden`))
	if sam.count(`.edit-roles`) != 0 {
		t.Error("a role without staff write is offered to change roles")
	}
	sam.do("support opens the customers screen", chromedp.Navigate(s.in.base+"/admin/customers"), chromedp.WaitVisible(`#forbidden`))
	sam.shot("customers-forbidden")
	if sam.count(`#customer-search`) != 0 {
		t.Error("the customers screen shows its list to a role without customer read")
	}
	if out := s.in.graphqlAs(support, `{ customers(first: 1) { nodes { id } } }`); !strings.Contains(out, "FORBIDDEN") {
		t.Errorf("the API still lets support list customers: %s", out)
	}

	// Orders: two unpaid orders cancelled at once.
	a, b := s.placeOrder(), s.placeOrder()
	owner.do("the unpaid orders", chromedp.Navigate(s.in.base+"/admin/orders?paymentStatus=PENDING"),
		chromedp.WaitVisible(`.select-order[data-id="`+a.id+`"]`), chromedp.WaitVisible(`.select-order[data-id="`+b.id+`"]`))
	owner.do("select both and cancel", chromedp.Click(`.select-order[data-id="`+a.id+`"]`), chromedp.Click(`.select-order[data-id="`+b.id+`"]`),
		until(`document.querySelector('#selected-count')?.textContent === "2"`), chromedp.Click(`#bulk-cancel`), chromedp.WaitVisible(`#bulk-text`),
		fill(`#bulk-text`, "Out of stock, sorry"))
	owner.shot("orders-bulk")
	owner.do("run the bulk cancel", chromedp.Click(`#bulk-submit`), chromedp.WaitVisible(`#bulk-result`))
	owner.shot("orders-bulk-done")
	if res := owner.text(`#bulk-result`); !strings.Contains(res, "2 succeeded, 0 failed") {
		t.Errorf("the bulk result says %q", res)
	}
	for _, o := range []order{a, b} {
		var st struct{ Order struct{ Status string } }
		s.do(s.staff, `query($id: ID!) { order(id: $id) { status } }`, map[string]any{"id": o.id}, &st)
		if st.Order.Status != "CANCELLED" {
			t.Errorf("order %s is %s after the bulk cancel", o.id, st.Order.Status)
		}
	}
	if m := s.money(paid); m.PaymentStatus != "PAID" {
		t.Errorf("the paid order, not selected, is %s", m.PaymentStatus)
	}
	owner.do("the filters", chromedp.Navigate(s.in.base+"/admin/orders?status=CANCELLED&fulfillmentStatus=UNFULFILLED"), chromedp.WaitVisible(`.order-link`))
	if list := owner.text(`.table`); strings.Count(list, "Cancelled") != 2 {
		t.Errorf("the cancelled orders list:\n%s", list)
	}
	owner.do("the customers and groups screens", chromedp.Navigate(s.in.base+"/admin/customers/groups"), chromedp.WaitVisible(`#group-create`),
		fill(`#group-name`, "Wholesale"), chromedp.Click(`#group-create button[type=submit]`), until(`document.querySelector('.table')?.textContent.includes('Wholesale')`))
	owner.shot("customer-groups")
	owner.do("the staff list in Chinese", chromedp.Navigate(s.in.base+"/admin/staff"), chromedp.WaitVisible(`.staff-name`), fill(`.topbar .lang`, "zh-CN"),
		until(`document.querySelector('.sidenav').textContent.includes('角色')`))
	owner.shot("staff-zh")
	owner.noCSPViolations()
}
