package graphql_test

import (
	"net/http"
	"testing"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

const (
	grantAccept     = `mutation($input: StaffAcceptInvitationInput!) { staffAcceptInvitation(input: $input) { staffMember { roles } userErrors { code } } }`
	grantRoleCreate = `mutation($input: RoleCreateInput!) { roleCreate(input: $input) { role { name } userErrors { code } } }`
	grantRoleUpdate = `mutation($input: RoleUpdateInput!) { roleUpdate(input: $input) { role { name } userErrors { code } } }`
	grantRoleDelete = `mutation($input: RoleDeleteInput!) { roleDelete(input: $input) { deletedRoleName userErrors { field code } } }`
)

// TestGrantsFollowTheirMember: what a staff member hands out (API keys,
// invitations, directly or through a key) never grants more than they may
// give now. A review found a demoted owner's owner key taking the shop
// back, a disabled member's key-sent invitation letting them in again as
// owner, a demoted member's invitation keeping its role, and a role
// editor deleting a role they do not hold and making it again with other
// permissions under an open invitation.
func TestGrantsFollowTheirMember(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newAccountsEnv(t, db)
		_, owner := secStaff(t, e, "olga@shop.example", authz.RoleOwner)
		viewer := func(secret string) gqlResult { return e.api(secret).do(`{ viewer { kind roles } }`, nil) }
		accept := func(email string) gqlResult {
			token := e.tokens.take(t, account.TokenStaffInvitation, email)
			return e.browser().do(grantAccept, in("token", token, "password", "passphrase of "+email))
		}

		// A demoted owner's owner key stops, and is listed revoked.
		own2ID, own2 := secStaff(t, e, "otto@shop.example", authz.RoleOwner)
		res := must(t, own2.do(secKeyCreate, in("name", "ci", "role", authz.RoleOwner)))
		ownerKey, ownerSecret := res.str("apiKeyCreate", "apiKey", "id"), res.str("apiKeyCreate", "secret")
		devSecret := must(t, own2.do(secKeyCreate, in("name", "deploy", "role", authz.RoleDeveloper))).str("apiKeyCreate", "secret")
		if r := viewer(ownerSecret); r.str("viewer", "kind") != "API_KEY" {
			t.Fatalf("owner key before the demotion: %v", r.codes())
		}
		must(t, owner.do(secUpdate, in("id", own2ID, "roles", []string{authz.RoleDeveloper})))
		if r := viewer(ownerSecret); r.status != http.StatusUnauthorized {
			t.Fatalf("a demoted owner's owner key: %d %v", r.status, r.Data)
		}
		if r := e.api(ownerSecret).do(secUpdate, in("id", own2ID, "roles", []string{authz.RoleOwner})); r.status != http.StatusUnauthorized {
			t.Fatalf("the key promotes its member back: %d %v", r.status, r.Data)
		}
		if r := viewer(devSecret); r.str("viewer", "kind") != "API_KEY" {
			t.Fatalf("a key the member may still give stopped: %d %v", r.status, r.codes())
		}
		var revokedAt *string
		if err := db.NewRaw("SELECT CAST(revoked_at AS TEXT) FROM api_keys WHERE id = ?", ownerKey).Scan(t.Context(), &revokedAt); err != nil || revokedAt == nil {
			t.Fatalf("the owner key is not recorded revoked: %v %v", revokedAt, err)
		}

		// An invitation a member sent through a key dies with the
		// member's disable.
		own3ID, own3 := secStaff(t, e, "oda@shop.example", authz.RoleOwner)
		key3 := e.api(must(t, own3.do(secKeyCreate, in("name", "hr-sync", "role", authz.RoleOwner))).str("apiKeyCreate", "secret"))
		must(t, key3.do(secInvite, in("email", "alt@shop.example", "roles", []string{authz.RoleOwner})))
		must(t, owner.do(secDisable, in("id", own3ID)))
		if r := accept("alt@shop.example"); !r.has("INVALID_TOKEN") {
			t.Fatalf("the disabled member's key-sent invitation: %v %v", r.codes(), r.Data)
		}
		// And with the key's revocation.
		own4ID, own4 := secStaff(t, e, "olav@shop.example", authz.RoleOwner)
		res = must(t, own4.do(secKeyCreate, in("name", "hr-sync-2", "role", authz.RoleOwner)))
		must(t, e.api(res.str("apiKeyCreate", "secret")).do(secInvite, in("email", "alt2@shop.example", "roles", []string{authz.RoleOwner})))
		must(t, owner.do(secKeyRevoke, in("id", res.str("apiKeyCreate", "apiKey", "id"))))
		if r := accept("alt2@shop.example"); !r.has("INVALID_TOKEN") {
			t.Fatalf("a revoked key's invitation: %v %v", r.codes(), r.Data)
		}
		_ = own4ID

		// A demoted member's invitation no longer gives the old role.
		must(t, owner.do(grantRoleCreate, in("name", "hr", "permissions", []string{"staff:read", "staff:write", "role:read"})))
		hrID, hr := secStaff(t, e, "hedy@shop.example", "hr")
		must(t, hr.do(secInvite, in("email", "x1@shop.example", "roles", []string{"hr"})))
		must(t, hr.do(secInvite, in("email", "x2@shop.example", "roles", []string{"hr"})))
		if r := accept("x2@shop.example"); len(r.codes()) > 0 {
			t.Fatalf("an invitation of a member who holds its role: %v", r.codes())
		}
		must(t, owner.do(secUpdate, in("id", hrID, "roles", []string{authz.RoleSupport})))
		if r := accept("x1@shop.example"); !r.has("INVALID_TOKEN") {
			t.Fatalf("a demoted member's invitation: %v %v", r.codes(), r.Data)
		}

		// A role editor deletes no role they do not hold, and no role
		// an open invitation names.
		must(t, owner.do(grantRoleCreate, in("name", "ra", "permissions", []string{"role:read", "role:write", "order:read"})))
		must(t, owner.do(grantRoleCreate, in("name", "auditor", "permissions", []string{"payment:read", "order:read"})))
		_, ra := secStaff(t, e, "rafa@shop.example", "ra")
		if r := ra.do(grantRoleDelete, in("name", "auditor")); !r.has("ROLE_NOT_HELD") {
			t.Fatalf("a role editor deletes a role they do not hold: %v %v", r.codes(), r.Data)
		}
		must(t, owner.do(secInvite, in("email", "aud@shop.example", "roles", []string{"auditor"})))
		if r := owner.do(grantRoleDelete, in("name", "auditor")); !r.has("ROLE_IN_USE") {
			t.Fatalf("a role an open invitation names is deleted: %v %v", r.codes(), r.Data)
		}
		if r := accept("aud@shop.example"); len(r.codes()) > 0 {
			t.Fatalf("the auditor's invitation: %v", r.codes())
		}

		// A member's role losing a permission stops the keys it no
		// longer covers, though no member changed.
		must(t, owner.do(grantRoleCreate, in("name", "integrator", "permissions", []string{"product:read", "product:write", "order:read", "apikey:read", "apikey:write"})))
		must(t, owner.do(grantRoleCreate, in("name", "catalog-sync", "permissions", []string{"product:read", "product:write"})))
		_, integ := secStaff(t, e, "ines@shop.example", "integrator")
		syncSecret := must(t, integ.do(secKeyCreate, in("name", "pim", "role", "catalog-sync"))).str("apiKeyCreate", "secret")
		if r := viewer(syncSecret); r.str("viewer", "kind") != "API_KEY" {
			t.Fatalf("the sync key: %v", r.codes())
		}
		must(t, owner.do(grantRoleUpdate, in("name", "integrator", "permissions", []string{"product:read", "order:read", "apikey:read", "apikey:write"})))
		if r := viewer(syncSecret); r.status != http.StatusUnauthorized {
			t.Fatalf("a key above its member's role after the role lost a permission: %d %v", r.status, r.Data)
		}
	})
}
