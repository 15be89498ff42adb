package worker_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/worker"
)

// forEachPair runs fn on each database with two handles on it: two kassa
// instances sharing one database.
func forEachPair(t *testing.T, fn func(t *testing.T, a, b *store.DB)) {
	t.Helper()
	open := func(t *testing.T, url string) *store.DB {
		t.Helper()
		db, err := store.Open(context.Background(), url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kassa.db")
		a := storetest.Migrated(t, open(t, path))
		fn(t, a, open(t, path))
	})
	t.Run("postgres", func(t *testing.T) {
		a := storetest.NewPostgres(t)
		fn(t, a, open(t, storetest.DSNOf(t, a)))
	})
}

// jobs creates a work table with due rows and rows that are not due, and
// returns the ids of the due ones.
func jobs(t *testing.T, db *store.DB, due, notDue int) []string {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE jobs (
		id TEXT PRIMARY KEY, status TEXT NOT NULL, due_at TIMESTAMP NOT NULL,
		claimed_by TEXT, claimed_until TIMESTAMP)`); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < due+notDue; i++ {
		id, status, at := fmt.Sprintf("job_%03d", i), "pending", t0.Add(-time.Duration(i)*time.Second)
		switch {
		case i >= due && i%2 == 0:
			status = "done"
		case i >= due:
			at = t0.Add(time.Hour)
		default:
			ids = append(ids, id)
		}
		if _, err := db.NewRaw("INSERT INTO jobs (id, status, due_at) VALUES (?, ?, ?)", id, status, at).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

var dueJobs = worker.Due{Where: "status = ? AND due_at <= ?", Args: []any{"pending", t0}, OrderBy: "due_at, id"}

func claimer(t *testing.T, db *store.DB, holder string, clk clock.Clock) *worker.Claimer {
	t.Helper()
	c, err := worker.NewClaimer(db, worker.ClaimOptions{Table: "jobs", Holder: holder, Lease: time.Minute, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClaimConcurrently: four claimers, two on each of two handles, take
// batches of 7 from 100 due rows at once until nothing is left. No row is
// claimed twice, every due row is claimed, no row that is not due is.
func TestClaimConcurrently(t *testing.T) {
	forEachPair(t, func(t *testing.T, a, b *store.DB) {
		want := jobs(t, a, 100, 20)
		clk := clock.NewFake(t0)
		claimers := []*worker.Claimer{
			claimer(t, a, "a1", clk), claimer(t, b, "b1", clk), claimer(t, a, "a2", clk), claimer(t, b, "b2", clk),
		}
		var (
			start = make(chan struct{})
			wg    sync.WaitGroup
			got   = make([][]string, len(claimers))
			errc  = make([]error, len(claimers))
		)
		for i, c := range claimers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for {
					ids, err := c.Claim(context.Background(), dueJobs, 7)
					if err != nil {
						errc[i] = err
						return
					}
					if len(ids) > 7 {
						errc[i] = fmt.Errorf("claimed %d rows with a limit of 7", len(ids))
						return
					}
					if len(ids) == 0 {
						return
					}
					got[i] = append(got[i], ids...)
				}
			}()
		}
		close(start)
		wg.Wait()
		seen := map[string]string{}
		var all []string
		for i, ids := range got {
			if errc[i] != nil {
				t.Fatalf("claimer %d: %v", i, errc[i])
			}
			for _, id := range ids {
				if prev, dup := seen[id]; dup {
					t.Fatalf("%s claimed by %s and by claimer %d", id, prev, i)
				}
				seen[id] = fmt.Sprint(i)
				all = append(all, id)
			}
		}
		sort.Strings(all)
		sort.Strings(want)
		if diff := cmp.Diff(want, all); diff != "" {
			t.Fatalf("claimed rows (-due +claimed):\n%s", diff)
		}
		// The database agrees with what each claimer was told.
		holders := []string{"a1", "b1", "a2", "b2"}
		for i, ids := range got {
			for _, id := range ids {
				var by string
				if err := a.NewRaw("SELECT claimed_by FROM jobs WHERE id = ?", id).Scan(context.Background(), &by); err != nil {
					t.Fatal(err)
				}
				if by != holders[i] {
					t.Fatalf("%s is held by %s in the database, returned to %s", id, by, holders[i])
				}
			}
		}
	})
}

// TestClaimLapses: a claim keeps a row from others until its lease ends;
// then another instance takes it over, and the first can no longer extend
// it. Release makes rows claimable at once.
func TestClaimLapses(t *testing.T) {
	forEachPair(t, func(t *testing.T, a, b *store.DB) {
		ctx := context.Background()
		due := jobs(t, a, 5, 4)
		clk := clock.NewFake(t0)
		ca, cb := claimer(t, a, "a", clk), claimer(t, b, "b", clk)

		first, err := ca.Claim(ctx, dueJobs, 10)
		if err != nil {
			t.Fatal(err)
		}
		// Oldest due_at first: job_004 is the most overdue.
		if diff := cmp.Diff([]string{"job_000", "job_001", "job_002", "job_003", "job_004"}, sorted(first)); diff != "" {
			t.Fatalf("first claim (-want +got):\n%s", diff)
		}
		claimNone := func(when string) {
			t.Helper()
			if got, err := cb.Claim(ctx, dueJobs, 10); err != nil || len(got) != 0 {
				t.Fatalf("%s: b claimed %v (%v), want nothing", when, got, err)
			}
		}
		claimNone("while a's claims last")
		clk.Advance(59 * time.Second)
		if kept, err := ca.Extend(ctx, first[:2]); err != nil || len(kept) != 2 {
			t.Fatalf("a extends two live claims: kept %v, %v", kept, err)
		}
		clk.Advance(2 * time.Second) // 61s: three claims lapsed, two extended to 1m59s
		taken, err := cb.Claim(ctx, dueJobs, 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sorted(first[2:]), sorted(taken)); diff != "" {
			t.Fatalf("b takes over the lapsed claims (-want +got):\n%s", diff)
		}
		if kept, err := ca.Extend(ctx, first); err != nil || !cmp.Equal(sorted(kept), sorted(first[:2])) {
			t.Fatalf("a extends all five: kept %v (%v), want only its two", kept, err)
		}
		// a releases all five: only its two are freed, and b may take them
		// at once; b's three stay b's.
		if err := ca.Release(ctx, first); err != nil {
			t.Fatal(err)
		}
		freed, err := cb.Claim(ctx, dueJobs, 10)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sorted(first[:2]), sorted(freed)); diff != "" {
			t.Fatalf("released rows are claimable at once (-want +got):\n%s", diff)
		}
		claimNone("everything held by b")
		if got, err := ca.Claim(ctx, dueJobs, 10); err != nil || len(got) != 0 {
			t.Fatalf("a claimed %v (%v) while b holds everything", got, err)
		}
		if len(due) != 5 {
			t.Fatalf("fixture has %d due rows, want 5", len(due))
		}
	})
}

func sorted(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}

func TestNewClaimerChecksItsInputs(t *testing.T) {
	t.Parallel()
	db := storetest.NewSQLite(t)
	for name, opt := range map[string]worker.ClaimOptions{
		"injected table": {Table: "jobs; DROP TABLE jobs", Holder: "a", Lease: time.Minute},
		"no holder":      {Table: "jobs", Lease: time.Minute},
		"no lease":       {Table: "jobs", Holder: "a"},
	} {
		if _, err := worker.NewClaimer(db, opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestLease: one holder at a time; renewal keeps it; another takes over
// only after it lapsed; release hands it over at once.
func TestLease(t *testing.T) {
	forEachPair(t, func(t *testing.T, a, b *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		lease := func(db *store.DB, holder string) *worker.Lease {
			l, err := worker.NewLease(db, worker.LeaseOptions{Name: "payment.reconciler", Holder: holder, TTL: 30 * time.Second, Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		la, lb := lease(a, "a"), lease(b, "b")
		acquire := func(l *worker.Lease, want bool, when string) {
			t.Helper()
			got, err := l.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("%s: Acquire = %v, want %v", when, got, want)
			}
		}
		holder := func(want string) {
			t.Helper()
			h, _, err := lb.Holder(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if h != want {
				t.Fatalf("holder %q, want %q", h, want)
			}
		}
		holder("")
		acquire(la, true, "free")
		acquire(lb, false, "held by a")
		holder("a")
		clk.Advance(20 * time.Second)
		acquire(la, true, "a renews")
		clk.Advance(20 * time.Second) // 40s: lapsed without the renewal
		acquire(lb, false, "renewed by a")
		clk.Advance(11 * time.Second) // 31s after the renewal
		holder("")
		acquire(lb, true, "lapsed")
		acquire(la, false, "taken over by b")
		holder("b")

		var acquired time.Time
		if err := a.NewRaw("SELECT acquired_at FROM worker_leases WHERE name = ?", "payment.reconciler").Scan(ctx, &acquired); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		acquire(lb, true, "b renews")
		var after time.Time
		if err := a.NewRaw("SELECT acquired_at FROM worker_leases WHERE name = ?", "payment.reconciler").Scan(ctx, &after); err != nil {
			t.Fatal(err)
		}
		if !after.Equal(acquired) || !acquired.Equal(t0.Add(51*time.Second)) {
			t.Fatalf("acquired_at %v then %v, want the takeover time %v kept on renewal", acquired, after, t0.Add(51*time.Second))
		}

		if err := la.Release(ctx); err != nil {
			t.Fatal(err)
		}
		holder("b") // a cannot release b's lease
		if err := lb.Release(ctx); err != nil {
			t.Fatal(err)
		}
		acquire(la, true, "released by b")

		// Guard runs the round only where the lease is held.
		var ran []string
		round := func(name string) func(context.Context) error {
			return func(context.Context) error { ran = append(ran, name); return nil }
		}
		if err := la.Guard(round("a"))(ctx); err != nil {
			t.Fatal(err)
		}
		if err := lb.Guard(round("b"))(ctx); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"a"}, ran); diff != "" {
			t.Fatalf("guarded rounds (-want +got):\n%s", diff)
		}
	})
}

// TestLeaseRace: instances on two handles ask for a free lease at once;
// exactly one gets it.
func TestLeaseRace(t *testing.T) {
	forEachPair(t, func(t *testing.T, a, b *store.DB) {
		clk := clock.NewFake(t0)
		for round := 0; round < 5; round++ {
			name := fmt.Sprintf("job.%d", round)
			var (
				start = make(chan struct{})
				wg    sync.WaitGroup
				won   = make([]bool, 6)
				errc  = make([]error, 6)
			)
			for i := range won {
				db := a
				if i%2 == 1 {
					db = b
				}
				l, err := worker.NewLease(db, worker.LeaseOptions{Name: name, Holder: fmt.Sprintf("h%d", i), TTL: time.Minute, Clock: clk})
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					won[i], errc[i] = l.Acquire(context.Background())
				}()
			}
			close(start)
			wg.Wait()
			n := 0
			for i := range won {
				if errc[i] != nil {
					t.Fatalf("round %d, holder %d: %v", round, i, errc[i])
				}
				if won[i] {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("round %d: %d holders got the lease, want 1 (%v)", round, n, won)
			}
		}
	})
}
