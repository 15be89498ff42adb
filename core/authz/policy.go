package authz

import (
	"fmt"
	"slices"
	"strings"
)

// The built-in roles. Staff roles are given to staff members and API keys;
// customer and anonymous are the roles of signed-in buyers and guests.
const (
	// RoleOwner may do everything, always: its permissions cannot be
	// changed, and the last active owner cannot be removed.
	RoleOwner = "owner"
	// RoleManager runs the shop day to day: catalog, customers, orders,
	// refunds, promotions, returns; reads staff, reports and settings.
	RoleManager = "manager"
	// RoleFulfillment picks, packs and ships: inventory, orders, returns.
	RoleFulfillment = "fulfillment"
	// RoleSupport helps buyers: customers, orders, returns.
	RoleSupport = "support"
	// RoleFinance handles money: payments, refunds, reports.
	RoleFinance = "finance"
	// RoleDeveloper builds integrations: plugins and API keys, read access
	// to catalog and orders.
	RoleDeveloper = "developer"
	// RoleCustomer is every signed-in buyer: the catalog and their own
	// account, orders and returns.
	RoleCustomer = "customer"
	// RoleAnonymous is every guest: the catalog, and registration.
	RoleAnonymous = "anonymous"
)

// BuiltinRoles lists the built-in roles, staff roles first.
func BuiltinRoles() []string {
	return []string{RoleOwner, RoleManager, RoleFulfillment, RoleSupport, RoleFinance, RoleDeveloper, RoleCustomer, RoleAnonymous}
}

// StaffRoles lists the built-in roles that staff members and API keys can
// hold.
func StaffRoles() []string {
	return []string{RoleOwner, RoleManager, RoleFulfillment, RoleSupport, RoleFinance, RoleDeveloper}
}

// IsBuiltinRole reports whether name is a built-in role.
func IsBuiltinRole(name string) bool { return slices.Contains(BuiltinRoles(), name) }

// Permission is one object/action pair a role may hold.
type Permission struct {
	Object Object
	Action Action
}

// String formats p as "object:action" ("order:read:own").
func (p Permission) String() string { return string(p.Object) + ":" + string(p.Action) }

// ParsePermission parses "object:action" as written by String.
func ParsePermission(s string) (Permission, error) {
	obj, act, ok := strings.Cut(s, ":")
	if !ok || obj == "" || act == "" {
		return Permission{}, fmt.Errorf("permission %q is not object:action", s)
	}
	p := Permission{Object(obj), Action(act)}
	if !Known(p) {
		return Permission{}, fmt.Errorf("permission %q is unknown", s)
	}
	return p, nil
}

// actions lists the actions each object supports. A role can only be given
// permissions from this catalog.
var actions = map[Object][]Action{
	Product:    {Read, Write},
	Collection: {Read, Write},
	Inventory:  {Read, Write},
	Customer:   {Read, Write, Erase, Register, Own(Read), Own(Write), Own(Erase)},
	Staff:      {Read, Write, Own(Read), Own(Write)},
	Role:       {Read, Write},
	APIKey:     {Read, Write},
	Cart:       {Own(Read), Own(Write)},
	Order:      {Read, Write, Own(Read), Own(Write)},
	Payment:    {Read, Write, Own(Read), Own(Write)},
	Refund:     {Read, Write},
	Promotion:  {Read, Write},
	Return:     {Read, Write, Own(Read), Own(Write)},
	Invoice:    {Read, Own(Read)},
	Plugin:     {Read, Write},
	Report:     {Read},
	Settings:   {Read, Write},
}

// Actions returns the actions obj supports.
func Actions(obj Object) []Action { return slices.Clone(actions[obj]) }

// AllPermissions returns every permission of the catalog, object by object
// in the order of Objects.
func AllPermissions() []Permission {
	var out []Permission
	for _, o := range Objects() {
		for _, a := range actions[o] {
			out = append(out, Permission{o, a})
		}
	}
	return out
}

// Known reports whether p is in the catalog.
func Known(p Permission) bool { return slices.Contains(actions[p.Object], p.Action) }

// Wildcard is the object and action of the owner's single rule.
const Wildcard = "*"

func perms(obj Object, acts ...Action) []Permission {
	out := make([]Permission, len(acts))
	for i, a := range acts {
		out[i] = Permission{obj, a}
	}
	return out
}

func join(ps ...[]Permission) []Permission { return slices.Concat(ps...) }

var (
	rw        = []Action{Read, Write}
	r         = []Action{Read}
	ownRW     = []Action{Own(Read), Own(Write)}
	staffSelf = perms(Staff, ownRW...)
	catalogR  = join(perms(Product, r...), perms(Collection, r...))
)

// DefaultPolicy returns the permissions each built-in role starts with in a
// new shop. The owner holds the wildcard rule (every object, every action,
// including objects added by later versions). docs/permissions.md shows the
// same matrix for people; a test keeps the two equal.
func DefaultPolicy() map[string][]Permission {
	return map[string][]Permission{
		RoleOwner: {{Wildcard, Wildcard}},
		RoleManager: join(staffSelf,
			perms(Product, rw...), perms(Collection, rw...), perms(Inventory, rw...),
			perms(Customer, rw...), perms(Order, rw...), perms(Payment, r...),
			perms(Refund, rw...), perms(Promotion, rw...), perms(Return, rw...), perms(Invoice, r...),
			perms(Report, r...), perms(Settings, r...), perms(Plugin, r...),
			perms(Staff, r...), perms(Role, r...)),
		RoleFulfillment: join(staffSelf, catalogR,
			perms(Inventory, rw...), perms(Order, rw...), perms(Customer, r...), perms(Return, rw...), perms(Invoice, r...)),
		RoleSupport: join(staffSelf, catalogR, perms(Inventory, r...),
			perms(Customer, rw...), perms(Order, rw...), perms(Payment, r...), perms(Refund, r...),
			perms(Promotion, r...), perms(Return, rw...), perms(Invoice, r...)),
		RoleFinance: join(staffSelf, catalogR,
			perms(Customer, r...), perms(Order, r...), perms(Payment, rw...), perms(Refund, rw...),
			perms(Promotion, r...), perms(Return, r...), perms(Invoice, r...), perms(Report, r...)),
		RoleDeveloper: join(staffSelf, catalogR, perms(Inventory, r...),
			perms(Order, r...), perms(Invoice, r...), perms(Plugin, rw...), perms(APIKey, rw...), perms(Settings, r...),
			perms(Report, r...), perms(Role, r...)),
		RoleCustomer: join(catalogR,
			perms(Customer, Own(Read), Own(Write), Own(Erase)),
			perms(Cart, ownRW...), perms(Order, ownRW...), perms(Payment, ownRW...), perms(Return, ownRW...),
			perms(Invoice, Own(Read))),
		// A guest's orders are their own by the access token returned at
		// checkout (ADR 0008).
		RoleAnonymous: join(catalogR, perms(Customer, Register),
			perms(Cart, ownRW...), perms(Order, ownRW...), perms(Payment, ownRW...), perms(Invoice, Own(Read))),
	}
}
