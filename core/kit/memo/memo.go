// Package memo keeps answers read from the database in memory for a
// while: the shipping zones and tax rates every cart request prices with,
// which staff change rarely.
//
// A Cache answers a key from memory until its entry is older than the
// time it was built with, or until Invalidate. Invalidate is what makes
// it correct: the service that changes the data calls it once its change
// committed (and once before, see Cache.Invalidate), so this instance
// never answers from before a change it made; another instance sharing
// the database sees a change within the cache's time.
package memo

import (
	"sync"
	"time"

	"github.com/kassahq/kassa/core/kit/clock"
)

// Cache maps keys to values read at a time. The zero Cache is not
// usable: use New.
type Cache[K comparable, V any] struct {
	ttl   time.Duration
	clock clock.Clock

	mu      sync.Mutex
	entries map[K]entry[V]
	// gen counts invalidations, so a read that started before one never
	// puts what it read in the cache.
	gen uint64
}

type entry[V any] struct {
	v  V
	at time.Time
}

// maxEntries bounds a cache: past it, a fill starts over from empty.
// Keys are countries and regions, so a shop never gets near it.
const maxEntries = 4096

// New returns a cache answering for ttl; ttl <= 0 turns it off (every Get
// loads). A nil clk is the system clock.
func New[K comparable, V any](ttl time.Duration, clk clock.Clock) *Cache[K, V] {
	if clk == nil {
		clk = clock.System
	}
	return &Cache[K, V]{ttl: ttl, clock: clk, entries: map[K]entry[V]{}}
}

// Get returns the value of k from memory when it is fresh, and otherwise
// what load returns, keeping it when no Invalidate came in between. The
// value is shared by every caller: treat it as read-only.
func (c *Cache[K, V]) Get(k K, load func() (V, error)) (V, error) {
	if c.ttl <= 0 {
		return load()
	}
	c.mu.Lock()
	if e, ok := c.entries[k]; ok && c.clock.Now().Sub(e.at) < c.ttl {
		c.mu.Unlock()
		return e.v, nil
	}
	gen := c.gen
	c.mu.Unlock()
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if len(c.entries) >= maxEntries {
			c.entries = map[K]entry[V]{}
		}
		c.entries[k] = entry[V]{v: v, at: c.clock.Now()}
	}
	c.mu.Unlock()
	return v, nil
}

// Invalidate forgets every entry. A change calls it twice: at once, and
// after its transaction committed, since a read between the two may have
// filled the cache from before the commit.
func (c *Cache[K, V]) Invalidate() {
	c.mu.Lock()
	c.entries = map[K]entry[V]{}
	c.gen++
	c.mu.Unlock()
}
