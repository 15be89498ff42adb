package main

import (
	"context"
	"fmt"

	"github.com/kassahq/kassa/plugins/sdk/invoice"
)

// Order events Evaluate understands (Kassa's event names without the
// "kassa." prefix).
const (
	// EventOrderPaid: the order is paid in full.
	EventOrderPaid = "order.paid"
	// EventOrderFulfilled: the order is shipped (fulfillment FULFILLED).
	EventOrderFulfilled = "order.fulfilled"
	// EventOrderShipped is a synonym of EventOrderFulfilled.
	EventOrderShipped = "order.shipped"
	// EventRefundSucceeded: money went back to the buyer.
	EventRefundSucceeded = "refund.succeeded"
	// EventInvoiceRequested: staff or the buyer asked for an invoice.
	EventInvoiceRequested = "invoice.requested"
)

// Evaluate decides, by the issue_on setting, whether an order event calls
// for a document:
//
//   - invoice.requested issues an invoice in every mode (an explicit request);
//   - order.paid issues one with on_paid, order.fulfilled (or order.shipped)
//     with on_fulfilled;
//   - refund.succeeded issues a credit note when the order has an invoice
//     and credit_note_on_refund is on;
//   - an order that already has an invoice never gets a second one, and
//     other events issue nothing.
//
// The order's existing documents come from Event.InvoiceNumbers; invoices
// and credit notes are told apart by their prefixes.
func (r *Rule) Evaluate(_ context.Context, ev invoice.Event) (invoice.Decision, error) {
	cfg := r.settings()
	var invoiceNo string
	for _, n := range ev.InvoiceNumbers {
		if !cfg.isCreditNote(n) {
			invoiceNo = n
		}
	}
	issueInvoice := func(why string) invoice.Decision {
		if invoiceNo != "" {
			return invoice.Decision{Reason: fmt.Sprintf("%s, but the order already has invoice %s", why, invoiceNo)}
		}
		return invoice.Decision{Issue: true, Kind: invoice.DocumentInvoice, Reason: why}
	}
	switch ev.Type {
	case EventInvoiceRequested:
		return issueInvoice("an invoice was requested"), nil
	case EventOrderPaid:
		if cfg.IssueOn != IssueOnPaid {
			return invoice.Decision{Reason: fmt.Sprintf("invoices are issued %s, not on payment", modeText(cfg.IssueOn))}, nil
		}
		return issueInvoice("the order was paid (invoices are issued on payment)"), nil
	case EventOrderFulfilled, EventOrderShipped:
		if cfg.IssueOn != IssueOnFulfilled {
			return invoice.Decision{Reason: fmt.Sprintf("invoices are issued %s, not on shipping", modeText(cfg.IssueOn))}, nil
		}
		return issueInvoice("the order was shipped (invoices are issued on shipping)"), nil
	case EventRefundSucceeded:
		switch {
		case invoiceNo == "":
			return invoice.Decision{Reason: "refund of an order without an invoice: no credit note needed"}, nil
		case !cfg.creditNoteOnRefund():
			return invoice.Decision{Reason: "credit notes on refund are turned off in the settings"}, nil
		case ev.Refund.Amount <= 0:
			return invoice.Decision{Reason: "the refund has no amount: no credit note"}, nil
		}
		return invoice.Decision{Issue: true, Kind: invoice.DocumentCreditNote,
			Reason: fmt.Sprintf("refund of %s on invoice %s", formatMoney(ev.Refund.Amount, ev.Refund.Currency), invoiceNo)}, nil
	}
	return invoice.Decision{Reason: fmt.Sprintf("event %q does not call for a document", ev.Type)}, nil
}

func modeText(mode string) string {
	switch mode {
	case IssueOnPaid:
		return "on payment"
	case IssueOnFulfilled:
		return "on shipping"
	default:
		return "on request only"
	}
}

// settings returns the settings in effect, or the defaults (issue on
// request) before Configure.
func (r *Rule) settings() *settings {
	if s := r.cfg.Load(); s != nil {
		return s
	}
	return &settings{IssueOn: IssueOnRequest}
}
