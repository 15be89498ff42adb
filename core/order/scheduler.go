package order

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/transition"
	"github.com/kassahq/kassa/core/worker"
)

// The names of the order's schedulers, as workers, in logs and metrics,
// and as the system subjects that act (timelines say "system:<name>").
const (
	ReminderWorker = "order.payment_reminder"
	CloserWorker   = "order.deadline_closer"
)

// DeadlineReason is the reason the deadline closer gives its
// cancellations; the buyer sees it in their timeline.
const DeadlineReason = "payment deadline passed"

// MachineReminder marks the timeline entry of a payment reminder sent to
// the buyer (staff-only: the buyer has the email).
const MachineReminder = "order.reminder"

// Defaults of SchedulerOptions.
const (
	DefaultSchedulerInterval = time.Minute
	DefaultSchedulerLease    = 5 * time.Minute
	DefaultSchedulerBatch    = 100
	// maxBatchesPerRound bounds one round: a backlog left after it waits
	// for the next round rather than holding one round forever.
	maxBatchesPerRound = 50
)

// ExpiryVerdict is what an ExpiryHook says about an unpaid order past its
// payment deadline. The zero value cancels.
type ExpiryVerdict int

// The verdicts of an ExpiryHook.
const (
	// ExpireNow: nothing was paid; the closer cancels the order and
	// releases its stock.
	ExpireNow ExpiryVerdict = iota
	// KeepPaid: the gateway says the order was paid. The closer leaves it
	// open; the hook moves its payment status (Service.MovePayment, as a
	// system subject), after which the order is no longer due. Should the
	// status still be PENDING when the closer's claim lapses, the closer
	// asks again.
	KeepPaid
	// KeepPending: a payment is in progress or its outcome is unknown
	// (the gateway did not answer). The closer leaves the order open and
	// asks again once its claim lapses (SchedulerOptions.Lease).
	KeepPending
)

// String names the verdict in logs.
func (v ExpiryVerdict) String() string {
	switch v {
	case ExpireNow:
		return "expire"
	case KeepPaid:
		return "keep_paid"
	case KeepPending:
		return "keep_pending"
	}
	return fmt.Sprintf("ExpiryVerdict(%d)", int(v))
}

// ExpiryHook is asked by the deadline closer before it cancels an unpaid
// order past its deadline (ADR 0008; DESIGN.md, "Checkout and payment",
// point 6): the payment domain closes the trade at the gateway and
// answers KeepPaid when the gateway says it was paid. It runs outside any
// transaction (it may call a gateway) as the closer's system subject,
// with the order as the closer read it. An error leaves the order open
// and claimed; the closer asks again once the claim lapses.
type ExpiryHook interface {
	BeforeExpire(ctx context.Context, o *Order) (ExpiryVerdict, error)
}

// ExpiryHookFunc adapts a function to ExpiryHook.
type ExpiryHookFunc func(ctx context.Context, o *Order) (ExpiryVerdict, error)

// BeforeExpire calls f.
func (f ExpiryHookFunc) BeforeExpire(ctx context.Context, o *Order) (ExpiryVerdict, error) {
	return f(ctx, o)
}

// expirablePayments: the closer cancels orders still waiting for their
// payment (PENDING). An order whose payment FAILED is left open: whether
// a failed attempt ends the wait or restarts it is the payment domain's
// call, which adds it here when it decides.
var expirablePayments = []PaymentStatus{PaymentPending}

// SchedulerOptions configure NewScheduler. Every field defaults when zero.
type SchedulerOptions struct {
	// Holder identifies this instance in its claims; default
	// worker.HolderID(). Two instances must never share one.
	Holder string
	// Lease is how long a claim on an order lasts: well above the time a
	// batch takes, hook calls included. Default DefaultSchedulerLease.
	Lease time.Duration
	// Batch is how many orders one claim takes; default
	// DefaultSchedulerBatch.
	Batch int
	// ReminderInterval and CloserInterval are the pauses between rounds;
	// default DefaultSchedulerInterval. A round handles every due order
	// (up to 50 batches), so the interval is how late a reminder or a
	// cancellation may come at most.
	ReminderInterval, CloserInterval time.Duration
	// Jitter adds a random pause in [0, Jitter) to every interval, so
	// instances started together do not scan in step; default a tenth of
	// the interval. Negative turns it off.
	Jitter time.Duration
	// Clock times the rounds of the workers; nil uses the service's clock
	// when it is a worker.Clock (tests pass workertest.Clock to both),
	// else worker.SystemClock. Due times are always the service's clock.
	Clock worker.Clock
	// BeforeExpire is asked before the closer cancels an order; nil asks
	// the service's PaymentCloser (Service.UsePaymentCloser), which also
	// checks, in the cancellation's transaction, that no payment started
	// meanwhile; without one every order past its deadline is cancelled.
	BeforeExpire ExpiryHook
	// Logger is the parent logger; nil is slog.Default().
	Logger *slog.Logger
}

// Scheduler is the order's automatic work (ADR 0008): the payment
// reminder, which emits kassa.order.payment_reminder once per unpaid order
// when its reminder time (the deadline minus the shop's reminder lead,
// set at placement) has come, and the deadline closer, which cancels
// unpaid orders past their deadline and releases their stock. Several
// instances may run both: each claims its orders with worker.Claimer, and
// every act is guarded by a conditional update, so an order is reminded
// and cancelled once even when a claim lapsed under a slow instance.
//
//	sc, err := order.NewScheduler(orders, order.SchedulerOptions{BeforeExpire: payments})
//	workers, err := sc.Workers() // order.payment_reminder, order.deadline_closer
//	err = group.Add(workers...)
type Scheduler struct {
	svc    *Service
	claims *worker.Claimer
	opt    SchedulerOptions
	// closes says that the hook is the service's PaymentCloser, whose
	// check the cancellation's transaction runs too.
	closes bool
	log    *slog.Logger
}

// NewScheduler returns the schedulers of svc's orders. It fails on a
// negative option.
func NewScheduler(svc *Service, opt SchedulerOptions) (*Scheduler, error) {
	switch {
	case svc == nil:
		return nil, errors.New("order: scheduler: no order service")
	case opt.Lease < 0 || opt.Batch < 0 || opt.ReminderInterval < 0 || opt.CloserInterval < 0:
		return nil, errors.New("order: scheduler: options must not be negative")
	}
	if opt.Holder == "" {
		opt.Holder = worker.HolderID()
	}
	if opt.Lease == 0 {
		opt.Lease = DefaultSchedulerLease
	}
	if opt.Batch == 0 {
		opt.Batch = DefaultSchedulerBatch
	}
	if opt.ReminderInterval == 0 {
		opt.ReminderInterval = DefaultSchedulerInterval
	}
	if opt.CloserInterval == 0 {
		opt.CloserInterval = DefaultSchedulerInterval
	}
	if opt.Clock == nil {
		if wc, ok := svc.clock.(worker.Clock); ok {
			opt.Clock = wc
		} else {
			opt.Clock = worker.SystemClock
		}
	}
	closes := opt.BeforeExpire == nil
	if closes {
		opt.BeforeExpire = ExpiryHookFunc(func(ctx context.Context, o *Order) (ExpiryVerdict, error) {
			if svc.closer == nil {
				return ExpireNow, nil
			}
			return svc.closer.ClosePayments(ctx, o, closeExpired)
		})
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	claims, err := worker.NewClaimer(svc.db, worker.ClaimOptions{Table: "orders", Holder: opt.Holder, Lease: opt.Lease, Clock: svc.clock})
	if err != nil {
		return nil, fmt.Errorf("order: scheduler: %w", err)
	}
	return &Scheduler{svc: svc, claims: claims, opt: opt, closes: closes, log: opt.Logger.With("component", "order", "holder", opt.Holder)}, nil
}

// Workers returns the two schedulers as periodic workers, the reminder
// first, for App.Start's group.
func (sc *Scheduler) Workers() ([]worker.Worker, error) {
	jitter := func(interval time.Duration) time.Duration {
		switch {
		case sc.opt.Jitter < 0:
			return 0
		case sc.opt.Jitter == 0:
			return interval / 10
		}
		return sc.opt.Jitter
	}
	reminder, err := worker.NewPeriodic(ReminderWorker, func(ctx context.Context) error {
		_, err := sc.SendReminders(ctx)
		return err
	}, worker.PeriodicOptions{Interval: sc.opt.ReminderInterval, Jitter: jitter(sc.opt.ReminderInterval), Clock: sc.opt.Clock})
	if err != nil {
		return nil, err
	}
	closer, err := worker.NewPeriodic(CloserWorker, func(ctx context.Context) error {
		_, err := sc.CloseOverdue(ctx)
		return err
	}, worker.PeriodicOptions{Interval: sc.opt.CloserInterval, Jitter: jitter(sc.opt.CloserInterval), Clock: sc.opt.Clock})
	if err != nil {
		return nil, err
	}
	return []worker.Worker{reminder, closer}, nil
}

// SendReminders runs one round of the payment reminder and returns how
// many buyers it reminded: every unpaid open order whose reminder time has
// come and whose deadline has not passed gets kassa.order.payment_reminder
// (Reminder) and a staff-only timeline entry, once. It acts as the system
// subject ReminderWorker, whatever the subject of ctx: it is background
// work, called by its worker (and by tests).
func (sc *Scheduler) SendReminders(ctx context.Context) (int, error) {
	ctx = authz.WithSubject(ctx, authz.SystemSubject(ReminderWorker))
	return sc.round(ctx, dueReminders, sc.remind)
}

// CloseOverdue runs one round of the deadline closer and returns how many
// orders it cancelled: every open order still waiting for payment past
// its deadline, of which nothing shipped, is offered to the BeforeExpire
// hook and, unless the hook keeps it, cancelled with DeadlineReason, its
// stock released and kassa.order.cancelled emitted, once. It acts as the
// system subject CloserWorker, whatever the subject of ctx.
func (sc *Scheduler) CloseOverdue(ctx context.Context) (int, error) {
	ctx = authz.WithSubject(ctx, authz.SystemSubject(CloserWorker))
	return sc.round(ctx, dueExpiries, sc.expire)
}

// round claims batches of due orders and hands each to act, until a batch
// comes back short. act reports whether it acted; its errors are
// collected, and the order it failed on stays claimed (so this round does
// not take it again) until the lease lapses, when any instance retries.
func (sc *Scheduler) round(ctx context.Context, due func(time.Time) worker.Due, act func(ctx context.Context, orderID string) (bool, error)) (int, error) {
	var (
		done     int
		failures []error
	)
	for range maxBatchesPerRound {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		ids, err := sc.claims.Claim(ctx, due(sc.svc.now()), sc.opt.Batch)
		if err != nil {
			return done, errors.Join(append(failures, err)...)
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return done, err
			}
			ok, err := act(ctx, id)
			if err != nil {
				failures = append(failures, fmt.Errorf("order %s: %w", id, err))
				continue
			}
			if ok {
				done++
			}
		}
		if len(ids) < sc.opt.Batch {
			break
		}
	}
	return done, errors.Join(failures...)
}

// remind sends the reminder of one claimed order, in one transaction with
// the release of the claim.
func (sc *Scheduler) remind(ctx context.Context, orderID string) (bool, error) {
	s := sc.svc
	sent := false
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		o, err := s.store.OrderByID(ctx, orderID)
		if err != nil {
			return err
		}
		ok, err := s.store.MarkReminded(ctx, o.ID, s.now())
		if err != nil {
			return err
		}
		if ok {
			payload := Reminder{OrderID: o.ID, Number: o.Number, PaymentDeadline: o.PaymentDeadline}
			if o.CustomerID != nil {
				payload.CustomerID = *o.CustomerID
			}
			if err := s.note(ctx, o.ID, MachineReminder, "", "", StaffOnly, SubjectPaymentReminder, payload); err != nil {
				return err
			}
		}
		sent = ok
		return sc.claims.Release(ctx, []string{o.ID})
	})
	if err != nil {
		return false, err
	}
	if sent {
		sc.log.InfoContext(ctx, "payment reminder due", "worker", ReminderWorker, "order", orderID)
	}
	return sent, nil
}

// expire offers one claimed order to the hook and cancels it unless the
// hook keeps it.
func (sc *Scheduler) expire(ctx context.Context, orderID string) (bool, error) {
	s := sc.svc
	o, err := s.store.OrderByID(ctx, orderID)
	if err != nil {
		return false, err
	}
	if o.Status != Open || o.PaymentStatus != PaymentPending || o.FulfillmentStatus != Unfulfilled || o.PaymentDeadline.After(s.now()) {
		// Changed since the claim (paid, cancelled by staff, deadline
		// moved): nothing to do, and the order is free again.
		return false, sc.claims.Release(ctx, []string{o.ID})
	}
	verdict, err := sc.opt.BeforeExpire.BeforeExpire(ctx, o)
	if err != nil {
		return false, fmt.Errorf("before expire: %w", err)
	}
	if verdict != ExpireNow {
		// The claim stays: the order is asked about again when it lapses,
		// if it is still due then.
		sc.log.InfoContext(ctx, "unpaid order past its deadline kept open", "worker", CloserWorker, "order", o.ID, "verdict", verdict)
		return false, nil
	}
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		if err := cancellable(Statuses, o, expirablePayments); err != nil {
			return err
		}
		if sc.closes {
			// A payment started during the hook's round (its hold on the
			// order's starts lapsed): not cancelled now, asked again.
			if err := s.paymentsClosed(ctx, o); err != nil {
				return err
			}
		}
		if _, err := s.cancel(ctx, o, s.statuses, DeadlineReason, expirablePayments); err != nil {
			return err
		}
		return sc.claims.Release(ctx, []string{o.ID})
	})
	switch {
	case err == nil:
		sc.log.InfoContext(ctx, "unpaid order cancelled at its deadline", "worker", CloserWorker, "order", o.ID)
		return true, nil
	case isLostRace(err):
		// Someone else moved the order meanwhile (a payment, staff): it
		// is no longer the closer's to cancel.
		return false, sc.claims.Release(ctx, []string{o.ID})
	}
	return false, err
}

// isLostRace reports whether err says the order changed between its read
// and the write that needed it unchanged.
func isLostRace(err error) bool {
	if transition.IsStale(err) {
		return true
	}
	for _, e := range errs.All(err) {
		switch e.Code {
		case CodeStaleState, CodeNotOpen, CodeAlreadyShipped, CodePaymentNotPending, CodePaymentOpen, transition.CodeInvalidTransition:
			return true
		}
	}
	return false
}
