package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/transition"
	"github.com/kassahq/kassa/core/worker"
)

// Orders is the order domain as payments need it (ADR 0006): read an
// order, move its payment status. core/app adapts core/order to it. It
// asks no permission: the payment service checked its caller.
type Orders interface {
	// Order reads an order by id; errs.ErrNotFound when there is none.
	// It is read several times per payment, so it reads the order's row
	// only: the lines are OrderLines'.
	Order(ctx context.Context, orderID string) (*OrderInfo, error)
	// OrderLines reads the lines of an order, which refunds by line need;
	// errs.ErrNotFound when there is no such order.
	OrderLines(ctx context.Context, orderID string) ([]OrderLine, error)
	// OrderByAccessToken reads the order a guest's access token opens;
	// errs.ErrNotFound for a wrong token.
	OrderByAccessToken(ctx context.Context, token string) (*OrderInfo, error)
	// MovePayment moves the payment status of the order o, as the caller
	// read it in the transaction carried by ctx, from o.PaymentStatus to
	// to, in that transaction, through as many moves of the order's table
	// as it takes (PENDING -> PAID -> REFUNDED), without reading the
	// order again. It fails with STALE_STATE when the status is no longer
	// o's, and with INVALID_TRANSITION when the table offers no way; on
	// success o.PaymentStatus is to.
	MovePayment(ctx context.Context, o *OrderInfo, to OrderPaymentStatus, reason string) error
	// SetPaymentMethod records gatewayID as the gateway the buyer chose
	// to pay o with, in the transaction carried by ctx, unless
	// o.PaymentMethod already says so; on success o.PaymentMethod is
	// gatewayID.
	SetPaymentMethod(ctx context.Context, o *OrderInfo, gatewayID string) error
}

// Gateways finds the enabled gateway plugins (core/plugin.Service).
type Gateways interface {
	// Gateway returns the enabled gateway with the plugin id: not found
	// (PLUGIN_NOT_FOUND) or unavailable (PLUGIN_DISABLED) otherwise.
	Gateway(ctx context.Context, id string) (Gateway, error)
	// InstalledGateway returns the gateway with the plugin id, enabled or
	// disabled (PLUGIN_NOT_FOUND once removed): what the payments it
	// already took need to settle (notifications, reconciliation, closes,
	// captures, voids, refunds). Disabling a gateway stops new payments
	// only.
	InstalledGateway(ctx context.Context, id string) (Gateway, error)
	// Gateways returns every enabled gateway.
	Gateways(ctx context.Context) ([]Gateway, error)
}

// Settings are the shop's settings (core/shop.Service): what to do with
// money for a cancelled order, the order of payment methods, the capture
// mode of buyers' payments, the storefront origins return URLs may be on.
type Settings interface {
	Settings(ctx context.Context) (*shop.Settings, error)
}

// Outbox records events in the caller's transaction.
type Outbox interface {
	Add(ctx context.Context, e events.Event) error
}

// Defaults of Options.
const (
	DefaultReconcileInterval = 30 * time.Second
	DefaultReconcileLease    = 5 * time.Minute
	DefaultReconcileBatch    = 50
	// ReconcilerWorker is the reconciler's worker name and system subject.
	ReconcilerWorker = "payment.reconciler"
	// CreateScope is the idempotency scope of Create's keys, narrowed to
	// each buyer's own (idempotency.Owned).
	CreateScope = "payment.create"
)

// DefaultRecheckAfter is Options.RecheckAfter's default.
const DefaultRecheckAfter = time.Minute

// DefaultCreateLease is Options.CreateLease's default: longer than a
// gateway's CreatePayment may take through core/plugin (a call is given
// 30 seconds, a plugin 10 more to start).
const DefaultCreateLease = time.Minute

// backoff is when the reconciler asks about a PENDING or UNKNOWN attempt
// (or refund) again, in multiples of Options.RecheckAfter: after the
// first, second, ... question; the last step repeats until the state is
// final. With the default: 1, 2, 5, 15 minutes, then hourly.
var backoff = []time.Duration{1, 2, 5, 15, 60}

// nextCheck is when to ask again after checks questions.
func (s *Service) nextCheck(now time.Time, checks int64) time.Time {
	i := int(min(checks, int64(len(backoff)-1)))
	return now.Add(backoff[i] * s.opt.RecheckAfter)
}

// Options are what NewService needs besides the database.
type Options struct {
	// Authz is asked at the top of every method. Required.
	Authz authz.Authorizer
	// Outbox receives the payment's events. Required.
	Outbox Outbox
	// Orders reads and moves orders. Required.
	Orders Orders
	// Gateways finds gateway plugins. Required.
	Gateways Gateways
	// Settings are the shop's settings. Required.
	Settings Settings
	// Keys record the idempotency keys of creation, capture, void,
	// refund and bank transfer confirmation. Required.
	Keys *idempotency.Keys
	// PublicURL is the shop's public base URL (config's KASSA_PUBLIC_URL,
	// https://shop.example): a payment's return URL must be on its origin
	// or on one of the shop's storefront origins. Empty allows those
	// origins only.
	PublicURL string
	// Clock dates everything; nil is the system clock.
	Clock clock.Clock
	// Holder identifies this instance in the reconciler's claims;
	// default worker.HolderID().
	Holder string
	// ReconcileInterval is the pause between reconciler rounds; default
	// DefaultReconcileInterval. ReconcileLease and ReconcileBatch are its
	// claim's lease and size.
	ReconcileInterval time.Duration
	ReconcileLease    time.Duration
	ReconcileBatch    int
	// RecheckAfter is when the reconciler first asks the gateway about
	// an attempt or refund whose outcome is not known; later questions
	// back off from it. Default DefaultRecheckAfter.
	RecheckAfter time.Duration
	// CreateLease is how long a payment being started keeps other
	// starts of its order away (PAYMENT_IN_PROGRESS) while its gateway
	// has not answered; after it, a start left by a crash mid-call no
	// longer counts. Longer than a gateway call may take. Default
	// DefaultCreateLease.
	CreateLease time.Duration
	// Observer is told of committed outcomes (attempt moves, webhook
	// results) for metrics; nil tells no one.
	Observer Observer
	// Logger is the parent logger; nil is slog.Default().
	Logger *slog.Logger
}

// Service pays orders through gateways and keeps the money's record. See
// the package documentation.
type Service struct {
	db       *store.DB
	store    *paymentStore
	authz    authz.Authorizer
	outbox   Outbox
	orders   Orders
	gateways Gateways
	settings Settings
	keys     *idempotency.Keys
	clock    clock.Clock
	attempts *transition.Machine[State]
	refunds  *transition.Machine[RefundState]
	opt      Options
	log      *slog.Logger
	// The reconciler's claims on attempts and refunds.
	attemptClaims, refundClaims *worker.Claimer
	// refreshes spaces out the buyers' Refresh calls (refresh.go).
	refreshes refreshTurns
	// reports bounds the reports computed at once (analytics.go).
	reports reportSlots
	// publicOrigin is Options.PublicURL's origin (shop.Origin); empty
	// when there is none.
	publicOrigin string
}

// NewService returns the payment service over db. It fails when a
// required option is missing.
func NewService(db *store.DB, opts Options) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("payment: no database")
	case opts.Authz == nil:
		return nil, errors.New("payment: Options.Authz is required")
	case opts.Outbox == nil:
		return nil, errors.New("payment: Options.Outbox is required")
	case opts.Orders == nil:
		return nil, errors.New("payment: Options.Orders is required")
	case opts.Gateways == nil:
		return nil, errors.New("payment: Options.Gateways is required")
	case opts.Settings == nil:
		return nil, errors.New("payment: Options.Settings is required")
	case opts.Keys == nil:
		return nil, errors.New("payment: Options.Keys is required")
	case opts.ReconcileInterval < 0 || opts.ReconcileLease < 0 || opts.ReconcileBatch < 0 || opts.RecheckAfter < 0 || opts.CreateLease < 0:
		return nil, errors.New("payment: options must not be negative")
	}
	var publicOrigin string
	if opts.PublicURL != "" {
		u, err := url.Parse(opts.PublicURL)
		origin, ok := shop.Origin(u)
		if err != nil || !ok {
			return nil, fmt.Errorf("payment: Options.PublicURL %q is not an absolute http(s) URL", opts.PublicURL)
		}
		publicOrigin = origin
	}
	if opts.Clock == nil {
		opts.Clock = clock.System
	}
	if opts.ReconcileInterval == 0 {
		opts.ReconcileInterval = DefaultReconcileInterval
	}
	if opts.RecheckAfter == 0 {
		opts.RecheckAfter = DefaultRecheckAfter
	}
	if opts.CreateLease == 0 {
		opts.CreateLease = DefaultCreateLease
	}
	if opts.ReconcileLease == 0 {
		opts.ReconcileLease = DefaultReconcileLease
	}
	if opts.ReconcileBatch == 0 {
		opts.ReconcileBatch = DefaultReconcileBatch
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Observer == nil {
		opts.Observer = noObserver{}
	}
	topt := transition.Options{DB: db, Outbox: opts.Outbox, Authorizer: opts.Authz, Clock: opts.Clock}
	attempts, err := transition.NewMachine(Attempts, attemptStorage(), topt)
	if err != nil {
		return nil, fmt.Errorf("payment: %w", err)
	}
	refunds, err := transition.NewMachine(Refunds, refundStorage(), topt)
	if err != nil {
		return nil, fmt.Errorf("payment: %w", err)
	}
	if opts.Holder == "" {
		opts.Holder = worker.HolderID()
	}
	attemptClaims, err := worker.NewClaimer(db, worker.ClaimOptions{Table: "payment_attempts", Holder: opts.Holder, Lease: opts.ReconcileLease, Clock: opts.Clock})
	if err != nil {
		return nil, fmt.Errorf("payment: %w", err)
	}
	refundClaims, err := worker.NewClaimer(db, worker.ClaimOptions{Table: "payment_refunds", Holder: opts.Holder, Lease: opts.ReconcileLease, Clock: opts.Clock})
	if err != nil {
		return nil, fmt.Errorf("payment: %w", err)
	}
	return &Service{
		attemptClaims: attemptClaims, refundClaims: refundClaims,
		db: db, store: newPaymentStore(db), authz: opts.Authz, outbox: opts.Outbox, orders: opts.Orders,
		gateways: opts.Gateways, settings: opts.Settings, keys: opts.Keys, clock: opts.Clock, publicOrigin: publicOrigin,
		attempts: attempts, refunds: refunds, opt: opts, log: opts.Logger.With("component", "payment"),
	}, nil
}

// now is the time of a write, cut to the microsecond PostgreSQL keeps.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// asSystem runs what follows as the platform: the gateway's facts are
// applied by the platform whoever brought them (a buyer's request, a
// staff member's capture, a notification).
func asSystem(ctx context.Context, name string) context.Context {
	if authz.SubjectFrom(ctx).IsSystem() {
		return ctx
	}
	return authz.WithSubject(ctx, authz.SystemSubject(name))
}

// emit adds an event to the outbox in the caller's transaction.
func (s *Service) emit(ctx context.Context, subject string, payload any) error {
	ev, err := events.New(subject, payload)
	if err != nil {
		return err
	}
	ev.OccurredAt = s.now()
	sub := authz.SubjectFrom(ctx)
	ev.Actor = sub.ID
	if ev.Actor == "" {
		ev.Actor = string(sub.Kind)
	}
	// With the moves' events when the transaction batches them.
	return transition.Emit(ctx, s.outbox, ev)
}

// ownOrder loads the order a caller names, checking act on payments for
// it: a guest names it by access token, a buyer by id when it is theirs;
// staff holding act reach every order. Anything else is not found.
func (s *Service) ownOrder(ctx context.Context, orderID, token string, act authz.Action) (*OrderInfo, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Payment, act); err != nil {
		return nil, err
	}
	if token != "" {
		o, err := s.orders.OrderByAccessToken(ctx, token)
		if err != nil {
			if errors.Is(err, errsNotFound) {
				return nil, orderNotFound()
			}
			return nil, err
		}
		if orderID != "" && orderID != o.ID {
			return nil, orderNotFound()
		}
		return o, nil
	}
	if orderID == "" {
		return nil, orderNotFound()
	}
	o, err := s.orders.Order(ctx, orderID)
	if err != nil {
		if errors.Is(err, errsNotFound) {
			return nil, orderNotFound()
		}
		return nil, err
	}
	if err := authz.CanOwn(ctx, s.authz, authz.Payment, act, o.CustomerID); err != nil {
		return nil, orderNotFound()
	}
	return o, nil
}
