// Package invariant checks the promises the stock and order tables keep
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
