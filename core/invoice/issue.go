package invoice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/money"
)

// cause is what an event asks documents for.
type cause struct {
	typ      string // eventOrderPaid or eventRefundSucceeded
	orderID  string
	refundID string
	amount   money.Money
}

// decodeCause reads the part of a consumed event's payload Handle needs;
// ok is false for events it does not handle.
func decodeCause(e events.Event) (cause, bool, error) {
	switch e.Subject {
	case SubjectOrderPaid:
		var p struct {
			OrderID string `json:"orderId"`
		}
		if err := e.Decode(&p); err != nil {
			return cause{}, true, err
		}
		return cause{typ: eventOrderPaid, orderID: p.OrderID}, true, nil
	case SubjectRefundSucceeded:
		var p struct {
			RefundID string      `json:"refundId"`
			OrderID  string      `json:"orderId"`
			Amount   money.Money `json:"amount"`
		}
		if err := e.Decode(&p); err != nil {
			return cause{}, true, err
		}
		if p.RefundID == "" {
			return cause{}, true, errors.New("the refund event names no refund")
		}
		return cause{typ: eventRefundSucceeded, orderID: p.OrderID, refundID: p.RefundID, amount: p.Amount}, true, nil
	}
	return cause{}, false, nil
}

// Wants reports whether Handle may act on e: an order paid or a refund
// that succeeded, while an invoice rule is enabled (the plugin service
// keeps that list in memory). It answers true when the rules cannot be
// listed, so Handle runs and retries. For delivery.OnlyWanted: a shop
// without an invoice rule reads no order and journals nothing.
func (s *Service) Wants(ctx context.Context, e events.Event) bool {
	if e.Subject != SubjectOrderPaid && e.Subject != SubjectRefundSucceeded {
		return false
	}
	rules, err := s.opt.Rules.Rules(ctx)
	return err != nil || len(rules) > 0
}

// Handle is the invoice consumer: for an order paid or a refund that
// succeeded, it asks every enabled rule whether the event calls for a
// document (Evaluate) and issues the one it calls for (IssueInvoice),
// numbered from the rule's gapless sequences and stored with the event
// kassa.invoice.issued. Run it from a durable subscription to Subjects,
// journaled (core/delivery): delivery is at least once, and the
// document's idempotency key, derived from the event, makes a second
// delivery issue nothing. It returns an error, so the bus delivers again
// later, when a rule could not be asked (a plugin down, an outcome
// unknown: the retry gets the same number); a rule's refusal (its
// problems, INVOICE_REFUSED) is permanent, a dead letter staff replay
// once the cause is fixed. No transaction is held while a rule works:
// the rule's sequence calls commit on their own.
func (s *Service) Handle(ctx context.Context, e events.Event) error {
	c, ok, err := decodeCause(e)
	if !ok {
		return nil
	}
	if err == nil && c.orderID == "" {
		err = errors.New("the event names no order")
	}
	if err != nil {
		return events.Permanent(fmt.Errorf("invoice: decode %s %s: %w", e.Subject, e.ID, err))
	}
	rules, err := s.opt.Rules.Rules(ctx)
	if err != nil {
		return fmt.Errorf("invoice: list the invoice rules: %w", err)
	}
	if len(rules) == 0 {
		return nil
	}
	o, err := s.opt.Orders.Order(ctx, c.orderID)
	if errors.Is(err, errs.ErrNotFound) {
		s.log.WarnContext(ctx, "document asked for an order that does not exist", "event", e.ID, "order", c.orderID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("invoice: read order %s: %w", c.orderID, err)
	}
	var refund *Refund
	if c.typ == eventRefundSucceeded {
		if refund, err = s.opt.Orders.Refund(ctx, c.orderID, c.refundID); err != nil {
			return fmt.Errorf("invoice: read refund %s: %w", c.refundID, err)
		}
	}
	var retry, permanent []error
	for _, r := range rules {
		err := s.issue(ctx, r, e, c, o, refund)
		switch {
		case err == nil:
		case events.IsPermanent(err):
			permanent = append(permanent, err)
		default:
			retry = append(retry, err)
		}
	}
	if len(retry) > 0 {
		// The rules that issued their document are skipped next time.
		return errors.Join(append(retry, permanent...)...)
	}
	if len(permanent) > 0 {
		return events.Permanent(errors.Join(permanent...))
	}
	return nil
}

// issue runs one rule on one event.
func (s *Service) issue(ctx context.Context, r Rule, e events.Event, c cause, o *Order, refund *Refund) error {
	ruleID := r.ID()
	key := e.ID
	if _, err := s.store.InvoiceByKey(ctx, ruleID, key); err == nil {
		return nil // issued at an earlier delivery
	} else if !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	docs, err := s.store.InvoicesOfOrders(ctx, []string{o.ID})
	if err != nil {
		return err
	}
	var numbers []string
	original := ""
	for _, d := range docs {
		if d.RuleID != ruleID {
			continue
		}
		numbers = append(numbers, d.Number)
		if d.Kind == KindInvoice {
			original = d.Number
		}
	}
	ev := OrderEvent{Type: c.typ, ID: e.ID, Order: *o, InvoiceNumbers: numbers, OccurredAt: e.OccurredAt}
	if refund != nil {
		ev.Refund = refund.Amount
	}
	dec, err := r.Evaluate(ctx, ev)
	if err != nil {
		return fmt.Errorf("%s: evaluate %s: %w", ruleID, e.Subject, err)
	}
	if !dec.Issue {
		s.log.DebugContext(ctx, "no document", "rule", ruleID, "event", e.ID, "order", o.ID, "reason", dec.Reason)
		return nil
	}
	kind := dec.Kind
	if kind != KindCreditNote {
		kind = KindInvoice
	}
	if kind == KindCreditNote && refund == nil {
		return events.Permanent(refused(ruleID, []Problem{{Code: "no_refund", Message: "a credit note is issued for a refund, and " + e.Subject + " is none"}}))
	}
	req := IssueRequest{
		Order: documentOrder(o, kind, refund), Seller: s.opt.Seller, Buyer: o.Buyer, Kind: kind,
		IdempotencyKey: key, Locale: o.Locale,
		// The event's time, not the clock's: a retry, even after the
		// plugin lost its own records, renders the same document.
		IssuedAt: e.OccurredAt.UTC().Truncate(time.Second),
	}
	if kind == KindCreditNote {
		req.OriginalInvoiceNumber = original
	}
	req.Order.Seller = s.opt.Seller
	doc, err := r.IssueInvoice(ctx, req, s.Sequence(ruleID))
	if err != nil {
		return fmt.Errorf("%s: issue %s for %s: %w", ruleID, strings.ToLower(string(kind)), e.ID, err)
	}
	if len(doc.Problems) > 0 {
		s.log.WarnContext(ctx, "invoice rule refused a document", "rule", ruleID, "event", e.ID, "order", o.ID, "problems", len(doc.Problems))
		return events.Permanent(refused(ruleID, doc.Problems))
	}
	d, err := s.newInvoice(ruleID, kind, doc, o, refund, original, e)
	if err != nil {
		return events.Permanent(err)
	}
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		fresh, err := s.store.InsertInvoice(ctx, d)
		if err != nil || !fresh {
			return err
		}
		return s.emit(ctx, SubjectIssued, Issued{DocumentID: d.ID, OrderID: d.OrderID, RuleID: ruleID, Kind: kind,
			Number: d.Number, Total: d.Total(), CauseEventID: e.ID})
	})
	if err != nil {
		return fmt.Errorf("%s: store %s: %w", ruleID, doc.Number, err)
	}
	s.log.InfoContext(ctx, "document issued", "rule", ruleID, "kind", kind, "number", d.Number, "order", o.ID, "event", e.ID)
	return nil
}

// newInvoice checks what a rule answered and makes the row to keep.
func (s *Service) newInvoice(ruleID string, kind DocumentKind, doc Document, o *Order, refund *Refund, original string, e events.Event) (*Invoice, error) {
	switch {
	case doc.Number == "" || len(doc.Number) > maxNumber || !utf8.ValidString(doc.Number):
		return nil, badDocument(ruleID, fmt.Sprintf("a number of 1 to %d bytes of text is required", maxNumber))
	case len(doc.Content) == 0:
		return nil, badDocument(ruleID, "the document is empty")
	case len(doc.Content) > MaxContent:
		return nil, badDocument(ruleID, fmt.Sprintf("the document has %d bytes, more than %d", len(doc.Content), MaxContent))
	}
	mime := doc.MimeType
	if mime == "" {
		mime = "application/pdf"
	}
	name := doc.FileName
	if name == "" || len(name) > maxFileName || !utf8.ValidString(name) {
		name = doc.Number + ".pdf"
	}
	issued := doc.IssuedAt
	if issued.IsZero() {
		issued = e.OccurredAt
	}
	total := o.Totals.Total
	if kind == KindCreditNote {
		total = refund.Amount
	}
	sum := sha256.Sum256(doc.Content)
	d := &Invoice{
		ID: id.New("inv"), OrderID: o.ID, RuleID: ruleID, Kind: kind, Number: doc.Number,
		IssuedAt: issued.UTC().Truncate(time.Microsecond), Currency: total.Currency(), TotalAmount: total.Amount(),
		MimeType: mime, FileName: name, Content: doc.Content, ContentSize: int64(len(doc.Content)),
		ContentSHA256: hex.EncodeToString(sum[:]), CauseEventID: e.ID, CauseSubject: e.Subject,
		IdempotencyKey: e.ID, CreatedAt: s.now(),
	}
	if kind == KindCreditNote {
		d.OriginalNumber = original
	}
	return d, nil
}

// documentOrder is the order as a document shows it: the whole order for
// an invoice; for a credit note, what the refund gives back (the lines'
// refunded units at their share of the line, shipping, the amount),
// credited against the original invoice.
func documentOrder(o *Order, kind DocumentKind, refund *Refund) Order {
	if kind != KindCreditNote || refund == nil {
		return *o
	}
	out := *o
	cur := refund.Amount.Currency()
	zero := money.Zero(cur)
	out.Lines, out.Taxes = nil, nil
	byID := make(map[string]Line, len(o.Lines))
	for _, l := range o.Lines {
		byID[l.ID] = l
	}
	// The shipping's tax given back with it is tax credited too; the
	// subtotal is, as on the invoice, the lines' prices: net of their tax
	// where it was added to them.
	subtotal, tax := int64(0), refund.ShippingTax.Amount()
	for _, rl := range refund.Lines {
		ol, ok := byID[rl.LineID]
		if !ok || ol.Quantity <= 0 {
			continue
		}
		// The refunded units' share of the line's tax and discount, as
		// the refund's share of the line's total was computed: the last
		// units carry what rounding left, so the credit notes of a line
		// credit all of its tax.
		share := func(m money.Money) money.Money {
			return money.New(m.Amount(), cur).Share(ol.Quantity, rl.Before, rl.Quantity)
		}
		out.Lines = append(out.Lines, Line{
			ID: ol.ID, SKU: ol.SKU, Name: ol.Name, Quantity: rl.Quantity, UnitPrice: ol.UnitPrice,
			Discount: share(ol.Discount), TaxRate: ol.TaxRate, Tax: share(ol.Tax), Total: rl.Amount,
			PricesIncludeTax: ol.PricesIncludeTax,
		})
		subtotal += rl.Amount.Amount()
		if !ol.PricesIncludeTax {
			subtotal -= share(ol.Tax).Amount()
		}
		tax += share(ol.Tax).Amount()
	}
	out.Totals = Totals{Subtotal: money.New(subtotal, cur), Discount: zero, Shipping: refund.Shipping, Tax: money.New(tax, cur),
		Total: refund.Amount, Paid: zero, Refunded: zero}
	out.Taxes = TaxSummary(out.Totals, o.TaxName, o.TaxRate)
	if len(out.Lines) == 0 {
		// A refund of an amount: the rule credits the total as one line.
		// It lowers the price the buyer paid, and with it the tax: the
		// order's tax in proportion (one rate taxes the whole order), or
		// the seller would owe tax on money given back.
		out.Totals.Subtotal, out.Totals.Shipping, out.Totals.Tax = zero, zero, proportionalTax(o.Totals, refund.Amount)
		out.Taxes = TaxSummary(out.Totals, o.TaxName, o.TaxRate)
	}
	return out
}

// proportionalTax is the part of the tax of an order whose totals are t
// that amount, part of its total, carries: rounded half up, zero for an
// order without tax or total.
func proportionalTax(t Totals, amount money.Money) money.Money {
	if t.Tax.Amount() == 0 || t.Total.Amount() <= 0 {
		return money.Zero(amount.Currency())
	}
	tax, err := amount.MulRate(t.Tax.Amount(), t.Total.Amount(), money.HalfUp)
	if err != nil {
		// The tax is part of the total, so the share is at most amount.
		return money.Zero(amount.Currency())
	}
	return tax
}

// TaxSummary is the tax breakdown of a document whose totals are t: one
// line of all its tax, named name ("Tax" when empty) at rate (percent,
// may be empty), on the base it was charged on (the total less the tax),
// or none when it has no tax. The order's lines and its shipping are
// taxed at one rate; a breakdown from the lines alone would leave the
// shipping's tax out, and the document's tax would not add up to its
// total.
func TaxSummary(t Totals, name, rate string) []TaxLine {
	if t.Tax.Amount() == 0 {
		return nil
	}
	if name == "" {
		name = "Tax"
	}
	return []TaxLine{{Name: name, Rate: rate, Base: money.New(t.Total.Amount()-t.Tax.Amount(), t.Total.Currency()), Amount: t.Tax}}
}
