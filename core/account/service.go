package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/email"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/peer"
	"github.com/kassahq/kassa/core/store"
)

// Roles is what the accounts need from the permission system: the check
// itself and the roles of staff members and API keys. *authz.Enforcer
// implements it.
type Roles interface {
	authz.Authorizer
	// RolesOf returns the roles principal holds in storeID.
	RolesOf(principal, storeID string) []string
	// PrincipalsWithRole returns who holds role in storeID.
	PrincipalsWithRole(role, storeID string) []string
	// ValidateStaffRoles checks that the caller may give roles.
	ValidateStaffRoles(ctx context.Context, field string, roles []string) error
	// SetPrincipalRoles replaces principal's roles in the transaction of ctx.
	SetPrincipalRoles(ctx context.Context, principal string, roles []string) error
	// Gives reports whether a holder of roles may give role (holds
	// every permission of it), from the loaded policy.
	Gives(roles []string, storeID, role string) bool
}

// Outbox records events in the caller's transaction; they leave for the
// bus once it committed. core/events' outbox implements it.
type Outbox interface {
	Add(ctx context.Context, e events.Event) error
}

// EventRedactor rewrites events already in the outbox, for the right to
// erasure. core/events' outbox implements it; an Outbox that does not
// (the recorders of unit tests) keeps stored events as they are.
type EventRedactor interface {
	Redact(ctx context.Context, r events.Redaction) (int64, error)
}

// Options configure NewService. Authz and Outbox are required; the other
// fields default when zero.
type Options struct {
	// Authz is asked before every operation, with the subject in the
	// context, and holds the roles of staff members and API keys:
	// *authz.Enforcer in the app. Required.
	Authz Roles
	// Outbox records the accounts' events in the transaction of the
	// change that causes them: core/events' outbox in the app, an
	// eventstest.Outbox in tests. Required: the single-use tokens mailed
	// to people (verification, password reset, invitation) leave only
	// through these events. When it is also an EventRedactor, as
	// core/events' outbox is, Erase redacts the buyer's stored events.
	Outbox Outbox
	// Clock reads the time; nil is the system clock.
	Clock clock.Clock
	// Logger receives the service's logs; nil is slog.Default().
	Logger *slog.Logger
	// Tokens, when set, also receives the email verification, password
	// reset, invitation and setup tokens (tests); nil leaves them to the
	// events that carry them. Nothing here ever logs a token.
	Tokens TokenSink
	// PasswordParams are the argon2id costs; zero is DefaultPasswordParams.
	PasswordParams PasswordParams
	// CustomerSessionTTL is how long a buyer stays signed in (30 days).
	CustomerSessionTTL time.Duration
	// StaffSessionTTL is how long a staff member stays signed in (24 hours).
	StaffSessionTTL time.Duration
	// VerifyTokenTTL is how long an email verification link works (48 hours).
	VerifyTokenTTL time.Duration
	// ResetTokenTTL is how long a password reset link works (1 hour).
	ResetTokenTTL time.Duration
	// InvitationTTL is how long a staff invitation works (7 days).
	InvitationTTL time.Duration
	// SetupTokenTTL is how long the owner setup token works (24 hours).
	SetupTokenTTL time.Duration
	// Throttle tunes sign-in throttling; zero is DefaultThrottle.
	Throttle ThrottlePolicy
	// Mail limits account emails asked for by anyone (password reset,
	// verification); zero is DefaultMailPolicy.
	Mail MailPolicy
}

func (o *Options) defaults() {
	if o.Clock == nil {
		o.Clock = clock.System
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.CustomerSessionTTL, 30*24*time.Hour)
	def(&o.StaffSessionTTL, 24*time.Hour)
	def(&o.VerifyTokenTTL, 48*time.Hour)
	def(&o.ResetTokenTTL, time.Hour)
	def(&o.InvitationTTL, 7*24*time.Hour)
	def(&o.SetupTokenTTL, 24*time.Hour)
	if o.Mail == (MailPolicy{}) {
		o.Mail = DefaultMailPolicy
	}
	if o.Throttle == (ThrottlePolicy{}) {
		o.Throttle = DefaultThrottle
	}
}

// Service holds buyers, staff, sessions and API keys. Every method asks
// the permission system first, with the subject in ctx; sign-in, sign-out
// and the token-redeeming methods are open to everyone, since the
// credential they carry is the check.
type Service struct {
	db     *store.DB
	st     *accountStore
	roles  Roles
	outbox Outbox
	hasher *Hasher
	opts   Options
	log    *slog.Logger
	tokens TokenSink
}

// NewService returns the accounts service over db. It fails when a
// required option is missing.
func NewService(db *store.DB, opts Options) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("account: no database")
	case opts.Authz == nil:
		return nil, errors.New("account: Options.Authz is required")
	case opts.Outbox == nil:
		return nil, errors.New("account: Options.Outbox is required")
	}
	opts.defaults()
	s := &Service{db: db, st: newAccountStore(db), roles: opts.Authz, outbox: opts.Outbox,
		hasher: NewHasher(opts.PasswordParams), opts: opts, log: opts.Logger.With("component", "customer"), tokens: opts.Tokens}
	// A role an open invitation names is in use: the enforcer does not
	// delete it (*authz.Enforcer asks through OnRoleNamed).
	if r, ok := opts.Authz.(interface {
		OnRoleNamed(func(ctx context.Context, storeID, role string) (int, error))
	}); ok {
		r.OnRoleNamed(s.OpenInvitationsNaming)
	}
	return s, nil
}

// Hasher returns the service's password hasher.
func (s *Service) Hasher() *Hasher { return s.hasher }

// now is the time of a write, cut to the microsecond PostgreSQL keeps.
func (s *Service) now() time.Time { return s.opts.Clock.Now().UTC().Truncate(time.Microsecond) }

// emit adds an event to the outbox in the transaction of ctx.
func (s *Service) emit(ctx context.Context, subject string, payload any) error {
	e, err := events.New(subject, payload)
	if err != nil {
		return fmt.Errorf("build %s event: %w", subject, err)
	}
	e.Actor = authz.SubjectFrom(ctx).ID
	if err := s.outbox.Add(ctx, e); err != nil {
		return fmt.Errorf("add %s event: %w", subject, err)
	}
	return nil
}

// deliver hands a token to the token sink, if any, once the transaction
// of ctx committed.
func (s *Service) deliver(ctx context.Context, m TokenMessage) {
	if s.tokens == nil {
		return
	}
	store.AfterCommit(ctx, func() { s.tokens.DeliverToken(context.WithoutCancel(ctx), m) })
}

// normalizeEmail trims and lower-cases an address and checks its form
// (package email).
func normalizeEmail(field, address string) (string, error) {
	e, err := email.Normalize(address)
	switch {
	case errors.Is(err, email.ErrTooLong):
		return "", errs.Invalid(field, CodeInvalidEmail, "email address is too long")
	case err != nil:
		return "", errs.Invalid(field, CodeInvalidEmail, "enter a valid email address")
	}
	return e, nil
}

// Client describes who is on the other end of a request: the HTTP layer
// puts it in the context for throttling and session records.
type Client = peer.Client

// WithClient returns ctx carrying c (see package peer).
func WithClient(ctx context.Context, c Client) context.Context { return peer.With(ctx, c) }

// ClientFrom returns the client in ctx, or the zero Client.
func ClientFrom(ctx context.Context) Client { return peer.From(ctx) }

// ownOrNotFound applies the ownership rule to a record owned by ownerID,
// hiding records the caller may not reach: to a caller who holds only the
// ":own" permission, someone else's record does not exist.
func (s *Service) ownOrNotFound(ctx context.Context, obj authz.Object, act authz.Action, ownerID string, nf *errs.Error) error {
	err := authz.CanOwn(ctx, s.roles, obj, act, ownerID)
	if err == nil {
		return nil
	}
	if errors.Is(err, errs.ErrForbidden) && s.roles.Can(ctx, obj, authz.Own(act)) == nil {
		return nf
	}
	return err
}

// ownAllOrNotFound is ownOrNotFound for records of several owners, the
// check of the batch getters: nil when the caller may reach the records
// of every one of ownerIDs, and otherwise the error ownOrNotFound gives
// for the first owner it may not. One owner out of reach fails the whole
// batch, so a batch never shows more than the single calls would, and a
// caller who could never succeed is refused even for no owners at all.
func (s *Service) ownAllOrNotFound(ctx context.Context, obj authz.Object, act authz.Action, ownerIDs []string, nf *errs.Error) error {
	if len(ownerIDs) == 0 {
		return authz.MayOwn(ctx, s.roles, obj, act)
	}
	// The plain permission reaches every record (CanOwn's first check):
	// ask once, not once per owner.
	if s.roles.Can(ctx, obj, authz.Base(act)) == nil {
		return nil
	}
	for _, id := range ownerIDs {
		if err := s.ownOrNotFound(ctx, obj, act, id, nf); err != nil {
			return err
		}
	}
	return nil
}
