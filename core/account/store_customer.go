package account

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store"
)

// The buyers' queries: accounts and their address books.

func (st *accountStore) insertCustomer(ctx context.Context, c *Customer) error {
	if _, err := st.conn(ctx).NewInsert().Model(c).Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return errEmailTaken
		}
		return fmt.Errorf("insert customer: %w", err)
	}
	return nil
}

func (st *accountStore) customerByID(ctx context.Context, id string) (*Customer, error) {
	c := new(Customer)
	if err := one(st.conn(ctx).NewSelect().Model(c).Where("id = ?", id).Scan(ctx), "customer", errCustomerNotFound); err != nil {
		return nil, err
	}
	return c, nil
}

// customerByEmail returns errs.ErrNotFound when no live account has
// email (ADR 0007: absence is an error, never nil, nil).
func (st *accountStore) customerByEmail(ctx context.Context, email string) (*Customer, error) {
	c := new(Customer)
	if err := one(st.conn(ctx).NewSelect().Model(c).Where("email = ? AND erased_at IS NULL", email).Scan(ctx),
		"customer", errCustomerNotFound); err != nil {
		return nil, err
	}
	return c, nil
}

func (st *accountStore) updateCustomer(ctx context.Context, c *Customer, cols ...string) error {
	if _, err := st.conn(ctx).NewUpdate().Model(c).Column(cols...).WherePK().Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return errEmailTaken
		}
		return fmt.Errorf("update customer: %w", err)
	}
	return nil
}

func (st *accountStore) listCustomers(ctx context.Context, f CustomerFilter, req page.Request) (page.Page[*Customer], error) {
	var rows []*Customer
	q := st.conn(ctx).NewSelect().Model(&rows).Where("erased_at IS NULL")
	if t := strings.TrimSpace(strings.ToLower(f.Query)); t != "" {
		like := "%" + escapeLike(t) + "%"
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			for _, col := range []string{"email", "first_name", "last_name", "company_name"} {
				q = q.WhereOr("LOWER(?) LIKE ? ESCAPE '\\'", bun.Ident(col), like)
			}
			return q
		})
	}
	if f.Tag != "" {
		q = q.Where("EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = customer.id AND t.tag = ?)", normalizeTag(f.Tag))
	}
	if f.GroupID != "" {
		q = q.Where("EXISTS (SELECT 1 FROM customer_group_members m WHERE m.customer_id = customer.id AND m.group_id = ?)", f.GroupID)
	}
	return keyset(ctx, q, &rows, req, func(c *Customer) string { return c.ID })
}

// eraseCustomerData deletes everything personal that hangs off a buyer.
func (st *accountStore) eraseCustomerData(ctx context.Context, customerID string) error {
	for _, q := range []struct{ table, col string }{
		{"customer_addresses", "customer_id"},
		{"customer_tags", "customer_id"},
		{"customer_group_members", "customer_id"},
		{"account_tokens", "principal_id"},
	} {
		if _, err := st.conn(ctx).NewDelete().Table(q.table).Where("? = ?", bun.Ident(q.col), customerID).Exec(ctx); err != nil {
			return fmt.Errorf("erase %s: %w", q.table, err)
		}
	}
	return st.deleteSessionsOf(ctx, PrincipalCustomer, customerID, "")
}

// ---- addresses ----

func (st *accountStore) insertAddress(ctx context.Context, a *Address) error {
	if _, err := st.conn(ctx).NewInsert().Model(a).Exec(ctx); err != nil {
		return fmt.Errorf("insert address: %w", err)
	}
	return nil
}

func (st *accountStore) addressByID(ctx context.Context, id string) (*Address, error) {
	a := new(Address)
	if err := one(st.conn(ctx).NewSelect().Model(a).Where("id = ?", id).Scan(ctx), "address", errAddressNotFound); err != nil {
		return nil, err
	}
	return a, nil
}

func (st *accountStore) addressesOf(ctx context.Context, customerID string) ([]*Address, error) {
	var out []*Address
	if err := st.conn(ctx).NewSelect().Model(&out).Where("customer_id = ?", customerID).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	return out, nil
}

// addressesByCustomerIDs returns the address books of the given buyers,
// by customer id, oldest first, with one query.
func (st *accountStore) addressesByCustomerIDs(ctx context.Context, customerIDs []string) (map[string][]*Address, error) {
	out := make(map[string][]*Address, len(customerIDs))
	if len(customerIDs) == 0 {
		return out, nil
	}
	var rows []*Address
	if err := st.conn(ctx).NewSelect().Model(&rows).Where("customer_id IN (?)", bun.In(customerIDs)).
		OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list addresses of customers: %w", err)
	}
	for _, a := range rows {
		out[a.CustomerID] = append(out[a.CustomerID], a)
	}
	return out, nil
}

func (st *accountStore) countAddresses(ctx context.Context, customerID string) (int, error) {
	n, err := st.conn(ctx).NewSelect().Model((*Address)(nil)).Where("customer_id = ?", customerID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count addresses: %w", err)
	}
	return int(n), nil
}

func (st *accountStore) updateAddress(ctx context.Context, a *Address) error {
	if _, err := st.conn(ctx).NewUpdate().Model(a).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update address: %w", err)
	}
	return nil
}

func (st *accountStore) deleteAddress(ctx context.Context, a *Address) error {
	if _, err := st.conn(ctx).NewDelete().Model(a).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("delete address: %w", err)
	}
	for _, col := range []string{"default_shipping_address_id", "default_billing_address_id"} {
		if _, err := st.conn(ctx).NewUpdate().Model((*Customer)(nil)).Set("? = NULL", bun.Ident(col)).
			Where("id = ? AND ? = ?", a.CustomerID, bun.Ident(col), a.ID).Exec(ctx); err != nil {
			return fmt.Errorf("clear default address: %w", err)
		}
	}
	return nil
}
