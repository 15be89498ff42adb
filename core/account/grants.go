package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
)

// What a staff member hands out (API keys, invitations) never grants more
// than they may give now: a member demoted from owner to support must not
// keep an owner's key, nor an open invitation as owner, as a way back.
// Their role change revokes what they can no longer give (trimGrants),
// and a key's request and an invitation's acceptance check it again
// (keyWithinMember, inviterGives), for the changes of a role's
// permissions that touch no member.

// givesAll reports whether a holder of roles may give every role of
// wanted.
func (s *Service) givesAll(roles, wanted []string) bool {
	for _, r := range wanted {
		if !s.roles.Gives(roles, authz.DefaultStore, r) {
			return false
		}
	}
	return true
}

// trimGrants revokes, in the transaction of ctx, the live API keys that
// answer to staffID and whose role roles (the member's roles from now on)
// do not give, and the open invitations they or their keys sent that
// name such a role.
func (s *Service) trimGrants(ctx context.Context, staffID string, roles []string, now time.Time) error {
	keys, err := s.st.liveAPIKeysOf(ctx, staffID)
	if err != nil {
		return err
	}
	var revoked []string
	for _, k := range keys {
		s.keyRole(k)
		if k.Role == "" || s.givesAll(roles, []string{k.Role}) {
			continue
		}
		ok, err := s.revokeKey(ctx, k.ID, now)
		if err != nil {
			return err
		}
		if ok {
			revoked = append(revoked, k.ID)
		}
	}
	invs, err := s.st.openInvitationsBy(ctx, staffID)
	if err != nil {
		return err
	}
	var withdrawn []string
	for _, inv := range invs {
		if s.givesAll(roles, inv.Roles()) {
			continue
		}
		if _, err := s.st.closeInvitation(ctx, inv.ID, "revoked_at", now); err != nil {
			return err
		}
		withdrawn = append(withdrawn, inv.ID)
	}
	if len(revoked) > 0 || len(withdrawn) > 0 {
		s.log.InfoContext(ctx, "access a staff member can no longer give revoked", "staff", staffID,
			"api_keys", revoked, "invitations", withdrawn)
	}
	return nil
}

// keyWithinMember reports whether the key's roles are all the staff
// member it answers to may give now. A key that answers to nobody (made by
// the system) is within.
func (s *Service) keyWithinMember(k *APIKey, keyRoles []string) bool {
	if k.CreatorStaffID == nil {
		return true
	}
	return s.givesAll(s.roles.RolesOf(*k.CreatorStaffID, authz.DefaultStore), keyRoles)
}

// inviterGives reports whether whoever sent inv may still give every role
// it names: an active staff member holding them, directly or through a
// live API key that answers to them. Invitations of the system (the
// command line) pass.
func (s *Service) inviterGives(ctx context.Context, inv *Invitation) (bool, error) {
	memberID := inv.InvitedBy
	switch {
	case strings.HasPrefix(inv.InvitedBy, "key_"):
		k, err := s.st.apiKeyByID(ctx, inv.InvitedBy)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			return false, nil
		case err != nil:
			return false, err
		case k.RevokedAt != nil:
			return false, nil
		case k.CreatorStaffID == nil:
			return s.givesAll(s.roles.RolesOf(k.ID, authz.DefaultStore), inv.Roles()), nil
		}
		memberID = *k.CreatorStaffID
	case !strings.HasPrefix(inv.InvitedBy, "stf_"):
		return true, nil
	}
	m, err := s.st.staffByID(ctx, memberID)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("inviter of %s: %w", inv.ID, err)
	case m.Status != StaffActive:
		return false, nil
	}
	return s.givesAll(s.roles.RolesOf(memberID, authz.DefaultStore), inv.Roles()), nil
}

// OpenInvitationsNaming counts the open staff invitations that give role:
// a role they name is in use (authz.Enforcer.OnRoleNamed), so that it is
// not deleted and made again with other permissions under their feet.
func (s *Service) OpenInvitationsNaming(ctx context.Context, storeID, role string) (int, error) {
	if storeID != "" && storeID != authz.DefaultStore {
		return 0, nil
	}
	csvs, err := s.st.openInvitationRoles(ctx, s.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range csvs {
		if slices.Contains(strings.Split(c, ","), role) {
			n++
		}
	}
	return n, nil
}
