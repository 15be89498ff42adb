package events_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// forEachStoreAndBus runs fn on every database and, inside, every bus.
// The database is shared by the bus subtests; each bus is fresh.
func forEachStoreAndBus(t *testing.T, fn func(t *testing.T, db *store.DB, bus events.Bus)) {
	t.Helper()
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		eventstest.ForEachBus(t, func(t *testing.T, bus events.Bus) { fn(t, db, bus) })
	})
}

func newRelay(t testing.TB, outbox *events.Outbox, bus events.Publisher, opt events.RelayOptions) *events.Relay {
	t.Helper()
	r, err := events.NewRelay(outbox, bus, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func flush(t testing.TB, r *events.Relay) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventstest.Timeout)
	defer cancel()
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// runRelay runs r in the background until the test ends.
func runRelay(t testing.TB, r *events.Relay) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			t.Errorf("relay: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// addInTx adds evs to the outbox in one committed transaction.
func addInTx(t testing.TB, db *store.DB, outbox *events.Outbox, evs ...events.Event) {
	t.Helper()
	ctx := context.Background()
	if err := db.RunInTx(ctx, func(ctx context.Context) error { return outbox.AddAll(ctx, evs...) }); err != nil {
		t.Fatal(err)
	}
}

type outboxState struct {
	Sent      bool
	Attempts  int
	LastError string
}

func rowState(t testing.TB, db *store.DB, id string) (outboxState, bool) {
	t.Helper()
	var rows []struct {
		SentAt    *time.Time
		Attempts  int
		LastError *string
	}
	if err := db.NewRaw("SELECT sent_at, attempts, last_error FROM outbox_events WHERE id = ?", id).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return outboxState{}, false
	}
	s := outboxState{Sent: rows[0].SentAt != nil, Attempts: rows[0].Attempts}
	if rows[0].LastError != nil {
		s.LastError = *rows[0].LastError
	}
	return s, true
}

// settle publishes a last event through the outbox and waits for it, so
// everything committed before it has reached rec (or never will).
func settle(t testing.TB, db *store.DB, outbox *events.Outbox, r *events.Relay, rec *eventstest.Recorder) []events.Event {
	t.Helper()
	last := mustEvent(t, "kassa.test.settled", nil)
	addInTx(t, db, outbox, last)
	flush(t, r)
	evs := rec.WaitForIDs(t, last.ID)
	return evs[:len(evs)-1]
}

func TestOutboxRolledBackTransactionPublishesNothing(t *testing.T) {
	t.Parallel()
	forEachStoreAndBus(t, func(t *testing.T, db *store.DB, bus events.Bus) {
		ctx := context.Background()
		outbox := events.NewOutbox(db)
		relay := newRelay(t, outbox, bus, events.RelayOptions{})
		rec := eventstest.Subscribe(t, bus, "kassa.>")

		doomed := mustEvent(t, "kassa.order.placed", map[string]string{"orderId": "ord_1"})
		boom := errors.New("payment declined")
		err := db.RunInTx(ctx, func(ctx context.Context) error {
			if err := outbox.Add(ctx, doomed); err != nil {
				return err
			}
			// A nested call joins the transaction and rolls back with it.
			return db.RunInTx(ctx, func(ctx context.Context) error {
				if err := outbox.Add(ctx, mustEvent(t, "kassa.order.paid", nil)); err != nil {
					return err
				}
				return boom
			})
		})
		if !errors.Is(err, boom) {
			t.Fatalf("RunInTx = %v, want %v", err, boom)
		}
		if _, ok := rowState(t, db, doomed.ID); ok {
			t.Fatal("rolled-back event is in the outbox")
		}
		if got := settle(t, db, outbox, relay, rec); len(got) != 0 {
			t.Fatalf("rolled-back transaction published %v", eventstest.IDs(got))
		}
	})
}

func TestOutboxCommittedEventsArriveOnceInOrder(t *testing.T) {
	t.Parallel()
	forEachStoreAndBus(t, func(t *testing.T, db *store.DB, bus events.Bus) {
		outbox := events.NewOutbox(db)
		// A long poll interval: only the commit hook can wake the relay in
		// time.
		relay := newRelay(t, outbox, bus, events.RelayOptions{PollInterval: time.Hour, BatchSize: 3})
		rec := eventstest.Subscribe(t, bus, "kassa.>")
		runRelay(t, relay)

		var want []events.Event
		for tx := range 3 {
			var evs []events.Event
			for i := range 4 {
				e := mustEvent(t, "kassa.order.placed", map[string]int{"tx": tx, "i": i})
				e.Actor = "usr_1"
				e.Headers = map[string]string{"Request-Id": fmt.Sprintf("req_%d", tx)}
				evs = append(evs, e)
			}
			addInTx(t, db, outbox, evs...)
			want = append(want, evs...)
		}
		got := rec.WaitForIDs(t, want[len(want)-1].ID)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("delivered events (-want +got):\n%s", diff)
		}
		got = settle(t, db, outbox, relay, rec)
		if len(got) != len(want) {
			t.Fatalf("consumer saw %d events, want %d", len(got), len(want))
		}
		for _, e := range want {
			if s, _ := rowState(t, db, e.ID); !s.Sent {
				t.Errorf("%s not marked sent", e.ID)
			}
		}
	})
}

// ackLost publishes, then reports a failure: the stream has the event but
// the relay believes it was not published (a lost acknowledgement).
type ackLost struct {
	events.Publisher
	failures atomic.Int32
}

func (a *ackLost) Publish(ctx context.Context, e events.Event) error {
	if err := a.Publisher.Publish(ctx, e); err != nil {
		return err
	}
	if a.failures.Add(-1) >= 0 {
		return errors.New("connection reset before the acknowledgement")
	}
	return nil
}

func TestOutboxRelayDiesBetweenPublishAndMark(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// firstRelay makes a relay whose round publishes and then fails
		// before its marks are stored.
		firstRelay   func(t *testing.T, outbox *events.Outbox, bus events.Bus) *events.Relay
		wantAttempts int
	}{
		{
			name: "crash before marking sent",
			firstRelay: func(t *testing.T, outbox *events.Outbox, bus events.Bus) *events.Relay {
				r := newRelay(t, outbox, bus, events.RelayOptions{})
				r.SetBeforeMark(func() error { return errors.New("process killed") })
				return r
			},
		},
		{
			name: "acknowledgement lost",
			firstRelay: func(t *testing.T, outbox *events.Outbox, bus events.Bus) *events.Relay {
				lossy := &ackLost{Publisher: bus}
				lossy.failures.Store(1)
				return newRelay(t, outbox, lossy, events.RelayOptions{})
			},
			wantAttempts: 1,
		},
	}
	forEachStoreAndBus(t, func(t *testing.T, db *store.DB, bus events.Bus) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				outbox := events.NewOutbox(db)
				// The bus is shared by the cases: start after what came before.
				rec := eventstest.Subscribe(t, bus, "kassa.order.>", events.WithDeliverNew())
				e := mustEvent(t, "kassa.order.placed", map[string]string{"orderId": "ord_1"})
				addInTx(t, db, outbox, e)

				dying := tt.firstRelay(t, outbox, bus)
				if _, err := dying.Round(ctx); err == nil {
					t.Fatal("the dying relay's round succeeded")
				}
				// The event reached the stream although the outbox still
				// holds it as pending.
				rec.WaitForIDs(t, e.ID)
				s, _ := rowState(t, db, e.ID)
				if s.Sent || s.Attempts != tt.wantAttempts || (tt.wantAttempts > 0) != (s.LastError != "") {
					t.Fatalf("outbox row after the failed round = %+v", s)
				}

				// A new relay (the restarted process) publishes it again.
				next := newRelay(t, outbox, bus, events.RelayOptions{})
				flush(t, next)
				if s, _ := rowState(t, db, e.ID); !s.Sent {
					t.Fatal("event not marked sent after the new relay flushed")
				}
				e2 := mustEvent(t, "kassa.order.paid", nil)
				addInTx(t, db, outbox, e2)
				flush(t, next)
				got := rec.WaitForIDs(t, e2.ID)
				if diff := cmp.Diff([]string{e.ID, e2.ID}, eventstest.IDs(got)); diff != "" {
					t.Fatalf("consumer saw (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestRelayFlushDrainsInOrder(t *testing.T) {
	t.Parallel()
	forEachStoreAndBus(t, func(t *testing.T, db *store.DB, bus events.Bus) {
		outbox := events.NewOutbox(db)
		relay := newRelay(t, outbox, bus, events.RelayOptions{BatchSize: 7})
		rec := eventstest.Subscribe(t, bus, "kassa.>")
		var want []string
		for range 5 {
			var evs []events.Event
			for i := range 10 {
				e := mustEvent(t, "kassa.stock.adjusted", i)
				evs = append(evs, e)
				want = append(want, e.ID)
			}
			addInTx(t, db, outbox, evs...)
		}
		flush(t, relay) // no Run loop: Flush alone must publish everything
		got := rec.WaitForIDs(t, want...)
		if diff := cmp.Diff(want, eventstest.IDs(got)); diff != "" {
			t.Fatalf("delivered (-want +got):\n%s", diff)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// flaky fails its first calls.
type flaky struct {
	events.Publisher
	failures atomic.Int32
}

func (f *flaky) Publish(ctx context.Context, e events.Event) error {
	if f.failures.Add(-1) >= 0 {
		return errors.New("no responders")
	}
	return f.Publisher.Publish(ctx, e)
}

func TestRelayRetriesAndReportsMetrics(t *testing.T) {
	t.Parallel()
	forEachStoreAndBus(t, func(t *testing.T, db *store.DB, bus events.Bus) {
		outbox := events.NewOutbox(db)
		reg := prometheus.NewPedanticRegistry()
		pub := &flaky{Publisher: bus}
		pub.failures.Store(2)
		logs := &syncBuffer{}
		relay := newRelay(t, outbox, pub, events.RelayOptions{Registerer: reg, MaxBackoff: 20 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
		rec := eventstest.Subscribe(t, bus, "kassa.>")

		a, b := mustEvent(t, "kassa.order.placed", 1), mustEvent(t, "kassa.order.paid", 2)
		addInTx(t, db, outbox, a, b)
		// One round: the first publish fails, nothing after it is tried.
		if n, err := relay.Round(context.Background()); n != 0 || err == nil {
			t.Fatalf("Round = %d, %v; want 0 and the publish error", n, err)
		}
		if s, _ := rowState(t, db, b.ID); s.Attempts != 0 || s.Sent {
			t.Fatalf("event after the failed one was touched: %+v", s)
		}

		runRelay(t, relay)
		got := rec.WaitForIDs(t, a.ID, b.ID)
		if diff := cmp.Diff([]string{a.ID, b.ID}, eventstest.IDs(got)); diff != "" {
			t.Fatalf("delivered (-want +got):\n%s", diff)
		}
		flush(t, relay) // the consumer may see an event before the relay marks it
		if s, _ := rowState(t, db, a.ID); !s.Sent || s.Attempts != 2 || s.LastError == "" {
			t.Fatalf("retried row = %+v, want sent after 2 failed attempts", s)
		}
		// The running relay's failed round is logged with its retry.
		if out := logs.String(); !strings.Contains(out, "relaying the outbox failed; retrying") || !strings.Contains(out, "no responders") {
			t.Errorf("the relay's retry is not logged:\n%s", out)
		}
		if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP kassa_outbox_pending_events Committed events not yet published to the event stream.
# TYPE kassa_outbox_pending_events gauge
kassa_outbox_pending_events 0
# HELP kassa_outbox_lag_seconds Age of the oldest committed event not yet published (0 when none).
# TYPE kassa_outbox_lag_seconds gauge
kassa_outbox_lag_seconds 0
# HELP kassa_outbox_published_total Events the outbox relay published to the event stream.
# TYPE kassa_outbox_published_total counter
kassa_outbox_published_total 2
# HELP kassa_outbox_publish_errors_total Failed attempts of the outbox relay to publish an event.
# TYPE kassa_outbox_publish_errors_total counter
kassa_outbox_publish_errors_total 2
`)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestRelayMetricsShowPendingLag(t *testing.T) {
	t.Parallel()
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		outbox := events.NewOutbox(db)
		reg := prometheus.NewRegistry()
		down := &flaky{Publisher: events.NewMemoryBus(nil)}
		down.failures.Store(1 << 30)
		relay := newRelay(t, outbox, down, events.RelayOptions{Registerer: reg, MaxBackoff: time.Hour})
		addInTx(t, db, outbox, mustEvent(t, "kassa.order.placed", 1), mustEvent(t, "kassa.order.placed", 2))
		// Backdate the events instead of sleeping to age them: the lag is
		// measured from created_at, and a minute cannot be mistaken for
		// scheduling noise.
		if _, err := db.NewUpdate().Table("outbox_events").Set("created_at = ?", time.Now().UTC().Add(-time.Minute)).
			Where("sent_at IS NULL").Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		runRelay(t, relay)
		deadline := time.Now().Add(eventstest.Timeout)
		for {
			pending, lag := gauge(t, reg, "kassa_outbox_pending_events"), gauge(t, reg, "kassa_outbox_lag_seconds")
			if pending == 2 && lag >= 60 && gauge(t, reg, "kassa_outbox_publish_errors_total") >= 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pending=%v lag=%v; want 2 pending and a lag", pending, lag)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := events.NewRelay(outbox, down, events.RelayOptions{Registerer: reg}); err == nil {
			t.Fatal("registering the metrics twice succeeded")
		}
	})
}

func gauge(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if m.GetGauge() != nil {
			return m.GetGauge().GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// TestRelaysOfSeveralInstances runs three relays on one database and bus,
// as three kassa instances would, while transactions commit: every event
// arrives once, in commit order.
func TestRelaysOfSeveralInstances(t *testing.T) {
	t.Parallel()
	forEachStoreAndBus(t, func(t *testing.T, db *store.DB, bus events.Bus) {
		rec := eventstest.Subscribe(t, bus, "kassa.>")
		var relays []*events.Relay
		var outboxes []*events.Outbox
		for range 3 {
			o := events.NewOutbox(db)
			r := newRelay(t, o, bus, events.RelayOptions{BatchSize: 5, PollInterval: 10 * time.Millisecond})
			runRelay(t, r)
			relays = append(relays, r)
			outboxes = append(outboxes, o)
		}
		var want []string
		for i := range 30 {
			e := mustEvent(t, "kassa.order.placed", i)
			want = append(want, e.ID)
			addInTx(t, db, outboxes[i%3], e)
		}
		rec.WaitForIDs(t, want...)
		var wg sync.WaitGroup
		for _, r := range relays {
			wg.Go(func() { flush(t, r) })
		}
		wg.Wait()
		got := settle(t, db, outboxes[0], relays[0], rec)
		if diff := cmp.Diff(want, eventstest.IDs(got)); diff != "" {
			t.Fatalf("delivered (-want +got):\n%s", diff)
		}
	})
}

// A relay woken by a commit while another relay holds the lock (and may
// have read before that commit) looks again soon, not at its next poll:
// the event arrives after the lock is released though the relay polls
// once an hour.
func TestRelayLockedOutLooksAgainSoon(t *testing.T) {
	t.Parallel()
	db := storetest.NewPostgres(t)
	bus := events.NewMemoryBus(nil)
	outbox := events.NewOutbox(db)
	relay := newRelay(t, outbox, bus, events.RelayOptions{PollInterval: time.Hour})
	rec := eventstest.Subscribe(t, bus, "kassa.>")

	// The other relay: a transaction holding the relay lock.
	ctx := context.Background()
	holder, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback() //nolint:errcheck // committed below
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.outbox_events'))"); err != nil {
		t.Fatal(err)
	}
	runRelay(t, relay)
	e := mustEvent(t, "kassa.order.placed", 1)
	addInTx(t, db, outbox, e) // wakes the relay, which finds the lock held
	time.Sleep(200 * time.Millisecond)
	if s, _ := rowState(t, db, e.ID); s.Sent {
		t.Fatal("published while another relay held the lock")
	}
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	rec.WaitForIDs(t, e.ID)
}

func TestOutboxAdd(t *testing.T) {
	t.Parallel()
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		outbox := events.NewOutbox(db)
		bad := mustEvent(t, "kassa.order.placed", nil)
		bad.Subject = "order.placed"
		good := mustEvent(t, "kassa.order.placed", nil)
		if err := outbox.AddAll(ctx, good, bad); !errors.Is(err, events.ErrInvalidEvent) {
			t.Fatalf("Add with an invalid event = %v, want ErrInvalidEvent", err)
		}
		if _, ok := rowState(t, db, good.ID); ok {
			t.Fatal("Add stored part of a rejected call")
		}
		if err := outbox.AddAll(ctx); err != nil {
			t.Fatalf("AddAll() = %v", err)
		}
		// Outside a transaction the events are stored at once.
		if err := outbox.Add(ctx, good); err != nil {
			t.Fatal(err)
		}
		if _, ok := rowState(t, db, good.ID); !ok {
			t.Fatal("event added outside a transaction is missing")
		}
		if err := outbox.Add(ctx, good); !store.IsUniqueViolation(err) {
			t.Fatalf("adding the same event twice = %v, want a unique violation", err)
		}
	})
}

func TestOutboxPrune(t *testing.T) {
	t.Parallel()
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		outbox := events.NewOutbox(db)
		relay := newRelay(t, outbox, events.NewMemoryBus(nil), events.RelayOptions{})
		sent := mustEvent(t, "kassa.order.placed", 1)
		addInTx(t, db, outbox, sent)
		flush(t, relay)
		pending := mustEvent(t, "kassa.order.placed", 2)
		addInTx(t, db, outbox, pending)

		if n, err := outbox.Prune(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Fatalf("Prune before retention = %d, %v; want 0", n, err)
		}
		if n, err := outbox.Prune(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
			t.Fatalf("Prune after retention = %d, %v; want 1", n, err)
		}
		if _, ok := rowState(t, db, sent.ID); ok {
			t.Error("sent event survived pruning")
		}
		if _, ok := rowState(t, db, pending.ID); !ok {
			t.Error("pending event was pruned")
		}
	})
}

// The one-method port domain packages declare is satisfied by *Outbox.
var _ interface {
	Add(ctx context.Context, e events.Event) error
} = (*events.Outbox)(nil)
