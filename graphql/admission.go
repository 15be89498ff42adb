package graphql

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultAdmissionWait is how long an operation waits for a slot when
// AdmissionOptions.MaxWait is zero.
const DefaultAdmissionWait = 100 * time.Millisecond

// AdmissionOptions order the queries and mutations of a busy server: at
// most Slots run at once and the others wait their turn in arrival order.
//
// Without it, operations past the database pool's size wait for a
// connection, and database/sql hands a freed connection to a random
// waiter: under load some wait many times longer than others. Waiting in
// line instead keeps each operation's latency near the average (with 32
// buyers checking out, the slowest 1 % of steps took 32 to 45 ms instead of
// 61 to 70 ms, at about the same rate; BENCHMARKS.md).
type AdmissionOptions struct {
	// Slots is how many operations run at once; 0 turns admission off.
	// The database pool's size is the natural choice.
	Slots int
	// MaxWait bounds an operation's wait: past it, the operation runs
	// without a slot. A slot held by an operation that waits on something
	// slow (a payment gateway's answer) then delays the others by MaxWait
	// at most. Zero is DefaultAdmissionWait.
	MaxWait time.Duration
}

// admission is the line of AdmissionOptions. A nil *admission admits at
// once.
type admission struct {
	maxWait time.Duration
	// late counts the operations that ran without a slot after maxWait;
	// nil without metrics.
	late prometheus.Counter

	mu   sync.Mutex
	free int
	// line holds the waiting operations' channels, oldest first; a slot
	// is handed over by closing the channel.
	line list.List
}

// newAdmission returns the line of o, nil when o is off, registering its
// metrics with reg when reg is not nil: the slots, the operations waiting,
// and those that ran without a slot (a line too short for the load, or
// slots held by slow operations).
func newAdmission(o AdmissionOptions, reg prometheus.Registerer) (*admission, error) {
	if o.Slots <= 0 {
		return nil, nil
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultAdmissionWait
	}
	a := &admission{maxWait: o.MaxWait, free: o.Slots}
	if reg == nil {
		return a, nil
	}
	a.late = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kassa_graphql_admission_late_total",
		Help: "GraphQL operations that waited the longest wait for a slot and ran without one.",
	})
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kassa_graphql_admission_slots",
			Help: "GraphQL queries and mutations that run at once; more wait in line.",
		}, func() float64 { return float64(o.Slots) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kassa_graphql_admission_waiting",
			Help: "GraphQL operations waiting in line for a slot.",
		}, func() float64 {
			a.mu.Lock()
			defer a.mu.Unlock()
			return float64(a.line.Len())
		}),
		a.late,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register graphql admission metrics: %w", err)
		}
	}
	return a, nil
}

// enter waits for a slot, in arrival order, for at most maxWait or until
// ctx ends, and returns what to call when the operation is done. Past the
// wait the operation runs without a slot (leave does nothing then).
func (a *admission) enter(ctx context.Context) (leave func()) {
	if a == nil {
		return func() {}
	}
	a.mu.Lock()
	if a.free > 0 && a.line.Len() == 0 {
		a.free--
		a.mu.Unlock()
		return a.leave
	}
	turn := make(chan struct{})
	el := a.line.PushBack(turn)
	a.mu.Unlock()
	timer := time.NewTimer(a.maxWait)
	defer timer.Stop()
	select {
	case <-turn:
		return a.leave
	case <-timer.C:
	case <-ctx.Done():
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-turn: // handed a slot while giving up: keep it
		return a.leave
	default:
	}
	a.line.Remove(el)
	if a.late != nil && ctx.Err() == nil {
		a.late.Inc()
	}
	return func() {}
}

// leave gives the slot to the operation waiting longest, or frees it.
func (a *admission) leave() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if front := a.line.Front(); front != nil {
		a.line.Remove(front)
		close(front.Value.(chan struct{}))
		return
	}
	a.free++
}
