package main

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/plugins/sdk/notify"
)

// clock is a settable clock, safe for the queue's worker to read.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// deliveries lists the message ids the queue holds in memory.
func (q *queue) deliveries() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Sorted(maps.Keys(q.records))
}

// TestPruneWhileRunning: a running plugin forgets deliveries finished
// longer ago than the retention, from memory and, after a restart, from
// disk, and keeps a recent finished one and a retrying one however old;
// its worker prunes as the clock passes the interval and stops with its
// context.
func TestPruneWhileRunning(t *testing.T) {
	t.Parallel()
	m := newMerchant(t, func(n int, _ http.ResponseWriter) int {
		if n == 1 { // evt_retrying's first attempt
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	dir := t.TempDir()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	c := &Channel{}
	q, err := openQueue(dir, c.cfg.Load, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	c.queue = q
	cfg := config(`,"retry_initial_delay_ms":3600000,"max_attempts":20`, "erp", m.URL, `["*"]`)
	if res, err := c.Configure(loopbackAllowed, cfg); err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res.Errors, err)
	}
	send := func(id string, want notify.DeliveryStatus) {
		t.Helper()
		d, err := c.Send(context.Background(), notify.Message{ID: id, TemplateID: "order.paid", Data: data("#" + id)})
		if err != nil || d.Status != want {
			t.Fatalf("Send(%s) = %+v %v, want %s", id, d, err, want)
		}
	}
	send("evt_retrying", notify.DeliveryQueued)
	send("evt_old", notify.DeliverySent)
	clk.advance(6 * 24 * time.Hour)
	send("evt_recent", notify.DeliverySent)
	clk.advance(2 * 24 * time.Hour) // evt_old finished 8 days ago, evt_recent 2

	if n := q.prune(); n != 1 {
		t.Errorf("prune forgot %d deliveries, want 1", n)
	}
	want := []string{"evt_recent", "evt_retrying"}
	if d := cmp.Diff(want, q.deliveries()); d != "" {
		t.Errorf("in memory after prune (-want +got):\n%s", d)
	}
	if n := q.journal.Len(); n != 2 {
		t.Errorf("journal holds %d records, want 2", n)
	}
	path := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("evt_old")) || !bytes.Contains(b, []byte("evt_recent")) || !bytes.Contains(b, []byte("evt_retrying")) {
		t.Errorf("journal not compacted to the kept deliveries:\n%s", b)
	}
	if n := q.prune(); n != 0 {
		t.Errorf("second prune forgot %d deliveries, want 0", n)
	}
	if err := q.journal.Close(); err != nil {
		t.Fatal(err)
	}

	// The next process finds the same deliveries on disk; its worker
	// prunes evt_recent once it too is past the retention.
	q2, err := openQueue(dir, func() *settings { return nil }, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	defer q2.journal.Close()
	if d := cmp.Diff(want, q2.deliveries()); d != "" {
		t.Errorf("after restart (-want +got):\n%s", d)
	}
	if n := q2.journal.Len(); n != 2 {
		t.Errorf("journal after restart holds %d records, want 2", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		q2.run(ctx)
	}()
	clk.advance(6*24*time.Hour + pruneInterval)
	q2.wake()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(q2.deliveries(), []string{"evt_retrying"}) {
		if time.Now().After(deadline) {
			t.Fatalf("worker kept %v, want [evt_retrying]", q2.deliveries())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("worker still running after its context ended")
	}
	if b, err := os.ReadFile(path); err != nil || bytes.Contains(b, []byte("evt_recent")) || !bytes.Contains(b, []byte("evt_retrying")) {
		t.Errorf("journal after the worker pruned (%v):\n%s", err, b)
	}
	if n := len(m.forEvent("evt_retrying")); n != 1 {
		t.Errorf("%d POSTs of evt_retrying, want 1 (no settings in the second process)", n)
	}
}
