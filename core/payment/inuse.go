package payment

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/store"
)

// GatewayInUse returns what plugin.Options.InUse asks: what gateway id
// still has to settle, in a few words ("2 open payments, 1 refund under
// way"), or "" when nothing. Open payments (PENDING, UNKNOWN) and held
// ones (AUTHORIZED) still need their gateway for a notification, a
// reconciliation, a close, a capture or a void, and refunds under way
// (PENDING, UNKNOWN) for their outcome: removing the plugin would leave
// them so for good, and their orders open with their stock. A plugin that
// is no gateway, or one that took no payment, is in use by nothing here.
// It reads with the catalog's caller: removing a plugin is rare, and the
// counts scan the gateway's attempts (payment_attempts_gateway_ref).
func GatewayInUse(db *store.DB) func(ctx context.Context, id string) (string, error) {
	return func(ctx context.Context, id string) (string, error) {
		conn := db.Conn(ctx)
		attempts, err := conn.NewSelect().Table("payment_attempts").
			Where("gateway_id = ? AND state IN (?)", id, bun.In([]State{StatePending, StateUnknown, StateAuthorized})).Count(ctx)
		if err != nil {
			return "", fmt.Errorf("payment: count the open payments of %s: %w", id, err)
		}
		refunds, err := conn.NewSelect().Table("payment_refunds").
			Where("gateway_id = ? AND state IN (?)", id, bun.In([]RefundState{RefundStatePending, RefundStateUnknown})).Count(ctx)
		if err != nil {
			return "", fmt.Errorf("payment: count the refunds under way of %s: %w", id, err)
		}
		var what []string
		if attempts > 0 {
			what = append(what, plural(attempts, "open payment", "open payments"))
		}
		if refunds > 0 {
			what = append(what, plural(refunds, "refund under way", "refunds under way"))
		}
		return strings.Join(what, ", "), nil
	}
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
