package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/store"
)

// HolderID returns an id for this process to claim work and hold leases
// under: host name, process id and a random suffix, so two instances
// never share one, nor does a restarted instance inherit the claims of
// its previous life.
func HolderID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "kassa"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// ClaimOptions say which rows a Claimer claims and for whom.
type ClaimOptions struct {
	// Table holds the work, e.g. "payment_attempts".
	Table string
	// Key is its primary key column; default "id". Claim returns keys as
	// strings (Kassa's ids are TEXT).
	Key string
	// HolderColumn and UntilColumn hold the claim: a nullable TEXT
	// column (default "claimed_by") and a nullable TIMESTAMP column
	// (default "claimed_until"). A row is free when UntilColumn is NULL or
	// in the past.
	HolderColumn, UntilColumn string
	// Holder identifies this instance (HolderID).
	Holder string
	// Lease is how long a claim lasts unless extended or released. Pick
	// it well above the time one batch takes: a claim that lapses while
	// its holder still works lets another instance do the job again.
	Lease time.Duration
	// Clock tells the time claims are measured against; nil means
	// clock.System. The application's clock, not the database's, so both
	// engines and tests agree.
	Clock clock.Clock
}

// Due selects the rows that are due, as SQL written in code (never input):
// a condition with bun "?" placeholders and its arguments, and an order.
type Due struct {
	// Where is the condition, e.g. "status = ? AND next_check_at <= ?".
	Where string
	// Args fill Where's placeholders in order.
	Args []any
	// OrderBy orders the candidates, most urgent first, e.g.
	// "next_check_at, id"; default the key.
	OrderBy string
}

// Claimer claims due rows of one table so that several kassa instances
// never work on the same row at once: each claim is one statement that
// marks at most n free, due rows as held by this instance until now plus
// the lease, and returns their keys.
//
// On PostgreSQL the candidates are chosen with FOR UPDATE SKIP LOCKED in a
// materialized CTE, so concurrent claimers take disjoint rows without
// waiting for each other (a plain "WHERE id IN (subquery LIMIT n)" may be
// re-evaluated by the planner and claim more than n rows). On SQLite,
// which has no row locks and runs one writer at a time, the statement is
// a conditional update whose WHERE clause repeats the freeness test: the
// second writer sees the first one's claims and skips them.
type Claimer struct {
	db  *store.DB
	opt ClaimOptions
}

// NewClaimer returns a claimer for opt.Table. It fails on a name that is
// not a plain identifier, an empty holder or a lease that is not positive.
func NewClaimer(db *store.DB, opt ClaimOptions) (*Claimer, error) {
	if opt.Key == "" {
		opt.Key = "id"
	}
	if opt.HolderColumn == "" {
		opt.HolderColumn = "claimed_by"
	}
	if opt.UntilColumn == "" {
		opt.UntilColumn = "claimed_until"
	}
	for _, n := range []string{opt.Table, opt.Key, opt.HolderColumn, opt.UntilColumn} {
		if !identifier.MatchString(n) {
			return nil, fmt.Errorf("worker: claim: %q is not a plain identifier", n)
		}
	}
	if opt.Holder == "" || opt.Lease <= 0 {
		return nil, fmt.Errorf("worker: claim %s: a holder and a positive lease are required", opt.Table)
	}
	if opt.Clock == nil {
		opt.Clock = clock.System
	}
	return &Claimer{db: db, opt: opt}, nil
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// now is the claim clock in UTC at microsecond precision, which both
// engines store unchanged.
func (c *Claimer) now() time.Time { return c.opt.Clock.Now().UTC().Truncate(time.Microsecond) }

// Claim marks up to limit free rows matching due as held by this instance
// and returns their keys. Call it outside a transaction: the claim must be
// committed, and so visible to other instances, before the work starts.
func (c *Claimer) Claim(ctx context.Context, due Due, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	if strings.TrimSpace(due.Where) == "" {
		return nil, fmt.Errorf("worker: claim %s: no due condition", c.opt.Table)
	}
	order := due.OrderBy
	if order == "" {
		order = c.opt.Key
	}
	now := c.now()
	tbl, key := bun.Ident(c.opt.Table), bun.Ident(c.opt.Key)
	holderCol, untilCol := bun.Ident(c.opt.HolderColumn), bun.Ident(c.opt.UntilColumn)

	var (
		q    strings.Builder
		args []any
	)
	add := func(sql string, a ...any) {
		q.WriteString(sql)
		args = append(args, a...)
	}
	if c.db.Dialect == store.Postgres {
		add("WITH claimable AS MATERIALIZED (SELECT ? FROM ? WHERE (", key, tbl)
		add(due.Where, due.Args...)
		add(") AND (? IS NULL OR ? < ?) ORDER BY "+order+" LIMIT ? FOR UPDATE SKIP LOCKED) ", untilCol, untilCol, now, limit)
		add("UPDATE ? SET ? = ?, ? = ? FROM claimable WHERE ?.? = claimable.? RETURNING ?.?",
			tbl, holderCol, c.opt.Holder, untilCol, now.Add(c.opt.Lease), tbl, key, key, tbl, key)
	} else {
		add("UPDATE ? SET ? = ?, ? = ? WHERE ? IN (SELECT ? FROM ? WHERE (",
			tbl, holderCol, c.opt.Holder, untilCol, now.Add(c.opt.Lease), key, key, tbl)
		add(due.Where, due.Args...)
		add(") AND (? IS NULL OR ? < ?) ORDER BY "+order+" LIMIT ?) ", untilCol, untilCol, now, limit)
		add("AND (? IS NULL OR ? < ?) RETURNING ?", untilCol, untilCol, now, key)
	}
	var ids []string
	if err := c.db.Conn(ctx).NewRaw(q.String(), args...).Scan(ctx, &ids); err != nil && !store.IsNoRows(err) {
		return nil, fmt.Errorf("worker: claim %s: %w", c.opt.Table, err)
	}
	return ids, nil
}

// Extend renews the claims this instance still holds among ids for
// another lease and returns their keys. A key missing from the answer was
// taken over by another instance after its claim lapsed: stop working on
// it.
func (c *Claimer) Extend(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var kept []string
	err := c.db.Conn(ctx).NewRaw("UPDATE ? SET ? = ? WHERE ? IN (?) AND ? = ? RETURNING ?",
		bun.Ident(c.opt.Table), bun.Ident(c.opt.UntilColumn), c.now().Add(c.opt.Lease),
		bun.Ident(c.opt.Key), bun.In(ids), bun.Ident(c.opt.HolderColumn), c.opt.Holder, bun.Ident(c.opt.Key),
	).Scan(ctx, &kept)
	if err != nil && !store.IsNoRows(err) {
		return nil, fmt.Errorf("worker: extend claims on %s: %w", c.opt.Table, err)
	}
	return kept, nil
}

// Release frees the claims this instance holds among ids, so the rows
// are due again at once (a job that failed and should be retried by
// anyone) rather than after the lease. Claims taken over by another
// instance are left alone. After finishing a job, the usual step is to
// update the row so it is no longer due and release it in the same
// transaction.
func (c *Claimer) Release(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := c.db.Conn(ctx).NewRaw("UPDATE ? SET ? = NULL, ? = NULL WHERE ? IN (?) AND ? = ?",
		bun.Ident(c.opt.Table), bun.Ident(c.opt.HolderColumn), bun.Ident(c.opt.UntilColumn),
		bun.Ident(c.opt.Key), bun.In(ids), bun.Ident(c.opt.HolderColumn), c.opt.Holder,
	).Exec(ctx)
	if err != nil {
		return fmt.Errorf("worker: release claims on %s: %w", c.opt.Table, err)
	}
	return nil
}
