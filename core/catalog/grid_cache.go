package catalog

import (
	"context"
	"slices"
	"time"

	"github.com/kassahq/kassa/core/store"
)

// maxGridProducts bounds the products whose grid answers checkoutCache
// keeps; past it, a fill starts over from empty.
const maxGridProducts = 16384

// gridEntry is VariantGrid's answer for one product in one currency as a
// buyer sees it, kept in checkoutCache. Its slice is shared with readers
// and never written: a stock move replaces it with a copy.
type gridEntry struct {
	vs []GridVariant
	at time.Time
	// tickets order each variant's stock figures among this process's
	// stock moves (checkoutCache.seq), as checkoutEntry.ticket does; one
	// per variant, since a product's variants move apart.
	tickets []uint64
}

// gridGet answers VariantGrid for buyers: each product from memory where
// fresh, the rest from load, keeping what load found under the same rules
// as get (no invalidation in between, no move of one of its variants
// pending, not in a transaction that changed the catalog), a product
// with nothing to show included. Only buyers' answers are kept (the
// variants of ACTIVE products, the availability their grid shows): staff
// see on-hand figures, which a shipment changes without a drop.
func (c *checkoutCache) gridGet(ctx context.Context, ids []string, cur string, load func([]string) (map[string][]GridVariant, error)) (map[string][]GridVariant, error) {
	if store.Touched(ctx, checkoutTouch{}) {
		return load(ids)
	}
	c.mu.Lock()
	if c.ttl <= 0 {
		c.mu.Unlock()
		return load(ids)
	}
	now := c.clock.Now()
	ticket := c.seq
	out := make(map[string][]GridVariant, len(ids))
	var missing []string
	for _, id := range ids {
		if e, ok := c.grid[id][cur]; ok && now.Sub(e.at) < c.ttl {
			out[id] = e.vs
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
	if keep && c.gridN+len(loaded) > maxGridProducts {
		c.clearGrid()
	}
	at := c.clock.Now()
	for _, id := range missing {
		vs, found := loaded[id]
		if found {
			out[id] = vs
		}
		// A product with nothing to show is kept too (a DRAFT among a
		// buyer's ids): variants created or a product published later
		// are catalog changes, which drop everything.
		if !keep || c.gridPending(vs, at) {
			continue
		}
		byCur := c.grid[id]
		if byCur == nil {
			byCur = map[string]gridEntry{}
			c.grid[id] = byCur
			c.gridN++
		}
		tickets := make([]uint64, len(vs))
		for i := range vs {
			tickets[i] = ticket
			c.gridProduct[vs[i].ID] = id
		}
		byCur[cur] = gridEntry{vs: vs, at: at, tickets: tickets}
	}
	return out, nil
}

// gridPending reports whether a variant of vs has a move of this process
// whose commit hook has not run: a read meanwhile may be from before it.
func (c *checkoutCache) gridPending(vs []GridVariant, at time.Time) bool {
	for i := range vs {
		if p, ok := c.pending[vs[i].ID]; ok && at.Sub(p.at) < pendingFor {
			return true
		}
	}
	return false
}

// clearGrid forgets every grid answer; callers hold c.mu.
func (c *checkoutCache) clearGrid() {
	c.grid, c.gridN, c.gridProduct = map[string]map[string]gridEntry{}, 0, map[string]string{}
}

// dropGrid forgets the grid answers of the products of the given
// variants; callers hold c.mu.
func (c *checkoutCache) dropGrid(variantIDs map[string]bool) {
	for id := range variantIDs {
		if p, ok := c.gridProduct[id]; ok {
			if _, had := c.grid[p]; had {
				delete(c.grid, p)
				c.gridN--
			}
		}
	}
}

// applyGrid writes the stock figures of a committed move into the grid
// answers holding its variants where they are older than the move;
// callers hold c.mu.
func (c *checkoutCache) applyGrid(ticket uint64, levels map[string]InventoryLevel) {
	for id, l := range levels {
		p, ok := c.gridProduct[id]
		if !ok {
			continue
		}
		for cur, e := range c.grid[p] {
			i := slices.IndexFunc(e.vs, func(g GridVariant) bool { return g.ID == id })
			if i < 0 || e.tickets[i] >= ticket {
				continue // not there any more, or a newer move or read is
			}
			// Readers hold the old slice: write a copy.
			vs, tickets := slices.Clone(e.vs), slices.Clone(e.tickets)
			vs[i].Level = InventoryLevel{VariantID: id, OnHand: l.OnHand, Reserved: l.Reserved}
			tickets[i] = ticket
			e.vs, e.tickets = vs, tickets
			c.grid[p][cur] = e
		}
	}
}
