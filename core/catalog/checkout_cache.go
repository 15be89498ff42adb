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
	// ticket orders the entry's availability among this process's stock
	// moves of the variant (checkoutCache.seq): a move's figures replace
	// it only when the move is newer.
	ticket uint64
}

// pendingMove is a stock move of this process that changed a variant's
// row and has not yet committed (or rolled back: nothing says so).
type pendingMove struct {
	ticket uint64
	at     time.Time
}

// checkoutCache keeps CheckoutVariants' answers of one database in
// memory, and VariantGrid's for buyers (grid_cache.go). Every cart
// request prices its lines with them (titles, price, availability), and
// every page of a storefront's product grid shows them; staff change them
// rarely, and orders change only the availability of the variants they
// reserve.
//
// It is correct on one instance because every change through this
// process updates or drops what it changed once the change commits: the
// catalog Service's writes (products, variants, prices, stock
// adjustments) drop everything; Reservations write the available
// quantity their UPDATE returned into the variants' entries (a drop would
// cost the next cart a read, and every order reserves). Another
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
	// seq numbers this process's reservations and releases as their
	// UPDATE returns. A row's UPDATEs return in the order they commit (a
	// second waits on the first's row lock, or SQLite's one writer), so
	// for one variant the ticket order is the commit order, while the
	// after-commit hooks that apply them may run in any order.
	seq uint64
	// pending holds, by variant, the ticket of the newest move whose
	// UPDATE returned and whose commit hook has not run: a read of the
	// database meanwhile may miss that move, so it is not kept. A move
	// that rolled back stays until the next move of the variant commits,
	// or for pendingFor.
	pending map[string]pendingMove
	// applied holds the ids of the stock-move events whose drop this
	// process made itself once their transaction committed, and when:
	// their arrival on the bus (ForgetCheckoutAnswers) drops nothing
	// again. Without it every order would drop its variants twice, and
	// the second drop costs a read of answers that were fresh.
	applied map[string]time.Time

	// grid holds VariantGrid's answers for buyers by product id, then
	// currency code (grid_cache.go), under the same rules; gridN counts
	// its products. gridProduct maps a variant to the product whose
	// answers hold it, for the drops and moves named by variant.
	grid        map[string]map[string]gridEntry
	gridN       int
	gridProduct map[string]string
}

// maxAppliedEvents bounds checkoutCache.applied; past it, ids older than
// appliedFor are forgotten (their event was lost or is very late: it
// then drops once more, which is only a read).
const (
	maxAppliedEvents = 4096
	appliedFor       = time.Minute
	// pendingFor is how long a move keeps loads of its variant from being
	// kept without its hook running (it rolled back): longer than a
	// checkout's transaction holds its stock rows.
	pendingFor = time.Minute
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
	c, loaded := checkoutCaches.LoadOrStore(key, &checkoutCache{clock: clock.System, entries: map[string]map[string]checkoutEntry{},
		grid: map[string]map[string]gridEntry{}, gridProduct: map[string]string{}})
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
	c.clearGrid()
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
	// A load reads the rows as committed when it runs: newer than every
	// move whose ticket is issued by now and whose hook has run.
	ticket := c.seq
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
		if p, ok := c.pending[id]; ok && at.Sub(p.at) < pendingFor {
			continue // the read may be from before that move
		}
		byCur := c.entries[id]
		if byCur == nil {
			byCur = map[string]checkoutEntry{}
			c.entries[id] = byCur
		}
		if _, had := byCur[cur]; !had {
			c.n++
		}
		byCur[cur] = checkoutEntry{v: v, at: at, ticket: ticket}
	}
	return out, nil
}

// dropAll forgets every entry.
func (c *checkoutCache) dropAll() {
	c.mu.Lock()
	c.entries, c.n = map[string]map[string]checkoutEntry{}, 0
	c.clearGrid()
	c.gen++
	c.mu.Unlock()
}

// drop forgets the entries of the given variants, in every currency, and
// the grid answers of their products.
func (c *checkoutCache) drop(variantIDs map[string]bool) {
	c.mu.Lock()
	for id := range variantIDs {
		c.n -= len(c.entries[id])
		delete(c.entries, id)
	}
	c.dropGrid(variantIDs)
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
// variants moved to levels (as the move's UPDATE returned them): once it
// commits, their entries show the new available quantity (before, the
// entries still hold what other transactions can read). eventID is the
// id of the stock-move event written in the same transaction ("" for
// none), whose own arrival then drops nothing.
func (c *checkoutCache) changedStock(ctx context.Context, levels map[string]InventoryLevel, eventID string) {
	store.Touch(ctx, checkoutTouch{})
	ticket := c.issue(levels)
	store.AfterCommit(ctx, func() {
		c.apply(ticket, levels)
		if eventID != "" {
			c.markApplied(eventID)
		}
	})
}

// issue numbers a move whose UPDATE has just returned and marks its
// variants pending until its hook (apply) runs.
func (c *checkoutCache) issue(levels map[string]InventoryLevel) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	now := c.clock.Now()
	if c.pending == nil {
		c.pending = map[string]pendingMove{}
	}
	if len(c.pending) >= maxCheckoutEntries {
		for id, p := range c.pending {
			if now.Sub(p.at) >= pendingFor {
				delete(c.pending, id)
			}
		}
	}
	for id := range levels {
		c.pending[id] = pendingMove{ticket: c.seq, at: now}
	}
	return c.seq
}

// apply writes the available quantities of a committed move into the
// entries of its variants that are older than it, in every currency, and
// its stock figures into the grid answers holding them. A
// variant without an entry stays without one (its next read loads it).
// Reads under way may have read the rows before the commit: gen makes
// them keep nothing.
func (c *checkoutCache) apply(ticket uint64, levels map[string]InventoryLevel) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, l := range levels {
		if p, ok := c.pending[id]; ok && p.ticket <= ticket {
			delete(c.pending, id)
		}
		for cur, e := range c.entries[id] {
			if e.ticket >= ticket {
				continue // a newer move, or a read after it, is there
			}
			e.v.Available, e.ticket = l.Available(), ticket
			c.entries[id][cur] = e
		}
	}
	c.applyGrid(ticket, levels)
	c.gen++
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
