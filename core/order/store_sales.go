package order

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// salesRow is one day and currency of SalesByDay.
type salesRow struct {
	Bucket     int    `bun:"bucket"`
	Currency   string `bun:"currency"`
	Orders     int64  `bun:"orders"`
	PaidOrders int64  `bun:"paid_orders"`
	Revenue    int64  `bun:"revenue"`
}

// dayBucket writes the SQL that numbers the day an order's created_at
// falls in, given the midnights between the days (bounds without its
// first and last): a balanced tree of CASE expressions, so each order
// costs log2(days) comparisons on either engine, and no engine needs to
// know the time zone. It appends the midnights to args in the order their
// placeholders appear.
func dayBucket(b *strings.Builder, args *[]any, bounds []time.Time, lo, hi int) {
	if hi-lo == 1 {
		b.WriteString(strconv.Itoa(lo))
		return
	}
	mid := (lo + hi) / 2
	b.WriteString("CASE WHEN o.created_at < ? THEN ")
	*args = append(*args, bounds[mid])
	dayBucket(b, args, bounds, lo, mid)
	b.WriteString(" ELSE ")
	dayBucket(b, args, bounds, mid, hi)
	b.WriteString(" END")
}

// SalesByDay counts the orders created in [bounds[0], bounds[len-1]) by
// day (bounds[i] starts day i) and currency, with the orders in paid and
// their total, in one aggregate query on the index orders_created.
func (s *orderStore) SalesByDay(ctx context.Context, bounds []time.Time, paid []PaymentStatus) ([]salesRow, error) {
	n := len(bounds) - 1
	if n < 1 {
		return nil, nil
	}
	var b strings.Builder
	var args []any
	b.WriteString("SELECT ")
	dayBucket(&b, &args, bounds, 0, n)
	b.WriteString(` AS bucket, o.currency, COUNT(*) AS orders,
		CAST(SUM(CASE WHEN o.payment_status IN (?) THEN 1 ELSE 0 END) AS BIGINT) AS paid_orders,
		CAST(SUM(CASE WHEN o.payment_status IN (?) THEN o.total_amount ELSE 0 END) AS BIGINT) AS revenue
		FROM orders o
		WHERE o.created_at >= ? AND o.created_at < ?
		GROUP BY 1, 2`)
	args = append(args, bun.In(paid), bun.In(paid), bounds[0], bounds[n])
	var rows []salesRow
	if err := s.db.Conn(ctx).NewRaw(b.String(), args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("order: sales by day: %w", err)
	}
	return rows, nil
}

// openCounts are the open orders waiting for staff or for the buyer.
type openCounts struct {
	AwaitingShipment int64 `bun:"awaiting"`
	Unpaid           int64 `bun:"unpaid"`
	NearDeadline     int64 `bun:"near"`
}

// OpenCounts counts the open orders waiting to ship (money in one of
// shippable, goods not all shipped), and those waiting for payment, with
// how many of them are due by dueBy. The literal conditions let SQLite use
// the partial index orders_unpaid_deadline.
func (s *orderStore) OpenCounts(ctx context.Context, shippable []PaymentStatus, dueBy time.Time) (openCounts, error) {
	var c openCounts
	err := s.db.Conn(ctx).NewRaw(`SELECT
		(SELECT COUNT(*) FROM orders o WHERE o.status = 'OPEN' AND o.payment_status IN (?)
			AND o.fulfillment_status IN ('UNFULFILLED', 'PARTIALLY_FULFILLED')) AS awaiting,
		(SELECT COUNT(*) FROM orders o WHERE o.status = 'OPEN' AND o.payment_status = 'PENDING') AS unpaid,
		(SELECT COUNT(*) FROM orders o WHERE o.status = 'OPEN' AND o.payment_status = 'PENDING'
			AND o.payment_deadline <= ?) AS near`, bun.In(shippable), dueBy).Scan(ctx, &c)
	if err != nil {
		return c, fmt.Errorf("order: count open orders: %w", err)
	}
	return c, nil
}
