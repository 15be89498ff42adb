package order

import (
	"context"
	"fmt"
	"time"

	"github.com/kassahq/kassa/core/worker"
)

// The schedulers' claims are rows of orders (columns claimed_by and
// claimed_until, migration 0010), taken with worker.Claimer. The due
// conditions below are the partial indexes orders_unpaid_remind and
// orders_unpaid_deadline with the extra terms the schedulers need.

// dueReminders selects the unpaid open orders whose reminder time has come
// and whose deadline has not passed yet (a reminder to pay before a
// deadline that already passed would be wrong: the closer cancels those),
// most urgent first.
func dueReminders(now time.Time) worker.Due {
	return worker.Due{
		Where:   "status = ? AND payment_status = ? AND reminded_at IS NULL AND remind_at <= ? AND payment_deadline > ?",
		Args:    []any{Open, PaymentPending, now, now},
		OrderBy: "remind_at, id",
	}
}

// dueExpiries selects the unpaid open orders past their payment deadline
// of which nothing shipped (those cannot be cancelled: staff settle them),
// oldest deadline first.
func dueExpiries(now time.Time) worker.Due {
	return worker.Due{
		Where:   "status = ? AND payment_status = ? AND fulfillment_status = ? AND payment_deadline <= ?",
		Args:    []any{Open, PaymentPending, Unfulfilled, now},
		OrderBy: "payment_deadline, id",
	}
}

// MarkReminded stamps reminded_at on an order that is still open, unpaid
// and not reminded, and reports whether it did: the guard that sends a
// reminder once, whichever instance holds the claim.
func (s *orderStore) MarkReminded(ctx context.Context, orderID string, now time.Time) (bool, error) {
	res, err := s.db.Conn(ctx).NewUpdate().Table("orders").
		Set("reminded_at = ?", now).Set("updated_at = ?", now).
		Where("id = ? AND reminded_at IS NULL AND status = ? AND payment_status = ?", orderID, Open, PaymentPending).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("mark order %s reminded: %w", orderID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("mark order %s reminded: %w", orderID, err)
	}
	return n == 1, nil
}
