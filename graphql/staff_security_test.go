package graphql_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

const (
	secStaffLogin = `mutation($input: LoginInput!) { staffLogin(input: $input) { staffMember { id } userErrors { code } } }`
	secDisable    = `mutation($input: StaffIdInput!) { staffDisable(input: $input) { staffMember { status } revokedApiKeys { id } userErrors { field code } } }`
	secEnable     = `mutation($input: StaffIdInput!) { staffEnable(input: $input) { staffMember { status } userErrors { field code } } }`
	secUpdate     = `mutation($input: StaffUpdateInput!) { staffUpdate(input: $input) { staffMember { name roles } userErrors { field code } } }`
	secInvite     = `mutation($input: StaffInviteInput!) { staffInvite(input: $input) { invitation { id } userErrors { field code } } }`
	secInvRevoke  = `mutation($input: StaffInvitationRevokeInput!) { staffInvitationRevoke(input: $input) { invitation { id } userErrors { field code } } }`
	secKeyCreate  = `mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) { apiKey { id createdBy { id } } secret userErrors { field code } } }`
	secKeyRevoke  = `mutation($input: ApiKeyRevokeInput!) { apiKeyRevoke(input: $input) { apiKey { id } userErrors { field code } } }`
	secStatus     = `query($id: ID!) { staffMember(id: $id) { status roles name } }`
)

// secStaff creates a signed-in staff member with roles and returns their
// id and browser.
func secStaff(t *testing.T, e *accountsEnv, email string, roles ...string) (string, *client) {
	t.Helper()
	password := "passphrase of " + email
	m, err := e.acc.CreateOwner(system(), account.NewStaff{Email: email, Name: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.UpdateStaff(system(), m.ID, account.StaffUpdate{Roles: &roles}); err != nil {
		t.Fatalf("give %s %v: %v", email, roles, err)
	}
	c := e.browser()
	must(t, c.do(secStaffLogin, in("email", email, "password", password)))
	return m.ID, c
}

// TestStaffAccessNeedsEveryRoleOfTheMember reproduces issue 7 item 2: a
// custom role with staff:write re-enabled a removed co-owner. Disabling,
// enabling, changing roles or name and revoking an invitation now all
// need the right to give every role the member holds.
func TestStaffAccessNeedsEveryRoleOfTheMember(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		ownerID, owner := secStaff(t, e, "olga@shop.example", authz.RoleOwner)
		coOwnerID, _ := secStaff(t, e, "oskar@shop.example", authz.RoleOwner)
		create := `mutation($input: RoleCreateInput!) { roleCreate(input: $input) { role { name } userErrors { code } } }`
		must(t, owner.do(create, in("name", "staffadmin", "permissions", []string{"staff:read", "staff:write", "product:read"})))
		must(t, owner.do(create, in("name", "intern", "permissions", []string{"product:read"})))
		_, admin := secStaff(t, e, "hana@shop.example", "staffadmin")
		managerID, _ := secStaff(t, e, "max@shop.example", authz.RoleManager)
		internID, _ := secStaff(t, e, "ivo@shop.example", "intern")

		status := func(id string) string {
			t.Helper()
			return must(t, owner.do(secStatus, vars("id", id))).str("staffMember", "status")
		}

		// The owner removes the co-owner; the staff admin cannot bring
		// them back, and nothing changes.
		must(t, owner.do(secDisable, in("id", coOwnerID)))
		if res := admin.do(secEnable, in("id", coOwnerID)); !res.has("ROLE_NOT_HELD") {
			t.Fatalf("staffadmin enables a disabled owner: %v", res.codes())
		}
		if status(coOwnerID) != "DISABLED" {
			t.Fatal("the co-owner was enabled")
		}
		if res := e.browser().do(secStaffLogin, in("email", "oskar@shop.example", "password", "passphrase of oskar@shop.example")); !res.has("INVALID_CREDENTIALS") {
			t.Fatalf("removed co-owner signs in: %v", res.codes())
		}

		// The same for a member whose roles exceed the admin's: a manager.
		if res := admin.do(secDisable, in("id", managerID)); !res.has("ROLE_NOT_HELD") {
			t.Fatalf("staffadmin disables a manager: %v", res.codes())
		}
		must(t, owner.do(secDisable, in("id", managerID)))
		if res := admin.do(secEnable, in("id", managerID)); !res.has("ROLE_NOT_HELD") {
			t.Fatalf("staffadmin enables a manager: %v", res.codes())
		}
		if status(managerID) != "DISABLED" {
			t.Fatal("the manager was enabled")
		}
		// Role and name changes of a member above the admin are refused.
		if res := admin.do(secUpdate, in("id", managerID, "roles", []string{"intern"})); !res.has("ROLE_NOT_HELD") {
			t.Fatalf("staffadmin demotes a manager: %v", res.codes())
		}
		if res := admin.do(secUpdate, in("id", ownerID, "name", "Mallory")); !res.has("ROLE_NOT_HELD") {
			t.Fatalf("staffadmin renames the owner: %v", res.codes())
		}
		if res := must(t, owner.do(secStatus, vars("id", ownerID))); res.str("staffMember", "name") != "olga@shop.example" {
			t.Fatalf("owner renamed: %v", res.Data)
		}
		// An invitation to roles the admin could not give is not theirs
		// to withdraw either.
		inv := must(t, owner.do(secInvite, in("email", "nora@shop.example", "roles", []string{"owner"}))).str("staffInvite", "invitation", "id")
		if res := admin.do(secInvRevoke, in("id", inv)); !res.has("ROLE_NOT_HELD") {
			t.Fatalf("staffadmin revokes an owner invitation: %v", res.codes())
		}

		// Within its reach the admin works: the intern.
		if res := must(t, admin.do(secDisable, in("id", internID))); res.str("staffDisable", "staffMember", "status") != "DISABLED" {
			t.Fatalf("disable intern: %v", res.Data)
		}
		must(t, admin.do(secEnable, in("id", internID)))
		must(t, admin.do(secUpdate, in("id", internID, "name", "Ivo")))
		own := must(t, admin.do(secInvite, in("email", "ian@shop.example", "roles", []string{"intern"}))).str("staffInvite", "invitation", "id")
		must(t, admin.do(secInvRevoke, in("id", own)))

		// The owner does all of it.
		must(t, owner.do(secEnable, in("id", coOwnerID)))
		must(t, owner.do(secEnable, in("id", managerID)))
		must(t, owner.do(secInvRevoke, in("id", inv)))
		must(t, e.browser().do(secStaffLogin, in("email", "oskar@shop.example", "password", "passphrase of oskar@shop.example")))
	})
}

// TestAPIKeysAnswerToTheirStaffMember reproduces issue 7 item 7: keys
// recorded no creator, so a disabled developer's keys kept working and
// minted new ones. Keys now answer to a staff member, die with their
// disable, and never exceed the role of whoever creates them.
func TestAPIKeysAnswerToTheirStaffMember(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		_, owner := secStaff(t, e, "olga@shop.example", authz.RoleOwner)
		devID, dev := secStaff(t, e, "dora@shop.example", authz.RoleDeveloper)

		// A key the system made (the command line) answers to nobody.
		_, sysSecret, err := e.acc.CreateAPIKey(system(), "backup job", authz.RoleDeveloper)
		if err != nil {
			t.Fatal(err)
		}

		res := must(t, dev.do(secKeyCreate, in("name", "sync", "role", authz.RoleDeveloper)))
		k1, k1Secret := res.str("apiKeyCreate", "apiKey", "id"), res.str("apiKeyCreate", "secret")
		if res.str("apiKeyCreate", "apiKey", "createdBy", "id") != devID {
			t.Fatalf("creator of a key: %v", res.Data)
		}
		key1 := e.api(k1Secret)
		// A key makes keys of its own role, never above it; a session
		// neither.
		res = must(t, key1.do(secKeyCreate, in("name", "child", "role", authz.RoleDeveloper)))
		k2, k2Secret := res.str("apiKeyCreate", "apiKey", "id"), res.str("apiKeyCreate", "secret")
		for _, role := range []string{authz.RoleOwner, authz.RoleManager} {
			if res := key1.do(secKeyCreate, in("name", "escalate", "role", role)); !res.has("ROLE_NOT_HELD") {
				t.Fatalf("developer key makes a %s key: %v", role, res.codes())
			}
			if res := dev.do(secKeyCreate, in("name", "escalate", "role", role)); !res.has("ROLE_NOT_HELD") {
				t.Fatalf("developer session makes a %s key: %v", role, res.codes())
			}
		}
		// Nor does a developer switch off the owner's integration.
		ownerKey := must(t, owner.do(secKeyCreate, in("name", "erp", "role", authz.RoleOwner))).str("apiKeyCreate", "apiKey", "id")
		if res := dev.do(secKeyRevoke, in("id", ownerKey)); !res.has("ROLE_NOT_HELD") {
			t.Fatalf("developer revokes the owner's key: %v", res.codes())
		}

		// The owner sees who each key answers to; the key made by a key
		// answers to the developer too; the system's key to nobody.
		creators := map[string]any{}
		list := must(t, owner.do(`{ apiKeys { nodes { id name createdBy { id } } } }`, nil))
		for _, n := range list.get("apiKeys", "nodes").([]any) {
			node := n.(map[string]any)
			var by any
			if c, ok := node["createdBy"].(map[string]any); ok {
				by = c["id"]
			}
			creators[node["name"].(string)] = by
		}
		if creators["sync"] != devID || creators["child"] != devID || creators["backup job"] != nil {
			t.Fatalf("creators: %v", creators)
		}

		// Disabling the developer revokes both keys, at once.
		res = must(t, owner.do(secDisable, in("id", devID)))
		revoked := map[string]bool{}
		for _, k := range res.get("staffDisable", "revokedApiKeys").([]any) {
			revoked[k.(map[string]any)["id"].(string)] = true
		}
		if len(revoked) != 2 || !revoked[k1] || !revoked[k2] {
			t.Fatalf("revoked keys: %v", res.Data)
		}
		for _, secret := range []string{k1Secret, k2Secret} {
			if res := e.api(secret).do(`{ viewer { kind } }`, nil); res.status != http.StatusUnauthorized || !res.has("UNAUTHENTICATED") {
				t.Fatalf("key of a disabled developer: %d %v", res.status, res.codes())
			}
		}
		if res := e.api(sysSecret).do(`{ viewer { kind } }`, nil); res.str("viewer", "kind") != "API_KEY" {
			t.Fatalf("key without a creator stopped: %v %v", res.codes(), res.Data)
		}
		// Enabling the developer again does not revive the keys.
		must(t, owner.do(secEnable, in("id", devID)))
		if res := key1.do(`{ viewer { kind } }`, nil); res.status != http.StatusUnauthorized {
			t.Fatalf("revoked key revived: %d", res.status)
		}

		// A key whose member is disabled does not work even when it
		// escaped the revocation (here: disabled behind the service's back).
		_, dev2 := secStaff(t, e, "dirk@shop.example", authz.RoleDeveloper)
		k3Secret := must(t, dev2.do(secKeyCreate, in("name", "late", "role", authz.RoleDeveloper))).str("apiKeyCreate", "secret")
		if _, err := db.NewUpdate().Table("staff_members").Set("status = ?", account.StaffDisabled).
			Where("email = ?", "dirk@shop.example").Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		if res := e.api(k3Secret).do(`{ viewer { kind } }`, nil); res.status != http.StatusUnauthorized {
			t.Fatalf("key of a member disabled in the database: %d %v", res.status, res.Data)
		}
	})
}

// newAccountsEnvWithOutbox is newAccountsEnv with core/events' real
// outbox (no relay: rows stay as the test leaves them).
func newAccountsEnvWithOutbox(t *testing.T, db *store.DB) *accountsEnv {
	t.Helper()
	return newAccountsEnvOutbox(t, db, events.NewOutbox(db))
}

type outboxText struct {
	ID      string     `bun:"id"`
	Subject string     `bun:"subject"`
	Payload string     `bun:"payload"`
	Headers *string    `bun:"headers"`
	Actor   *string    `bun:"actor"`
	SentAt  *time.Time `bun:"sent_at"`
	Error   *string    `bun:"last_error"`
}

func (r outboxText) text() string {
	s := r.ID + " " + r.Subject + " " + r.Payload
	for _, p := range []*string{r.Headers, r.Actor, r.Error} {
		if p != nil {
			s += " " + *p
		}
	}
	return strings.ToLower(s)
}

// TestEraseRedactsTheOutbox reproduces issue 7 item 8: after
// customerErase the buyer's email stayed in outbox_events. Every stored
// event of the buyer is redacted in the erasure's transaction; unsent ones
// are still delivered, redacted; other buyers' events are untouched.
func TestEraseRedactsTheOutbox(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnvWithOutbox(t, db)
		ctx := context.Background()
		guest := e.browser()
		must(t, guest.do(registerOp, in("email", "Zoe.Secret@example.com", "password", "zoe's long passphrase", "firstName", "Zoezoe")))
		must(t, guest.do(registerOp, in("email", "yan@example.com", "password", "yan's long passphrase")))
		must(t, guest.do(`mutation($input: CustomerEmailInput!) { customerRequestPasswordReset(input: $input) { userErrors { code } } }`,
			in("email", "zoe.secret@example.com")))
		resetToken := e.tokens.take(t, account.TokenResetPassword, "zoe.secret@example.com")
		// The relay has sent everything so far...
		if _, err := db.NewUpdate().Table("outbox_events").Set("sent_at = ?", time.Now().UTC()).Where("sent_at IS NULL").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// ...but not this one.
		must(t, guest.do(`mutation($input: CustomerEmailInput!) { customerRequestEmailVerification(input: $input) { userErrors { code } } }`,
			in("email", "zoe.secret@example.com")))
		buyer := must(t, guest.do(loginOp, in("email", "zoe.secret@example.com", "password", "zoe's long passphrase"))).str("customerLogin", "customer", "id")

		var before []outboxText
		if err := db.NewSelect().Table("outbox_events").Column("id", "subject", "payload", "headers", "actor", "sent_at", "last_error").Scan(ctx, &before); err != nil {
			t.Fatal(err)
		}
		unsent := map[string]bool{}
		found := false
		for _, r := range before {
			if r.SentAt == nil && strings.Contains(r.text(), "zoe.secret@example.com") {
				unsent[r.ID] = true
			}
			found = found || strings.Contains(r.text(), "zoe.secret@example.com")
		}
		if !found || len(unsent) == 0 {
			t.Fatalf("the test has no trace to erase: %d rows, %d unsent", len(before), len(unsent))
		}

		must(t, guest.do(`mutation($input: CustomerEraseInput!) { customerErase(input: $input) { userErrors { code } } }`,
			in("password", "zoe's long passphrase")))

		var after []outboxText
		if err := db.NewSelect().Table("outbox_events").Column("id", "subject", "payload", "headers", "actor", "sent_at", "last_error").OrderExpr("id").Scan(ctx, &after); err != nil {
			t.Fatal(err)
		}
		yan, erased := false, false
		for _, r := range after {
			text := r.text()
			for _, secret := range []string{"zoe.secret@example.com", "zoezoe", strings.ToLower(resetToken)} {
				if strings.Contains(text, secret) {
					t.Errorf("outbox row %s %s still holds %q: %s", r.ID, r.Subject, secret, r.Payload)
				}
			}
			if unsent[r.ID] {
				// Still to be delivered, with the redacted payload.
				if r.SentAt != nil || r.Payload != `{"customerId":"`+buyer+`","redacted":"erased"}` {
					t.Errorf("unsent event %s: sent %v, payload %s", r.ID, r.SentAt, r.Payload)
				}
			}
			yan = yan || strings.Contains(text, "yan@example.com")
			erased = erased || r.Subject == account.SubjectCustomerErased
		}
		if !yan || !erased {
			t.Fatalf("another buyer's event was redacted (%v) or the erasure has no event (%v)", !yan, !erased)
		}
	})
}
