package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/store"
)

// LeaseOptions name a singleton lease and its holder.
type LeaseOptions struct {
	// Name is the job, e.g. "payment.reconciler".
	Name string
	// Holder identifies this instance (HolderID).
	Holder string
	// TTL is how long the lease lasts unless renewed. Pick it above the
	// interval between renewals plus the longest round: a lease that lapses
	// mid-round lets a second instance start the same job.
	TTL time.Duration
	// Clock tells the time leases are measured against; nil means
	// clock.System.
	Clock clock.Clock
}

// Lease is a named lease in the worker_leases table: at most one instance
// holds it at a time, so a job such as the reconciler runs on one instance
// while the others stand by, and one of them takes over once a crashed
// holder's lease lapses. Taking and renewing are one conditional upsert,
// which SQLite and PostgreSQL both serialise on the row, with no lock held
// between calls.
type Lease struct {
	db  *store.DB
	opt LeaseOptions
}

// NewLease returns the lease opt.Name for opt.Holder.
func NewLease(db *store.DB, opt LeaseOptions) (*Lease, error) {
	if opt.Name == "" || opt.Holder == "" || opt.TTL <= 0 {
		return nil, fmt.Errorf("worker: a lease needs a name, a holder and a positive TTL")
	}
	if opt.Clock == nil {
		opt.Clock = clock.System
	}
	return &Lease{db: db, opt: opt}, nil
}

func (l *Lease) now() time.Time { return l.opt.Clock.Now().UTC().Truncate(time.Microsecond) }

// Acquire takes the lease when it is free or lapsed, or renews it when
// this instance holds it, for another TTL, and reports whether this
// instance holds it now.
func (l *Lease) Acquire(ctx context.Context) (bool, error) {
	now := l.now()
	var got []string
	err := l.db.Conn(ctx).NewRaw(`INSERT INTO worker_leases (name, holder, held_until, acquired_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until,
			acquired_at = CASE WHEN worker_leases.holder = excluded.holder THEN worker_leases.acquired_at ELSE excluded.acquired_at END
		WHERE worker_leases.holder = excluded.holder OR worker_leases.held_until < ?
		RETURNING holder`,
		l.opt.Name, l.opt.Holder, now.Add(l.opt.TTL), now, now,
	).Scan(ctx, &got)
	if err != nil && !store.IsNoRows(err) {
		return false, fmt.Errorf("worker: acquire lease %s: %w", l.opt.Name, err)
	}
	return len(got) == 1, nil
}

// Release gives the lease up if this instance holds it, so another
// instance may take it at once (a clean shutdown).
func (l *Lease) Release(ctx context.Context) error {
	_, err := l.db.Conn(ctx).NewRaw("DELETE FROM worker_leases WHERE name = ? AND holder = ?", l.opt.Name, l.opt.Holder).Exec(ctx)
	if err != nil {
		return fmt.Errorf("worker: release lease %s: %w", l.opt.Name, err)
	}
	return nil
}

// Holder returns who holds the lease and until when; an empty holder
// when nobody does or the lease has lapsed.
func (l *Lease) Holder(ctx context.Context) (string, time.Time, error) {
	var rows []struct {
		Holder    string    `bun:"holder"`
		HeldUntil time.Time `bun:"held_until"`
	}
	err := l.db.Conn(ctx).NewRaw("SELECT holder, held_until FROM worker_leases WHERE name = ?", l.opt.Name).Scan(ctx, &rows)
	if err != nil && !store.IsNoRows(err) {
		return "", time.Time{}, fmt.Errorf("worker: read lease %s: %w", l.opt.Name, err)
	}
	if len(rows) == 0 || rows[0].HeldUntil.Before(l.now()) {
		return "", time.Time{}, nil
	}
	return rows[0].Holder, rows[0].HeldUntil.UTC(), nil
}

// Guard returns round wrapped so that it runs only on the instance
// holding the lease: each call takes or renews the lease first and skips
// the round (returning nil) when another instance holds it. Use it as a
// Periodic's round:
//
//	worker.NewPeriodic("payment.reconciler", lease.Guard(reconcile), opts)
func (l *Lease) Guard(round func(ctx context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		held, err := l.Acquire(ctx)
		if err != nil || !held {
			return err
		}
		return round(ctx)
	}
}
