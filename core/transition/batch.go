package transition

import (
	"context"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/store"
)

// batchKey carries the *batch of RunBatched in a context.
type batchKey struct{}

// batch is the events of one transaction, per outbox, in the order they
// were emitted.
type batch struct {
	outboxes []Outbox
	events   map[Outbox][]events.Event
}

// multiOutbox is an outbox that stores several events in one statement
// (events.Outbox.AddAll).
type multiOutbox interface {
	AddAll(ctx context.Context, events ...events.Event) error
}

// RunBatched runs fn in the transaction carried by ctx, or in a new one,
// and adds the events of the moves fn applies (and those it gives Emit)
// to their outboxes when fn returns, still in that transaction: one
// insert per outbox instead of one per event. The events are stored if
// and only if the transaction commits, as with Outbox.Add. Nested calls
// join the outermost batch, which the outermost call flushes.
func RunBatched(ctx context.Context, db *store.DB, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(batchKey{}).(*batch); ok {
		return db.RunInTx(ctx, fn)
	}
	return db.RunInTx(ctx, func(ctx context.Context) error {
		b := &batch{events: map[Outbox][]events.Event{}}
		if err := fn(context.WithValue(ctx, batchKey{}, b)); err != nil {
			return err
		}
		return b.flush(ctx)
	})
}

// Emit adds ev to outbox: to the batch of RunBatched when ctx carries
// one, else at once (in the transaction carried by ctx, if any).
func Emit(ctx context.Context, outbox Outbox, ev events.Event) error {
	b, ok := ctx.Value(batchKey{}).(*batch)
	if !ok {
		return outbox.Add(ctx, ev)
	}
	// Checked now, as Add would, so a bad event fails where it is made.
	if err := ev.Validate(); err != nil {
		return err
	}
	if _, seen := b.events[outbox]; !seen {
		b.outboxes = append(b.outboxes, outbox)
	}
	b.events[outbox] = append(b.events[outbox], ev)
	return nil
}

// flush adds the batch's events to their outboxes.
func (b *batch) flush(ctx context.Context) error {
	for _, o := range b.outboxes {
		evs := b.events[o]
		if m, ok := o.(multiOutbox); ok {
			if err := m.AddAll(ctx, evs...); err != nil {
				return err
			}
			continue
		}
		for _, ev := range evs {
			if err := o.Add(ctx, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// MarkBatch marks the batch of RunBatched carried by ctx, if any, and
// returns the function that takes the events emitted since out of it
// again. A savepoint inside a batched transaction calls it when it rolls
// back, so the batch does not publish the events of the moves it undid.
func MarkBatch(ctx context.Context) (rewind func()) {
	b, ok := ctx.Value(batchKey{}).(*batch)
	if !ok {
		return func() {}
	}
	outboxes, counts := len(b.outboxes), make(map[Outbox]int, len(b.events))
	for o, evs := range b.events {
		counts[o] = len(evs)
	}
	return func() {
		for _, o := range b.outboxes[outboxes:] {
			delete(b.events, o)
		}
		b.outboxes = b.outboxes[:outboxes]
		for o, n := range counts {
			b.events[o] = b.events[o][:n]
		}
	}
}
