// Package workertest holds test doubles for core/worker: a Clock whose
// time moves only when the test says so.
//
//	clk := workertest.NewClock(t0)
//	p, _ := worker.NewPeriodic("reminders", round, worker.PeriodicOptions{Interval: time.Minute, Clock: clk})
//	_ = p.Start(ctx)
//	clk.WaitTimers(1)         // the worker is waiting for its first round
//	clk.Advance(time.Minute)  // the round runs now, without sleeping
package workertest

import (
	"sort"
	"sync"
	"time"

	"github.com/kassahq/kassa/core/worker"
)

// Clock is a worker.Clock for tests: Now stands still until Advance or
// Set moves it, and timers fire when it passes their deadline.
type Clock struct {
	mu     sync.Mutex
	cond   *sync.Cond
	now    time.Time
	timers []*timer
}

var _ worker.Clock = (*Clock)(nil)

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock {
	c := &Clock{now: t.UTC()}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires once the clock reaches now + d.
func (c *Clock) NewTimer(d time.Duration) worker.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	c.cond.Broadcast()
	return t
}

// Advance moves the clock forward by d and fires the timers it passes.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
}

// Set moves the clock to t and fires the timers it passes.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(t.UTC())
}

func (c *Clock) setLocked(t time.Time) {
	c.now = t
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(t) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- tm.at
	}
	c.timers = kept
}

// WaitTimers blocks until at least n timers are waiting to fire: the
// point where a worker sleeps and the test may move time. It is how tests
// synchronise with a worker's goroutine without sleeping.
func (c *Clock) WaitTimers(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.timers) < n {
		c.cond.Wait()
	}
}

// Deadlines returns when the waiting timers will fire, earliest first.
func (c *Clock) Deadlines() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Time, len(c.timers))
	for i, t := range c.timers {
		out[i] = t.at
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

type timer struct {
	c  *Clock
	at time.Time
	ch chan time.Time
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, x := range t.c.timers {
		if x == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			return true
		}
	}
	return false
}
