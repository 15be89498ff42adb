package order_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit/invariant"
)

// TestInvariantsHoldAndCatchCorruption: after placing, shipping part of
// an order and cancelling another, every invariant holds; each corruption
// of the tables is then reported by the rule it breaks, so the checker the
// concurrent tests end with cannot pass vacuously.
func TestInvariantsHoldAndCatchCorruption(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		shipped := f.place(t, guest(), f.input("cart_1", "", "a@example.com", line{f.tea, 3, 100}, line{f.cup, 2, 250}))
		cancelled := f.place(t, guest(), f.input("cart_2", "", "b@example.com", line{f.tea, 1, 100}))
		f.ship(t, shipped, 2, 0)
		if _, err := f.svc.Cancel(staff(authz.RoleSupport), order.CancelInput{OrderID: cancelled.Order.ID, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
		invariant.Require(t, db)

		ctx := context.Background()
		corruptions := []struct {
			name, sql, rule string
			args            []any
		}{
			{"a unit reserved twice", "UPDATE inventory_levels SET reserved = reserved + 1 WHERE variant_id = ?",
				"reserved stock equals what open orders still owe", []any{f.tea.id}},
			{"more reserved than on hand", "UPDATE inventory_levels SET reserved = on_hand + 1 WHERE variant_id = ?",
				"reserved stock never exceeds stock on hand", []any{f.cup.id}},
			{"a lost timeline", "DELETE FROM order_timeline WHERE order_id = ?",
				"every order has its timeline", []any{cancelled.Order.ID}},
			{"a shipped count without its parcel", "UPDATE order_lines SET quantity_shipped = quantity_shipped + 1 WHERE order_id = ? AND position = 0",
				"shipped quantities equal the shipments' lines", []any{shipped.Order.ID}},
		}
		for _, c := range corruptions {
			t.Run(c.name, func(t *testing.T) {
				err := db.RunInTx(ctx, func(ctx context.Context) error {
					if _, err := db.Conn(ctx).NewRaw(c.sql, c.args...).Exec(ctx); err != nil {
						return err
					}
					broken, err := invariant.Check(ctx, db)
					if err != nil {
						return err
					}
					found := false
					for _, b := range broken {
						found = found || strings.HasPrefix(b, c.rule+": ")
					}
					if !found {
						t.Errorf("broken = %q, want a row of %q", broken, c.rule)
					}
					return errRollback
				})
				if err != errRollback {
					t.Fatal(err)
				}
			})
		}
		invariant.Require(t, db)
	})
}

// errRollback undoes a corruption once it has been checked.
var errRollback = rollback{}

type rollback struct{}

func (rollback) Error() string { return "rollback" }
