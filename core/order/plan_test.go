package order

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store/storetest"
)

// scaleRowsEnv names the number of orders TestListPlansAtScale fills
// PostgreSQL with; unset, the test is skipped (a million rows take a
// minute to write).
const scaleRowsEnv = "KASSA_TEST_ORDER_ROWS"

// TestListPlansAtScale fills a PostgreSQL schema with many orders (say
// KASSA_TEST_ORDER_ROWS=1000000) spread over statuses, customers, emails
// and payment methods, and checks that PostgreSQL answers every filter
// and sort of List, on the first page and after a cursor, and the count
// of each filter, from an index: no plan scans the orders table.
func TestListPlansAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(scaleRowsEnv))
	if n <= 0 {
		t.Skipf("%s not set", scaleRowsEnv)
	}
	db := storetest.NewPostgres(t)
	ctx := context.Background()
	begin := time.Now()
	for _, q := range []string{
		`INSERT INTO customers (id, email, created_at, updated_at)
		 SELECT 'cus_' || i, 'c' || i || '@example.com', now(), now() FROM generate_series(1, 1000) i`,
		`INSERT INTO orders (id, seq, number, customer_id, email, email_local, currency, status, payment_status, fulfillment_status,
		   shipping_address, billing_address, subtotal_amount, total_amount, payment_method, payment_deadline, remind_at,
		   cart_id, access_token_hash, created_at, updated_at)
		 SELECT 'ord_' || lpad(i::text, 10, '0'), 1000 + i, '#' || (1000 + i),
		   CASE WHEN i % 3 = 0 THEN 'cus_' || (i % 1000 + 1) END,
		   'user' || (i % 200000) || '@example.com', 'user' || (i % 200000), 'CNY',
		   CASE WHEN i % 20 = 0 THEN 'CANCELLED' WHEN i % 20 = 1 THEN 'COMPLETED' ELSE 'OPEN' END,
		   CASE WHEN i % 7 = 0 THEN 'PENDING' WHEN i % 50 = 1 THEN 'REFUNDED' ELSE 'PAID' END,
		   CASE i % 4 WHEN 0 THEN 'UNFULFILLED' WHEN 1 THEN 'FULFILLED' WHEN 2 THEN 'DELIVERED' ELSE 'PARTIALLY_FULFILLED' END,
		   '{}', '{}', (i::bigint * 7919) % 100000, (i::bigint * 7919) % 100000,
		   CASE WHEN i % 10 < 6 THEN 'payment.stripe' WHEN i % 10 < 9 THEN 'payment.alipay' ELSE '' END,
		   ts + interval '30 minutes', ts + interval '20 minutes',
		   'cart_' || i, CASE WHEN i % 3 = 0 THEN '' ELSE md5(i::text) END, ts, ts
		 FROM (SELECT i, timestamp '2024-01-01' + i * interval '30 seconds' AS ts FROM generate_series(1, ?) i) g`,
		`ANALYZE orders`,
	} {
		if _, err := db.NewRaw(q, n).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d orders written in %s", n, time.Since(begin).Round(time.Second))

	st := newOrderStore(db)
	mid := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n/2) * 30 * time.Second)
	after := &page.Cursor{ID: "ord_" + strings.Repeat("0", 10-len(strconv.Itoa(n/2))) + strconv.Itoa(n/2), Key: mid.Format(time.RFC3339Nano)}
	tests := []struct {
		name string
		q    listQuery
	}{
		{"newest", listQuery{}},
		{"newest, page after", listQuery{after: after}},
		{"oldest", listQuery{ascending: true}},
		{"cancelled", listQuery{status: Cancelled}},
		{"cancelled, page after", listQuery{status: Cancelled, after: after}},
		{"unpaid", listQuery{payment: PaymentPending}},
		{"refunded", listQuery{payment: PaymentRefunded}},
		{"unfulfilled", listQuery{fulfillment: Unfulfilled}},
		{"a day", listQuery{from: mid, to: mid.Add(24 * time.Hour)}},
		{"cancelled in a day", listQuery{status: Cancelled, from: mid, to: mid.Add(24 * time.Hour)}},
		{"a customer", listQuery{customerID: "cus_42"}},
		{"a payment method", listQuery{method: "payment.alipay"}},
		{"a number", listQuery{seq: int64(1000 + n/3)}},
		{"an email", listQuery{emailExact: "user4242@example.com"}},
		{"the name before the @", listQuery{emailLocal: "user4242"}},
		{"by number", listQuery{sortKey: SortNumber}},
		{"by number, page after", listQuery{sortKey: SortNumber, after: &page.Cursor{ID: "x", Key: strconv.Itoa(1000 + n/2)}}},
		{"by total", listQuery{sortKey: SortTotal}},
		{"by total, page after", listQuery{sortKey: SortTotal, after: &page.Cursor{ID: after.ID, Key: "50000"}}},
		{"open and unpaid", listQuery{status: Open, payment: PaymentPending}},
		// Pairs that never occur here (cancelled orders are never
		// refunded, refunded ones never unfulfilled): the pair's index
		// (migration 0021) answers at once instead of reading every
		// cancelled order.
		{"cancelled and refunded", listQuery{status: Cancelled, payment: PaymentRefunded}},
		{"cancelled and refunded, by total", listQuery{status: Cancelled, payment: PaymentRefunded, sortKey: SortTotal}},
		{"refunded and unfulfilled", listQuery{payment: PaymentRefunded, fulfillment: Unfulfilled}},
	}
	execTime := regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)
	removed := regexp.MustCompile(`Rows Removed by Filter: ([0-9]+)`)
	const maxRemoved = 10000
	for _, tc := range tests {
		for what, sel := range staffListStatements(t, st, tc.q) {
			var plan []string
			if err := db.NewRaw("EXPLAIN ANALYZE "+sel).Scan(ctx, &plan); err != nil {
				t.Fatalf("%s%s: %v", tc.name, what, err)
			}
			text := strings.Join(plan, "\n")
			ms := "?"
			if m := execTime.FindStringSubmatch(text); m != nil {
				ms = m[1]
			}
			t.Logf("%s%s: %s ms\n%s", tc.name, what, ms, text)
			if strings.Contains(text, "Seq Scan on orders") {
				t.Errorf("%s%s scans the orders table", tc.name, what)
			}
			// An index read until a page of matches turns up: fine
			// when matches are common, a scan in disguise when not.
			for _, m := range removed.FindAllStringSubmatch(text, -1) {
				if n, _ := strconv.Atoi(m[1]); n > maxRemoved {
					t.Errorf("%s%s reads %d orders it does not return", tc.name, what, n)
				}
			}
		}
	}
}

// staffListStatements returns the statements the staff list sends for q
// (its first page, default order unless q says otherwise): the page
// (key "") and the count of the same filter (" (count)").
func staffListStatements(t *testing.T, st *orderStore, q listQuery) map[string]string {
	t.Helper()
	ctx := context.Background()
	if q.sortKey == "" {
		q.sortKey = SortCreatedAt
	}
	q.limit = page.DefaultFirst + 1
	var rows []*Order
	sel, err := st.listSelect(ctx, q, &rows)
	if err != nil {
		t.Fatal(err)
	}
	count, err := st.countSelect(ctx, q, DefaultCountLimit+1)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"": sel.String(), " (count)": count.String()}
}
