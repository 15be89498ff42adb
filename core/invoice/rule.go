package invoice

import (
	"context"
	"errors"
	"time"

	"github.com/kassahq/kassa/core/money"
)

// Errors of Rule calls, next to the *errs.Error (PLUGIN_UNAVAILABLE,
// PLUGIN_TIMEOUT) an implementation returns for failures.
var (
	// ErrOutcomeUnknown means the call may have happened: a document may
	// have been numbered. Retry with the same idempotency key.
	ErrOutcomeUnknown = errors.New("invoice: rule outcome unknown")
	// ErrNotSupported means the rule does not offer an optional call
	// (VoidInvoice).
	ErrNotSupported = errors.New("invoice: not supported by the rule")
)

// Rule decides when an order gets an invoice or credit note and renders it.
// core/plugin adapts invoice plugins to it.
type Rule interface {
	// ID is the rule's plugin id, e.g. "invoice.standard".
	ID() string
	// Evaluate decides whether an order event calls for a document.
	Evaluate(ctx context.Context, ev OrderEvent) (Decision, error)
	// IssueInvoice numbers (from seq) and renders a document, idempotently
	// by IdempotencyKey.
	IssueInvoice(ctx context.Context, req IssueRequest, seq Sequence) (Document, error)
	// VoidInvoice voids a document where the rules allow it (optional).
	VoidInvoice(ctx context.Context, req VoidRequest) (VoidResult, error)
}

// Sequence hands out gapless numbers kept by the core; the rule names the
// sequence ("invoice/2026") and the core scopes it to the rule and store.
type Sequence interface {
	// Next returns the next value, starting at 1; the same idempotencyKey
	// gets the same value.
	Next(ctx context.Context, name, idempotencyKey string) (int64, error)
}

// DocumentKind is an invoice or a credit note.
type DocumentKind string

// The document kinds.
const (
	KindInvoice    DocumentKind = "INVOICE"
	KindCreditNote DocumentKind = "CREDIT_NOTE"
)

// Address is a postal address.
type Address struct {
	Lines      []string
	City       string
	PostalCode string
	Region     string
	Country    string // ISO 3166-1 alpha-2
}

// Party is the seller or the buyer of an order.
type Party struct {
	Name    string
	Company string
	TaxID   string
	Email   string
	Phone   string
	Address Address
}

// Line is one line of an order snapshot.
type Line struct {
	ID               string
	SKU              string
	Name             string
	Quantity         int64
	UnitPrice        money.Money
	Discount         money.Money // allocated to the line, positive
	TaxRate          string      // percent as a decimal string, e.g. "19"
	Tax              money.Money
	Total            money.Money // including tax, after discounts
	PricesIncludeTax bool
}

// TaxLine is one line of the tax breakdown.
type TaxLine struct {
	Name   string
	Rate   string
	Base   money.Money
	Amount money.Money
}

// Totals are the order's totals as the core computed them.
type Totals struct {
	Subtotal, Discount, Shipping, Tax, Total, Paid, Refunded money.Money
}

// Order is a snapshot of an order for invoicing.
type Order struct {
	ID                string
	Number            string
	StoreID           string
	Currency          money.Currency
	PlacedAt          time.Time
	Lines             []Line
	Taxes             []TaxLine
	Totals            Totals
	Seller            Party
	Buyer             Party
	PaymentStatus     string
	FulfillmentStatus string
	Locale            string
	Metadata          map[string]string
	// CustomerID is the buyer's account, empty for a guest's order. Kassa
	// keeps it to itself: rules are not sent it.
	CustomerID string
	// TaxName and TaxRate are the rate the order was taxed at: what
	// receipts call it ("VAT") and the percent as a decimal string
	// ("13", "6.5"); empty for an order placed before Kassa kept it.
	// Lines and Taxes carry them to rules.
	TaxName, TaxRate string
}

// OrderEvent is an order event to evaluate.
type OrderEvent struct {
	Type           string // e.g. order.paid, order.fulfilled, refund.succeeded, invoice.requested
	ID             string // the event id
	Order          Order
	Refund         money.Money // for refund events
	InvoiceNumbers []string    // documents already issued for the order
	OccurredAt     time.Time
}

// Decision is the answer to Evaluate.
type Decision struct {
	Issue  bool
	Kind   DocumentKind
	Reason string
}

// IssueRequest asks for a document.
type IssueRequest struct {
	Order                 Order
	Seller                Party
	Buyer                 Party
	Kind                  DocumentKind
	OriginalInvoiceNumber string // for a credit note
	IdempotencyKey        string
	Locale                string
	IssuedAt              time.Time
}

// Problem is a business problem reported as data, e.g. an invalid tax id.
type Problem struct {
	Field   string
	Code    string
	Message string
}

// Document is an issued document, or the problems that prevented it.
type Document struct {
	Number   string
	Content  []byte // e.g. PDF bytes
	MimeType string
	FileName string
	IssuedAt time.Time
	// Problems, when not empty, mean nothing was issued.
	Problems []Problem
}

// VoidRequest asks to void a document.
type VoidRequest struct {
	Number         string
	Reason         string
	IdempotencyKey string
	Order          Order
}

// VoidResult is the outcome of VoidInvoice.
type VoidResult struct {
	Voided   bool
	Problems []Problem
}
