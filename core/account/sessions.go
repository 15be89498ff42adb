package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
)

// touchEvery is how often a session's last-seen time and an API key's
// last-used time are written at most.
const touchEvery = time.Minute

// NewSession is a session just created, with its token. The token is
// shown once, to the client that signed in; Kassa keeps only its hash.
type NewSession struct {
	Session *Session
	Token   string
}

// startSession creates a session for a principal. A session the caller
// already had (the subject's) ends: sign-in always rotates the token, so a
// token planted before sign-in is worth nothing after it.
func (s *Service) startSession(ctx context.Context, kind PrincipalKind, principalID string) (*NewSession, error) {
	now := s.now()
	ttl := s.opts.CustomerSessionTTL
	if kind == PrincipalStaff {
		ttl = s.opts.StaffSessionTTL
	}
	c := ClientFrom(ctx)
	token := newToken(SessionTokenPrefix)
	sess := &Session{ID: id.New("ses"), TokenHash: hashToken(token), PrincipalKind: kind, PrincipalID: principalID,
		CreatedAt: now, ExpiresAt: now.Add(ttl), LastSeenAt: now, IP: c.IP, UserAgent: c.UserAgent}
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		if old := authz.SubjectFrom(ctx).Session; old != "" {
			if err := s.endSession(ctx, old); err != nil {
				return err
			}
		}
		return s.st.insertSession(ctx, sess)
	})
	if err != nil {
		return nil, err
	}
	return &NewSession{Session: sess, Token: token}, nil
}

// Authenticate turns a session token into the subject it signs in: a
// buyer with the customer role, or a staff member with their roles. A
// token that is unknown, expired, or belongs to a disabled staff member or
// an erased buyer gives errs.ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (authz.Subject, error) {
	if !strings.HasPrefix(token, SessionTokenPrefix) {
		return authz.Subject{}, errSessionInvalid
	}
	now := s.now()
	sess, err := s.st.liveSession(ctx, hashToken(token), now)
	if errors.Is(err, errs.ErrNotFound) {
		return authz.Subject{}, errSessionInvalid
	}
	if err != nil {
		return authz.Subject{}, err
	}
	sub := authz.Subject{ID: sess.PrincipalID, Store: authz.DefaultStore, Session: sess.ID, Expires: sess.ExpiresAt}
	switch sess.PrincipalKind {
	case PrincipalCustomer:
		c, err := s.st.customerByID(ctx, sess.PrincipalID)
		if err != nil || c.Erased() {
			return authz.Subject{}, errSessionInvalid
		}
		sub.Kind, sub.Roles = authz.KindCustomer, []string{authz.RoleCustomer}
	case PrincipalStaff:
		m, err := s.st.staffByID(ctx, sess.PrincipalID)
		if err != nil || m.Status != StaffActive {
			return authz.Subject{}, errSessionInvalid
		}
		sub.Kind, sub.Roles = authz.KindStaff, s.roles.RolesOf(m.ID, authz.DefaultStore)
	default:
		return authz.Subject{}, errSessionInvalid
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		if err := s.st.touchSession(ctx, sess.ID, now, touchEvery); err != nil {
			s.log.WarnContext(ctx, "record session activity", "session", sess.ID, "err", err)
		}
	}
	return sub, nil
}

// AuthenticateAPIKey turns an API key into the subject it stands for: the
// key with its role. A revoked or unknown key gives
// errs.ErrUnauthenticated.
func (s *Service) AuthenticateAPIKey(ctx context.Context, key string) (authz.Subject, error) {
	if !strings.HasPrefix(key, APIKeyPrefix) {
		return authz.Subject{}, errAPIKeyInvalid
	}
	k, err := s.st.liveAPIKey(ctx, hashToken(key))
	if errors.Is(err, errs.ErrNotFound) {
		return authz.Subject{}, errAPIKeyInvalid
	}
	if err != nil {
		return authz.Subject{}, err
	}
	roles := s.roles.RolesOf(k.ID, authz.DefaultStore)
	if !s.keyWithinMember(k, roles) {
		// Its staff member no longer holds what the key grants (their
		// role's permissions changed since): it is refused like a
		// revoked key until someone who may gives it back.
		s.log.WarnContext(ctx, "API key refused: its role exceeds its staff member's", "api_key", k.ID, "staff", *k.CreatorStaffID)
		return authz.Subject{}, errAPIKeyInvalid
	}
	if now := s.now(); k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > touchEvery {
		if err := s.st.touchAPIKey(ctx, k.ID, now, touchEvery); err != nil {
			s.log.WarnContext(ctx, "record API key use", "api_key", k.ID, "err", err)
		}
	}
	return authz.Subject{Kind: authz.KindAPIKey, ID: k.ID, Store: authz.DefaultStore, Roles: roles}, nil
}

// Logout ends the caller's session. Callers without one (guests, API keys)
// get nil: there is nothing to end.
func (s *Service) Logout(ctx context.Context) error {
	sub := authz.SubjectFrom(ctx)
	if sub.Session == "" {
		return nil
	}
	return s.db.RunInTx(ctx, func(ctx context.Context) error { return s.endSession(ctx, sub.Session) })
}

// endSession deletes one session and says so with kassa.session.ended,
// in the transaction of ctx: every instance ends the live connections
// (WebSockets, event streams) signed in with it at once, rather than
// when they next check.
func (s *Service) endSession(ctx context.Context, id string) error {
	if err := s.st.deleteSession(ctx, id); err != nil {
		return err
	}
	return s.emit(ctx, SubjectSessionEnded, SessionEvent{SessionID: id})
}

// sessionsOf lists the sessions of a principal (for the data export).
func (s *Service) sessionsOf(ctx context.Context, kind PrincipalKind, principalID string) ([]*Session, error) {
	out, err := s.st.sessionsOf(ctx, kind, principalID)
	if err != nil {
		return nil, fmt.Errorf("sessions of %s: %w", principalID, err)
	}
	return out, nil
}
