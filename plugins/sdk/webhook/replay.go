package webhook

import (
	"container/list"
	"sync"
	"time"
)

// ReplayCache remembers accepted deliveries until their tolerance window
// closes, so the same delivery is refused if it comes again. It is bounded:
// when full, the entry closest to expiry is evicted first. Safe for
// concurrent use. Size it for the peak number of deliveries per tolerance
// window; the zero value is not usable, use NewReplayCache.
type ReplayCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *replayEntry, oldest expiry first (approximately)
	byKey map[string]*list.Element
}

type replayEntry struct {
	key     string
	expires time.Time
}

// NewReplayCache returns a cache holding at most max entries (at least 1).
func NewReplayCache(max int) *ReplayCache {
	if max < 1 {
		max = 1
	}
	return &ReplayCache{max: max, order: list.New(), byKey: make(map[string]*list.Element)}
}

// Forget removes key, so a delivery recorded with Add before it was
// handled can come again when handling it failed in a way the sender
// will retry.
func (c *ReplayCache) Forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.remove(e)
	}
}

// Add records key until expires and reports true, or reports false when key
// is already recorded and not expired at now (a replay).
func (c *ReplayCache) Add(key string, expires, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evictExpired(now)
	if _, ok := c.byKey[key]; ok {
		return false
	}
	for c.order.Len() >= c.max {
		c.remove(c.order.Front())
	}
	// Keep the list sorted by expiry: walk back from the end (new entries
	// usually expire last).
	e := &replayEntry{key: key, expires: expires}
	at := c.order.Back()
	for at != nil && at.Value.(*replayEntry).expires.After(expires) {
		at = at.Prev()
	}
	if at == nil {
		c.byKey[key] = c.order.PushFront(e)
	} else {
		c.byKey[key] = c.order.InsertAfter(e, at)
	}
	return true
}

// Len returns the number of entries.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *ReplayCache) evictExpired(now time.Time) {
	for f := c.order.Front(); f != nil && !f.Value.(*replayEntry).expires.After(now); f = c.order.Front() {
		c.remove(f)
	}
}

func (c *ReplayCache) remove(el *list.Element) {
	delete(c.byKey, el.Value.(*replayEntry).key)
	c.order.Remove(el)
}
