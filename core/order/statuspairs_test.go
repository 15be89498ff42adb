package order

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestListStatusPairsReadTheirIndex: the staff list filtered on two
// status dimensions reads that pair's index (migration 0021), on both
// engines and sorted either way. With only one index per status, an
// empty pair (cancelled and paid: money to send back) read every
// cancelled order before answering that there are none, and sorted by
// total read the whole table (BENCHMARKS.md, Status pairs).
func TestListStatusPairsReadTheirIndex(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		seedStatusMix(t, db, 20000)
		st := newOrderStore(db)
		tests := []struct {
			name  string
			q     listQuery
			index string
		}{
			{"cancelled and paid (none)", listQuery{status: Cancelled, payment: PaymentPaid}, "orders_status_payment_created"},
			{"completed and unpaid (none)", listQuery{status: Completed, payment: PaymentPending}, "orders_status_payment_created"},
			{"unpaid and delivered (none)", listQuery{payment: PaymentPending, fulfillment: Delivered}, "orders_payment_fulfillment_created"},
			{"paid and unfulfilled", listQuery{payment: PaymentPaid, fulfillment: Unfulfilled}, "orders_payment_fulfillment_created"},
			{"cancelled and delivered (none)", listQuery{status: Cancelled, fulfillment: Delivered}, "orders_fulfillment_status_created"},
			// Three statuses: any pair's index, the third filtered from its rows.
			{"cancelled, paid and unfulfilled (none)", listQuery{status: Cancelled, payment: PaymentPaid, fulfillment: Unfulfilled}, ""},
			{"cancelled and paid, by total", listQuery{status: Cancelled, payment: PaymentPaid, sortKey: SortTotal}, "orders_status_payment_created"},
			{"cancelled and paid, page after", listQuery{status: Cancelled, payment: PaymentPaid,
				after: &page.Cursor{ID: "ord_0000010000", Key: "2024-01-03T11:20:00Z"}}, "orders_status_payment_created"},
		}
		for _, tc := range tests {
			for what, text := range staffListStatements(t, st, tc.q) {
				plan := explain(t, db, text)
				want := []string{tc.index}
				if tc.index == "" {
					want = []string{"orders_status_payment_created", "orders_payment_fulfillment_created", "orders_fulfillment_status_created"}
				}
				if !slices.ContainsFunc(want, func(index string) bool { return strings.Contains(plan, index+" ") }) {
					t.Errorf("%s%s: the plan does not read %s:\n%s", tc.name, what, strings.Join(want, " or "), plan)
				}
			}
		}
	})
}

// seedStatusMix writes n orders in one statement, with statuses that go
// together as in a real shop: 5 % cancelled (unpaid), 70 % completed
// (paid and delivered), the rest open (paid, unfulfilled or shipped; a
// few unpaid). Some pairs therefore never occur.
func seedStatusMix(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ts := "datetime('2024-01-01', '+' || (i * 30) || ' seconds')"
	if db.Dialect == store.Postgres {
		ts = "timestamp '2024-01-01' + i * interval '30 seconds'"
	}
	q := `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
		INSERT INTO orders (id, seq, number, email, email_local, currency, status, payment_status, fulfillment_status,
		  shipping_address, billing_address, subtotal_amount, total_amount, payment_method, payment_deadline, remind_at,
		  cart_id, access_token_hash, created_at, updated_at)
		SELECT 'ord_' || substr('0000000000' || i, -10, 10), 1000 + i, '#' || (1000 + i),
		  'user' || (i % 5000) || '@example.com', 'user' || (i % 5000), 'CNY',
		  CASE WHEN i % 20 = 0 THEN 'CANCELLED' WHEN i % 20 < 15 THEN 'COMPLETED' ELSE 'OPEN' END,
		  CASE WHEN i % 20 = 0 OR i % 20 = 19 THEN 'PENDING' ELSE 'PAID' END,
		  CASE WHEN i % 20 = 0 OR i % 20 >= 17 THEN 'UNFULFILLED' WHEN i % 20 < 15 THEN 'DELIVERED' ELSE 'FULFILLED' END,
		  '{}', '{}', (i * 7919) % 100000, (i * 7919) % 100000, 'payment.stripe', ` + ts + `, ` + ts + `,
		  'cart_' || i, md5_or_id, ` + ts + `, ` + ts + ` FROM g`
	// SQLite has no md5(); the token only has to be unique.
	q = strings.Replace(q, "md5_or_id", "'tok_' || i", 1)
	if db.Dialect == store.Postgres {
		q = strings.Replace(q, "substr('0000000000' || i, -10, 10)", "lpad(i::text, 10, '0')", 1)
	}
	ctx := context.Background()
	if _, err := db.NewRaw(q, n).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if db.Dialect == store.Postgres {
		if _, err := db.ExecContext(ctx, "ANALYZE orders"); err != nil {
			t.Fatal(err)
		}
	}
}

// explain returns the plan of the statement text on db's engine, one
// line per step: PostgreSQL's EXPLAIN ANALYZE, SQLite's EXPLAIN QUERY
// PLAN.
func explain(t *testing.T, db *store.DB, text string) string {
	t.Helper()
	ctx := context.Background()
	if db.Dialect == store.Postgres {
		var plan []string
		if err := db.NewRaw("EXPLAIN ANALYZE "+text).Scan(ctx, &plan); err != nil {
			t.Fatal(err)
		}
		return strings.Join(plan, "\n")
	}
	var steps []struct {
		ID      int    `bun:"id"`
		Parent  int    `bun:"parent"`
		NotUsed int    `bun:"notused"`
		Detail  string `bun:"detail"`
	}
	if err := db.NewRaw("EXPLAIN QUERY PLAN "+text).Scan(ctx, &steps); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range steps {
		b.WriteString(s.Detail)
		b.WriteByte('\n')
	}
	return b.String()
}
