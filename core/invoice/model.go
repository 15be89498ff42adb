package invoice

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/money"
)

// Limits of issued documents.
const (
	// MaxContent is the largest document a rule may return. A PDF invoice
	// is some tens of kilobytes; a rule answering more is refused rather
	// than filling the database.
	MaxContent = 10 << 20
	// maxFileName and maxNumber bound what a rule names a document.
	maxFileName = 200
	maxNumber   = 100
)

// Invoice is an issued invoice or credit note of an order (its Kind):
// its number, what it totals and, when read with its content, the
// document itself (the PDF the rule rendered).
type Invoice struct {
	bun.BaseModel `bun:"table:invoice_documents,alias:inv"`

	// ID is "inv_" followed by a sortable id.
	ID      string `bun:"id,pk"`
	OrderID string `bun:"order_id"`
	// RuleID is the invoice rule plugin that issued it ("invoice.standard").
	RuleID string       `bun:"rule_id"`
	Kind   DocumentKind `bun:"kind"`
	// Number is the rule's gapless number, e.g. "INV-000042".
	Number string `bun:"number"`
	// OriginalNumber is the invoice a credit note corrects; empty for an
	// invoice.
	OriginalNumber string    `bun:"original_number"`
	IssuedAt       time.Time `bun:"issued_at"`
	Currency       money.Currency
	// TotalAmount is what the document totals, minor units of Currency:
	// an invoice the order's total, a credit note the amount credited
	// (positive).
	TotalAmount int64  `bun:"total_amount"`
	MimeType    string `bun:"mime_type"`
	// FileName is the rule's suggested download name ("INV-000042.pdf").
	FileName string `bun:"file_name"`
	// Content is the document; nil when the document was read without it
	// (lists).
	Content       []byte `bun:"content"`
	ContentSize   int64  `bun:"content_size"`
	ContentSHA256 string `bun:"content_sha256"`
	// CauseEventID and CauseSubject name the event the document was issued
	// for (kassa.order.paid, kassa.payment.refund_succeeded).
	CauseEventID string `bun:"cause_event_id"`
	CauseSubject string `bun:"cause_subject"`
	// IdempotencyKey is the key the rule issued the document with, unique
	// per rule: derived from the cause, so a redelivered event issues
	// nothing twice.
	IdempotencyKey string    `bun:"idempotency_key"`
	CreatedAt      time.Time `bun:"created_at"`
}

// Total is what the document totals: the order's total for an invoice,
// the amount credited for a credit note.
func (d *Invoice) Total() money.Money { return money.New(d.TotalAmount, d.Currency) }

// OrderRef names an order whose documents a caller reads, with its buyer:
// the order as the order service showed it to the caller (see
// Service.InvoicesOf).
type OrderRef struct {
	ID string
	// CustomerID is the order's buyer; empty for a guest's order.
	CustomerID string
}

// Refund is a refund that succeeded, as its credit note shows it.
type Refund struct {
	ID     string
	Amount money.Money
	// Shipping is the shipping part of Amount (of the order's shipping
	// price); ShippingTax the tax given back with it where the shipping's
	// tax was added to its price, also part of Amount.
	Shipping    money.Money
	ShippingTax money.Money
	// Lines are the order lines given back; empty for a refund of an
	// amount only.
	Lines []RefundLine
}

// RefundLine is part of a refund taken from one order line.
type RefundLine struct {
	LineID   string
	Quantity int64
	// Amount is the line's share of the refund.
	Amount money.Money
	// Before is how many units of the line refunds before this one gave
	// back: the line's tax and discount are shared out as its total was
	// (money.Share), so the credit notes of a line add up to its invoice.
	Before int64
}

// DownloadInput names a document to download.
type DownloadInput struct {
	OrderID    string
	DocumentID string
	// AccessToken is a guest's order access token (returned at
	// checkout); empty for signed-in buyers and staff.
	AccessToken string
}
