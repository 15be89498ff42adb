package transition_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/transition"
)

// schema is what a domain's migration holds: the entity table with its
// state column and a timeline table with the standard columns (doc.go).
var schema = []string{
	`CREATE TABLE widgets (id TEXT PRIMARY KEY, status TEXT NOT NULL)`,
	`CREATE TABLE widget_timeline (
	    id          TEXT PRIMARY KEY,
	    widget_id   TEXT NOT NULL REFERENCES widgets (id),
	    machine     TEXT NOT NULL,
	    from_state  TEXT NOT NULL,
	    to_state    TEXT NOT NULL,
	    actor_kind  TEXT NOT NULL,
	    actor       TEXT,
	    reason      TEXT,
	    event_id    TEXT NOT NULL,
	    created_at  TIMESTAMP NOT NULL
	)`,
	`CREATE INDEX widget_timeline_widget ON widget_timeline (widget_id, id)`,
}

var storage = transition.Storage{
	Table: "widgets", Key: "id", State: "status",
	Timeline: "widget_timeline", TimelineKey: "widget_id",
}

// roles is an authorizer granting each permission to the subjects holding
// a role, as the Casbin policy does.
type roles map[authz.Object]string

func (r roles) Can(ctx context.Context, obj authz.Object, act authz.Action) error {
	sub := authz.SubjectFrom(ctx)
	if sub.IsSystem() || sub.HasRole(r[obj]) {
		return nil
	}
	return errs.Forbidden("FORBIDDEN", fmt.Sprintf("%s may not %s %s", sub.ID, act, obj))
}

var (
	t0       = time.Date(2026, 5, 1, 9, 30, 0, 123456000, time.UTC)
	system   = authz.SystemSubject("test")
	finance  = authz.Subject{Kind: authz.KindStaff, ID: "stf_finance", Roles: []string{"finance"}}
	clerk    = authz.Subject{Kind: authz.KindStaff, ID: "stf_clerk", Roles: []string{"fulfillment"}}
	customer = authz.Subject{Kind: authz.KindCustomer, ID: "cus_1", Roles: []string{authz.RoleCustomer}}
)

type fixture struct {
	db      *store.DB
	machine *transition.Machine[status]
}

func newFixture(t *testing.T, db *store.DB) fixture {
	t.Helper()
	ctx := context.Background()
	for _, q := range schema {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	m, err := transition.NewMachine(widgets, storage, transition.Options{
		DB: db, Outbox: events.NewOutbox(db), Authorizer: roles{widget: "finance"}, Clock: clock.NewFake(t0),
	})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{db: db, machine: m}
}

// widget inserts a widget in state s and returns its id.
func (f fixture) widget(t *testing.T, s status) string {
	t.Helper()
	wid := id.New("wdg")
	if _, err := f.db.ExecContext(context.Background(), "INSERT INTO widgets (id, status) VALUES (?, ?)", wid, string(s)); err != nil {
		t.Fatal(err)
	}
	return wid
}

func (f fixture) state(t *testing.T, wid string) status {
	t.Helper()
	var s string
	if err := f.db.NewRaw("SELECT status FROM widgets WHERE id = ?", wid).Scan(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	return status(s)
}

func (f fixture) timeline(t *testing.T, wid string) []transition.Record {
	t.Helper()
	recs, err := f.machine.Timeline(context.Background(), wid)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// outboxOf returns the subjects of the outbox events about wid.
func (f fixture) outboxOf(t *testing.T, wid string) []string {
	t.Helper()
	var subjects []string
	err := f.db.NewRaw("SELECT subject FROM outbox_events WHERE payload LIKE ? ORDER BY id", "%"+wid+"%").
		Scan(context.Background(), &subjects)
	if err != nil && !store.IsNoRows(err) {
		t.Fatal(err)
	}
	return subjects
}

// subjectFor returns a caller the rule admits.
func subjectFor(r transition.Rule[status]) authz.Subject {
	switch {
	case r.By.Object != "":
		return finance
	case len(r.By.Kinds) > 0 && r.By.Kinds[0] == authz.KindStaff:
		return clerk
	}
	return system
}

// TestApplyEachAllowedMove makes every move of the table once and checks
// the three writes: state, timeline row, outbox event, all agreeing.
func TestApplyEachAllowedMove(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, r := range widgets.Rules() {
			t.Run(fmt.Sprintf("%s-%s", r.From, r.To), func(t *testing.T) {
				wid := f.widget(t, r.From)
				sub := subjectFor(r)
				ctx := authz.WithSubject(context.Background(), sub)
				rec, err := f.machine.Apply(ctx, transition.Move[status]{ID: wid, From: r.From, To: r.To, Reason: "because"})
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				if got := f.state(t, wid); got != r.To {
					t.Fatalf("state = %s, want %s", got, r.To)
				}
				want := transition.Record{
					ID: rec.ID, EntityID: wid, Machine: "widget.status", From: string(r.From), To: string(r.To),
					ActorKind: string(sub.Kind), Actor: sub.ID, Reason: "because", EventID: rec.EventID, At: t0.Truncate(time.Microsecond),
				}
				if diff := cmp.Diff([]transition.Record{want}, f.timeline(t, wid)); diff != "" {
					t.Fatalf("timeline (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, rec); diff != "" {
					t.Fatalf("returned record (-want +got):\n%s", diff)
				}
				var ev struct {
					ID         string    `bun:"id"`
					Subject    string    `bun:"subject"`
					Actor      string    `bun:"actor"`
					Payload    string    `bun:"payload"`
					OccurredAt time.Time `bun:"occurred_at"`
				}
				err = db.NewRaw("SELECT id, subject, actor, payload, occurred_at FROM outbox_events WHERE id = ?", rec.EventID).Scan(ctx, &ev)
				if err != nil {
					t.Fatalf("event %s not in the outbox: %v", rec.EventID, err)
				}
				if ev.Subject != r.Subject || ev.Actor != sub.ID || !ev.OccurredAt.Equal(want.At) {
					t.Fatalf("event = %+v, want subject %s by %s at %s", ev, r.Subject, sub.ID, want.At)
				}
				var payload transition.Changed
				if err := (events.Event{Payload: []byte(ev.Payload)}).Decode(&payload); err != nil {
					t.Fatal(err)
				}
				wantPayload := transition.Changed{Machine: "widget.status", ID: wid, From: string(r.From), To: string(r.To), Reason: "because", TimelineID: rec.ID}
				if diff := cmp.Diff(wantPayload, payload); diff != "" {
					t.Fatalf("payload (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// TestApplyRefusesAndWritesNothing: every move the table lacks, and every
// allowed move made by the wrong caller or without its reason, is refused
// with its own code before anything is written.
func TestApplyRefusesAndWritesNothing(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sys := authz.WithSubject(context.Background(), system)
		refused := func(t *testing.T, ctx context.Context, from, to status, reason string, kind error, code string) {
			t.Helper()
			wid := f.widget(t, from)
			_, err := f.machine.Apply(ctx, transition.Move[status]{ID: wid, From: from, To: to, Reason: reason})
			if !errors.Is(err, kind) {
				t.Fatalf("%s -> %s: err = %v, want %v", from, to, err, kind)
			}
			if all := errs.All(err); len(all) != 1 || all[0].Code != code {
				t.Fatalf("%s -> %s: codes %+v, want %s", from, to, all, code)
			}
			if got := f.state(t, wid); got != from {
				t.Fatalf("%s -> %s: state changed to %s", from, to, got)
			}
			if tl, ob := f.timeline(t, wid), f.outboxOf(t, wid); len(tl) != 0 || len(ob) != 0 {
				t.Fatalf("%s -> %s: wrote timeline %v and events %v", from, to, tl, ob)
			}
		}
		t.Run("forbidden moves", func(t *testing.T) {
			n := 0
			for _, from := range allStatuses {
				for _, to := range allStatuses {
					if widgets.Check(from, to) == nil {
						continue
					}
					n++
					refused(t, sys, from, to, "because", errs.ErrConflict, transition.CodeInvalidTransition)
				}
			}
			if want := len(allStatuses)*len(allStatuses) - len(widgets.Rules()); n != want {
				t.Fatalf("tried %d forbidden moves, want %d", n, want)
			}
		})
		t.Run("wrong kind", func(t *testing.T) {
			refused(t, authz.WithSubject(context.Background(), customer), statusNew, statusPaid, "", errs.ErrForbidden, transition.CodeForbidden)
			refused(t, authz.WithSubject(context.Background(), finance), statusNew, statusPaid, "", errs.ErrForbidden, transition.CodeForbidden)
			refused(t, sys, statusPaid, statusShipped, "", errs.ErrForbidden, transition.CodeForbidden)
		})
		t.Run("missing permission", func(t *testing.T) {
			refused(t, authz.WithSubject(context.Background(), clerk), statusPaid, statusRefunded, "damaged", errs.ErrForbidden, "FORBIDDEN")
		})
		t.Run("missing reason", func(t *testing.T) {
			refused(t, sys, statusNew, statusCancelled, "", errs.ErrInvalid, transition.CodeReasonRequired)
		})
		t.Run("no such record", func(t *testing.T) {
			_, err := f.machine.Apply(sys, transition.Move[status]{ID: "wdg_missing", From: statusNew, To: statusPaid})
			if !errors.Is(err, errs.ErrNotFound) {
				t.Fatalf("err = %v, want not found", err)
			}
		})
		t.Run("stale", func(t *testing.T) {
			wid := f.widget(t, statusNew)
			if _, err := f.machine.Apply(sys, transition.Move[status]{ID: wid, From: statusNew, To: statusPaid}); err != nil {
				t.Fatal(err)
			}
			_, err := f.machine.Apply(sys, transition.Move[status]{ID: wid, From: statusNew, To: statusCancelled, Reason: "late"})
			var te *transition.Error
			if !errors.As(err, &te) || !transition.IsStale(err) || !errors.Is(err, errs.ErrConflict) {
				t.Fatalf("err = %v, want STALE_STATE", err)
			}
			if te.Current != string(statusPaid) || te.From != string(statusNew) || te.To != string(statusCancelled) {
				t.Fatalf("stale error = %+v, want current PAID for NEW -> CANCELLED", te)
			}
			if got, ob := f.timeline(t, wid), f.outboxOf(t, wid); len(got) != 1 || len(ob) != 1 {
				t.Fatalf("the lost move wrote: timeline %v, events %v", got, ob)
			}
		})
		t.Run("rolled back with the caller's transaction", func(t *testing.T) {
			wid := f.widget(t, statusNew)
			boom := errors.New("ledger insert failed")
			err := db.RunInTx(sys, func(ctx context.Context) error {
				if _, err := f.machine.Apply(ctx, transition.Move[status]{ID: wid, From: statusNew, To: statusPaid}); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v", err)
			}
			if got, tl, ob := f.state(t, wid), f.timeline(t, wid), f.outboxOf(t, wid); got != statusNew || len(tl) != 0 || len(ob) != 0 {
				t.Fatalf("after rollback: state %s, timeline %v, events %v", got, tl, ob)
			}
		})
	})
}

// TestApplyRace: racers in separate transactions move the same widget
// from NEW at once, some to PAID and some to CANCELLED. Exactly one wins,
// the others get STALE_STATE, and one timeline row and one event exist,
// matching the winner.
func TestApplyRace(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := authz.WithSubject(context.Background(), system)
		for round := 0; round < 10; round++ {
			wid := f.widget(t, statusNew)
			targets := []status{statusPaid, statusPaid}
			if round%2 == 1 {
				targets = []status{statusPaid, statusCancelled}
			}
			var (
				start = make(chan struct{})
				wg    sync.WaitGroup
				errc  = make([]error, len(targets))
			)
			for i, to := range targets {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errc[i] = db.RunInTx(ctx, func(ctx context.Context) error {
						_, err := f.machine.Apply(ctx, transition.Move[status]{ID: wid, From: statusNew, To: to, Reason: "race"})
						return err
					})
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errc {
				switch {
				case err == nil && winner < 0:
					winner = i
				case err == nil:
					t.Fatalf("round %d: two racers won", round)
				case !transition.IsStale(err):
					t.Fatalf("round %d: racer %d: %v, want STALE_STATE", round, i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: nobody won: %v", round, errc)
			}
			to := targets[winner]
			if got := f.state(t, wid); got != to {
				t.Fatalf("round %d: state %s, winner moved to %s", round, got, to)
			}
			tl := f.timeline(t, wid)
			if len(tl) != 1 || tl[0].To != string(to) {
				t.Fatalf("round %d: timeline %+v, want one row to %s", round, tl, to)
			}
			if ob := f.outboxOf(t, wid); len(ob) != 1 || ob[0] != "kassa.widget."+map[status]string{statusPaid: "paid", statusCancelled: "cancelled"}[to] {
				t.Fatalf("round %d: events %v, want one for %s", round, ob, to)
			}
		}
	})
}

func TestNewMachineChecksItsInputs(t *testing.T) {
	t.Parallel()
	db := storetest.NewSQLite(t)
	ob := events.NewOutbox(db)
	good := transition.Options{DB: db, Outbox: ob, Authorizer: roles{}}
	tests := []struct {
		name string
		st   transition.Storage
		opt  transition.Options
	}{
		{"quoted table", transition.Storage{Table: `widgets"; DROP TABLE x; --`, Key: "id", State: "status", Timeline: "t", TimelineKey: "k"}, good},
		{"missing timeline key", transition.Storage{Table: "widgets", Key: "id", State: "status", Timeline: "t"}, good},
		{"no outbox", storage, transition.Options{DB: db, Authorizer: roles{}}},
		{"permission without authorizer", storage, transition.Options{DB: db, Outbox: ob}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := transition.NewMachine(widgets, tt.st, tt.opt); err == nil {
				t.Fatal("NewMachine accepted it")
			}
		})
	}
	if _, err := transition.NewMachine(widgets, storage, good); err != nil {
		t.Fatalf("good inputs refused: %v", err)
	}
}
