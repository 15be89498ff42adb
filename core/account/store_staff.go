package account

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store"
)

// The staff's queries: members and their invitations.

func (st *accountStore) insertStaff(ctx context.Context, m *StaffMember) error {
	if _, err := st.conn(ctx).NewInsert().Model(m).Exec(ctx); err != nil {
		if store.IsUniqueViolation(err) {
			return errStaffExists
		}
		return fmt.Errorf("insert staff member: %w", err)
	}
	return nil
}

func (st *accountStore) staffByID(ctx context.Context, id string) (*StaffMember, error) {
	m := new(StaffMember)
	if err := one(st.conn(ctx).NewSelect().Model(m).Where("id = ?", id).Scan(ctx), "staff member", errStaffNotFound); err != nil {
		return nil, err
	}
	return m, nil
}

// staffByEmail returns errs.ErrNotFound when nobody on the staff has
// email.
func (st *accountStore) staffByEmail(ctx context.Context, email string) (*StaffMember, error) {
	m := new(StaffMember)
	if err := one(st.conn(ctx).NewSelect().Model(m).Where("email = ?", email).Scan(ctx), "staff member", errStaffNotFound); err != nil {
		return nil, err
	}
	return m, nil
}

func (st *accountStore) updateStaff(ctx context.Context, m *StaffMember, cols ...string) error {
	if _, err := st.conn(ctx).NewUpdate().Model(m).Column(cols...).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update staff member: %w", err)
	}
	return nil
}

func (st *accountStore) listStaff(ctx context.Context, req page.Request) (page.Page[*StaffMember], error) {
	var rows []*StaffMember
	return keyset(ctx, st.conn(ctx).NewSelect().Model(&rows), &rows, req, func(m *StaffMember) string { return m.ID })
}

// staffByIDs returns the staff members with the given ids, by id.
func (st *accountStore) staffByIDs(ctx context.Context, ids []string) (map[string]*StaffMember, error) {
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
func (st *accountStore) holdActiveStaff(ctx context.Context, id string) (bool, error) {
	res, err := st.conn(ctx).NewUpdate().Model((*StaffMember)(nil)).Set("status = status").
		Where("id = ? AND status = ?", id, StaffActive).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("hold staff member %s: %w", id, err)
	}
	return affected(res, "hold staff member "+id)
}

// activeStaff returns which of ids are active staff members.
func (st *accountStore) activeStaff(ctx context.Context, ids []string) ([]string, error) {
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

func (st *accountStore) insertInvitation(ctx context.Context, inv *Invitation) error {
	if _, err := st.conn(ctx).NewInsert().Model(inv).Exec(ctx); err != nil {
		return fmt.Errorf("insert invitation: %w", err)
	}
	return nil
}

func (st *accountStore) invitationByID(ctx context.Context, id string) (*Invitation, error) {
	inv := new(Invitation)
	if err := one(st.conn(ctx).NewSelect().Model(inv).Where("id = ?", id).Scan(ctx), "invitation", errInvitationNotFound); err != nil {
		return nil, err
	}
	return inv, nil
}

// openInvitation returns the unused, unexpired invitation with the token
// hash; errs.ErrNotFound when there is none.
func (st *accountStore) openInvitation(ctx context.Context, tokenHash string, now time.Time) (*Invitation, error) {
	inv := new(Invitation)
	if err := one(st.conn(ctx).NewSelect().Model(inv).
		Where("token_hash = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", tokenHash, now).Scan(ctx),
		"invitation", errInvitationNotFound); err != nil {
		return nil, err
	}
	return inv, nil
}

// closeInvitation marks an open invitation accepted or revoked (column);
// false when it was no longer open.
func (st *accountStore) closeInvitation(ctx context.Context, id, column string, now time.Time) (bool, error) {
	res, err := st.conn(ctx).NewUpdate().Model((*Invitation)(nil)).Set("? = ?", bun.Ident(column), now).
		Where("id = ? AND accepted_at IS NULL AND revoked_at IS NULL", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("close invitation: %w", err)
	}
	return affected(res, "close invitation")
}

// revokeInvitationsBy revokes the open invitations a staff member sent
// and returns how many.
func (st *accountStore) revokeInvitationsBy(ctx context.Context, staffID string, now time.Time) (int64, error) {
	res, err := st.conn(ctx).NewUpdate().Model((*Invitation)(nil)).Set("revoked_at = ?", now).
		Where("accepted_at IS NULL AND revoked_at IS NULL").
		Where("(invited_by = ? OR invited_by IN (SELECT k.id FROM api_keys k WHERE k.creator_staff_id = ?))", staffID, staffID).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("revoke invitations of %s: %w", staffID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("revoke invitations of %s: %w", staffID, err)
	}
	return n, nil
}

// openInvitationsBy returns the open invitations sent by a staff member
// or by the API keys that answer to them.
func (st *accountStore) openInvitationsBy(ctx context.Context, staffID string) ([]*Invitation, error) {
	var out []*Invitation
	if err := st.conn(ctx).NewSelect().Model(&out).
		Where("accepted_at IS NULL AND revoked_at IS NULL").
		Where("(invited_by = ? OR invited_by IN (SELECT k.id FROM api_keys k WHERE k.creator_staff_id = ?))", staffID, staffID).
		OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("invitations of %s: %w", staffID, err)
	}
	return out, nil
}

// openInvitationRoles returns the roles (comma-separated) of every open,
// unexpired invitation.
func (st *accountStore) openInvitationRoles(ctx context.Context, now time.Time) ([]string, error) {
	var out []string
	if err := st.conn(ctx).NewSelect().Model((*Invitation)(nil)).Column("roles").
		Where("accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", now).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("roles of open invitations: %w", err)
	}
	return out, nil
}

func (st *accountStore) pendingInvitations(ctx context.Context, now time.Time) ([]*Invitation, error) {
	var out []*Invitation
	if err := st.conn(ctx).NewSelect().Model(&out).
		Where("accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", now).OrderExpr("id DESC").Limit(page.MaxFirst).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return out, nil
}
