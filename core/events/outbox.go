package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/store"
)

// Outbox stores events in the database transaction that caused them, for
// the Relay to publish after commit. Adding to the outbox instead of
// publishing directly is what makes "a rolled-back transaction publishes
// nothing" and "nothing is lost on a crash" true.
type Outbox struct {
	db   *store.DB
	wake chan struct{}
	// committed are the OnCommit listeners, replaced as a whole when one
	// is added so that AddAll reads them without a lock.
	committed atomic.Pointer[[]commitListener]
}

// commitListener is one OnCommit registration.
type commitListener struct {
	filter string
	f      func(Event)
}

// NewOutbox returns the outbox kept in db's outbox_events table.
func NewOutbox(db *store.DB) *Outbox {
	return &Outbox{db: db, wake: make(chan struct{}, 1)}
}

// OnCommit calls f with every event added to this outbox whose subject
// matches filter (see ValidateFilter), right after the transaction that
// added it committed, in the goroutine that committed it: on this
// instance only, and before the relay publishes the event, which takes a
// round of the relay and a trip through the bus. It is for what must
// react at once to a change made here and reads the change back from the
// database, such as the live subscriptions of this instance; every
// instance, this one included, still receives the event from the bus.
//
// f must be quick and must not block. It may rarely be called for an
// event whose row a savepoint rolled back (the outbox cannot see
// savepoints), so it must treat the event as a hint to read committed
// state again, never as a fact.
func (o *Outbox) OnCommit(filter string, f func(Event)) error {
	if err := ValidateFilter(filter); err != nil {
		return err
	}
	for {
		old := o.committed.Load()
		var ls []commitListener
		if old != nil {
			ls = append(ls, *old...)
		}
		ls = append(ls, commitListener{filter: filter, f: f})
		if o.committed.CompareAndSwap(old, &ls) {
			return nil
		}
	}
}

// outboxRow is one row of outbox_events.
type outboxRow struct {
	bun.BaseModel `bun:"table:outbox_events"`

	ID         string     `bun:"id,pk"`
	Subject    string     `bun:"subject,notnull"`
	Payload    string     `bun:"payload,notnull"`
	Headers    *string    `bun:"headers"`
	Actor      *string    `bun:"actor"`
	OccurredAt time.Time  `bun:"occurred_at,notnull"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	SentAt     *time.Time `bun:"sent_at"`
	Attempts   int        `bun:"attempts,notnull"`
	LastError  *string    `bun:"last_error"`
}

// Add inserts e into the outbox through the transaction carried by ctx
// (store.DB.RunInTx), so it is stored if and only if that transaction
// commits. After the commit it wakes the relay. Without a transaction in
// ctx the event is stored at once. Add has the shape of the one-method
// outbox ports domain packages declare (Add(ctx, events.Event) error).
func (o *Outbox) Add(ctx context.Context, e Event) error {
	return o.AddAll(ctx, e)
}

// AddAll is Add for several events, inserted in one statement in the given
// order (all or none).
func (o *Outbox) AddAll(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	created := now()
	rows := make([]outboxRow, len(events))
	for i, e := range events {
		if err := e.Validate(); err != nil {
			return err
		}
		r := outboxRow{
			ID:         e.ID,
			Subject:    e.Subject,
			Payload:    string(e.Payload),
			OccurredAt: e.OccurredAt.UTC(),
			CreatedAt:  created,
		}
		if e.Actor != "" {
			r.Actor = &e.Actor
		}
		if len(e.Headers) > 0 {
			b, err := json.Marshal(e.Headers)
			if err != nil {
				return fmt.Errorf("outbox: encode headers of %s: %w", e.ID, err)
			}
			h := string(b)
			r.Headers = &h
		}
		rows[i] = r
	}
	if err := o.insert(ctx, rows); err != nil {
		return fmt.Errorf("outbox: add %d events: %w", len(events), err)
	}
	// The listeners first: they are told before the relay is woken, so
	// the bus's copy of an event rarely reaches them before the event.
	if ls := o.committed.Load(); ls != nil {
		o.tellCommitted(ctx, *ls, events)
	}
	store.AfterCommit(ctx, o.notify)
	return nil
}

// preparedOutboxRows is the most rows insert writes with a statement of
// fixed text, one text per row count: the events of one transaction (a
// placed order's two, a payment's few) are planned once by PostgreSQL.
// Larger batches (bulk actions) go through bun.
const preparedOutboxRows = 8

// outboxInsertColumns are the columns insert writes; attempts starts at
// its default, sent_at and last_error NULL.
const outboxInsertColumns = `INSERT INTO "outbox_events" (id, subject, payload, headers, actor, occurred_at, created_at) VALUES `

// insert writes rows in one statement.
func (o *Outbox) insert(ctx context.Context, rows []outboxRow) error {
	if len(rows) > preparedOutboxRows {
		_, err := o.db.Conn(ctx).NewInsert().Model(&rows).Exec(ctx)
		return err
	}
	var b strings.Builder
	b.WriteString(outboxInsertColumns)
	args := make([]any, 0, 7*len(rows))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?)")
		args = append(args, r.ID, r.Subject, r.Payload, r.Headers, r.Actor, r.OccurredAt, r.CreatedAt)
	}
	_, err := o.db.ExecStmt(ctx, b.String(), args...)
	return err
}

// tellCommitted hands events to the OnCommit listeners ls after the
// commit of the transaction carried by ctx.
func (o *Outbox) tellCommitted(ctx context.Context, ls []commitListener, events []Event) {
	type delivery struct {
		f func(Event)
		e Event
	}
	var ds []delivery
	for _, e := range events {
		for _, l := range ls {
			if subjectMatches(l.filter, e.Subject) {
				ds = append(ds, delivery{l.f, e})
			}
		}
	}
	if len(ds) == 0 {
		return
	}
	store.AfterCommit(ctx, func() {
		for _, d := range ds {
			d.f(d.e)
		}
	})
}

// notify wakes a relay waiting on this outbox.
func (o *Outbox) notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (r outboxRow) event() (Event, error) {
	e := Event{
		ID:         r.ID,
		Subject:    r.Subject,
		OccurredAt: r.OccurredAt.UTC(),
		Payload:    json.RawMessage(r.Payload),
	}
	if r.Actor != nil {
		e.Actor = *r.Actor
	}
	if r.Headers != nil {
		if err := json.Unmarshal([]byte(*r.Headers), &e.Headers); err != nil {
			return Event{}, fmt.Errorf("outbox: decode headers of %s: %w", r.ID, err)
		}
	}
	return e, nil
}

// pending returns up to limit unsent rows in id order.
func (o *Outbox) pending(ctx context.Context, limit int) ([]outboxRow, error) {
	var rows []outboxRow
	err := o.db.Conn(ctx).NewSelect().Model(&rows).
		Where("sent_at IS NULL").
		OrderExpr("id ASC").
		Limit(int64(limit)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox: read pending events: %w", err)
	}
	return rows, nil
}

// pendingLocked is pending for a relay on PostgreSQL, in the
// transaction carried by ctx: it takes the relay's transaction-level
// advisory lock and reads the rows in the same statement, and reads none
// when another relay holds the lock; held tells that case from an empty
// outbox, so the caller can look again soon (the other relay may have
// read before the commit that woke this one). The key is per schema, so test
// schemas (and shops sharing a database server) do not wait for each
// other. The CTE is materialized, so the lock is tried once per
// statement, not once per row.
//
// The same statement turns synchronous_commit off for the rest of the
// transaction: its commit, which stores the marks, then does not wait
// for PostgreSQL's disk flush, which would hold the next round (and every
// other relay) behind it. A crash can lose the last marks, never an
// event: the stream holds every event it acknowledged (that is what the
// marks record), and the next round publishes the unmarked ones again,
// which the stream drops as duplicates.
func (o *Outbox) pendingLocked(ctx context.Context, limit int) (rows []outboxRow, held bool, err error) {
	// One row at least, telling whether the lock was taken; with the
	// pending events, if any, beside it (none: a row of NULLs, read as
	// zero values).
	var read []struct {
		outboxRow
		Held bool `bun:"held"`
	}
	err = o.db.Conn(ctx).NewRaw(`WITH relay_lock AS MATERIALIZED (
			SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || '.outbox_events')) AS held,
				set_config('synchronous_commit', 'off', true) AS async_commit)
		SELECT relay_lock.held, o.id, o.subject, o.payload, o.headers, o.actor, o.occurred_at, o.created_at, o.sent_at, o.attempts, o.last_error
		FROM relay_lock LEFT JOIN LATERAL (
			SELECT * FROM outbox_events WHERE relay_lock.held AND sent_at IS NULL ORDER BY id ASC LIMIT ?) AS o ON true
		ORDER BY o.id ASC`, limit).Scan(ctx, &read)
	if err != nil && !store.IsNoRows(err) {
		return nil, false, fmt.Errorf("outbox: take relay lock and read pending events: %w", err)
	}
	for _, r := range read {
		held = held || r.Held
		if r.ID != "" {
			rows = append(rows, r.outboxRow)
		}
	}
	return rows, held, nil
}

// markSent records that ids were acknowledged by the stream. The condition
// on sent_at keeps the first time when two relays raced.
func (o *Outbox) markSent(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := o.db.Conn(ctx).NewUpdate().Model((*outboxRow)(nil)).
		Set("sent_at = ?", at).
		Where("id IN (?)", bun.In(ids)).
		Where("sent_at IS NULL").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("outbox: mark %d events sent: %w", len(ids), err)
	}
	return nil
}

// markFailed records a failed publish attempt.
func (o *Outbox) markFailed(ctx context.Context, id string, cause error) error {
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	_, err := o.db.Conn(ctx).NewUpdate().Model((*outboxRow)(nil)).
		Set("attempts = attempts + 1").
		Set("last_error = ?", msg).
		Where("id = ?", id).
		Where("sent_at IS NULL").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("outbox: record failure of %s: %w", id, err)
	}
	return nil
}

// stats returns the number of unsent rows and the insert time of the
// oldest one (zero when none).
func (o *Outbox) stats(ctx context.Context) (int64, time.Time, error) {
	n, err := o.db.NewSelect().Model((*outboxRow)(nil)).Where("sent_at IS NULL").Count(ctx)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox: count pending events: %w", err)
	}
	if n == 0 {
		return 0, time.Time{}, nil
	}
	var oldest []time.Time
	err = o.db.NewSelect().Model((*outboxRow)(nil)).Column("created_at").
		Where("sent_at IS NULL").OrderExpr("id ASC").Limit(1).
		Scan(ctx, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox: read oldest pending event: %w", err)
	}
	if len(oldest) == 0 {
		return n, time.Time{}, nil
	}
	return n, oldest[0].UTC(), nil
}

// prune deletes rows sent before cutoff.
func (o *Outbox) prune(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := o.db.NewDelete().Model((*outboxRow)(nil)).
		Where("sent_at IS NOT NULL").
		Where("sent_at < ?", cutoff).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: prune sent events: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Redaction selects stored events and gives them a new payload, for the
// right to erasure (see Outbox.Redact).
type Redaction struct {
	// SubjectPrefix keeps the events whose subject starts with it, e.g.
	// "kassa.customer.": a domain redacts its own events only.
	SubjectPrefix string
	// Field and Value keep the events whose JSON payload holds the string
	// Value at its top-level Field, e.g. "customerId" and "cus_…".
	Field, Value string
	// Payload replaces the payload of each event kept.
	Payload json.RawMessage
}

// Redact replaces the payload of the stored events r selects, sent or not,
// in the transaction carried by ctx, and returns how many it changed.
// Unsent events stay unsent: the relay delivers them with the new payload.
// Copies already published (the stream, consumers) are out of its reach.
func (o *Outbox) Redact(ctx context.Context, r Redaction) (int64, error) {
	if r.Field == "" || r.Value == "" || !json.Valid(r.Payload) {
		return 0, fmt.Errorf("outbox: redaction needs a field, a value and a JSON payload")
	}
	// The LIKE narrows the scan to rows naming the value anywhere; the
	// JSON check then keeps only those holding it in the field.
	var rows []outboxRow
	err := o.db.Conn(ctx).NewSelect().Model(&rows).Column("id", "payload").
		Where("subject LIKE ? ESCAPE '\\'", escapeLike(r.SubjectPrefix)+"%").
		Where("payload LIKE ? ESCAPE '\\'", "%"+escapeLike(r.Value)+"%").
		Scan(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: find events to redact: %w", err)
	}
	var ids []string
	for _, row := range rows {
		var fields map[string]json.RawMessage
		if json.Unmarshal([]byte(row.Payload), &fields) != nil {
			continue
		}
		var v string
		if json.Unmarshal(fields[r.Field], &v) == nil && v == r.Value {
			ids = append(ids, row.ID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := o.db.Conn(ctx).NewUpdate().Model((*outboxRow)(nil)).
		Set("payload = ?", string(r.Payload)).
		Where("id IN (?)", bun.In(ids)).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: redact %d events: %w", len(ids), err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
