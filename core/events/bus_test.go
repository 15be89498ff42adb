package events_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/events/eventstest"
)

// quiet is how long a test waits to be sure something does not happen. It
// is many times the backoff the tests configure.
const quiet = 300 * time.Millisecond

func mustEvent(t testing.TB, subject string, payload any) events.Event {
	t.Helper()
	e, err := events.New(subject, payload)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func publish(t testing.TB, bus events.Publisher, evs ...events.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventstest.Timeout)
	defer cancel()
	for _, e := range evs {
		if err := bus.Publish(ctx, e); err != nil {
			t.Fatalf("publish %s: %v", e.ID, err)
		}
	}
}

func count(evs []events.Event, id string) int {
	n := 0
	for _, e := range evs {
		if e.ID == id {
			n++
		}
	}
	return n
}

func TestBusDurableDeliversOnceInOrder(t *testing.T) {
	t.Parallel()
	eventstest.ForEachBus(t, func(t *testing.T, bus events.Bus) {
		t.Parallel()
		// Published before the consumer exists: still delivered.
		early := mustEvent(t, "kassa.order.placed", map[string]int{"n": 0})
		publish(t, bus, early)
		rec := eventstest.Subscribe(t, bus, "kassa.order.>")

		a := mustEvent(t, "kassa.order.placed", map[string]int{"n": 1})
		a.Actor = "usr_1"
		a.Headers = map[string]string{"Request-Id": "req_1"}
		other := mustEvent(t, "kassa.payment.failed", map[string]int{"n": 2})
		b := mustEvent(t, "kassa.order.paid", map[string]int{"n": 3})
		c := mustEvent(t, "kassa.order.fulfillment.shipped", map[string]int{"n": 4})
		publish(t, bus, a, other, b, a, c, b)

		got := rec.WaitForIDs(t, c.ID)
		// A last event proves no late duplicate is still on its way.
		last := mustEvent(t, "kassa.order.completed", nil)
		publish(t, bus, last)
		got = rec.WaitForIDs(t, last.ID)
		if diff := cmp.Diff([]events.Event{early, a, b, c, last}, got); diff != "" {
			t.Fatalf("delivered events (-want +got):\n%s", diff)
		}
	})
}

func TestBusRedelivery(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	tests := []struct {
		name       string
		maxDeliver int
		// fail decides the outcome of delivery n (1-based).
		fail func(n int) error
		want int // deliveries
	}{
		{"succeeds at once", 5, func(int) error { return nil }, 1},
		{"fails twice then succeeds", 5, func(n int) error {
			if n <= 2 {
				return errBoom
			}
			return nil
		}, 3},
		{"permanent failure is not retried", 5, func(int) error { return events.Permanent(errBoom) }, 1},
		{"gives up after max deliveries", 3, func(int) error { return errBoom }, 3},
		{"panic is a failure", 5, func(n int) error {
			if n == 1 {
				panic("handler bug")
			}
			return nil
		}, 2},
	}
	eventstest.ForEachBus(t, func(t *testing.T, bus events.Bus) {
		t.Parallel()
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				var (
					mu         sync.Mutex
					deliveries int
					done       = make(chan struct{})
				)
				h := func(ctx context.Context, e events.Event) error {
					mu.Lock()
					deliveries++
					n := deliveries
					mu.Unlock()
					if n == tt.want {
						close(done)
					}
					return tt.fail(n)
				}
				subject := fmt.Sprintf("kassa.case%d.happened", i)
				sub, err := bus.Subscribe(context.Background(), fmt.Sprintf("redelivery_%d", i), subject, h,
					events.WithBackoff(10*time.Millisecond), events.WithMaxDeliver(tt.maxDeliver))
				if err != nil {
					t.Fatal(err)
				}
				defer sub.Stop()
				publish(t, bus, mustEvent(t, subject, nil))
				select {
				case <-done:
				case <-time.After(eventstest.Timeout):
					t.Fatalf("timed out waiting for %d deliveries", tt.want)
				}
				time.Sleep(quiet)
				mu.Lock()
				defer mu.Unlock()
				if deliveries != tt.want {
					t.Fatalf("delivered %d times, want %d", deliveries, tt.want)
				}
			})
		}
	})
}

func TestBusDurableResumesWhereItStopped(t *testing.T) {
	t.Parallel()
	eventstest.ForEachBus(t, func(t *testing.T, bus events.Bus) {
		t.Parallel()
		ctx := context.Background()
		first := eventstest.NewRecorder()
		sub, err := bus.Subscribe(ctx, "resume", "kassa.>", first.Handle)
		if err != nil {
			t.Fatal(err)
		}
		e1 := mustEvent(t, "kassa.order.placed", 1)
		publish(t, bus, e1)
		first.WaitForIDs(t, e1.ID)
		if err := sub.Stop(); err != nil {
			t.Fatal(err)
		}

		e2 := mustEvent(t, "kassa.order.paid", 2)
		publish(t, bus, e2) // while nobody listens
		second := eventstest.NewRecorder()
		sub, err = bus.Subscribe(ctx, "resume", "kassa.>", second.Handle)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Stop()
		e3 := mustEvent(t, "kassa.order.completed", 3)
		publish(t, bus, e3)
		got := second.WaitForIDs(t, e2.ID, e3.ID)
		if diff := cmp.Diff([]string{e2.ID, e3.ID}, eventstest.IDs(got)); diff != "" {
			t.Fatalf("resumed consumer got (-want +got):\n%s", diff)
		}
		if n := len(first.Events()); n != 1 {
			t.Fatalf("stopped consumer received %d events, want 1", n)
		}
	})
}

// TestBusSeveralFilters: a consumer with several filters is delivered the
// events matching any of them, each once, and nothing else; restarted
// with narrower filters (as an upgrade narrows a consumer), it keeps its
// place in the stream and receives what its new filters match. Filters
// that overlap are refused.
func TestBusSeveralFilters(t *testing.T) {
	t.Parallel()
	eventstest.ForEachBus(t, func(t *testing.T, bus events.Bus) {
		t.Parallel()
		ctx := context.Background()
		nop := func(context.Context, events.Event) error { return nil }
		if _, err := bus.Subscribe(ctx, "overlap", "kassa.order.>", nop, events.WithFilters("kassa.order.paid")); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("overlapping filters: %v", err)
		}
		if _, err := bus.Subscribe(ctx, "overlap", "kassa.*.paid", nop, events.WithFilters("kassa.order.*")); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("overlapping wildcard filters: %v", err)
		}
		if _, err := bus.Subscribe(ctx, "bad", "kassa.order.paid", nop, events.WithFilters("order.>")); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("invalid extra filter: %v", err)
		}

		// A new consumer with filters in two domains.
		two := eventstest.NewRecorder()
		sub, err := bus.Subscribe(ctx, "two", "kassa.payment.failed", two.Handle, events.WithFilters("kassa.order.paid"))
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Stop()

		// Before the upgrade: one wide filter.
		old := eventstest.NewRecorder()
		sub, err = bus.Subscribe(ctx, "narrowed", "kassa.payment.>", old.Handle)
		if err != nil {
			t.Fatal(err)
		}
		p1 := mustEvent(t, "kassa.payment.failed", 1)
		publish(t, bus, p1)
		old.WaitForIDs(t, p1.ID)
		if err := sub.Stop(); err != nil {
			t.Fatal(err)
		}
		// Published while no instance runs: the upgraded consumer takes
		// what it wants of it.
		missed := mustEvent(t, "kassa.payment.pending", 2)
		dropped := mustEvent(t, "kassa.payment.succeeded", 3)
		publish(t, bus, missed, dropped)

		rec := eventstest.NewRecorder()
		sub, err = bus.Subscribe(ctx, "narrowed", "kassa.payment.failed", rec.Handle, events.WithFilters("kassa.payment.pending"))
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Stop()
		failed := mustEvent(t, "kassa.payment.failed", 4)
		succeeded := mustEvent(t, "kassa.payment.succeeded", 5)
		placed := mustEvent(t, "kassa.order.placed", 6)
		paid := mustEvent(t, "kassa.order.paid", 7)
		last := mustEvent(t, "kassa.payment.failed", 8)
		publish(t, bus, failed, succeeded, placed, paid, last)
		got := rec.WaitForIDs(t, missed.ID, failed.ID, last.ID)
		if diff := cmp.Diff([]string{missed.ID, failed.ID, last.ID}, eventstest.IDs(got)); diff != "" {
			t.Errorf("narrowed consumer was delivered (-want +got):\n%s", diff)
		}
		got = two.WaitForIDs(t, p1.ID, failed.ID, paid.ID, last.ID)
		if diff := cmp.Diff([]string{p1.ID, failed.ID, paid.ID, last.ID}, eventstest.IDs(got)); diff != "" {
			t.Errorf("consumer of two domains was delivered (-want +got):\n%s", diff)
		}
	})
}

func TestBusSharedDurableSplitsWork(t *testing.T) {
	t.Parallel()
	eventstest.ForEachBus(t, func(t *testing.T, bus events.Bus) {
		t.Parallel()
		ctx := context.Background()
		var recs []*eventstest.Recorder
		for range 2 {
			rec := eventstest.NewRecorder()
			sub, err := bus.Subscribe(ctx, "workers", "kassa.>", rec.Handle)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Stop()
			recs = append(recs, rec)
		}
		var ids []string
		for i := range 20 {
			e := mustEvent(t, "kassa.order.placed", i)
			ids = append(ids, e.ID)
			publish(t, bus, e)
		}
		all := func() []events.Event { return append(recs[0].Events(), recs[1].Events()...) }
		deadline := time.Now().Add(eventstest.Timeout)
		for len(all()) < len(ids) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(quiet)
		got := all()
		for _, id := range ids {
			if n := count(got, id); n != 1 {
				t.Errorf("event %s delivered %d times across the shared durable, want 1", id, n)
			}
		}
	})
}

func TestBusListenReachesEveryListener(t *testing.T) {
	t.Parallel()
	eventstest.ForEachBus(t, func(t *testing.T, bus events.Bus) {
		t.Parallel()
		ctx := context.Background()
		before := mustEvent(t, "kassa.authz.policy_changed", 0)
		publish(t, bus, before)
		var recs []*eventstest.Recorder
		for range 2 {
			rec := eventstest.NewRecorder()
			sub, err := bus.Listen(ctx, "kassa.authz.>", rec.Handle)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Stop()
			recs = append(recs, rec)
		}
		failing, err := bus.Listen(ctx, "kassa.>", func(context.Context, events.Event) error { return errors.New("ignored") })
		if err != nil {
			t.Fatal(err)
		}
		defer failing.Stop()
		e := mustEvent(t, "kassa.authz.policy_changed", 1)
		ignored := mustEvent(t, "kassa.order.placed", 2)
		publish(t, bus, ignored, e)
		for i, rec := range recs {
			got := rec.WaitForIDs(t, e.ID)
			if diff := cmp.Diff([]events.Event{e}, got); diff != "" {
				t.Errorf("listener %d got (-want +got):\n%s", i, diff)
			}
		}
	})
}

func TestBusHandlerContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	type seen struct {
		value    any
		err      error
		deadline time.Time
		ok       bool
	}
	eventstest.ForEachBus(t, func(t *testing.T, bus events.Bus) {
		t.Parallel()
		got := make(chan seen, 1)
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "system"))
		sub, err := bus.Subscribe(ctx, "ctx", "kassa.>", func(ctx context.Context, e events.Event) error {
			d, ok := ctx.Deadline()
			got <- seen{ctx.Value(key{}), ctx.Err(), d, ok}
			return nil
		}, events.WithAckWait(time.Minute))
		cancel() // the setup context ends; the consumer does not
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Stop()
		publish(t, bus, mustEvent(t, "kassa.order.placed", nil))
		select {
		case s := <-got:
			if s.value != "system" {
				t.Error("handler context lost the subscriber's values")
			}
			if s.err != nil {
				t.Errorf("handler context already done: %v", s.err)
			}
			if !s.ok || time.Until(s.deadline) > time.Minute {
				t.Errorf("handler deadline = %v, %v; want within the ack wait", s.deadline, s.ok)
			}
		case <-time.After(eventstest.Timeout):
			t.Fatal("handler not called")
		}
	})
}

func TestBusRejectsBadInput(t *testing.T) {
	t.Parallel()
	eventstest.ForEachBus(t, func(t *testing.T, bus events.Bus) {
		t.Parallel()
		ctx := context.Background()
		nop := func(context.Context, events.Event) error { return nil }
		if _, err := bus.Subscribe(ctx, "bad.name", "kassa.>", nop); err == nil {
			t.Error("durable name with a dot accepted")
		}
		if _, err := bus.Subscribe(ctx, "ok", "order.>", nop); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("Subscribe with filter outside kassa: %v", err)
		}
		if _, err := bus.Listen(ctx, "kassa.>.x", nop); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("Listen with a bad filter: %v", err)
		}
		bad := mustEvent(t, "kassa.order.placed", nil)
		bad.Subject = "kassa.order"
		if err := bus.Publish(ctx, bad); !errors.Is(err, events.ErrInvalidEvent) {
			t.Errorf("Publish of an invalid event: %v", err)
		}
	})
}

func TestBusClose(t *testing.T) {
	t.Parallel()
	eventstest.ForEachBus(t, func(t *testing.T, bus events.Bus) {
		t.Parallel()
		ctx := context.Background()
		ready, ok := bus.(interface{ Ready(context.Context) error })
		if !ok {
			t.Fatalf("%T has no Ready method", bus)
		}
		if err := ready.Ready(ctx); err != nil {
			t.Fatalf("Ready before Close = %v", err)
		}
		started, release := make(chan struct{}), make(chan struct{})
		var finished bool
		_, err := bus.Subscribe(ctx, "slow", "kassa.>", func(context.Context, events.Event) error {
			close(started)
			<-release
			finished = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		publish(t, bus, mustEvent(t, "kassa.order.placed", nil))
		<-started
		go func() {
			time.Sleep(50 * time.Millisecond)
			close(release)
		}()
		if err := bus.Close(); err != nil {
			t.Fatal(err)
		}
		if !finished {
			t.Error("Close returned before the running handler finished")
		}
		if err := bus.Publish(ctx, mustEvent(t, "kassa.order.placed", nil)); !errors.Is(err, events.ErrClosed) {
			t.Errorf("Publish after Close = %v, want ErrClosed", err)
		}
		if _, err := bus.Listen(ctx, "kassa.>", nil); !errors.Is(err, events.ErrClosed) {
			t.Errorf("Listen after Close = %v, want ErrClosed", err)
		}
		if err := bus.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
		if err := ready.Ready(ctx); err == nil {
			t.Error("Ready after Close = nil")
		}
	})
}

func TestMemoryBusPublished(t *testing.T) {
	t.Parallel()
	bus := events.NewMemoryBus(nil)
	defer bus.Close()
	a, b := mustEvent(t, "kassa.order.placed", 1), mustEvent(t, "kassa.order.paid", 2)
	publish(t, bus, a, b, a)
	if got := eventstest.IDs(bus.Published()); !slices.Equal(got, []string{a.ID, b.ID}) {
		t.Fatalf("Published() = %v", got)
	}
}
