package authz

import (
	"context"
	"errors"
	"fmt"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/store"
)

// ruleFields is how many value columns casbin_rule has.
const ruleFields = 6

// casbinRule is one row of casbin_rule: a policy ("p") or grouping ("g")
// rule with up to six values, unused ones empty.
type casbinRule struct {
	bun.BaseModel `bun:"table:casbin_rule"`

	Ptype string `bun:"ptype,pk"`
	V0    string `bun:"v0,pk"`
	V1    string `bun:"v1,pk"`
	V2    string `bun:"v2,pk"`
	V3    string `bun:"v3,pk"`
	V4    string `bun:"v4,pk"`
	V5    string `bun:"v5,pk"`
}

func newRule(ptype string, values []string) (*casbinRule, error) {
	if len(values) > ruleFields {
		return nil, fmt.Errorf("casbin rule %s has %d values, at most %d fit", ptype, len(values), ruleFields)
	}
	var v [ruleFields]string
	copy(v[:], values)
	return &casbinRule{Ptype: ptype, V0: v[0], V1: v[1], V2: v[2], V3: v[3], V4: v[4], V5: v[5]}, nil
}

func (r *casbinRule) values() []string {
	v := []string{r.V0, r.V1, r.V2, r.V3, r.V4, r.V5}
	n := len(v)
	for n > 0 && v[n-1] == "" {
		n--
	}
	return v[:n]
}

// Adapter stores Casbin rules in the casbin_rule table through bun. It
// implements persist.Adapter (and so Casbin's auto-save) and joins the
// transaction of the context it was made with.
type Adapter struct {
	db  *store.DB
	ctx context.Context
}

var _ persist.Adapter = (*Adapter)(nil)

// NewAdapter returns an adapter over db.
func NewAdapter(db *store.DB) *Adapter { return &Adapter{db: db, ctx: context.Background()} }

// WithContext returns a copy of a whose queries run with ctx (and join its
// transaction, if any).
func (a *Adapter) WithContext(ctx context.Context) *Adapter { return &Adapter{db: a.db, ctx: ctx} }

// LoadPolicy loads every rule into m.
func (a *Adapter) LoadPolicy(m model.Model) error {
	rules, err := a.rules(a.ctx)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := persist.LoadPolicyArray(append([]string{r.Ptype}, r.values()...), m); err != nil {
			return fmt.Errorf("load casbin rule %s %v: %w", r.Ptype, r.values(), err)
		}
	}
	return nil
}

func (a *Adapter) rules(ctx context.Context) ([]casbinRule, error) {
	var rules []casbinRule
	if err := a.db.Conn(ctx).NewSelect().Model(&rules).
		Order("ptype", "v0", "v1", "v2", "v3", "v4", "v5").Scan(ctx); err != nil {
		return nil, fmt.Errorf("select casbin rules: %w", err)
	}
	return rules, nil
}

// SavePolicy replaces every stored rule with the rules of m, in one
// transaction.
func (a *Adapter) SavePolicy(m model.Model) error {
	var rules []*casbinRule
	for _, sec := range []string{"p", "g"} {
		for ptype, ast := range m[sec] {
			for _, values := range ast.Policy {
				r, err := newRule(ptype, values)
				if err != nil {
					return err
				}
				rules = append(rules, r)
			}
		}
	}
	return a.db.RunInTx(a.ctx, func(ctx context.Context) error {
		if _, err := a.db.Conn(ctx).NewDelete().Model((*casbinRule)(nil)).Where("1 = 1").Exec(ctx); err != nil {
			return fmt.Errorf("clear casbin rules: %w", err)
		}
		if len(rules) == 0 {
			return nil
		}
		if _, err := a.db.Conn(ctx).NewInsert().Model(&rules).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("insert casbin rules: %w", err)
		}
		return nil
	})
}

// AddPolicy stores one rule; storing an existing rule is not an error.
func (a *Adapter) AddPolicy(_ string, ptype string, rule []string) error {
	return a.addRules(a.ctx, ptype, [][]string{rule})
}

func (a *Adapter) addRules(ctx context.Context, ptype string, rules [][]string) error {
	if len(rules) == 0 {
		return nil
	}
	rows := make([]*casbinRule, 0, len(rules))
	for _, values := range rules {
		r, err := newRule(ptype, values)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	if _, err := a.db.Conn(ctx).NewInsert().Model(&rows).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("insert casbin rule: %w", err)
	}
	return nil
}

// RemovePolicy deletes one rule; deleting a missing rule is not an error.
func (a *Adapter) RemovePolicy(_ string, ptype string, rule []string) error {
	r, err := newRule(ptype, rule)
	if err != nil {
		return err
	}
	if _, err := a.db.Conn(a.ctx).NewDelete().Model(r).WherePK().Exec(a.ctx); err != nil {
		return fmt.Errorf("delete casbin rule: %w", err)
	}
	return nil
}

// RemoveFilteredPolicy deletes the rules of ptype whose values, from
// fieldIndex on, equal fieldValues; an empty value matches anything.
func (a *Adapter) RemoveFilteredPolicy(_ string, ptype string, fieldIndex int, fieldValues ...string) error {
	return a.removeFiltered(a.ctx, ptype, fieldIndex, fieldValues...)
}

func (a *Adapter) removeFiltered(ctx context.Context, ptype string, fieldIndex int, fieldValues ...string) error {
	if fieldIndex < 0 || fieldIndex+len(fieldValues) > ruleFields {
		return errors.New("casbin filter out of range")
	}
	q := a.db.Conn(ctx).NewDelete().Model((*casbinRule)(nil)).Where("ptype = ?", ptype)
	for i, v := range fieldValues {
		if v != "" {
			q = q.Where("? = ?", bun.Ident(fmt.Sprintf("v%d", fieldIndex+i)), v)
		}
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("delete casbin rules: %w", err)
	}
	return nil
}

var _ persist.BatchAdapter = (*Adapter)(nil)

// AddPolicies stores several rules at once (Casbin's batch auto-save).
func (a *Adapter) AddPolicies(_ string, ptype string, rules [][]string) error {
	return a.addRules(a.ctx, ptype, rules)
}

// RemovePolicies deletes several rules in one transaction.
func (a *Adapter) RemovePolicies(sec string, ptype string, rules [][]string) error {
	return a.db.RunInTx(a.ctx, func(ctx context.Context) error {
		for _, rule := range rules {
			if err := a.WithContext(ctx).RemovePolicy(sec, ptype, rule); err != nil {
				return err
			}
		}
		return nil
	})
}
