package worker_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/worker"
	"github.com/kassahq/kassa/core/worker/workertest"
)

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// journal records what the fake workers did, in order.
type journal struct {
	mu      sync.Mutex
	entries []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, s)
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.entries...)
}

type fake struct {
	name              string
	j                 *journal
	failStart, failSt bool
}

func (f *fake) Name() string { return f.name }

func (f *fake) Start(context.Context) error {
	f.j.add("start " + f.name)
	if f.failStart {
		return errors.New("port taken")
	}
	return nil
}

func (f *fake) Stop(context.Context) error {
	f.j.add("stop " + f.name)
	if f.failSt {
		return errors.New("stuck")
	}
	return nil
}

// metric returns the value of a worker's series, 0 when absent.
func metric(t *testing.T, reg *prometheus.Registry, name, w string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "worker" && l.GetValue() == w {
					if m.GetCounter() != nil {
						return m.GetCounter().GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

func newGroup(t *testing.T, clk worker.Clock) (*worker.Group, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	g, err := worker.NewGroup(worker.GroupOptions{Registerer: reg, Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return g, reg
}

func TestGroupStartsInOrderStopsInReverse(t *testing.T) {
	t.Parallel()
	j := &journal{}
	g, reg := newGroup(t, nil)
	if err := g.Add(&fake{name: "relay", j: j}, &fake{name: "consumers", j: j}, &fake{name: "reconciler", j: j}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"relay", "consumers", "reconciler"}, g.Running()); diff != "" {
		t.Fatalf("Running (-want +got):\n%s", diff)
	}
	if metric(t, reg, "kassa_worker_up", "consumers") != 1 {
		t.Fatal("kassa_worker_up is not 1 for a started worker")
	}
	if err := g.Add(&fake{name: "late", j: j}); err == nil {
		t.Fatal("Add after Start was accepted")
	}
	if err := g.Start(ctx); err == nil {
		t.Fatal("a second Start was accepted")
	}
	if err := g.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"start relay", "start consumers", "start reconciler", "stop reconciler", "stop consumers", "stop relay"}
	if diff := cmp.Diff(want, j.list()); diff != "" {
		t.Fatalf("journal (-want +got):\n%s", diff)
	}
	if metric(t, reg, "kassa_worker_up", "consumers") != 0 || len(g.Running()) != 0 {
		t.Fatal("workers still marked up after Stop")
	}
	if err := g.Stop(ctx); err != nil {
		t.Fatalf("a second Stop: %v", err)
	}
	if err := g.Start(ctx); err == nil {
		t.Fatal("a stopped group started again")
	}
}

func TestGroupRollsBackAFailedStart(t *testing.T) {
	t.Parallel()
	j := &journal{}
	g, reg := newGroup(t, nil)
	err := g.Add(&fake{name: "a", j: j}, &fake{name: "b", j: j, failSt: true}, &fake{name: "c", j: j, failStart: true}, &fake{name: "d", j: j})
	if err != nil {
		t.Fatal(err)
	}
	err = g.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "worker c: start: port taken") || !strings.Contains(err.Error(), "worker b: stop: stuck") {
		t.Fatalf("Start = %v, want c's start error joined with b's stop error", err)
	}
	// c never started, so it is not stopped; d is never reached; b's failed
	// stop does not keep a running.
	want := []string{"start a", "start b", "start c", "stop b", "stop a"}
	if diff := cmp.Diff(want, j.list()); diff != "" {
		t.Fatalf("journal (-want +got):\n%s", diff)
	}
	if len(g.Running()) != 0 {
		t.Fatalf("still running: %v", g.Running())
	}
	for name, want := range map[string]float64{"a": 0, "b": 1, "c": 1, "d": 0} {
		if got := metric(t, reg, "kassa_worker_failures_total", name); got != want {
			t.Errorf("failures{%s} = %v, want %v", name, got, want)
		}
		if metric(t, reg, "kassa_worker_up", name) != 0 {
			t.Errorf("%s marked up after the rollback", name)
		}
	}
}

func TestGroupRefusesBadNames(t *testing.T) {
	t.Parallel()
	g, _ := newGroup(t, nil)
	j := &journal{}
	if err := g.Add(&fake{name: "", j: j}); err == nil {
		t.Fatal("an unnamed worker was accepted")
	}
	if err := g.Add(&fake{name: "x", j: j}, &fake{name: "x", j: j}); err == nil {
		t.Fatal("a duplicate name was accepted")
	}
}

// TestGroupsShareARegisterer: an app built twice in one process registers
// the same series twice; the second group reuses them.
func TestGroupsShareARegisterer(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	for i := 0; i < 2; i++ {
		if _, err := worker.NewGroup(worker.GroupOptions{Registerer: reg}); err != nil {
			t.Fatalf("group %d: %v", i, err)
		}
	}
}

// TestPeriodic steps the clock: a round runs only when its time has come,
// lag, failures, panics and the last success are recorded, and the round
// acts as the worker's system subject.
func TestPeriodic(t *testing.T) {
	t.Parallel()
	clk := workertest.NewClock(t0)
	g, reg := newGroup(t, clk)
	results := make(chan error, 1)
	ran := make(chan string)
	round := func(ctx context.Context) error {
		ran <- authz.SubjectFrom(ctx).ID
		err := <-results
		if err != nil && err.Error() == "panic" {
			panic("round exploded")
		}
		return err
	}
	p, err := worker.NewPeriodic("reminders", round, worker.PeriodicOptions{Interval: time.Minute, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Add(p); err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.WaitTimers(1)
	if diff := cmp.Diff([]time.Time{t0.Add(time.Minute)}, clk.Deadlines()); diff != "" {
		t.Fatalf("first round scheduled (-want +got):\n%s", diff)
	}
	clk.Advance(59 * time.Second)
	if len(clk.Deadlines()) != 1 || metric(t, reg, "kassa_worker_runs_total", "reminders") != 0 {
		t.Fatal("the round ran before it was due")
	}

	// Due at t0+1m, run at t0+1m+3s: 3s late, and it fails.
	clk.Advance(4 * time.Second)
	if who := <-ran; who != "system:reminders" {
		t.Fatalf("round ran as %q, want system:reminders", who)
	}
	results <- errors.New("smtp down")
	clk.WaitTimers(1)
	if diff := cmp.Diff([]time.Time{t0.Add(time.Minute + 3*time.Second + time.Minute)}, clk.Deadlines()); diff != "" {
		t.Fatalf("the next round is not one interval after the last one ended (-want +got):\n%s", diff)
	}
	if r, f, lag := metric(t, reg, "kassa_worker_runs_total", "reminders"), metric(t, reg, "kassa_worker_failures_total", "reminders"), metric(t, reg, "kassa_worker_lag_seconds", "reminders"); r != 1 || f != 1 || lag != 3 {
		t.Fatalf("runs %v failures %v lag %v, want 1 1 3", r, f, lag)
	}

	// A panicking round is a failure, not the end of the worker.
	clk.Advance(time.Minute)
	<-ran
	results <- errors.New("panic")
	clk.WaitTimers(1)
	if r, f := metric(t, reg, "kassa_worker_runs_total", "reminders"), metric(t, reg, "kassa_worker_failures_total", "reminders"); r != 2 || f != 2 {
		t.Fatalf("after a panic: runs %v failures %v, want 2 2", r, f)
	}

	clk.Advance(time.Minute)
	<-ran
	results <- nil
	clk.WaitTimers(1)
	if r, f := metric(t, reg, "kassa_worker_runs_total", "reminders"), metric(t, reg, "kassa_worker_failures_total", "reminders"); r != 3 || f != 2 {
		t.Fatalf("runs %v failures %v, want 3 2", r, f)
	}
	if got, want := metric(t, reg, "kassa_worker_last_success_timestamp_seconds", "reminders"), float64(clk.Now().Unix()); got != want {
		t.Fatalf("last success %v, want %v", got, want)
	}
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(clk.Deadlines()) != 0 {
		t.Fatal("Stop left a timer armed")
	}
}

func TestPeriodicJitterAndImmediate(t *testing.T) {
	t.Parallel()
	clk := workertest.NewClock(t0)
	ran := make(chan struct{})
	p, err := worker.NewPeriodic("closer", func(context.Context) error { ran <- struct{}{}; return nil },
		worker.PeriodicOptions{Interval: time.Minute, Jitter: 30 * time.Second, Immediate: true, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-ran // Immediate: the first round needs no step of the clock.
	pauses := map[time.Duration]bool{}
	for i := 0; i < 20; i++ {
		clk.WaitTimers(1)
		d := clk.Deadlines()[0].Sub(clk.Now())
		if d < time.Minute || d >= 90*time.Second {
			t.Fatalf("pause %v outside [1m, 1m30s)", d)
		}
		pauses[d] = true
		clk.Advance(d)
		<-ran
	}
	if len(pauses) < 2 {
		t.Fatalf("20 pauses with jitter were all %v", pauses)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := worker.NewPeriodic("bad", nil, worker.PeriodicOptions{}); err == nil {
		t.Fatal("a zero interval was accepted")
	}
}

// TestPeriodicStopCancelsARound: Stop cancels the round in progress and
// waits for it; a cancelled round is not counted as a failure.
func TestPeriodicStopCancelsARound(t *testing.T) {
	t.Parallel()
	clk := workertest.NewClock(t0)
	g, reg := newGroup(t, clk)
	inRound := make(chan struct{})
	p, _ := worker.NewPeriodic("slow", func(ctx context.Context) error {
		close(inRound)
		<-ctx.Done()
		return ctx.Err()
	}, worker.PeriodicOptions{Interval: time.Minute, Immediate: true, Clock: clk})
	_ = g.Add(p)
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-inRound
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r, f := metric(t, reg, "kassa_worker_runs_total", "slow"), metric(t, reg, "kassa_worker_failures_total", "slow"); r != 0 || f != 0 {
		t.Fatalf("a cancelled round counted: runs %v failures %v", r, f)
	}
}

func TestLoop(t *testing.T) {
	t.Parallel()
	t.Run("drains then cancels", func(t *testing.T) {
		t.Parallel()
		j := &journal{}
		started := make(chan struct{})
		l := worker.NewLoop("relay", func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			j.add("cancelled")
			return nil
		}, func(context.Context) error { j.add("drained"); return nil })
		g, reg := newGroup(t, nil)
		_ = g.Add(l)
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		<-started
		if err := g.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"drained", "cancelled"}, j.list()); diff != "" {
			t.Fatalf("stop order (-want +got):\n%s", diff)
		}
		if f := metric(t, reg, "kassa_worker_failures_total", "relay"); f != 0 {
			t.Fatalf("a clean stop counted %v failures", f)
		}
	})
	t.Run("ends on its own", func(t *testing.T) {
		t.Parallel()
		l := worker.NewLoop("consumer", func(context.Context) error { return errors.New("subscription closed") }, nil)
		g, reg := newGroup(t, nil)
		_ = g.Add(l)
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		<-l.Done()
		if up := metric(t, reg, "kassa_worker_up", "consumer"); up != 0 {
			t.Fatalf("kassa_worker_up = %v for a loop that ended", up)
		}
		if err := g.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if f := metric(t, reg, "kassa_worker_failures_total", "consumer"); f != 1 {
			t.Fatalf("failures = %v, want 1 for a loop that ended on its own", f)
		}
	})
	t.Run("stop gives up at the deadline", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		l := worker.NewLoop("stuck", func(context.Context) error { <-release; return nil }, nil)
		if err := l.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := l.Stop(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Stop = %v, want the deadline's error", err)
		}
		close(release)
		if err := l.Stop(context.Background()); err != nil {
			t.Fatalf("Stop after the loop returned: %v", err)
		}
	})
}
