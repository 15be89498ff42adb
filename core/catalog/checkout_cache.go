package catalog

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"time"
	"weak"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/store"
)

// DefaultCheckoutCacheFor is how long CheckoutReader answers a variant
// from memory when CheckoutReaderOptions.CacheFor is zero.
const DefaultCheckoutCacheFor = 2 * time.Second

// maxCheckoutEntries bounds the cache: past it, a fill starts over from
// empty. A shop's carts draw on far fewer (variant, currency) pairs.
const maxCheckoutEntries = 65536

// checkoutTouch marks a transaction that changed what CheckoutVariants
// answers (store.Touch): a read in it may hold a change that never
// commits, so it is not kept.
type checkoutTouch struct{}

type checkoutEntry struct {
	v  CheckoutVariant
	at time.Time
}

// checkoutCache keeps CheckoutVariants' answers of one database in
// memory. Every cart request prices its lines with them (titles, price,
// availability); staff change them rarely, and orders change only the
// availability of the variants they reserve.
//
// It is correct on one instance because every change through this
// process drops what it changed once the change commits: the catalog
// Service's writes (products, variants, prices, stock adjustments) drop
// everything, Reservations drop the variants they moved. Another
// instance's changes reach it as their events (CacheSubjects), which
// Service.ForgetCheckoutAnswers turns into the same drops on every
// instance; the reader's time to live is the backstop for an event lost
// on the way (a short TTL, not a version check: a check would be the
// round trip the cache saves). What may be stale for that long is harmless where it
// matters: the reservation at checkout is a conditional UPDATE on the
// stock itself, so an availability shown too high never oversells, and
// the price is the one the buyer was shown moments before.
type checkoutCache struct {
	mu    sync.Mutex
	ttl   time.Duration
	clock clock.Clock
	// entries are by variant id, then currency code, so a reservation
	// drops its few variants without a scan.
	entries map[string]map[string]checkoutEntry
	n       int
	// gen counts invalidations, so a read that started before one never
	// keeps what it read.
	gen uint64
	// applied holds the ids of the stock-move events whose drop this
	// process made itself once their transaction committed, and when:
	// their arrival on the bus (ForgetCheckoutAnswers) drops nothing
	// again. Without it every order would drop its variants twice, and
	// the second drop costs a read of answers that were fresh.
	applied map[string]time.Time
}

// maxAppliedEvents bounds checkoutCache.applied; past it, ids older than
// appliedFor are forgotten (their event was lost or is very late: it
// then drops once more, which is only a read).
const (
	maxAppliedEvents = 4096
	appliedFor       = time.Minute
)

// checkoutCaches holds the one checkoutCache of each open database, so
// the Service, the CheckoutReader and the Reservations core/app builds
// separately over one *store.DB share it without another wire. The key
// is weak and the entry removed when the DB is collected (tests open
// many).
var checkoutCaches sync.Map // weak.Pointer[store.DB] -> *checkoutCache

// checkoutCacheOf returns the cache of db, making it on first use (off
// until a CheckoutReader sets its time to live).
func checkoutCacheOf(db *store.DB) *checkoutCache {
	key := weak.Make(db)
	if c, ok := checkoutCaches.Load(key); ok {
		return c.(*checkoutCache)
	}
	c, loaded := checkoutCaches.LoadOrStore(key, &checkoutCache{clock: clock.System, entries: map[string]map[string]checkoutEntry{}})
	if !loaded {
		runtime.AddCleanup(db, func(k weak.Pointer[store.DB]) { checkoutCaches.Delete(k) }, key)
	}
	return c.(*checkoutCache)
}

// configure sets the time to live and the clock of the cache (the last
// CheckoutReader built over the database wins; core/app builds one).
func (c *checkoutCache) configure(ttl time.Duration, clk clock.Clock) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ttl = ttl
	if clk != nil {
		c.clock = clk
	}
	c.entries, c.n = map[string]map[string]checkoutEntry{}, 0
	c.gen++
}

// get answers ids in cur from memory where it can and from load for the
// rest, keeping what load found unless an invalidation came in between.
// A transaction that changed the catalog reads only from load, and keeps
// nothing: it must see its own change, which may never commit. A variant
// load does not find is not kept: it may be created the next moment.
func (c *checkoutCache) get(ctx context.Context, ids []string, cur string, load func([]string) (map[string]CheckoutVariant, error)) (map[string]CheckoutVariant, error) {
	if store.Touched(ctx, checkoutTouch{}) {
		return load(ids)
	}
	c.mu.Lock()
	if c.ttl <= 0 {
		c.mu.Unlock()
		return load(ids)
	}
	now := c.clock.Now()
	out := make(map[string]CheckoutVariant, len(ids))
	var missing []string
	for _, id := range ids {
		if e, ok := c.entries[id][cur]; ok && now.Sub(e.at) < c.ttl {
			out[id] = e.v
			continue
		}
		missing = append(missing, id)
	}
	gen := c.gen
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	loaded, err := load(missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := c.gen == gen
	if keep && c.n+len(loaded) > maxCheckoutEntries {
		c.entries, c.n = map[string]map[string]checkoutEntry{}, 0
	}
	at := c.clock.Now()
	for id, v := range loaded {
		out[id] = v
		if !keep {
			continue
		}
		byCur := c.entries[id]
		if byCur == nil {
			byCur = map[string]checkoutEntry{}
			c.entries[id] = byCur
		}
		if _, had := byCur[cur]; !had {
			c.n++
		}
		byCur[cur] = checkoutEntry{v: v, at: at}
	}
	return out, nil
}

// dropAll forgets every entry.
func (c *checkoutCache) dropAll() {
	c.mu.Lock()
	c.entries, c.n = map[string]map[string]checkoutEntry{}, 0
	c.gen++
	c.mu.Unlock()
}

// drop forgets the entries of the given variants, in every currency.
func (c *checkoutCache) drop(variantIDs map[string]bool) {
	c.mu.Lock()
	for id := range variantIDs {
		c.n -= len(c.entries[id])
		delete(c.entries, id)
	}
	c.gen++
	c.mu.Unlock()
}

// changedAll records in ctx's transaction that the catalog changed in a
// way any cached answer may show: the cache is dropped now and again
// once the transaction commits (a read between the two may have kept
// what was there before the commit).
func (c *checkoutCache) changedAll(ctx context.Context) {
	store.Touch(ctx, checkoutTouch{})
	c.dropAll()
	store.AfterCommit(ctx, c.dropAll)
}

// changedStock records in ctx's transaction that the stock of the given
// variants moved: their entries are dropped once it commits (before, the
// entries still hold what other transactions can read). eventID is the
// id of the stock-move event written in the same transaction ("" for
// none), whose own arrival then drops nothing more.
func (c *checkoutCache) changedStock(ctx context.Context, variantIDs map[string]bool, eventID string) {
	store.Touch(ctx, checkoutTouch{})
	store.AfterCommit(ctx, func() {
		c.drop(variantIDs)
		if eventID != "" {
			c.markApplied(eventID)
		}
	})
}

// markApplied records that the drop of event id was made here.
func (c *checkoutCache) markApplied(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if c.applied == nil {
		c.applied = map[string]time.Time{}
	}
	if len(c.applied) >= maxAppliedEvents {
		for k, at := range c.applied {
			if now.Sub(at) >= appliedFor {
				delete(c.applied, k)
			}
		}
		if len(c.applied) >= maxAppliedEvents {
			clear(c.applied)
		}
	}
	c.applied[id] = now
}

// wasApplied reports, once, whether the drop of event id was made here.
func (c *checkoutCache) wasApplied(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.applied[id]; ok {
		delete(c.applied, id)
		return true
	}
	return false
}

// ForgetCheckoutAnswers is the handler core/app listens with on every
// instance to the catalog's events (CacheSubjects), wherever they were
// written: it drops the checkout answers kept in memory that the event
// makes stale, so another instance's change is seen here as soon as its
// event arrives rather than after the reader's time to live. A stock
// move drops its variants; every other event, or a move whose payload
// does not decode, drops everything. A move that left every available
// quantity as it was (a shipment takes the same off on hand and
// reserved) drops nothing, nor does a move whose drop this process made
// when it committed. It never fails: a dropped answer is only read again.
func (s *Service) ForgetCheckoutAnswers(_ context.Context, e events.Event) error {
	if e.Subject == SubjectStockMoved {
		if s.cache.wasApplied(e.ID) {
			return nil
		}
		var moved StockMovedEvent
		if err := json.Unmarshal(e.Payload, &moved); err == nil && len(moved.Variants) > 0 {
			ids := make(map[string]bool, len(moved.Variants))
			for _, m := range moved.Variants {
				if m.OnHandDelta != m.ReservedDelta {
					ids[m.VariantID] = true
				}
			}
			if len(ids) == 0 {
				return nil
			}
			s.cache.drop(ids)
			return nil
		}
	}
	s.cache.dropAll()
	return nil
}
