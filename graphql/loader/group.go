package loader

import (
	"context"
	"fmt"
	"sync"
)

// Group is a dataloader that batches by siblings instead of by time.
//
// A parent resolver that knows which keys its children will ask for (the
// products of a page) announces them with Want; the first child that asks
// for any key then fetches every wanted key in one call, and the others
// find their value already there (or wait for that one call). Keys nobody
// announced are fetched on demand, together with whatever is still wanted.
//
// Why not graph-gophers/dataloader's batched loader: it collects keys for
// a time window (16 ms by default) before fetching. graph-gophers/graphql-go
// resolves a list with at most MaxParallelism goroutines, so only that many
// children reach the loader per window: the number of queries then grows
// with the page size, and every level of nesting adds the window to the
// latency (see docs/adr/0003-sibling-batched-loaders.md).
// Group needs no timer, adds no latency, and issues one call per level
// whatever the page size.
//
// A Group lives for one request; it caches every value it fetched.
type Group[K comparable, V any] struct {
	fetch func(ctx context.Context, keys []K) (map[K]V, error)

	mu sync.Mutex
	// entries maps a key to the batch that holds (or will hold) its
	// value; nil means wanted but not fetched yet.
	entries map[K]*batch[K, V]
	// pending are the wanted keys not fetched yet, in order.
	pending []K
}

type batch[K comparable, V any] struct {
	done chan struct{}
	vals map[K]V
	err  error
}

// NewGroup returns a Group that fetches with fetch. fetch gets every key it
// must answer at once and returns the values it found; a key it leaves
// out has the zero value.
//
// The entries are made on the first Want, Get or Load: every request gets
// a set of loaders and most requests (a cart mutation) use none of them.
func NewGroup[K comparable, V any](fetch func(ctx context.Context, keys []K) (map[K]V, error)) *Group[K, V] {
	return &Group[K, V]{fetch: fetch}
}

// init makes the entries of a group used for the first time; g.mu held.
func (g *Group[K, V]) init() {
	if g.entries == nil {
		g.entries = make(map[K]*batch[K, V], 32)
	}
}

// Want announces keys that will probably be asked for, so that the first
// Get fetches them all together. It fetches nothing by itself.
func (g *Group[K, V]) Want(keys ...K) {
	if len(keys) == 0 {
		return
	}
	g.mu.Lock()
	g.init()
	for _, k := range keys {
		if _, ok := g.entries[k]; !ok {
			g.entries[k] = nil
			g.pending = append(g.pending, k)
		}
	}
	g.mu.Unlock()
}

// Get returns the value of k, fetching it (with every wanted key) unless
// it was fetched already or is being fetched.
func (g *Group[K, V]) Get(ctx context.Context, k K) (V, error) {
	g.mu.Lock()
	g.init()
	b, ok := g.entries[k]
	if b == nil {
		b = &batch[K, V]{done: make(chan struct{})}
		keys := make([]K, 0, len(g.pending)+1)
		if !ok {
			keys = append(keys, k)
		}
		for _, p := range g.pending {
			if e, wanted := g.entries[p]; wanted && e == nil {
				keys = append(keys, p)
				g.entries[p] = b
			}
		}
		g.entries[k] = b
		g.pending = g.pending[:0]
		g.mu.Unlock()
		g.run(ctx, b, keys)
	} else {
		g.mu.Unlock()
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
	return b.vals[k], b.err
}

// run fetches keys into b. A panic in fetch becomes b's error, so callers
// waiting on b never hang.
func (g *Group[K, V]) run(ctx context.Context, b *batch[K, V], keys []K) {
	defer close(b.done)
	defer func() {
		if r := recover(); r != nil {
			b.vals, b.err = nil, fmt.Errorf("loader: fetch panicked: %v", r)
		}
	}()
	b.vals, b.err = g.fetch(ctx, keys)
}

// Load fetches every key of keys that is neither fetched nor being
// fetched, in one call together with the wanted keys, and waits until
// all of keys have their values. Parents call it before they return, so
// that their children read the values with Cached, synchronously: a
// resolver that takes no context runs in its parent's goroutine (see
// docs/adr/0003-sibling-batched-loaders.md). It returns the first error of
// the batches that hold keys.
func (g *Group[K, V]) Load(ctx context.Context, keys ...K) error {
	g.mu.Lock()
	g.init()
	var (
		mine  *batch[K, V]
		fetch []K
		wait  []*batch[K, V]
	)
	for _, k := range keys {
		b, ok := g.entries[k]
		if b != nil {
			if b != mine && (len(wait) == 0 || wait[len(wait)-1] != b) {
				wait = append(wait, b)
			}
			continue
		}
		if mine == nil {
			mine = &batch[K, V]{done: make(chan struct{})}
		}
		if !ok { // wanted keys are fetched from pending below
			fetch = append(fetch, k)
		}
		g.entries[k] = mine
	}
	if mine != nil {
		// Fetch the wanted keys along: those not fetched yet and those
		// just taken into mine above (every pending key is one or the
		// other).
		for _, p := range g.pending {
			if g.entries[p] == nil {
				g.entries[p] = mine
			}
			fetch = append(fetch, p)
		}
		g.pending = g.pending[:0]
	}
	g.mu.Unlock()
	if mine != nil {
		g.run(ctx, mine, fetch)
		if mine.err != nil {
			return mine.err
		}
	}
	for _, b := range wait {
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if b.err != nil {
			return b.err
		}
	}
	return nil
}

// Cached returns the value of k if a batch fetched it without error; it
// never fetches and never waits. The second result is false when k was
// not fetched (yet).
func (g *Group[K, V]) Cached(k K) (V, bool) {
	g.mu.Lock()
	b := g.entries[k]
	g.mu.Unlock()
	if b != nil {
		select {
		case <-b.done:
			if b.err == nil {
				return b.vals[k], true
			}
		default:
		}
	}
	var zero V
	return zero, false
}
