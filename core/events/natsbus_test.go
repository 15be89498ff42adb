package events_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/events/eventstest"
)

// natsKinds are the bus kinds backed by NATS.
func natsKinds() []eventstest.Kind {
	var out []eventstest.Kind
	for _, k := range eventstest.Kinds {
		if k.Options != nil {
			out = append(out, k)
		}
	}
	return out
}

func streamInfo(t testing.TB, bus *events.NATSBus, name string) *jetstream.StreamInfo {
	t.Helper()
	js, err := jetstream.New(bus.Conn())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventstest.Timeout)
	defer cancel()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestNATSStreamIsCreatedAndUpdated(t *testing.T) {
	t.Parallel()
	for _, k := range natsKinds() {
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			opt := *k.Options(t)
			opt.MaxAge = time.Hour
			stream, prefix := opt.Stream, opt.SubjectPrefix
			if stream == "" {
				stream, prefix = events.DefaultStream, events.Root
			}
			bus := eventstest.OpenNATS(t, opt)
			cfg := streamInfo(t, bus, stream).Config
			want := []any{[]string{prefix + ".>"}, jetstream.FileStorage, jetstream.LimitsPolicy, time.Hour, events.DefaultDuplicateWindow, 1}
			got := []any{cfg.Subjects, cfg.Storage, cfg.Retention, cfg.MaxAge, cfg.Duplicates, cfg.Replicas}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("stream config (-want +got):\n%s", diff)
			}
			if err := bus.Ready(context.Background()); err != nil {
				t.Fatalf("Ready = %v", err)
			}
			if err := bus.Close(); err != nil {
				t.Fatal(err)
			}
			if err := bus.Ready(context.Background()); err == nil {
				t.Fatal("Ready after Close = nil")
			}

			// A second start with other settings updates the stream.
			opt.MaxAge = 2 * time.Hour
			bus = eventstest.OpenNATS(t, opt)
			if got := streamInfo(t, bus, stream).Config.MaxAge; got != 2*time.Hour {
				t.Fatalf("MaxAge after restart = %v, want 2h", got)
			}
		})
	}
}

func TestEmbeddedNATSKeepsEventsAcrossRestarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opt := *eventstest.EmbeddedNATSOptions(t)
	first, err := events.OpenNATS(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	rec := eventstest.NewRecorder()
	sub, err := first.Subscribe(ctx, "invoices", "kassa.order.>", rec.Handle)
	if err != nil {
		t.Fatal(err)
	}
	e1 := mustEvent(t, "kassa.order.placed", 1)
	publish(t, first, e1)
	rec.WaitForIDs(t, e1.ID)
	_ = sub.Stop()
	e2 := mustEvent(t, "kassa.order.paid", 2)
	publish(t, first, e2) // stored while the consumer is away
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := eventstest.OpenNATS(t, opt)
	publish(t, second, e1) // a republish after a restart is still a duplicate
	rec = eventstest.NewRecorder()
	sub, err = second.Subscribe(ctx, "invoices", "kassa.order.>", rec.Handle)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Stop()
	e3 := mustEvent(t, "kassa.order.completed", 3)
	publish(t, second, e3)
	got := rec.WaitForIDs(t, e3.ID)
	if diff := cmp.Diff([]string{e2.ID, e3.ID}, eventstest.IDs(got)); diff != "" {
		t.Fatalf("after restart the consumer got (-want +got):\n%s", diff)
	}
	if n := streamInfo(t, second, events.DefaultStream).State.Msgs; n != 3 {
		t.Fatalf("stream holds %d messages, want 3", n)
	}
}

func TestEmbeddedNATSListenAddr(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	opt := *eventstest.EmbeddedNATSOptions(t)
	opt.ListenAddr = "127.0.0.1:" + strconv.Itoa(port)
	bus := eventstest.OpenNATS(t, opt)

	// A debugging client over TCP sees what kassa publishes in-process.
	nc, err := nats.Connect("nats://" + opt.ListenAddr)
	if err != nil {
		t.Fatalf("connect over TCP: %v", err)
	}
	defer nc.Close()
	sub, err := nc.SubscribeSync("kassa.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	e := mustEvent(t, "kassa.order.placed", 1)
	publish(t, bus, e)
	m, err := sub.NextMsg(eventstest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Nats-Msg-Id") != e.ID || m.Subject != e.Subject {
		t.Fatalf("TCP client got %s %v", m.Subject, m.Header)
	}
}

func TestOpenNATSRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  events.NATSOptions
	}{
		{"embedded without data dir", events.NATSOptions{}},
		{"prefix with a dot", events.NATSOptions{DataDir: t.TempDir(), SubjectPrefix: "a.b"}},
		{"stream with a dot", events.NATSOptions{DataDir: t.TempDir(), Stream: "A.B"}},
		{"bad listen address", events.NATSOptions{DataDir: t.TempDir(), ListenAddr: "localhost"}},
		{"unreachable server", events.NATSOptions{URL: "nats://127.0.0.1:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), eventstest.Timeout)
			defer cancel()
			b, err := events.OpenNATS(ctx, tt.opt)
			if err == nil {
				b.Close()
				t.Fatal("OpenNATS succeeded")
			}
		})
	}
}

// TestNATSInstances opens two buses on one external stream, as two kassa
// instances: a listener on each receives every event, while a durable
// consumer shared by both receives each event once.
func TestNATSInstances(t *testing.T) {
	t.Parallel()
	opt := *eventstest.ExternalNATSOptions(t)
	ctx := context.Background()
	var (
		listeners, workers []*eventstest.Recorder
		buses              []*events.NATSBus
	)
	for range 2 {
		bus := eventstest.OpenNATS(t, opt)
		buses = append(buses, bus)
		l, w := eventstest.NewRecorder(), eventstest.NewRecorder()
		ls, err := bus.Listen(ctx, "kassa.>", l.Handle)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ls.Stop() })
		ws, err := bus.Subscribe(ctx, "webhooks", "kassa.>", w.Handle)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Stop() })
		listeners, workers = append(listeners, l), append(workers, w)
	}
	var ids []string
	for i := range 10 {
		e := mustEvent(t, "kassa.order.placed", i)
		ids = append(ids, e.ID)
		publish(t, buses[i%2], e)
	}
	for i, l := range listeners {
		// Events published through two connections have no order
		// between them that a listener could rely on: every event,
		// in any order.
		got := eventstest.IDs(l.WaitForIDs(t, ids...))
		if diff := cmp.Diff(ids, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("listener on instance %d (-want +got):\n%s", i, diff)
		}
	}
	deadline := time.Now().Add(eventstest.Timeout)
	for len(workers[0].Events())+len(workers[1].Events()) < len(ids) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(quiet)
	all := append(workers[0].Events(), workers[1].Events()...)
	for _, id := range ids {
		if n := count(all, id); n != 1 {
			t.Errorf("%s delivered %d times to the shared durable, want 1", id, n)
		}
	}
}
