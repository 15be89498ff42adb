package account

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store"
)

// The queries of customer groups, their members, and buyers' tags.

func (st *accountStore) insertGroup(ctx context.Context, g *Group) error {
	if _, err := st.conn(ctx).NewInsert().Model(g).Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return errGroupNameTaken
		}
		return fmt.Errorf("insert group: %w", err)
	}
	return nil
}

func (st *accountStore) groupByID(ctx context.Context, id string) (*Group, error) {
	g := new(Group)
	if err := one(st.conn(ctx).NewSelect().Model(g).Where("id = ?", id).Scan(ctx), "group", errGroupNotFound); err != nil {
		return nil, err
	}
	return g, nil
}

func (st *accountStore) updateGroup(ctx context.Context, g *Group) error {
	if _, err := st.conn(ctx).NewUpdate().Model(g).WherePK().Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return errGroupNameTaken
		}
		return fmt.Errorf("update group: %w", err)
	}
	return nil
}

func (st *accountStore) deleteGroup(ctx context.Context, id string) error {
	if _, err := st.conn(ctx).NewDelete().Model((*groupMember)(nil)).Where("group_id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete group members: %w", err)
	}
	if _, err := st.conn(ctx).NewDelete().Model((*Group)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	return nil
}

func (st *accountStore) listGroups(ctx context.Context, req page.Request) (page.Page[*Group], error) {
	var rows []*Group
	return keyset(ctx, st.conn(ctx).NewSelect().Model(&rows), &rows, req, func(g *Group) string { return g.ID })
}

func (st *accountStore) groupsOf(ctx context.Context, customerID string) ([]*Group, error) {
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
func (st *accountStore) groupsByCustomerIDs(ctx context.Context, customerIDs []string) (map[string][]*Group, error) {
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

func (st *accountStore) addMembers(ctx context.Context, groupID string, customerIDs []string, now time.Time) error {
	if len(customerIDs) == 0 {
		return nil
	}
	rows := make([]groupMember, len(customerIDs))
	for i, id := range customerIDs {
		rows[i] = groupMember{GroupID: groupID, CustomerID: id, CreatedAt: now}
	}
	if _, err := st.conn(ctx).NewInsert().Model(&rows).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		if store.IsForeignKeyViolation(err) {
			return errMemberNotFound
		}
		return fmt.Errorf("add group members: %w", err)
	}
	return nil
}

func (st *accountStore) removeMembers(ctx context.Context, groupID string, customerIDs []string) error {
	if len(customerIDs) == 0 {
		return nil
	}
	if _, err := st.conn(ctx).NewDelete().Model((*groupMember)(nil)).
		Where("group_id = ? AND customer_id IN (?)", groupID, bun.In(customerIDs)).Exec(ctx); err != nil {
		return fmt.Errorf("remove group members: %w", err)
	}
	return nil
}

func (st *accountStore) countMembers(ctx context.Context, groupID string) (int, error) {
	n, err := st.conn(ctx).NewSelect().Model((*groupMember)(nil)).Where("group_id = ?", groupID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count group members: %w", err)
	}
	return int(n), nil
}

// countMembersOf counts the members of each group in one query; groups
// without members are absent.
func (st *accountStore) countMembersOf(ctx context.Context, groupIDs []string) (map[string]int, error) {
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

func (st *accountStore) tagsOf(ctx context.Context, customerID string) ([]string, error) {
	var out []string
	if err := st.conn(ctx).NewSelect().Model((*customerTag)(nil)).Column("tag").
		Where("customer_id = ?", customerID).OrderExpr("tag").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return out, nil
}

// tagsByCustomerIDs returns the tags of the given buyers, by customer id,
// sorted, with one query.
func (st *accountStore) tagsByCustomerIDs(ctx context.Context, customerIDs []string) (map[string][]string, error) {
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

func (st *accountStore) addTags(ctx context.Context, customerID string, tags []string) error {
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

func (st *accountStore) removeTags(ctx context.Context, customerID string, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	if _, err := st.conn(ctx).NewDelete().Model((*customerTag)(nil)).
		Where("customer_id = ? AND tag IN (?)", customerID, bun.In(tags)).Exec(ctx); err != nil {
		return fmt.Errorf("remove tags: %w", err)
	}
	return nil
}
