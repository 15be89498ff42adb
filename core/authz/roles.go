package authz

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
)

// RoleInfo describes a role and what it may do.
type RoleInfo struct {
	// Name identifies the role ("manager").
	Name string
	// Description tells people what the role is for.
	Description string
	// Builtin roles cannot be deleted.
	Builtin bool
	// Permissions are the role's rules as stored; the owner's single rule
	// is the wildcard {*, *}.
	Permissions []Permission
}

// Everything reports whether the role holds the owner's wildcard rule.
func (r RoleInfo) Everything() bool {
	return slices.Contains(r.Permissions, Permission{Wildcard, Wildcard})
}

var roleName = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,39}$`)

// Roles lists the roles of the caller's store: built-in roles first, in
// their fixed order, then the others by name. Needs role:read.
func (e *Enforcer) Roles(ctx context.Context) ([]RoleInfo, error) {
	if err := e.Can(ctx, Role, Read); err != nil {
		return nil, err
	}
	s := SubjectFrom(ctx)
	var rows []roleRow
	if err := e.db.Conn(ctx).NewSelect().Model(&rows).Where("store = ?", s.Store).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	order := func(name string) int {
		if i := slices.Index(BuiltinRoles(), name); i >= 0 {
			return i
		}
		return len(BuiltinRoles())
	}
	sort.Slice(rows, func(i, j int) bool {
		oi, oj := order(rows[i].Name), order(rows[j].Name)
		if oi != oj {
			return oi < oj
		}
		return rows[i].Name < rows[j].Name
	})
	out := make([]RoleInfo, 0, len(rows))
	for _, r := range rows {
		info, err := e.info(r)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Role returns one role of the caller's store. Needs role:read.
func (e *Enforcer) Role(ctx context.Context, name string) (RoleInfo, error) {
	if err := e.Can(ctx, Role, Read); err != nil {
		return RoleInfo{}, err
	}
	r, err := e.roleRow(ctx, SubjectFrom(ctx).Store, name)
	if err != nil {
		return RoleInfo{}, err
	}
	return e.info(r)
}

func (e *Enforcer) roleRow(ctx context.Context, storeID, name string) (roleRow, error) {
	var r roleRow
	err := e.db.Conn(ctx).NewSelect().Model(&r).Where("store = ? AND name = ?", storeID, name).Scan(ctx)
	if err != nil {
		if store.IsNoRows(err) {
			return r, errs.NotFound("ROLE_NOT_FOUND", fmt.Sprintf("role %q does not exist", name))
		}
		return r, fmt.Errorf("get role %s: %w", name, err)
	}
	return r, nil
}

func (e *Enforcer) info(r roleRow) (RoleInfo, error) {
	return RoleInfo{Name: r.Name, Description: r.Description, Builtin: r.Builtin,
		Permissions: e.RolePermissions(r.Name, r.Store)}, nil
}

// RolePermissions returns the rules role holds in storeID, sorted.
func (e *Enforcer) RolePermissions(role, storeID string) []Permission {
	rules, err := e.ce.GetFilteredPolicy(0, role, storeID)
	if err != nil {
		return nil
	}
	out := make([]Permission, 0, len(rules))
	for _, r := range rules {
		if len(r) >= 4 {
			out = append(out, Permission{Object(r[2]), Action(r[3])})
		}
	}
	sortPermissions(out)
	return out
}

// EffectivePermissions returns every catalog permission that at least one
// of roles allows in storeID, in catalog order.
func (e *Enforcer) EffectivePermissions(roles []string, storeID string) []Permission {
	var out []Permission
	for _, p := range AllPermissions() {
		if ok, _ := e.allowed(roles, storeID, p.Object, p.Action); ok {
			out = append(out, p)
		}
	}
	return out
}

func sortPermissions(ps []Permission) {
	idx := func(p Permission) int {
		i := slices.Index(AllPermissions(), p)
		if i < 0 {
			return -1 // the wildcard first
		}
		return i
	}
	sort.SliceStable(ps, func(i, j int) bool { return idx(ps[i]) < idx(ps[j]) })
}

// RoleInput creates a role.
type RoleInput struct {
	Name        string
	Description string
	Permissions []Permission
}

// CreateRole adds a role to the caller's store. Needs role:write; the
// caller can only hand out permissions it holds itself.
func (e *Enforcer) CreateRole(ctx context.Context, in RoleInput) (RoleInfo, error) {
	if err := e.Can(ctx, Role, Write); err != nil {
		return RoleInfo{}, err
	}
	var v errs.Validator
	v.Check(roleName.MatchString(in.Name), "name", "INVALID_ROLE_NAME",
		"a role name is 2 to 40 lower-case letters, digits, - or _, starting with a letter")
	v.Check(len(in.Description) <= 500, "description", "TOO_LONG", "description is at most 500 characters")
	e.checkPermissions(ctx, &v, in.Permissions)
	if err := v.Err(); err != nil {
		return RoleInfo{}, err
	}
	s := SubjectFrom(ctx)
	row := roleRow{Store: s.Store, Name: in.Name, Description: in.Description, CreatedAt: e.clock.Now()}
	err := e.db.RunInTx(ctx, func(ctx context.Context) error {
		if _, err := e.db.Conn(ctx).NewInsert().Model(&row).Exec(ctx); err != nil {
			if store.IsUniqueViolation(err) {
				return errs.Conflict("name", "ROLE_EXISTS", fmt.Sprintf("role %q already exists", in.Name))
			}
			return fmt.Errorf("insert role: %w", err)
		}
		if err := e.adapter.addRules(ctx, "p", policyRules(in.Name, s.Store, in.Permissions)); err != nil {
			return err
		}
		e.reloadAfterCommit(ctx)
		return nil
	})
	if err != nil {
		return RoleInfo{}, err
	}
	e.log.InfoContext(ctx, "role created", "role", in.Name, "by", s.ID)
	return RoleInfo{Name: row.Name, Description: row.Description, Permissions: sorted(in.Permissions)}, nil
}

func sorted(ps []Permission) []Permission {
	out := slices.Clone(ps)
	sortPermissions(out)
	return slices.Compact(out)
}

func policyRules(role, storeID string, ps []Permission) [][]string {
	out := make([][]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, []string{role, storeID, string(p.Object), string(p.Action)})
	}
	return out
}

// checkPermissions validates a role's new permissions: each must be in the
// catalog and held by the caller (no one hands out more than they have).
func (e *Enforcer) checkPermissions(ctx context.Context, v *errs.Validator, ps []Permission) {
	for i, p := range ps {
		field := fmt.Sprintf("permissions.%d", i)
		if !Known(p) {
			v.Add(errs.Invalid(field, "UNKNOWN_PERMISSION", fmt.Sprintf("%s is not a known permission", p)))
			continue
		}
		if err := e.Can(ctx, p.Object, p.Action); err != nil {
			v.Add(errs.Invalid(field, "PERMISSION_NOT_HELD", fmt.Sprintf("you cannot grant %s: you do not hold it", p)))
		}
	}
}

// buyerPermissions are what the buyer roles (customer, anonymous) may
// hold: what either holds in a new shop. Owners may take some away (no
// guest checkout), never give a buyer staff's access to other people's
// data: a role editor once opened every order to guests.
var buyerPermissions = func() map[Permission]bool {
	out := map[Permission]bool{}
	for _, role := range []string{RoleCustomer, RoleAnonymous} {
		for _, p := range DefaultPolicy()[role] {
			out[p] = true
		}
	}
	return out
}()

// checkBuyerPermissions refuses, for a buyer role, permissions beyond
// buyerPermissions.
func checkBuyerPermissions(v *errs.Validator, ps []Permission) {
	for i, p := range ps {
		if Known(p) && !buyerPermissions[p] {
			v.Add(errs.Invalid(fmt.Sprintf("permissions.%d", i), "NOT_A_BUYER_PERMISSION",
				fmt.Sprintf("%s is staff's: buyers hold the catalog and their own account, cart, orders and payments", p)))
		}
	}
}

// RoleUpdate changes a role; nil fields stay as they are.
type RoleUpdate struct {
	Description *string
	// Permissions replace the role's permissions when not nil.
	Permissions *[]Permission
}

// UpdateRole changes a role of the caller's store; the change takes effect
// at once on every instance. Needs role:write and every permission the
// role holds now (ROLE_NOT_HELD); the owner role cannot be changed, the
// caller can only hand out permissions it holds, and the buyer roles
// only hold buyers' permissions (NOT_A_BUYER_PERMISSION).
func (e *Enforcer) UpdateRole(ctx context.Context, name string, in RoleUpdate) (RoleInfo, error) {
	if err := e.Can(ctx, Role, Write); err != nil {
		return RoleInfo{}, err
	}
	s := SubjectFrom(ctx)
	row, err := e.roleRow(ctx, s.Store, name)
	if err != nil {
		return RoleInfo{}, err
	}
	if name == RoleOwner && in.Permissions != nil {
		return RoleInfo{}, errs.Conflict("name", "ROLE_IMMUTABLE", "the owner role always holds every permission")
	}
	// Changing a role changes what its holders may do: only someone who
	// holds all of it may (as staffUpdate and staffDisable need every
	// role of the member), or a role editor could strip a manager.
	for _, p := range e.RolePermissions(name, s.Store) {
		if e.Can(ctx, p.Object, p.Action) != nil {
			return RoleInfo{}, errs.Invalid("name", "ROLE_NOT_HELD",
				fmt.Sprintf("you cannot change %s: it holds %s, which you do not", name, p))
		}
	}
	var v errs.Validator
	if in.Description != nil {
		v.Check(len(*in.Description) <= 500, "description", "TOO_LONG", "description is at most 500 characters")
	}
	if in.Permissions != nil {
		e.checkPermissions(ctx, &v, *in.Permissions)
		if name == RoleCustomer || name == RoleAnonymous {
			checkBuyerPermissions(&v, *in.Permissions)
		}
	}
	if err := v.Err(); err != nil {
		return RoleInfo{}, err
	}
	err = e.db.RunInTx(ctx, func(ctx context.Context) error {
		if in.Description != nil {
			row.Description = *in.Description
			if _, err := e.db.Conn(ctx).NewUpdate().Model(&row).Column("description").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("update role: %w", err)
			}
		}
		if in.Permissions != nil {
			if err := e.adapter.removeFiltered(ctx, "p", 0, name, s.Store); err != nil {
				return err
			}
			if err := e.adapter.addRules(ctx, "p", policyRules(name, s.Store, *in.Permissions)); err != nil {
				return err
			}
			e.reloadAfterCommit(ctx)
		}
		return nil
	})
	if err != nil {
		return RoleInfo{}, err
	}
	info := RoleInfo{Name: row.Name, Description: row.Description, Builtin: row.Builtin}
	if in.Permissions != nil {
		info.Permissions = sorted(*in.Permissions)
		e.log.InfoContext(ctx, "role permissions changed", "role", name, "by", s.ID, "permissions", len(info.Permissions))
	} else {
		info.Permissions = e.RolePermissions(name, s.Store)
	}
	return info, nil
}

// DeleteRole removes a role the owner made. Built-in roles and roles
// still held by someone cannot be deleted. Needs role:write.
func (e *Enforcer) DeleteRole(ctx context.Context, name string) error {
	if err := e.Can(ctx, Role, Write); err != nil {
		return err
	}
	s := SubjectFrom(ctx)
	row, err := e.roleRow(ctx, s.Store, name)
	if err != nil {
		return err
	}
	if row.Builtin {
		return errs.Conflict("name", "ROLE_BUILTIN", fmt.Sprintf("%s is a built-in role and cannot be deleted", name))
	}
	// Deleting a role is changing it, to nothing: only who could give
	// it may (a role made again under the name would otherwise reach
	// whoever was meant to get the old one).
	if err := e.canGrant(ctx, name); err != nil {
		return errs.Invalid("name", "ROLE_NOT_HELD", fmt.Sprintf("you cannot delete %s: it holds permissions you do not", name))
	}
	if users := e.PrincipalsWithRole(name, s.Store); len(users) > 0 {
		return errs.Conflict("name", "ROLE_IN_USE", fmt.Sprintf("%d staff members or API keys still hold %s", len(users), name))
	}
	if f := e.roleNamedBy.Load(); f != nil {
		n, err := (*f)(ctx, s.Store, name)
		if err != nil {
			return err
		}
		if n > 0 {
			return errs.Conflict("name", "ROLE_IN_USE", fmt.Sprintf("%d open staff invitations give %s: revoke them first", n, name))
		}
	}
	return e.db.RunInTx(ctx, func(ctx context.Context) error {
		if _, err := e.db.Conn(ctx).NewDelete().Model(&row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete role: %w", err)
		}
		if err := e.adapter.removeFiltered(ctx, "p", 0, name, s.Store); err != nil {
			return err
		}
		e.reloadAfterCommit(ctx)
		return nil
	})
}

// OnRoleNamed registers how to count the open promises of a role that
// are not Casbin's (staff invitations, kept by the accounts): a role one
// of them names is in use and is not deleted.
func (e *Enforcer) OnRoleNamed(count func(ctx context.Context, storeID, role string) (int, error)) {
	e.roleNamedBy.Store(&count)
}

// Gives reports whether roles together hold every permission of role in
// storeID: whether a holder of roles may give role (ValidateStaffRoles'
// rule), answered from the loaded policy without a database read.
func (e *Enforcer) Gives(roles []string, storeID, role string) bool {
	for _, p := range e.RolePermissions(role, storeID) {
		obj, act := p.Object, p.Action
		if obj == Wildcard {
			act = Wildcard
		}
		if ok, err := e.allowed(roles, storeID, obj, act); err != nil || !ok {
			return false
		}
	}
	return true
}

// RolesOf returns the roles principal (a staff member or API key id) holds
// in storeID.
func (e *Enforcer) RolesOf(principal, storeID string) []string {
	roles := e.ce.GetRolesForUserInDomain(principal, storeID)
	sort.Strings(roles)
	return roles
}

// PrincipalsWithRole returns the staff members and API keys holding role
// in storeID.
func (e *Enforcer) PrincipalsWithRole(role, storeID string) []string {
	users := e.ce.GetUsersForRoleInDomain(role, storeID)
	sort.Strings(users)
	return users
}

// ValidateStaffRoles checks that roles can be given to a staff member or
// an API key in the caller's store: at least one, each existing, none of
// the buyer roles, and each held in full by the caller (only an owner
// makes owners).
func (e *Enforcer) ValidateStaffRoles(ctx context.Context, field string, roles []string) error {
	s := SubjectFrom(ctx)
	if len(roles) == 0 {
		return errs.Invalid(field, "ROLE_REQUIRED", "give at least one role")
	}
	for i, role := range roles {
		f := fmt.Sprintf("%s.%d", field, i)
		if role == RoleCustomer || role == RoleAnonymous {
			return errs.Invalid(f, "INVALID_ROLE", fmt.Sprintf("%s is a buyer role", role))
		}
		if _, err := e.roleRow(ctx, s.Store, role); err != nil {
			if errs.All(err) != nil {
				return errs.Invalid(f, "ROLE_NOT_FOUND", fmt.Sprintf("role %q does not exist", role))
			}
			return err
		}
		if err := e.canGrant(ctx, role); err != nil {
			return errs.Invalid(f, "ROLE_NOT_HELD", fmt.Sprintf("you cannot give %s: it holds permissions you do not", role))
		}
	}
	return nil
}

// canGrant passes when the caller holds every permission of role.
func (e *Enforcer) canGrant(ctx context.Context, role string) error {
	s := SubjectFrom(ctx)
	if s.Kind == KindSystem {
		return nil
	}
	for _, p := range e.RolePermissions(role, s.Store) {
		if p.Object == Wildcard {
			ok, err := e.allowed(s.Roles, s.Store, Wildcard, Wildcard)
			if err != nil {
				return err
			}
			if !ok {
				return Denied(s, Role, Write)
			}
			continue
		}
		if err := e.Can(ctx, p.Object, p.Action); err != nil {
			return err
		}
	}
	return nil
}

// SetPrincipalRoles replaces the roles of principal (a staff member or API
// key id) in the caller's store, in the transaction carried by ctx. It
// checks no permission: the calling service has (see ValidateStaffRoles).
func (e *Enforcer) SetPrincipalRoles(ctx context.Context, principal string, roles []string) error {
	s := SubjectFrom(ctx)
	return e.db.RunInTx(ctx, func(ctx context.Context) error {
		if err := e.adapter.removeFiltered(ctx, "g", 0, principal, "", s.Store); err != nil {
			return err
		}
		rules := make([][]string, 0, len(roles))
		for _, r := range roles {
			rules = append(rules, []string{principal, r, s.Store})
		}
		if err := e.adapter.addRules(ctx, "g", rules); err != nil {
			return err
		}
		e.reloadAfterCommit(ctx)
		return nil
	})
}
