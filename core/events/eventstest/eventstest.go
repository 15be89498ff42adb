// Package eventstest gives tests an event bus and a way to watch what it
// delivers, and an Outbox that records what a service adds.
//
//	func TestPlaceOrderEmitsEvent(t *testing.T) {
//		bus := events.NewMemoryBus(nil)
//		rec := eventstest.Subscribe(t, bus, "kassa.order.>")
//		// ... place an order, relay the outbox ...
//		rec.WaitFor(t, func(evs []events.Event) bool { return len(evs) == 1 })
//	}
//
// ForEachBus runs a test on every Bus implementation: in memory, on an
// embedded NATS server in t.TempDir(), and on the external NATS server
// named by KASSA_TEST_NATS_URL with a stream and subject prefix of the
// test's own. Without KASSA_TEST_NATS_URL the external case is skipped,
// except under CI (CI set), where it fails, as does an unreachable server.
package eventstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/store"
)

// NATSURLEnv names the variable holding the external test NATS server URL.
const NATSURLEnv = "KASSA_TEST_NATS_URL"

// Timeout bounds every wait in this package.
const Timeout = 15 * time.Second

// Kind is a way to make a fresh bus for a test.
type Kind struct {
	// Name names the subtest: "memory", "nats_embedded", "nats_external".
	Name string
	// Options returns the NATS options of a fresh bus, with cleanup
	// registered on t; nil for the memory bus. Opening several buses with
	// the same options simulates several kassa instances.
	Options func(t testing.TB) *events.NATSOptions
}

// Kinds lists every bus implementation.
var Kinds = []Kind{
	{Name: "memory"},
	{Name: "nats_embedded", Options: EmbeddedNATSOptions},
	{Name: "nats_external", Options: ExternalNATSOptions},
}

// New returns a fresh bus of kind k, closed when the test ends.
func (k Kind) New(t testing.TB) events.Bus {
	t.Helper()
	if k.Options == nil {
		b := events.NewMemoryBus(nil)
		t.Cleanup(func() { b.Close() })
		return b
	}
	return OpenNATS(t, *k.Options(t))
}

// ForEachBus runs fn as a subtest per Kind, each with a fresh bus.
func ForEachBus(t *testing.T, fn func(t *testing.T, bus events.Bus)) {
	t.Helper()
	for _, k := range Kinds {
		t.Run(k.Name, func(t *testing.T) { fn(t, k.New(t)) })
	}
}

// OpenNATS opens a NATS bus with opt and closes it when the test ends.
func OpenNATS(t testing.TB, opt events.NATSOptions) *events.NATSBus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	b, err := events.OpenNATS(ctx, opt)
	if err != nil {
		t.Fatalf("open nats bus: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close nats bus: %v", err)
		}
	})
	return b
}

// EmbeddedNATSOptions returns options for an embedded server storing in a
// fresh temporary directory.
func EmbeddedNATSOptions(t testing.TB) *events.NATSOptions {
	return &events.NATSOptions{DataDir: t.TempDir()}
}

// NewEmbeddedNATS returns a bus on a fresh embedded server.
func NewEmbeddedNATS(t testing.TB) *events.NATSBus {
	t.Helper()
	return OpenNATS(t, *EmbeddedNATSOptions(t))
}

// ExternalNATSURL returns KASSA_TEST_NATS_URL, skipping the test when it
// is unset outside CI and failing it under CI.
func ExternalNATSURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(NATSURLEnv)
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: external NATS tests must run in CI", NATSURLEnv)
		}
		t.Skipf("%s not set; external NATS tests skipped", NATSURLEnv)
	}
	return url
}

// ExternalNATSOptions returns options for the external test server with a
// stream and subject prefix unique to this test, so parallel tests and
// reruns never see each other's events. The stream is deleted when the
// test ends.
func ExternalNATSOptions(t testing.TB) *events.NATSOptions {
	t.Helper()
	url := ExternalNATSURL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	opt := &events.NATSOptions{
		URL:             url,
		Stream:          "KASSA_TEST_" + strings.ToUpper(suffix),
		SubjectPrefix:   "kassatest_" + suffix,
		MaxAge:          time.Hour,
		DuplicateWindow: 2 * time.Minute,
		Name:            "kassa-test",
	}
	nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("external NATS at %s is unreachable: %v", url, err)
	}
	t.Cleanup(func() {
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Errorf("jetstream: %v", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := js.DeleteStream(ctx, opt.Stream); err != nil && !strings.Contains(err.Error(), "not found") {
			t.Errorf("delete test stream %s: %v", opt.Stream, err)
		}
	})
	return opt
}

// Recorder collects the events a handler received.
type Recorder struct {
	mu      sync.Mutex
	events  []events.Event
	changed chan struct{}
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{changed: make(chan struct{})}
}

// Subscribe starts a durable consumer on bus that records what it
// receives, stopped when the test ends. The durable name is derived from
// the test name.
func Subscribe(t testing.TB, bus events.Bus, filter string, opts ...events.SubscribeOption) *Recorder {
	t.Helper()
	rec := NewRecorder()
	sub, err := bus.Subscribe(context.Background(), DurableName(t), filter, rec.Handle, opts...)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(func() { sub.Stop() })
	return rec
}

// DurableName turns the test name into a valid durable consumer name.
func DurableName(t testing.TB) string {
	n := []byte(t.Name())
	for i, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			n[i] = '_'
		}
	}
	if len(n) > 64 {
		n = n[len(n)-64:]
	}
	return string(n)
}

// Handle is an events.Handler that records e and succeeds.
func (r *Recorder) Handle(_ context.Context, e events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
	return nil
}

// Events returns what was received so far, in order.
func (r *Recorder) Events() []events.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// WaitFor waits until done accepts the events received so far, failing
// the test after Timeout, and returns them.
func (r *Recorder) WaitFor(t testing.TB, done func([]events.Event) bool) []events.Event {
	t.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		evs := slices.Clone(r.events)
		changed := r.changed
		r.mu.Unlock()
		if done(evs) {
			return evs
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("timed out after %s waiting for events; received %d: %v", Timeout, len(evs), IDs(evs))
			return nil
		}
	}
}

// WaitForIDs waits until every id was received and returns all events
// received so far.
func (r *Recorder) WaitForIDs(t testing.TB, ids ...string) []events.Event {
	t.Helper()
	return r.WaitFor(t, func(evs []events.Event) bool {
		got := IDs(evs)
		for _, id := range ids {
			if !slices.Contains(got, id) {
				return false
			}
		}
		return true
	})
}

// IDs returns the ids of evs in order.
func IDs(evs []events.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// Outbox stands in for core/events' outbox in unit tests: it records the
// events a service adds the way the real outbox publishes them, only once
// their transaction committed (at once outside a transaction), so a
// rolled-back change records nothing.
type Outbox struct {
	mu     sync.Mutex
	events []events.Event
}

// Add records e when the transaction of ctx commits.
func (o *Outbox) Add(ctx context.Context, e events.Event) error {
	store.AfterCommit(ctx, func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.events = append(o.events, e)
	})
	return nil
}

// Events returns the events recorded so far, in order.
func (o *Outbox) Events() []events.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.events)
}

// Take returns the events recorded so far and forgets them, so a test can
// check what each step added.
func (o *Outbox) Take() []events.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	evs := o.events
	o.events = nil
	return evs
}

// Subjects returns the subjects of the events recorded so far, in order.
func (o *Outbox) Subjects() []string {
	evs := o.Events()
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Subject
	}
	return out
}

// Count returns how many recorded events have the subject.
func (o *Outbox) Count(subject string) int {
	n := 0
	for _, e := range o.Events() {
		if e.Subject == subject {
			n++
		}
	}
	return n
}
