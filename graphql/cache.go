package graphql

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gqlerrors "github.com/graph-gophers/graphql-go/errors"
	"github.com/graph-gophers/graphql-go/introspection"
	"github.com/graph-gophers/graphql-go/trace/tracer"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kassahq/kassa/core/authz"
)

// CacheOptions configure the response cache of public reads.
//
// A storefront sends the same few catalog queries over and over, and every
// anonymous visitor gets the same answer. The cache keeps those answers
// until the catalog changes (the app calls InvalidateCache on every
// catalog event, from any instance) or TTL passes, whichever comes first.
// Only operations whose root fields are all in PublicFields are cached,
// and only for callers who see the public catalog: guests and signed-in
// buyers (see audience). Nothing personal (carts, a customer's own data,
// staff views with drafts) is ever shared.
type CacheOptions struct {
	// PublicFields are the root Query fields whose result depends only on
	// their arguments for anonymous callers.
	PublicFields []string
	// TTL bounds how stale an answer may be if an invalidation is lost.
	TTL time.Duration
	// MaxBytes bounds the memory the answers take (default 32 MiB); the
	// cache is emptied when a new answer would not fit. Emptying is cheap
	// to recover from: the next reads execute again.
	MaxBytes int
}

type cacheEntry struct {
	gen     uint64
	expires time.Time
	data    json.RawMessage
}

type responseCache struct {
	public  map[string]bool
	ttl     time.Duration
	max     int // bytes
	size    int // bytes held, under mu
	gen     atomic.Uint64
	mu      sync.RWMutex
	entries map[[32]byte]cacheEntry
	// verdicts remembers, per document, whether its root fields are all
	// public; a document's roots never change, so it is judged once.
	verdicts sync.Map // [32]byte(query hash) -> bool

	hits, misses prometheus.Counter
}

func newResponseCache(o CacheOptions, reg prometheus.Registerer) *responseCache {
	c := &responseCache{public: map[string]bool{}, ttl: o.TTL, max: o.MaxBytes, entries: map[[32]byte]cacheEntry{}}
	if c.ttl <= 0 {
		c.ttl = 10 * time.Second
	}
	if c.max <= 0 {
		c.max = 32 << 20
	}
	for _, f := range o.PublicFields {
		c.public[f] = true
	}
	c.hits = prometheus.NewCounter(prometheus.CounterOpts{Name: "kassa_graphql_cache_hits_total", Help: "Public GraphQL reads answered from the response cache."})
	c.misses = prometheus.NewCounter(prometheus.CounterOpts{Name: "kassa_graphql_cache_misses_total", Help: "Cacheable GraphQL reads that had to be executed."})
	if reg != nil {
		reg.MustRegister(c.hits, c.misses)
	}
	return c
}

// documentKey hashes the text of a request's operation: its name and
// document. The verdicts of the cache are kept by it.
func documentKey(req Request) [32]byte {
	// Joined on the stack: most documents fit, and every guest's and
	// buyer's request is hashed.
	var buf [2048]byte
	return sha256.Sum256(append(append(append(buf[:0], req.OperationName...), 0), req.Query...))
}

// cacheKey hashes what determines the answer of a public read: the
// audience, the document (its documentKey) and the variables.
func cacheKey(audience string, doc [32]byte, variables map[string]any) ([32]byte, bool) {
	vars, err := json.Marshal(variables) // map keys are sorted: canonical
	if err != nil {
		return [32]byte{}, false
	}
	h := sha256.New()
	h.Write([]byte(audience))
	h.Write(doc[:])
	h.Write(vars)
	var k [32]byte
	h.Sum(k[:0])
	return k, true
}

func (c *responseCache) get(k [32]byte) (json.RawMessage, bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || e.gen != c.gen.Load() || time.Now().After(e.expires) {
		return nil, false
	}
	return e.data, true
}

func (c *responseCache) put(k [32]byte, gen uint64, data json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen.Load() {
		return // invalidated while executing: the answer may be stale
	}
	n := len(data) + 96 // the key, the entry and the map's share
	if n > c.max/8 {
		return // one answer may not crowd out the rest
	}
	if old, ok := c.entries[k]; ok {
		c.size -= len(old.data) + 96
	}
	if c.size+n > c.max {
		clear(c.entries)
		c.size = 0
	}
	c.entries[k] = cacheEntry{gen: gen, expires: time.Now().Add(c.ttl), data: data}
	c.size += n
}

func (c *responseCache) invalidate() {
	c.mu.Lock()
	c.gen.Add(1)
	clear(c.entries)
	c.size = 0
	c.mu.Unlock()
}

// audience names the catalog view the caller gets, so callers with the
// same view share answers: guests and buyers, one audience per set of
// roles in a store. The roles are part of it because the owner may take a
// permission from one buyers' role and not the other (product:read from
// the guests' for a members-only catalog): a buyer's answer must not
// reach a guest then. A buyer-specific view (B2B price lists) would
// become an audience of its own here. Staff, API keys and the system may
// see drafts and stock details their permissions allow: never cached.
// The app drops every answer when the policy changes (InvalidateCache on
// the enforcer's reload), so an audience never keeps what its roles no
// longer allow.
func audience(ctx context.Context) (string, bool) {
	s := authz.SubjectFrom(ctx)
	if s.Kind != authz.KindAnonymous && s.Kind != authz.KindCustomer {
		return "", false
	}
	if len(s.Roles) == 1 { // the common case: no sorting, no joining
		return s.Store + "\x00" + s.Roles[0], true
	}
	roles := slices.Clone(s.Roles)
	slices.Sort(roles)
	return s.Store + "\x00" + strings.Join(slices.Compact(roles), "\x00"), true
}

// rootRecorder collects the root fields an execution resolved.
type rootRecorder struct {
	mu    sync.Mutex
	roots []string
	other bool // a Mutation or Subscription root was seen
}

type rootRecorderKey struct{}

// rootTracer feeds rootRecorder from graph-gophers' field tracing.
type rootTracer struct{}

var _ tracer.Tracer = rootTracer{}

func (rootTracer) TraceQuery(ctx context.Context, _ string, _ string, _ map[string]any, _ map[string]*introspection.Type) (context.Context, tracer.QueryFinishFunc) {
	return ctx, func([]*gqlerrors.QueryError) {}
}

func noopFinish(*gqlerrors.QueryError) {}

func (rootTracer) TraceField(ctx context.Context, _ string, typeName, fieldName string, _ bool, _ map[string]any) (context.Context, tracer.FieldFinishFunc) {
	switch typeName {
	case "Query", "Mutation", "Subscription":
		if rec, ok := ctx.Value(rootRecorderKey{}).(*rootRecorder); ok {
			rec.mu.Lock()
			if typeName == "Query" {
				rec.roots = append(rec.roots, fieldName)
			} else {
				rec.other = true
			}
			rec.mu.Unlock()
		}
	}
	return ctx, noopFinish
}

// allPublic reports whether every root field recorded is public.
func (c *responseCache) allPublic(rec *rootRecorder) bool {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.other || len(rec.roots) == 0 {
		return false
	}
	for _, f := range rec.roots {
		if !c.public[f] {
			return false
		}
	}
	return true
}
