package resolver

import (
	"context"
	"errors"
	"iter"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/payment"
)

// paymentReads loads what orders show of their payments: Order.payments,
// refunds, paymentLedger and the amounts, for every order of a response
// in one batch (ADR 0003), before the orders' fields run, so those
// fields are plain getters. A nil service loads nothing (the orders show
// no payments).
type paymentReads struct {
	svc *payment.Service
}

// paySelection says which payment fields of Order a selection reads.
type paySelection struct {
	payments, events, refunds, ledger, amounts bool
}

// everyPaymentField is the selection of a subscription started without
// its selected fields (WithSubscriptionFields): everything the caller may
// see.
var everyPaymentField = paySelection{payments: true, events: true, refunds: true, ledger: true, amounts: true}

// selectedPayments reports which payment fields of Order the selection
// under ctx reads at any of the path prefixes ("" for the order's own
// fields, "nodes." and "edges.node." for a page of orders, "order." for
// a payload's order), and through the order of its payments
// (payments.order.refunds): that order is the same one, already loaded.
func selectedPayments(ctx context.Context, prefixes ...string) paySelection {
	return paymentsIn(orderFieldPaths(ctx, prefixes))
}

// paymentsIn reports which payment fields of Order the order-relative
// paths read.
func paymentsIn(paths iter.Seq[string]) paySelection {
	var s paySelection
	for rest := range paths {
		switch rest {
		case "payments":
			s.payments = true
		case "payments.events":
			s.events = true
		case "refunds":
			s.refunds = true
		case "paymentLedger":
			s.ledger = true
		case "amountPaid", "amountRefunded", "amountAuthorized", "amountOutstanding":
			s.amounts = true
		}
	}
	return s
}

// load fills the payment fields of the orders that sel reads, as the
// caller may see them. Staff and API keys read through the staff batch
// reads (payment read, refund read: a caller without them gets
// FORBIDDEN, as for any field they may not see); buyers and guests
// through the buyer's read of their own orders (token: the guest's access
// token the orders were read by), which shows them no ledger and no
// gateway events. Every node must have been read through the order
// service as the caller may see it: the buyer's read trusts them. With lenient,
// a piece the caller may not see is left empty instead (subscriptions,
// which read everything).
func (p paymentReads) load(ctx context.Context, nodes []*orderResolver, token string, sel paySelection, lenient bool) error {
	if p.svc == nil || len(nodes) == 0 || sel == (paySelection{}) {
		return nil
	}
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.o.ID
		n.pay = &orderPayments{}
	}
	refused := func(err error) bool {
		return lenient && (errors.Is(err, errs.ErrForbidden) || errors.Is(err, errs.ErrUnauthenticated))
	}
	if !actsForShop(ctx) {
		if !sel.payments && !sel.refunds && !sel.amounts {
			return nil // buyers see no ledger
		}
		// The orders were read as the caller may see them (by the token
		// when there is one): the payment service takes them as read and
		// reads none of them again.
		opened := make([]payment.OpenedOrder, len(nodes))
		for i, n := range nodes {
			opened[i] = payment.OpenedOrder{ID: n.o.ID, ByAccessToken: token != ""}
			if n.o.CustomerID != nil {
				opened[i].CustomerID = *n.o.CustomerID
			}
		}
		m, err := p.svc.PaymentsOfOpenedOrders(ctx, opened)
		if err != nil {
			if refused(err) {
				return nil
			}
			return err
		}
		for _, n := range nodes {
			op := m[n.o.ID]
			if op == nil {
				continue // not the caller's order
			}
			n.pay.payments = paymentsOf(op.Attempts, false, nil, n)
			n.pay.refunds = refundsOf(op.Refunds, false)
			n.pay.amounts, n.pay.amountsRead = op.Amounts, true
		}
		return nil
	}
	if sel.payments {
		atts, err := p.svc.AttemptsOf(ctx, ids)
		switch {
		case refused(err):
		case err != nil:
			return err
		default:
			var evs map[string][]*payment.EventRecord
			if sel.events {
				if evs, err = p.svc.EventsOf(ctx, ids); err != nil && !refused(err) {
					return err
				}
			}
			for _, n := range nodes {
				n.pay.payments = paymentsOf(atts[n.o.ID], true, evs[n.o.ID], n)
			}
		}
	}
	if sel.refunds {
		refs, err := p.svc.RefundsOf(ctx, ids)
		switch {
		case refused(err):
		case err != nil:
			return err
		default:
			for _, n := range nodes {
				n.pay.refunds = refundsOf(refs[n.o.ID], true)
			}
		}
	}
	if sel.ledger {
		rows, err := p.svc.LedgerOf(ctx, ids)
		switch {
		case refused(err):
		case err != nil:
			return err
		default:
			for _, n := range nodes {
				n.pay.ledger = make([]*ledgerResolver, len(rows[n.o.ID]))
				for i, e := range rows[n.o.ID] {
					n.pay.ledger[i] = &ledgerResolver{e: e}
				}
			}
		}
	}
	if sel.amounts {
		am, err := p.svc.AmountsOf(ctx, ids)
		switch {
		case refused(err):
		case err != nil:
			return err
		default:
			for _, n := range nodes {
				if a, ok := am[n.o.ID]; ok {
					n.pay.amounts = &a
				}
				n.pay.amountsRead = true
			}
		}
	}
	return nil
}

// paymentsOf resolves an order's attempts listed under it: their order is
// the parent, and staff get their gateway events (from evs, the order's).
func paymentsOf(atts []*payment.Attempt, staff bool, evs []*payment.EventRecord, parent *orderResolver) []*paymentResolver {
	out := make([]*paymentResolver, len(atts))
	for i, a := range atts {
		out[i] = newPayment(a, staff)
		out[i].order = parent
	}
	for _, e := range evs {
		if e.AttemptID == nil {
			continue
		}
		for _, p := range out {
			if p.a.ID == *e.AttemptID {
				p.events = append(p.events, &paymentEventResolver{e: e})
			}
		}
	}
	return out
}

// refundsOf resolves an order's refunds.
func refundsOf(refs []*payment.Refund, staff bool) []*refundResolver {
	out := make([]*refundResolver, len(refs))
	for i, r := range refs {
		out[i] = &refundResolver{r: r, staff: staff}
	}
	return out
}

// paidOrder loads the payment fields of one order that the selection
// reads at prefix, for the order queries and payloads; token is a guest's
// access token.
func (r *orderRoot) paidOrder(ctx context.Context, o *orderResolver, token, prefix string) (*orderResolver, error) {
	if err := r.pay.load(ctx, []*orderResolver{o}, token, selectedPayments(ctx, prefix), false); err != nil {
		return nil, err
	}
	return o, nil
}

// paidConnection loads the payment fields of a page of orders that the
// selection reads, in one batch for the page.
func (r *orderRoot) paidConnection(ctx context.Context, c *orderConnection) (*orderConnection, error) {
	if err := r.pay.load(ctx, c.nodes, "", selectedPayments(ctx, "nodes.", "edges.node."), false); err != nil {
		return nil, err
	}
	return c, nil
}
