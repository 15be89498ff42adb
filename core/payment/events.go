package payment

import (
	"github.com/kassahq/kassa/core/money"
)

// The payment's event subjects, emitted through the outbox with the move
// that causes them (AttemptEvent, RefundEvent, FlaggedEvent). The order's
// own payment status moves emit kassa.order.paid and the rest beside them.
const (
	// SubjectSucceeded: an attempt was captured (the money was taken).
	SubjectSucceeded = "kassa.payment.succeeded"
	// SubjectAuthorized: an attempt's funds were reserved.
	SubjectAuthorized = "kassa.payment.authorized"
	// SubjectFailed: an attempt was declined.
	SubjectFailed = "kassa.payment.failed"
	// SubjectCancelled: an attempt was closed unpaid, or voided.
	SubjectCancelled = "kassa.payment.cancelled"
	// SubjectUnknown: an attempt's outcome is unknown; reconciling.
	SubjectUnknown = "kassa.payment.unknown"
	// SubjectPending: an attempt waits for the buyer: one whose outcome
	// was unknown after all, or a new one with instructions to follow
	// away from the shop (a bank transfer's details).
	SubjectPending = "kassa.payment.pending"
	// SubjectRefundSucceeded: money went back to the buyer.
	SubjectRefundSucceeded = "kassa.payment.refund_succeeded"
	// SubjectRefundFailed: the gateway refused a refund.
	SubjectRefundFailed = "kassa.payment.refund_failed"
	// SubjectRefundUnknown: a refund's outcome is unknown; reconciling.
	SubjectRefundUnknown = "kassa.payment.refund_unknown"
	// SubjectRefundPending: a refund whose outcome was unknown is still
	// under way at the gateway.
	SubjectRefundPending = "kassa.payment.refund_pending"
	// SubjectFlagged: a gateway fact needs staff (FlaggedEvent).
	SubjectFlagged = "kassa.payment.flagged"
)

// Subjects lists every subject the payment domain emits.
func Subjects() []string {
	return []string{SubjectSucceeded, SubjectAuthorized, SubjectFailed, SubjectCancelled, SubjectUnknown, SubjectPending,
		SubjectRefundSucceeded, SubjectRefundFailed, SubjectRefundUnknown, SubjectRefundPending, SubjectFlagged}
}

// AttemptEvent is the payload of an attempt's move.
type AttemptEvent struct {
	AttemptID   string      `json:"attemptId"`
	OrderID     string      `json:"orderId"`
	GatewayID   string      `json:"gatewayId"`
	Amount      money.Money `json:"amount"`
	From        string      `json:"from"`
	To          string      `json:"to"`
	DeclineCode string      `json:"declineCode,omitempty"`
}

// RefundEvent is the payload of a refund's move.
type RefundEvent struct {
	RefundID    string      `json:"refundId"`
	AttemptID   string      `json:"attemptId"`
	OrderID     string      `json:"orderId"`
	GatewayID   string      `json:"gatewayId"`
	Amount      money.Money `json:"amount"`
	From        string      `json:"from"`
	To          string      `json:"to"`
	FailureCode string      `json:"failureCode,omitempty"`
}

// FlaggedEvent is the payload of kassa.payment.flagged.
type FlaggedEvent struct {
	// EventID is the gateway event row (payment_gateway_events.id).
	EventID   string `json:"eventId"`
	GatewayID string `json:"gatewayId"`
	OrderID   string `json:"orderId,omitempty"`
	AttemptID string `json:"attemptId,omitempty"`
	Reason    string `json:"reason"`
	// Refunded says the money was refunded automatically (the shop's
	// setting for money arriving for a cancelled order).
	Refunded bool `json:"refunded,omitempty"`
}
