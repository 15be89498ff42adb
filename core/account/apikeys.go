package account

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/kit/page"
)

// CreateAPIKey makes an API key bound to role and returns the key itself,
// which is shown this once. Needs apikey:write, and the caller can only
// bind a role whose permissions it holds in full: a session no role above
// its own, a key no role above the key's. The new key answers to the
// staff member behind the caller (see APIKey.CreatorStaffID), so it is
// revoked with their other keys when they are disabled.
func (s *Service) CreateAPIKey(ctx context.Context, name, role string) (*APIKey, string, error) {
	if err := s.roles.Can(ctx, authz.APIKey, authz.Write); err != nil {
		return nil, "", err
	}
	name = strings.TrimSpace(name)
	var v errs.Validator
	v.Check(name != "" && utf8.RuneCountInString(name) <= maxText, "name", CodeInvalidName,
		fmt.Sprintf("a key name is 1 to %d characters", maxText))
	if err := s.roles.ValidateStaffRoles(ctx, "role", []string{role}); err != nil {
		for _, e := range errs.All(err) {
			e.Field = []string{"role"}
			v.Add(e)
		}
		if errs.All(err) == nil {
			return nil, "", err
		}
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	creator, err := s.creatorStaff(ctx)
	if err != nil {
		return nil, "", err
	}
	token := newToken(APIKeyPrefix)
	k := &APIKey{ID: id.New("key"), Name: name, TokenHash: hashToken(token), Hint: tokenHint(token),
		CreatedBy: authz.SubjectFrom(ctx).ID, CreatorStaffID: creator, CreatedAt: s.now(), Role: role}
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		if creator != nil {
			// Disabling the member revokes their keys; a key made while
			// that runs must not escape it.
			ok, err := s.st.holdActiveStaff(ctx, *creator)
			if err != nil {
				return err
			}
			if !ok {
				return errCreatorDisabled
			}
		}
		if err := s.st.insertAPIKey(ctx, k); err != nil {
			return err
		}
		if err := s.roles.SetPrincipalRoles(ctx, k.ID, []string{role}); err != nil {
			return err
		}
		return s.emit(ctx, SubjectAPIKeyCreated, APIKeyEvent{APIKeyID: k.ID, Role: role})
	})
	if err != nil {
		return nil, "", err
	}
	s.log.InfoContext(ctx, "API key created", "api_key", k.ID, "role", role, "by", k.CreatedBy)
	if err := s.withCreators(ctx, []*APIKey{k}); err != nil {
		return nil, "", err
	}
	return k, token, nil
}

// revokeKey revokes a live key in the transaction of ctx: its row, its
// role, the open invitations it sent, and the event; false when it was
// revoked already.
func (s *Service) revokeKey(ctx context.Context, keyID string, now time.Time) (bool, error) {
	ok, err := s.st.revokeAPIKey(ctx, keyID, now)
	if err != nil || !ok {
		return false, err
	}
	if err := s.roles.SetPrincipalRoles(ctx, keyID, nil); err != nil {
		return false, err
	}
	if _, err := s.st.revokeInvitationsBy(ctx, keyID, now); err != nil {
		return false, err
	}
	return true, s.emit(ctx, SubjectAPIKeyRevoked, APIKeyEvent{APIKeyID: keyID})
}

// creatorStaff returns the staff member a key made by the caller answers
// to: a signed-in staff member themselves, a key's own staff member, and
// nil for the system and for keys that answer to nobody.
func (s *Service) creatorStaff(ctx context.Context) (*string, error) {
	sub := authz.SubjectFrom(ctx)
	switch sub.Kind {
	case authz.KindStaff:
		return &sub.ID, nil
	case authz.KindAPIKey:
		parent, err := s.st.apiKeyByID(ctx, sub.ID)
		if err != nil {
			return nil, fmt.Errorf("API key of the caller: %w", err)
		}
		return parent.CreatorStaffID, nil
	}
	return nil, nil
}

// withCreators fills the Creator of keys with their staff member, in one
// query, where the caller may read that member (staff:read, or
// staff:read:own for one's own keys); the others stay nil.
func (s *Service) withCreators(ctx context.Context, keys []*APIKey) error {
	var ids []string
	for _, k := range keys {
		if k.CreatorStaffID != nil && authz.CanOwn(ctx, s.roles, authz.Staff, authz.Read, *k.CreatorStaffID) == nil {
			ids = append(ids, *k.CreatorStaffID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	staff, err := s.st.staffByIDs(ctx, ids)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.CreatorStaffID != nil {
			if m := staff[*k.CreatorStaffID]; m != nil {
				k.Creator = s.withRoles(m)
			}
		}
	}
	return nil
}

func (s *Service) keyRole(k *APIKey) *APIKey {
	if roles := s.roles.RolesOf(k.ID, authz.DefaultStore); len(roles) > 0 {
		k.Role = roles[0]
	}
	return k
}

// APIKeys pages through the API keys, revoked ones included, newest
// first. Needs apikey:read.
func (s *Service) APIKeys(ctx context.Context, req page.Request) (page.Page[*APIKey], error) {
	if err := s.roles.Can(ctx, authz.APIKey, authz.Read); err != nil {
		return page.Page[*APIKey]{}, err
	}
	p, err := s.st.listAPIKeys(ctx, req)
	if err != nil {
		return p, err
	}
	for _, k := range p.Items {
		s.keyRole(k)
	}
	if err := s.withCreators(ctx, p.Items); err != nil {
		return page.Page[*APIKey]{}, err
	}
	return p, nil
}

// RevokeAPIKey ends an API key at once. Needs apikey:write and the right
// to give the key's role (see mayActOn): a developer does not switch off
// the owner's integrations.
func (s *Service) RevokeAPIKey(ctx context.Context, keyID string) (*APIKey, error) {
	if err := s.roles.Can(ctx, authz.APIKey, authz.Write); err != nil {
		return nil, err
	}
	k, err := s.st.apiKeyByID(ctx, keyID)
	if err != nil {
		return nil, err
	}
	s.keyRole(k)
	if k.Role != "" {
		if err := s.mayActOn(ctx, "id", []string{k.Role}, "revoke this key"); err != nil {
			return nil, err
		}
	}
	now := s.now()
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		ok, err := s.revokeKey(ctx, k.ID, now)
		if err == nil && !ok {
			return errs.Conflict("id", CodeAPIKeyRevoked, "the key was already revoked")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	k.RevokedAt = &now
	s.log.InfoContext(ctx, "API key revoked", "api_key", k.ID, "by", authz.SubjectFrom(ctx).ID)
	if err := s.withCreators(ctx, []*APIKey{k}); err != nil {
		return nil, err
	}
	return k, nil
}
