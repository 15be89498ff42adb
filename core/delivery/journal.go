package delivery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/core/store"
)

// Defaults of Options.
const (
	// DefaultKeepDelivered is how long a delivered row is kept.
	DefaultKeepDelivered = 7 * 24 * time.Hour
	// DefaultKeepDead is how long a dead letter is kept for replay.
	DefaultKeepDead = 90 * 24 * time.Hour
	// ReplayTimeout is after how long an unfinished replay (its instance
	// crashed) may be replayed again.
	ReplayTimeout = 5 * time.Minute
	// maxErrorBytes bounds a stored error message.
	maxErrorBytes = 1000
	// cleanupBatch is how many rows one DELETE of the cleanup removes.
	cleanupBatch = 500
)

// Options configure New.
type Options struct {
	// Box seals undelivered events at rest. Required.
	Box *secret.Box
	// Authz guards List and Replay (plugin read and write: deliveries
	// are the plugins' work). Required.
	Authz authz.Authorizer
	// Clock dates tries; nil is the system clock.
	Clock clock.Clock
	// Logger receives journal write failures; nil is slog.Default().
	Logger *slog.Logger
	// KeepDelivered and KeepDead are how long rows are kept; zero is
	// DefaultKeepDelivered and DefaultKeepDead.
	KeepDelivered, KeepDead time.Duration
}

// Journal records what consumers did with events and replays dead
// letters. It is safe for concurrent use.
type Journal struct {
	db    *store.DB
	store *journalStore
	opt   Options
	log   *slog.Logger

	mu       sync.RWMutex
	handlers map[string]events.Handler

	// delivered queues the delivered tries waiting for the statement
	// that records them (recordDelivered).
	deliveredMu sync.Mutex
	delivered   []*pendingDelivery
	flushing    bool
}

// pendingDelivery is a delivered try waiting in recordDelivered.
type pendingDelivery struct {
	a    attempt
	err  error
	done chan struct{}
}

// New returns a journal over db.
func New(db *store.DB, opt Options) (*Journal, error) {
	switch {
	case db == nil:
		return nil, errors.New("delivery: no database")
	case opt.Box == nil:
		return nil, errors.New("delivery: Options.Box is required")
	case opt.Authz == nil:
		return nil, errors.New("delivery: Options.Authz is required")
	case opt.KeepDelivered < 0 || opt.KeepDead < 0:
		return nil, errors.New("delivery: retention must not be negative")
	}
	if opt.Clock == nil {
		opt.Clock = clock.System
	}
	if opt.KeepDelivered == 0 {
		opt.KeepDelivered = DefaultKeepDelivered
	}
	if opt.KeepDead == 0 {
		opt.KeepDead = DefaultKeepDead
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Journal{db: db, store: &journalStore{db: db}, opt: opt, log: log.With("component", "delivery"),
		handlers: map[string]events.Handler{}}, nil
}

func (j *Journal) now() time.Time { return j.opt.Clock.Now().UTC().Truncate(time.Microsecond) }

// WrapOption tunes a journaled consumer (Wrap).
type WrapOption func(*wrapConfig)

type wrapConfig struct {
	wants func(context.Context, events.Event) bool
}

// OnlyWanted makes the consumer skip the events wants says it has nothing
// to do for (no enabled channel or rule would act on them): such an event
// is acknowledged at once, without calling the handler and without a
// journal row, so an idle consumer costs no write and no read per event.
// wants must be cheap (in-memory state, such as the enabled-plugin lists)
// and answer true when it cannot tell, so the handler runs and fails or
// retries as it would. Replay always calls the handler, and so does a
// redelivery (events.Delivery above 1), which may close a RETRYING row.
func OnlyWanted(wants func(ctx context.Context, e events.Event) bool) WrapOption {
	return func(c *wrapConfig) { c.wants = wants }
}

// Wrap returns h journaled as consumer: each call's outcome is recorded,
// and the event is sealed while it is not delivered. After maxAttempts
// failed tries (the bus's maximum deliveries) or a permanent error, the
// row is a dead letter and the bus is told to stop (events.Permanent).
// Wrap also registers h for Replay under consumer; a consumer name is
// wrapped once per journal. Events OnlyWanted filters out leave no row.
func (j *Journal) Wrap(consumer string, h events.Handler, maxAttempts int, opts ...WrapOption) events.Handler {
	var cfg wrapConfig
	for _, o := range opts {
		o(&cfg)
	}
	j.mu.Lock()
	j.handlers[consumer] = h
	j.mu.Unlock()
	return func(ctx context.Context, e events.Event) error {
		// Only a first delivery is skipped: a redelivery may follow a
		// failed try whose RETRYING row must end DELIVERED, as the
		// handler's no-op makes it.
		if cfg.wants != nil && events.Delivery(ctx) <= 1 && !cfg.wants(ctx, e) {
			return nil
		}
		err := h(ctx, e)
		a := attempt{consumer: consumer, eventID: e.ID, subject: e.Subject, occurredAt: e.OccurredAt.UTC(), at: j.now(),
			status: Delivered, maxAttempts: maxAttempts}
		if err != nil {
			a.status, a.lastError = Retrying, clip(err.Error())
			if events.IsPermanent(err) {
				a.status = Dead
			}
			if a.sealed, err = j.seal(consumer, e); err != nil {
				j.log.Error("seal undelivered event", "consumer", consumer, "event_id", e.ID, "error", err)
			}
		}
		// The journal must not be what fails the delivery: a context
		// past the handler's ack deadline still records.
		if a.status == Delivered {
			if rerr := j.recordDelivered(context.WithoutCancel(ctx), a); rerr != nil {
				j.log.Error("record delivery", "consumer", consumer, "event_id", e.ID, "error", rerr)
			}
			return nil
		}
		status, _, rerr := j.store.Record(context.WithoutCancel(ctx), a)
		if rerr != nil {
			j.log.Error("record delivery", "consumer", consumer, "event_id", e.ID, "error", rerr)
		}
		herr := errors.New(a.lastError)
		if status == Dead || a.status == Dead {
			j.log.Warn("dead letter", "consumer", consumer, "event_id", e.ID, "subject", e.Subject, "error", a.lastError)
			return events.Permanent(herr)
		}
		return herr
	}
}

// recordDelivered records a delivered try and returns once it is
// written. Every placed order is delivered to several consumers at about
// the same moment, so tries are grouped: the first caller writes its
// own, and whoever arrives while a statement is under way waits and is
// written by the next one, together with the others that queued meanwhile
// (no timer: a lone try is written at once). The caller acknowledges the
// event only after its row is written, as before.
func (j *Journal) recordDelivered(ctx context.Context, a attempt) error {
	p := &pendingDelivery{a: a, done: make(chan struct{})}
	j.deliveredMu.Lock()
	j.delivered = append(j.delivered, p)
	if j.flushing {
		j.deliveredMu.Unlock()
		<-p.done
		return p.err
	}
	j.flushing = true
	for len(j.delivered) > 0 {
		batch := j.delivered
		j.delivered = nil
		j.deliveredMu.Unlock()
		j.flushDelivered(ctx, batch)
		j.deliveredMu.Lock()
	}
	j.flushing = false
	j.deliveredMu.Unlock()
	<-p.done
	return p.err
}

// maxDeliveredPerStatement bounds the rows of one statement, and so the
// number of statement texts prepared on each connection.
const maxDeliveredPerStatement = 32

// flushDelivered writes a batch of delivered tries, a row named twice
// (a redelivery racing its first delivery) in a statement of its own, at
// most maxDeliveredPerStatement rows a statement.
func (j *Journal) flushDelivered(ctx context.Context, batch []*pendingDelivery) {
	type key struct{ consumer, eventID string }
	for len(batch) > 0 {
		seen := make(map[key]bool, len(batch))
		var now, later []*pendingDelivery
		as := make([]attempt, 0, len(batch))
		for _, p := range batch {
			k := key{p.a.consumer, p.a.eventID}
			if seen[k] || len(now) == maxDeliveredPerStatement {
				later = append(later, p)
				continue
			}
			seen[k] = true
			now = append(now, p)
			as = append(as, p.a)
		}
		err := j.store.RecordDelivered(ctx, as)
		for _, p := range now {
			p.err = err
			close(p.done)
		}
		batch = later
	}
}

// clip bounds an error message, keeping it valid UTF-8.
func clip(s string) string {
	if len(s) <= maxErrorBytes {
		return s
	}
	s = s[:maxErrorBytes]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// sealedEvent is what is kept of an undelivered event.
type sealedEvent struct {
	Actor   string            `json:"actor,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Payload json.RawMessage   `json:"payload"`
}

// ad binds a sealed event to its row: a sealed value copied to another
// row does not open.
func ad(consumer, eventID string) []byte {
	return []byte("event_deliveries/" + consumer + "/" + eventID)
}

func (j *Journal) seal(consumer string, e events.Event) (string, error) {
	plain, err := json.Marshal(sealedEvent{Actor: e.Actor, Headers: e.Headers, Payload: e.Payload})
	if err != nil {
		return "", err
	}
	sealed, err := j.opt.Box.Seal(plain, ad(consumer, e.ID))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sealed), nil
}

func (j *Journal) open(r row) (events.Event, error) {
	e := events.Event{ID: r.EventID, Subject: r.Subject, OccurredAt: r.OccurredAt.UTC()}
	if r.SealedEvent == "" {
		return e, fmt.Errorf("delivery: event %s to %s was not kept", r.EventID, r.Consumer)
	}
	sealed, err := base64.StdEncoding.DecodeString(r.SealedEvent)
	if err != nil {
		return e, fmt.Errorf("delivery: decode event %s: %w", r.EventID, err)
	}
	plain, err := j.opt.Box.Open(sealed, ad(r.Consumer, r.EventID))
	if err != nil {
		return e, fmt.Errorf("delivery: open event %s: %w", r.EventID, err)
	}
	var s sealedEvent
	if err := json.Unmarshal(plain, &s); err != nil {
		return e, fmt.Errorf("delivery: decode event %s: %w", r.EventID, err)
	}
	e.Actor, e.Headers, e.Payload = s.Actor, s.Headers, s.Payload
	return e, nil
}

// Get returns one consumer's delivery of one event. Needs plugin read.
func (j *Journal) Get(ctx context.Context, consumer, eventID string) (*Delivery, error) {
	if err := j.opt.Authz.Can(ctx, authz.Plugin, authz.Read); err != nil {
		return nil, err
	}
	r, found, err := j.store.Get(ctx, consumer, eventID)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound()
	}
	d := r.delivery()
	return &d, nil
}

// List returns a page of deliveries, newest try first. Needs plugin read.
func (j *Journal) List(ctx context.Context, f Filter, req page.Request) (page.Page[Delivery], error) {
	if err := j.opt.Authz.Can(ctx, authz.Plugin, authz.Read); err != nil {
		return page.Page[Delivery]{}, err
	}
	if f.Status != "" && !f.Status.Valid() {
		return page.Page[Delivery]{}, invalidStatus()
	}
	rows, err := j.store.List(ctx, f, req)
	if err != nil {
		return page.Page[Delivery]{}, err
	}
	p := page.Page[Delivery]{HasPrevious: req.After != nil}
	if len(rows) > req.First {
		rows, p.HasNext = rows[:req.First], true
	}
	for _, r := range rows {
		p.Items = append(p.Items, r.delivery())
		p.Cursors = append(p.Cursors, cursor(r))
	}
	return p, nil
}

// Replay hands a dead letter to its consumer again, now, and records the
// outcome: the delivery is DELIVERED, or DEAD again with the new error
// (returned as well, wrapped). Needs plugin write. Only a dead letter is
// replayed, once at a time: a delivery the bus still retries is left to
// it. The consumer runs as the platform (a system subject), as it does
// when the bus delivers.
func (j *Journal) Replay(ctx context.Context, consumer, eventID string) (*Delivery, error) {
	if err := j.opt.Authz.Can(ctx, authz.Plugin, authz.Write); err != nil {
		return nil, err
	}
	j.mu.RLock()
	h, ok := j.handlers[consumer]
	j.mu.RUnlock()
	if !ok {
		return nil, consumerUnknown()
	}
	now := j.now()
	r, claimed, err := j.store.ClaimReplay(ctx, consumer, eventID, now, now.Add(-ReplayTimeout))
	if err != nil {
		return nil, err
	}
	if !claimed {
		cur, found, err := j.store.Get(ctx, consumer, eventID)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, notFound()
		}
		return nil, notDead(Status(cur.Status))
	}
	by := authz.SubjectFrom(ctx).ID
	e, herr := j.open(r)
	if herr == nil {
		hctx := authz.WithSubject(context.WithoutCancel(ctx), authz.SystemSubject("delivery.replay"))
		herr = func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("consumer panicked: %v", p)
				}
			}()
			return h(hctx, e)
		}()
	}
	status, lastError, sealed := Delivered, "", ""
	if herr != nil {
		status, lastError, sealed = Dead, clip(herr.Error()), r.SealedEvent
	}
	if err := j.store.FinishReplay(context.WithoutCancel(ctx), consumer, eventID, status, lastError, sealed, by, j.now()); err != nil {
		return nil, err
	}
	got, _, err := j.store.Get(ctx, consumer, eventID)
	if err != nil {
		return nil, err
	}
	d := got.delivery()
	if herr != nil {
		j.log.Warn("replay failed", "consumer", consumer, "event_id", eventID, "error", lastError)
		return &d, fmt.Errorf("%w: %v", ErrReplayFailed, herr)
	}
	j.log.Info("dead letter replayed", "consumer", consumer, "event_id", eventID, "by", by)
	return &d, nil
}

// ErrReplayFailed wraps the consumer's error when a replay did not
// deliver; Replay then also returns the delivery, DEAD again.
var ErrReplayFailed = errors.New("delivery: the consumer failed again")

// Cleanup deletes delivered rows older than KeepDelivered and dead letters
// older than KeepDead, in batches; the delivery.cleanup worker runs it.
func (j *Journal) Cleanup(ctx context.Context) error {
	now := j.now()
	for _, k := range []struct {
		status Status
		keep   time.Duration
	}{{Delivered, j.opt.KeepDelivered}, {Dead, j.opt.KeepDead}} {
		for {
			n, err := j.store.DeleteBefore(ctx, k.status, now.Add(-k.keep), cleanupBatch)
			if err != nil {
				return err
			}
			if n < cleanupBatch {
				break
			}
		}
	}
	return nil
}
