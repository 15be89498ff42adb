package payment

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/money"
)

// RefundInput refunds part or all of an order's captured money: by lines
// (their share of what they cost), shipping, and/or an amount.
type RefundInput struct {
	OrderID string
	// Amount is the refund's total. When nil it is the lines' share plus
	// Shipping; when given with lines or shipping it must equal their sum.
	Amount *money.Money
	// Shipping is the shipping part, at most the order's shipping.
	Shipping *money.Money
	// Lines are order lines given back, each with how many units.
	Lines []RefundLineInput
	// Reason is shown to staff and sent to the gateway.
	Reason string
	// IdempotencyKey makes a retried request return the first refund.
	// Required: money leaves.
	IdempotencyKey string
}

// RefundLineInput is a line of a refund.
type RefundLineInput struct {
	LineID   string
	Quantity int64
}

// Refund gives money back to the buyer through the order's gateway.
// Needs refund write. The amount is reserved against what was captured
// net of earlier and pending refunds in one conditional UPDATE of the
// attempt and of the order's balance before the gateway is asked, so two
// staff members refunding at once never exceed the capture
// (REFUND_EXCEEDS_CAPTURED), and the gateway's refund key is the refund's
// id, so a retry never refunds twice. Lines and shipping are refunded at
// most once: what the order's refunds not FAILED gave back of each line
// and of the shipping is checked under the same reservation, so two
// refunds of the same unit racing give it back once
// (LINE_ALREADY_REFUNDED, SHIPPING_ALREADY_REFUNDED). The refund is
// returned SUCCEEDED, FAILED (the reservation released), PENDING (the
// gateway settles later) or UNKNOWN (no answer: reconciled with
// GetRefund). Other codes: NOTHING_TO_REFUND, REFUND_AMOUNT_MISMATCH,
// LINE_NOT_FOUND, INVALID_QUANTITY, INVALID_AMOUNT, ORDER_NOT_FOUND, and
// the idempotency codes.
func (s *Service) Refund(ctx context.Context, in RefundInput) (*Refund, error) {
	if err := s.authz.Can(ctx, authz.Refund, authz.Write); err != nil {
		return nil, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	var v errs.Validator
	v.Check(in.OrderID != "", "orderId", CodeRequired, "name the order")
	v.Check(utf8.RuneCountInString(in.Reason) <= MaxReason, "reason", CodeTooLong, fmt.Sprintf("at most %d characters", MaxReason))
	if !idempotency.ValidKey(in.IdempotencyKey) {
		v.Add(errs.Invalid(idempotency.Field, idempotency.CodeInvalidKey, "a refund needs an idempotency key of 1 to 255 printable ASCII characters"))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	o, err := s.orders.Order(ctx, in.OrderID)
	if errors.Is(err, errsNotFound) {
		return nil, orderNotFound()
	}
	if err != nil {
		return nil, err
	}
	var orderLines []OrderLine
	if len(in.Lines) > 0 {
		if orderLines, err = s.orders.OrderLines(ctx, in.OrderID); err != nil {
			return nil, err
		}
	}
	total, shipping, lines, err := refundAmount(o, orderLines, in)
	if err != nil {
		return nil, err
	}
	staffID := authz.SubjectFrom(ctx).ID
	var ref *Refund
	fresh := false
	req := fmt.Sprintf("%s\x00%d\x00%d\x00%v\x00%s", o.ID, total, shipping, lines, in.Reason)
	refundID, err := s.keys.Do(ctx, "payment.refund", in.IdempotencyKey, []byte(req), func(ctx context.Context) ([]byte, error) {
		atts, err := s.store.AttemptsOfOrders(ctx, []string{o.ID})
		if err != nil {
			return nil, err
		}
		// The latest captured attempt that covers the refund.
		var att *Attempt
		for i := len(atts) - 1; i >= 0; i-- {
			if a := atts[i]; a.State == StateCaptured && a.Refundable() >= total {
				att = a
				break
			}
		}
		if att == nil {
			// Nothing covers it: lines or shipping refunded before, when
			// they are why, say so more clearly.
			if err := s.leftToRefund(ctx, o, orderLines, lines, shipping, ""); err != nil {
				return nil, err
			}
			return nil, exceedsCaptured(o, total)
		}
		ref, err = s.reserveRefund(ctx, att, total, shipping, lines, in.Reason, staffID)
		if err != nil {
			// Lines or shipping refunded before, when they are why nothing
			// was left, say so more clearly.
			var e *errs.Error
			if errors.As(err, &e) && e.Code == CodeRefundExceedsCaptured {
				if lerr := s.leftToRefund(ctx, o, orderLines, lines, shipping, ""); lerr != nil {
					return nil, lerr
				}
			}
			return nil, err
		}
		// Read after the reservation, whose UPDATE holds the order's
		// balance row until this transaction ends (SQLite's writers take
		// turns): every other refund reserved before is committed and
		// read, and one racing this waits for it.
		if err := s.leftToRefund(ctx, o, orderLines, lines, shipping, ref.ID); err != nil {
			return nil, err
		}
		fresh = true
		return []byte(ref.ID), nil
	})
	if err != nil {
		return nil, err
	}
	if !fresh {
		return s.store.Refund(ctx, string(refundID))
	}
	return s.sendRefund(ctx, ref.ID, true)
}

func exceedsCaptured(o *OrderInfo, amount int64) *errs.Error {
	return errs.Conflict("amount", CodeRefundExceedsCaptured,
		fmt.Sprintf("%s exceeds what is left to refund of order %s", money.New(amount, o.Total.Currency()), o.Number))
}

// refundAmount works out a refund's total, shipping part and lines, the
// order's lines being orderLines.
func refundAmount(o *OrderInfo, orderLines []OrderLine, in RefundInput) (int64, int64, RefundLines, error) {
	cur := o.Total.Currency()
	var v errs.Validator
	var lines RefundLines
	var sum, shipping int64
	seen := map[string]bool{}
	for i, l := range in.Lines {
		field := "lines." + strconv.Itoa(i)
		var ol *OrderLine
		for j := range orderLines {
			if orderLines[j].ID == l.LineID {
				ol = &orderLines[j]
			}
		}
		switch {
		case ol == nil || seen[l.LineID]:
			v.Add(errs.Invalid(field+".lineId", CodeLineNotFound, "not a line of the order, or listed twice"))
			continue
		case l.Quantity < 1 || l.Quantity > ol.Quantity:
			v.Add(errs.Invalid(field+".quantity", CodeInvalidQuantity, fmt.Sprintf("between 1 and %d", ol.Quantity)))
			continue
		}
		seen[l.LineID] = true
		// The units' share of what the line cost; all units get it exactly.
		amt := ol.Total * l.Quantity / ol.Quantity
		lines = append(lines, RefundLine{LineID: l.LineID, Quantity: l.Quantity, Amount: amt})
		sum += amt
	}
	if in.Shipping != nil {
		shipping = in.Shipping.Amount()
		v.Check(in.Shipping.Currency() == cur && shipping >= 0 && shipping <= o.Shipping.Amount(), "shipping", CodeInvalidAmount,
			fmt.Sprintf("between 0 and %s", o.Shipping))
		sum += shipping
	}
	total := sum
	if in.Amount != nil {
		total = in.Amount.Amount()
		switch {
		case in.Amount.Currency() != cur || total <= 0:
			v.Add(errs.Invalid("amount", CodeInvalidAmount, "a positive amount in "+cur.Code()))
		case (len(in.Lines) > 0 || in.Shipping != nil) && total != sum:
			v.Add(errs.Invalid("amount", CodeRefundAmountMismatch, fmt.Sprintf("the lines and shipping come to %s", money.New(sum, cur))))
		}
	}
	if err := v.Err(); err != nil {
		return 0, 0, nil, err
	}
	if total <= 0 {
		return 0, 0, nil, errs.Invalid("amount", CodeNothingToRefund, "give an amount, lines or shipping to refund")
	}
	return total, shipping, lines, nil
}

// leftToRefund checks lines and shipping, parts of a refund of the order
// o whose lines are orderLines, against what the order's other refunds
// not FAILED gave back of them (the refund self excluded): a line's units
// and the shipping are refunded once at most. Refunds by amount alone
// name no line and count against the captured money only.
func (s *Service) leftToRefund(ctx context.Context, o *OrderInfo, orderLines []OrderLine, lines RefundLines, shipping int64, self string) error {
	if len(lines) == 0 && shipping == 0 {
		return nil
	}
	refs, err := s.store.RefundsOfOrders(ctx, []string{o.ID})
	if err != nil {
		return err
	}
	units := map[string]int64{}
	var shipped int64
	for _, r := range refs {
		if r.ID == self || r.State == RefundStateFailed {
			continue
		}
		for _, l := range r.Lines {
			units[l.LineID] += l.Quantity
		}
		shipped += r.ShippingMinor
	}
	var v errs.Validator
	for i, l := range lines {
		for _, ol := range orderLines {
			if ol.ID != l.LineID {
				continue
			}
			if left := ol.Quantity - units[l.LineID]; l.Quantity > left {
				v.Add(errs.Conflict("lines."+strconv.Itoa(i)+".quantity", CodeLineAlreadyRefunded,
					fmt.Sprintf("%d of the line's %d units were refunded already; %d left", ol.Quantity-max(left, 0), ol.Quantity, max(left, 0))))
			}
		}
	}
	if left := o.Shipping.Amount() - shipped; shipping > left {
		v.Add(errs.Conflict("shipping", CodeShippingAlreadyRefunded,
			fmt.Sprintf("%s of the shipping was refunded already; %s left", money.New(shipped, o.Shipping.Currency()), money.New(max(left, 0), o.Shipping.Currency()))))
	}
	return v.Err()
}

// reserveRefund reserves amount of the attempt and records the refund
// PENDING, due for the reconciler at once should it never be sent, in the
// caller's transaction.
func (s *Service) reserveRefund(ctx context.Context, att *Attempt, amount, shipping int64, lines RefundLines, reason, staffID string) (*Refund, error) {
	var ref *Refund
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		now := s.now()
		ok, err := s.store.Reserve(ctx, att, amount, now)
		if err != nil {
			return err
		}
		if !ok {
			return errs.Conflict("amount", CodeRefundExceedsCaptured,
				fmt.Sprintf("%s exceeds what is left to refund of payment %s", money.New(amount, att.Currency), att.ID))
		}
		next := s.nextCheck(now, 0)
		ref = &Refund{ID: id.New("ref"), OrderID: att.OrderID, AttemptID: att.ID, GatewayID: att.GatewayID,
			AmountMinor: amount, Currency: att.Currency, ShippingMinor: shipping, Lines: lines, State: RefundStatePending,
			Reason: clip(reason, 2000), StaffID: staffID, NextCheckAt: &next, CreatedAt: now, UpdatedAt: now}
		return s.store.InsertRefund(ctx, ref)
	})
	return ref, err
}

// sendRefund asks the gateway for a PENDING refund (or again for an
// UNKNOWN one the gateway never saw), with the refund's id as the key,
// and applies its answer.
//
// When the gateway cannot be reached before the call, a staff refund
// (failDown) fails and its reservation is released, so staff may try
// again; an automatic one stays PENDING for the reconciler.
func (s *Service) sendRefund(ctx context.Context, refundID string, failDown bool) (*Refund, error) {
	ref, err := s.store.Refund(ctx, refundID)
	if err != nil {
		return nil, err
	}
	if ref.State != RefundStatePending && ref.State != RefundStateUnknown {
		return ref, nil
	}
	att, err := s.store.Attempt(ctx, ref.AttemptID)
	if err != nil {
		return nil, err
	}
	f := fact{gatewayID: ref.GatewayID, source: SourceStaff, attemptID: att.ID, refundID: ref.ID, captured: -1}
	gw, err := s.gateways.InstalledGateway(ctx, ref.GatewayID)
	var res RefundResult
	if err == nil {
		res, err = gw.Refund(ctx, RefundRequest{RefundID: ref.ID, AttemptID: att.ID, GatewayRef: att.GatewayRef,
			Amount: ref.Amount(), Reason: ref.Reason, IdempotencyKey: ref.ID})
	}
	switch {
	case errors.Is(err, ErrOutcomeUnknown):
		if err := s.refundUnknown(ctx, ref, att); err != nil {
			return nil, err
		}
		return s.store.Refund(ctx, ref.ID)
	case err != nil && !failDown:
		return nil, err
	case err != nil:
		// Nothing reached the gateway: the refund failed and its
		// reservation is released.
		f.typ, f.eventID, f.declineCode, f.message = EventRefundFailed, "refund:"+ref.ID+":NOT_SENT", "gateway_unavailable", err.Error()
		if _, aerr := s.apply(ctx, f); aerr != nil {
			return nil, errors.Join(err, aerr)
		}
		return nil, err
	}
	if err := s.applyRefundResult(ctx, ref, att, res, "refund:"+ref.ID+":", SourceStaff); err != nil {
		return nil, err
	}
	return s.store.Refund(ctx, ref.ID)
}

// applyRefundResult applies a gateway's answer about a refund.
func (s *Service) applyRefundResult(ctx context.Context, ref *Refund, att *Attempt, res RefundResult, prefix, source string) error {
	f := fact{gatewayID: ref.GatewayID, source: source, attemptID: att.ID, refundID: ref.ID, gatewayRefundRef: res.GatewayRefundRef,
		amount: res.Amount, captured: -1, declineCode: res.FailureCode, message: res.MerchantMessage, eventID: prefix + string(res.Status)}
	switch res.Status {
	case RefundSucceeded:
		f.typ = EventRefundSucceeded
	case RefundFailed:
		f.typ = EventRefundFailed
	case RefundPending:
		return s.db.RunInTx(asSystem(ctx, "payment.refund"), func(ctx context.Context) error {
			cur, err := s.store.Refund(ctx, ref.ID)
			if err != nil {
				return err
			}
			cols := []string{"gateway_refund_ref", "instructions"}
			cur.GatewayRefundRef, cur.Instructions = clip(res.GatewayRefundRef, 200), clip(res.Instructions, 4000)
			if cur.State == RefundStateUnknown {
				return s.moveRefund(ctx, cur, att, RefundStatePending, cols...)
			}
			cur.UpdatedAt = s.now()
			return s.store.UpdateRefund(ctx, cur, cols...)
		})
	default:
		return s.refundUnknown(ctx, ref, att)
	}
	_, err := s.apply(ctx, f)
	return err
}

// refundUnknown marks a PENDING refund UNKNOWN: the reconciler asks.
func (s *Service) refundUnknown(ctx context.Context, ref *Refund, att *Attempt) error {
	return s.db.RunInTx(asSystem(ctx, "payment.refund"), func(ctx context.Context) error {
		cur, err := s.store.Refund(ctx, ref.ID)
		if err != nil || cur.State != RefundStatePending {
			return err
		}
		return s.moveRefund(ctx, cur, att, RefundStateUnknown)
	})
}
