package authz_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

func newEnforcer(t *testing.T, db *store.DB, w *authz.Watcher) *authz.Enforcer {
	t.Helper()
	opts := authz.Options{ReloadEvery: -1}
	if w != nil {
		opts.Watcher = w
	}
	e, err := authz.NewEnforcer(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func as(kind authz.SubjectKind, id string, roles ...string) context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{Kind: kind, ID: id, Roles: roles})
}

func code(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, errs.ErrUnauthenticated):
		return "UNAUTHENTICATED"
	case errors.Is(err, errs.ErrForbidden):
		return "FORBIDDEN"
	}
	return err.Error()
}

func TestEnforcerDefaultPolicy(t *testing.T) {
	t.Parallel()
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnforcer(t, db, nil)
		cases := []struct {
			name string
			ctx  context.Context
			obj  authz.Object
			act  authz.Action
			want string
		}{
			{"guest reads products", authz.WithSubject(context.Background(), authz.AnonymousSubject()), authz.Product, authz.Read, ""},
			{"guest writes products", authz.WithSubject(context.Background(), authz.AnonymousSubject()), authz.Product, authz.Write, "UNAUTHENTICATED"},
			{"no subject is a guest", context.Background(), authz.Order, authz.Read, "UNAUTHENTICATED"},
			{"guest registers", context.Background(), authz.Customer, authz.Register, ""},
			{"buyer writes products", as(authz.KindCustomer, "cus_1", "customer"), authz.Product, authz.Write, "FORBIDDEN"},
			{"buyer reads own orders", as(authz.KindCustomer, "cus_1", "customer"), authz.Order, authz.Own(authz.Read), ""},
			{"buyer reads all orders", as(authz.KindCustomer, "cus_1", "customer"), authz.Order, authz.Read, "FORBIDDEN"},
			{"owner does anything", as(authz.KindStaff, "stf_1", "owner"), authz.Settings, authz.Write, ""},
			{"owner uses future objects", as(authz.KindStaff, "stf_1", "owner"), "shipping", "dispatch", ""},
			{"manager writes products", as(authz.KindStaff, "stf_2", "manager"), authz.Product, authz.Write, ""},
			{"manager reads roles", as(authz.KindStaff, "stf_2", "manager"), authz.Role, authz.Read, ""},
			{"manager writes roles", as(authz.KindStaff, "stf_2", "manager"), authz.Role, authz.Write, "FORBIDDEN"},
			{"fulfillment refunds", as(authz.KindStaff, "stf_3", "fulfillment"), authz.Refund, authz.Write, "FORBIDDEN"},
			{"finance refunds", as(authz.KindStaff, "stf_4", "finance"), authz.Refund, authz.Write, ""},
			{"two roles add up", as(authz.KindStaff, "stf_5", "fulfillment", "finance"), authz.Refund, authz.Write, ""},
			{"developer keys", as(authz.KindAPIKey, "key_1", "developer"), authz.APIKey, authz.Write, ""},
			{"no roles", as(authz.KindStaff, "stf_6"), authz.Product, authz.Read, "FORBIDDEN"},
			{"unknown role", as(authz.KindStaff, "stf_6", "nope"), authz.Product, authz.Read, "FORBIDDEN"},
			{"system", authz.WithSubject(context.Background(), authz.SystemSubject("test")), authz.Settings, authz.Write, ""},
			{"other store", authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "stf_1", Roles: []string{"owner"}, Store: "other"}), authz.Product, authz.Read, "FORBIDDEN"},
		}
		for _, c := range cases {
			if got := code(e.Can(c.ctx, c.obj, c.act)); got != c.want {
				t.Errorf("%s: Can(%s, %s) = %q, want %q", c.name, c.obj, c.act, got, c.want)
			}
		}
	})
}

func TestCanOwn(t *testing.T) {
	t.Parallel()
	db := storetest.NewSQLite(t)
	e := newEnforcer(t, db, nil)
	buyer := as(authz.KindCustomer, "cus_1", "customer")
	cases := []struct {
		name  string
		ctx   context.Context
		owner string
		want  string
	}{
		{"buyer, own record", buyer, "cus_1", ""},
		{"buyer, someone else's", buyer, "cus_2", "FORBIDDEN"},
		{"buyer, no owner", buyer, "", "FORBIDDEN"},
		{"guest", context.Background(), "cus_1", "UNAUTHENTICATED"},
		{"guest claiming an empty owner", context.Background(), "", "UNAUTHENTICATED"},
		{"support reads any", as(authz.KindStaff, "stf_1", "support"), "cus_2", ""},
		{"developer reads none", as(authz.KindStaff, "stf_2", "developer"), "cus_2", "FORBIDDEN"},
	}
	for _, c := range cases {
		if got := code(authz.CanOwn(c.ctx, e, authz.Customer, authz.Read, c.owner)); got != c.want {
			t.Errorf("%s: CanOwn = %q, want %q", c.name, got, c.want)
		}
	}
	if got := code(authz.MayOwn(buyer, e, authz.Order, authz.Read)); got != "" {
		t.Errorf("MayOwn(buyer, order read) = %q", got)
	}
	if got := code(authz.MayOwn(buyer, e, authz.Refund, authz.Read)); got != "FORBIDDEN" {
		t.Errorf("MayOwn(buyer, refund read) = %q", got)
	}
	// A guest writes carts with cart write:own alone, and may not read
	// orders at all: the refusal names the guest's case.
	guest := authz.WithSubject(context.Background(), authz.AnonymousSubject())
	if got := code(authz.MayOwn(guest, e, authz.Cart, authz.Own(authz.Write))); got != "" {
		t.Errorf("MayOwn(guest, cart write:own) = %q", got)
	}
	if got := code(authz.MayOwn(guest, e, authz.Refund, authz.Read)); got != "UNAUTHENTICATED" {
		t.Errorf("MayOwn(guest, refund read) = %q", got)
	}
	// A staff member reaches their own profile with staff read:own.
	if got := code(authz.CanOwn(as(authz.KindStaff, "stf_9", "fulfillment"), e, authz.Staff, authz.Write, "stf_9")); got != "" {
		t.Errorf("staff own profile = %q", got)
	}
	if got := code(authz.CanOwn(as(authz.KindStaff, "stf_9", "fulfillment"), e, authz.Staff, authz.Write, "stf_8")); got != "FORBIDDEN" {
		t.Errorf("staff other profile = %q", got)
	}
}

// TestOwnChecksAllocateNothing: a guest's cart operation (refused cart
// write, allowed cart write:own) and a buyer reading their own record
// pass without building the refusal of the first question.
func TestOwnChecksAllocateNothing(t *testing.T) {
	db := storetest.NewSQLite(t)
	e := newEnforcer(t, db, nil)
	guest := authz.WithSubject(context.Background(), authz.AnonymousSubject())
	buyer := as(authz.KindCustomer, "cus_1", "customer")
	_ = authz.MayOwn(guest, e, authz.Cart, authz.Write) // fill the decision cache
	_ = authz.CanOwn(buyer, e, authz.Customer, authz.Read, "cus_1")
	if n := testing.AllocsPerRun(100, func() { _ = authz.MayOwn(guest, e, authz.Cart, authz.Write) }); n != 0 {
		t.Errorf("MayOwn(guest, cart write) allocates %.0f times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = authz.CanOwn(buyer, e, authz.Customer, authz.Read, "cus_1") }); n != 0 {
		t.Errorf("CanOwn(buyer, own record) allocates %.0f times, want 0", n)
	}
}

func TestSeedIsIdempotentAndRespectsRemovals(t *testing.T) {
	t.Parallel()
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnforcer(t, db, nil)
		owner := as(authz.KindStaff, "stf_1", "owner")
		// The owner takes product:write away from the manager.
		info, err := e.Role(owner, "manager")
		if err != nil {
			t.Fatal(err)
		}
		var kept []authz.Permission
		for _, p := range info.Permissions {
			if p != (authz.Permission{Object: authz.Product, Action: authz.Write}) {
				kept = append(kept, p)
			}
		}
		if _, err := e.UpdateRole(owner, "manager", authz.RoleUpdate{Permissions: &kept}); err != nil {
			t.Fatal(err)
		}
		// A restart seeds nothing back.
		e2 := newEnforcer(t, db, nil)
		if ok, _ := e2.RoleAllows("manager", authz.DefaultStore, authz.Product, authz.Write); ok {
			t.Error("a removed default rule came back after restart")
		}
		if ok, _ := e2.RoleAllows("manager", authz.DefaultStore, authz.Product, authz.Read); !ok {
			t.Error("manager lost product:read")
		}
		var n int
		if err := db.NewSelect().Table("casbin_rule").ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if want := len(authz.DefaultRules(authz.DefaultStore)) - 1; n != want {
			t.Errorf("casbin_rule has %d rows, want %d", n, want)
		}
	})
}

func TestRoleAdministration(t *testing.T) {
	t.Parallel()
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnforcer(t, db, nil)
		owner := as(authz.KindStaff, "stf_1", "owner")
		manager := as(authz.KindStaff, "stf_2", "manager")

		if _, err := e.Roles(manager); err != nil {
			t.Fatalf("manager lists roles: %v", err)
		}
		if _, err := e.CreateRole(manager, authz.RoleInput{Name: "intern"}); code(err) != "FORBIDDEN" {
			t.Fatalf("manager creates role: %v", err)
		}
		perm := []authz.Permission{{Object: authz.Product, Action: authz.Read}, {Object: authz.Order, Action: authz.Read}}
		r, err := e.CreateRole(owner, authz.RoleInput{Name: "intern", Description: "Looks around", Permissions: perm})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(perm, r.Permissions); diff != "" {
			t.Errorf("created permissions (-want +got):\n%s", diff)
		}
		if ok, _ := e.RoleAllows("intern", authz.DefaultStore, authz.Order, authz.Read); !ok {
			t.Error("new role not enforced at once")
		}
		if _, err := e.CreateRole(owner, authz.RoleInput{Name: "intern"}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("duplicate role: %v", err)
		}
		if _, err := e.CreateRole(owner, authz.RoleInput{Name: "Bad Name", Permissions: []authz.Permission{{Object: "spaceship", Action: "fly"}}}); len(errs.All(err)) != 2 {
			t.Errorf("invalid role: %v", err)
		}
		all := authz.AllPermissions()
		if _, err := e.UpdateRole(owner, "owner", authz.RoleUpdate{Permissions: &all}); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("owner role changed: %v", err)
		}
		if err := e.DeleteRole(owner, "manager"); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("built-in role deleted: %v", err)
		}
		ctx := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
		if err := e.SetPrincipalRoles(ctx, "stf_7", []string{"intern"}); err != nil {
			t.Fatal(err)
		}
		if got := e.RolesOf("stf_7", authz.DefaultStore); !cmp.Equal(got, []string{"intern"}) {
			t.Errorf("RolesOf = %v", got)
		}
		if err := e.DeleteRole(owner, "intern"); !errors.Is(err, errs.ErrConflict) {
			t.Errorf("role in use deleted: %v", err)
		}
		if err := e.SetPrincipalRoles(ctx, "stf_7", nil); err != nil {
			t.Fatal(err)
		}
		if err := e.DeleteRole(owner, "intern"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := e.RoleAllows("intern", authz.DefaultStore, authz.Order, authz.Read); ok {
			t.Error("deleted role still enforced")
		}

		// No escalation: a developer with role:write cannot hand out more
		// than it holds, nor make an owner.
		dev := []authz.Permission{{Object: authz.Role, Action: authz.Read}, {Object: authz.Role, Action: authz.Write}}
		devPerms := append(e.RolePermissions("developer", authz.DefaultStore), dev[1])
		if _, err := e.UpdateRole(owner, "developer", authz.RoleUpdate{Permissions: &devPerms}); err != nil {
			t.Fatal(err)
		}
		developer := as(authz.KindAPIKey, "key_1", "developer")
		if _, err := e.CreateRole(developer, authz.RoleInput{Name: "payer", Permissions: []authz.Permission{{Object: authz.Payment, Action: authz.Write}}}); code(err) != "PERMISSION_NOT_HELD" && !isCode(err, "PERMISSION_NOT_HELD") {
			t.Errorf("escalation through role: %v", err)
		}
		if err := e.ValidateStaffRoles(developer, "roles", []string{"owner"}); !isCode(err, "ROLE_NOT_HELD") {
			t.Errorf("developer grants owner: %v", err)
		}
		if err := e.ValidateStaffRoles(developer, "roles", []string{"developer"}); err != nil {
			t.Errorf("developer grants developer: %v", err)
		}
		if err := e.ValidateStaffRoles(owner, "roles", []string{"customer"}); !isCode(err, "INVALID_ROLE") {
			t.Errorf("staff given buyer role: %v", err)
		}

		// A role editor holding role:write and order:read (an outside
		// review): it gave guests order:read and role:write, opening every
		// order to the internet, and stripped the manager role of what it
		// did not hold itself.
		editorPerms := []authz.Permission{{Object: authz.Role, Action: authz.Read}, {Object: authz.Role, Action: authz.Write},
			{Object: authz.Order, Action: authz.Read}}
		if _, err := e.CreateRole(owner, authz.RoleInput{Name: "rolew", Permissions: editorPerms}); err != nil {
			t.Fatal(err)
		}
		editor := as(authz.KindStaff, "stf_9", "rolew")
		guestPerms := append(e.RolePermissions(authz.RoleAnonymous, authz.DefaultStore), authz.Permission{Object: authz.Order, Action: authz.Read})
		for _, c := range []struct {
			name string
			as   context.Context
			role string
			in   authz.RoleUpdate
			code string
		}{
			{"guests given order:read", owner, authz.RoleAnonymous, authz.RoleUpdate{Permissions: &guestPerms}, "NOT_A_BUYER_PERMISSION"},
			{"buyers given role:write", owner, authz.RoleCustomer, authz.RoleUpdate{Permissions: &[]authz.Permission{{Object: authz.Role, Action: authz.Write}}}, "NOT_A_BUYER_PERMISSION"},
			{"a role holding more, stripped", editor, "manager", authz.RoleUpdate{Permissions: &[]authz.Permission{{Object: authz.Order, Action: authz.Read}}}, "ROLE_NOT_HELD"},
			{"a role holding more, described", editor, "manager", authz.RoleUpdate{Description: ptr("does nothing")}, "ROLE_NOT_HELD"},
			{"the guests' role, by an editor without their permissions", editor, authz.RoleAnonymous, authz.RoleUpdate{Permissions: &[]authz.Permission{}}, "ROLE_NOT_HELD"},
		} {
			before := e.RolePermissions(c.role, authz.DefaultStore)
			if _, err := e.UpdateRole(c.as, c.role, c.in); !isCode(err, c.code) {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
			if after := e.RolePermissions(c.role, authz.DefaultStore); !cmp.Equal(before, after) {
				t.Errorf("%s: the role changed: %v, then %v", c.name, before, after)
			}
		}
		// Taking from a buyer role is the owner's choice (no guest
		// checkout), and giving back what buyers hold in a new shop.
		noCheckout := slices.DeleteFunc(e.RolePermissions(authz.RoleAnonymous, authz.DefaultStore), func(p authz.Permission) bool { return p.Object == authz.Order })
		if _, err := e.UpdateRole(owner, authz.RoleAnonymous, authz.RoleUpdate{Permissions: &noCheckout}); err != nil {
			t.Errorf("guests without orders: %v", err)
		}
		defaults := authz.DefaultPolicy()[authz.RoleAnonymous]
		if _, err := e.UpdateRole(owner, authz.RoleAnonymous, authz.RoleUpdate{Permissions: &defaults}); err != nil {
			t.Errorf("guests' defaults back: %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func isCode(err error, code string) bool {
	for _, e := range errs.All(err) {
		if e.Code == code {
			return true
		}
	}
	return false
}

func TestWatcherReloadsOtherInstances(t *testing.T) {
	t.Parallel()
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		bus := authz.NewLocalBroadcaster()
		w1, err := authz.NewWatcher(bus, nil)
		if err != nil {
			t.Fatal(err)
		}
		w2, err := authz.NewWatcher(bus, nil)
		if err != nil {
			t.Fatal(err)
		}
		one := newEnforcer(t, db, w1)
		two := newEnforcer(t, db, w2)
		support := as(authz.KindStaff, "stf_1", "support")
		// Warm the decision cache of instance two.
		if err := two.Can(support, authz.Order, authz.Write); err != nil {
			t.Fatal(err)
		}
		perms := []authz.Permission{{Object: authz.Order, Action: authz.Read}}
		if _, err := one.UpdateRole(as(authz.KindStaff, "stf_0", "owner"), "support", authz.RoleUpdate{Permissions: &perms}); err != nil {
			t.Fatal(err)
		}
		if got := code(two.Can(support, authz.Order, authz.Write)); got != "FORBIDDEN" {
			t.Errorf("instance two still allows the removed permission: %q", got)
		}
		if got := code(one.Can(support, authz.Order, authz.Write)); got != "FORBIDDEN" {
			t.Errorf("instance one still allows the removed permission: %q", got)
		}
	})
}

func TestPermissionStrings(t *testing.T) {
	t.Parallel()
	p, err := authz.ParsePermission("order:read:own")
	if err != nil || p != (authz.Permission{Object: authz.Order, Action: authz.Own(authz.Read)}) {
		t.Fatalf("ParsePermission = %v, %v", p, err)
	}
	if p.String() != "order:read:own" {
		t.Errorf("String = %q", p.String())
	}
	for _, s := range []string{"order", "order:fly", ":read", "ship:read"} {
		if _, err := authz.ParsePermission(s); err == nil {
			t.Errorf("ParsePermission(%q) accepted", s)
		}
	}
	for role, ps := range authz.DefaultPolicy() {
		for _, p := range ps {
			if p.Object != authz.Wildcard && !authz.Known(p) {
				t.Errorf("default policy of %s holds unknown %s", role, p)
			}
		}
	}
}
