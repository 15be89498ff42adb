package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/invoice"
)

// Problem codes of IssueInvoice and VoidInvoice.
const (
	CodeIdempotencyKeyRequired  = "idempotency_key_required"
	CodeInvalidCurrency         = "invalid_currency"
	CodeCurrencyMismatch        = "currency_mismatch"
	CodeSellerIncomplete        = "seller_incomplete"
	CodeBuyerIncomplete         = "buyer_incomplete"
	CodeInvalidTaxID            = "invalid_tax_id"
	CodeNoLines                 = "no_lines"
	CodeInvalidQuantity         = "invalid_quantity"
	CodeNegativeAmount          = "negative_amount"
	CodeOriginalInvoiceRequired = "original_invoice_required"
	CodeNothingToCredit         = "nothing_to_credit"
	CodeNoSequence              = "no_sequence"
	CodeRenderFailed            = "render_failed"
	CodeNumberRequired          = "number_required"
	CodeCreditNoteRequired      = "credit_note_required"
	CodeCreditNoteNotVoidable   = "credit_note_not_voidable"
)

// IssueInvoice numbers and renders an invoice or a credit note.
//
// Everything that can refuse the document (incomplete parties, an invalid
// tax id, mixed currencies, a credit note without the invoice it
// corrects) is checked, and the PDF is rendered once with a placeholder
// number, before a number is taken from Kassa's sequence: a refused
// document consumes no number. The sequence call carries the request's
// idempotency key, so a retry gets the same number again and a crash
// after numbering leaves no gap; the plugin's register pins the date of
// a document Kassa sent without one, so a retry renders the same PDF.
func (r *Rule) IssueInvoice(ctx context.Context, req invoice.IssueRequest, seq invoice.Sequence) (invoice.Document, error) {
	cfg := r.settings()
	if req.IdempotencyKey == "" {
		return refused(invoice.Problem{Code: CodeIdempotencyKeyRequired, Message: "IssueInvoice needs an idempotency key so that a retry cannot take a second number"}), nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()

	prev := r.reg.issued[req.IdempotencyKey]
	if prev != nil && req.IssuedAt.IsZero() {
		req.IssuedAt = prev.IssuedAt
	}
	doc, problems := buildDocument(cfg, req, time.Now())
	if len(problems) > 0 {
		return invoice.Document{Problems: problems}, nil
	}

	// Render once before numbering, so a document that cannot be rendered
	// does not consume a number.
	doc.Number = formatNumber(cfg, doc.Kind, doc.IssuedAt, 999999)
	if _, _, err := render(doc, cfg.font); err != nil {
		r.logger().Error("render failed", "order_id", req.Order.ID, "err", err)
		return refused(invoice.Problem{Code: CodeRenderFailed, Message: err.Error()}), nil
	}

	if seq == nil {
		return refused(invoice.Problem{Code: CodeNoSequence, Message: invoice.ErrNoSequence.Error()}), nil
	}
	n, err := seq.Next(ctx, sequenceName(cfg, doc.Kind, doc.IssuedAt), req.IdempotencyKey)
	switch {
	case errors.Is(err, invoice.ErrNoSequence):
		return refused(invoice.Problem{Code: CodeNoSequence, Message: err.Error()}), nil
	case err != nil:
		// Outcome unknown to Kassa: it retries with the same key and gets
		// the same number, so nothing is lost.
		return invoice.Document{}, fmt.Errorf("number the document: %w", err)
	}
	doc.Number = formatNumber(cfg, doc.Kind, doc.IssuedAt, n)
	if prev != nil && prev.Number != doc.Number {
		// The sequence answered another value for the same key (a new
		// prefix in between, or a host without idempotency): keep the
		// first number, which Kassa may already have shown.
		doc.Number = prev.Number
	}
	pdf, lossy, err := render(doc, cfg.font)
	if err != nil {
		return invoice.Document{}, fmt.Errorf("render %s: %w", doc.Number, err)
	}
	if lossy {
		r.noteLossy(doc.Number, req.Order.ID)
	}
	if prev == nil {
		rec := &issuedDoc{Key: req.IdempotencyKey, Number: doc.Number, Kind: doc.Kind.String(), OrderID: req.Order.ID,
			IssuedAt: doc.IssuedAt, Original: doc.OriginalNumber}
		if err := r.reg.addIssued(rec); err != nil {
			// The document is issued (the number is taken); Kassa keeps it.
			// Only the date pinning of a later retry is lost.
			r.logger().Warn("cannot record the issued document", "number", doc.Number, "err", err)
		}
	}
	return invoice.Document{
		Number: doc.Number, Content: pdf, MimeType: "application/pdf",
		FileName: fileName(doc.Number), IssuedAt: doc.IssuedAt,
	}, nil
}

// VoidInvoice voids an invoice where that is allowed: an invoice of an
// order that was never paid (issued on request, then the order was
// cancelled). An invoice of a paid order must be corrected with a credit
// note instead (problem credit_note_required); credit notes cannot be
// voided. The number stays used: a voided invoice keeps its place in the
// sequence and Kassa keeps the document marked void, so there is no gap.
// A retry with the same idempotency key, or voiding a void invoice again,
// answers as the first call did.
func (r *Rule) VoidInvoice(_ context.Context, req invoice.VoidRequest) (invoice.VoidResult, error) {
	cfg := r.settings()
	r.mu.Lock()
	defer r.mu.Unlock()
	if v := r.reg.voids[req.IdempotencyKey]; v != nil && req.IdempotencyKey != "" {
		return v.result(), nil
	}
	res := r.decideVoid(cfg, req)
	rec := &voidRecord{Key: req.IdempotencyKey, Number: req.Number, Voided: res.Voided, Problems: res.Problems}
	if req.IdempotencyKey != "" || res.Voided {
		if err := r.reg.addVoid(rec); err != nil {
			r.logger().Warn("cannot record the void", "number", req.Number, "err", err)
		}
	}
	return res, nil
}

func (r *Rule) decideVoid(cfg *settings, req invoice.VoidRequest) invoice.VoidResult {
	refuse := func(code, msg string) invoice.VoidResult {
		return invoice.VoidResult{Problems: []invoice.Problem{{Field: "number", Code: code, Message: msg}}}
	}
	switch {
	case req.Number == "":
		return refuse(CodeNumberRequired, "say which document to void")
	case r.reg.voided[req.Number]:
		return invoice.VoidResult{Voided: true}
	case cfg.isCreditNote(req.Number):
		return refuse(CodeCreditNoteNotVoidable, fmt.Sprintf("%s is a credit note; credit notes cannot be voided", req.Number))
	}
	switch strings.ToUpper(req.Order.PaymentStatus) {
	case "PAID", "PARTIALLY_REFUNDED", "REFUNDED":
		return refuse(CodeCreditNoteRequired, fmt.Sprintf("invoice %s belongs to a paid order: correct it with a credit note (refund) instead of voiding it", req.Number))
	}
	if cn := r.reg.creditNoteFor(req.Number); cn != "" {
		return refuse(CodeCreditNoteRequired, fmt.Sprintf("invoice %s is already corrected by credit note %s", req.Number, cn))
	}
	return invoice.VoidResult{Voided: true}
}

func refused(p ...invoice.Problem) invoice.Document { return invoice.Document{Problems: p} }

// sequenceName is the host sequence a document is numbered from. Kassa
// scopes the names to the plugin and the store.
func sequenceName(cfg *settings, kind invoice.DocumentKind, at time.Time) string {
	name := "invoice"
	if kind == invoice.DocumentCreditNote && cfg.CreditNoteNumbering != NumberingShared {
		name = "credit_note"
	}
	if cfg.YearlyNumbering {
		name += "/" + strconv.Itoa(at.UTC().Year())
	}
	return name
}

// formatNumber builds a document number: prefix, the year when numbering
// restarts yearly, and the running number padded with zeros.
func formatNumber(cfg *settings, kind invoice.DocumentKind, at time.Time, n int64) string {
	prefix := cfg.invoicePrefix()
	if kind == invoice.DocumentCreditNote {
		prefix = cfg.creditPrefix()
	}
	if cfg.YearlyNumbering {
		prefix += strconv.Itoa(at.UTC().Year()) + "-"
	}
	return fmt.Sprintf("%s%0*d", prefix, cfg.digits(), n)
}

// fileName is the suggested download name of a document.
func fileName(number string) string {
	return strings.NewReplacer("/", "-", "\\", "-", " ", "_").Replace(number) + ".pdf"
}

var (
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	// taxIDPattern is deliberately lenient: VAT numbers, ABNs, Chinese
	// unified social credit codes (18 characters) and US EINs all fit once
	// spaces, dots, dashes and slashes are removed.
	taxIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{4,20}$`)
)

// validTaxID reports whether id looks like a tax registration number.
func validTaxID(id string) bool {
	return taxIDPattern.MatchString(strings.NewReplacer(" ", "", ".", "", "-", "", "/", "").Replace(id))
}

// buildDocument checks the request and prepares the document. Problems
// mean nothing may be issued.
func buildDocument(cfg *settings, req invoice.IssueRequest, now time.Time) (*document, []invoice.Problem) {
	o := req.Order
	d := &document{
		Kind: req.Kind, IssuedAt: req.IssuedAt, OrderNumber: o.Number, OrderDate: o.PlacedAt,
		OriginalNumber: req.OriginalInvoiceNumber, Seller: req.Seller, Buyer: req.Buyer,
		Currency: o.Currency, Lines: o.Lines, Taxes: o.Taxes, Totals: o.Totals, Footer: cfg.FooterNote,
	}
	if d.IssuedAt.IsZero() {
		d.IssuedAt = now.UTC().Truncate(time.Second)
	}
	if d.Seller.Name == "" && d.Seller.Company == "" {
		d.Seller = o.Seller
	}
	if d.Buyer.Name == "" && d.Buyer.Company == "" {
		d.Buyer = o.Buyer
	}
	d.Seller = overrideSeller(d.Seller, cfg.Seller)
	if d.Currency == "" {
		d.Currency = o.Totals.Total.Currency
	}
	var problems []invoice.Problem
	add := func(field, code, msg string) {
		problems = append(problems, invoice.Problem{Field: field, Code: code, Message: msg})
	}
	if !currencyPattern.MatchString(d.Currency) {
		add("order.currency", CodeInvalidCurrency, fmt.Sprintf("%q is not an ISO 4217 currency code", d.Currency))
	}
	checkMoney := func(field string, m sdk.Money, mayBeNegative bool) {
		if m.Currency != "" && m.Currency != d.Currency {
			add(field, CodeCurrencyMismatch, fmt.Sprintf("amount in %s on a document in %s", m.Currency, d.Currency))
		}
		if m.Amount < 0 && !mayBeNegative {
			add(field, CodeNegativeAmount, "amounts must not be negative (a credit note shows credited amounts as negative by itself)")
		}
	}
	if displayName(d.Seller) == "" {
		add("seller.name", CodeSellerIncomplete, "the seller has no name: fill in the store's legal details or the seller setting of the plugin")
	}
	if displayName(d.Buyer) == "" {
		add("buyer.name", CodeBuyerIncomplete, "the buyer has neither a name nor a company name")
	}
	if d.Buyer.TaxID != "" && !validTaxID(d.Buyer.TaxID) {
		add("buyer.tax_id", CodeInvalidTaxID, fmt.Sprintf("%q does not look like a tax id (4 to 20 letters and digits)", d.Buyer.TaxID))
	}
	if d.Seller.TaxID != "" && !validTaxID(d.Seller.TaxID) {
		add("seller.tax_id", CodeInvalidTaxID, fmt.Sprintf("%q does not look like a tax id (4 to 20 letters and digits)", d.Seller.TaxID))
	}
	for i, l := range d.Lines {
		at := fmt.Sprintf("order.lines[%d]", i)
		if l.Quantity <= 0 {
			add(at+".quantity", CodeInvalidQuantity, fmt.Sprintf("quantity %d of %q must be positive", l.Quantity, l.Name))
		}
		checkMoney(at+".unit_price", l.UnitPrice, false)
		checkMoney(at+".discount", l.Discount, false)
		checkMoney(at+".tax", l.Tax, false)
		checkMoney(at+".total", l.Total, false)
	}
	for i, t := range d.Taxes {
		checkMoney(fmt.Sprintf("order.taxes[%d].amount", i), t.Amount, false)
		checkMoney(fmt.Sprintf("order.taxes[%d].base", i), t.Base, false)
	}
	t := d.Totals
	for field, m := range map[string]sdk.Money{"subtotal": t.Subtotal, "discount": t.Discount, "shipping": t.Shipping,
		"tax": t.Tax, "total": t.Total, "paid": t.Paid, "refunded": t.Refunded} {
		checkMoney("order.totals."+field, m, false)
	}
	switch d.Kind {
	case invoice.DocumentCreditNote:
		if d.OriginalNumber == "" {
			add("original_invoice_number", CodeOriginalInvoiceRequired, "a credit note must name the invoice it corrects")
		}
		if len(d.Lines) == 0 {
			if t.Total.Amount <= 0 {
				add("order.totals.total", CodeNothingToCredit, "the credit note has neither lines nor an amount")
			} else {
				// A refund of an amount rather than of lines: one line of
				// the amount, holding the tax Kassa credits with it.
				d.Lines = []invoice.OrderLine{{Name: "Refund for order " + d.OrderNumber, Quantity: 1, UnitPrice: t.Total,
					Tax: t.Tax, Total: t.Total, PricesIncludeTax: true}}
				if d.Totals.Subtotal.Amount == 0 {
					d.Totals.Subtotal = t.Total
				}
			}
		}
	default:
		if len(d.Lines) == 0 {
			add("order.lines", CodeNoLines, "an invoice needs at least one line")
		}
	}
	return d, problems
}

// overrideSeller applies the non-empty fields of the seller setting.
func overrideSeller(p invoice.Party, o *sellerInfo) invoice.Party {
	if o == nil {
		return p
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&p.Name, o.Name)
	set(&p.Company, o.Company)
	set(&p.TaxID, o.TaxID)
	set(&p.Email, o.Email)
	set(&p.Phone, o.Phone)
	set(&p.Address.PostalCode, o.PostalCode)
	set(&p.Address.City, o.City)
	set(&p.Address.Region, o.Region)
	set(&p.Address.Country, o.Country)
	if len(o.AddressLines) > 0 {
		p.Address.Lines = o.AddressLines
	}
	return p
}
