package transition_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/transition"
)

// outboxInserts counts the statements inserting into the outbox.
type outboxInserts struct{ n atomic.Int64 }

func (c *outboxInserts) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *outboxInserts) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.HasPrefix(e.Query, `INSERT INTO "outbox_events"`) {
		c.n.Add(1)
	}
}

// Move.Set writes its columns in the move's conditional UPDATE: with a
// move made, never with a stale one; the state and key columns are
// refused before anything is written.
func TestApplySetsColumnsWithTheMove(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := authz.WithSubject(context.Background(), system)
		if _, err := db.ExecContext(ctx, "ALTER TABLE widgets ADD COLUMN note TEXT"); err != nil {
			t.Fatal(err)
		}
		note := func(wid string) string {
			var s *string
			if err := db.NewRaw("SELECT note FROM widgets WHERE id = ?", wid).Scan(ctx, &s); err != nil {
				t.Fatal(err)
			}
			if s == nil {
				return ""
			}
			return *s
		}
		wid := f.widget(t, statusNew)
		if _, err := f.machine.Apply(ctx, transition.Move[status]{ID: wid, From: statusNew, To: statusPaid,
			Set: []transition.Column{{Name: "note", Value: "paid"}}}); err != nil {
			t.Fatal(err)
		}
		if f.state(t, wid) != statusPaid || note(wid) != "paid" {
			t.Fatalf("state %s, note %q", f.state(t, wid), note(wid))
		}
		_, err := f.machine.Apply(ctx, transition.Move[status]{ID: wid, From: statusNew, To: statusPaid,
			Set: []transition.Column{{Name: "note", Value: "again"}}})
		if !transition.IsStale(err) || note(wid) != "paid" {
			t.Fatalf("stale move: %v, note %q", err, note(wid))
		}
		for _, col := range []string{"status", "id", "note; DROP TABLE widgets"} {
			other := f.widget(t, statusNew)
			_, err := f.machine.Apply(ctx, transition.Move[status]{ID: other, From: statusNew, To: statusPaid,
				Set: []transition.Column{{Name: col, Value: "x"}}})
			if err == nil || f.state(t, other) != statusNew || len(f.timeline(t, other)) != 0 {
				t.Fatalf("set %q: %v, state %s", col, err, f.state(t, other))
			}
		}
	})
}

// RunBatched adds the events of a transaction's moves in one insert
// before it commits, and none when it rolls back.
func TestRunBatchedAddsTheEventsOnce(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		inserts := &outboxInserts{}
		db.AddQueryHook(inserts)
		ctx := authz.WithSubject(context.Background(), system)
		a, b := f.widget(t, statusNew), f.widget(t, statusNew)
		err := transition.RunBatched(ctx, db, func(ctx context.Context) error {
			for _, wid := range []string{a, b} {
				if _, err := f.machine.Apply(ctx, transition.Move[status]{ID: wid, From: statusNew, To: statusPaid}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := inserts.n.Load(); n != 1 {
			t.Errorf("%d outbox inserts, want 1", n)
		}
		for _, wid := range []string{a, b} {
			if got := f.outboxOf(t, wid); len(got) != 1 || got[0] != "kassa.widget.paid" {
				t.Errorf("events of %s: %v", wid, got)
			}
		}
		c := f.widget(t, statusNew)
		boom := errors.New("boom")
		err = transition.RunBatched(ctx, db, func(ctx context.Context) error {
			if _, err := f.machine.Apply(ctx, transition.Move[status]{ID: c, From: statusNew, To: statusPaid}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || f.state(t, c) != statusNew || len(f.outboxOf(t, c)) != 0 {
			t.Fatalf("rolled back: %v, state %s, events %v", err, f.state(t, c), f.outboxOf(t, c))
		}
		// MarkBatch's rewind takes the events emitted after the mark out of
		// the batch (a savepoint rolled back undid their moves); those
		// emitted before stay.
		d, e := f.widget(t, statusNew), f.widget(t, statusNew)
		err = transition.RunBatched(ctx, db, func(ctx context.Context) error {
			if _, err := f.machine.Apply(ctx, transition.Move[status]{ID: d, From: statusNew, To: statusPaid}); err != nil {
				return err
			}
			rewind := transition.MarkBatch(ctx)
			if _, err := f.machine.Apply(ctx, transition.Move[status]{ID: e, From: statusNew, To: statusPaid}); err != nil {
				return err
			}
			rewind()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.outboxOf(t, d); len(got) != 1 {
			t.Errorf("events before the mark: %v, want one", got)
		}
		if got := f.outboxOf(t, e); len(got) != 0 {
			t.Errorf("events after the mark, rewound: %v, want none", got)
		}
		transition.MarkBatch(ctx)() // no batch: nothing to rewind
	})
}

// updates records the text of each conditional UPDATE the machine sends.
type updates struct{ texts []string }

func (u *updates) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (u *updates) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.Contains(e.Query, `UPDATE "widgets"`) {
		u.texts = append(u.texts, e.Query)
	}
}

// A move's conditional UPDATE finds its row by the key even when an index
// on (state, key) could serve too, on a table never analyzed (a new shop):
// PostgreSQL keeps a prepared statement's generic plan, and one made then
// walked every row in the from-state, as the orders' payment_status
// transitions did through orders_payment_created.
func TestApplyFindsTheRowByItsKey(t *testing.T) {
	db := storetest.NewPostgres(t)
	f := newFixture(t, db)
	ctx := authz.WithSubject(context.Background(), system)
	if _, err := db.ExecContext(ctx, "CREATE INDEX widgets_status ON widgets (status, id)"); err != nil {
		t.Fatal(err)
	}
	log := &updates{}
	db.AddQueryHook(log)
	r := widgets.Rules()[0]
	wid := f.widget(t, r.From)
	if _, err := f.machine.Apply(authz.WithSubject(ctx, subjectFor(r)), transition.Move[status]{ID: wid, From: r.From, To: r.To, Reason: "because"}); err != nil {
		t.Fatal(err)
	}
	if len(log.texts) != 1 {
		t.Fatalf("%d updates recorded: %q", len(log.texts), log.texts)
	}
	plan := storetest.GenericPlan(t, db, log.texts[0])
	if !strings.Contains(plan, "widgets_pkey") || strings.Contains(plan, "widgets_status") {
		t.Errorf("the update does not find its row by the key:\n%s", plan)
	}
}
