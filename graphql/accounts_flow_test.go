package graphql_test

import (
	"context"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/httpauth"
)

const (
	registerOp = `mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) { userErrors { field code } } }`
	loginOp    = `mutation($input: LoginInput!) { customerLogin(input: $input) { customer { id email emailVerified } session { token expiresAt } userErrors { code } } }`
	meOp       = `{ me { id email firstName kind companyName taxId emailVerified addresses { id city } defaultShippingAddress { id } defaultBillingAddress { id } } }`
)

// TestBuyerJourney is a buyer's life through the HTTP API with a browser
// cookie: register, verify, sign in, profile, address book, password
// change, export, erasure.
func TestBuyerJourney(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		guest := e.browser()

		// Weak passwords are refused; nothing is created.
		res := guest.do(registerOp, in("email", "ana@example.com", "password", "Basketball"))
		if !res.has("PASSWORD_TOO_COMMON") {
			t.Fatalf("common password: %v", res.codes())
		}
		if res := guest.do(registerOp, in("email", "ana@example.com", "password", "short")); !res.has("PASSWORD_TOO_SHORT") {
			t.Fatalf("short password: %v", res.codes())
		}
		// Every problem at once: a bad address and a short password.
		if res := guest.do(registerOp, in("email", "x", "password", "short")); !res.has("INVALID_EMAIL") || !res.has("PASSWORD_TOO_SHORT") {
			t.Fatalf("bad email and short password: %v", res.codes())
		}
		if res := guest.do(registerOp, in("email", "ana@example.com", "password", "a fine long passphrase", "kind", "BUSINESS")); !res.has("REQUIRED") {
			t.Fatalf("business without company: %v", res.codes())
		}
		// A long password is kept whole: the 73rd character matters.
		long := "a long passphrase that goes past the seventy-two bytes bcrypt would keep!!"
		must(t, guest.do(registerOp, in("email", "Ana@Example.com", "password", long+"1", "firstName", "Ana")))
		token := e.tokens.take(t, account.TokenVerifyEmail, "ana@example.com")

		// Not verified yet; signing in works anyway, with the whole password only.
		if res := guest.do(loginOp, in("email", "ana@example.com", "password", long+"2")); !res.has("INVALID_CREDENTIALS") {
			t.Fatalf("login with a different 73rd character: %v", res.codes())
		}
		res = must(t, guest.do(loginOp, in("email", "ana@example.com", "password", long+"1")))
		if res.get("customerLogin", "customer", "emailVerified") != false || res.get("customerLogin", "session", "token") != nil {
			t.Fatalf("login: %v", res.Data)
		}
		id := res.str("customerLogin", "customer", "id")

		// The link alone verifies nothing: opened by someone not signed in
		// to the account (signed out, or into another), it asks to sign in
		// and stays open. Whoever registered an address chose the
		// password; verifying for them would hand a stranger the address's
		// guest orders to claim (an outside review).
		verify := `mutation($input: CustomerVerifyEmailInput!) { customerVerifyEmail(input: $input) { customer { emailVerified } userErrors { code } } }`
		stranger := e.browser()
		if res := stranger.do(verify, in("token", token)); !res.has("SIGN_IN_TO_VERIFY") || res.get("customerVerifyEmail", "customer") != nil {
			t.Fatalf("verify signed out: %v", res.Data)
		}
		must(t, stranger.do(registerOp, in("email", "cleo@example.com", "password", "cleo's own passphrase")))
		must(t, stranger.do(loginOp, in("email", "cleo@example.com", "password", "cleo's own passphrase")))
		if res := stranger.do(verify, in("token", token)); !res.has("SIGN_IN_TO_VERIFY") {
			t.Fatalf("verify signed in to another account: %v", res.codes())
		}

		// Verify the address with the mailed token; the token works once.
		if res := must(t, guest.do(verify, in("token", token))); res.get("customerVerifyEmail", "customer", "emailVerified") != true {
			t.Fatalf("verify: %v", res.Data)
		}
		if res := guest.do(verify, in("token", token)); !res.has("INVALID_TOKEN") {
			t.Fatalf("token reused: %v", res.codes())
		}

		// Profile: a business buyer.
		must(t, guest.do(`mutation($input: CustomerUpdateInput!) { customerUpdate(input: $input) { customer { kind } userErrors { code } } }`,
			in("kind", "BUSINESS", "companyName", "Ana GmbH", "taxId", "DE123456789")))
		// The staff note is not the buyer's to write.
		if res := guest.do(`mutation($input: CustomerUpdateInput!) { customerUpdate(input: $input) { userErrors { code } } }`, in("note", "vip")); !res.has("FORBIDDEN") {
			t.Fatalf("buyer writes note: %v", res.codes())
		}

		// Address book: the first address is both defaults; a second one
		// becomes the shipping default.
		addr := `mutation($input: CustomerAddressCreateInput!) { customerAddressCreate(input: $input) { address { id } customer { defaultShippingAddress { id } defaultBillingAddress { id } } userErrors { field code } } }`
		if res := guest.do(addr, in("address", vars("line1", "Hauptstr. 1", "city", "Berlin", "countryCode", "XX"))); !res.has("INVALID_COUNTRY") {
			t.Fatalf("a code no country has was accepted: %v", res.Data)
		}
		if res := guest.do(addr, in("address", vars("line1", "", "city", "Berlin", "countryCode", "Germany"))); !res.has("REQUIRED") || !res.has("INVALID_COUNTRY") {
			t.Fatalf("bad address: %v", res.codes())
		}
		home := must(t, guest.do(addr, in("address", vars("line1", "Hauptstr. 1", "city", "Berlin", "countryCode", "de"))))
		homeID := home.str("customerAddressCreate", "address", "id")
		office := must(t, guest.do(addr, in("address", vars("line1", "Office 2", "city", "Hamburg", "countryCode", "DE"), "defaultShipping", true)))
		officeID := office.str("customerAddressCreate", "address", "id")
		me := must(t, guest.do(meOp, nil))
		if me.str("me", "defaultShippingAddress", "id") != officeID || me.str("me", "defaultBillingAddress", "id") != homeID ||
			len(me.get("me", "addresses").([]any)) != 2 || me.str("me", "companyName") != "Ana GmbH" || me.str("me", "kind") != "BUSINESS" {
			t.Fatalf("me: %v", me.Data)
		}
		must(t, guest.do(`mutation($input: CustomerAddressDeleteInput!) { customerAddressDelete(input: $input) { deletedAddressId userErrors { code } } }`, in("id", officeID)))
		if me := must(t, guest.do(meOp, nil)); me.get("me", "defaultShippingAddress") != nil {
			t.Fatalf("deleted default still set: %v", me.Data)
		}

		// Someone else cannot touch the address: it does not exist for them.
		other := e.browser()
		must(t, other.do(registerOp, in("email", "ben@example.com", "password", "ben's own passphrase")))
		must(t, other.do(loginOp, in("email", "ben@example.com", "password", "ben's own passphrase")))
		if res := other.do(`mutation($input: CustomerAddressUpdateInput!) { customerAddressUpdate(input: $input) { userErrors { code } } }`,
			in("id", homeID, "address", vars("line1", "Stolen", "city", "X", "countryCode", "DE"))); !res.has("ADDRESS_NOT_FOUND") {
			t.Fatalf("foreign address: %v", res.codes())
		}
		if res := other.do(`mutation($input: CustomerDataExportInput!) { customerDataExport(input: $input) { data userErrors { code } } }`, in("customerId", id)); !res.has("CUSTOMER_NOT_FOUND") {
			t.Fatalf("foreign export: %v", res.codes())
		}

		// Export: everything, never a token.
		exp := must(t, guest.do(`mutation { customerDataExport(input: {}) { data userErrors { code } } }`, nil))
		data, _ := exp.get("customerDataExport", "data").(map[string]any)
		if data["profile"].(map[string]any)["email"] != "ana@example.com" || len(data["addresses"].([]any)) != 1 || len(data["sessions"].([]any)) != 1 {
			t.Fatalf("export: %v", data)
		}

		// Changing the password ends the other sessions, not this one.
		second := e.browser()
		must(t, second.do(loginOp, in("email", "ana@example.com", "password", long+"1")))
		change := `mutation($input: ChangePasswordInput!) { customerChangePassword(input: $input) { userErrors { field code } } }`
		if res := guest.do(change, in("currentPassword", "wrong password!", "newPassword", "another long passphrase")); !res.has("INVALID_CREDENTIALS") {
			t.Fatalf("wrong current password: %v", res.codes())
		}
		must(t, guest.do(change, in("currentPassword", long+"1", "newPassword", "another long passphrase")))
		if res := second.do(`{ me { id } }`, nil); res.get("me") != nil {
			t.Fatalf("other session survived a password change: %v", res.Data)
		}
		if res := guest.do(`{ me { id } }`, nil); res.str("me", "id") != id {
			t.Fatalf("own session ended: %v", res.Data)
		}

		// Erasure needs the password, then the account is gone and the
		// address is free again.
		erase := `mutation($input: CustomerEraseInput!) { customerErase(input: $input) { customer { email erasedAt } userErrors { code } } }`
		if res := guest.do(erase, in("password", "nope nope nope")); !res.has("INVALID_CREDENTIALS") {
			t.Fatalf("erase without password: %v", res.codes())
		}
		res = must(t, guest.do(erase, in("password", "another long passphrase")))
		if res.str("customerErase", "customer", "email") == "ana@example.com" || res.get("customerErase", "customer", "erasedAt") == nil {
			t.Fatalf("erase: %v", res.Data)
		}
		if res := guest.do(`{ me { id } }`, nil); res.get("me") != nil {
			t.Fatalf("erased buyer still signed in: %v", res.Data)
		}
		if res := e.browser().do(loginOp, in("email", "ana@example.com", "password", "another long passphrase")); !res.has("INVALID_CREDENTIALS") {
			t.Fatalf("erased buyer signs in: %v", res.codes())
		}
		if e.outbox.Count(account.SubjectCustomerErased) != 1 || e.outbox.Count(account.SubjectCustomerRegistered) != 3 { // ana, ben, cleo
			t.Fatalf("events: %v", e.outbox.Subjects())
		}
		must(t, e.browser().do(registerOp, in("email", "ana@example.com", "password", "a fresh start passphrase")))
	})
}

// TestNoAccountEnumeration checks that registration, sign-in and password
// reset answer the same for known and unknown addresses.
func TestNoAccountEnumeration(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		c := e.browser()
		must(t, c.do(registerOp, in("email", "known@example.com", "password", "known person passphrase")))

		again := c.do(registerOp, in("email", "known@example.com", "password", "someone else's passphrase"))
		fresh := c.do(registerOp, in("email", "unknown@example.com", "password", "someone else's passphrase"))
		if len(again.codes()) != 0 || len(fresh.codes()) != 0 {
			t.Fatalf("register answers differ: %v vs %v", again.codes(), fresh.codes())
		}
		if e.outbox.Count(account.SubjectCustomerRegistrationAttempted) != 1 {
			t.Fatalf("the owner of the address is not told: %v", e.outbox.Subjects())
		}

		time1 := time.Now()
		wrong := c.do(loginOp, in("email", "known@example.com", "password", "not the passphrase"))
		dKnown := time.Since(time1)
		time2 := time.Now()
		unknown := c.do(loginOp, in("email", "nobody@example.com", "password", "not the passphrase"))
		dUnknown := time.Since(time2)
		if !wrong.has("INVALID_CREDENTIALS") || !unknown.has("INVALID_CREDENTIALS") || len(wrong.Errors) != len(unknown.Errors) {
			t.Fatalf("login answers differ: %v vs %v", wrong.codes(), unknown.codes())
		}
		// Both ran argon2id (tens of milliseconds); an unknown address is
		// not answered in a fraction of the time.
		if dUnknown < dKnown/4 {
			t.Errorf("unknown address answered in %v, known in %v", dUnknown, dKnown)
		}

		reset := `mutation($input: CustomerEmailInput!) { customerRequestPasswordReset(input: $input) { userErrors { code } } }`
		a, b := c.do(reset, in("email", "known@example.com")), c.do(reset, in("email", "nobody@example.com"))
		if len(a.codes()) != 0 || len(b.codes()) != 0 {
			t.Fatalf("reset answers differ: %v vs %v", a.codes(), b.codes())
		}
		if !e.tokens.has(account.TokenResetPassword, "known@example.com") || e.tokens.has(account.TokenResetPassword, "nobody@example.com") {
			t.Fatal("reset token sent to the wrong people")
		}
	})
}

// TestLoginThrottle: guessing slows down exponentially per account, also
// for unknown addresses, and never locks the real user out for long.
func TestLoginThrottle(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		c := e.browser()
		must(t, c.do(registerOp, in("email", "cat@example.com", "password", "cat's real passphrase")))
		for _, email := range []string{"cat@example.com", "ghost@example.com"} {
			for i := 0; i < account.DefaultThrottle.AccountFree+1; i++ {
				if res := c.do(loginOp, in("email", email, "password", "guess number one")); !res.has("INVALID_CREDENTIALS") {
					t.Fatalf("%s guess %d: %v", email, i, res.codes())
				}
			}
			if res := c.do(loginOp, in("email", email, "password", "guess number two")); !res.has("TOO_MANY_ATTEMPTS") {
				t.Fatalf("%s not throttled: %v", email, res.codes())
			}
		}
		// Even the right password waits out the block...
		if res := c.do(loginOp, in("email", "cat@example.com", "password", "cat's real passphrase")); !res.has("TOO_MANY_ATTEMPTS") {
			t.Fatalf("blocked account signs in: %v", res.codes())
		}
		// ...which is short: after it, the real user gets in and the count resets.
		e.clock.Advance(3 * time.Second)
		must(t, c.do(loginOp, in("email", "cat@example.com", "password", "cat's real passphrase")))
		if res := c.do(loginOp, in("email", "cat@example.com", "password", "one more typo")); !res.has("INVALID_CREDENTIALS") {
			t.Fatalf("count not reset after success: %v", res.codes())
		}
	})
}

// TestPasswordReset: a reset token works once, within its hour, and ends
// every session.
func TestPasswordReset(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		c := e.browser()
		must(t, c.do(registerOp, in("email", "dan@example.com", "password", "dan's first passphrase")))
		must(t, c.do(loginOp, in("email", "dan@example.com", "password", "dan's first passphrase")))
		request := `mutation($input: CustomerEmailInput!) { customerRequestPasswordReset(input: $input) { userErrors { code } } }`
		reset := `mutation($input: CustomerResetPasswordInput!) { customerResetPassword(input: $input) { userErrors { field code } } }`

		must(t, e.browser().do(request, in("email", "dan@example.com")))
		expired := e.tokens.take(t, account.TokenResetPassword, "dan@example.com")
		e.clock.Advance(2 * time.Hour)
		if res := e.browser().do(reset, in("token", expired, "password", "dan's second passphrase")); !res.has("INVALID_TOKEN") {
			t.Fatalf("expired token: %v", res.codes())
		}
		must(t, e.browser().do(request, in("email", "dan@example.com")))
		token := e.tokens.take(t, account.TokenResetPassword, "dan@example.com")
		if res := e.browser().do(reset, in("token", token, "password", "qwertyuiop")); !res.has("PASSWORD_TOO_COMMON") {
			t.Fatalf("weak new password: %v", res.codes())
		}
		must(t, e.browser().do(reset, in("token", token, "password", "dan's second passphrase")))
		if res := e.browser().do(reset, in("token", token, "password", "dan's third passphrase")); !res.has("INVALID_TOKEN") {
			t.Fatalf("token reused: %v", res.codes())
		}
		if res := c.do(`{ me { id } }`, nil); res.get("me") != nil {
			t.Fatal("session survived the reset")
		}
		if res := e.browser().do(loginOp, in("email", "dan@example.com", "password", "dan's first passphrase")); !res.has("INVALID_CREDENTIALS") {
			t.Fatalf("old password works: %v", res.codes())
		}
		must(t, e.browser().do(loginOp, in("email", "dan@example.com", "password", "dan's second passphrase")))
	})
}

// TestSessionsAndCSRF covers the transport: cookie attributes, the
// anti-CSRF header, bearer tokens, sign-in rotation and sign-out.
func TestSessionsAndCSRF(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		c := e.browser()
		must(t, c.do(registerOp, in("email", "eve@example.com", "password", "eve's own passphrase")))
		res := must(t, c.do(loginOp, in("email", "eve@example.com", "password", "eve's own passphrase", "returnToken", true)))
		token := res.str("customerLogin", "session", "token")
		if len(token) < 40 {
			t.Fatalf("token %q", token)
		}
		cookies := c.http.Jar.Cookies(mustURL(t, e.http.URL))
		if len(cookies) != 1 || cookies[0].Name != httpauth.SessionCookie || cookies[0].Value != token {
			t.Fatalf("cookies %v", cookies)
		}

		// A cookie POST without the anti-CSRF header is refused.
		c.noCSRF = true
		if res := c.do(`{ me { id } }`, nil); res.status != 403 || !res.has("CSRF_HEADER_REQUIRED") {
			t.Fatalf("no CSRF header: status %d %v", res.status, res.codes())
		}
		c.noCSRF = false

		// The same token works as a bearer token (no CSRF header needed).
		api := e.api(token)
		api.noCSRF = true
		if res := must(t, api.do(`{ me { email } viewer { kind roles permissions } }`, nil)); res.str("me", "email") != "eve@example.com" || res.str("viewer", "kind") != "CUSTOMER" {
			t.Fatalf("bearer: %v", res.Data)
		}
		if res := e.api("kses_forged").do(`{ me { id } }`, nil); res.status != 401 || !res.has("UNAUTHENTICATED") {
			t.Fatalf("forged bearer: %d %v", res.status, res.codes())
		}

		// Signing in again rotates: the old token dies.
		must(t, c.do(loginOp, in("email", "eve@example.com", "password", "eve's own passphrase")))
		if res := api.do(`{ me { id } }`, nil); res.status != 401 {
			t.Fatalf("token survived rotation: %d %v", res.status, res.Data)
		}
		// Sign-out ends the session and clears the cookie.
		if res := must(t, c.do(`mutation { logout { loggedOut } }`, nil)); res.get("logout", "loggedOut") != true {
			t.Fatalf("logout: %v", res.Data)
		}
		if got := c.http.Jar.Cookies(mustURL(t, e.http.URL)); len(got) != 0 {
			t.Fatalf("cookie not cleared: %v", got)
		}
		if res := c.do(`{ viewer { kind } }`, nil); res.str("viewer", "kind") != "ANONYMOUS" {
			t.Fatalf("after logout: %v", res.Data)
		}
		// Sessions expire.
		must(t, c.do(loginOp, in("email", "eve@example.com", "password", "eve's own passphrase")))
		e.clock.Advance(31 * 24 * time.Hour)
		if res := c.do(`{ me { id } }`, nil); res.get("me") != nil {
			t.Fatal("expired session still works")
		}
	})
}

// TestStaffJourney: the first owner from the setup token, an invitation,
// roles enforced per request, disabling ending sessions at once, API keys,
// and a role change reaching the next request.
func TestStaffJourney(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		ctx := system()
		setup, err := e.acc.IssueOwnerSetupToken(ctx)
		if err != nil || setup == "" {
			t.Fatalf("setup token %q: %v", setup, err)
		}
		staffLogin := `mutation($input: LoginInput!) { staffLogin(input: $input) { staffMember { id roles } session { token } userErrors { code } } }`
		setupOp := `mutation($input: StaffSetupOwnerInput!) { staffSetupOwner(input: $input) { staffMember { id roles } userErrors { code } } }`

		owner := e.browser()
		if res := owner.do(setupOp, in("token", "ktok_wrong", "email", "olga@shop.example", "password", "olga's owner passphrase")); !res.has("INVALID_TOKEN") {
			t.Fatalf("wrong setup token: %v", res.codes())
		}
		res := must(t, owner.do(setupOp, in("token", setup, "email", "olga@shop.example", "name", "Olga", "password", "olga's owner passphrase")))
		if res.get("staffSetupOwner", "staffMember", "roles").([]any)[0] != "owner" {
			t.Fatalf("setup: %v", res.Data)
		}
		if res := e.browser().do(setupOp, in("token", setup, "email", "mallory@shop.example", "password", "mallory's passphrase")); !res.has("INVALID_TOKEN") {
			t.Fatalf("setup token reused: %v", res.codes())
		}
		if again, _ := e.acc.IssueOwnerSetupToken(ctx); again != "" {
			t.Fatal("setup token issued while an owner exists")
		}

		// The owner invites a manager; the manager accepts and signs in.
		invite := `mutation($input: StaffInviteInput!) { staffInvite(input: $input) { invitation { id roles } userErrors { field code } } }`
		if res := owner.do(invite, in("email", "max@shop.example", "roles", []string{"customer"})); !res.has("INVALID_ROLE") {
			t.Fatalf("buyer role given to staff: %v", res.codes())
		}
		must(t, owner.do(invite, in("email", "max@shop.example", "name", "Max", "roles", []string{"manager"})))
		if e.outbox.Count(account.SubjectStaffInvited) != 1 {
			t.Fatalf("events %v", e.outbox.Subjects())
		}
		invToken := e.tokens.take(t, account.TokenStaffInvitation, "max@shop.example")
		manager := e.browser()
		must(t, manager.do(`mutation($input: StaffAcceptInvitationInput!) { staffAcceptInvitation(input: $input) { staffMember { roles } userErrors { code } } }`,
			in("token", invToken, "password", "max's manager passphrase")))
		res = must(t, manager.do(`{ viewer { kind roles permissions staffMember { email } } }`, nil))
		if res.str("viewer", "kind") != "STAFF" || res.str("viewer", "staffMember", "email") != "max@shop.example" {
			t.Fatalf("manager viewer: %v", res.Data)
		}
		// The manager writes products but not roles, and cannot invite.
		if res := manager.do(`mutation($input: RoleCreateInput!) { roleCreate(input: $input) { userErrors { code } } }`, in("name", "intern", "permissions", []string{"product:read"})); !res.has("FORBIDDEN") {
			t.Fatalf("manager creates role: %v", res.codes())
		}
		if res := manager.do(invite, in("email", "x@shop.example", "roles", []string{"support"})); !res.has("FORBIDDEN") {
			t.Fatalf("manager invites: %v", res.codes())
		}
		must(t, manager.do(`{ roles { name } staffMembers { nodes { email roles } } customers { nodes { id } } }`, nil))

		// A role change takes effect on the next request.
		must(t, owner.do(`mutation($input: RoleUpdateInput!) { roleUpdate(input: $input) { role { permissions } userErrors { code } } }`,
			in("name", "manager", "permissions", []string{"staff:read:own", "product:read"})))
		if res := manager.do(`{ customers { nodes { id } } }`, nil); !res.has("FORBIDDEN") {
			t.Fatalf("revoked permission still works: %v", res.codes())
		}

		// API keys: created by the owner, shown once, used as bearer,
		// last use recorded, revoked at once.
		res = must(t, owner.do(`mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) { apiKey { id hint role } secret userErrors { code } } }`,
			in("name", "ERP", "role", "developer")))
		secret := res.str("apiKeyCreate", "secret")
		keyID := res.str("apiKeyCreate", "apiKey", "id")
		integration := e.api(secret)
		if res := must(t, integration.do(`{ viewer { kind roles } apiKeys { nodes { id lastUsedAt } } }`, nil)); res.str("viewer", "kind") != "API_KEY" ||
			res.get("apiKeys", "nodes", "0", "lastUsedAt") == nil {
			t.Fatalf("API key: %v", res.Data)
		}
		if res := integration.do(`mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) { userErrors { code } } }`, in("name", "escalate", "role", "owner")); !res.has("ROLE_NOT_HELD") {
			t.Fatalf("developer key makes an owner key: %v", res.codes())
		}
		must(t, owner.do(`mutation($input: ApiKeyRevokeInput!) { apiKeyRevoke(input: $input) { apiKey { revokedAt } userErrors { code } } }`, in("id", keyID)))
		if res := integration.do(`{ viewer { kind } }`, nil); res.status != 401 {
			t.Fatalf("revoked key works: %d", res.status)
		}

		// Disabling the manager ends their session at once.
		managerID := must(t, manager.do(`{ viewer { id } }`, nil)).str("viewer", "id")
		must(t, owner.do(`mutation($input: StaffIdInput!) { staffDisable(input: $input) { staffMember { status } userErrors { code } } }`, in("id", managerID)))
		if res := manager.do(`{ viewer { kind } }`, nil); res.str("viewer", "kind") != "ANONYMOUS" {
			t.Fatalf("disabled manager still signed in: %v", res.Data)
		}
		if res := e.browser().do(staffLogin, in("email", "max@shop.example", "password", "max's manager passphrase")); !res.has("INVALID_CREDENTIALS") {
			t.Fatalf("disabled manager signs in: %v", res.codes())
		}
		// The last owner cannot be disabled or demoted.
		ownerID := must(t, owner.do(`{ viewer { id } }`, nil)).str("viewer", "id")
		if res := owner.do(`mutation($input: StaffUpdateInput!) { staffUpdate(input: $input) { userErrors { code } } }`, in("id", ownerID, "roles", []string{"manager"})); !res.has("LAST_OWNER") {
			t.Fatalf("last owner demoted: %v", res.codes())
		}
		must(t, owner.do(`mutation($input: StaffIdInput!) { staffEnable(input: $input) { staffMember { status } userErrors { code } } }`, in("id", managerID)))
		must(t, e.browser().do(staffLogin, in("email", "max@shop.example", "password", "max's manager passphrase")))
	})
}

// TestGroupsAndTags: support staff organise buyers for promotions.
func TestGroupsAndTags(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		subs := roleSubjects(t, e)
		support := subs[authz.RoleSupport]
		buyer := subs[authz.RoleCustomer]
		res := e.exec(support, `mutation($input: CustomerGroupCreateInput!) { customerGroupCreate(input: $input) { group { id name } userErrors { code } } }`, in("name", "Wholesale"))
		gid := must(t, res).str("customerGroupCreate", "group", "id")
		if res := e.exec(support, `mutation($input: CustomerGroupCreateInput!) { customerGroupCreate(input: $input) { userErrors { code } } }`, in("name", "Wholesale")); !res.has("GROUP_NAME_TAKEN") {
			t.Fatalf("duplicate group: %v", res.codes())
		}
		must(t, e.exec(support, `mutation($input: CustomerGroupMembersInput!) { customerGroupAddCustomers(input: $input) { group { customerCount } userErrors { code } } }`,
			in("groupId", gid, "customerIds", []any{buyer.ID})))
		must(t, e.exec(support, `mutation($input: CustomerTagsInput!) { customerTagsAdd(input: $input) { customer { tags } userErrors { code } } }`,
			in("customerId", buyer.ID, "tags", []any{"VIP", " vip", "newsletter"})))
		res = must(t, e.exec(support, `query($g: ID!) { tagged: customers(tag: "vip") { nodes { id tags groups { name } } } grouped: customers(groupId: $g) { nodes { id } } customerGroup(id: $g) { customerCount } }`, vars("g", gid)))
		if res.str("tagged", "nodes", "0", "id") != buyer.ID || res.str("grouped", "nodes", "0", "id") != buyer.ID ||
			len(res.get("tagged", "nodes", "0", "tags").([]any)) != 2 || res.str("tagged", "nodes", "0", "groups", "0", "name") != "Wholesale" {
			t.Fatalf("filters: %v", res.Data)
		}
		// Erasure drops the classification with the rest.
		if _, err := e.acc.Erase(authz.WithSubject(context.Background(), subs[authz.RoleOwner]), buyer.ID, ""); err != nil {
			t.Fatal(err)
		}
		if res := must(t, e.exec(support, `{ customers(tag: "vip") { nodes { id } } }`, nil)); len(res.get("customers", "nodes").([]any)) != 0 {
			t.Fatalf("erased buyer still listed: %v", res.Data)
		}
	})
}

// TestStaffPasswordReset: a staff member who forgot their password gets a
// reset link; the answer is the same for unknown addresses.
func TestStaffPasswordReset(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		if _, err := e.acc.CreateOwner(system(), account.NewStaff{Email: "fay@shop.example", Password: "fay's first passphrase"}); err != nil {
			t.Fatal(err)
		}
		staff := e.browser()
		must(t, staff.do(`mutation($input: LoginInput!) { staffLogin(input: $input) { userErrors { code } } }`, in("email", "fay@shop.example", "password", "fay's first passphrase")))
		request := `mutation($input: CustomerEmailInput!) { staffRequestPasswordReset(input: $input) { userErrors { code } } }`
		must(t, e.browser().do(request, in("email", "nobody@shop.example")))
		must(t, e.browser().do(request, in("email", "fay@shop.example")))
		token := e.tokens.take(t, account.TokenStaffReset, "fay@shop.example")
		// A buyer reset token is no staff reset token, and the other way round.
		if res := e.browser().do(`mutation($input: CustomerResetPasswordInput!) { customerResetPassword(input: $input) { userErrors { code } } }`,
			in("token", token, "password", "fay's second passphrase")); !res.has("INVALID_TOKEN") {
			t.Fatalf("staff token used for a buyer: %v", res.codes())
		}
		must(t, e.browser().do(`mutation($input: CustomerResetPasswordInput!) { staffResetPassword(input: $input) { userErrors { code } } }`,
			in("token", token, "password", "fay's second passphrase")))
		if res := staff.do(`{ viewer { kind } }`, nil); res.str("viewer", "kind") != "ANONYMOUS" {
			t.Fatalf("session survived the reset: %v", res.Data)
		}
		must(t, e.browser().do(`mutation($input: LoginInput!) { staffLogin(input: $input) { userErrors { code } } }`, in("email", "fay@shop.example", "password", "fay's second passphrase")))
	})
}

// TestStaffRolesAtWork: what each staff role does with buyers in a day's
// work, through the API.
func TestStaffRolesAtWork(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		subs := roleSubjects(t, e)
		buyer := subs[authz.RoleCustomer].ID
		addAddress := `mutation($input: CustomerAddressCreateInput!) { customerAddressCreate(input: $input) { address { id } userErrors { code } } }`
		readAddresses := `query($id: ID!) { customer(id: $id) { email addresses { city } } }`
		note := `mutation($input: CustomerUpdateInput!) { customerUpdate(input: $input) { customer { note } userErrors { code } } }`
		erase := `mutation($input: CustomerEraseInput!) { customerErase(input: $input) { userErrors { code } } }`
		addr := in("customerId", buyer, "address", vars("line1", "Via Roma 1", "city", "Milano", "countryCode", "IT"))
		cases := []struct {
			role  string
			query string
			vars  map[string]any
			want  string // "" = works, else an error code
		}{
			{authz.RoleSupport, addAddress, addr, ""},
			{authz.RoleSupport, note, in("customerId", buyer, "note", "called about a late parcel"), ""},
			{authz.RoleSupport, erase, in("customerId", buyer), "FORBIDDEN"},
			{authz.RoleFulfillment, readAddresses, vars("id", buyer), ""},
			{authz.RoleFulfillment, addAddress, addr, "FORBIDDEN"},
			{authz.RoleFinance, readAddresses, vars("id", buyer), ""},
			{authz.RoleFinance, note, in("customerId", buyer, "note", "x"), "FORBIDDEN"},
			{authz.RoleDeveloper, readAddresses, vars("id", buyer), "FORBIDDEN"},
			{authz.RoleDeveloper, `mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) { secret userErrors { code } } }`, in("name", "shop sync", "role", "developer"), ""},
			{authz.RoleManager, `{ staffMembers { nodes { email } } roles { name } }`, nil, ""},
			{authz.RoleManager, `mutation($input: StaffInviteInput!) { staffInvite(input: $input) { userErrors { code } } }`, in("email", "x@shop.example", "roles", []any{"support"}), "FORBIDDEN"},
			{authz.RoleOwner, erase, in("customerId", buyer), ""},
		}
		for _, c := range cases {
			res := e.exec(subs[c.role], c.query, c.vars)
			codes := res.codes()
			if c.want == "" && len(codes) > 0 || c.want != "" && !res.has(c.want) {
				t.Errorf("%s: %.60s: got %v, want %q", c.role, c.query, codes, c.want)
			}
		}
	})
}

// TestNullMeansTheDefault: a Boolean or enum input that is false or a
// fixed value when not given accepts an explicit null (or a variable the
// request left out) as "not given", as GraphQL clients send it, where a
// schema default made graph-gophers refuse the request.
func TestNullMeansTheDefault(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		guest := e.browser()
		must(t, guest.do(registerOp, in("email", "nul@example.com", "password", "a fine long passphrase", "kind", nil, "acceptsMarketing", nil)))
		res := must(t, guest.do(loginOp, in("email", "nul@example.com", "password", "a fine long passphrase", "returnToken", nil)))
		if res.get("customerLogin", "session", "token") != nil {
			t.Fatalf("returnToken null gave a token: %v", res.Data)
		}
		res = must(t, guest.do(loginOp, in("email", "nul@example.com", "password", "a fine long passphrase", "returnToken", true)))
		if res.str("customerLogin", "session", "token") == "" {
			t.Fatalf("returnToken true gave no token: %v", res.Data)
		}
		list := `query($r: Boolean) { products(first: 5, reverse: $r) { nodes { id } } a: products(first: 5, reverse: null) { nodes { id } } }`
		must(t, guest.do(list, nil))
	})
}
