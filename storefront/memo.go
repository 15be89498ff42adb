package storefront

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
)

// Memoized pages. A catalog page (home, collection, product, search) is
// a pure function of the GraphQL answers it shows (themselves served
// from the public read cache, ADR 0004, and identical bytes while
// nothing changes) and of a few things of the request: the template, the
// language, the currency, the URL (the switchers' and pagination's
// links, a product's ?variant=, the search term), the public base or host
// (canonical and Open Graph links) and whether a buyer is signed in (the
// header's account link). Decoding the answers and running html/template
// over them was three quarters of a collection page's CPU (BENCHMARKS.md,
// storefront pages); the page is rendered once per distinct set of those
// inputs and the bytes replayed. A changed answer is a new key, so
// nothing is ever stale; the form token is not part of the bytes (the
// mark execPage swaps per request stays in them, and the product page's
// cart form gets the request's token on every replay), so no buyer's
// token is replayed to another. Error and not-found pages are rendered
// every time: they are rare, and a crawler's misses must not fill the
// memo.

// Bounds of the memos: a rendered page is about 8 KB, a decoded chrome
// answer about 2 KB, so they stay under about 10 MB together.
const (
	maxMemoPages   = 1024
	maxMemoAnswers = 256
)

// memoKey names a memoized value: a SHA-256 over its inputs.
type memoKey [sha256.Size]byte

// memo is a bounded map of immutable values. When full, an arbitrary
// entry makes room: the working set of a shop (its pages in two
// languages and a few currencies) is far smaller than the bound, and a
// crawler walking every sort and page only costs renders, never memory.
// A nil memo keeps nothing: every page is rendered (the tests compare
// replays with such renders).
type memo[V any] struct {
	mu  sync.RWMutex
	max int
	m   map[memoKey]V
}

func newMemo[V any](max int) *memo[V] {
	return &memo[V]{max: max, m: make(map[memoKey]V, max)}
}

func (m *memo[V]) get(k memoKey) (V, bool) {
	if m == nil {
		var zero V
		return zero, false
	}
	m.mu.RLock()
	v, ok := m.m[k]
	m.mu.RUnlock()
	return v, ok
}

func (m *memo[V]) put(k memoKey, v V) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[k]; !ok && len(m.m) >= m.max {
		for old := range m.m {
			delete(m.m, old)
			break
		}
	}
	m.m[k] = v
}

// len is the number of values kept (tests).
func (m *memo[V]) len() int {
	if m == nil {
		return 0
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.m)
}

// keyBuilder hashes a key's parts, each length-prefixed so that no two
// lists of parts hash alike ("ab","c" vs "a","bc").
type keyBuilder struct{ h hash.Hash }

func newMemoKey(parts ...string) *keyBuilder {
	k := &keyBuilder{h: sha256.New()}
	for _, p := range parts {
		k.add([]byte(p))
	}
	return k
}

func (k *keyBuilder) add(b []byte) *keyBuilder {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	k.h.Write(n[:])
	k.h.Write(b)
	return k
}

func (k *keyBuilder) str(s string) *keyBuilder { return k.add([]byte(s)) }

func (k *keyBuilder) sum() memoKey {
	var out memoKey
	k.h.Sum(out[:0])
	return out
}
