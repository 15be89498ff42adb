package invoice

import "github.com/kassahq/kassa/core/money"

// SubjectIssued is the event of a document issued (Issued), emitted
// through the outbox with the document.
const SubjectIssued = "kassa.invoice.issued"

// The events Handle issues documents for: an order paid in full (an
// invoice, when a rule issues on payment) and a refund that succeeded (a
// credit note of the order's invoice). The refund's own event is the one
// that carries the amount, which the order's payment status moves
// (kassa.order.refunded, ...) do not.
const (
	SubjectOrderPaid       = "kassa.order.paid"
	SubjectRefundSucceeded = "kassa.payment.refund_succeeded"
)

// Subjects are the event filters Handle consumes, one durable consumer
// each.
func Subjects() []string { return []string{SubjectOrderPaid, SubjectRefundSucceeded} }

// Issued is the payload of kassa.invoice.issued: which document of which
// order. It carries no content and no personal data.
type Issued struct {
	DocumentID string       `json:"documentId"`
	OrderID    string       `json:"orderId"`
	RuleID     string       `json:"ruleId"`
	Kind       DocumentKind `json:"kind"`
	Number     string       `json:"number"`
	Total      money.Money  `json:"total"`
	// CauseEventID is the event the document was issued for.
	CauseEventID string `json:"causeEventId"`
}

// The plugin-facing names of the events (the rules' Evaluate sees Kassa's
// event names without the "kassa." prefix; invoice.standard documents
// them).
const (
	eventOrderPaid       = "order.paid"
	eventRefundSucceeded = "refund.succeeded"
)
