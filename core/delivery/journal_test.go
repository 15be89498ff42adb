package delivery_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/delivery"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// gate allows everything unless denied.
type gate struct{ deny bool }

func (g gate) Can(context.Context, authz.Object, authz.Action) error {
	if g.deny {
		return errs.Forbidden("FORBIDDEN", "no")
	}
	return nil
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newJournal(t *testing.T, db *store.DB, c *fakeClock, g gate) *delivery.Journal {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := secret.New(key)
	if err != nil {
		t.Fatal(err)
	}
	j, err := delivery.New(db, delivery.Options{Box: box, Authz: g, Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func code(err error) string {
	if all := errs.All(err); len(all) == 1 {
		return all[0].Code
	}
	return fmt.Sprint(err)
}

func staff() context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "stf_1", Roles: []string{authz.RoleOwner}})
}

func TestJournal(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &fakeClock{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
		j := newJournal(t, db, clk, gate{})

		// A consumer that fails until told otherwise, and records what
		// it was given and as whom.
		var fail atomic.Bool
		var got []events.Event
		var subjects []authz.Subject
		var mu sync.Mutex
		h := j.Wrap("notify-orders-0", func(ctx context.Context, e events.Event) error {
			mu.Lock()
			got = append(got, e)
			subjects = append(subjects, authz.SubjectFrom(ctx))
			mu.Unlock()
			if fail.Load() {
				return errors.New("smtp: connection refused")
			}
			return nil
		}, 3)

		ok := events.MustNew("kassa.order.placed", map[string]string{"email": "a@example.com"})
		if err := h(ctx, ok); err != nil {
			t.Fatalf("delivered event: %v", err)
		}
		d, err := j.Get(staff(), "notify-orders-0", ok.ID)
		if err != nil || d.Status != delivery.Delivered || d.Attempts != 1 || d.LastError != "" {
			t.Fatalf("delivered row = %+v, %v", d, err)
		}

		// Three failures: retrying, retrying, then dead (the bus is told
		// to stop with a permanent error).
		fail.Store(true)
		bad := events.MustNew("kassa.order.shipped", map[string]string{"email": "b@example.com", "street": "1 Main St"})
		bad.Actor = "stf_9"
		for i, want := range []delivery.Status{delivery.Retrying, delivery.Retrying, delivery.Dead} {
			clk.add(time.Second)
			err := h(ctx, bad)
			if err == nil || !strings.Contains(err.Error(), "connection refused") {
				t.Fatalf("try %d: err = %v", i+1, err)
			}
			if events.IsPermanent(err) != (want == delivery.Dead) {
				t.Fatalf("try %d: permanent = %v", i+1, events.IsPermanent(err))
			}
			d, _ := j.Get(staff(), "notify-orders-0", bad.ID)
			if d.Status != want || d.Attempts != i+1 {
				t.Fatalf("try %d: row = %+v, want %s", i+1, d, want)
			}
		}
		// A permanent error is a dead letter at once.
		perm := events.MustNew("kassa.order.cancelled", map[string]string{"email": "c@example.com"})
		hp := j.Wrap("notify-merchant", func(context.Context, events.Event) error {
			return events.Permanent(errors.New("webhook answered 410"))
		}, 10)
		if err := hp(ctx, perm); !events.IsPermanent(err) {
			t.Fatalf("permanent: %v", err)
		}

		// The event is sealed at rest: the row holds no plaintext.
		var sealed string
		if err := db.NewRaw("SELECT sealed_event FROM event_deliveries WHERE event_id = ?", bad.ID).Scan(ctx, &sealed); err != nil {
			t.Fatal(err)
		}
		if sealed == "" || strings.Contains(sealed, "Main St") || strings.Contains(sealed, "example.com") {
			t.Fatalf("sealed event = %q", sealed)
		}

		// Dead letters are listed, filtered and paged newest first.
		p, err := j.List(staff(), delivery.Filter{Status: delivery.Dead}, page.Request{First: 1})
		if err != nil || len(p.Items) != 1 || !p.HasNext || p.Items[0].EventID != bad.ID {
			t.Fatalf("first page = %+v, %v", p, err)
		}
		p2, err := j.List(staff(), delivery.Filter{Status: delivery.Dead}, page.Request{First: 1, After: &p.Cursors[0]})
		if err != nil || len(p2.Items) != 1 || p2.HasNext || p2.Items[0].EventID != perm.ID {
			t.Fatalf("second page = %+v, %v", p2, err)
		}
		all, _ := j.List(staff(), delivery.Filter{Consumer: "notify-orders-0"}, page.Request{First: 10})
		if len(all.Items) != 2 {
			t.Fatalf("consumer filter = %d rows", len(all.Items))
		}
		if _, err := j.List(staff(), delivery.Filter{Status: "LOST"}, page.Request{First: 10}); code(err) != delivery.CodeInvalidStatus {
			t.Fatalf("bad status: %v", err)
		}

		// Replay while the cause persists: dead again, error returned.
		if _, err := j.Replay(staff(), "notify-orders-0", bad.ID); !errors.Is(err, delivery.ErrReplayFailed) {
			t.Fatalf("failing replay: %v", err)
		}
		// Fixed: the replay delivers the same event, as the platform.
		fail.Store(false)
		mu.Lock()
		got, subjects = nil, nil
		mu.Unlock()
		d, err = j.Replay(staff(), "notify-orders-0", bad.ID)
		if err != nil || d.Status != delivery.Delivered || d.Attempts != 5 || d.ReplayedBy != "stf_1" || d.ReplayedAt == nil {
			t.Fatalf("replay = %+v, %v", d, err)
		}
		if len(got) != 1 || got[0].ID != bad.ID || got[0].Subject != bad.Subject || got[0].Actor != "stf_9" ||
			string(got[0].Payload) != string(bad.Payload) || !subjects[0].IsSystem() {
			t.Fatalf("replayed event = %+v as %+v", got, subjects)
		}
		if err := db.NewRaw("SELECT sealed_event FROM event_deliveries WHERE event_id = ?", bad.ID).Scan(ctx, &sealed); err != nil || sealed != "" {
			t.Fatalf("delivered row keeps its event: %q %v", sealed, err)
		}

		// Refusals: not dead, unknown, unknown consumer, no permission.
		for name, c := range map[string]struct {
			ctx      context.Context
			j        *delivery.Journal
			consumer string
			id       string
			want     string
		}{
			"delivered":        {staff(), j, "notify-orders-0", bad.ID, delivery.CodeNotDead},
			"unknown event":    {staff(), j, "notify-orders-0", "evt_missing", delivery.CodeNotFound},
			"unknown consumer": {staff(), j, "invoices", bad.ID, delivery.CodeConsumerUnknown},
			"forbidden":        {staff(), newJournal(t, db, clk, gate{deny: true}), "notify-orders-0", bad.ID, "FORBIDDEN"},
		} {
			if _, err := c.j.Replay(c.ctx, c.consumer, c.id); code(err) != c.want {
				t.Errorf("%s: %v, want %s", name, err, c.want)
			}
		}
		if _, err := newJournal(t, db, clk, gate{deny: true}).List(staff(), delivery.Filter{}, page.Request{First: 1}); code(err) != "FORBIDDEN" {
			t.Errorf("list without permission: %v", err)
		}

		// Two staff replaying one dead letter at once hand it over once.
		var calls atomic.Int64
		hc := j.Wrap("invoices", func(context.Context, events.Event) error {
			if calls.Add(1) == 1 {
				return events.Permanent(errors.New("plugin down"))
			}
			time.Sleep(50 * time.Millisecond)
			return nil
		}, 10)
		inv := events.MustNew("kassa.payment.succeeded", map[string]string{"order": "ord_1"})
		_ = hc(ctx, inv)
		var wg sync.WaitGroup
		var won atomic.Int64
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := j.Replay(staff(), "invoices", inv.ID); err == nil {
					won.Add(1)
				} else if code(err) != delivery.CodeNotDead {
					t.Errorf("concurrent replay: %v", err)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 || calls.Load() != 2 {
			t.Fatalf("concurrent replays: %d won, consumer called %d times", won.Load(), calls.Load())
		}

		// Cleanup: delivered rows go after a week, dead letters after 90 days.
		clk.add(8 * 24 * time.Hour)
		if err := j.Cleanup(ctx); err != nil {
			t.Fatal(err)
		}
		left, _ := j.List(staff(), delivery.Filter{}, page.Request{First: 10})
		if len(left.Items) != 1 || left.Items[0].EventID != perm.ID {
			t.Fatalf("after a week: %+v", left.Items)
		}
		clk.add(90 * 24 * time.Hour)
		if err := j.Cleanup(ctx); err != nil {
			t.Fatal(err)
		}
		left, _ = j.List(staff(), delivery.Filter{}, page.Request{First: 10})
		if len(left.Items) != 0 {
			t.Fatalf("after 90 days: %+v", left.Items)
		}
	})
}

// Deliveries that arrive together are written together, and each is
// acknowledged only once its row is there; a redelivery of a delivered
// event in the same group counts a second try.
func TestConcurrentDeliveriesAreAllRecorded(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clk := &fakeClock{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
		j := newJournal(t, db, clk, gate{})
		const consumers, perConsumer = 4, 10
		var wg sync.WaitGroup
		for c := range consumers {
			h := j.Wrap(fmt.Sprintf("c-%d", c), func(context.Context, events.Event) error { return nil }, 3)
			for i := range perConsumer {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e := events.Event{ID: fmt.Sprintf("evt_%d", i), Subject: "kassa.order.placed", OccurredAt: clk.Now()}
					if err := h(context.Background(), e); err != nil {
						t.Errorf("deliver: %v", err)
					}
					if i == 0 { // the same event again, racing the others
						if err := h(context.Background(), e); err != nil {
							t.Errorf("redeliver: %v", err)
						}
					}
				}()
			}
		}
		wg.Wait()
		for c := range consumers {
			for i := range perConsumer {
				d, err := j.Get(staff(), fmt.Sprintf("c-%d", c), fmt.Sprintf("evt_%d", i))
				if err != nil {
					t.Fatalf("c-%d evt_%d: %v", c, i, err)
				}
				want := 1
				if i == 0 {
					want = 2
				}
				if d.Status != delivery.Delivered || d.Attempts != want {
					t.Errorf("c-%d evt_%d: %s after %d tries, want DELIVERED after %d", c, i, d.Status, d.Attempts, want)
				}
			}
		}
	})
}

// TestOnlyWanted: a consumer with nothing to do for an event (no enabled
// channel or rule wants it) acknowledges it without calling its handler
// and without a journal row; a redelivery after a failed try still runs
// the handler, so its RETRYING row ends DELIVERED; staff replay ignores
// the filter.
func TestOnlyWanted(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clk := &fakeClock{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
		j := newJournal(t, db, clk, gate{})
		var wanted atomic.Bool
		var calls atomic.Int32
		fail := atomic.Bool{}
		h := j.Wrap("idle-consumer", func(context.Context, events.Event) error {
			calls.Add(1)
			if fail.Load() {
				return errors.New("channel down")
			}
			return nil
		}, 5, delivery.OnlyWanted(func(context.Context, events.Event) bool { return wanted.Load() }))
		bus := events.NewMemoryBus(nil)
		t.Cleanup(func() { _ = bus.Close() })
		done := make(chan string, 16)
		sub, err := bus.Subscribe(context.Background(), "idle-consumer", "kassa.>", func(ctx context.Context, e events.Event) error {
			err := h(ctx, e)
			if err == nil {
				done <- e.ID
			}
			return err
		}, events.WithBackoff(300*time.Millisecond)) // long enough for the flip below
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Stop() })
		publish := func() events.Event {
			t.Helper()
			e, err := events.New("kassa.order.placed", map[string]string{"orderId": "ord_1"})
			if err != nil {
				t.Fatal(err)
			}
			if err := bus.Publish(context.Background(), e); err != nil {
				t.Fatal(err)
			}
			select {
			case id := <-done:
				if id != e.ID {
					t.Fatalf("acknowledged %s, want %s", id, e.ID)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("event not acknowledged")
			}
			return e
		}
		rows := func() []delivery.Delivery {
			t.Helper()
			p, err := j.List(staff(), delivery.Filter{Consumer: "idle-consumer"}, page.Request{First: 10})
			if err != nil {
				t.Fatal(err)
			}
			return p.Items
		}

		// Nobody wants it: acknowledged, no call, no row.
		publish()
		if n := calls.Load(); n != 0 {
			t.Fatalf("handler called %d times for an unwanted event", n)
		}
		if got := rows(); len(got) != 0 {
			t.Fatalf("an unwanted event left %d journal rows: %+v", len(got), got)
		}

		// Wanted, failing once, then unwanted at its redelivery: the
		// handler runs again and the row ends DELIVERED after 2 tries.
		wanted.Store(true)
		fail.Store(true)
		go func() {
			for rows := 0; rows == 0; {
				time.Sleep(time.Millisecond)
				p, _ := j.List(staff(), delivery.Filter{Status: delivery.Retrying}, page.Request{First: 1})
				rows = len(p.Items)
			}
			wanted.Store(false)
			fail.Store(false)
		}()
		e := publish()
		got := rows()
		if len(got) != 1 || got[0].EventID != e.ID || got[0].Status != delivery.Delivered || got[0].Attempts != 2 {
			t.Fatalf("journal after a retried event = %+v, want one DELIVERED row after 2 tries", got)
		}
	})
}
