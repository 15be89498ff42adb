package storefront_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/testkit"
)

const accountPassword = "tea leaves in the morning"

var (
	orderLinkRE   = regexp.MustCompile(`href="/account/orders/(ord_[0-9A-Za-z]+)"`)
	addressLinkRE = regexp.MustCompile(`href="/account/addresses/(adr_[0-9A-Z]+)"`)
)

// register opens an account through the sign-up form and checks the
// session cookie the storefront sets.
func (b *shopper) register(email string) {
	b.t.Helper()
	if res, _ := b.get("/account/register"); res.StatusCode != http.StatusOK {
		b.t.Fatalf("sign-up page: %d", res.StatusCode)
	}
	res, body := b.post("/account/register", url.Values{"email": {email}, "password": {accountPassword}, "firstName": {"芳"}, "lastName": {"王"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account?n=welcome" {
		b.t.Fatalf("sign-up: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	var raw string
	for _, c := range res.Cookies() {
		if c.Name == "kassa_session" {
			raw = c.Raw
		}
	}
	if !strings.Contains(raw, "HttpOnly") || !strings.Contains(raw, "SameSite=Lax") || !strings.Contains(raw, "Path=/") || !strings.Contains(raw, "kassa_session=ks") {
		b.t.Fatalf("session cookie %q: want the API's session token, HttpOnly, SameSite=Lax", raw)
	}
}

// wantPage gets a page and fails unless it answers status with every
// text of want.
func (b *shopper) wantPage(path string, status int, want ...string) string {
	b.t.Helper()
	res, body := b.get(path)
	if res.StatusCode != status {
		b.t.Fatalf("GET %s: %d, want %d\n%s", path, res.StatusCode, status, body)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			b.t.Fatalf("GET %s lacks %q:\n%s", path, w, body)
		}
	}
	return body
}

// mailedToken reads the token of a link the API handed to the mail flow
// (the outbox event core/notify turns into the email).
func (s *testShop) mailedToken(subject, email string) string {
	s.t.Helper()
	rows, err := s.app.DB.QueryContext(s.t.Context(), "SELECT payload FROM outbox_events WHERE subject = ? ORDER BY id DESC", subject)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var payload string
		if err := rows.Scan(&payload); err != nil {
			s.t.Fatal(err)
		}
		var ev struct{ Email, Token string }
		if json.Unmarshal([]byte(payload), &ev) == nil && ev.Email == email {
			return ev.Token
		}
	}
	s.t.Fatalf("no %s event for %s", subject, email)
	return ""
}

// TestAccountWithoutJavaScript is a buyer's account as forms, on both
// databases: sign-up keeps the guest's cart and prefills the checkout's
// email, the address book is kept, the order placed shows in the
// history and can be cancelled while unpaid; another buyer gets 404 for
// it; sign-out, a wrong password, the password reset by its mailed link.
func TestAccountWithoutJavaScript(t *testing.T) {
	for _, engine := range []testkit.Engine{testkit.SQLite, testkit.Postgres} {
		name := map[testkit.Engine]string{testkit.SQLite: "sqlite", testkit.Postgres: "postgres"}[engine]
		t.Run(name, func(t *testing.T) {
			s := newTestShop(t, engine)
			b := s.shopper()

			// Guests are sent to sign in, and come back where they were.
			res, _ := b.get("/account/orders?lang=en")
			wantRedirect(t, res, "/account/login?return=%2Faccount%2Forders")
			body := b.wantPage("/account/login", http.StatusOK, `id="login-form"`, `<meta name="robots" content="noindex`, `href="/account/login" id="account-link"`, "Sign in")
			_ = body
			if res, _ = b.get("/account/login"); res.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("sign-in page Cache-Control %q", res.Header.Get("Cache-Control"))
			}

			// A guest fills a cart, then signs up: the cart is theirs.
			b.visitProduct()
			wantRedirect(t, b.add(s.variant, "2"), "/cart")
			b.wantPage("/cart", http.StatusOK, `src="/products/`+s.handle+`/image.svg" width="64" height="64"`)
			b.register("fang@example.com")
			if b.cookie("kassa_cart") != "" {
				t.Fatal("the guest cart cookie outlived the sign-in")
			}
			b.wantPage("/account?n=welcome", http.StatusOK, "fang@example.com", "Welcome!", `href="/account" id="account-link"`, `id="sign-out"`)
			b.wantPage("/cart", http.StatusOK, `name="quantity" value="2"`)

			// The verification link from the welcome email.
			verify := s.mailedToken("kassa.customer.verification_requested", "fang@example.com")
			// Opened by someone not signed in to the account (whoever
			// registered an address they do not own would otherwise get
			// it verified by its owner's click): sign in first; the link
			// stays good.
			stranger := s.shopper()
			if body := stranger.wantPage("/account/verify-email?token="+url.QueryEscape(verify), http.StatusOK, `id="verify-sign-in"`,
				`href="/account/login?return=%2Faccount%2Fverify-email%3Ftoken%3D`); strings.Contains(body, `id="verify-form"`) {
				t.Fatal("the verify page offers a stranger to confirm")
			}
			stranger.register("gao@example.com")
			stranger.wantPage("/account/verify-email?token="+url.QueryEscape(verify), http.StatusOK, `id="verify-form"`)
			res, body = stranger.post("/account/verify-email", url.Values{"token": {verify}})
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "signed in to another account") || !strings.Contains(body, `id="verify-sign-in"`) {
				t.Fatalf("verify signed in to another account: %d\n%s", res.StatusCode, body)
			}
			b.wantPage("/account/verify-email?token="+url.QueryEscape(verify), http.StatusOK, `id="verify-form"`)
			res, body = b.post("/account/verify-email", url.Values{"token": {"kat_forged"}})
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "expired") {
				t.Fatalf("forged verification token: %d\n%s", res.StatusCode, body)
			}
			res, _ = b.post("/account/verify-email", url.Values{"token": {verify}})
			wantRedirect(t, res, "/account?n=verified")
			if body = b.wantPage("/account?n=verified", http.StatusOK, "your email address is verified"); strings.Contains(body, "not verified yet") {
				t.Fatal("the account still says the address is not verified")
			}
			b.wantPage("/checkout", http.StatusOK, `value="fang@example.com"`)
			_, body = b.get("/checkout?lang=zh-CN")
			wantInOrder(t, "the Chinese checkout", body, chineseForm...)
			b.get("/account?lang=en")

			// The address book.
			addr := url.Values{"firstName": {"芳"}, "lastName": {"王"}, "line1": {"西湖区文三路1号"}, "city": {"杭州市"},
				"province": {"浙江省"}, "postalCode": {"310012"}, "countryCode": {"CN"}}
			b.wantPage("/account/addresses/new", http.StatusOK, `id="address-form"`)
			for _, c := range []struct{ field, value, want string }{
				{"countryCode", "XX", "Choose a country"},
				{"city", "", "This field is required"},
				{"line1", "文三路\x001号", "cannot be used"},
				{"line1", strings.Repeat("路", 5000), "too long"},
			} {
				res, body := b.post("/account/addresses/new", with(addr, c.field, c.value))
				if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) {
					t.Fatalf("address with %s=%.20q: %d\n%s", c.field, c.value, res.StatusCode, body)
				}
			}
			b.wantPage("/account/addresses", http.StatusOK, `id="addresses-empty"`)
			res, _ = b.post("/account/addresses/new", addr)
			wantRedirect(t, res, "/account/addresses?n=saved")
			res, _ = b.post("/account/addresses/new", with(with(addr, "line1", "滨江区江南大道3号"), "default", "on"))
			wantRedirect(t, res, "/account/addresses?n=saved")
			body = b.wantPage("/account/addresses", http.StatusOK, "西湖区文三路1号", "滨江区江南大道3号", "Default")
			ids := addressLinkRE.FindAllStringSubmatch(body, -1)
			if len(ids) != 2 {
				t.Fatalf("address links %v\n%s", ids, body)
			}
			first := ids[0][1]
			b.wantPage("/account/addresses/"+first, http.StatusOK, `value="西湖区文三路1号"`)
			res, _ = b.post("/account/addresses/"+first, with(addr, "city", "宁波市"))
			wantRedirect(t, res, "/account/addresses?n=saved")
			res, _ = b.post("/account/addresses/"+first+"/default", url.Values{})
			wantRedirect(t, res, "/account/addresses?n=defaultSet")
			res, _ = b.post("/account/addresses/"+ids[1][1]+"/delete", url.Values{})
			wantRedirect(t, res, "/account/addresses?n=deleted")
			body = b.wantPage("/account/addresses", http.StatusOK, "宁波市")
			if strings.Contains(body, "滨江区") {
				t.Fatalf("the deleted address is still listed:\n%s", body)
			}

			// An order, in the history.
			b.checkoutToPayment()
			body = b.wantPage("/account/orders", http.StatusOK)
			m := orderLinkRE.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no order in the history:\n%s", body)
			}
			order := m[1]
			b.wantPage("/account/orders/"+order, http.StatusOK, "Awaiting payment", `id="cancel-order"`, `id="order-lines"`)

			// Another buyer: the order is not found, and stays open.
			other := s.shopper()
			other.register("lei@example.com")
			other.wantPage("/account/orders/"+order, http.StatusNotFound, "Not found")
			if _, body := other.get("/account/orders"); strings.Contains(body, order) {
				t.Fatal("another buyer's history lists the order")
			}
			res, _ = other.post("/account/orders/"+order+"/cancel", url.Values{})
			if res.StatusCode != http.StatusNotFound {
				t.Fatalf("another buyer's cancel: %d, want 404", res.StatusCode)
			}
			res, _ = other.post("/account/addresses/"+first+"/delete", url.Values{})
			if res.StatusCode != http.StatusNotFound {
				t.Fatalf("another buyer's address delete: %d, want 404", res.StatusCode)
			}
			other.wantPage("/account/addresses/"+first, http.StatusNotFound)

			// Ids and cursors that cannot be: 404 or 400, nothing run.
			for _, c := range []struct {
				path   string
				status int
			}{
				{"/account/orders/ord%00x", http.StatusNotFound},
				{"/account/orders/" + strings.Repeat("a", 5000), http.StatusNotFound},
				{"/account/orders/ord_%E2%80%AE", http.StatusNotFound},
				{"/account/orders?after=%00", http.StatusBadRequest},
				{"/account/orders?after=" + strings.Repeat("a", 5000), http.StatusBadRequest},
				{"/account/addresses/adr%0A1", http.StatusNotFound},
			} {
				if res, body := b.get(c.path); res.StatusCode != c.status {
					t.Fatalf("GET %.60s: %d, want %d\n%s", c.path, res.StatusCode, c.status, body)
				}
			}

			// Forms without the token change nothing.
			res, _ = b.post("/account/orders/"+order+"/cancel", url.Values{"csrf_token": {""}})
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("cancel without a token: %d, want 403", res.StatusCode)
			}
			res, _ = b.post("/account/orders/"+order+"/cancel", url.Values{"csrf_token": {"forged"}})
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("cancel with a forged token: %d, want 403", res.StatusCode)
			}
			b.wantPage("/account/orders/"+order, http.StatusOK, "Awaiting payment")
			b.wantPage("/account/orders/"+order+"?e=%3Cscript%3E,"+strings.Repeat("X", 300), http.StatusOK)

			// The buyer cancels the unpaid order.
			res, _ = b.post("/account/orders/"+order+"/cancel", url.Values{})
			wantRedirect(t, res, "/account/orders/"+order+"?n=cancelled")
			body = b.wantPage("/account/orders/"+order+"?n=cancelled", http.StatusOK, "The order was cancelled", "Cancelled")
			if strings.Contains(body, `id="cancel-order"`) {
				t.Fatal("a cancelled order still offers to cancel")
			}
			res, _ = b.post("/account/orders/"+order+"/cancel", url.Values{})
			wantRedirect(t, res, "/account/orders/"+order+"?e=")

			// In Chinese.
			// In Chinese: the name family name first, the address from the
			// country down to the street, on the order and in the forms.
			b.wantPage("/account/orders/"+order+"?lang=zh-CN", http.StatusOK, `<html lang="zh-CN">`, "已取消", "我的账户",
				"王芳<br>中国大陆 浙江省 杭州市<br>西湖区文三路1号<br>310012")
			_, body = b.get("/account/addresses/new")
			wantInOrder(t, "the Chinese address form", body, chineseForm...)
			_, body = b.get("/account/addresses/new?lang=en")
			wantInOrder(t, "the English form", body, `id="f-firstName"`, `id="f-lastName"`, `id="f-line1"`, `id="f-city"`, `id="f-countryCode"`)
			b.get("/account?lang=en")

			// Sign out; a wrong password; back in, to where the buyer was.
			res, _ = b.post("/account/logout", url.Values{})
			wantRedirect(t, res, "/account/login?n=signedOut")
			if b.cookie("kassa_session") != "" {
				t.Fatal("the session cookie outlived sign-out")
			}
			wantRedirect(t, func() *http.Response { r, _ := b.get("/account"); return r }(), "/account/login")
			b.get("/account/login")
			res, body = b.post("/account/login", url.Values{"email": {"fang@example.com"}, "password": {"not the password"}})
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "not right") || strings.Contains(body, "not the password") {
				t.Fatalf("wrong password: %d\n%s", res.StatusCode, body)
			}
			for _, c := range []url.Values{
				{"email": {"fang@example.com\x00"}, "password": {accountPassword}},
				{"email": {strings.Repeat("a", 300) + "@example.com"}, "password": {accountPassword}},
				{"email": {"fang@example.com"}, "password": {strings.Repeat("p", 5000)}},
				{"email": {""}, "password": {""}},
			} {
				if res, body := b.post("/account/login", c); res.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("login %.40v: %d\n%s", c, res.StatusCode, body)
				}
			}
			res, _ = b.post("/account/login", url.Values{"email": {"fang@example.com"}, "password": {accountPassword}, "return": {"//evil.example/"}})
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
				t.Fatalf("sign-in with a foreign return: %d to %q", res.StatusCode, res.Header.Get("Location"))
			}
			b.post("/account/logout", url.Values{})
			b.get("/account/login")

			// The password reset, by the mailed link.
			b.wantPage("/account/forgot-password", http.StatusOK, `id="forgot-form"`)
			b.post("/account/forgot-password", url.Values{"email": {"fang@example.com"}})
			_, body = b.post("/account/forgot-password", url.Values{"email": {"nobody@example.com"}})
			if !strings.Contains(body, `id="reset-sent"`) {
				t.Fatalf("reset for an unknown address:\n%s", body)
			}
			token := s.mailedToken("kassa.customer.password_reset_requested", "fang@example.com")
			b.wantPage("/account/reset-password?token="+url.QueryEscape(token), http.StatusOK, `id="reset-form"`)
			b.wantPage("/account/reset-password?token=%00", http.StatusBadRequest, "expired")
			res, body = b.post("/account/reset-password", url.Values{"token": {token}, "password": {"short"}})
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "at least 10") {
				t.Fatalf("short new password: %d\n%s", res.StatusCode, body)
			}
			res, body = b.post("/account/reset-password", url.Values{"token": {"kat_forged"}, "password": {"a brand new passphrase"}})
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "expired") {
				t.Fatalf("forged token: %d\n%s", res.StatusCode, body)
			}
			res, _ = b.post("/account/reset-password", url.Values{"token": {token}, "password": {"a brand new passphrase"}})
			wantRedirect(t, res, "/account/login?n=reset")
			b.get("/account/login")
			res, _ = b.post("/account/login", url.Values{"email": {"fang@example.com"}, "password": {accountPassword}})
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("the old password still signs in: %d", res.StatusCode)
			}
			res, _ = b.post("/account/login", url.Values{"email": {"fang@example.com"}, "password": {"a brand new passphrase"}})
			wantRedirect(t, res, "/account")
			b.wantPage("/account", http.StatusOK, "fang@example.com")
		})
	}
}

// TestAccountFormsRefused: a form without the right token changes
// nothing: no account is opened, nobody is signed in.
func TestAccountFormsRefused(t *testing.T) {
	s := newTestShop(t, testkit.SQLite)
	b := s.shopper()
	b.get("/account/register")
	for _, tok := range []string{"", "forged", strings.Repeat("x", 5000)} {
		res, _ := b.post("/account/register", url.Values{"csrf_token": {tok}, "email": {"mallory@example.com"}, "password": {accountPassword}})
		if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusBadRequest {
			t.Fatalf("sign-up with token %.10q: %d, want 403", tok, res.StatusCode)
		}
	}
	b.get("/account/login")
	res, _ := b.post("/account/login", url.Values{"email": {"mallory@example.com"}, "password": {accountPassword}})
	if res.StatusCode != http.StatusUnprocessableEntity || b.cookie("kassa_session") != "" {
		t.Fatalf("an account was opened by refused forms: %d", res.StatusCode)
	}
	// A sign-in form from another session is refused once signed in.
	b.register("eve@example.com")
	guestToken := b.last
	b.get("/account")
	if b.last == guestToken {
		t.Fatal("the form token did not change at sign-in")
	}
	res, _ = b.post("/account/logout", url.Values{"csrf_token": {guestToken}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-out with the guest's token: %d, want 403", res.StatusCode)
	}
	b.wantPage("/account", http.StatusOK, "eve@example.com")
}

// A staff member's session (the admin's cookie is the storefront's) is
// not a buyer's: the account pages ask to sign in as a buyer rather than
// fail with 503 and an error in the log (an outside review).
func TestStaffSessionOnAccountPages(t *testing.T) {
	s := newTestShop(t, testkit.SQLite)
	sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	if _, err := s.app.Accounts.Service.CreateOwner(sys, account.NewStaff{Email: "owner@example.com", Name: "Owner", Password: "owner passphrase 1"}); err != nil {
		t.Fatal(err)
	}
	_, sess, err := s.app.Accounts.Service.StaffLogin(context.Background(), "owner@example.com", "owner passphrase 1")
	if err != nil {
		t.Fatal(err)
	}
	b := s.shopper()
	u, _ := url.Parse(s.URL)
	b.jar.SetCookies(u, []*http.Cookie{{Name: "kassa_session", Value: sess.Token, Path: "/"}})
	res, _ := b.get("/account")
	wantRedirect(t, res, "/account/login")
	b.wantPage("/account/login", http.StatusOK, `id="login-form"`)
	res, _ = b.get("/account/orders")
	wantRedirect(t, res, "/account/login?return=%2Faccount%2Forders")
}

// TestStatusPageAfterTheClaim: a guest's order claimed by the account of
// its address loses its access token (links, emails and gateways' return
// URLs carry it). The buyer, signed in, still opens the status page from
// such a link; anyone else holding the token gets Not found.
func TestStatusPageAfterTheClaim(t *testing.T) {
	s := newTestShop(t, testkit.SQLite)
	b, _ := s.atPayment()
	id, token, _ := strings.Cut(b.cookie("kassa_order"), "~")
	status := "/orders/" + id + "/status?token=" + url.QueryEscape(token)
	b.wantPage(status, http.StatusOK, `id="payment-status"`)

	b.register("wang.fang@example.com")
	verify := s.mailedToken("kassa.customer.verification_requested", "wang.fang@example.com")
	b.wantPage("/account/verify-email?token="+url.QueryEscape(verify), http.StatusOK, `id="verify-form"`)
	res, _ := b.post("/account/verify-email", url.Values{"token": {verify}})
	wantRedirect(t, res, "/account?n=verified")
	ctx := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	list, err := s.app.Accounts.Service.List(ctx, account.CustomerFilter{Query: "wang.fang@example.com"}, page.Request{First: 1})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("the new account: %+v, %v", list, err)
	}
	buyer := authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindCustomer, ID: list.Items[0].ID,
		Roles: []string{authz.RoleCustomer}, Store: authz.DefaultStore})
	if n, err := s.app.Orders.ClaimGuestOrders(buyer); err != nil || n != 1 {
		t.Fatalf("claim: %d, %v", n, err)
	}

	b.wantPage(status, http.StatusOK, `id="payment-status"`)
	s.shopper().wantPage(status, http.StatusNotFound)
}

// chineseForm is the order of an address form's fields in Chinese: the
// family name first, then from the country down to the street.
var chineseForm = []string{`id="f-lastName"`, `id="f-firstName"`, `id="f-countryCode"`, `id="f-province"`, `id="f-city"`, `id="f-line1"`}

// wantInOrder fails t unless body holds each of parts, in that order.
func wantInOrder(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	at := 0
	for _, p := range parts {
		i := strings.Index(body[at:], p)
		if i < 0 {
			t.Fatalf("%s: %q is missing or out of order (want %q):\n%s", what, p, parts, body)
		}
		at += i + len(p)
	}
}
