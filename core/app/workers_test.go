package app

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/config"
)

// TestWorkersStartOnlyWhenStarted: New builds the workers and starts
// none; Start starts them in order (relay, supervisor, consumers) with
// their metrics in the app's registry; Close stops them (consumers first,
// see buildWorkers). An offline instance cannot start.
func TestWorkersStartOnlyWhenStarted(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Load("", false, func(string) string { return "" }, map[string]string{"data-dir": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(ctx, cfg, Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx) //nolint:errcheck
	if got := a.workers.Running(); len(got) != 0 {
		t.Fatalf("running after New: %v", got)
	}
	a.ready.Store(true) // as Serve does once it listens
	rec := httptest.NewRecorder()
	a.serveReady(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 {
		t.Fatalf("/readyz of an instance not started = %d", rec.Code)
	}

	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"outbox.relay", "plugin.supervisor", "event.consumers", "idempotency.expiry", "cart.purge", "delivery.cleanup", "order.payment_reminder", "order.deadline_closer", "payment.reconciler"}
	if diff := cmp.Diff(want, a.workers.Running()); diff != "" {
		t.Fatalf("running workers (-want +got):\n%s", diff)
	}
	rec = httptest.NewRecorder()
	a.serveReady(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 200 {
		t.Fatalf("/readyz after Start = %d %s", rec.Code, rec.Body)
	}
	mfs, err := a.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	up := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "kassa_worker_up" {
			continue
		}
		for _, m := range mf.GetMetric() {
			up[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	if diff := cmp.Diff(map[string]float64{"outbox.relay": 1, "plugin.supervisor": 1, "event.consumers": 1, "idempotency.expiry": 1,
		"cart.purge": 1, "delivery.cleanup": 1, "order.payment_reminder": 1, "order.deadline_closer": 1, "payment.reconciler": 1}, up); diff != "" {
		t.Fatalf("kassa_worker_up (-want +got):\n%s", diff)
	}
	if err := a.Start(ctx); err == nil {
		t.Fatal("a second Start succeeded")
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a.workers.Running(); len(got) != 0 {
		t.Fatalf("running after Close: %v", got)
	}

	offline, err := New(ctx, cfg, Options{LogOutput: io.Discard, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer offline.Close(ctx) //nolint:errcheck
	if err := offline.Start(ctx); err == nil {
		t.Fatal("an offline instance started")
	}
}
