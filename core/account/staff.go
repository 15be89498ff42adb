package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/kit/page"
)

func checkName(v *errs.Validator, name string) {
	v.Check(utf8.RuneCountInString(name) <= maxText, "name", CodeTooLong, fmt.Sprintf("use at most %d characters", maxText))
}

func (s *Service) withRoles(m *StaffMember) *StaffMember {
	m.Roles = s.roles.RolesOf(m.ID, authz.DefaultStore)
	return m
}

// activeOwners returns the ids of the active staff members holding the
// owner role.
func (s *Service) activeOwners(ctx context.Context) ([]string, error) {
	return s.st.activeStaff(ctx, s.roles.PrincipalsWithRole(authz.RoleOwner, authz.DefaultStore))
}

// OwnerSetupNeeded reports whether the shop has no active owner yet, so
// the first `kassa serve` should offer a setup token.
func (s *Service) OwnerSetupNeeded(ctx context.Context) (bool, error) {
	owners, err := s.activeOwners(ctx)
	if err != nil {
		return false, err
	}
	return len(owners) == 0, nil
}

// IssueOwnerSetupToken returns a new one-time token that makes its holder
// the first owner (GraphQL staffSetupOwner), or "" when the shop already
// has an owner. Earlier setup tokens stop working. It runs as the system
// and is meant for `kassa serve` to print at start-up.
func (s *Service) IssueOwnerSetupToken(ctx context.Context) (string, error) {
	need, err := s.OwnerSetupNeeded(ctx)
	if err != nil || !need {
		return "", err
	}
	token, _, err := s.issueToken(ctx, PurposeOwnerSetup, "", s.opts.SetupTokenTTL)
	if err != nil {
		return "", err
	}
	return token, nil
}

// NewStaff is a staff account to create.
type NewStaff struct {
	Email    string
	Name     string
	Password string
}

func (s *Service) newStaff(ctx context.Context, in NewStaff) (*StaffMember, error) {
	var v errs.Validator
	email, err := normalizeEmail("email", in.Email)
	v.Add(asError(err))
	checkName(&v, in.Name)
	if err == nil {
		v.Add(asError(CheckPassword("password", in.Password, email)))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return &StaffMember{ID: id.New("stf"), Email: email, Name: strings.TrimSpace(in.Name), PasswordHash: &hash,
		Status: StaffActive, CreatedAt: now, UpdatedAt: now}, nil
}

// CreateOwner creates an owner directly. It is the `kassa user
// create-owner` command's: it needs staff:write, which the system subject
// of the command line holds; it also works when owners exist (a way back
// in for a shop that lost its owner's password).
func (s *Service) CreateOwner(ctx context.Context, in NewStaff) (*StaffMember, error) {
	if err := s.roles.Can(ctx, authz.Staff, authz.Write); err != nil {
		return nil, err
	}
	m, err := s.newStaff(ctx, in)
	if err != nil {
		return nil, err
	}
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		if err := s.insertStaffWithRoles(ctx, m, []string{authz.RoleOwner}); err != nil {
			return err
		}
		// A setup token a running server printed must not make a second
		// owner once the shop has one.
		return s.st.revokeTokens(ctx, PurposeOwnerSetup, "", s.now())
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Service) insertStaffWithRoles(ctx context.Context, m *StaffMember, roles []string) error {
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		if err := s.st.insertStaff(ctx, m); err != nil {
			return err
		}
		if err := s.roles.SetPrincipalRoles(ctx, m.ID, roles); err != nil {
			return err
		}
		return s.emit(ctx, SubjectStaffJoined, StaffEvent{StaffID: m.ID, Roles: roles})
	})
	if err != nil {
		return err
	}
	m.Roles = slices.Clone(roles)
	s.log.InfoContext(ctx, "staff member created", "staff", m.ID, "roles", roles)
	return nil
}

// SetupOwner redeems the owner setup token: it creates the first owner and
// signs them in. Open to everyone; the token is the credential.
func (s *Service) SetupOwner(ctx context.Context, token string, in NewStaff) (*StaffMember, *NewSession, error) {
	now := s.now()
	t, err := s.openToken(ctx, PurposeOwnerSetup, token, now)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.newStaff(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	sys := authz.WithSubject(ctx, authz.SystemSubject("owner-setup"))
	err = s.db.RunInTx(sys, func(ctx context.Context) error {
		ok, err := s.st.useToken(ctx, t.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return invalidToken("token")
		}
		owners, err := s.activeOwners(ctx)
		if err != nil {
			return err
		}
		if len(owners) > 0 {
			return errs.Conflict("token", CodeOwnerExists, "the shop already has an owner")
		}
		return s.insertStaffWithRoles(ctx, m, []string{authz.RoleOwner})
	})
	if err != nil {
		return nil, nil, err
	}
	sess, err := s.startSession(ctx, PrincipalStaff, m.ID)
	if err != nil {
		return nil, nil, err
	}
	return m, sess, nil
}

// Invitation roles are stored comma-separated.
func (inv *Invitation) Roles() []string {
	if inv.RolesCSV == "" {
		return nil
	}
	return strings.Split(inv.RolesCSV, ",")
}

// Invite asks someone by email to join the staff with roles. The token
// goes out with kassa.staff.invited (and the token sink). Needs
// staff:write, and the caller can only give roles whose permissions it
// holds.
func (s *Service) Invite(ctx context.Context, email, name string, roles []string) (*Invitation, error) {
	if err := s.roles.Can(ctx, authz.Staff, authz.Write); err != nil {
		return nil, err
	}
	var v errs.Validator
	e, err := normalizeEmail("email", email)
	v.Add(asError(err))
	checkName(&v, name)
	roles = slices.Compact(slices.Sorted(slices.Values(roles)))
	v.Add(asError(s.roles.ValidateStaffRoles(ctx, "roles", roles)))
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch _, err := s.st.staffByEmail(ctx, e); {
	case err == nil:
		return nil, errStaffExists
	case !errors.Is(err, errs.ErrNotFound):
		return nil, err
	}
	now := s.now()
	token := newToken(accountTokenPrefix)
	inv := &Invitation{ID: id.New("inv"), Email: e, Name: strings.TrimSpace(name), RolesCSV: strings.Join(roles, ","),
		TokenHash: hashToken(token), InvitedBy: authz.SubjectFrom(ctx).ID, CreatedAt: now, ExpiresAt: now.Add(s.opts.InvitationTTL)}
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		if err := s.st.insertInvitation(ctx, inv); err != nil {
			return err
		}
		return s.handOn(ctx, SubjectStaffInvited, TokenStaffInvitation, TokenEvent{InvitationID: inv.ID, Email: inv.Email, Name: inv.Name,
			Roles: roles, Token: token, ExpiresAt: inv.ExpiresAt})
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "staff invited", "invitation", inv.ID, "roles", roles, "by", inv.InvitedBy)
	return inv, nil
}

// Invitations lists the open invitations. Needs staff:read.
func (s *Service) Invitations(ctx context.Context) ([]*Invitation, error) {
	if err := s.roles.Can(ctx, authz.Staff, authz.Read); err != nil {
		return nil, err
	}
	return s.st.pendingInvitations(ctx, s.now())
}

// RevokeInvitation withdraws an open invitation. Needs staff:write and,
// like every change to someone's access, the right to give each of the
// invited roles (see mayActOn).
func (s *Service) RevokeInvitation(ctx context.Context, invitationID string) (*Invitation, error) {
	if err := s.roles.Can(ctx, authz.Staff, authz.Write); err != nil {
		return nil, err
	}
	inv, err := s.st.invitationByID(ctx, invitationID)
	if err != nil {
		return nil, err
	}
	if err := s.mayActOn(ctx, "id", inv.Roles(), "revoke this invitation"); err != nil {
		return nil, err
	}
	now := s.now()
	ok, err := s.st.closeInvitation(ctx, inv.ID, "revoked_at", now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.Conflict("id", CodeInvitationClosed, "the invitation was already accepted or revoked")
	}
	inv.RevokedAt = &now
	return inv, nil
}

// AcceptInvitation redeems an invitation token: the invitee sets a
// password, becomes a staff member with the invited roles and is signed
// in. Open to everyone; the token is the credential.
func (s *Service) AcceptInvitation(ctx context.Context, token, name, password string) (*StaffMember, *NewSession, error) {
	now := s.now()
	inv, err := s.st.openInvitation(ctx, hashToken(token), now)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil, invalidToken("token")
	}
	if err != nil {
		return nil, nil, err
	}
	// Whoever sent it must still be able to give what it promises: a
	// demoted or disabled inviter's promise is void.
	switch ok, err := s.inviterGives(ctx, inv); {
	case err != nil:
		return nil, nil, err
	case !ok:
		s.log.WarnContext(ctx, "invitation refused: its sender can no longer give its roles", "invitation", inv.ID, "by", inv.InvitedBy)
		return nil, nil, invalidToken("token")
	}
	if strings.TrimSpace(name) == "" {
		name = inv.Name
	}
	m, err := s.newStaff(ctx, NewStaff{Email: inv.Email, Name: name, Password: password})
	if err != nil {
		return nil, nil, err
	}
	sys := authz.WithSubject(ctx, authz.SystemSubject("invitation"))
	err = s.db.RunInTx(sys, func(ctx context.Context) error {
		ok, err := s.st.closeInvitation(ctx, inv.ID, "accepted_at", now)
		if err != nil {
			return err
		}
		if !ok {
			return invalidToken("token")
		}
		return s.insertStaffWithRoles(ctx, m, inv.Roles())
	})
	if err != nil {
		return nil, nil, err
	}
	sess, err := s.startSession(ctx, PrincipalStaff, m.ID)
	if err != nil {
		return nil, nil, err
	}
	return m, sess, nil
}

// StaffLogin signs a staff member in, with the same guarantees as Login:
// one answer for unknown, disabled and wrong, throttled failures.
func (s *Service) StaffLogin(ctx context.Context, email, password string) (*StaffMember, *NewSession, error) {
	e, err := normalizeEmail("email", email)
	if err != nil {
		s.hasher.VerifyDummy(ctx, password)
		return nil, nil, invalidCredentials()
	}
	keys := s.throttleKeys(ctx, PrincipalStaff, e)
	if err := s.checkThrottle(ctx, keys); err != nil {
		if errors.Is(err, errs.ErrLimited) {
			s.staffLoginRefused(ctx, nil, "throttled")
		}
		return nil, nil, err
	}
	m, err := s.st.staffByEmail(ctx, e)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return nil, nil, err
	}
	ok := false
	if m == nil || m.PasswordHash == nil {
		s.hasher.VerifyDummy(ctx, password)
	} else {
		ok, _, err = s.hasher.Verify(ctx, password, *m.PasswordHash)
		if err != nil {
			return nil, nil, fmt.Errorf("verify password of %s: %w", m.ID, err)
		}
		ok = ok && m.Status == StaffActive
	}
	if !ok {
		if err := s.recordFailures(ctx, keys); err != nil {
			return nil, nil, err
		}
		s.staffLoginRefused(ctx, m, "invalid credentials")
		return nil, nil, invalidCredentials()
	}
	if err := s.st.clearThrottle(ctx, keys[0].key); err != nil {
		return nil, nil, err
	}
	now := s.now()
	m.LastLoginAt = &now
	if err := s.st.updateStaff(ctx, m, "last_login_at"); err != nil {
		return nil, nil, err
	}
	sess, err := s.startSession(ctx, PrincipalStaff, m.ID)
	if err != nil {
		return nil, nil, err
	}
	s.log.InfoContext(ctx, "staff signed in", "staff", m.ID, "session", sess.Session.ID)
	return s.withRoles(m), sess, nil
}

// staffLoginRefused logs a refused staff sign-in as a warning, for the
// operator's alerts and tools such as fail2ban: the client's address and,
// when the email named a staff member, their id. Never the email typed
// (people type passwords into it) nor the password.
func (s *Service) staffLoginRefused(ctx context.Context, m *StaffMember, reason string) {
	attrs := []any{"reason", reason, "client", ClientFrom(ctx).IP}
	if m != nil {
		attrs = append(attrs, "staff", m.ID)
	}
	s.log.WarnContext(ctx, "staff sign-in refused", attrs...)
}

// StaffMembers pages through the staff, newest first. Needs staff:read.
func (s *Service) StaffMembers(ctx context.Context, req page.Request) (page.Page[*StaffMember], error) {
	if err := s.roles.Can(ctx, authz.Staff, authz.Read); err != nil {
		return page.Page[*StaffMember]{}, err
	}
	p, err := s.st.listStaff(ctx, req)
	if err != nil {
		return p, err
	}
	for _, m := range p.Items {
		s.withRoles(m)
	}
	return p, nil
}

// StaffMember returns a staff member. Needs staff:read, or staff:read:own
// for one's own record.
func (s *Service) StaffMember(ctx context.Context, staffID string) (*StaffMember, error) {
	if err := authz.MayOwn(ctx, s.roles, authz.Staff, authz.Read); err != nil {
		return nil, err
	}
	if err := s.ownOrNotFound(ctx, authz.Staff, authz.Read, staffID, errStaffNotFound); err != nil {
		return nil, err
	}
	m, err := s.st.staffByID(ctx, staffID)
	if err != nil {
		return nil, err
	}
	return s.withRoles(m), nil
}

// StaffUpdate changes a staff member; nil fields stay as they are.
type StaffUpdate struct {
	// Name needs staff:write, or staff:write:own for one's own name.
	Name *string
	// Roles needs staff:write and the right to give each role.
	Roles *[]string
}

// UpdateStaff changes a staff member's name or roles. Changing someone
// else needs the right to give every role they hold (see mayActOn); the
// shop keeps at least one active owner.
func (s *Service) UpdateStaff(ctx context.Context, staffID string, in StaffUpdate) (*StaffMember, error) {
	if err := authz.MayOwn(ctx, s.roles, authz.Staff, authz.Write); err != nil {
		return nil, err
	}
	if err := s.ownOrNotFound(ctx, authz.Staff, authz.Write, staffID, errStaffNotFound); err != nil {
		return nil, err
	}
	var roles []string
	if in.Roles != nil {
		if err := s.roles.Can(ctx, authz.Staff, authz.Write); err != nil {
			return nil, err
		}
		roles = slices.Compact(slices.Sorted(slices.Values(*in.Roles)))
		if err := s.roles.ValidateStaffRoles(ctx, "roles", roles); err != nil {
			return nil, err
		}
	}
	m, err := s.st.staffByID(ctx, staffID)
	if err != nil {
		return nil, err
	}
	s.withRoles(m)
	var v errs.Validator
	if in.Name != nil {
		checkName(&v, *in.Name)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// Changing someone's roles or name needs the right to give each role
	// they hold: a staff:write role neither demotes nor renames a member
	// above it (an owner among them). One's own record always passes.
	if err := s.mayActOn(ctx, "id", m.Roles, "change this staff member"); err != nil {
		return nil, err
	}
	if in.Roles != nil && slices.Contains(m.Roles, authz.RoleOwner) && !slices.Contains(roles, authz.RoleOwner) {
		if err := s.keepAnOwner(ctx, m.ID); err != nil {
			return nil, err
		}
	}
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		if in.Name != nil {
			m.Name, m.UpdatedAt = strings.TrimSpace(*in.Name), s.now()
			if err := s.st.updateStaff(ctx, m, "name", "updated_at"); err != nil {
				return err
			}
		}
		if in.Roles != nil {
			if err := s.roles.SetPrincipalRoles(ctx, m.ID, roles); err != nil {
				return err
			}
			m.Roles = roles
			// Keys and invitations above the new roles go with the old.
			if err := s.trimGrants(ctx, m.ID, roles, s.now()); err != nil {
				return err
			}
			return s.emit(ctx, SubjectStaffRolesChanged, StaffEvent{StaffID: m.ID, Roles: roles})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// keepAnOwner refuses a change that would leave no active owner besides
// staffID.
func (s *Service) keepAnOwner(ctx context.Context, staffID string) error {
	owners, err := s.activeOwners(ctx)
	if err != nil {
		return err
	}
	for _, o := range owners {
		if o != staffID {
			return nil
		}
	}
	return errs.Conflict("id", CodeLastOwner, "the shop needs at least one active owner")
}

// mayActOn is the one rule for changing another staff member's access:
// the caller must be able to give every role in roles, that is hold each
// role's permissions in full (the rule of ValidateStaffRoles, which
// already decides who gives a role). Disabling, enabling, changing roles
// or name, revoking an invitation and revoking an API key all ask it, so
// nobody acts on someone with more power than their own: a custom role
// with staff:write neither brings back a removed owner nor demotes a
// manager. A role that no longer exists grants nothing and is skipped.
// The refusal is the user error ROLE_NOT_HELD on field.
func (s *Service) mayActOn(ctx context.Context, field string, roles []string, what string) error {
	for _, role := range roles {
		err := s.roles.ValidateStaffRoles(ctx, field, []string{role})
		if err == nil {
			continue
		}
		list := errs.All(err)
		if list == nil {
			return err
		}
		if list[0].Code == codeRoleNotFound {
			continue
		}
		return errs.Invalid(field, CodeRoleNotHeld,
			fmt.Sprintf("you cannot %s: it holds the role %s, whose permissions you do not all hold", what, role))
	}
	return nil
}

// DisableStaff stops a staff member from signing in: their sessions end
// at once (every request checks the session in the database), the API
// keys that answer to them are revoked (returned, for the caller to see
// which integrations stop), and so are the invitations they sent and
// their password reset links. Needs staff:write and the right to give
// every role the member holds (see mayActOn); nobody disables themselves
// or the last owner.
func (s *Service) DisableStaff(ctx context.Context, staffID string) (*StaffMember, []*APIKey, error) {
	if err := s.roles.Can(ctx, authz.Staff, authz.Write); err != nil {
		return nil, nil, err
	}
	if authz.SubjectFrom(ctx).ID == staffID {
		return nil, nil, errs.Invalid("id", CodeCannotDisableSelf, "you cannot disable yourself")
	}
	m, err := s.st.staffByID(ctx, staffID)
	if err != nil {
		return nil, nil, err
	}
	s.withRoles(m)
	if err := s.mayActOn(ctx, "id", m.Roles, "disable this staff member"); err != nil {
		return nil, nil, err
	}
	if slices.Contains(m.Roles, authz.RoleOwner) {
		if err := s.keepAnOwner(ctx, m.ID); err != nil {
			return nil, nil, err
		}
	}
	var revoked []*APIKey
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		if _, err := s.setStaffStatus(ctx, m, StaffDisabled); err != nil {
			return err
		}
		now := s.now()
		// After the status update, which waits for a key being created
		// in the member's name (holdActiveStaff), so that key is seen.
		if revoked, err = s.st.revokeAPIKeysOf(ctx, m.ID, now); err != nil {
			return err
		}
		for _, k := range revoked {
			s.keyRole(k)
			if err := s.roles.SetPrincipalRoles(ctx, k.ID, nil); err != nil {
				return err
			}
			if err := s.emit(ctx, SubjectAPIKeyRevoked, APIKeyEvent{APIKeyID: k.ID}); err != nil {
				return err
			}
		}
		n, err := s.st.revokeInvitationsBy(ctx, m.ID, now)
		if err != nil {
			return err
		}
		if len(revoked) > 0 || n > 0 {
			s.log.InfoContext(ctx, "access of a disabled staff member revoked", "staff", m.ID, "api_keys", len(revoked), "invitations", n)
		}
		return s.st.revokeTokens(ctx, PurposeStaffReset, m.ID, now)
	})
	if err != nil {
		return nil, nil, err
	}
	return m, revoked, nil
}

// EnableStaff lets a disabled staff member sign in again. It needs what
// disabling needs: staff:write and the right to give every role the
// member holds (see mayActOn). Their revoked API keys stay revoked.
func (s *Service) EnableStaff(ctx context.Context, staffID string) (*StaffMember, error) {
	if err := s.roles.Can(ctx, authz.Staff, authz.Write); err != nil {
		return nil, err
	}
	m, err := s.st.staffByID(ctx, staffID)
	if err != nil {
		return nil, err
	}
	s.withRoles(m)
	if err := s.mayActOn(ctx, "id", m.Roles, "enable this staff member"); err != nil {
		return nil, err
	}
	return s.setStaffStatus(ctx, m, StaffActive)
}

func (s *Service) setStaffStatus(ctx context.Context, m *StaffMember, status StaffStatus) (*StaffMember, error) {
	if m.Status == status {
		return m, nil
	}
	m.Status, m.UpdatedAt = status, s.now()
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		if err := s.st.updateStaff(ctx, m, "status", "updated_at"); err != nil {
			return err
		}
		subject := SubjectStaffEnabled
		if status == StaffDisabled {
			subject = SubjectStaffDisabled
			if err := s.st.deleteSessionsOf(ctx, PrincipalStaff, m.ID, ""); err != nil {
				return err
			}
		}
		return s.emit(ctx, subject, StaffEvent{StaffID: m.ID})
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "staff status changed", "staff", m.ID, "status", string(status), "by", authz.SubjectFrom(ctx).ID)
	return m, nil
}

// ChangeStaffPassword changes the signed-in staff member's password after
// checking the current one; their other sessions end. Needs
// staff:write:own.
func (s *Service) ChangeStaffPassword(ctx context.Context, current, next string) error {
	sub := authz.SubjectFrom(ctx)
	if err := authz.MayOwn(ctx, s.roles, authz.Staff, authz.Write); err != nil {
		return err
	}
	if sub.Kind != authz.KindStaff {
		return errs.Invalid("", CodeNotStaff, "only a signed-in staff member changes their password here")
	}
	if err := authz.CanOwn(ctx, s.roles, authz.Staff, authz.Write, sub.ID); err != nil {
		return err
	}
	m, err := s.st.staffByID(ctx, sub.ID)
	if err != nil {
		return err
	}
	if m.PasswordHash == nil {
		return wrongCurrentPassword()
	}
	ok, _, err := s.hasher.Verify(ctx, current, *m.PasswordHash)
	if err != nil {
		return fmt.Errorf("verify password of %s: %w", m.ID, err)
	}
	if !ok {
		return wrongCurrentPassword()
	}
	if err := CheckPassword("newPassword", next, m.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	m.PasswordHash, m.UpdatedAt = &hash, s.now()
	return s.db.RunInTx(ctx, func(ctx context.Context) error {
		if err := s.st.updateStaff(ctx, m, "password_hash", "updated_at"); err != nil {
			return err
		}
		if err := s.st.deleteSessionsOf(ctx, PrincipalStaff, m.ID, sub.Session); err != nil {
			return err
		}
		return s.emit(ctx, SubjectStaffPasswordChanged, StaffEvent{StaffID: m.ID})
	})
}

// RequestStaffPasswordReset sends a password reset token to email when an
// active staff member has it. It answers nil in every case.
func (s *Service) RequestStaffPasswordReset(ctx context.Context, email string) error {
	e, err := normalizeEmail("email", email)
	if err != nil {
		return err
	}
	if ok, err := s.mayMail(ctx, PrincipalStaff, e); err != nil || !ok {
		return err
	}
	return s.db.RunInTx(ctx, func(ctx context.Context) error {
		m, err := s.st.staffByEmail(ctx, e)
		if errors.Is(err, errs.ErrNotFound) {
			return nil // the same answer for an unknown address
		}
		if err != nil || m.Status != StaffActive {
			return err
		}
		token, exp, err := s.issueToken(ctx, PurposeStaffReset, m.ID, s.opts.ResetTokenTTL)
		if err != nil {
			return err
		}
		return s.handOn(ctx, SubjectStaffPasswordResetRequest, TokenStaffReset,
			TokenEvent{StaffID: m.ID, Email: m.Email, Name: m.Name, Token: token, ExpiresAt: exp})
	})
}

// ResetStaffPassword redeems a staff password reset token: the new
// password replaces the old one, every session of the staff member ends
// and the sign-in throttle of the account is cleared.
func (s *Service) ResetStaffPassword(ctx context.Context, token, password string) error {
	now := s.now()
	t, err := s.openToken(ctx, PurposeStaffReset, token, now)
	if err != nil {
		return err
	}
	m, err := s.st.staffByID(ctx, t.PrincipalID)
	if err != nil || m.Status != StaffActive {
		return invalidToken("token")
	}
	if err := CheckPassword("password", password, m.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.db.RunInTx(ctx, func(ctx context.Context) error {
		ok, err := s.st.useToken(ctx, t.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return invalidToken("token")
		}
		m.PasswordHash, m.UpdatedAt = &hash, now
		if err := s.st.updateStaff(ctx, m, "password_hash", "updated_at"); err != nil {
			return err
		}
		if err := s.st.deleteSessionsOf(ctx, PrincipalStaff, m.ID, ""); err != nil {
			return err
		}
		if err := s.emit(ctx, SubjectStaffPasswordChanged, StaffEvent{StaffID: m.ID}); err != nil {
			return err
		}
		s.log.InfoContext(ctx, "staff password reset", "staff", m.ID)
		return s.st.clearThrottle(ctx, accountKey(PrincipalStaff, m.Email))
	})
}
