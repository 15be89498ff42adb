package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/kit/clock"
)

// Worker is background work with a lifecycle, like a Caddy app: Start
// returns once the work is running (it must not block for the life of the
// work), Stop returns once it has stopped or ctx is done. A Group calls
// Start once and Stop at most once, and Stop only after Start succeeded.
type Worker interface {
	// Name identifies the worker in logs and metrics, e.g.
	// "outbox.relay"; unique within a Group.
	Name() string
	// Start begins the work. ctx bounds the start itself, not the work:
	// a worker that keeps running derives its own context (see Loop).
	Start(ctx context.Context) error
	// Stop ends the work, waiting for it until ctx is done.
	Stop(ctx context.Context) error
}

// Instrumented is implemented by workers that report their rounds (Loop,
// Periodic); Group.Add hands each one its Recorder.
type Instrumented interface {
	Instrument(r *Recorder)
}

// GroupOptions tune a Group.
type GroupOptions struct {
	// Logger is the parent logger; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the worker metrics; nil registers nothing (the
	// metrics are still kept, unexported).
	Registerer prometheus.Registerer
	// Clock dates the last-success metric; nil means clock.System.
	Clock clock.Clock
}

// Group starts workers in the order they were added and stops them in
// reverse, so a worker may rely on those added before it (the event
// consumers on the relay, the schedulers on both). A failed start stops
// what had started, in reverse, and leaves the group stopped. A group is
// started once, like the app that owns it.
type Group struct {
	log     *slog.Logger
	clock   clock.Clock
	metrics *metrics

	mu      sync.Mutex
	workers []Worker
	started []Worker
	// spent is set by the first Start: workers start once (a Loop's or
	// Periodic's goroutine is not restartable), so a group does too.
	spent bool
}

// NewGroup returns an empty group. It fails only when the metrics cannot
// be registered; metrics already registered by an earlier group on the
// same registerer are reused.
func NewGroup(opt GroupOptions) (*Group, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Clock == nil {
		opt.Clock = clock.System
	}
	m, err := newMetrics(opt.Registerer)
	if err != nil {
		return nil, err
	}
	return &Group{log: opt.Logger.With("component", "worker"), clock: opt.Clock, metrics: m}, nil
}

// Add appends workers to the group. It fails for a duplicate or empty
// name, and once the group has started.
func (g *Group) Add(ws ...Worker) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.spent {
		return errors.New("worker: cannot add to a started group")
	}
	for _, w := range ws {
		name := w.Name()
		if name == "" {
			return errors.New("worker: a worker needs a name")
		}
		for _, x := range g.workers {
			if x.Name() == name {
				return fmt.Errorf("worker: %s added twice", name)
			}
		}
		g.workers = append(g.workers, w)
		if in, ok := w.(Instrumented); ok {
			in.Instrument(g.recorder(name))
		}
	}
	return nil
}

// Start starts every worker in order. When one fails, those already
// started are stopped in reverse order with ctx, and the error names the
// worker that failed (joined with any error of the rollback).
func (g *Group) Start(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.spent {
		return errors.New("worker: a group starts once")
	}
	g.spent = true
	for _, w := range g.workers {
		log := g.log.With("worker", w.Name())
		// Up before Start: a loop that ends at once marks itself down, and
		// that must not be overwritten.
		g.metrics.up.WithLabelValues(w.Name()).Set(1)
		if err := w.Start(ctx); err != nil {
			g.metrics.up.WithLabelValues(w.Name()).Set(0)
			g.metrics.failures.WithLabelValues(w.Name()).Inc()
			err = fmt.Errorf("worker %s: start: %w", w.Name(), err)
			log.Error("worker failed to start; stopping the others", "err", err)
			return errors.Join(err, g.stopLocked(ctx))
		}
		g.started = append(g.started, w)
		log.Debug("worker started")
	}
	return nil
}

// Stop stops the started workers in reverse order, each with ctx, and
// returns their errors joined. A worker that fails to stop does not keep
// the others running.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopLocked(ctx)
}

func (g *Group) stopLocked(ctx context.Context) error {
	var errsOut []error
	for i := len(g.started) - 1; i >= 0; i-- {
		w := g.started[i]
		g.metrics.up.WithLabelValues(w.Name()).Set(0)
		if err := w.Stop(ctx); err != nil {
			g.metrics.failures.WithLabelValues(w.Name()).Inc()
			g.log.Error("worker failed to stop", "worker", w.Name(), "err", err)
			errsOut = append(errsOut, fmt.Errorf("worker %s: stop: %w", w.Name(), err))
			continue
		}
		g.log.Debug("worker stopped", "worker", w.Name())
	}
	g.started = nil
	return errors.Join(errsOut...)
}

// Running returns the names of the started workers in start order.
func (g *Group) Running() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, w := range g.started {
		out = append(out, w.Name())
	}
	return out
}

func (g *Group) recorder(name string) *Recorder {
	return &Recorder{
		name:        name,
		log:         g.log.With("worker", name),
		clock:       g.clock,
		runs:        g.metrics.runs.WithLabelValues(name),
		failures:    g.metrics.failures.WithLabelValues(name),
		lastSuccess: g.metrics.lastSuccess.WithLabelValues(name),
		lag:         g.metrics.lag.WithLabelValues(name),
		up:          g.metrics.up.WithLabelValues(name),
	}
}

// metrics are the per-worker series of a Group.
type metrics struct {
	up, lastSuccess, lag *prometheus.GaugeVec
	runs, failures       *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kassa_worker_up", Help: "1 while the worker is started, 0 otherwise.",
		}, []string{"worker"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kassa_worker_runs_total", Help: "Rounds of work the worker ran.",
		}, []string{"worker"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kassa_worker_failures_total", Help: "Rounds that failed, failed starts and stops, and loops that ended on their own.",
		}, []string{"worker"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kassa_worker_last_success_timestamp_seconds", Help: "When the worker last finished a round without error (Unix time).",
		}, []string{"worker"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kassa_worker_lag_seconds", Help: "How late the worker's last round started after it was due.",
		}, []string{"worker"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.up, err = register(reg, m.up); err != nil {
		return nil, err
	}
	if m.runs, err = register(reg, m.runs); err != nil {
		return nil, err
	}
	if m.failures, err = register(reg, m.failures); err != nil {
		return nil, err
	}
	if m.lastSuccess, err = register(reg, m.lastSuccess); err != nil {
		return nil, err
	}
	if m.lag, err = register(reg, m.lag); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector registered before it
// under the same name: an app built twice in one process (tests) shares
// the series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("worker: register metrics: %w", err)
}

// Recorder is one worker's view of its Group's metrics and logger. A nil
// Recorder records nothing, so workers run outside a group too.
type Recorder struct {
	name        string
	log         *slog.Logger
	clock       clock.Clock
	runs        prometheus.Counter
	failures    prometheus.Counter
	lastSuccess prometheus.Gauge
	lag         prometheus.Gauge
	up          prometheus.Gauge
}

// Round records one round of work that was due at due, started at
// started and ended with err.
func (r *Recorder) Round(due, started time.Time, err error) {
	if r == nil {
		if err != nil {
			slog.Default().Error("worker round failed", "err", err)
		}
		return
	}
	r.runs.Inc()
	r.lag.Set(max(started.Sub(due), 0).Seconds())
	if err != nil {
		r.failures.Inc()
		r.log.Error("worker round failed", "err", err)
		return
	}
	r.lastSuccess.Set(float64(r.clock.Now().UnixMicro()) / 1e6)
}

// Exited records that a worker's loop ended on its own, before Stop: the
// work is no longer running although the group believes it started.
func (r *Recorder) Exited(err error) {
	if r == nil {
		slog.Default().Error("worker stopped on its own", "err", err)
		return
	}
	r.failures.Inc()
	r.up.Set(0)
	r.log.Error("worker stopped on its own", "err", err)
}

// Logger returns the worker's scoped logger, or slog.Default() for a nil
// Recorder.
func (r *Recorder) Logger() *slog.Logger {
	if r == nil {
		return slog.Default()
	}
	return r.log
}
