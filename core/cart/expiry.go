package cart

import (
	"context"
	"fmt"
	"time"
)

// How long carts live (docs/api.md, "Cart lifetime"). A cart's life
// counts from its last change: its lines, email, addresses or shipping
// method, or its creation; looking at a cart does not renew it.
const (
	// DefaultGuestLifetime is how long a guest's open cart lives after
	// its last change when Options.GuestLifetime is zero: ten days, as
	// Shopify's storefront carts. Guest carts are what anyone may create
	// without an account, as many as the API's rate limit lets them, so
	// theirs is the shorter life.
	DefaultGuestLifetime = 10 * 24 * time.Hour
	// DefaultBuyerLifetime is how long a signed-in buyer's open cart
	// lives after its last change when Options.BuyerLifetime is zero: 30
	// days. A buyer has one open cart, which follows them across
	// devices; it costs the shop one row per account.
	DefaultBuyerLifetime = 30 * 24 * time.Hour
	// MinLifetime is the shortest lifetime Options take: a cart that
	// vanished within a day would lose buyers' carts overnight.
	MinLifetime = 24 * time.Hour
	// DefaultPurgeBatch is how many carts one statement of Purge deletes
	// when Options.PurgeBatch is zero (BENCHMARKS.md, "Cart purge").
	DefaultPurgeBatch = 500
	// touchEvery is how stale a cart's touched_at must be before a change
	// moves it: so a cart expires between its lifetime less an hour and
	// its lifetime after its last change, and the changes of one visit
	// leave the index on touched_at alone (on PostgreSQL they stay HOT
	// updates: no index of carts is written).
	touchEvery = time.Hour
)

// PurgeWorker is the name of the worker that runs Purge, in logs and
// metrics.
const PurgeWorker = "cart.purge"

// lifetimes say when carts expire: an open guest cart guest after its
// last change, an open buyer's cart buyer after it, and a retired cart
// (completed, or merged into another) retired after it retired.
type lifetimes struct {
	guest, buyer, retired time.Duration
}

// cutoffs are the touched_at times at or before which carts of each kind
// have expired, at one moment.
type cutoffs struct {
	guest, buyer, retired time.Time
}

// at returns the cutoffs at now.
func (l lifetimes) at(now time.Time) cutoffs {
	return cutoffs{guest: now.Add(-l.guest), buyer: now.Add(-l.buyer), retired: now.Add(-l.retired)}
}

// purgeKinds are the kinds of carts Purge deletes, each with the
// condition that is the predicate of its partial index (migration 0020;
// SQLite uses a partial index only for a query that repeats its
// predicate term by term) and the cutoff that applies to it. No other
// statement may imply one of these conditions (see the migration).
var purgeKinds = []struct {
	name   string
	where  string
	cutoff func(cutoffs) time.Time
}{
	{"guest", "token_hash IS NOT NULL AND customer_id IS NULL AND completed_at IS NULL AND merged_into IS NULL", func(c cutoffs) time.Time { return c.guest }},
	{"buyer", "token_hash IS NULL AND customer_id IS NOT NULL AND completed_at IS NULL AND merged_into IS NULL", func(c cutoffs) time.Time { return c.buyer }},
	{"retired", "(completed_at IS NOT NULL OR merged_into IS NOT NULL)", func(c cutoffs) time.Time { return c.retired }},
}

// Purge deletes the carts that have expired, with their lines: open guest
// carts not changed for the guest lifetime, open buyer carts not changed
// for the buyer lifetime, and completed or merged carts once checkout's
// idempotency keys (Options.Keys) have expired too. Expired carts are
// already refused as if they did not exist; Purge gives their space back.
//
// It deletes the oldest first, at most Options.PurgeBatch carts per
// statement, each statement its own transaction, until none is left or
// ctx ends, and returns how many carts it deleted. Several instances may
// run it at once: on PostgreSQL each statement takes only carts no other
// transaction holds (FOR UPDATE SKIP LOCKED), so two purges never wait
// for each other nor delete a cart twice, and a cart a buyer is changing
// at that moment is left alone; SQLite runs one writer at a time. It asks
// no authorizer: it is background work (the cart.purge worker) that reads
// nobody's data.
func (s *Service) Purge(ctx context.Context) (int, error) {
	at := s.life.at(s.now())
	done := 0
	for _, kind := range purgeKinds {
		for {
			if err := ctx.Err(); err != nil {
				return done, err
			}
			n, err := s.store.DeleteExpired(ctx, kind.where, kind.cutoff(at), s.purgeBatch)
			done += int(n)
			if err != nil {
				return done, fmt.Errorf("cart: purge expired %s carts: %w", kind.name, err)
			}
			if n < int64(s.purgeBatch) {
				break
			}
		}
	}
	return done, nil
}
