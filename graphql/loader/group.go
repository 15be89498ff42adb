package loader

import (
	"context"
	"fmt"
	"sync"

	"github.com/graph-gophers/dataloader/v7"
)

// Group is a dataloader that batches by siblings instead of by time.
//
// A parent resolver that knows which keys its children will ask for (the
// products of a page) announces them with Want; the first child that asks
// for any key then fetches every wanted key in one call, and the others
// find their value already there (or wait for that one call). Keys nobody
// announced are fetched on demand, together with whatever is still wanted.
//
// Why not dataloader.NewBatchedLoader: it collects keys for a time window
// (16 ms by default) before fetching. graph-gophers/graphql-go resolves a
// list with at most MaxParallelism goroutines, so only that many children
// reach the loader per window: the number of queries then grows with the
// page size, and every level of nesting adds the window to the latency.
// Group needs no timer, adds no latency, and issues one call per level
// whatever the page size. It implements dataloader.Interface, so resolvers
// can take either.
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

var _ dataloader.Interface[string, int] = (*Group[string, int])(nil)

// NewGroup returns a Group that fetches with fetch. fetch gets every key it
// must answer at once and returns the values it found; a key it leaves
// out has the zero value.
func NewGroup[K comparable, V any](fetch func(ctx context.Context, keys []K) (map[K]V, error)) *Group[K, V] {
	return &Group[K, V]{fetch: fetch, entries: make(map[K]*batch[K, V], 32)}
}

// Want announces keys that will probably be asked for, so that the first
// Get fetches them all together. It fetches nothing by itself.
func (g *Group[K, V]) Want(keys ...K) {
	g.mu.Lock()
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

// Load implements dataloader.Interface: it announces k and returns a thunk
// that gets it.
func (g *Group[K, V]) Load(ctx context.Context, k K) dataloader.Thunk[V] {
	g.Want(k)
	return func() (V, error) { return g.Get(ctx, k) }
}

// LoadMany implements dataloader.Interface: the keys are fetched together.
func (g *Group[K, V]) LoadMany(ctx context.Context, keys []K) dataloader.ThunkMany[V] {
	g.Want(keys...)
	return func() ([]V, []error) {
		vals := make([]V, len(keys))
		var errs []error
		for i, k := range keys {
			v, err := g.Get(ctx, k)
			vals[i] = v
			if err != nil {
				if errs == nil {
					errs = make([]error, len(keys))
				}
				errs[i] = err
			}
		}
		return vals, errs
	}
}

// Clear forgets the value of k, so the next Get fetches it again.
func (g *Group[K, V]) Clear(_ context.Context, k K) dataloader.Interface[K, V] {
	g.mu.Lock()
	delete(g.entries, k)
	g.mu.Unlock()
	return g
}

// ClearAll forgets every value.
func (g *Group[K, V]) ClearAll() dataloader.Interface[K, V] {
	g.mu.Lock()
	g.entries = make(map[K]*batch[K, V], 32)
	g.pending = g.pending[:0]
	g.mu.Unlock()
	return g
}

// Prime sets the value of k unless it is known already, e.g. with the
// object a mutation just returned.
func (g *Group[K, V]) Prime(_ context.Context, k K, v V) dataloader.Interface[K, V] {
	g.mu.Lock()
	if e := g.entries[k]; e == nil {
		done := make(chan struct{})
		close(done)
		g.entries[k] = &batch[K, V]{done: done, vals: map[K]V{k: v}}
	}
	g.mu.Unlock()
	return g
}
