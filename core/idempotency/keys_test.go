package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/worker"
	"github.com/kassahq/kassa/core/worker/workertest"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

func newKeys(t *testing.T, db *store.DB, c clock.Clock, batch int) *idempotency.Keys {
	t.Helper()
	k, err := idempotency.NewKeys(db, idempotency.Options{Clock: c, BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// counted returns work that counts its runs and answers result.
func counted(n *atomic.Int64, result string) func(context.Context) ([]byte, error) {
	return func(context.Context) ([]byte, error) {
		n.Add(1)
		return []byte(result), nil
	}
}

func keyCount(t *testing.T, db *store.DB) int64 {
	t.Helper()
	n, err := db.NewSelect().Table("idempotency_keys").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func code(err error) string {
	if all := errs.All(err); len(all) == 1 {
		return all[0].Code
	}
	return fmt.Sprint(err)
}

func TestNewKeysRefusesBadOptions(t *testing.T) {
	db := storetest.NewSQLite(t)
	for name, opts := range map[string]idempotency.Options{
		"negative ttl":   {TTL: -time.Second},
		"negative batch": {BatchSize: -1},
	} {
		if _, err := idempotency.NewKeys(db, opts); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if _, err := idempotency.NewKeys(nil, idempotency.Options{}); err == nil {
		t.Error("no database: want an error")
	}
}

func TestDoRepeats(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := newKeys(t, db, clock.NewFake(t0), 0)
		var runs atomic.Int64
		steps := []struct {
			name, scope, key, request, result string
			wantResult                        string
			wantRuns                          int64
			wantCode                          string
		}{
			{name: "first use runs", scope: "checkout", key: "k-1", request: "cart_a", result: "first", wantResult: "first", wantRuns: 1},
			{name: "repeat returns the first result", scope: "checkout", key: "k-1", request: "cart_a", result: "second", wantResult: "first", wantRuns: 1},
			{name: "another request is refused", scope: "checkout", key: "k-1", request: "cart_b", result: "third", wantCode: idempotency.CodeKeyReused, wantRuns: 1},
			{name: "refusal kept the first result", scope: "checkout", key: "k-1", request: "cart_a", result: "fourth", wantResult: "first", wantRuns: 1},
			{name: "another key runs", scope: "checkout", key: "k-2", request: "cart_a", result: "fifth", wantResult: "fifth", wantRuns: 2},
			{name: "another scope runs", scope: "order.bulk", key: "k-1", request: "cart_b", result: "sixth", wantResult: "sixth", wantRuns: 3},
			{name: "empty result", scope: "checkout", key: "k-3", request: "", result: "", wantResult: "", wantRuns: 4},
			{name: "empty result repeated", scope: "checkout", key: "k-3", request: "", result: "x", wantResult: "", wantRuns: 4},
		}
		for _, s := range steps {
			got, err := keys.Do(ctx, s.scope, s.key, []byte(s.request), counted(&runs, s.result))
			switch {
			case s.wantCode != "":
				if code(err) != s.wantCode || !errors.Is(err, errs.ErrConflict) {
					t.Fatalf("%s: err = %v, want %s (conflict)", s.name, err, s.wantCode)
				}
			case err != nil:
				t.Fatalf("%s: %v", s.name, err)
			case string(got) != s.wantResult || got == nil:
				t.Fatalf("%s: result %q, want %q", s.name, got, s.wantResult)
			}
			if runs.Load() != s.wantRuns {
				t.Fatalf("%s: work ran %d times, want %d", s.name, runs.Load(), s.wantRuns)
			}
		}
	})
}

func TestDoConcurrentDuplicates(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		keys := newKeys(t, db, nil, 0)
		var runs atomic.Int64
		work := func(ctx context.Context) ([]byte, error) {
			n := runs.Add(1)
			// Hold the key long enough for the others to arrive.
			time.Sleep(50 * time.Millisecond)
			return []byte(fmt.Sprintf("result of run %d", n)), nil
		}
		const callers = 20
		var wg sync.WaitGroup
		results := make([]string, callers)
		errors := make([]error, callers)
		start := make(chan struct{})
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := keys.Do(context.Background(), "checkout", "same-key", []byte("cart_a"), work)
				results[i], errors[i] = string(res), err
			}()
		}
		close(start)
		wg.Wait()
		for i := range callers {
			if errors[i] != nil {
				t.Fatalf("caller %d: %v", i, errors[i])
			}
			if results[i] != "result of run 1" {
				t.Errorf("caller %d got %q, want the first run's result", i, results[i])
			}
		}
		if runs.Load() != 1 {
			t.Fatalf("work ran %d times, want once", runs.Load())
		}
	})
}

func TestDoKeepsNothingWhenTheWorkFails(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := newKeys(t, db, clock.NewFake(t0), 0)
		boom := errors.New("out of stock")
		var runs atomic.Int64

		// Work that fails: the error comes back, no key is kept.
		_, err := keys.Do(ctx, "checkout", "k", []byte("cart_a"), func(context.Context) ([]byte, error) {
			runs.Add(1)
			return nil, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the work's error", err)
		}
		if n := keyCount(t, db); n != 0 {
			t.Fatalf("%d keys kept after failed work, want 0", n)
		}

		// The caller's transaction rolls back after the work succeeded:
		// the key goes with it.
		txErr := errors.New("caller failed later")
		err = db.RunInTx(ctx, func(ctx context.Context) error {
			_, err := keys.Do(ctx, "checkout", "k", []byte("cart_a"), func(ctx context.Context) ([]byte, error) {
				runs.Add(1)
				// The same key again while its work runs is in use.
				if _, err := keys.Do(ctx, "checkout", "k", []byte("cart_a"), counted(&runs, "nested")); code(err) != idempotency.CodeKeyInUse {
					t.Errorf("nested use: err = %v, want %s", err, idempotency.CodeKeyInUse)
				}
				return []byte("inner"), nil
			})
			if err != nil {
				return err
			}
			// Once the work is done, the same transaction reads its result.
			if got, err := keys.Do(ctx, "checkout", "k", []byte("cart_a"), counted(&runs, "again")); err != nil || string(got) != "inner" {
				t.Errorf("repeat in the same transaction: %q, %v; want the stored result", got, err)
			}
			return txErr
		})
		if !errors.Is(err, txErr) {
			t.Fatalf("err = %v", err)
		}
		if n := keyCount(t, db); n != 0 {
			t.Fatalf("%d keys kept after the caller rolled back, want 0", n)
		}

		// A retry runs the work again.
		got, err := keys.Do(ctx, "checkout", "k", []byte("cart_a"), counted(&runs, "retried"))
		if err != nil || string(got) != "retried" {
			t.Fatalf("retry: %q, %v", got, err)
		}
		if runs.Load() != 3 {
			t.Fatalf("work ran %d times, want 3 (failed, rolled back, retried)", runs.Load())
		}
	})
}

func TestDoRefusesInvalidKeys(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		keys := newKeys(t, db, clock.NewFake(t0), 0)
		cases := []struct {
			name  string
			key   string
			valid bool
		}{
			{"empty", "", false},
			{"too long", strings.Repeat("a", idempotency.MaxKeyLength+1), false},
			{"longest", strings.Repeat("a", idempotency.MaxKeyLength), true},
			{"newline", "abc\n", false},
			{"tab", "a\tb", false},
			{"delete", "a\x7f", false},
			{"non-ASCII", "clé", false},
			{"uuid", "3f8e1a52-6c1b-4b8e-9f3e-2a1d6c5b7e90", true},
			{"printable punctuation", " !~{}", true},
		}
		for _, c := range cases {
			var ran bool
			_, err := keys.Do(context.Background(), "checkout", c.key, nil, func(context.Context) ([]byte, error) {
				ran = true
				return nil, nil
			})
			if c.valid {
				if err != nil || !ran {
					t.Errorf("%s: err = %v, ran = %v; want it accepted", c.name, err, ran)
				}
				continue
			}
			all := errs.All(err)
			if len(all) != 1 || all[0].Code != idempotency.CodeInvalidKey || !errors.Is(err, errs.ErrInvalid) ||
				strings.Join(all[0].Field, ".") != "idempotencyKey" || ran {
				t.Errorf("%s: err = %v, ran = %v; want %s on idempotencyKey without running", c.name, err, ran, idempotency.CodeInvalidKey)
			}
		}
		if n := keyCount(t, db); n != 3 {
			t.Errorf("%d keys stored, want the 3 valid ones", n)
		}
		if _, err := keys.Do(context.Background(), "", "k", nil, counted(new(atomic.Int64), "")); err == nil {
			t.Error("empty scope: want an error")
		}
	})
}

func TestExpiry(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		// A batch of 2 makes DeleteExpired loop.
		keys := newKeys(t, db, clk, 2)
		var runs atomic.Int64
		use := func(key string) {
			t.Helper()
			if _, err := keys.Do(ctx, "checkout", key, []byte("r"), counted(&runs, key)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 5 {
			use(fmt.Sprintf("old-%d", i))
		}
		clk.Advance(time.Hour)
		use("new-0")
		use("new-1")

		// Just before the old keys expire nothing goes.
		clk.Set(t0.Add(idempotency.DefaultTTL - time.Second))
		if err := keys.DeleteExpired(ctx); err != nil {
			t.Fatal(err)
		}
		if n := keyCount(t, db); n != 7 {
			t.Fatalf("%d keys before expiry, want 7", n)
		}

		// An expired key not deleted yet is a new key: the work runs.
		clk.Set(t0.Add(idempotency.DefaultTTL))
		got, err := keys.Do(ctx, "checkout", "old-0", []byte("another request"), counted(&runs, "fresh"))
		if err != nil || string(got) != "fresh" {
			t.Fatalf("reuse of an expired key: %q, %v", got, err)
		}

		if err := keys.DeleteExpired(ctx); err != nil {
			t.Fatal(err)
		}
		var left []string
		if err := db.NewSelect().Table("idempotency_keys").Column("idem_key").OrderExpr("idem_key").Scan(ctx, &left); err != nil {
			t.Fatal(err)
		}
		if want := "new-0 new-1 old-0"; strings.Join(left, " ") != want {
			t.Fatalf("keys left %v, want %s (the 4 expired old ones deleted, the renewed one kept)", left, want)
		}
	})
}

// TestExpiryWorker runs DeleteExpired as the Periodic worker core/app
// builds from it.
func TestExpiryWorker(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		clk := workertest.NewClock(t0)
		keys := newKeys(t, db, clk, 0)
		if _, err := keys.Do(context.Background(), "checkout", "k", nil, counted(new(atomic.Int64), "r")); err != nil {
			t.Fatal(err)
		}
		p, err := worker.NewPeriodic("idempotency.expiry", keys.DeleteExpired, worker.PeriodicOptions{Interval: time.Hour, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Stop(context.Background()) })
		for hour := 1; hour <= 24; hour++ {
			clk.WaitTimers(1)
			if n := keyCount(t, db); n != 1 {
				t.Fatalf("after %d h: %d keys, want 1", hour-1, n)
			}
			clk.Advance(time.Hour)
		}
		deadline := time.Now().Add(10 * time.Second)
		for keyCount(t, db) != 0 {
			if time.Now().After(deadline) {
				t.Fatal("the worker did not delete the expired key")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestDoAnswered: the answer stored with the claim is what every repeat
// gets, concurrent duplicates included, and the work runs once; work that
// fails keeps neither the key nor its answer, so the next call runs and
// stores its own.
func TestDoAnswered(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		keys := newKeys(t, db, nil, 0)
		ctx := context.Background()
		boom := errors.New("boom")
		if _, ran, err := keys.DoAnswered(ctx, "checkout", "k-fail", []byte("cart_a"), []byte("lost"),
			func(context.Context) error { return boom }); !errors.Is(err, boom) || ran {
			t.Fatalf("failing work: ran %v, err %v", ran, err)
		}
		if n := keyCount(t, db); n != 0 {
			t.Fatalf("%d keys kept after the work failed", n)
		}
		var runs atomic.Int64
		const callers = 20
		var wg sync.WaitGroup
		results := make([]string, callers)
		ran := make([]bool, callers)
		failures := make([]error, callers)
		start := make(chan struct{})
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				answer := fmt.Sprintf("answer of caller %d", i)
				var res []byte
				res, ran[i], failures[i] = keys.DoAnswered(ctx, "checkout", "k-fail", []byte("cart_a"), []byte(answer), func(context.Context) error {
					runs.Add(1)
					time.Sleep(50 * time.Millisecond) // the others arrive meanwhile
					return nil
				})
				results[i] = string(res)
			}()
		}
		close(start)
		wg.Wait()
		first := -1
		for i := range callers {
			if failures[i] != nil {
				t.Fatalf("caller %d: %v", i, failures[i])
			}
			if ran[i] {
				first = i
			}
		}
		if runs.Load() != 1 || first < 0 {
			t.Fatalf("work ran %d times, want once", runs.Load())
		}
		want := fmt.Sprintf("answer of caller %d", first)
		for i := range callers {
			if results[i] != want || (ran[i] != (i == first)) {
				t.Errorf("caller %d got %q (ran %v), want %q", i, results[i], ran[i], want)
			}
		}
		// Do reads the answer back as its own result, and refuses
		// another request with the key.
		if got, err := keys.Do(ctx, "checkout", "k-fail", []byte("cart_a"), counted(&runs, "x")); err != nil || string(got) != want {
			t.Fatalf("Do after DoAnswered: %q, %v", got, err)
		}
		if _, _, err := keys.DoAnswered(ctx, "checkout", "k-fail", []byte("cart_b"), []byte("y"),
			func(context.Context) error { return nil }); code(err) != idempotency.CodeKeyReused {
			t.Fatalf("another request: %v, want %s", err, idempotency.CodeKeyReused)
		}
		if runs.Load() != 1 {
			t.Fatalf("work ran %d times, want once", runs.Load())
		}
	})
}

// TestLookup: Lookup answers what Do would do with the key, and writes
// nothing: free, a replay, refused for another request or an invalid key,
// free again once the key expired.
func TestLookup(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		keys := newKeys(t, db, clk, 0)
		lookup := func(key, request string) string {
			t.Helper()
			replay, err := keys.Lookup(ctx, "bulk", key, []byte(request))
			switch {
			case err != nil:
				return code(err)
			case replay:
				return "replay"
			}
			return "free"
		}
		if got := lookup("k1", "cancel 1"); got != "free" || keyCount(t, db) != 0 {
			t.Fatalf("an unused key: %s, %d rows; want free and nothing written", got, keyCount(t, db))
		}
		var runs atomic.Int64
		if _, err := keys.Do(ctx, "bulk", "k1", []byte("cancel 1"), counted(&runs, "done")); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ key, request, want string }{
			{"k1", "cancel 1", "replay"},
			{"k1", "note 1", idempotency.CodeKeyReused},
			{"", "cancel 1", idempotency.CodeInvalidKey},
			{"k2", "cancel 1", "free"},
		} {
			if got := lookup(c.key, c.request); got != c.want {
				t.Errorf("Lookup(%q, %q) = %s, want %s", c.key, c.request, got, c.want)
			}
		}
		if _, err := keys.Lookup(ctx, "no scope/", "k1", nil); err == nil {
			t.Error("an invalid scope was looked up")
		}
		clk.Advance(idempotency.DefaultTTL + time.Second)
		if got := lookup("k1", "note 1"); got != "free" {
			t.Errorf("an expired key for another request: %s, want free", got)
		}
		if runs.Load() != 1 || keyCount(t, db) != 1 {
			t.Errorf("%d runs, %d rows; Lookup ran or wrote something", runs.Load(), keyCount(t, db))
		}
	})
}
