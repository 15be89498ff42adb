package transition

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/store"
)

// TimelineIDPrefix is the prefix of timeline row ids ("trn_01J...").
const TimelineIDPrefix = "trn"

// Outbox records events in the caller's transaction. core/events' Outbox
// implements it.
type Outbox interface {
	Add(ctx context.Context, e events.Event) error
}

// Storage names where a machine's state and timeline live. The names are
// SQL identifiers written in code, never taken from input; NewMachine
// checks their shape and quotes them.
type Storage struct {
	// Table is the entity table, e.g. "orders".
	Table string
	// Key is the entity's primary key column, e.g. "id".
	Key string
	// State is the column holding this machine's state, e.g.
	// "payment_status".
	State string
	// Timeline is the timeline table, e.g. "order_timeline". The machines
	// of one entity (an order's three status dimensions) share it; its
	// machine column tells them apart.
	Timeline string
	// TimelineKey is the timeline column holding the entity's key, e.g.
	// "order_id".
	TimelineKey string
}

// Options are what a Machine needs besides its table and storage.
type Options struct {
	// DB is the database; Apply joins the transaction carried by ctx
	// (store.DB.RunInTx) or opens one.
	DB *store.DB
	// Outbox receives the event of every applied move, in the same
	// transaction.
	Outbox Outbox
	// Authorizer checks the rules that name a permission; it may be nil
	// only when no rule of the table does.
	Authorizer authz.Authorizer
	// Clock dates timeline rows and events; nil means clock.System.
	Clock clock.Clock
}

// Machine applies the moves of one Table to one state column.
type Machine[S ~string] struct {
	table *Table[S]
	st    Storage
	opt   Options
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// NewMachine returns a machine applying t's moves to the column named by
// st. It fails when a name is not a plain lower-case SQL identifier, when
// DB or Outbox is missing, or when a rule names a permission and no
// Authorizer is given.
func NewMachine[S ~string](t *Table[S], st Storage, opt Options) (*Machine[S], error) {
	for _, n := range []struct{ what, name string }{
		{"table", st.Table}, {"key", st.Key}, {"state", st.State},
		{"timeline", st.Timeline}, {"timeline key", st.TimelineKey},
	} {
		if !identifier.MatchString(n.name) {
			return nil, fmt.Errorf("transition: %s: %s column or table %q is not a plain identifier", t.name, n.what, n.name)
		}
	}
	if opt.DB == nil || opt.Outbox == nil {
		return nil, fmt.Errorf("transition: %s: a machine needs a database and an outbox", t.name)
	}
	if opt.Authorizer == nil {
		for _, r := range t.rules {
			if r.By.Object != "" {
				return nil, fmt.Errorf("transition: %s: %s -> %s needs %s but no authorizer was given", t.name, r.From, r.To, r.By)
			}
		}
	}
	if opt.Clock == nil {
		opt.Clock = clock.System
	}
	return &Machine[S]{table: t, st: st, opt: opt}, nil
}

// Table returns the machine's transition table.
func (m *Machine[S]) Table() *Table[S] { return m.table }

// Move asks a Machine to move one record.
type Move[S ~string] struct {
	// ID is the record's key.
	ID string
	// From is the state the caller saw the record in; the move happens
	// only if the record is still in it.
	From S
	// To is the state wanted.
	To S
	// Reason says why, for the timeline; required by some moves.
	Reason string
	// Payload is the event payload; nil means a Changed.
	Payload any
	// Set are other columns of the record written by the same
	// conditional UPDATE as the state (an updated_at, the amount that
	// comes with the new state), so they change if and only if the move
	// is made, in one statement. Names are SQL identifiers written in
	// code, never the state column.
	Set []Column
}

// Column is a column written with a move, and its value.
type Column struct {
	Name  string
	Value any
}

// Changed is the default payload of a transition event.
type Changed struct {
	// Machine is the table's name, e.g. "order.payment_status".
	Machine string `json:"machine"`
	// ID is the key of the record that moved.
	ID string `json:"id"`
	// From and To are the states before and after.
	From string `json:"from"`
	To   string `json:"to"`
	// Reason is why, when one was given.
	Reason string `json:"reason,omitempty"`
	// TimelineID is the id of the timeline row written with the event.
	TimelineID string `json:"timelineId"`
}

// Record is one row of a timeline: a move that was applied.
type Record struct {
	// ID is the row id ("trn_" + ULID); rows sort in the order of change.
	ID string
	// EntityID is the key of the record that moved.
	EntityID string
	// Machine is the table's name.
	Machine string
	// From and To are the states before and after.
	From string
	To   string
	// ActorKind is the kind of subject that moved it (system, staff,
	// customer, apikey, anonymous).
	ActorKind string
	// Actor is the subject's id ("system:reconciler", a staff id); empty
	// for a guest.
	Actor string
	// Reason is why, when one was given.
	Reason string
	// EventID is the id of the event emitted with the move.
	EventID string
	// At is when the move was applied, in UTC.
	At time.Time
}

// Apply moves one record from mv.From to mv.To if the table allows it, the
// caller may, and the record is still in mv.From. It runs in the
// transaction carried by ctx, or in one of its own: a conditional UPDATE
// of the state column with the from-state in its WHERE clause, then, only
// when exactly one row changed, a timeline row and the rule's event in the
// outbox. On PostgreSQL the update and the timeline row are one
// statement. No row is locked before the update, so it behaves the same on
// SQLite and PostgreSQL: of two callers making the same move at once, the
// database lets one update the row and the other finds the state changed.
//
// The loser gets an *Error with code STALE_STATE (errs.ErrConflict,
// IsStale) naming the state it found, and nothing is written. An error
// rather than a flag, so that a caller doing more in the same
// transaction (ledger rows, stock) cannot commit that work by forgetting
// to look: it must either propagate the error, rolling everything back,
// or decide with IsStale that the move was already done.
//
// Other errors, all before anything is written: INVALID_TRANSITION (the
// table does not allow the move), the authorizer's error or
// TRANSITION_FORBIDDEN (the caller may not), REASON_REQUIRED,
// TRANSITION_TARGET_NOT_FOUND (no record has the key).
func (m *Machine[S]) Apply(ctx context.Context, mv Move[S]) (Record, error) {
	rule, err := m.table.Rule(mv.From, mv.To)
	if err != nil {
		return Record{}, err
	}
	if rule.Reason == ReasonRequired && mv.Reason == "" {
		return Record{}, errs.Invalid("reason", CodeReasonRequired,
			fmt.Sprintf("moving %s from %s to %s needs a reason", m.table.Words(), mv.From, mv.To))
	}
	for _, c := range mv.Set {
		if !identifier.MatchString(c.Name) || c.Name == m.st.State || c.Name == m.st.Key {
			return Record{}, fmt.Errorf("transition: %s: column %q cannot be set with a move", m.table.name, c.Name)
		}
	}
	sub := authz.SubjectFrom(ctx)
	if err := m.authorize(ctx, sub, rule); err != nil {
		return Record{}, err
	}

	now := m.opt.Clock.Now().UTC().Truncate(time.Microsecond)
	rec := Record{
		ID:        id.New(TimelineIDPrefix),
		EntityID:  mv.ID,
		Machine:   m.table.name,
		From:      string(mv.From),
		To:        string(mv.To),
		ActorKind: string(sub.Kind),
		Actor:     sub.ID,
		Reason:    mv.Reason,
		At:        now,
	}
	payload := mv.Payload
	if payload == nil {
		payload = Changed{Machine: rec.Machine, ID: rec.EntityID, From: rec.From, To: rec.To, Reason: rec.Reason, TimelineID: rec.ID}
	}
	ev, err := events.New(rule.Subject, payload)
	if err != nil {
		return Record{}, fmt.Errorf("transition: %s: %w", m.table.name, err)
	}
	ev.OccurredAt = now
	ev.Actor = sub.ID
	if ev.Actor == "" {
		ev.Actor = string(sub.Kind)
	}
	rec.EventID = ev.ID

	err = m.opt.DB.RunInTx(ctx, func(ctx context.Context) error {
		won, inserted, err := m.update(ctx, mv, rec)
		if err != nil || !won {
			return err
		}
		if !inserted {
			if err := m.insert(ctx, rec); err != nil {
				return err
			}
		}
		return Emit(ctx, m.opt.Outbox, ev)
	})
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

// authorize checks rule.By for sub.
func (m *Machine[S]) authorize(ctx context.Context, sub authz.Subject, rule Rule[S]) error {
	if !rule.By.allowsKind(sub.Kind) {
		return &Error{
			Machine: m.table.name, From: string(rule.From), To: string(rule.To),
			err: errs.Forbidden(CodeForbidden,
				fmt.Sprintf("moving %s from %s to %s is for %s, not %s", m.table.Words(), rule.From, rule.To, rule.By, sub.Kind)),
		}
	}
	if rule.By.Object != "" {
		if err := m.opt.Authorizer.Can(ctx, rule.By.Object, rule.By.Action); err != nil {
			return fmt.Errorf("%s %s -> %s: %w", m.table.name, rule.From, rule.To, err)
		}
	}
	return nil
}

// update makes the conditional UPDATE and reports whether it won. When no
// row changed it tells a record that moved on (stale) from one that does
// not exist. Its text is fixed per table and Set columns, its values
// bound: PostgreSQL plans it once (store.DB.ExecStmt). On PostgreSQL the
// timeline row r is inserted by the same statement, a data-modifying CTE
// whose insert takes a row from the update only when it won; inserted
// reports whether it was.
func (m *Machine[S]) update(ctx context.Context, mv Move[S], r Record) (won, inserted bool, err error) {
	db := m.opt.DB
	var q strings.Builder
	args := make([]any, 0, 3+len(mv.Set)+len(timelineColumns))
	q.WriteString("UPDATE " + quote(m.st.Table) + " SET " + quote(m.st.State) + " = ?")
	args = append(args, string(mv.To))
	for _, c := range mv.Set {
		q.WriteString(", " + quote(c.Name) + " = ?")
		args = append(args, c.Value)
	}
	// The from-state is a filter on the row the key finds, never a way to
	// find it: written bare, a plan made while the table had no
	// statistics (a new shop; PostgreSQL keeps a prepared statement's
	// plan) may weigh a (state, ...) index that also holds the key as the
	// key's equal and walk every row in that state (orders has three).
	// The state column is NOT NULL, so IS TRUE changes no answer.
	q.WriteString(" WHERE " + quote(m.st.Key) + " = ? AND (" + quote(m.st.State) + " = ?) IS TRUE")
	args = append(args, mv.ID, string(mv.From))
	text := q.String()
	if db.Dialect == store.Postgres {
		inserted = true
		text = "WITH u AS (" + text + " RETURNING 1) INSERT INTO " + quote(m.st.Timeline) + " (" + m.timelineColumns() +
			") SELECT " + store.Placeholders(len(timelineColumns)) + " FROM u"
		args = append(args, timelineValues(r)...)
	}
	res, err := db.ExecStmt(ctx, text, args...)
	if err != nil {
		return false, false, fmt.Errorf("transition: %s: update %s %s: %w", m.table.name, m.st.Table, mv.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, false, fmt.Errorf("transition: %s: rows affected: %w", m.table.name, err)
	}
	switch {
	case n == 1:
		return true, inserted, nil
	case n > 1:
		// Returning the error rolls the update back.
		return false, false, fmt.Errorf("transition: %s: %d rows of %s have %s = %s: the key is not unique", m.table.name, n, m.st.Table, m.st.Key, mv.ID)
	}
	var current []string
	err = db.Conn(ctx).NewRaw("SELECT ? FROM ? WHERE ? = ?",
		bun.Ident(m.st.State), bun.Ident(m.st.Table), bun.Ident(m.st.Key), mv.ID).Scan(ctx, &current)
	if err != nil && !store.IsNoRows(err) {
		return false, false, fmt.Errorf("transition: %s: read %s %s: %w", m.table.name, m.st.Table, mv.ID, err)
	}
	if len(current) == 0 {
		return false, false, errs.NotFound(CodeNotFound, fmt.Sprintf("%s: no %s row has %s %s", m.table.name, m.st.Table, m.st.Key, mv.ID))
	}
	return false, false, &Error{
		Machine: m.table.name, From: string(mv.From), To: string(mv.To), Current: current[0],
		err: errs.Conflict("", CodeStaleState,
			fmt.Sprintf("%s is %s now, not %s: it changed before the move to %s could be made", m.table.Words(), current[0], mv.From, mv.To)),
	}
}

// timelineColumns are the columns of a timeline row but its entity key
// (Storage.TimelineKey), which comes second; timelineValues their values.
var timelineColumns = []string{"id", "", "machine", "from_state", "to_state", "actor_kind", "actor", "reason", "event_id", "created_at"}

// timelineColumns names the columns of the machine's timeline rows, in
// the order of timelineValues.
func (m *Machine[S]) timelineColumns() string {
	cols := append([]string(nil), timelineColumns...)
	cols[1] = quote(m.st.TimelineKey)
	return strings.Join(cols, ", ")
}

func timelineValues(r Record) []any {
	return []any{r.ID, r.EntityID, r.Machine, r.From, r.To, r.ActorKind, nullable(r.Actor), nullable(r.Reason), r.EventID, r.At}
}

// quote quotes an identifier NewMachine or Apply checked (a plain
// lower-case name), as SQLite and PostgreSQL both read it.
func quote(name string) string { return `"` + name + `"` }

// insert writes the timeline row, as a statement of fixed text.
func (m *Machine[S]) insert(ctx context.Context, r Record) error {
	_, err := m.opt.DB.ExecStmt(ctx, "INSERT INTO "+quote(m.st.Timeline)+" ("+m.timelineColumns()+") VALUES ("+
		store.Placeholders(len(timelineColumns))+")", timelineValues(r)...)
	if err != nil {
		return fmt.Errorf("transition: %s: insert into %s: %w", m.table.name, m.st.Timeline, err)
	}
	return nil
}

// Timeline returns the timeline of one record, oldest first, for every
// machine sharing the timeline table (an order's status, payment status
// and fulfillment status together).
func (m *Machine[S]) Timeline(ctx context.Context, entityID string) ([]Record, error) {
	var rows []timelineRow
	err := m.opt.DB.Conn(ctx).NewRaw(
		"SELECT id, ? AS entity_id, machine, from_state, to_state, actor_kind, actor, reason, event_id, created_at FROM ? WHERE ? = ? ORDER BY id",
		bun.Ident(m.st.TimelineKey), bun.Ident(m.st.Timeline), bun.Ident(m.st.TimelineKey), entityID,
	).Scan(ctx, &rows)
	if err != nil && !store.IsNoRows(err) {
		return nil, fmt.Errorf("transition: %s: read timeline of %s: %w", m.table.name, entityID, err)
	}
	out := make([]Record, len(rows))
	for i, r := range rows {
		out[i] = Record{
			ID: r.ID, EntityID: r.EntityID, Machine: r.Machine, From: r.From, To: r.To,
			ActorKind: r.ActorKind, EventID: r.EventID, At: r.At.UTC(),
		}
		if r.Actor != nil {
			out[i].Actor = *r.Actor
		}
		if r.Reason != nil {
			out[i].Reason = *r.Reason
		}
	}
	return out, nil
}

// timelineRow is a timeline row as scanned; NULL columns are pointers.
type timelineRow struct {
	ID        string    `bun:"id"`
	EntityID  string    `bun:"entity_id"`
	Machine   string    `bun:"machine"`
	From      string    `bun:"from_state"`
	To        string    `bun:"to_state"`
	ActorKind string    `bun:"actor_kind"`
	Actor     *string   `bun:"actor"`
	Reason    *string   `bun:"reason"`
	EventID   string    `bun:"event_id"`
	At        time.Time `bun:"created_at"`
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
