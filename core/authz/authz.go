package authz

import (
	"context"
	"strings"
	"time"
)

// SubjectKind says what kind of caller a subject is.
type SubjectKind string

// The kinds of subject. They carry a Kind prefix so that the objects
// (Customer, Staff, APIKey) keep the singular names every object has.
const (
	// KindAnonymous is a caller nobody signed in as (a guest buyer).
	KindAnonymous SubjectKind = "anonymous"
	// KindCustomer is a signed-in buyer.
	KindCustomer SubjectKind = "customer"
	// KindStaff is a signed-in member of the shop's staff.
	KindStaff SubjectKind = "staff"
	// KindAPIKey is an integration calling with an API key.
	KindAPIKey SubjectKind = "apikey"
	// KindSystem is the platform acting on its own behalf.
	KindSystem SubjectKind = "system"
)

// DefaultStore is the domain of a single-store installation.
const DefaultStore = "default"

// Subject is the caller of an operation.
type Subject struct {
	// Kind is what the caller is.
	Kind SubjectKind
	// ID is the customer, staff user or API key id; empty when anonymous.
	ID string
	// Roles are the caller's roles in Store.
	Roles []string
	// Store is the Casbin domain the caller acts in.
	Store string
	// Session is the id of the session the caller authenticated with;
	// empty for API keys, anonymous callers and in-process work.
	Session string
	// Expires is when the credential the caller signed in with ends by
	// itself (a session's expiry); zero when it does not (API keys,
	// anonymous callers, in-process work). Live connections end then.
	Expires time.Time
}

// AnonymousSubject is the caller nobody signed in as.
func AnonymousSubject() Subject {
	return Subject{Kind: KindAnonymous, Roles: []string{RoleAnonymous}, Store: DefaultStore}
}

// SystemSubject is background work acting on the platform's own behalf
// (the outbox relay, reconciliation, event consumers, the CLI). It is
// explicit so logs and timelines say who acted. Every check passes for it.
func SystemSubject(component string) Subject {
	return Subject{Kind: KindSystem, ID: "system:" + component, Roles: []string{"system"}, Store: DefaultStore}
}

// IsSystem reports whether s is a system subject.
func (s Subject) IsSystem() bool { return s.Kind == KindSystem }

// HasRole reports whether s holds role.
func (s Subject) HasRole(role string) bool {
	for _, r := range s.Roles {
		if r == role {
			return true
		}
	}
	return false
}

type subjectKey struct{}

// WithSubject returns ctx carrying s.
func WithSubject(ctx context.Context, s Subject) context.Context {
	if s.Store == "" {
		s.Store = DefaultStore
	}
	return context.WithValue(ctx, subjectKey{}, s)
}

// SubjectSource is a caller whose subject may change while an operation
// runs: the connection of a live subscription, whose credential is
// checked again as long as it is open. A change is of the roles (or of
// what the roles allow); who the caller is never changes, and a caller
// whose credential ends is ended by its source, not changed.
type SubjectSource interface {
	// Subject returns the caller as it is now.
	Subject() Subject
	// Changed returns a channel that is closed at the next change of the
	// caller's roles or of their permissions: take it before reading
	// with Subject, so that no change falls between the two.
	Changed() <-chan struct{}
}

// WithSubjectSource returns ctx whose subject is src's current one each
// time SubjectFrom reads it, so that a long-running operation (a
// subscription reading an order again and again) acts with the caller's
// roles of the moment, not those it started with.
func WithSubjectSource(ctx context.Context, src SubjectSource) context.Context {
	return context.WithValue(ctx, subjectKey{}, src)
}

// SubjectFrom returns the subject in ctx (a SubjectSource's current
// one), or the anonymous subject.
func SubjectFrom(ctx context.Context) Subject {
	switch s := ctx.Value(subjectKey{}).(type) {
	case Subject:
		return s
	case SubjectSource:
		sub := s.Subject()
		if sub.Store == "" {
			sub.Store = DefaultStore
		}
		return sub
	}
	return AnonymousSubject()
}

// SubjectChanged returns a channel closed at the next change of the
// subject of ctx (see SubjectSource); nil, which never receives, when
// the subject is fixed.
func SubjectChanged(ctx context.Context) <-chan struct{} {
	if s, ok := ctx.Value(subjectKey{}).(SubjectSource); ok {
		return s.Changed()
	}
	return nil
}

// Authorizer answers whether the subject in ctx may perform act on obj. It
// returns nil when allowed and an *errs.Error that unwraps to
// errs.ErrUnauthenticated (anonymous caller) or errs.ErrForbidden otherwise.
type Authorizer interface {
	Can(ctx context.Context, obj Object, act Action) error
}

// Object is a protected resource.
type Object string

// Action is what is done to an object.
type Action string

// The actions. Domains may add their own; every action an operation needs
// appears in the default policy and in docs/permissions.md.
const (
	// Read lets a caller see every record of an object.
	Read Action = "read"
	// Write lets a caller create, change and delete records of an object.
	Write Action = "write"
	// Register lets a guest create a buyer account (object Customer).
	Register Action = "register"
	// Erase lets a caller erase personal data (object Customer).
	Erase Action = "erase"
)

// OwnSuffix marks an action limited to the caller's own records.
const OwnSuffix = ":own"

// Own returns the variant of act limited to the caller's own records:
// "read" -> "read:own". A role holding "order read:own" reads its own
// orders only; see CanOwn.
func Own(act Action) Action {
	if IsOwn(act) {
		return act
	}
	return act + OwnSuffix
}

// IsOwn reports whether act is an own-records action ("read:own").
func IsOwn(act Action) bool { return strings.HasSuffix(string(act), OwnSuffix) }

// Base returns act without the own-records suffix: "read:own" -> "read".
func Base(act Action) Action { return Action(strings.TrimSuffix(string(act), OwnSuffix)) }

// The resources. Every object is declared here even before the domain that
// uses it exists, so the default policy and the permission matrix are
// complete from the start.
const (
	// Product, Collection and Inventory are the catalog.
	Product    Object = "product"
	Collection Object = "collection"
	Inventory  Object = "inventory"
	// Customer is buyer accounts, their addresses, groups and tags.
	Customer Object = "customer"
	// Staff is staff accounts and invitations.
	Staff Object = "staff"
	// Role is a role and its permissions.
	Role Object = "role"
	// APIKey is integration keys.
	APIKey Object = "apikey"
	// Cart is a buyer's cart and its checkout: only ever reached as one's
	// own (by the signed-in buyer, or by a guest holding the cart token).
	Cart Object = "cart"
	// Order, Payment, Refund, Promotion and Return belong to checkout and
	// after-sales.
	Order     Object = "order"
	Payment   Object = "payment"
	Refund    Object = "refund"
	Promotion Object = "promotion"
	Return    Object = "return"
	// Invoice is the invoices and credit notes of orders.
	Invoice Object = "invoice"
	// Plugin is the installed plugins and their settings.
	Plugin Object = "plugin"
	// Report is sales and finance reporting.
	Report Object = "report"
	// Settings are the shop's settings.
	Settings Object = "settings"
)

// Objects lists every declared object in a stable order.
func Objects() []Object {
	return []Object{Product, Collection, Inventory, Customer, Staff, Role, APIKey,
		Cart, Order, Payment, Refund, Promotion, Return, Invoice, Plugin, Report, Settings}
}
