// Package invariant checks the promises the stock, order and payment tables keep
// whatever happened to them: run it after randomized and concurrent tests
// (two hundred buyers racing for the last units, staff racing on one
// order, schedulers on two instances). Each promise is one SQL query, so a
// broken one names the rows that break it.
package invariant

import (
	"context"
	"fmt"

	"github.com/kassahq/kassa/core/store"
)

// A rule is one promise: a query that returns the rows breaking it, one
// description per row.
type rule struct {
	name  string
	query string
}

// rules are the promises. Reserved stock is what open orders still owe:
// placing reserves every line, shipping commits what it ships, and
// cancelling releases the rest, so at rest the two sums agree.
var rules = []rule{
	{"reserved stock never exceeds stock on hand", `
		SELECT variant_id || ': on hand ' || CAST(on_hand AS TEXT) || ', reserved ' || CAST(reserved AS TEXT)
		FROM inventory_levels WHERE reserved > on_hand OR reserved < 0 OR on_hand < 0`},
	{"reserved stock equals what open orders still owe", `
		SELECT l.variant_id || ': reserved ' || CAST(l.reserved AS TEXT) || ', open orders owe ' || CAST(COALESCE(o.owed, 0) AS TEXT)
		FROM inventory_levels l
		LEFT JOIN (
			SELECT ol.variant_id, SUM(ol.quantity - ol.quantity_shipped) AS owed
			FROM order_lines ol JOIN orders ord ON ord.id = ol.order_id
			WHERE ord.status = 'OPEN'
			GROUP BY ol.variant_id
		) o ON o.variant_id = l.variant_id
		WHERE l.reserved <> COALESCE(o.owed, 0)`},
	{"every order has its timeline", `
		SELECT ord.id FROM orders ord
		WHERE NOT EXISTS (SELECT 1 FROM order_timeline t WHERE t.order_id = ord.id)`},
	{"shipped quantities equal the shipments' lines", `
		SELECT ol.id || ': shipped ' || CAST(ol.quantity_shipped AS TEXT) || ', in shipments ' || CAST(COALESCE(s.qty, 0) AS TEXT)
		FROM order_lines ol
		LEFT JOIN (SELECT order_line_id, SUM(quantity) AS qty FROM order_shipment_lines GROUP BY order_line_id) s
			ON s.order_line_id = ol.id
		WHERE ol.quantity_shipped <> COALESCE(s.qty, 0)`},
	{"a cancelled order owes nothing and holds no shipment", `
		SELECT ord.id FROM orders ord
		WHERE ord.status = 'CANCELLED' AND EXISTS (SELECT 1 FROM order_shipments sh WHERE sh.order_id = ord.id)`},
	// Payments (ADR 0009): the ledger is the truth, the balance row its
	// sums, and money never goes out that did not come in.
	{"the payment balance equals the ledger's sums", `
		SELECT b.order_id || ': balance ' || CAST(b.authorized AS TEXT) || '/' || CAST(b.captured AS TEXT) || '/' ||
			CAST(b.refunded AS TEXT) || '/' || CAST(b.voided AS TEXT) || ', ledger ' ||
			CAST(COALESCE(l.authorized, 0) AS TEXT) || '/' || CAST(COALESCE(l.captured, 0) AS TEXT) || '/' ||
			CAST(COALESCE(l.refunded, 0) AS TEXT) || '/' || CAST(COALESCE(l.voided, 0) AS TEXT)
		FROM payment_balances b
		LEFT JOIN (
			SELECT order_id,
				SUM(CASE WHEN kind = 'AUTHORIZATION' THEN amount ELSE 0 END) AS authorized,
				SUM(CASE WHEN kind = 'CAPTURE' THEN amount ELSE 0 END) AS captured,
				SUM(CASE WHEN kind = 'REFUND' THEN amount ELSE 0 END) AS refunded,
				SUM(CASE WHEN kind = 'VOID' THEN amount ELSE 0 END) AS voided
			FROM payment_ledger GROUP BY order_id
		) l ON l.order_id = b.order_id
		WHERE b.authorized <> COALESCE(l.authorized, 0) OR b.captured <> COALESCE(l.captured, 0)
			OR b.refunded <> COALESCE(l.refunded, 0) OR b.voided <> COALESCE(l.voided, 0)
		UNION ALL
		SELECT l.order_id || ': ledger rows without a balance row' FROM payment_ledger l
		WHERE NOT EXISTS (SELECT 1 FROM payment_balances b WHERE b.order_id = l.order_id)
		GROUP BY l.order_id`},
	{"captured minus refunded is never negative", `
		SELECT order_id || ': captured ' || CAST(captured AS TEXT) || ', refunded ' || CAST(refunded AS TEXT) || ', reserved ' || CAST(refund_reserved AS TEXT)
		FROM payment_balances WHERE captured - refunded - refund_reserved < 0 OR refund_reserved < 0`},
	{"an attempt's amounts agree with the ledger", `
		SELECT a.id || ': captured ' || CAST(a.captured_amount AS TEXT) || ', refunded ' || CAST(a.refunded_amount AS TEXT)
		FROM payment_attempts a
		LEFT JOIN (
			SELECT attempt_id,
				SUM(CASE WHEN kind = 'CAPTURE' THEN amount ELSE 0 END) AS captured,
				SUM(CASE WHEN kind = 'REFUND' THEN amount ELSE 0 END) AS refunded
			FROM payment_ledger GROUP BY attempt_id
		) l ON l.attempt_id = a.id
		WHERE a.captured_amount <> COALESCE(l.captured, 0) OR a.refunded_amount <> COALESCE(l.refunded, 0)`},
	{"reserved refunds equal the refunds under way", `
		SELECT b.order_id || ': reserved ' || CAST(b.refund_reserved AS TEXT) || ', under way ' || CAST(COALESCE(r.amount, 0) AS TEXT)
		FROM payment_balances b
		LEFT JOIN (SELECT order_id, SUM(amount) AS amount FROM payment_refunds WHERE state IN ('PENDING', 'UNKNOWN') GROUP BY order_id) r
			ON r.order_id = b.order_id
		WHERE b.refund_reserved <> COALESCE(r.amount, 0)`},
	// Only the payments move an order's payment status in a running shop,
	// always with an attempt; orders without one were seeded as history
	// (order.InsertSeedOrders) or moved by the order domain's own tests.
	{"every paid order has a ledger capture", `
		SELECT ord.id || ': ' || ord.payment_status FROM orders ord
		WHERE ord.payment_status IN ('PAID', 'PARTIALLY_PAID', 'PARTIALLY_REFUNDED', 'REFUNDED')
			AND NOT EXISTS (SELECT 1 FROM payment_ledger l WHERE l.order_id = ord.id AND l.kind = 'CAPTURE')
			AND EXISTS (SELECT 1 FROM payment_attempts a WHERE a.order_id = ord.id)`},
	// PAID means the total was captured, PARTIALLY_PAID less of it (the
	// buyer owes the rest): a payment of the rest that took the order to
	// PAID must have brought the captures up to the total.
	{"a paid order holds its total, a partially paid one less", `
		SELECT ord.id || ': ' || ord.payment_status || ' with ' || CAST(COALESCE(b.captured, 0) AS TEXT) || ' captured of ' ||
			CAST(ord.total_amount AS TEXT)
		FROM orders ord LEFT JOIN payment_balances b ON b.order_id = ord.id
		WHERE ((ord.payment_status = 'PAID' AND COALESCE(b.captured, 0) < ord.total_amount)
			OR (ord.payment_status = 'PARTIALLY_PAID' AND COALESCE(b.captured, 0) >= ord.total_amount))
			AND EXISTS (SELECT 1 FROM payment_attempts a WHERE a.order_id = ord.id)`},
	{"every gateway event is applied at most once", `
		SELECT l.event_id || ': ' || l.kind || ' ' || CAST(COUNT(*) AS TEXT) || ' times' FROM payment_ledger l
		WHERE l.event_id IS NOT NULL GROUP BY l.event_id, l.kind, l.attempt_id HAVING COUNT(*) > 1
		UNION ALL
		SELECT gateway_id || ' ' || gateway_event_id FROM payment_gateway_events
		GROUP BY gateway_id, gateway_event_id HAVING COUNT(*) > 1`},
}

// Check runs every rule against db (inside the transaction in ctx, if
// any) and returns one line per broken row,
// prefixed by the rule it breaks; none when everything holds.
func Check(ctx context.Context, db *store.DB) ([]string, error) {
	var broken []string
	for _, r := range rules {
		var rows []string
		if err := db.Conn(ctx).NewRaw(r.query).Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("invariant %q: %w", r.name, err)
		}
		for _, row := range rows {
			broken = append(broken, r.name+": "+row)
		}
	}
	return broken, nil
}

// TB is the part of testing.TB Require needs.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// Require fails t when a rule is broken, listing every broken row.
func Require(t TB, db *store.DB) {
	t.Helper()
	broken, err := Check(context.Background(), db)
	if err != nil {
		t.Fatalf("check invariants: %v", err)
	}
	for _, b := range broken {
		t.Errorf("invariant broken: %s", b)
	}
}
