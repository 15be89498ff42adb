package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/store"
)

// Defaults of RelayOptions.
const (
	DefaultRelayBatch      = 100
	DefaultPollInterval    = time.Second
	DefaultRetention       = 7 * 24 * time.Hour
	DefaultRelayMaxBackoff = 30 * time.Second
)

// RelayOptions tune a Relay.
type RelayOptions struct {
	// BatchSize is how many events one round publishes (default 100).
	BatchSize int
	// PollInterval is how often the relay looks for events without being
	// woken: events committed by other kassa instances, or left behind by
	// a crash (default 1s).
	PollInterval time.Duration
	// Retention is how long sent events stay in the outbox table for
	// inspection before they are deleted (default 7 days).
	Retention time.Duration
	// MaxBackoff caps the wait between attempts while publishing fails
	// (default 30s); the wait starts at 100ms and doubles.
	MaxBackoff time.Duration
	// Logger is the parent logger; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the outbox metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Relay publishes the outbox to the bus: it reads unsent events in id
// order, publishes them with Nats-Msg-Id = event id, all of a round in
// flight at once on NATS (NATSBus.PublishBatch, which keeps them from
// being stored out of order), waits for the stream's acknowledgements,
// then marks the acknowledged ones sent. A crash between publish and
// marking makes the next round publish the event again, which the stream
// drops as a duplicate, so consumers see it once.
//
// Several kassa instances sharing one PostgreSQL database each run a
// relay. A round runs in a transaction whose first statement takes a
// transaction-level advisory lock (pg_try_advisory_xact_lock) on the
// outbox and, in the same statement, reads the pending rows: only one
// relay publishes at a time, the others read nothing and wait for their
// next poll. (The read's snapshot may predate the commit of the relay
// that held the lock just before, so rarely a round republishes what
// that relay had just marked: the stream drops the duplicates.) One publisher at a time keeps the stream in id order, which
// claiming disjoint batches with FOR UPDATE SKIP LOCKED would not; the
// lock is released by commit, rollback or a dropped connection, so a
// crashed instance never blocks the others. On SQLite (one instance) a
// round holds no transaction while publishing, so domain writes are not
// blocked behind the network; two relays on one SQLite file would both
// publish, which the duplicate window makes harmless.
//
// Sharp edges: an event is deduplicated only within the stream's duplicate
// window, so if kassa crashes between publish and marking and stays down
// longer than that window, the event is delivered twice; handlers are
// idempotent by event id for that reason. Events are published in id order
// among those committed at the time; events of concurrent transactions
// may interleave differently from their commit order. On PostgreSQL a
// round commits its marks without waiting for the disk flush (see
// pendingLocked), so a crash of the database can lose the last marks
// too, with the same outcome: their events are published again.
type Relay struct {
	outbox *Outbox
	bus    Publisher
	opt    RelayOptions
	log    *slog.Logger

	round sync.Mutex // one round at a time per relay (Run and Flush)

	published     prometheus.Counter
	publishErrors prometheus.Counter
	pending       atomic.Int64
	oldest        atomic.Int64 // unix nanoseconds of the oldest pending row, 0 if none

	// beforeMark, when set by tests, runs after a round published its
	// events and before it marks them sent; an error aborts the round as
	// a crash would.
	beforeMark func() error
}

// NewRelay returns a relay from outbox to bus. It registers its metrics
// with opt.Registerer: kassa_outbox_pending_events,
// kassa_outbox_lag_seconds, kassa_outbox_published_total and
// kassa_outbox_publish_errors_total.
func NewRelay(outbox *Outbox, bus Publisher, opt RelayOptions) (*Relay, error) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = DefaultRelayBatch
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = DefaultPollInterval
	}
	if opt.Retention <= 0 {
		opt.Retention = DefaultRetention
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = DefaultRelayMaxBackoff
	}
	r := &Relay{
		outbox: outbox,
		bus:    bus,
		opt:    opt,
		log:    componentLogger(opt.Logger).With(attrPart, "outbox-relay"),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kassa_outbox_published_total",
			Help: "Events the outbox relay published to the event stream.",
		}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kassa_outbox_publish_errors_total",
			Help: "Failed attempts of the outbox relay to publish an event.",
		}),
	}
	if opt.Registerer != nil {
		collectors := []prometheus.Collector{
			r.published,
			r.publishErrors,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "kassa_outbox_pending_events",
				Help: "Committed events not yet published to the event stream.",
			}, func() float64 { return float64(r.pending.Load()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "kassa_outbox_lag_seconds",
				Help: "Age of the oldest committed event not yet published (0 when none).",
			}, func() float64 {
				o := r.oldest.Load()
				if o == 0 {
					return 0
				}
				return max(0, time.Since(time.Unix(0, o)).Seconds())
			}),
		}
		for _, c := range collectors {
			if err := opt.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("events: register outbox metrics: %w", err)
			}
		}
	}
	return r, nil
}

// Run relays until ctx is cancelled: at once when woken by a commit
// (Outbox.Add), otherwise every PollInterval; with growing pauses while
// publishing fails. It also prunes sent events past the retention period.
// Run returns nil when ctx is cancelled; call Flush first to publish what
// is pending.
func (r *Relay) Run(ctx context.Context) error {
	r.log.Debug("outbox relay started")
	defer r.log.Debug("outbox relay stopped")
	var (
		backoff   time.Duration
		lastPrune time.Time
		lastStats time.Time
	)
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		lockedOut, err := r.drain(ctx)
		if ctx.Err() != nil {
			return nil
		}
		// Not after every commit: two queries per wake-up would double the
		// relay's load when the shop is busy.
		if err != nil || time.Since(lastStats) >= min(r.opt.PollInterval, time.Second) {
			lastStats = time.Now()
			r.refreshStats(ctx)
		}
		if time.Since(lastPrune) > pruneEvery(r.opt.Retention) {
			lastPrune = time.Now()
			r.prune(ctx)
		}
		wait := r.opt.PollInterval
		wake := r.outbox.wake
		if err != nil {
			backoff = min(max(2*backoff, 100*time.Millisecond), r.opt.MaxBackoff)
			wait = backoff
			wake = nil // a commit must not hammer a failing bus
			// A failing database or bus stops all events: say so, each
			// retry (the pauses grow, so the lines thin out).
			r.log.Warn("relaying the outbox failed; retrying", attrError, err.Error(), "retry_in", backoff.String())
		} else {
			backoff = 0
			if lockedOut {
				// Another relay held the lock: it may have read before
				// the commit that woke this one, so look again soon
				// rather than at the next poll.
				wait = min(wait, lockedRetry)
			}
		}
		poll.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-poll.C:
		}
	}
}

// pruneEvery returns how often sent rows are pruned.
func pruneEvery(retention time.Duration) time.Duration {
	return min(time.Hour, max(retention/10, time.Second))
}

// Flush publishes everything pending and returns when the outbox holds no
// unsent event, whichever relay sent it; graceful shutdown calls it after
// the last request finished and before the bus closes. It retries failing
// publishes with backoff until ctx ends, then returns the last error.
func (r *Relay) Flush(ctx context.Context) error {
	const lockedWait = 20 * time.Millisecond
	backoff := lockedWait
	for {
		_, err := r.drain(ctx)
		n, _, serr := r.outbox.stats(ctx)
		if err == nil && serr == nil && n == 0 {
			r.refreshStats(ctx)
			return nil
		}
		if err == nil {
			err = serr
		}
		wait := lockedWait
		if err == nil {
			// Another instance holds the relay lock; it is publishing.
			err = fmt.Errorf("%d events still pending", n)
		} else {
			wait, backoff = backoff, min(2*backoff, r.opt.MaxBackoff)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("events: flush outbox: %w (%w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// lockedRetry is how soon a relay that found another holding the relay
// lock looks again.
const lockedRetry = 50 * time.Millisecond

// drain runs rounds until one publishes less than a full batch and
// leaves nothing to publish again at once. lockedOut reports that the
// last round read nothing because another relay held the lock.
func (r *Relay) drain(ctx context.Context) (lockedOut bool, err error) {
	for {
		n, again, locked, err := r.roundOnce(ctx)
		if err != nil || (n < r.opt.BatchSize && !again) {
			return locked, err
		}
	}
}

// publishTimeout bounds the publishing of one batch, so a hung bus cannot
// hold the relay (and on PostgreSQL its transaction) forever.
const publishTimeout = 10 * time.Second

// roundOnce publishes one batch and returns how many events it marked
// sent, whether the rest of the batch is to be published again at once
// (see batchPublisher), whether it read nothing because another relay
// held the lock (PostgreSQL), and the publish failure that ended the
// batch early, if any.
func (r *Relay) roundOnce(ctx context.Context) (sent int, again, lockedOut bool, err error) {
	r.round.Lock()
	defer r.round.Unlock()
	db := r.outbox.db
	if db.Dialect != store.Postgres {
		rows, err := r.outbox.pending(ctx, r.opt.BatchSize)
		if err != nil {
			return 0, false, false, err
		}
		sent, again, pubErr, err := r.publishBatch(ctx, rows)
		if err != nil {
			return 0, false, false, err
		}
		return sent, again, false, pubErr
	}
	var pubErr error
	err = db.RunInTx(ctx, func(ctx context.Context) error {
		// The lock and the read are one statement.
		rows, held, err := r.outbox.pendingLocked(ctx, r.opt.BatchSize)
		if err != nil {
			return err
		}
		lockedOut = !held
		sent, again, pubErr, err = r.publishBatch(ctx, rows)
		return err
	})
	if err != nil {
		return 0, false, false, err
	}
	return sent, again, lockedOut, pubErr
}

// publishBatch publishes rows, the oldest pending events, in order and
// marks the published ones sent: all in flight at once when the bus can
// (batchPublisher), else one after the other. It stops at the first
// publish failure, so the stream keeps id order: the failure is recorded
// on its row and returned as pubErr, the rows after it stay unsent and
// untouched, and the marks before it still count. again reports that the
// rest was refused only because of a duplicate ahead of it, to be
// published again at once. err is a database failure or cancellation:
// nothing was marked, and the next round publishes the same events again,
// which the stream drops as duplicates.
func (r *Relay) publishBatch(ctx context.Context, rows []outboxRow) (sent int, again bool, pubErr, err error) {
	if len(rows) == 0 {
		return 0, false, nil, nil
	}
	evs := make([]Event, 0, len(rows))
	var failed error // why rows[len(evs)] was not published, if it was not
	for _, row := range rows {
		e, err := row.event()
		if err != nil {
			failed = err
			break
		}
		evs = append(evs, e)
	}
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	n := 0
	if bp, ok := r.bus.(batchPublisher); ok {
		var err error
		if n, err = bp.PublishBatch(pctx, evs); err != nil {
			failed = err
		}
	} else {
		for ; n < len(evs); n++ {
			if err := r.bus.Publish(pctx, evs[n]); err != nil {
				failed = err
				break
			}
		}
	}
	if failed != nil && ctx.Err() != nil {
		return 0, false, nil, ctx.Err()
	}
	if errors.Is(failed, errOutOfTurn) {
		again = true
	} else if failed != nil {
		row := rows[n]
		r.publishErrors.Inc()
		r.log.Warn("publishing outbox event failed", attrEventID, row.ID, attrSubject, row.Subject, attrAttempt, row.Attempts+1, attrError, failed.Error())
		if merr := r.outbox.markFailed(ctx, row.ID, failed); merr != nil {
			r.log.Warn("recording outbox failure failed", attrEventID, row.ID, attrError, merr.Error())
		}
		pubErr = fmt.Errorf("events: publish outbox event %s: %w", row.ID, failed)
	}
	if n == 0 {
		return 0, again, pubErr, nil
	}
	ids := make([]string, n)
	for i, row := range rows[:n] {
		ids[i] = row.ID
	}
	if r.beforeMark != nil {
		if err := r.beforeMark(); err != nil {
			return 0, false, nil, err
		}
	}
	if err := r.outbox.markSent(ctx, ids, now()); err != nil {
		return 0, false, nil, err
	}
	r.published.Add(float64(n))
	r.log.Debug("outbox events published", attrCount, n)
	return n, again, pubErr, nil
}

// refreshStats updates the pending and lag gauges.
func (r *Relay) refreshStats(ctx context.Context) {
	n, oldest, err := r.outbox.stats(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("reading outbox statistics failed", attrError, err.Error())
		}
		return
	}
	r.pending.Store(n)
	if oldest.IsZero() {
		r.oldest.Store(0)
	} else {
		r.oldest.Store(oldest.UnixNano())
	}
}

// prune deletes sent events older than the retention period.
func (r *Relay) prune(ctx context.Context) {
	n, err := r.outbox.prune(ctx, now().Add(-r.opt.Retention))
	switch {
	case err != nil:
		if ctx.Err() == nil {
			r.log.Warn("pruning the outbox failed", attrError, err.Error())
		}
	case n > 0:
		r.log.Debug("pruned sent outbox events", attrCount, n)
	}
}
