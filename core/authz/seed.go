package authz

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// roleRow is a role known in a store.
type roleRow struct {
	bun.BaseModel `bun:"table:authz_roles"`

	Store       string    `bun:"store,pk"`
	Name        string    `bun:"name,pk"`
	Description string    `bun:"description"`
	Builtin     bool      `bun:"builtin"`
	CreatedAt   time.Time `bun:"created_at"`
}

// seededRow records a default rule that was seeded once.
type seededRow struct {
	bun.BaseModel `bun:"table:authz_seeded"`

	Rule     string    `bun:"rule,pk"`
	SeededAt time.Time `bun:"seeded_at"`
}

// roleDescriptions are the built-in roles' descriptions.
var roleDescriptions = map[string]string{
	RoleOwner:       "Everything, always. Cannot be changed; a shop keeps at least one active owner.",
	RoleManager:     "Runs the shop day to day: catalog, customers, orders, refunds, promotions and returns.",
	RoleFulfillment: "Picks, packs and ships: inventory, orders and returns.",
	RoleSupport:     "Helps buyers: customers, orders and returns; reads payments and refunds.",
	RoleFinance:     "Handles money: payments, refunds and reports.",
	RoleDeveloper:   "Builds integrations: plugins and API keys; reads catalog and orders.",
	RoleCustomer:    "Every signed-in buyer: the catalog and their own account, cart, orders and returns.",
	RoleAnonymous:   "Every guest: the catalog, registration, and their own cart and orders.",
}

// DefaultRules returns the default policy as Casbin rules ("p", role,
// store, object, action) for storeID.
func DefaultRules(storeID string) [][]string {
	pol := DefaultPolicy()
	var out [][]string
	for _, role := range BuiltinRoles() {
		for _, p := range pol[role] {
			out = append(out, []string{"p", role, storeID, string(p.Object), string(p.Action)})
		}
	}
	return out
}

// seed inserts the built-in roles and every default rule that was never
// seeded before. A default rule the owner removed stays removed; a rule a
// newer version added to the defaults arrives at the next start. Several
// instances starting at once insert nothing twice.
func (e *Enforcer) seed(ctx context.Context) error {
	now := e.clock.Now()
	return e.db.RunInTx(ctx, func(ctx context.Context) error {
		conn := e.db.Conn(ctx)
		roles := make([]roleRow, 0, len(BuiltinRoles()))
		for _, name := range BuiltinRoles() {
			roles = append(roles, roleRow{Store: DefaultStore, Name: name, Description: roleDescriptions[name], Builtin: true, CreatedAt: now})
		}
		if _, err := conn.NewInsert().Model(&roles).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("seed roles: %w", err)
		}
		var seeded []string
		if err := conn.NewSelect().Model((*seededRow)(nil)).Column("rule").Scan(ctx, &seeded); err != nil {
			return fmt.Errorf("read seeded rules: %w", err)
		}
		done := make(map[string]bool, len(seeded))
		for _, s := range seeded {
			done[s] = true
		}
		var (
			rules [][]string
			marks []seededRow
		)
		for _, r := range DefaultRules(DefaultStore) {
			key := strings.Join(r, ", ")
			if done[key] {
				continue
			}
			rules = append(rules, r[1:])
			marks = append(marks, seededRow{Rule: key, SeededAt: now})
		}
		if len(rules) == 0 {
			return nil
		}
		if err := e.adapter.addRules(ctx, "p", rules); err != nil {
			return fmt.Errorf("seed default policy: %w", err)
		}
		if _, err := conn.NewInsert().Model(&marks).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("mark default policy seeded: %w", err)
		}
		e.log.Info("default permissions seeded", "rules", len(rules))
		return nil
	})
}
