package account

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store"
)

// Store is the only place with the accounts' SQL. Every method runs in the
// transaction carried by ctx, if any.
type Store struct {
	db *store.DB
}

// NewStore returns the accounts store over db.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

func (st *Store) conn(ctx context.Context) bun.IDB { return st.db.Conn(ctx) }

// get scans one row into m, mapping "no rows" to nf (or nil, false).
func get(err error, what string) (bool, error) {
	if err == nil {
		return true, nil
	}
	if store.IsNoRows(err) {
		return false, nil
	}
	return false, fmt.Errorf("get %s: %w", what, err)
}

// ---- customers ----

func (st *Store) insertCustomer(ctx context.Context, c *Customer) error {
	if _, err := st.conn(ctx).NewInsert().Model(c).Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return errEmailTaken
		}
		return fmt.Errorf("insert customer: %w", err)
	}
	return nil
}

var errEmailTaken = errs.Conflict("email", "EMAIL_TAKEN", "an account with this email exists")

func (st *Store) customerByID(ctx context.Context, id string) (*Customer, error) {
	c := new(Customer)
	ok, err := get(st.conn(ctx).NewSelect().Model(c).Where("id = ?", id).Scan(ctx), "customer")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errCustomerNotFound
	}
	return c, nil
}

var errCustomerNotFound = errs.NotFound("CUSTOMER_NOT_FOUND", "customer not found")

// customerByEmail returns errs.ErrNotFound when no live account has
// email (ADR 0007: absence is an error, never nil, nil).
func (st *Store) customerByEmail(ctx context.Context, email string) (*Customer, error) {
	c := new(Customer)
	ok, err := get(st.conn(ctx).NewSelect().Model(c).Where("email = ? AND erased_at IS NULL", email).Scan(ctx), "customer")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errCustomerNotFound
	}
	return c, nil
}

func (st *Store) updateCustomer(ctx context.Context, c *Customer, cols ...string) error {
	if _, err := st.conn(ctx).NewUpdate().Model(c).Column(cols...).WherePK().Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return errEmailTaken
		}
		return fmt.Errorf("update customer: %w", err)
	}
	return nil
}

// CustomerFilter narrows a customer listing.
type CustomerFilter struct {
	// Query matches email, names and company, case-insensitively.
	Query string
	// Tag keeps customers carrying the tag.
	Tag string
	// GroupID keeps members of the group.
	GroupID string
}

func (st *Store) listCustomers(ctx context.Context, f CustomerFilter, req page.Request) (page.Page[*Customer], error) {
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

// keyset pages rows newest first by id (ids sort by creation time).
func keyset[T any](ctx context.Context, q *bun.SelectQuery, rows *[]T, req page.Request, idOf func(T) string) (page.Page[T], error) {
	if req.After != nil {
		q = q.Where("?TableAlias.id < ?", req.After.ID)
	}
	if err := q.OrderExpr("?TableAlias.id DESC").Limit(int64(req.First + 1)).Scan(ctx); err != nil {
		return page.Page[T]{}, fmt.Errorf("list: %w", err)
	}
	p := page.Page[T]{HasPrevious: req.After != nil}
	if len(*rows) > req.First {
		*rows = (*rows)[:req.First]
		p.HasNext = true
	}
	p.Items = *rows
	for _, r := range *rows {
		p.Cursors = append(p.Cursors, page.Cursor{ID: idOf(r)})
	}
	return p, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// eraseCustomerData deletes everything personal that hangs off a buyer.
func (st *Store) eraseCustomerData(ctx context.Context, customerID string) error {
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

const maxAddresses = 50

func (st *Store) insertAddress(ctx context.Context, a *Address) error {
	if _, err := st.conn(ctx).NewInsert().Model(a).Exec(ctx); err != nil {
		return fmt.Errorf("insert address: %w", err)
	}
	return nil
}

var errAddressNotFound = errs.NotFound("ADDRESS_NOT_FOUND", "address not found")

func (st *Store) addressByID(ctx context.Context, id string) (*Address, error) {
	a := new(Address)
	ok, err := get(st.conn(ctx).NewSelect().Model(a).Where("id = ?", id).Scan(ctx), "address")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errAddressNotFound
	}
	return a, nil
}

func (st *Store) addressesOf(ctx context.Context, customerID string) ([]*Address, error) {
	var out []*Address
	if err := st.conn(ctx).NewSelect().Model(&out).Where("customer_id = ?", customerID).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	return out, nil
}

// addressesByCustomerIDs returns the address books of the given buyers,
// by customer id, oldest first, with one query.
func (st *Store) addressesByCustomerIDs(ctx context.Context, customerIDs []string) (map[string][]*Address, error) {
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

func (st *Store) countAddresses(ctx context.Context, customerID string) (int, error) {
	n, err := st.conn(ctx).NewSelect().Model((*Address)(nil)).Where("customer_id = ?", customerID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count addresses: %w", err)
	}
	return int(n), nil
}

func (st *Store) updateAddress(ctx context.Context, a *Address) error {
	if _, err := st.conn(ctx).NewUpdate().Model(a).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update address: %w", err)
	}
	return nil
}

func (st *Store) deleteAddress(ctx context.Context, a *Address) error {
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

// ---- groups and tags ----

var errGroupNotFound = errs.NotFound("GROUP_NOT_FOUND", "customer group not found")

func (st *Store) insertGroup(ctx context.Context, g *Group) error {
	if _, err := st.conn(ctx).NewInsert().Model(g).Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return errs.Conflict("name", "GROUP_NAME_TAKEN", "a group with this name exists")
		}
		return fmt.Errorf("insert group: %w", err)
	}
	return nil
}

func (st *Store) groupByID(ctx context.Context, id string) (*Group, error) {
	g := new(Group)
	ok, err := get(st.conn(ctx).NewSelect().Model(g).Where("id = ?", id).Scan(ctx), "group")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errGroupNotFound
	}
	return g, nil
}

func (st *Store) updateGroup(ctx context.Context, g *Group) error {
	if _, err := st.conn(ctx).NewUpdate().Model(g).WherePK().Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return errs.Conflict("name", "GROUP_NAME_TAKEN", "a group with this name exists")
		}
		return fmt.Errorf("update group: %w", err)
	}
	return nil
}

func (st *Store) deleteGroup(ctx context.Context, id string) error {
	if _, err := st.conn(ctx).NewDelete().Model((*groupMember)(nil)).Where("group_id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete group members: %w", err)
	}
	if _, err := st.conn(ctx).NewDelete().Model((*Group)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	return nil
}

func (st *Store) listGroups(ctx context.Context, req page.Request) (page.Page[*Group], error) {
	var rows []*Group
	return keyset(ctx, st.conn(ctx).NewSelect().Model(&rows), &rows, req, func(g *Group) string { return g.ID })
}

func (st *Store) groupsOf(ctx context.Context, customerID string) ([]*Group, error) {
	var out []*Group
	if err := st.conn(ctx).NewSelect().Model(&out).
		Where("EXISTS (SELECT 1 FROM customer_group_members m WHERE m.group_id = \"group\".id AND m.customer_id = ?)", customerID).
		OrderExpr("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list groups of customer: %w", err)
	}
	return out, nil
}

// groupsByCustomerIDs returns the groups of the given buyers, by
// customer id, by name, with one query.
func (st *Store) groupsByCustomerIDs(ctx context.Context, customerIDs []string) (map[string][]*Group, error) {
	out := make(map[string][]*Group, len(customerIDs))
	if len(customerIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		Group      `bun:",extend"`
		CustomerID string `bun:"customer_id"`
	}
	if err := st.conn(ctx).NewSelect().Model(&rows).
		Column("id", "name", "description", "created_at", "updated_at").
		ColumnExpr("m.customer_id AS customer_id").
		Join("JOIN customer_group_members AS m ON m.group_id = ?TableAlias.id").
		Where("m.customer_id IN (?)", bun.In(customerIDs)).
		OrderExpr("?TableAlias.name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list groups of customers: %w", err)
	}
	for i := range rows {
		out[rows[i].CustomerID] = append(out[rows[i].CustomerID], &rows[i].Group)
	}
	return out, nil
}

func (st *Store) addMembers(ctx context.Context, groupID string, customerIDs []string, now time.Time) error {
	if len(customerIDs) == 0 {
		return nil
	}
	rows := make([]groupMember, len(customerIDs))
	for i, id := range customerIDs {
		rows[i] = groupMember{GroupID: groupID, CustomerID: id, CreatedAt: now}
	}
	if _, err := st.conn(ctx).NewInsert().Model(&rows).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		if store.IsForeignKeyViolation(err) {
			return errs.Invalid("customerIds", "CUSTOMER_NOT_FOUND", "a customer does not exist")
		}
		return fmt.Errorf("add group members: %w", err)
	}
	return nil
}

func (st *Store) removeMembers(ctx context.Context, groupID string, customerIDs []string) error {
	if len(customerIDs) == 0 {
		return nil
	}
	if _, err := st.conn(ctx).NewDelete().Model((*groupMember)(nil)).
		Where("group_id = ? AND customer_id IN (?)", groupID, bun.In(customerIDs)).Exec(ctx); err != nil {
		return fmt.Errorf("remove group members: %w", err)
	}
	return nil
}

func (st *Store) countMembers(ctx context.Context, groupID string) (int, error) {
	n, err := st.conn(ctx).NewSelect().Model((*groupMember)(nil)).Where("group_id = ?", groupID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count group members: %w", err)
	}
	return int(n), nil
}

// countMembersOf counts the members of each group in one query; groups
// without members are absent.
func (st *Store) countMembersOf(ctx context.Context, groupIDs []string) (map[string]int, error) {
	out := make(map[string]int, len(groupIDs))
	if len(groupIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		GroupID string `bun:"group_id"`
		N       int    `bun:"n"`
	}
	if err := st.conn(ctx).NewSelect().Model((*groupMember)(nil)).Column("group_id").ColumnExpr("count(*) AS n").
		Where("group_id IN (?)", bun.In(groupIDs)).Group("group_id").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("count group members: %w", err)
	}
	for _, r := range rows {
		out[r.GroupID] = r.N
	}
	return out, nil
}

func (st *Store) tagsOf(ctx context.Context, customerID string) ([]string, error) {
	var out []string
	if err := st.conn(ctx).NewSelect().Model((*customerTag)(nil)).Column("tag").
		Where("customer_id = ?", customerID).OrderExpr("tag").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return out, nil
}

// tagsByCustomerIDs returns the tags of the given buyers, by customer id,
// sorted, with one query.
func (st *Store) tagsByCustomerIDs(ctx context.Context, customerIDs []string) (map[string][]string, error) {
	out := make(map[string][]string, len(customerIDs))
	if len(customerIDs) == 0 {
		return out, nil
	}
	var rows []customerTag
	if err := st.conn(ctx).NewSelect().Model(&rows).Where("customer_id IN (?)", bun.In(customerIDs)).
		OrderExpr("customer_id, tag").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list tags of customers: %w", err)
	}
	for _, r := range rows {
		out[r.CustomerID] = append(out[r.CustomerID], r.Tag)
	}
	return out, nil
}

func (st *Store) addTags(ctx context.Context, customerID string, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	rows := make([]customerTag, len(tags))
	for i, t := range tags {
		rows[i] = customerTag{CustomerID: customerID, Tag: t}
	}
	if _, err := st.conn(ctx).NewInsert().Model(&rows).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("add tags: %w", err)
	}
	return nil
}

func (st *Store) removeTags(ctx context.Context, customerID string, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	if _, err := st.conn(ctx).NewDelete().Model((*customerTag)(nil)).
		Where("customer_id = ? AND tag IN (?)", customerID, bun.In(tags)).Exec(ctx); err != nil {
		return fmt.Errorf("remove tags: %w", err)
	}
	return nil
}

// ---- staff ----

var errStaffNotFound = errs.NotFound("STAFF_NOT_FOUND", "staff member not found")

func (st *Store) insertStaff(ctx context.Context, m *StaffMember) error {
	if _, err := st.conn(ctx).NewInsert().Model(m).Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return errs.Conflict("email", "STAFF_EXISTS", "a staff member with this email exists")
		}
		return fmt.Errorf("insert staff member: %w", err)
	}
	return nil
}

func (st *Store) staffByID(ctx context.Context, id string) (*StaffMember, error) {
	m := new(StaffMember)
	ok, err := get(st.conn(ctx).NewSelect().Model(m).Where("id = ?", id).Scan(ctx), "staff member")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errStaffNotFound
	}
	return m, nil
}

// staffByEmail returns nil when nobody on the staff has email.
func (st *Store) staffByEmail(ctx context.Context, email string) (*StaffMember, error) {
	m := new(StaffMember)
	ok, err := get(st.conn(ctx).NewSelect().Model(m).Where("email = ?", email).Scan(ctx), "staff member")
	if err != nil || !ok {
		return nil, err
	}
	return m, nil
}

func (st *Store) updateStaff(ctx context.Context, m *StaffMember, cols ...string) error {
	if _, err := st.conn(ctx).NewUpdate().Model(m).Column(cols...).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update staff member: %w", err)
	}
	return nil
}

func (st *Store) listStaff(ctx context.Context, req page.Request) (page.Page[*StaffMember], error) {
	var rows []*StaffMember
	return keyset(ctx, st.conn(ctx).NewSelect().Model(&rows), &rows, req, func(m *StaffMember) string { return m.ID })
}

// staffByIDs returns the staff members with the given ids, by id.
func (st *Store) staffByIDs(ctx context.Context, ids []string) (map[string]*StaffMember, error) {
	out := make(map[string]*StaffMember, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []*StaffMember
	if err := st.conn(ctx).NewSelect().Model(&rows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list staff members: %w", err)
	}
	for _, m := range rows {
		out[m.ID] = m
	}
	return out, nil
}

// holdActiveStaff takes a row lock on an active staff member and reports
// whether they are active. A transaction that records something in their
// name (an API key) calls it first: on PostgreSQL a concurrent disable
// then waits for it, or it sees the disable, so nothing is created in the
// name of a member being disabled. The update changes nothing.
func (st *Store) holdActiveStaff(ctx context.Context, id string) (bool, error) {
	res, err := st.conn(ctx).NewUpdate().Model((*StaffMember)(nil)).Set("status = status").
		Where("id = ? AND status = ?", id, StaffActive).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("hold staff member %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("hold staff member %s: %w", id, err)
	}
	return n == 1, nil
}

// activeStaff returns which of ids are active staff members.
func (st *Store) activeStaff(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []string
	if err := st.conn(ctx).NewSelect().Model((*StaffMember)(nil)).Column("id").
		Where("id IN (?) AND status = ?", bun.In(ids), StaffActive).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list active staff: %w", err)
	}
	return out, nil
}

// ---- invitations ----

var errInvitationNotFound = errs.NotFound("INVITATION_NOT_FOUND", "invitation not found")

func (st *Store) insertInvitation(ctx context.Context, inv *Invitation) error {
	if _, err := st.conn(ctx).NewInsert().Model(inv).Exec(ctx); err != nil {
		return fmt.Errorf("insert invitation: %w", err)
	}
	return nil
}

func (st *Store) invitationByID(ctx context.Context, id string) (*Invitation, error) {
	inv := new(Invitation)
	ok, err := get(st.conn(ctx).NewSelect().Model(inv).Where("id = ?", id).Scan(ctx), "invitation")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errInvitationNotFound
	}
	return inv, nil
}

// openInvitation returns the unused, unexpired invitation with the token
// hash, or nil.
func (st *Store) openInvitation(ctx context.Context, tokenHash string, now time.Time) (*Invitation, error) {
	inv := new(Invitation)
	ok, err := get(st.conn(ctx).NewSelect().Model(inv).
		Where("token_hash = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", tokenHash, now).Scan(ctx), "invitation")
	if err != nil || !ok {
		return nil, err
	}
	return inv, nil
}

// closeInvitation marks an open invitation accepted or revoked (column);
// false when it was no longer open.
func (st *Store) closeInvitation(ctx context.Context, id, column string, now time.Time) (bool, error) {
	res, err := st.conn(ctx).NewUpdate().Model((*Invitation)(nil)).Set("? = ?", bun.Ident(column), now).
		Where("id = ? AND accepted_at IS NULL AND revoked_at IS NULL", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("close invitation: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("close invitation: %w", err)
	}
	return n == 1, nil
}

// revokeInvitationsBy revokes the open invitations a staff member sent
// and returns how many.
func (st *Store) revokeInvitationsBy(ctx context.Context, staffID string, now time.Time) (int64, error) {
	res, err := st.conn(ctx).NewUpdate().Model((*Invitation)(nil)).Set("revoked_at = ?", now).
		Where("invited_by = ? AND accepted_at IS NULL AND revoked_at IS NULL", staffID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("revoke invitations of %s: %w", staffID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("revoke invitations of %s: %w", staffID, err)
	}
	return n, nil
}

func (st *Store) pendingInvitations(ctx context.Context, now time.Time) ([]*Invitation, error) {
	var out []*Invitation
	if err := st.conn(ctx).NewSelect().Model(&out).
		Where("accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", now).OrderExpr("id DESC").Limit(page.MaxFirst).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return out, nil
}

// ---- account tokens ----

func (st *Store) insertToken(ctx context.Context, t *accountToken) error {
	if _, err := st.conn(ctx).NewInsert().Model(t).Exec(ctx); err != nil {
		return fmt.Errorf("insert account token: %w", err)
	}
	return nil
}

// openToken returns the unused, unexpired token with the hash, or nil.
func (st *Store) openToken(ctx context.Context, purpose TokenPurpose, tokenHash string, now time.Time) (*accountToken, error) {
	t := new(accountToken)
	ok, err := get(st.conn(ctx).NewSelect().Model(t).
		Where("token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", tokenHash, purpose, now).Scan(ctx), "account token")
	if err != nil || !ok {
		return nil, err
	}
	return t, nil
}

// useToken marks an open token used; false when someone used it first or
// it expired meanwhile. This conditional update makes tokens single-use.
func (st *Store) useToken(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := st.conn(ctx).NewUpdate().Model((*accountToken)(nil)).Set("used_at = ?", now).
		Where("id = ? AND used_at IS NULL AND expires_at > ?", id, now).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("use account token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("use account token: %w", err)
	}
	return n == 1, nil
}

// revokeTokens ends the unused tokens of a purpose for a principal ("" for
// the owner setup token).
func (st *Store) revokeTokens(ctx context.Context, purpose TokenPurpose, principalID string, now time.Time) error {
	if _, err := st.conn(ctx).NewUpdate().Model((*accountToken)(nil)).Set("used_at = ?", now).
		Where("purpose = ? AND principal_id = ? AND used_at IS NULL", purpose, principalID).Exec(ctx); err != nil {
		return fmt.Errorf("revoke account tokens: %w", err)
	}
	return nil
}

// ---- sessions ----

func (st *Store) insertSession(ctx context.Context, s *Session) error {
	if _, err := st.conn(ctx).NewInsert().Model(s).Exec(ctx); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// liveSession returns the unexpired session with the token hash, or nil.
func (st *Store) liveSession(ctx context.Context, tokenHash string, now time.Time) (*Session, error) {
	s := new(Session)
	ok, err := get(st.conn(ctx).NewSelect().Model(s).Where("token_hash = ? AND expires_at > ?", tokenHash, now).Scan(ctx), "session")
	if err != nil || !ok {
		return nil, err
	}
	return s, nil
}

func (st *Store) deleteSession(ctx context.Context, id string) error {
	if _, err := st.conn(ctx).NewDelete().Model((*Session)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// deleteSessionsOf ends every session of a principal except keep.
func (st *Store) deleteSessionsOf(ctx context.Context, kind PrincipalKind, principalID, keep string) error {
	q := st.conn(ctx).NewDelete().Model((*Session)(nil)).Where("principal_kind = ? AND principal_id = ?", kind, principalID)
	if keep != "" {
		q = q.Where("id <> ?", keep)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}

// touchSession records activity at most once per interval.
func (st *Store) touchSession(ctx context.Context, id string, now time.Time, every time.Duration) error {
	if _, err := st.conn(ctx).NewUpdate().Model((*Session)(nil)).Set("last_seen_at = ?", now).
		Where("id = ? AND last_seen_at < ?", id, now.Add(-every)).Exec(ctx); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

func (st *Store) sessionsOf(ctx context.Context, kind PrincipalKind, principalID string) ([]*Session, error) {
	var out []*Session
	if err := st.conn(ctx).NewSelect().Model(&out).Where("principal_kind = ? AND principal_id = ?", kind, principalID).
		OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// ---- API keys ----

var errAPIKeyNotFound = errs.NotFound("API_KEY_NOT_FOUND", "API key not found")

func (st *Store) insertAPIKey(ctx context.Context, k *APIKey) error {
	if _, err := st.conn(ctx).NewInsert().Model(k).Exec(ctx); err != nil {
		return fmt.Errorf("insert API key: %w", err)
	}
	return nil
}

func (st *Store) apiKeyByID(ctx context.Context, id string) (*APIKey, error) {
	k := new(APIKey)
	ok, err := get(st.conn(ctx).NewSelect().Model(k).Where("id = ?", id).Scan(ctx), "API key")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errAPIKeyNotFound
	}
	return k, nil
}

// liveAPIKey returns the unrevoked key with the hash, or nil. A key whose
// staff member is disabled is not live either: disabling revokes their
// keys, and this condition also covers keys that escaped that (made in a
// race with the disable, or traced to a disabled member by migration 0005).
func (st *Store) liveAPIKey(ctx context.Context, tokenHash string) (*APIKey, error) {
	k := new(APIKey)
	ok, err := get(st.conn(ctx).NewSelect().Model(k).Where("token_hash = ? AND revoked_at IS NULL", tokenHash).
		Where("(creator_staff_id IS NULL OR EXISTS (SELECT 1 FROM staff_members s WHERE s.id = ?TableAlias.creator_staff_id AND s.status = ?))", StaffActive).
		Scan(ctx), "API key")
	if err != nil || !ok {
		return nil, err
	}
	return k, nil
}

func (st *Store) listAPIKeys(ctx context.Context, req page.Request) (page.Page[*APIKey], error) {
	var rows []*APIKey
	return keyset(ctx, st.conn(ctx).NewSelect().Model(&rows), &rows, req, func(k *APIKey) string { return k.ID })
}

// revokeAPIKey marks a key revoked; false when it already was.
func (st *Store) revokeAPIKey(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := st.conn(ctx).NewUpdate().Model((*APIKey)(nil)).Set("revoked_at = ?", now).
		Where("id = ? AND revoked_at IS NULL", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("revoke API key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("revoke API key: %w", err)
	}
	return n == 1, nil
}

// revokeAPIKeysOf revokes the live keys that answer to a staff member and
// returns them.
func (st *Store) revokeAPIKeysOf(ctx context.Context, staffID string, now time.Time) ([]*APIKey, error) {
	var keys []*APIKey
	if err := st.conn(ctx).NewSelect().Model(&keys).Where("creator_staff_id = ? AND revoked_at IS NULL", staffID).
		OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list API keys of %s: %w", staffID, err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i], k.RevokedAt = k.ID, &now
	}
	if _, err := st.conn(ctx).NewUpdate().Model((*APIKey)(nil)).Set("revoked_at = ?", now).
		Where("id IN (?) AND revoked_at IS NULL", bun.In(ids)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("revoke API keys of %s: %w", staffID, err)
	}
	return keys, nil
}

// touchAPIKey records use at most once per interval, so a busy integration
// does not write on every request.
func (st *Store) touchAPIKey(ctx context.Context, id string, now time.Time, every time.Duration) error {
	if _, err := st.conn(ctx).NewUpdate().Model((*APIKey)(nil)).Set("last_used_at = ?", now).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, now.Add(-every)).Exec(ctx); err != nil {
		return fmt.Errorf("touch API key: %w", err)
	}
	return nil
}

// ---- throttle ----

func (st *Store) throttleRows(ctx context.Context, keys []string) ([]throttleRow, error) {
	var out []throttleRow
	if err := st.conn(ctx).NewSelect().Model(&out).Where("key IN (?)", bun.In(keys)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read throttle: %w", err)
	}
	return out, nil
}

// recordFailure adds one failure to key, restarting the count when the
// last failure is older than window, and returns the new count.
func (st *Store) recordFailure(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	row := &throttleRow{Key: key, Failures: 1, LastFailureAt: now}
	var failures int
	err := st.conn(ctx).NewInsert().Model(row).
		On("CONFLICT (key) DO UPDATE").
		Set("failures = CASE WHEN ?TableAlias.last_failure_at < ? THEN 1 ELSE ?TableAlias.failures + 1 END", now.Add(-window)).
		Set("last_failure_at = EXCLUDED.last_failure_at").
		Returning("failures").Scan(ctx, &failures)
	if err != nil {
		return 0, fmt.Errorf("record failed sign-in: %w", err)
	}
	return failures, nil
}

func (st *Store) blockUntil(ctx context.Context, key string, until time.Time) error {
	if _, err := st.conn(ctx).NewUpdate().Model((*throttleRow)(nil)).Set("blocked_until = ?", until).Where("key = ?", key).Exec(ctx); err != nil {
		return fmt.Errorf("block sign-in: %w", err)
	}
	return nil
}

func (st *Store) clearThrottle(ctx context.Context, key string) error {
	if _, err := st.conn(ctx).NewDelete().Model((*throttleRow)(nil)).Where("key = ?", key).Exec(ctx); err != nil {
		return fmt.Errorf("clear throttle: %w", err)
	}
	return nil
}
