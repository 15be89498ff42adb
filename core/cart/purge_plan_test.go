package cart

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestPurgeReadsItsIndex: on both engines, each kind's purge statement
// can read that kind's partial index, which it repeats the condition of
// (SQLite uses a partial index only then), and PostgreSQL finds the carts
// it deletes by their primary key. PostgreSQL is asked with sequential
// scans priced out, as an empty table would otherwise be read whole;
// TestPurgeAtScale checks the plans it picks on its own at scale.
func TestPurgeReadsItsIndex(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Now().UTC()
		for _, kind := range purgeKinds {
			var plan []string
			err := db.RunInTx(ctx, func(ctx context.Context) error {
				explain := "EXPLAIN QUERY PLAN "
				if db.Dialect == store.Postgres {
					explain = "EXPLAIN "
					if _, err := db.Conn(ctx).ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
						return err
					}
				}
				rows, err := db.Conn(ctx).QueryContext(ctx, db.Conn(ctx).NewRaw(explain+purgeStatement(db.Dialect, kind.where), at, DefaultPurgeBatch).String())
				if err != nil {
					return err
				}
				defer rows.Close()
				cols, err := rows.Columns()
				if err != nil {
					return err
				}
				for rows.Next() {
					vals := make([]any, len(cols))
					for i := range vals {
						vals[i] = new(any)
					}
					if err := rows.Scan(vals...); err != nil {
						return err
					}
					plan = append(plan, fmt.Sprint(*vals[len(vals)-1].(*any)))
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			if !strings.Contains(text, "carts_"+kind.name+"_touched") {
				t.Errorf("%s: the purge does not read carts_%s_touched:\n%s", kind.name, kind.name, text)
			}
			if db.Dialect == store.Postgres && !strings.Contains(text, "carts_pkey") {
				t.Errorf("%s: the purge does not find its carts by their key:\n%s", kind.name, text)
			}
		}
	})
}

// cartRowsEnv names the number of carts TestPurgeAtScale fills
// PostgreSQL with; unset, the test is skipped (a million carts and two
// million lines take a few minutes to write).
const cartRowsEnv = "KASSA_TEST_CART_ROWS"

// TestPurgeAtScale fills a PostgreSQL schema with many carts (say
// KASSA_TEST_CART_ROWS=1000000), two lines each: 70 % guests' open carts
// last changed over the past 20 days, 20 % buyers' over the past 60 days,
// 10 % completed over the past 3 days, so that about half of them have
// expired. For each kind it checks that the purge statement reads the
// kind's index (no plan scans carts), times batches of DefaultPurgeBatch
// carts (their lines deleted with them) and the statement of a round
// that finds nothing, then times a whole Purge round. BENCHMARKS.md,
// "Cart purge", records its output.
func TestPurgeAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(cartRowsEnv))
	if n <= 0 {
		t.Skipf("%s not set", cartRowsEnv)
	}
	db := storetest.NewPostgres(t)
	ctx := context.Background()
	cat := catalogtest.NewService(db)
	p, err := cat.CreateProduct(catalogtest.Staff(), catalog.CreateProductInput{Title: "Tea", Status: catalog.StatusActive,
		Options:  []catalog.Option{{Name: "Size", Values: []string{"S", "L"}}},
		Variants: []catalog.VariantInput{{SKU: "S", SelectedOptions: []catalog.SelectedOption{{Name: "Size", Value: "S"}}}, {SKU: "L", SelectedOptions: []catalog.SelectedOption{{Name: "Size", Value: "L"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := cat.VariantsByProductIDs(catalogtest.Staff(), []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	begin := time.Now()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO customers (id, email, created_at, updated_at)
		  SELECT 'cus_' || i, 'c' || i || '@example.com', now(), now() FROM generate_series(1, ?) i`, []any{n/5 + 2}},
		// i % 10: 0 to 6 a guest's open cart, 7 and 8 a buyer's (one
		// customer each), 9 a completed guest cart.
		{`INSERT INTO carts (id, token_hash, customer_id, currency, order_id, completed_at, created_at, updated_at, touched_at)
		  SELECT 'cart_' || lpad(i::text, 10, '0'), CASE WHEN k IN (7, 8) THEN NULL ELSE md5(i::text) END,
		    CASE WHEN k IN (7, 8) THEN 'cus_' || ((i / 10) * 2 + k - 6) END, 'CNY',
		    CASE WHEN k = 9 THEN 'ord_' || i ELSE '' END, CASE WHEN k = 9 THEN ts END, ts, ts, ts
		  FROM (SELECT i, i % 10 AS k, CAST(? AS TIMESTAMP) - ((i::bigint * 7919) % CASE i % 10 WHEN 9 THEN 3 WHEN 7 THEN 60 WHEN 8 THEN 60 ELSE 20 END * 86400 + i % 86400) * interval '1 second' AS ts
		        FROM generate_series(1, ?) i) g`, []any{now, n}},
		{`INSERT INTO cart_lines (id, cart_id, variant_id, quantity, created_at)
		  SELECT 'cln_' || c.id || '_' || v.n, c.id, v.id, 1, c.created_at FROM carts c CROSS JOIN (VALUES (1, ?), (2, ?)) AS v(n, id)`,
			[]any{vs[p.ID][0].ID, vs[p.ID][1].ID}},
		{`ANALYZE carts`, nil},
		{`ANALYZE cart_lines`, nil},
	} {
		if _, err := db.NewRaw(q.sql, q.args...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d carts with 2 lines each written in %s", n, time.Since(begin).Round(time.Second))

	life := lifetimes{guest: DefaultGuestLifetime, buyer: DefaultBuyerLifetime, retired: 24 * time.Hour}
	st := newCartStore(db, life)
	at := life.at(now)
	execTime := regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)
	for _, kind := range purgeKinds {
		// The plan of one batch, in a transaction rolled back.
		var plan []string
		err := db.RunInTx(ctx, func(ctx context.Context) error {
			if err := db.Conn(ctx).NewRaw("EXPLAIN (ANALYZE, BUFFERS) "+purgeStatement(store.Postgres, kind.where),
				kind.cutoff(at), DefaultPurgeBatch).Scan(ctx, &plan); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if strings.Contains(text, "Seq Scan on carts") || !strings.Contains(text, "carts_"+kind.name+"_touched") {
			t.Errorf("%s: the purge does not read carts_%s_touched:\n%s", kind.name, kind.name, text)
		}
		ms := "?"
		if m := execTime.FindStringSubmatch(text); m != nil {
			ms = m[1]
		}
		t.Logf("%s, one batch explained: %s ms\n%s", kind.name, ms, text)

		// Batches as Purge runs them, each committed.
		var took []time.Duration
		for range 20 {
			start := time.Now()
			got, err := st.DeleteExpired(ctx, kind.where, kind.cutoff(at), DefaultPurgeBatch)
			if err != nil {
				t.Fatal(err)
			}
			took = append(took, time.Since(start))
			if got < DefaultPurgeBatch {
				break
			}
		}
		// The statement of a round that finds nothing more to delete.
		var idle []time.Duration
		for range 20 {
			start := time.Now()
			if _, err := st.DeleteExpired(ctx, kind.where, now.Add(-365*24*time.Hour), DefaultPurgeBatch); err != nil {
				t.Fatal(err)
			}
			idle = append(idle, time.Since(start))
		}
		t.Logf("%s: batch of %d carts and their lines: median %s, slowest %s over %d batches; a round's statement that finds none: median %s",
			kind.name, DefaultPurgeBatch, median(took), slices.Max(took), len(took), median(idle))
	}

	svc := &Service{db: db, store: st, clock: clock.NewFake(now), life: life, purgeBatch: DefaultPurgeBatch}
	start := time.Now()
	purged, err := svc.Purge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	var left, lines int
	if err := db.NewRaw("SELECT (SELECT count(*) FROM carts), (SELECT count(*) FROM cart_lines)").Scan(ctx, &left, &lines); err != nil {
		t.Fatal(err)
	}
	t.Logf("a whole round: %d carts purged in %s (%.0f carts/s); %d carts and %d lines left", purged, took.Round(time.Millisecond),
		float64(purged)/took.Seconds(), left, lines)
	if lines != 2*left {
		t.Errorf("%d lines left for %d carts: the purged carts' lines stayed", lines, left)
	}
}

// errRollback rolls a transaction back on purpose.
var errRollback = errors.New("roll back")

// median returns the median of ds.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
