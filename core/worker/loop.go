package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
)

// Clock is the time source of periodic workers: the current time and
// timers, so tests step time (workertest.Clock) instead of sleeping.
type Clock interface {
	clock.Clock
	// NewTimer returns a timer firing once after d.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock.
type Timer interface {
	// C delivers the time once the timer fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// SystemClock is the real clock.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time                 { return time.Now().UTC() }
func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }

// runner is the goroutine plumbing Loop and Periodic share: a context
// that outlives Start's and carries the worker's system subject, a cancel
// and a done channel.
type runner struct {
	name   string
	rec    *Recorder
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs body in a goroutine. Background work acts as an explicit
// system subject named after the worker, so timelines and logs say who
// acted.
func (r *runner) start(ctx context.Context, body func(ctx context.Context)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done != nil {
		return fmt.Errorf("worker %s: already started", r.name)
	}
	// The start context bounds only the start; the work lives until Stop.
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	ctx = authz.WithSubject(ctx, authz.SystemSubject(r.name))
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		body(ctx)
	}()
	return nil
}

// stop cancels the work and waits for it until ctx is done.
func (r *runner) stop(ctx context.Context) error {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("worker %s did not stop in time: %w", r.name, ctx.Err())
	}
}

// Done returns a channel closed once the work has returned, after Stop or
// on its own; nil before Start.
func (r *runner) Done() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// call runs fn, turning a panic into an error: one bad round of a
// scheduler must not take the shop's checkout down with it.
func call(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(ctx)
}

// Loop adapts a long-running function, such as the outbox relay's Run, to
// a Worker: Start runs it in a goroutine, Stop drains it and cancels its
// context.
type Loop struct {
	runner
	run   func(ctx context.Context) error
	drain func(ctx context.Context) error
}

var _ Worker = (*Loop)(nil)

// NewLoop returns a worker running run until Stop cancels its context;
// run should then return nil. drain, when not nil, runs at Stop before the
// cancel (the relay flushes what is pending). A run that returns on its
// own is reported as a failure and not restarted: the work it does is
// gone until the next start, which an alert on kassa_worker_up shows.
func NewLoop(name string, run, drain func(ctx context.Context) error) *Loop {
	return &Loop{runner: runner{name: name}, run: run, drain: drain}
}

// Name returns the worker's name.
func (l *Loop) Name() string { return l.name }

// Instrument implements Instrumented.
func (l *Loop) Instrument(r *Recorder) { l.rec = r }

// Start runs the loop in a goroutine.
func (l *Loop) Start(ctx context.Context) error {
	return l.start(ctx, func(ctx context.Context) {
		err := call(ctx, l.run)
		if ctx.Err() == nil {
			if err == nil {
				err = errors.New("returned before it was stopped")
			}
			l.rec.Exited(err)
		}
	})
}

// Stop drains the loop, then cancels it and waits for it to return.
func (l *Loop) Stop(ctx context.Context) error {
	if l.Done() == nil {
		return nil // never started: nothing to drain
	}
	var drainErr error
	if l.drain != nil {
		drainErr = l.drain(ctx)
		if drainErr != nil {
			drainErr = fmt.Errorf("worker %s: drain: %w", l.name, drainErr)
		}
	}
	return errors.Join(drainErr, l.stop(ctx))
}

// PeriodicOptions tune a Periodic worker.
type PeriodicOptions struct {
	// Interval is the pause between the end of one round and the start
	// of the next; required. A pause rather than a fixed rate, so a slow
	// round never makes rounds pile up.
	Interval time.Duration
	// Jitter adds a random pause in [0, Jitter) to every interval, so
	// instances started together do not query the database in step.
	Jitter time.Duration
	// Immediate runs the first round at Start instead of one interval
	// later.
	Immediate bool
	// Clock is the time source; nil means SystemClock.
	Clock Clock
}

// Periodic is a worker that runs a round of work every interval: the
// shape of Kassa's schedulers (deadline closer, reconciler, reminders). A
// failed round is logged and counted, and the next round runs as usual.
type Periodic struct {
	runner
	round func(ctx context.Context) error
	opt   PeriodicOptions
}

var _ Worker = (*Periodic)(nil)

// NewPeriodic returns a worker calling round every opt.Interval. round
// gets a context cancelled by Stop and carrying a system subject named
// after the worker. Rounds of several instances are not coordinated: use
// a Claimer for rows or a Lease for a job that one instance at a time
// may run.
func NewPeriodic(name string, round func(ctx context.Context) error, opt PeriodicOptions) (*Periodic, error) {
	if opt.Interval <= 0 {
		return nil, fmt.Errorf("worker %s: interval must be positive", name)
	}
	if opt.Jitter < 0 {
		return nil, fmt.Errorf("worker %s: jitter must not be negative", name)
	}
	if opt.Clock == nil {
		opt.Clock = SystemClock
	}
	return &Periodic{runner: runner{name: name}, round: round, opt: opt}, nil
}

// Name returns the worker's name.
func (p *Periodic) Name() string { return p.name }

// Instrument implements Instrumented.
func (p *Periodic) Instrument(r *Recorder) { p.rec = r }

// Start schedules the rounds.
func (p *Periodic) Start(ctx context.Context) error { return p.start(ctx, p.loop) }

// Stop cancels the current round, if any, and waits for it to return.
func (p *Periodic) Stop(ctx context.Context) error { return p.stop(ctx) }

func (p *Periodic) loop(ctx context.Context) {
	due := p.opt.Clock.Now()
	if !p.opt.Immediate {
		due = due.Add(p.pause())
	}
	for {
		if wait := due.Sub(p.opt.Clock.Now()); wait > 0 {
			t := p.opt.Clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C():
			}
		}
		if ctx.Err() != nil {
			return
		}
		started := p.opt.Clock.Now()
		err := call(ctx, p.round)
		if ctx.Err() != nil {
			// Stopped mid-round: the cancel, not the work, failed it.
			return
		}
		p.rec.Round(due, started, err)
		due = p.opt.Clock.Now().Add(p.pause())
	}
}

// pause returns the interval plus its jitter.
func (p *Periodic) pause() time.Duration {
	if p.opt.Jitter <= 0 {
		return p.opt.Interval
	}
	return p.opt.Interval + rand.N(p.opt.Jitter)
}
