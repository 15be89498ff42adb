package graphql

import (
	"container/list"
	"context"
	"sync"
	"time"
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

	mu   sync.Mutex
	free int
	// line holds the waiting operations' channels, oldest first; a slot
	// is handed over by closing the channel.
	line list.List
}

func newAdmission(o AdmissionOptions) *admission {
	if o.Slots <= 0 {
		return nil
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultAdmissionWait
	}
	return &admission{maxWait: o.MaxWait, free: o.Slots}
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
