package plugin

import (
	"context"

	"github.com/kassahq/kassa/core/invoice"
	"github.com/kassahq/kassa/plugins/sdk/host"
	sdkinv "github.com/kassahq/kassa/plugins/sdk/invoice"
)

// ruleAdapter makes an invoice plugin process satisfy invoice.Rule.
type ruleAdapter struct{ inst *instance }

var _ invoice.Rule = (*ruleAdapter)(nil)

var invoiceSentinels = domainSentinels{unknown: invoice.ErrOutcomeUnknown, notSupported: invoice.ErrNotSupported}

// ID implements invoice.Rule.
func (r *ruleAdapter) ID() string { return r.inst.id }

func (r *ruleAdapter) do(ctx context.Context, method string, fn func(ctx context.Context, rule sdkinv.Rule) error) error {
	return r.inst.call(ctx, "InvoiceRule."+method, invoiceSentinels, func(ctx context.Context, p *host.Plugin) error {
		rule, err := p.Rule()
		if err != nil {
			return err
		}
		return fn(ctx, rule)
	})
}

// Evaluate implements invoice.Rule.
func (r *ruleAdapter) Evaluate(ctx context.Context, ev invoice.OrderEvent) (invoice.Decision, error) {
	var out invoice.Decision
	err := r.do(ctx, "Evaluate", func(ctx context.Context, rule sdkinv.Rule) error {
		d, err := rule.Evaluate(ctx, sdkinv.Event{
			Type: ev.Type, ID: ev.ID, Order: orderToSDK(ev.Order), Refund: toSDKMoney(ev.Refund),
			InvoiceNumbers: ev.InvoiceNumbers, OccurredAt: ev.OccurredAt,
		})
		if err != nil {
			return err
		}
		out = invoice.Decision{Issue: d.Issue, Kind: kindFromSDK(d.Kind), Reason: d.Reason}
		return nil
	})
	return out, err
}

// IssueInvoice implements invoice.Rule. seq is served to the plugin for the
// duration of the call.
func (r *ruleAdapter) IssueInvoice(ctx context.Context, req invoice.IssueRequest, seq invoice.Sequence) (invoice.Document, error) {
	var out invoice.Document
	err := r.do(ctx, "IssueInvoice", func(ctx context.Context, rule sdkinv.Rule) error {
		var s sdkinv.Sequence
		if seq != nil {
			s = sdkinv.SequenceFunc(seq.Next)
		}
		kind := sdkinv.DocumentInvoice
		if req.Kind == invoice.KindCreditNote {
			kind = sdkinv.DocumentCreditNote
		}
		doc, err := rule.IssueInvoice(ctx, sdkinv.IssueRequest{
			Order: orderToSDK(req.Order), Seller: partyToSDK(req.Seller), Buyer: partyToSDK(req.Buyer), Kind: kind,
			OriginalInvoiceNumber: req.OriginalInvoiceNumber, IdempotencyKey: req.IdempotencyKey,
			Locale: req.Locale, IssuedAt: req.IssuedAt,
		}, s)
		if err != nil {
			return err
		}
		out = invoice.Document{
			Number: doc.Number, Content: doc.Content, MimeType: doc.MimeType, FileName: doc.FileName,
			IssuedAt: doc.IssuedAt, Problems: problemsFromSDK(doc.Problems),
		}
		return nil
	})
	return out, err
}

// VoidInvoice implements invoice.Rule.
func (r *ruleAdapter) VoidInvoice(ctx context.Context, req invoice.VoidRequest) (invoice.VoidResult, error) {
	var out invoice.VoidResult
	err := r.do(ctx, "VoidInvoice", func(ctx context.Context, rule sdkinv.Rule) error {
		res, err := rule.VoidInvoice(ctx, sdkinv.VoidRequest{
			Number: req.Number, Reason: req.Reason, IdempotencyKey: req.IdempotencyKey, Order: orderToSDK(req.Order),
		})
		if err != nil {
			return err
		}
		out = invoice.VoidResult{Voided: res.Voided, Problems: problemsFromSDK(res.Problems)}
		return nil
	})
	return out, err
}

func kindFromSDK(k sdkinv.DocumentKind) invoice.DocumentKind {
	if k == sdkinv.DocumentCreditNote {
		return invoice.KindCreditNote
	}
	return invoice.KindInvoice
}

func problemsFromSDK(ps []sdkinv.Problem) []invoice.Problem {
	if len(ps) == 0 {
		return nil
	}
	out := make([]invoice.Problem, len(ps))
	for i, p := range ps {
		out[i] = invoice.Problem{Field: p.Field, Code: p.Code, Message: p.Message}
	}
	return out
}

func partyToSDK(p invoice.Party) sdkinv.Party {
	return sdkinv.Party{
		Name: p.Name, Company: p.Company, TaxID: p.TaxID, Email: p.Email, Phone: p.Phone,
		Address: sdkinv.Address{
			Lines: p.Address.Lines, City: p.Address.City, PostalCode: p.Address.PostalCode,
			Region: p.Address.Region, Country: p.Address.Country,
		},
	}
}

func orderToSDK(o invoice.Order) sdkinv.Order {
	out := sdkinv.Order{
		ID: o.ID, Number: o.Number, StoreID: o.StoreID, PlacedAt: o.PlacedAt,
		Seller: partyToSDK(o.Seller), Buyer: partyToSDK(o.Buyer),
		PaymentStatus: o.PaymentStatus, FulfillmentStatus: o.FulfillmentStatus, Locale: o.Locale, Metadata: o.Metadata,
		Totals: sdkinv.Totals{
			Subtotal: toSDKMoney(o.Totals.Subtotal), Discount: toSDKMoney(o.Totals.Discount),
			Shipping: toSDKMoney(o.Totals.Shipping), Tax: toSDKMoney(o.Totals.Tax), Total: toSDKMoney(o.Totals.Total),
			Paid: toSDKMoney(o.Totals.Paid), Refunded: toSDKMoney(o.Totals.Refunded),
		},
	}
	if !o.Currency.IsZero() {
		out.Currency = o.Currency.Code()
	}
	for _, l := range o.Lines {
		out.Lines = append(out.Lines, sdkinv.OrderLine{
			ID: l.ID, SKU: l.SKU, Name: l.Name, Quantity: l.Quantity, UnitPrice: toSDKMoney(l.UnitPrice),
			Discount: toSDKMoney(l.Discount), TaxRate: l.TaxRate, Tax: toSDKMoney(l.Tax), Total: toSDKMoney(l.Total),
			PricesIncludeTax: l.PricesIncludeTax,
		})
	}
	for _, t := range o.Taxes {
		out.Taxes = append(out.Taxes, sdkinv.TaxLine{Name: t.Name, Rate: t.Rate, Base: toSDKMoney(t.Base), Amount: toSDKMoney(t.Amount)})
	}
	return out
}
