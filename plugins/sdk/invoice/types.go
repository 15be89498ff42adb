package invoice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
)

// ErrUnimplemented is sdk.ErrUnimplemented, returned for optional methods a
// rule does not implement.
var ErrUnimplemented = sdk.ErrUnimplemented

// ErrNoSequence is returned by Sequence.Next when the host offered no
// sequence for the call.
var ErrNoSequence = errors.New("invoice: the host offers no sequence for this call")

// Capabilities of invoice plugins, declared in sdk.Info.Capabilities.
const (
	// CapCreditNote: IssueInvoice renders credit notes (DocumentCreditNote).
	CapCreditNote = "credit_note"
	// CapVoid: VoidInvoice is implemented.
	CapVoid = "void"
)

// DocumentKind is the kind of document.
type DocumentKind int

// The document kinds.
const (
	// DocumentInvoice is an invoice (the zero value).
	DocumentInvoice DocumentKind = iota
	// DocumentCreditNote corrects an invoice, e.g. after a refund.
	DocumentCreditNote
)

// String returns "INVOICE" or "CREDIT_NOTE".
func (k DocumentKind) String() string {
	if k == DocumentCreditNote {
		return "CREDIT_NOTE"
	}
	return "INVOICE"
}

// Address is a postal address.
type Address struct {
	// Lines are the street lines.
	Lines []string
	// City name.
	City string
	// PostalCode as written locally.
	PostalCode string
	// Region is the state or province.
	Region string
	// Country is the ISO 3166-1 alpha-2 code.
	Country string
}

// Party is the seller or the buyer.
type Party struct {
	// Name of the person or company.
	Name string
	// Company name when different from Name.
	Company string
	// TaxID is the VAT or tax registration number.
	TaxID string
	// Email address.
	Email string
	// Phone in E.164.
	Phone string
	// Address is the billing address.
	Address Address
}

// OrderLine is one line of an order snapshot.
type OrderLine struct {
	// ID is Kassa's line id.
	ID string
	// SKU of the variant.
	SKU string
	// Name as shown to the buyer.
	Name string
	// Quantity ordered (or credited).
	Quantity int64
	// UnitPrice before discounts.
	UnitPrice sdk.Money
	// Discount allocated to the line (positive).
	Discount sdk.Money
	// TaxRate in percent as a decimal string, e.g. "19".
	TaxRate string
	// Tax amount of the line.
	Tax sdk.Money
	// Total of the line including tax, after discounts.
	Total sdk.Money
	// PricesIncludeTax tells whether UnitPrice includes tax.
	PricesIncludeTax bool
}

// TaxLine is one line of the tax breakdown.
type TaxLine struct {
	// Name of the tax, e.g. "VAT".
	Name string
	// Rate in percent as a decimal string.
	Rate string
	// Base is the taxable amount.
	Base sdk.Money
	// Amount is the tax.
	Amount sdk.Money
}

// Totals are the order's totals, computed by Kassa.
type Totals struct {
	Subtotal sdk.Money // sum of lines before discounts and shipping
	Discount sdk.Money // total discount (positive)
	Shipping sdk.Money // shipping charge
	Tax      sdk.Money // total tax
	Total    sdk.Money // what the buyer pays
	Paid     sdk.Money // paid so far
	Refunded sdk.Money // refunded so far
}

// Order is a snapshot of an order.
type Order struct {
	// ID is Kassa's order id.
	ID string
	// Number is the human order number, e.g. "#1001".
	Number string
	// StoreID is the store.
	StoreID string
	// Currency of all amounts.
	Currency string
	// PlacedAt is when the order was placed.
	PlacedAt time.Time
	// Lines of the order.
	Lines []OrderLine
	// Taxes is the tax breakdown.
	Taxes []TaxLine
	// Totals of the order.
	Totals Totals
	// Seller is the store's legal entity.
	Seller Party
	// Buyer is the billing party.
	Buyer Party
	// PaymentStatus, e.g. "PAID".
	PaymentStatus string
	// FulfillmentStatus, e.g. "FULFILLED".
	FulfillmentStatus string
	// Locale of the buyer.
	Locale string
	// Metadata is free-form.
	Metadata map[string]string
}

// Event is an order event to evaluate.
type Event struct {
	// Type is Kassa's event name, e.g. "order.paid", "order.fulfilled",
	// "refund.succeeded", "invoice.requested".
	Type string
	// ID is Kassa's unique event id.
	ID string
	// Order after the event.
	Order Order
	// Refund is the refunded amount, for refund events.
	Refund sdk.Money
	// InvoiceNumbers are the documents already issued for the order.
	InvoiceNumbers []string
	// OccurredAt is when it happened.
	OccurredAt time.Time
}

// Decision is the answer to Evaluate.
type Decision struct {
	// Issue is true when a document should be issued now.
	Issue bool
	// Kind of document to issue.
	Kind DocumentKind
	// Reason for the order timeline.
	Reason string
}

// IssueRequest asks for a document.
type IssueRequest struct {
	// Order snapshot (for a credit note: the lines and amounts credited).
	Order Order
	// Seller is the issuing party.
	Seller Party
	// Buyer is the billed party.
	Buyer Party
	// Kind of document.
	Kind DocumentKind
	// OriginalInvoiceNumber is the corrected invoice, for a credit note.
	OriginalInvoiceNumber string
	// IdempotencyKey: a retry returns the same number and document. Pass it
	// to Sequence.Next so a retry does not burn a number.
	IdempotencyKey string
	// Locale of the document.
	Locale string
	// IssuedAt is the date Kassa wants on the document.
	IssuedAt time.Time
}

// Problem is a business problem reported as data (e.g. an invalid tax id).
type Problem struct {
	// Field path, e.g. "buyer.tax_id". Optional.
	Field string
	// Code is a stable reason, e.g. "invalid_tax_id".
	Code string
	// Message for staff.
	Message string
}

// Document is an issued document, or the problems preventing it.
type Document struct {
	// Number, e.g. "INV-2026-000042".
	Number string
	// Content is the rendered document (e.g. PDF bytes).
	Content []byte
	// MimeType of Content, e.g. "application/pdf".
	MimeType string
	// FileName suggested for downloads.
	FileName string
	// IssuedAt is the date on the document.
	IssuedAt time.Time
	// Problems, when not empty, mean nothing was issued.
	Problems []Problem
}

// VoidRequest asks to void a document.
type VoidRequest struct {
	// Number of the document.
	Number string
	// Reason for audit.
	Reason string
	// IdempotencyKey: a retry answers as the first call did.
	IdempotencyKey string
	// Order the document belongs to.
	Order Order
}

// VoidResult is the outcome of VoidInvoice.
type VoidResult struct {
	// Voided is true when the document is void now.
	Voided bool
	// Problems explain a refusal, e.g. code "credit_note_required".
	Problems []Problem
}

// Sequence hands out gapless numbers kept by Kassa (plugins have no
// database). The host passes one to IssueInvoice; on the plugin side it is
// backed by the HostSequence service over the go-plugin broker, and it only
// works during that IssueInvoice call.
type Sequence interface {
	// Next returns the next value (starting at 1) of the named sequence,
	// e.g. "invoice/2026". Kassa scopes names to the plugin and the store.
	// Calls with the same idempotencyKey return the same value.
	Next(ctx context.Context, name, idempotencyKey string) (int64, error)
}

// Rule is an invoicing rule plugin. Embed [UnimplementedRule] and call
// [Serve] from main. The host side (sdk/host) returns a Rule backed by gRPC.
type Rule interface {
	sdk.Plugin
	// Evaluate decides whether an order event calls for a document.
	Evaluate(ctx context.Context, ev Event) (Decision, error)
	// IssueInvoice numbers (with seq) and renders a document, idempotently
	// by IdempotencyKey. seq may be nil when the host offers none; its Next
	// then fails with ErrNoSequence.
	IssueInvoice(ctx context.Context, req IssueRequest, seq Sequence) (Document, error)
	// VoidInvoice voids a document where the rules allow it.
	VoidInvoice(ctx context.Context, req VoidRequest) (VoidResult, error)
}

// UnimplementedRule implements the optional methods of [Rule] (HandleHTTP,
// VoidInvoice) by returning ErrUnimplemented. Embed it so new optional
// methods never break your plugin.
type UnimplementedRule struct{}

// HandleHTTP returns ErrUnimplemented.
func (UnimplementedRule) HandleHTTP(context.Context, sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	return sdk.HTTPResponse{}, fmt.Errorf("InvoiceRule.HandleHTTP: %w", ErrUnimplemented)
}

// VoidInvoice returns ErrUnimplemented.
func (UnimplementedRule) VoidInvoice(context.Context, VoidRequest) (VoidResult, error) {
	return VoidResult{}, fmt.Errorf("InvoiceRule.VoidInvoice: %w", ErrUnimplemented)
}

// SequenceFunc adapts a function to [Sequence]; handy for hosts and tests.
type SequenceFunc func(ctx context.Context, name, idempotencyKey string) (int64, error)

// Next calls f.
func (f SequenceFunc) Next(ctx context.Context, name, idempotencyKey string) (int64, error) {
	return f(ctx, name, idempotencyKey)
}
