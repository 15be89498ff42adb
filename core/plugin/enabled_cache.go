package plugin

import (
	"context"
	"sync"
	"time"

	"github.com/kassahq/kassa/core/store"
)

// enabledCacheTTL is how long a list of enabled plugins read from the
// database is served from memory. Within this process every change to the
// catalog (install, replace, remove, settings, enable, disable) drops the
// lists at once; the TTL bounds how long a change made elsewhere goes
// unseen: by another instance on the same PostgreSQL (DESIGN.md, several
// kassa instances) or by `kassa plugin install` run beside the server.
// Plugin changes publish no event for other instances to listen to; the
// supervisor's Check, which reads the whole catalog every
// HealthInterval to follow such changes, drops the lists too, and the
// TTL bounds the rest: a channel enabled a few seconds late on another
// instance costs no money, so it is a short TTL, not a broadcast.
const enabledCacheTTL = 5 * time.Second

// enabledCache holds, per kind, the enabled plugins' rows as last read.
// The event consumers (notifications, invoices) ask for them on every
// event, and payment routing on every methods list; without the cache
// each ask is a query.
//
// gen counts invalidations: a read started before one is not stored, so
// a slow read racing a change never puts the old list back.
type enabledCache struct {
	mu    sync.Mutex
	gen   uint64
	kinds map[Kind]enabledEntry
	// now is the wall clock, time.Now when nil: not the Service's clock,
	// which tests freeze while another instance changes the catalog.
	now func() time.Time
}

type enabledEntry struct {
	// rows are shared by every caller: read-only.
	rows []*row
	at   time.Time
}

// invalidate drops the cached lists now and again when the transaction
// carried by ctx commits: a list read between the change and its commit
// (still the old one) is dropped too.
func (c *enabledCache) invalidate(ctx context.Context) {
	c.drop()
	store.AfterCommit(ctx, c.drop)
}

func (c *enabledCache) drop() {
	c.mu.Lock()
	c.gen++
	c.kinds = nil
	c.mu.Unlock()
}

// enabledRows returns the enabled plugins of kind k, ordered by id, from
// the cache when it is fresh. A caller inside a transaction reads the
// database and caches nothing: the transaction may see its own
// uncommitted change of the catalog.
func (s *Service) enabledRows(ctx context.Context, k Kind) ([]*row, error) {
	if store.InTx(ctx) {
		return s.st.list(ctx, k, true)
	}
	c := &s.enabled
	c.mu.Lock()
	now := time.Now()
	if c.now != nil {
		now = c.now()
	}
	e, ok := c.kinds[k]
	gen := c.gen
	c.mu.Unlock()
	if ok && !now.Before(e.at) && now.Sub(e.at) < enabledCacheTTL {
		return e.rows, nil
	}
	rows, err := s.st.list(ctx, k, true)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.kinds == nil {
			c.kinds = map[Kind]enabledEntry{}
		}
		c.kinds[k] = enabledEntry{rows: rows, at: now}
	}
	c.mu.Unlock()
	return rows, nil
}

// enabledRow returns the plugin id's row: from the cached lists of
// enabled plugins when it is one (a gateway's payment page is asked on
// every checkout), else from the database, which tells a disabled plugin
// from a missing one.
func (s *Service) enabledRow(ctx context.Context, id string) (*row, error) {
	for _, k := range []Kind{KindPayment, KindNotify, KindInvoice} {
		rows, err := s.enabledRows(ctx, k)
		if err != nil {
			break
		}
		for _, r := range rows {
			if r.ID == id {
				return r, nil
			}
		}
	}
	return s.st.get(ctx, id)
}
