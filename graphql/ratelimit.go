package graphql

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// RateLimit is the per-client budget of expensive anonymous work: a token
// bucket of cost points (see Limits.MaxCost) per client address. Guests
// and signed-in buyers draw from it; staff and API keys do not. Answers
// from the response cache cost nothing.
type RateLimit struct {
	// Burst is the most cost points a client may spend at once; it must be
	// at least Limits.MaxCost, or the largest documents could never run.
	Burst int
	// PerSecond is the rate at which a client's points come back.
	PerSecond int
	// MaxClients caps the addresses tracked; when full, the client seen
	// least recently is forgotten (it comes back with a full bucket).
	MaxClients int
}

// DefaultRateLimit lets a client spend two documents at the cost budget
// at once and 5000 points a second after that (about ten uncached
// product grids of 24 a second: a browsing buyer never notices, since
// cached public reads cost nothing), tracking up to 10000 addresses (about 1 MB).
var DefaultRateLimit = RateLimit{Burst: 20000, PerSecond: 5000, MaxClients: 10000}

// costLimiter holds the token buckets, least recently used first.
type costLimiter struct {
	cfg RateLimit
	now func() time.Time

	mu      sync.Mutex
	order   *list.List // of *bucket, most recently used at the front
	buckets map[string]*list.Element
}

type bucket struct {
	client string
	tokens float64
	at     time.Time
}

func newCostLimiter(cfg RateLimit, now func() time.Time) *costLimiter {
	if now == nil {
		now = time.Now
	}
	return &costLimiter{cfg: cfg, now: now, order: list.New(), buckets: map[string]*list.Element{}}
}

// take spends cost points of client. When the bucket holds too few it
// spends nothing and says how long until it would hold enough.
func (l *costLimiter) take(client string, cost int) (ok bool, retryAfter time.Duration) {
	if cost <= 0 {
		return true, 0
	}
	burst := float64(l.cfg.Burst)
	need := min(float64(cost), burst) // a document over the burst would never run
	now := l.now()

	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if e, found := l.buckets[client]; found {
		l.order.MoveToFront(e)
		b = e.Value.(*bucket)
		b.tokens = min(burst, b.tokens+now.Sub(b.at).Seconds()*float64(l.cfg.PerSecond))
		b.at = now
	} else {
		if l.order.Len() >= l.cfg.MaxClients {
			oldest := l.order.Back()
			l.order.Remove(oldest)
			delete(l.buckets, oldest.Value.(*bucket).client)
		}
		b = &bucket{client: client, tokens: burst, at: now}
		l.buckets[client] = l.order.PushFront(b)
	}
	if b.tokens >= need {
		b.tokens -= need
		return true, 0
	}
	wait := (need - b.tokens) / float64(l.cfg.PerSecond)
	return false, time.Duration(math.Ceil(wait * float64(time.Second)))
}
