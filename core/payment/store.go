package payment

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/transition"
)

// paymentStore is the payments' persistence, the only place with SQL.
// Every method runs on the transaction carried by ctx, if any.
type paymentStore struct {
	db *store.DB
}

func newPaymentStore(db *store.DB) *paymentStore { return &paymentStore{db: db} }

func (s *paymentStore) conn(ctx context.Context) bun.IDB { return s.db.Conn(ctx) }

// insertModel writes a new row of a bun model (a *T) with a statement
// of fixed text, its values bound, and suffix after them (an ON
// CONFLICT clause).
func (s *paymentStore) insertModel(ctx context.Context, table string, model any, suffix string) (sql.Result, error) {
	cols := s.db.ModelColumns(model, "")
	vals := s.db.ModelValues(model)
	return s.db.ExecStmt(ctx, "INSERT INTO \""+table+"\" ("+cols+") VALUES ("+store.Placeholders(len(vals))+")"+suffix, vals...)
}

// InsertAttempt writes a new attempt.
func (s *paymentStore) InsertAttempt(ctx context.Context, a *Attempt) error {
	if _, err := s.insertModel(ctx, "payment_attempts", a, ""); err != nil {
		return fmt.Errorf("payment: insert attempt: %w", err)
	}
	return nil
}

// closeHold is what payment_starts.attempt_id says while the order's
// open attempts are being closed before it is cancelled (ClosePayments):
// no attempt has this id, so no start takes the row over until its lease
// lapses (a crash mid-close) or the close gives it back.
const closeHold = "close"

// startFree is the condition on which a start (or a close) takes over
// the order's row of payment_starts (now as its two arguments): the
// attempt it names has had its gateway's first answer (it left PENDING,
// or has a reference or an action) or its lease ran out, and holds no
// money (attemptFree); or a close holds it and its lease ran out
// (closeLapsed). The attempt is looked up in a positive EXISTS, never NOT
// EXISTS: one this statement's snapshot cannot see yet (started a moment
// ago) keeps the start.
const startFree = closeLapsed + `
	OR EXISTS (SELECT 1 FROM payment_attempts h WHERE h.id = payment_starts.attempt_id AND ` + attemptFree + `)`

// closeLapsed is startFree's condition on a close's hold (now as its
// argument).
const closeLapsed = `(payment_starts.attempt_id = '` + closeHold + `' AND payment_starts.leased_until <= ?)`

// attemptFree is startFree's condition on h, the attempt the row names
// (now as its argument).
const attemptFree = `h.state NOT IN ('AUTHORIZED', 'CAPTURED')
		AND (payment_starts.leased_until <= ? OR h.state <> 'PENDING' OR h.gateway_ref <> '' OR h.action_type <> '')`

// startUpsert takes the order's row of payment_starts for a new attempt
// (order, attempt, lease end, now, now, paid, paid, paid): it inserts the
// row, or takes it over on startFree. paid is, for an attempt asking the
// rest of a PARTIALLY_PAID order, what was paid of the order (captured
// less refunded) when its amount was computed, else -1. Such an attempt
// may also take the row from an attempt that captured part of the order
// (CAPTURED: it holds money, which startFree refuses), and takes it, from
// any attempt, only while the order's balance still says paid: money
// captured since (the amount asked would be too much) refuses the start.
// The CAPTURED case is in startFree's one lookup of the attempt by its
// key: a second EXISTS on the attempts beside it is planned by
// PostgreSQL as a scan of them all. The conditions are read on the row
// the upsert holds: on PostgreSQL a second start waits for the first's
// transaction and then reads the row it wrote. An order without a row
// yet has had no start, nor any money. Taking the row over also needs no
// attempt of the order open (PENDING or UNKNOWN): Create closes them
// first, so that one attempt can be paid at a time. A count, not a NOT
// EXISTS, which PostgreSQL plans as a hashed scan of every open attempt.
const startUpsert = `INSERT INTO payment_starts (order_id, attempt_id, leased_until) VALUES (?, ?, ?)
	ON CONFLICT (order_id) DO UPDATE SET attempt_id = excluded.attempt_id, leased_until = excluded.leased_until
	WHERE (` + closeLapsed + `
		OR EXISTS (SELECT 1 FROM payment_attempts h WHERE h.id = payment_starts.attempt_id
			AND ((` + attemptFree + `) OR (h.state = 'CAPTURED' AND CAST(? AS BIGINT) >= 0))))
	AND (CAST(? AS BIGINT) < 0 OR EXISTS (SELECT 1 FROM payment_balances b
		WHERE b.order_id = payment_starts.order_id AND b.captured - b.refunded = ?))
	AND (SELECT count(*) FROM payment_attempts o WHERE o.order_id = payment_starts.order_id AND o.state IN ('PENDING', 'UNKNOWN')) = 0`

// holdUpsert takes the order's row of payment_starts for a close (order,
// lease end, now, now), on the condition a start takes it on, or from
// another close: closes may overlap (each closes the trades with the
// same idempotency keys), starts may not.
const holdUpsert = `INSERT INTO payment_starts (order_id, attempt_id, leased_until) VALUES (?, '` + closeHold + `', ?)
	ON CONFLICT (order_id) DO UPDATE SET attempt_id = excluded.attempt_id, leased_until = excluded.leased_until
	WHERE payment_starts.attempt_id = '` + closeHold + `' OR ` + startFree

// HoldStarts takes the order's start for a close until leasedUntil, and
// reports whether it did: not while an attempt awaits its gateway's first
// answer (or holds money). While held, every start of the order is
// refused (PAYMENT_IN_PROGRESS).
func (s *paymentStore) HoldStarts(ctx context.Context, orderID string, leasedUntil, now time.Time) (bool, error) {
	res, err := s.db.ExecStmt(ctx, holdUpsert, orderID, leasedUntil, now, now)
	if err != nil {
		return false, fmt.Errorf("payment: hold the starts of %s: %w", orderID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("payment: hold the starts of %s: %w", orderID, err)
	}
	return n == 1, nil
}

// KeepHold renews a close's hold on the order's start until leasedUntil,
// and reports whether the close still held it (no start took it over
// after its lease ran out). On PostgreSQL the update keeps the row until
// the caller's transaction ends: a start racing it waits, then finds the
// row held.
func (s *paymentStore) KeepHold(ctx context.Context, orderID string, leasedUntil time.Time) (bool, error) {
	res, err := s.db.ExecStmt(ctx, "UPDATE payment_starts SET leased_until = ? WHERE order_id = ? AND attempt_id = '"+closeHold+"'", leasedUntil, orderID)
	if err != nil {
		return false, fmt.Errorf("payment: keep the hold on %s: %w", orderID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("payment: keep the hold on %s: %w", orderID, err)
	}
	return n == 1, nil
}

// Held reports whether a close holds the order's start now (a cancel or
// the deadline closer closing its payments).
func (s *paymentStore) Held(ctx context.Context, orderID string, now time.Time) (bool, error) {
	n, err := s.conn(ctx).NewSelect().Table("payment_starts").
		Where("order_id = ? AND attempt_id = ? AND leased_until > ?", orderID, closeHold, now).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("payment: read the hold on %s: %w", orderID, err)
	}
	return n > 0, nil
}

// ReleaseHold gives a close's hold back (its lease ends now), so that
// the buyer may start a payment again at once.
func (s *paymentStore) ReleaseHold(ctx context.Context, orderID string, now time.Time) error {
	if _, err := s.db.ExecStmt(ctx, "UPDATE payment_starts SET leased_until = ? WHERE order_id = ? AND attempt_id = '"+closeHold+"'", now, orderID); err != nil {
		return fmt.Errorf("payment: release the hold on %s: %w", orderID, err)
	}
	return nil
}

// ConfirmedByHand reports whether staff confirmed money received on the
// attempt (a bank transfer confirmation applied to it).
func (s *paymentStore) ConfirmedByHand(ctx context.Context, attemptID string) (bool, error) {
	n, err := s.conn(ctx).NewSelect().Table("payment_gateway_events").
		Where("attempt_id = ? AND type = ? AND outcome = ?", attemptID, eventBankTransferConfirmed, OutcomeApplied).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("payment: read the confirmations of %s: %w", attemptID, err)
	}
	return n > 0, nil
}

// OpenAttempts counts the order's attempts still open (PENDING, UNKNOWN).
func (s *paymentStore) OpenAttempts(ctx context.Context, orderID string) (int, error) {
	n, err := s.conn(ctx).NewSelect().Table("payment_attempts").
		Where("order_id = ? AND state IN (?)", orderID, bun.In([]State{StatePending, StateUnknown})).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("payment: count the open attempts of %s: %w", orderID, err)
	}
	return int(n), nil
}

// StartAttempt writes a, a new attempt, if its order's payment may start
// now (startUpsert), leasing the order's start to it until leasedUntil,
// and reports whether it did. paid is what was paid of the order when a
// asks for its rest (a PARTIALLY_PAID order), else -1. On PostgreSQL the
// two writes are one statement; SQLite, which has no writing CTE, runs
// two in the same transaction, which SQLite's writers take one at a
// time.
func (s *paymentStore) StartAttempt(ctx context.Context, a *Attempt, paid int64, leasedUntil, now time.Time) (bool, error) {
	start := []any{a.OrderID, a.ID, leasedUntil, now, now, paid, paid, paid}
	if s.db.Dialect == store.Postgres {
		vals := s.db.ModelValues(a)
		res, err := s.db.ExecStmt(ctx, "WITH st AS ("+startUpsert+" RETURNING 1) INSERT INTO payment_attempts ("+
			s.db.ModelColumns(a, "")+") SELECT "+store.Placeholders(len(vals))+" WHERE EXISTS (SELECT 1 FROM st)", append(start, vals...)...)
		if err != nil {
			return false, fmt.Errorf("payment: start attempt: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, fmt.Errorf("payment: start attempt: %w", err)
		}
		return n == 1, nil
	}
	res, err := s.db.ExecStmt(ctx, startUpsert, start...)
	if err != nil {
		return false, fmt.Errorf("payment: start attempt: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		if err != nil {
			return false, fmt.Errorf("payment: start attempt: %w", err)
		}
		return false, nil
	}
	return true, s.InsertAttempt(ctx, a)
}

// Attempt reads one attempt, with a statement of fixed text: every fact
// applied reads its attempt.
func (s *paymentStore) Attempt(ctx context.Context, id string) (*Attempt, error) {
	var a Attempt
	n, err := s.db.ScanStmt(ctx, &a, "SELECT "+s.db.ModelColumns(&a, "")+" FROM \"payment_attempts\" WHERE id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("payment: read attempt %s: %w", id, err)
	}
	if n == 0 {
		return nil, attemptNotFound()
	}
	return &a, nil
}

// AttemptByRef finds the attempt a gateway knows by its own reference.
func (s *paymentStore) AttemptByRef(ctx context.Context, gatewayID, ref string) (*Attempt, error) {
	var a Attempt
	err := s.conn(ctx).NewSelect().Model(&a).Where("gateway_id = ? AND gateway_ref = ?", gatewayID, ref).
		OrderExpr("id").Limit(1).Scan(ctx)
	if store.IsNoRows(err) {
		return nil, attemptNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("payment: read attempt by reference: %w", err)
	}
	return &a, nil
}

// AttemptsOfOrders returns the attempts of the orders, oldest first.
func (s *paymentStore) AttemptsOfOrders(ctx context.Context, orderIDs []string) ([]*Attempt, error) {
	var out []*Attempt
	if len(orderIDs) == 0 {
		return out, nil
	}
	err := s.conn(ctx).NewSelect().Model(&out).Where("order_id IN (?)", bun.In(orderIDs)).OrderExpr("order_id, id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("payment: read attempts: %w", err)
	}
	return out, nil
}

// UpdateAttempt writes the named columns of a (never its state: the
// machine moves that) and updated_at, with a statement of fixed text per
// list of columns.
func (s *paymentStore) UpdateAttempt(ctx context.Context, a *Attempt, columns ...string) error {
	set := append(s.attemptColumns(a, columns...), transition.Column{Name: "updated_at", Value: a.UpdatedAt})
	var q strings.Builder
	args := make([]any, 0, len(set)+1)
	q.WriteString("UPDATE \"payment_attempts\" SET ")
	for i, c := range set {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(c.Name + " = ?")
		args = append(args, c.Value)
	}
	q.WriteString(" WHERE id = ?")
	_, err := s.db.ExecStmt(ctx, q.String(), append(args, a.ID)...)
	if err != nil {
		return fmt.Errorf("payment: update attempt %s: %w", a.ID, err)
	}
	return nil
}

// attemptColumns returns the named columns of a with their values as
// bun writes them, for a move that writes them with the state
// (transition.Move.Set). A name that is no column of Attempt panics: the
// names are written in code.
func (s *paymentStore) attemptColumns(a *Attempt, names ...string) []transition.Column {
	if len(names) == 0 {
		return nil
	}
	t := s.db.DB.Dialect().Tables().Get(reflect.TypeFor[Attempt]())
	v := reflect.ValueOf(a).Elem()
	out := make([]transition.Column, len(names))
	for i, n := range names {
		f := t.LookupField(n)
		if f == nil {
			panic("payment: no attempt column " + n)
		}
		out[i] = transition.Column{Name: n, Value: f.Value(v).Interface()}
	}
	return out
}

// ScheduleAttempt sets when the reconciler asks about the attempt next
// (nil: never again) and how often it asked.
func (s *paymentStore) ScheduleAttempt(ctx context.Context, id string, next *time.Time, checks int64, now time.Time) error {
	_, err := s.conn(ctx).NewUpdate().Table("payment_attempts").
		Set("next_check_at = ?", next).Set("check_count = ?", checks).Set("updated_at = ?", now).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("payment: schedule attempt %s: %w", id, err)
	}
	return nil
}

// InsertEvent records a gateway fact and reports whether it is new: a
// second insert of the same (gateway, gateway event id) inserts nothing,
// which is what makes a fact apply once. On PostgreSQL a concurrent
// insert of the same id waits for the first transaction and then inserts
// nothing.
func (s *paymentStore) InsertEvent(ctx context.Context, e *EventRecord) (bool, error) {
	res, err := s.insertModel(ctx, "payment_gateway_events", e, " ON CONFLICT (gateway_id, gateway_event_id) DO NOTHING")
	if err != nil {
		return false, fmt.Errorf("payment: insert gateway event: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("payment: insert gateway event: %w", err)
	}
	return n == 1, nil
}

// attemptRead is an attempt read with the insert of a gateway event
// (AttemptAndEvent): Fresh says the event was new.
type attemptRead struct {
	Attempt `bun:",extend"`
	Fresh   bool `bun:"fresh"`
}

// AttemptAndEvent reads the attempt attemptID of e's gateway and records
// e about it, as Attempt and InsertEvent would, in one statement of
// PostgreSQL's: e's order and attempt are the attempt's. It returns the
// attempt, whether e is new (a duplicate inserts nothing: the fact
// applies once), and whether the attempt was found; when it was not,
// nothing is written and the caller looks the long way (by the
// gateway's reference). PostgreSQL only: SQLite has no writing CTE.
func (s *paymentStore) AttemptAndEvent(ctx context.Context, e *EventRecord, attemptID string) (a *Attempt, fresh, found bool, err error) {
	vals := s.db.ModelValues(e)
	cols := strings.Split(s.db.ModelColumns(e, ""), ", ")
	sel := make([]string, len(cols))
	args := make([]any, 0, len(vals)+2)
	args = append(args, attemptID, e.GatewayID)
	for i, c := range cols {
		switch c {
		case "order_id":
			sel[i] = "a.order_id"
		case "attempt_id":
			sel[i] = "a.id"
		default:
			sel[i] = "?"
			args = append(args, vals[i])
		}
	}
	var r attemptRead
	// The attempt is read by its key alone and its gateway checked after,
	// in a CTE the planner cannot fold (see attemptByKey for why).
	n, err := s.db.ScanStmt(ctx, &r, `WITH k AS MATERIALIZED (SELECT `+s.db.ModelColumns(&r.Attempt, "")+` FROM payment_attempts WHERE id = ?),
	a AS (SELECT * FROM k WHERE gateway_id = ?),
	e AS (INSERT INTO payment_gateway_events (`+strings.Join(cols, ", ")+`) SELECT `+strings.Join(sel, ", ")+` FROM a
	ON CONFLICT (gateway_id, gateway_event_id) DO NOTHING RETURNING 1)
	SELECT `+s.db.ModelColumns(&r.Attempt, "a.")+`, EXISTS (SELECT 1 FROM e) AS fresh FROM a`, args...)
	if err != nil {
		return nil, false, false, fmt.Errorf("payment: read attempt %s and insert gateway event: %w", attemptID, err)
	}
	if n == 0 {
		return nil, false, false, nil
	}
	return &r.Attempt, r.Fresh, true, nil
}

// attemptByKey reads an attempt's gateway and state by its primary key
// alone. The statements that check an attempt's gateway do it on this
// row, never in the same WHERE as the key: PostgreSQL plans a prepared
// statement once per connection, and a plan made while payment_attempts
// was empty (a new shop) weighs the key and the (gateway_id,
// gateway_ref) index alike and may walk every attempt of the gateway for
// each event (measured: about 1,000 index entries a call after 2,000
// payments, until autovacuum's first ANALYZE replans). A MATERIALIZED
// CTE keeps the planner from folding the check back into the scan.
const attemptByKey = `SELECT gateway_id, state FROM payment_attempts WHERE id = ?`

// RecordAction records e, a gateway's answer asking the buyer for an
// action, and writes a's action columns (and its gateway reference
// ref, when it has none yet) in one statement of PostgreSQL's, which
// commits on its own: the event row and the attempt's columns are
// written together or not at all, with no BEGIN and COMMIT around them.
// Nothing is written unless the attempt is still PENDING at a's gateway
// and e is new; it returns the attempt as written and whether it was
// (if not, the caller applies e the long way, which tells a duplicate
// or a move from it). PostgreSQL only: SQLite has no writing CTE.
func (s *paymentStore) RecordAction(ctx context.Context, e *EventRecord, a *Attempt, ref string) (*Attempt, bool, error) {
	vals := s.db.ModelValues(e)
	var q strings.Builder
	// The event's insert selects its values from the attempt's row, so
	// that it inserts nothing when the attempt moved since the caller
	// wrote it; the update runs only when the insert did.
	q.WriteString(`WITH k AS MATERIALIZED (` + attemptByKey + `),
	e AS (INSERT INTO payment_gateway_events (` + s.db.ModelColumns(e, "") + `) SELECT ` + store.Placeholders(len(vals)) +
		` FROM k WHERE gateway_id = ? AND state = ?
	ON CONFLICT (gateway_id, gateway_event_id) DO NOTHING RETURNING 1)
	UPDATE payment_attempts SET `)
	set := s.attemptColumns(a, actionColumns...)
	args := make([]any, 0, len(vals)+len(set)+6)
	args = append(append(append(args, a.ID), vals...), a.GatewayID, string(StatePending))
	for _, c := range set {
		q.WriteString(c.Name + " = ?, ")
		args = append(args, c.Value)
	}
	q.WriteString(`gateway_ref = CASE WHEN gateway_ref = '' THEN CAST(? AS TEXT) ELSE gateway_ref END, updated_at = ?
	WHERE id = ? AND EXISTS (SELECT 1 FROM e) RETURNING ` + s.db.ModelColumns(a, ""))
	args = append(args, ref, a.UpdatedAt, a.ID)
	var out Attempt
	n, err := s.db.ScanStmt(ctx, &out, q.String(), args...)
	if err != nil {
		return nil, false, fmt.Errorf("payment: record the action of %s: %w", a.ID, err)
	}
	return &out, n == 1, nil
}

// FinishEvent writes what applying the event did.
func (s *paymentStore) FinishEvent(ctx context.Context, e *EventRecord) error {
	_, err := s.db.ExecStmt(ctx, "UPDATE payment_gateway_events SET order_id = ?, attempt_id = ?, refund_id = ?, outcome = ?, flag_reason = ?, detail = ? WHERE id = ?",
		e.OrderID, e.AttemptID, e.RefundID, string(e.Outcome), e.FlagReason, e.Detail, e.ID)
	if err != nil {
		return fmt.Errorf("payment: finish gateway event %s: %w", e.ID, err)
	}
	return nil
}

// EventsOfOrders returns the gateway events of the orders, oldest first.
func (s *paymentStore) EventsOfOrders(ctx context.Context, orderIDs []string) ([]*EventRecord, error) {
	var out []*EventRecord
	if len(orderIDs) == 0 {
		return out, nil
	}
	err := s.conn(ctx).NewSelect().Model(&out).Where("order_id IN (?)", bun.In(orderIDs)).OrderExpr("order_id, id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("payment: read gateway events: %w", err)
	}
	return out, nil
}

// FlaggedEvents returns the flagged events, newest first, at most limit:
// those waiting for staff, or with resolved every one. Each condition is
// a partial index's (migration 0022).
func (s *paymentStore) FlaggedEvents(ctx context.Context, limit int, resolved bool) ([]*EventRecord, error) {
	var out []*EventRecord
	q := s.conn(ctx).NewSelect().Model(&out).Where("flag_reason <> ''")
	if !resolved {
		q = q.Where("resolved_at IS NULL")
	}
	if err := q.OrderExpr("id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("payment: read flagged events: %w", err)
	}
	return out, nil
}

// ResolveFlag records that staff resolved the flag of event id, unless
// it has none or was resolved already (the condition is in the UPDATE, so
// two staff resolving at once record one resolution), and returns the
// event as it stands then; nil when there is no such event.
func (s *paymentStore) ResolveFlag(ctx context.Context, id, by, note string, at time.Time) (e *EventRecord, changed bool, err error) {
	conn := s.conn(ctx)
	res, err := conn.NewUpdate().Model((*EventRecord)(nil)).
		Set("resolved_at = ?", at).Set("resolved_by = ?", by).Set("resolution_note = ?", note).
		Where("id = ? AND flag_reason <> '' AND resolved_at IS NULL", id).Exec(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("payment: resolve the flag of event %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, fmt.Errorf("payment: resolve the flag of event %s: %w", id, err)
	}
	e = new(EventRecord)
	if err := conn.NewSelect().Model(e).Where("id = ?", id).Scan(ctx); err != nil {
		if store.IsNoRows(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("payment: read event %s: %w", id, err)
	}
	return e, n == 1, nil
}

// AddLedger writes a ledger row and adds it to the order's balance, in
// the caller's transaction, and returns the balance as it now stands. On
// PostgreSQL a row that the balance's upsert takes is one statement with
// it.
func (s *paymentStore) AddLedger(ctx context.Context, e *LedgerEntry) (*Balance, error) {
	var d Balance
	switch e.Kind {
	case LedgerAuthorization:
		d.Authorized = e.AmountMinor
	case LedgerCapture:
		d.Captured = e.AmountMinor
	case LedgerRefund:
		d.Refunded = e.AmountMinor
	case LedgerVoid:
		d.Voided = e.AmountMinor
	default:
		return nil, fmt.Errorf("payment: ledger kind %q", e.Kind)
	}
	d.OrderID, d.Currency, d.UpdatedAt = e.OrderID, e.Currency, e.CreatedAt
	if d.Refunded+d.RefundReserved <= d.Captured && s.db.Dialect == store.Postgres {
		vals := s.db.ModelValues(e)
		cte := "WITH l AS (INSERT INTO payment_ledger (" + s.db.ModelColumns(e, "") + ") VALUES (" + store.Placeholders(len(vals)) + ")) "
		b, err := s.upsertBalance(ctx, cte, vals, &d)
		if err != nil {
			return nil, fmt.Errorf("payment: insert ledger row: %w", err)
		}
		return b, nil
	}
	if _, err := s.insertModel(ctx, "payment_ledger", e, ""); err != nil {
		return nil, fmt.Errorf("payment: insert ledger row: %w", err)
	}
	return s.addBalance(ctx, &d)
}

// balanceUpsert adds the amounts of a new balance row to the order's
// row, creating it, and returns the row as it then stands.
const balanceUpsert = `INSERT INTO payment_balances (` + balanceColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (order_id) DO UPDATE SET authorized = payment_balances.authorized + excluded.authorized,
	captured = payment_balances.captured + excluded.captured, refunded = payment_balances.refunded + excluded.refunded,
	voided = payment_balances.voided + excluded.voided,
	refund_reserved = payment_balances.refund_reserved + excluded.refund_reserved, updated_at = excluded.updated_at
	RETURNING ` + balanceColumns

// upsertBalance runs balanceUpsert for d, after prefix (a CTE, or "")
// whose values are args, with a statement of fixed text.
func (s *paymentStore) upsertBalance(ctx context.Context, prefix string, args []any, d *Balance) (*Balance, error) {
	args = append(args, d.OrderID, d.Currency, d.Authorized, d.Captured, d.Refunded, d.Voided, d.RefundReserved, d.UpdatedAt)
	b := new(Balance)
	n, err := s.db.ScanStmt(ctx, b, prefix+balanceUpsert, args...)
	if err == nil && n != 1 {
		err = fmt.Errorf("%d balance rows returned", n)
	}
	if err != nil {
		return nil, fmt.Errorf("payment: add to the balance of %s: %w", d.OrderID, err)
	}
	return b, nil
}

// balanceColumns are the columns of payment_balances, as RETURNING reads
// them into a Balance.
const balanceColumns = "order_id, currency, authorized, captured, refunded, voided, refund_reserved, updated_at"

// addBalance adds d's amounts to the order's balance row, creating it,
// and returns the row as it now stands.
func (s *paymentStore) addBalance(ctx context.Context, d *Balance) (*Balance, error) {
	b := new(Balance)
	if d.Refunded+d.RefundReserved <= d.Captured {
		// d as a new row passes the CHECK constraint, which an upsert
		// checks against its inserted candidate first: one statement.
		return s.upsertBalance(ctx, "", nil, d)
	}
	// A refund alone would fail the CHECK as an inserted candidate: the
	// row exists (money was captured before) and is updated; should it
	// not, it is created first and the update fails the CHECK, as it
	// must.
	update := func() error {
		return s.conn(ctx).NewRaw(`UPDATE payment_balances SET authorized = authorized + ?, captured = captured + ?,
		refunded = refunded + ?, voided = voided + ?, refund_reserved = refund_reserved + ?, updated_at = ?
		WHERE order_id = ? RETURNING `+balanceColumns,
			d.Authorized, d.Captured, d.Refunded, d.Voided, d.RefundReserved, d.UpdatedAt, d.OrderID).Scan(ctx, b)
	}
	err := update()
	if store.IsNoRows(err) {
		_, err = s.conn(ctx).NewRaw(`INSERT INTO payment_balances (order_id, currency, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (order_id) DO NOTHING`, d.OrderID, d.Currency, d.UpdatedAt).Exec(ctx)
		if err == nil {
			err = update()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("payment: update balance of %s: %w", d.OrderID, err)
	}
	return b, nil
}

// Reserve sets each part's amount aside for a refund of its attempt, and
// their sum on the order's balance, and reports whether what is left to
// refund covered every one. Each is one conditional UPDATE, so refunds
// racing can never reserve more than was captured, on SQLite and
// PostgreSQL alike. The attempts come before the balance, in the parts'
// order (latest attempt first), so transactions reserving on the same
// attempts lock them in the same order and wait rather than deadlock.
// When it reports false, the caller's transaction must roll back what it
// reserved.
func (s *paymentStore) Reserve(ctx context.Context, parts []refundPart, now time.Time) (reserveOutcome, error) {
	total := int64(0)
	for i, p := range parts {
		res, err := s.conn(ctx).NewUpdate().Table("payment_attempts").
			Set("refund_reserved = refund_reserved + ?", p.amount).Set("updated_at = ?", now).
			Where("id = ? AND captured_amount - refunded_amount - refund_reserved >= ?", p.att.ID, p.amount).Exec(ctx)
		if err != nil {
			return 0, fmt.Errorf("payment: reserve refund on %s: %w", p.att.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return 0, err
		} else if n != 1 {
			return attemptShort, s.unreserve(ctx, parts[:i], now)
		}
		total += p.amount
	}
	orderID := parts[0].att.OrderID
	res, err := s.conn(ctx).NewUpdate().Table("payment_balances").
		Set("refund_reserved = refund_reserved + ?", total).Set("updated_at = ?", now).
		Where("order_id = ? AND captured - refunded - refund_reserved >= ?", orderID, total).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("payment: reserve refund on the balance of %s: %w", orderID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, err
	} else if n != 1 {
		return balanceShort, s.unreserve(ctx, parts, now)
	}
	return reserved, nil
}

// reserveOutcome is what Reserve did.
type reserveOutcome int

const (
	reserved reserveOutcome = iota + 1
	// attemptShort: a part's attempt had less left than the part.
	attemptShort
	// balanceShort: the order had less left than the parts together.
	balanceShort
)

// unreserve takes back the reservations Reserve made of parts on their
// attempts, in its transaction, when a later one was short: the
// transaction may then try another split.
func (s *paymentStore) unreserve(ctx context.Context, parts []refundPart, now time.Time) error {
	for _, p := range parts {
		_, err := s.conn(ctx).NewUpdate().Table("payment_attempts").
			Set("refund_reserved = refund_reserved - ?", p.amount).Set("updated_at = ?", now).
			Where("id = ?", p.att.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("payment: take back the reservation on %s: %w", p.att.ID, err)
		}
	}
	return nil
}

// Release gives back a reservation (a refund that failed), or, with
// settled, turns it into refunded money (a refund that succeeded; the
// ledger row is written by AddLedger).
func (s *paymentStore) Release(ctx context.Context, r *Refund, settled bool, now time.Time) error {
	refunded := int64(0)
	if settled {
		refunded = r.AmountMinor
	}
	_, err := s.conn(ctx).NewUpdate().Table("payment_attempts").
		Set("refund_reserved = refund_reserved - ?", r.AmountMinor).
		Set("refunded_amount = refunded_amount + ?", refunded).Set("updated_at = ?", now).
		Where("id = ?", r.AttemptID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("payment: release refund %s: %w", r.ID, err)
	}
	// The ledger row adds the refunded amount to the balance; only the
	// reservation goes here.
	_, err = s.conn(ctx).NewUpdate().Table("payment_balances").
		Set("refund_reserved = refund_reserved - ?", r.AmountMinor).Set("updated_at = ?", now).
		Where("order_id = ?", r.OrderID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("payment: release refund %s on the balance: %w", r.ID, err)
	}
	return nil
}

// AddRefunded counts a refund that was never reserved (one made at the
// gateway) on its attempt.
func (s *paymentStore) AddRefunded(ctx context.Context, attemptID string, amount int64, now time.Time) error {
	_, err := s.conn(ctx).NewUpdate().Table("payment_attempts").
		Set("refunded_amount = refunded_amount + ?", amount).Set("updated_at = ?", now).
		Where("id = ?", attemptID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("payment: count refund on %s: %w", attemptID, err)
	}
	return nil
}

// LedgerOfOrders returns the ledger rows of the orders, oldest first.
func (s *paymentStore) LedgerOfOrders(ctx context.Context, orderIDs []string) ([]*LedgerEntry, error) {
	var out []*LedgerEntry
	if len(orderIDs) == 0 {
		return out, nil
	}
	err := s.conn(ctx).NewSelect().Model(&out).Where("order_id IN (?)", bun.In(orderIDs)).OrderExpr("order_id, id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("payment: read ledger: %w", err)
	}
	return out, nil
}

// Balances returns the balance rows of the orders that have one.
func (s *paymentStore) Balances(ctx context.Context, orderIDs []string) ([]*Balance, error) {
	var out []*Balance
	if len(orderIDs) == 0 {
		return out, nil
	}
	err := s.conn(ctx).NewSelect().Model(&out).Where("order_id IN (?)", bun.In(orderIDs)).OrderExpr("order_id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("payment: read balances: %w", err)
	}
	return out, nil
}

// InsertRefund writes a new refund.
func (s *paymentStore) InsertRefund(ctx context.Context, r *Refund) error {
	if _, err := s.conn(ctx).NewInsert().Model(r).Exec(ctx); err != nil {
		return fmt.Errorf("payment: insert refund: %w", err)
	}
	return nil
}

// Refund reads one refund.
func (s *paymentStore) Refund(ctx context.Context, id string) (*Refund, error) {
	var r Refund
	err := s.conn(ctx).NewSelect().Model(&r).Where("id = ?", id).Scan(ctx)
	if store.IsNoRows(err) {
		return nil, refundNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("payment: read refund %s: %w", id, err)
	}
	return &r, nil
}

// RefundByRef finds a refund by the gateway's reference.
func (s *paymentStore) RefundByRef(ctx context.Context, gatewayID, ref string) (*Refund, error) {
	var r Refund
	err := s.conn(ctx).NewSelect().Model(&r).Where("gateway_id = ? AND gateway_refund_ref = ?", gatewayID, ref).
		OrderExpr("id").Limit(1).Scan(ctx)
	if store.IsNoRows(err) {
		return nil, refundNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("payment: read refund by reference: %w", err)
	}
	return &r, nil
}

// UpdateRefund writes the named columns of r and updated_at.
func (s *paymentStore) UpdateRefund(ctx context.Context, r *Refund, columns ...string) error {
	_, err := s.conn(ctx).NewUpdate().Model(r).Column(append(columns, "updated_at")...).WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("payment: update refund %s: %w", r.ID, err)
	}
	return nil
}

// ScheduleRefund sets when the reconciler asks about the refund next.
func (s *paymentStore) ScheduleRefund(ctx context.Context, id string, next *time.Time, checks int64, now time.Time) error {
	_, err := s.conn(ctx).NewUpdate().Table("payment_refunds").
		Set("next_check_at = ?", next).Set("check_count = ?", checks).Set("updated_at = ?", now).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("payment: schedule refund %s: %w", id, err)
	}
	return nil
}

// RefundsOfOrders returns the refunds of the orders, oldest first.
func (s *paymentStore) RefundsOfOrders(ctx context.Context, orderIDs []string) ([]*Refund, error) {
	var out []*Refund
	if len(orderIDs) == 0 {
		return out, nil
	}
	err := s.conn(ctx).NewSelect().Model(&out).Where("order_id IN (?)", bun.In(orderIDs)).OrderExpr("order_id, id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("payment: read refunds: %w", err)
	}
	return out, nil
}
