package store

import (
	"context"
	"time"
)

// writerWait bounds how long a transaction waits for the SQLite writer
// slot before it goes ahead anyway and leaves the wait to SQLite's busy
// timeout (10 s, see Open): a transaction opened while its own goroutine
// holds another, with a context that does not carry it, would otherwise
// wait for itself forever.
const writerWait = 10 * time.Second

// writerSlot lets one SQLite transaction at a time hold a connection.
// Every SQLite transaction takes the write lock at BEGIN
// (_txlock=immediate), so two never run at once anyway; without the slot
// the ones waiting for the lock each hold a pooled connection while
// SQLite's busy handler sleeps and retries, and reads outside
// transactions, which WAL would let run beside the writer, queue for a
// connection behind them. With it, waiting writers queue in order here,
// hold no connection, and wake as soon as the writer before them ends.
// Writes outside RunInTx (single autocommitted statements) and other
// processes still meet SQLite's busy timeout.
type writerSlot chan struct{}

// newWriterSlot returns the slot of a SQLite DB; PostgreSQL needs none.
func newWriterSlot(d Dialect) writerSlot {
	if d != SQLite {
		return nil
	}
	return make(writerSlot, 1)
}

// acquire takes the slot, and returns the function that gives it back:
// at once when the slot is nil, when ctx ends first (the transaction then
// fails as its context says), or after writerWait.
func (w writerSlot) acquire(ctx context.Context) func() {
	if w == nil {
		return func() {}
	}
	select {
	case w <- struct{}{}:
		return func() { <-w }
	default:
	}
	t := time.NewTimer(writerWait)
	defer t.Stop()
	select {
	case w <- struct{}{}:
		return func() { <-w }
	case <-ctx.Done():
	case <-t.C:
	}
	return func() {}
}
