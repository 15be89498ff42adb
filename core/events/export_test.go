package events

import (
	"context"
	"time"
)

// SetBeforeMark installs a hook that runs after a round published its
// events and before it marks them sent; an error aborts the round as a
// crash there would.
func (r *Relay) SetBeforeMark(f func() error) { r.beforeMark = f }

// Round runs one relay round.
func (r *Relay) Round(ctx context.Context) (int, error) {
	n, _, _, err := r.roundOnce(ctx)
	return n, err
}

// Prune deletes sent events older than cutoff.
func (o *Outbox) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	return o.prune(ctx, cutoff)
}

// ErrOutOfTurn exposes errOutOfTurn.
var ErrOutOfTurn = errOutOfTurn

// CoveringFilter is coveringFilter.
var CoveringFilter = coveringFilter
