package account

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/kit/page"
)

// Limits of groups and tags.
const (
	maxTagLength  = 64
	maxTagsPerOp  = 50
	maxIDsPerOp   = 100
	maxGroupName  = 100
	maxGroupNotes = 1000
)

// normalizeTag lower-cases and trims a tag, so "VIP" and "vip " are one.
func normalizeTag(t string) string { return strings.ToLower(strings.TrimSpace(t)) }

func normalizeTags(field string, tags []string) ([]string, error) {
	if len(tags) > maxTagsPerOp {
		return nil, errs.Invalid(field, CodeTooManyTags, fmt.Sprintf("at most %d tags at once", maxTagsPerOp))
	}
	out := make([]string, 0, len(tags))
	for i, t := range tags {
		n := normalizeTag(t)
		if n == "" || utf8.RuneCountInString(n) > maxTagLength {
			return nil, errs.Invalid(fmt.Sprintf("%s.%d", field, i), CodeInvalidTag, fmt.Sprintf("a tag is 1 to %d characters", maxTagLength))
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Tags returns a buyer's tags. Staff only: needs customer:read.
func (s *Service) Tags(ctx context.Context, customerID string) ([]string, error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Read); err != nil {
		return nil, err
	}
	return s.st.tagsOf(ctx, customerID)
}

// TagsByCustomerIDs returns the tags of the given buyers, by customer id,
// sorted, with one query for any number of buyers. Staff only, like Tags:
// needs customer:read. A buyer without tags is missing from the map.
func (s *Service) TagsByCustomerIDs(ctx context.Context, customerIDs []string) (map[string][]string, error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Read); err != nil {
		return nil, err
	}
	return s.st.tagsByCustomerIDs(ctx, customerIDs)
}

// AddTags tags a buyer. Needs customer:write.
func (s *Service) AddTags(ctx context.Context, customerID string, tags []string) (*Customer, error) {
	return s.changeTags(ctx, customerID, tags, s.st.addTags)
}

// RemoveTags removes tags from a buyer. Needs customer:write.
func (s *Service) RemoveTags(ctx context.Context, customerID string, tags []string) (*Customer, error) {
	return s.changeTags(ctx, customerID, tags, s.st.removeTags)
}

func (s *Service) changeTags(ctx context.Context, customerID string, tags []string, op func(context.Context, string, []string) error) (*Customer, error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Write); err != nil {
		return nil, err
	}
	norm, err := normalizeTags("tags", tags)
	if err != nil {
		return nil, err
	}
	c, err := s.st.customerByID(ctx, customerID)
	if err != nil {
		return nil, err
	}
	if err := s.db.RunInTx(ctx, func(ctx context.Context) error { return op(ctx, c.ID, norm) }); err != nil {
		return nil, err
	}
	return c, nil
}

// GroupInput creates or changes a customer group.
type GroupInput struct {
	Name        *string
	Description *string
}

func (in GroupInput) apply(v *errs.Validator, g *Group) {
	if in.Name != nil {
		g.Name = strings.TrimSpace(*in.Name)
	}
	if in.Description != nil {
		g.Description = strings.TrimSpace(*in.Description)
	}
	v.Check(g.Name != "" && utf8.RuneCountInString(g.Name) <= maxGroupName, "name", CodeInvalidName,
		fmt.Sprintf("a group name is 1 to %d characters", maxGroupName))
	v.Check(utf8.RuneCountInString(g.Description) <= maxGroupNotes, "description", CodeTooLong,
		fmt.Sprintf("use at most %d characters", maxGroupNotes))
}

// CreateGroup makes a customer group. Needs customer:write.
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (*Group, error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Write); err != nil {
		return nil, err
	}
	now := s.now()
	g := &Group{ID: id.New("cgr"), CreatedAt: now, UpdatedAt: now}
	var v errs.Validator
	in.apply(&v, g)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.db.RunInTx(ctx, func(ctx context.Context) error { return s.st.insertGroup(ctx, g) }); err != nil {
		return nil, err
	}
	return g, nil
}

// UpdateGroup changes a customer group. Needs customer:write.
func (s *Service) UpdateGroup(ctx context.Context, groupID string, in GroupInput) (*Group, error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Write); err != nil {
		return nil, err
	}
	g, err := s.st.groupByID(ctx, groupID)
	if err != nil {
		return nil, err
	}
	var v errs.Validator
	in.apply(&v, g)
	if err := v.Err(); err != nil {
		return nil, err
	}
	g.UpdatedAt = s.now()
	if err := s.db.RunInTx(ctx, func(ctx context.Context) error { return s.st.updateGroup(ctx, g) }); err != nil {
		return nil, err
	}
	return g, nil
}

// DeleteGroup deletes a customer group; its members stay. Needs
// customer:write.
func (s *Service) DeleteGroup(ctx context.Context, groupID string) error {
	if err := s.roles.Can(ctx, authz.Customer, authz.Write); err != nil {
		return err
	}
	if _, err := s.st.groupByID(ctx, groupID); err != nil {
		return err
	}
	return s.db.RunInTx(ctx, func(ctx context.Context) error { return s.st.deleteGroup(ctx, groupID) })
}

// Group returns a customer group. Needs customer:read.
func (s *Service) Group(ctx context.Context, groupID string) (*Group, error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Read); err != nil {
		return nil, err
	}
	return s.st.groupByID(ctx, groupID)
}

// Groups pages through the customer groups, newest first. Needs
// customer:read.
func (s *Service) Groups(ctx context.Context, req page.Request) (page.Page[*Group], error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Read); err != nil {
		return page.Page[*Group]{}, err
	}
	return s.st.listGroups(ctx, req)
}

// GroupsOf returns the groups a buyer belongs to. Staff only: needs
// customer:read.
func (s *Service) GroupsOf(ctx context.Context, customerID string) ([]*Group, error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Read); err != nil {
		return nil, err
	}
	return s.st.groupsOf(ctx, customerID)
}

// GroupsByCustomerIDs returns the groups of the given buyers, by customer
// id, by name, with one query for any number of buyers. Staff only, like
// GroupsOf: needs customer:read. A buyer in no group is missing from the
// map.
func (s *Service) GroupsByCustomerIDs(ctx context.Context, customerIDs []string) (map[string][]*Group, error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Read); err != nil {
		return nil, err
	}
	return s.st.groupsByCustomerIDs(ctx, customerIDs)
}

// GroupSize counts a group's members. Needs customer:read.
func (s *Service) GroupSize(ctx context.Context, groupID string) (int, error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Read); err != nil {
		return 0, err
	}
	return s.st.countMembers(ctx, groupID)
}

// GroupSizes counts the members of several groups at once (by group id;
// 0 for a group without members). Needs customer:read.
func (s *Service) GroupSizes(ctx context.Context, groupIDs []string) (map[string]int, error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Read); err != nil {
		return nil, err
	}
	return s.st.countMembersOf(ctx, groupIDs)
}

// AddToGroup adds buyers to a group. Needs customer:write.
func (s *Service) AddToGroup(ctx context.Context, groupID string, customerIDs []string) (*Group, error) {
	return s.changeMembers(ctx, groupID, customerIDs, true)
}

// RemoveFromGroup removes buyers from a group. Needs customer:write.
func (s *Service) RemoveFromGroup(ctx context.Context, groupID string, customerIDs []string) (*Group, error) {
	return s.changeMembers(ctx, groupID, customerIDs, false)
}

func (s *Service) changeMembers(ctx context.Context, groupID string, customerIDs []string, add bool) (*Group, error) {
	if err := s.roles.Can(ctx, authz.Customer, authz.Write); err != nil {
		return nil, err
	}
	if len(customerIDs) == 0 || len(customerIDs) > maxIDsPerOp {
		return nil, errs.Invalid("customerIds", CodeInvalidCount, fmt.Sprintf("give 1 to %d customers", maxIDsPerOp))
	}
	ids := slices.Compact(slices.Sorted(slices.Values(customerIDs)))
	g, err := s.st.groupByID(ctx, groupID)
	if err != nil {
		return nil, err
	}
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		if add {
			return s.st.addMembers(ctx, g.ID, ids, s.now())
		}
		return s.st.removeMembers(ctx, g.ID, ids)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// CanReadCustomers returns nil when the caller may read every buyer: the
// check of staff-only fields such as the internal note.
func (s *Service) CanReadCustomers(ctx context.Context) error {
	return s.roles.Can(ctx, authz.Customer, authz.Read)
}
