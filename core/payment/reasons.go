package payment

// The reasons of the order payment moves that Kassa makes itself, shown
// in the order's timeline (actor SYSTEM). The admin shows them in the
// staff member's language by their form (systemReasons in
// admin/src/pages/OrderDetail.tsx, which the schema's
// TimelineEntry.reason lists), so a change here changes there too.

// attemptReason is the reason of a move caused by attempt id reaching
// what: captured, authorized, failed or cancelled.
func attemptReason(id, what string) string { return "payment " + id + " " + what }

// refundReason is the reason of a move caused by refund id succeeding.
func refundReason(id string) string { return "refund " + id + " succeeded" }

const (
	// reasonPaidBeforeCancel is the reason of the move that records a
	// payment which won the race against the order's cancellation.
	reasonPaidBeforeCancel = "paid before it was cancelled"
	// reasonRefundedAtGateway is the reason of a refund Kassa learns of
	// from the gateway (made in its dashboard), not from staff.
	reasonRefundedAtGateway = "refunded at the gateway"
)
