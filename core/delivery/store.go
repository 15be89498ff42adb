package delivery

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store"
)

// journalStore is the persistence of the journal: the only place with
// SQL. Every method runs on the transaction carried by ctx, if any.
type journalStore struct {
	db *store.DB
}

// row is a journal row as read back.
type row struct {
	Consumer       string     `bun:"consumer"`
	EventID        string     `bun:"event_id"`
	Subject        string     `bun:"subject"`
	Status         string     `bun:"status"`
	Attempts       int        `bun:"attempts"`
	LastError      string     `bun:"last_error"`
	SealedEvent    string     `bun:"sealed_event"`
	OccurredAt     time.Time  `bun:"occurred_at"`
	FirstAttemptAt time.Time  `bun:"first_attempt_at"`
	LastAttemptAt  time.Time  `bun:"last_attempt_at"`
	ReplayedBy     string     `bun:"replayed_by"`
	ReplayedAt     *time.Time `bun:"replayed_at"`
}

func (r row) delivery() Delivery {
	d := Delivery{
		Consumer: r.Consumer, EventID: r.EventID, Subject: r.Subject, Status: Status(r.Status),
		Attempts: r.Attempts, LastError: r.LastError, OccurredAt: r.OccurredAt.UTC(),
		FirstAttemptAt: r.FirstAttemptAt.UTC(), LastAttemptAt: r.LastAttemptAt.UTC(), ReplayedBy: r.ReplayedBy,
	}
	if r.ReplayedAt != nil {
		t := r.ReplayedAt.UTC()
		d.ReplayedAt = &t
	}
	return d
}

const columns = `consumer, event_id, subject, status, attempts, last_error, sealed_event, occurred_at,
	first_attempt_at, last_attempt_at, replayed_by, replayed_at`

// attempt is the outcome of one try to record.
type attempt struct {
	consumer, eventID, subject string
	occurredAt, at             time.Time
	// status is Delivered, or Dead for a permanent failure, or Retrying.
	status    Status
	lastError string
	sealed    string
	// maxAttempts turns a Retrying row Dead once it reached that many
	// tries.
	maxAttempts int
}

// Record adds one try to the (consumer, event) row, creating it on the
// first, and returns the row's status and tries afterwards.
func (s *journalStore) Record(ctx context.Context, a attempt) (Status, int, error) {
	first := a.status
	if first == Retrying && a.maxAttempts <= 1 {
		first = Dead
	}
	var got []struct {
		Status   string `bun:"status"`
		Attempts int    `bun:"attempts"`
	}
	err := s.db.Conn(ctx).NewRaw(`INSERT INTO event_deliveries
			(consumer, event_id, subject, status, attempts, last_error, sealed_event, occurred_at, first_attempt_at, last_attempt_at)
		VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)
		ON CONFLICT (consumer, event_id) DO UPDATE SET
			status = CASE
				WHEN excluded.status = 'DELIVERED' THEN 'DELIVERED'
				WHEN excluded.status = 'DEAD' OR event_deliveries.attempts + 1 >= ? THEN 'DEAD'
				ELSE 'RETRYING' END,
			attempts = event_deliveries.attempts + 1,
			last_error = excluded.last_error,
			sealed_event = excluded.sealed_event,
			last_attempt_at = excluded.last_attempt_at
		RETURNING status, attempts`,
		a.consumer, a.eventID, a.subject, string(first), a.lastError, a.sealed, a.occurredAt, a.at, a.at, a.maxAttempts,
	).Scan(ctx, &got)
	if err != nil {
		return "", 0, fmt.Errorf("delivery: record %s of %s: %w", a.consumer, a.eventID, err)
	}
	if len(got) != 1 {
		return "", 0, fmt.Errorf("delivery: record %s of %s: no row returned", a.consumer, a.eventID)
	}
	return Status(got[0].Status), got[0].Attempts, nil
}

// recordDeliveredText is the upsert of n delivered tries, the columns of
// each row bound in RecordDelivered's order.
func recordDeliveredText(n int) string {
	row := "(?, ?, ?, 'DELIVERED', 1, '', '', ?, ?, ?)"
	return `INSERT INTO event_deliveries
			(consumer, event_id, subject, status, attempts, last_error, sealed_event, occurred_at, first_attempt_at, last_attempt_at)
		VALUES ` + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") + `
		ON CONFLICT (consumer, event_id) DO UPDATE SET status = 'DELIVERED',
			attempts = event_deliveries.attempts + 1,
			last_error = excluded.last_error,
			sealed_event = excluded.sealed_event,
			last_attempt_at = excluded.last_attempt_at`
}

// RecordDelivered adds one delivered try to each (consumer, event) row
// of as, creating the rows of first tries, in one statement: what Record
// does for a Delivered attempt, for several at once. as must not name a
// row twice (PostgreSQL refuses to update one row twice in a statement).
// The statement is prepared, one text per number of rows.
func (s *journalStore) RecordDelivered(ctx context.Context, as []attempt) error {
	if len(as) == 0 {
		return nil
	}
	args := make([]any, 0, 6*len(as))
	for _, a := range as {
		args = append(args, a.consumer, a.eventID, a.subject, a.occurredAt, a.at, a.at)
	}
	if _, err := s.db.ExecStmt(ctx, recordDeliveredText(len(as)), args...); err != nil {
		return fmt.Errorf("delivery: record %d deliveries: %w", len(as), err)
	}
	return nil
}

// Get reads one row; found is false when there is none.
func (s *journalStore) Get(ctx context.Context, consumer, eventID string) (row, bool, error) {
	var rows []row
	err := s.db.Conn(ctx).NewRaw("SELECT "+columns+" FROM event_deliveries WHERE consumer = ? AND event_id = ?",
		consumer, eventID).Scan(ctx, &rows)
	if err != nil && !store.IsNoRows(err) {
		return row{}, false, fmt.Errorf("delivery: read %s of %s: %w", consumer, eventID, err)
	}
	if len(rows) == 0 {
		return row{}, false, nil
	}
	return rows[0], true, nil
}

// ClaimReplay marks a dead letter (or a replay that started before
// staleBefore and never finished) as being replayed and returns it; ok is
// false when the row is not in such a state, so two staff replaying at
// once hand the event over once.
func (s *journalStore) ClaimReplay(ctx context.Context, consumer, eventID string, now, staleBefore time.Time) (row, bool, error) {
	r, err := s.db.Conn(ctx).NewRaw(`UPDATE event_deliveries SET status = 'REPLAYING', last_attempt_at = ?
		WHERE consumer = ? AND event_id = ? AND (status = 'DEAD' OR (status = 'REPLAYING' AND last_attempt_at < ?))`,
		now, consumer, eventID, staleBefore).Exec(ctx)
	if err != nil {
		return row{}, false, fmt.Errorf("delivery: claim replay of %s to %s: %w", eventID, consumer, err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return row{}, false, nil
	}
	got, found, err := s.Get(ctx, consumer, eventID)
	if err != nil || !found {
		return row{}, false, err
	}
	return got, true, nil
}

// FinishReplay records a replay's outcome.
func (s *journalStore) FinishReplay(ctx context.Context, consumer, eventID string, status Status, lastError, sealed, by string, at time.Time) error {
	_, err := s.db.Conn(ctx).NewRaw(`UPDATE event_deliveries SET status = ?, attempts = attempts + 1, last_error = ?,
			sealed_event = ?, last_attempt_at = ?, replayed_by = ?, replayed_at = ?
		WHERE consumer = ? AND event_id = ?`,
		string(status), lastError, sealed, at, by, at, consumer, eventID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delivery: finish replay of %s to %s: %w", eventID, consumer, err)
	}
	return nil
}

// List reads a page, newest try first.
func (s *journalStore) List(ctx context.Context, f Filter, req page.Request) ([]row, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Consumer != "" {
		where = append(where, "consumer = ?")
		args = append(args, f.Consumer)
	}
	if req.After != nil {
		at, consumer, eventID, err := decodeKey(req.After)
		if err != nil {
			return nil, err
		}
		where = append(where, "(last_attempt_at < ? OR (last_attempt_at = ? AND (consumer < ? OR (consumer = ? AND event_id < ?))))")
		args = append(args, at, at, consumer, consumer, eventID)
	}
	q := "SELECT " + columns + " FROM event_deliveries"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY last_attempt_at DESC, consumer DESC, event_id DESC LIMIT ?"
	args = append(args, req.First+1)
	var rows []row
	if err := s.db.Conn(ctx).NewRaw(q, args...).Scan(ctx, &rows); err != nil && !store.IsNoRows(err) {
		return nil, fmt.Errorf("delivery: list: %w", err)
	}
	return rows, nil
}

// DeleteBefore deletes up to limit rows of status last tried before t and
// returns how many it deleted.
func (s *journalStore) DeleteBefore(ctx context.Context, status Status, t time.Time, limit int) (int64, error) {
	r, err := s.db.Conn(ctx).NewRaw(`DELETE FROM event_deliveries WHERE (consumer, event_id) IN (
			SELECT consumer, event_id FROM event_deliveries WHERE status = ? AND last_attempt_at < ?
			ORDER BY last_attempt_at LIMIT ?)`,
		string(status), t, limit).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delivery: delete old %s rows: %w", status, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delivery: delete old %s rows: %w", status, err)
	}
	return n, nil
}

// cursor returns the page cursor of a row.
func cursor(r row) page.Cursor {
	return page.Cursor{Key: r.LastAttemptAt.UTC().Format(time.RFC3339Nano), ID: r.Consumer + " " + r.EventID}
}

func decodeKey(c *page.Cursor) (time.Time, string, string, error) {
	at, err := time.Parse(time.RFC3339Nano, c.Key)
	consumer, eventID, ok := strings.Cut(c.ID, " ")
	if err != nil || !ok {
		return time.Time{}, "", "", invalidCursor()
	}
	return at, consumer, eventID, nil
}
