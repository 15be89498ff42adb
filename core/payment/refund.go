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

// Refund gives money back to the buyer through the gateways that took it.
// Needs refund write. The refund comes from the order's latest captured
// attempt that covers it; when none does alone (an order paid by two
// payments, the rest paid after a partial capture), it is split across
// the captured attempts, latest first, each part at most what is left of
// its attempt, as Shopify, Saleor and Medusa split a refund across an
// order's payments. Each part is a Refund of its own, since a gateway
// refunds one payment: the parts are returned in that order, the first
// carrying the refund's lines and shipping (see reserveParts).
//
// Every part is reserved against what was captured net of earlier and
// pending refunds, in one conditional UPDATE of its attempt, and the
// whole in one of the order's balance, all in the idempotency key's
// transaction before any gateway is asked: the refund is reserved whole
// or not at all, and two staff members refunding at once never exceed
// the capture (REFUND_EXCEEDS_CAPTURED, also when the order's captured
// attempts together do not cover the refund); a refund whose split another
// refund's reservation made stale is split again, so two refunds that fit
// together both pass. The gateway's refund key
// is each part's id, so a retry never refunds twice. Lines and shipping
// are refunded at most once: what the order's refunds not FAILED gave
// back of each line and of the shipping is checked under the same
// reservation, so two refunds of the same unit racing give it back once
// (LINE_ALREADY_REFUNDED, SHIPPING_ALREADY_REFUNDED). A part is returned
// SUCCEEDED, FAILED (the reservation released), PENDING (the gateway
// settles later) or UNKNOWN (no answer: reconciled with GetRefund); the
// parts after a FAILED one are failed unsent (see sendRefunds). Other
// codes: NOTHING_TO_REFUND, REFUND_AMOUNT_MISMATCH, LINE_NOT_FOUND,
// INVALID_QUANTITY, INVALID_AMOUNT, ORDER_NOT_FOUND, and the idempotency
// codes; a retry with the key returns the same parts and sends nothing.
func (s *Service) Refund(ctx context.Context, in RefundInput) ([]*Refund, error) {
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
	var (
		orderLines []OrderLine
		before     refunded
	)
	if len(in.Lines) > 0 || in.Shipping != nil {
		// The lines' tax tells the shipping's apart from the order's.
		if orderLines, err = s.orders.OrderLines(ctx, in.OrderID); err != nil {
			return nil, err
		}
		refs, err := s.store.RefundsOfOrders(ctx, []string{o.ID})
		if err != nil {
			return nil, err
		}
		before = refundedOf(refs, "")
	}
	total, ship, lines, err := refundAmount(o, orderLines, before, in)
	if err != nil {
		return nil, err
	}
	staffID := authz.SubjectFrom(ctx).ID
	var refs []*Refund
	fresh := false
	// The request as the caller gave it: the amounts worked out from it
	// depend on earlier refunds, the first of this key's among them when
	// it is retried.
	req := fmt.Sprintf("%s\x00%s\x00%s\x00%v\x00%s", o.ID, moneyKey(in.Amount), moneyKey(in.Shipping), in.Lines, in.Reason)
	// The key's response is the parts' ids, comma-separated (one id for
	// refunds made before refunds were split).
	answer, err := s.keys.Do(ctx, "payment.refund", in.IdempotencyKey, []byte(req), func(ctx context.Context) ([]byte, error) {
		// On PostgreSQL another refund may reserve between the read of
		// the attempts and this one's reservation: a part then finds less
		// left than the split read, and the split is made again from
		// what is committed now (the other refund's reservation, which
		// the failed UPDATE waited for). SQLite's writers take turns.
		for round := 1; ; round++ {
			atts, err := s.store.AttemptsOfOrders(ctx, []string{o.ID})
			if err != nil {
				return nil, err
			}
			parts := splitRefund(atts, total)
			if parts == nil {
				// Nothing covers it: lines or shipping refunded before, when
				// they are why, say so more clearly.
				if err := s.leftToRefund(ctx, o, orderLines, lines, ship.price, ""); err != nil {
					return nil, err
				}
				return nil, exceedsCaptured(o, total)
			}
			var stale bool
			refs, stale, err = s.reserveParts(ctx, parts, ship, lines, in.Reason, staffID)
			if stale && round < maxSplitRounds {
				continue
			}
			if err != nil {
				// Lines or shipping refunded before, when they are why nothing
				// was left, say so more clearly.
				var e *errs.Error
				if errors.As(err, &e) && e.Code == CodeRefundExceedsCaptured {
					if lerr := s.leftToRefund(ctx, o, orderLines, lines, ship.price, ""); lerr != nil {
						return nil, lerr
					}
				}
				return nil, err
			}
			break
		}
		// Read after the reservation, whose UPDATE holds the order's
		// balance row until this transaction ends (SQLite's writers take
		// turns): every other refund reserved before is committed and
		// read, and one racing this waits for it. Only the first part
		// carries lines and shipping.
		if err := s.leftToRefund(ctx, o, orderLines, lines, ship.price, refs[0].ID); err != nil {
			return nil, err
		}
		fresh = true
		return []byte(strings.Join(refundIDs(refs), ",")), nil
	})
	if err != nil {
		return nil, err
	}
	if fresh {
		return s.sendRefunds(ctx, refs)
	}
	ids := strings.Split(string(answer), ",")
	refs = make([]*Refund, len(ids))
	for i, refID := range ids {
		if refs[i], err = s.store.Refund(ctx, refID); err != nil {
			return nil, err
		}
	}
	return refs, nil
}

// maxSplitRounds bounds how many times a refund is split again after
// other refunds reserved what its split counted on.
const maxSplitRounds = 3

// refundPart is one captured attempt's share of a refund.
type refundPart struct {
	att    *Attempt
	amount int64
}

// splitRefund chooses where a refund of total comes from, atts being the
// order's attempts oldest first: the latest captured attempt that covers
// it alone, else the captured attempts latest first, each giving what is
// left of it until the total is covered. It is nil when the captured
// attempts together do not cover the total. What is left of an attempt
// is read before its reservation, whose condition decides.
func splitRefund(atts []*Attempt, total int64) []refundPart {
	for i := len(atts) - 1; i >= 0; i-- {
		if a := atts[i]; tookMoney(a) && a.Refundable() >= total {
			return []refundPart{{att: a, amount: total}}
		}
	}
	var parts []refundPart
	left := total
	for i := len(atts) - 1; i >= 0 && left > 0; i-- {
		if a := atts[i]; tookMoney(a) && a.Refundable() > 0 {
			amt := min(left, a.Refundable())
			parts = append(parts, refundPart{att: a, amount: amt})
			left -= amt
		}
	}
	if left > 0 {
		return nil
	}
	return parts
}

// tookMoney reports whether a refund may draw on a: it is CAPTURED, or
// was closed holding money it captured (a bank transfer that came short,
// closed once the rest was paid another way).
func tookMoney(a *Attempt) bool {
	return a.State == StateCaptured || (a.State == StateCancelled && a.Captured > 0)
}

// refundIDs are the ids of refs, in order.
func refundIDs(refs []*Refund) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.ID
	}
	return out
}

func exceedsCaptured(o *OrderInfo, amount int64) *errs.Error {
	return errs.Conflict("amount", CodeRefundExceedsCaptured,
		fmt.Sprintf("%s exceeds what is left to refund of order %s", money.New(amount, o.Total.Currency()), o.Number))
}

// refunded is what an order's refunds not FAILED gave back of its lines
// (units per line id) and of its shipping (minor units of its price).
type refunded struct {
	units    map[string]int64
	shipping int64
}

// refundedOf sums refs, an order's refunds, skipping FAILED ones and
// the refund self.
func refundedOf(refs []*Refund, self string) refunded {
	out := refunded{units: map[string]int64{}}
	for _, r := range refs {
		if r.ID == self || r.State == RefundStateFailed {
			continue
		}
		for _, l := range r.Lines {
			out.units[l.LineID] += l.Quantity
		}
		out.shipping += r.ShippingMinor
	}
	return out
}

// refundShipping is the shipping part of a refund: price of the order's
// shipping price, and tax, the shipping's tax given back with it when
// the shop's prices exclude tax (where they include it, price holds it).
type refundShipping struct {
	price, tax int64
}

// shippingTax is the tax an order added to its shipping price: the
// order's tax less its lines' when prices exclude tax, else zero.
func shippingTax(o *OrderInfo, orderLines []OrderLine) int64 {
	if o.TaxIncluded || o.Tax.Currency().IsZero() {
		return 0
	}
	t := o.Tax.Amount()
	for _, l := range orderLines {
		t -= l.Tax
	}
	return max(t, 0)
}

// moneyKey is m as an idempotency request shows it.
func moneyKey(m *money.Money) string {
	if m == nil {
		return "-"
	}
	return m.String()
}

// refundAmount works out a refund's total, shipping part and lines, the
// order's lines being orderLines and before what its earlier refunds gave
// back. Units of a line and the shipping are given back at what the buyer
// paid for them: their share of the line's total, and the shipping's
// price with, where prices exclude tax, its share of the shipping's tax,
// so that refunding every line and the whole shipping gives back the
// order's total to the minor unit.
func refundAmount(o *OrderInfo, orderLines []OrderLine, before refunded, in RefundInput) (int64, refundShipping, RefundLines, error) {
	cur := o.Total.Currency()
	var v errs.Validator
	var lines RefundLines
	var sum int64
	var ship refundShipping
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
		// The units' share of what the line cost, the last units carrying
		// what rounding left of it (money.Share).
		amt := money.New(ol.Total, cur).Share(ol.Quantity, before.units[l.LineID], l.Quantity).Amount()
		lines = append(lines, RefundLine{LineID: l.LineID, Quantity: l.Quantity, Amount: amt})
		sum += amt
	}
	if in.Shipping != nil {
		ship.price = in.Shipping.Amount()
		ok := in.Shipping.Currency() == cur && ship.price >= 0 && ship.price <= o.Shipping.Amount()
		v.Check(ok, "shipping", CodeInvalidAmount, fmt.Sprintf("between 0 and %s", o.Shipping))
		if ok {
			ship.tax = money.New(shippingTax(o, orderLines), cur).Share(o.Shipping.Amount(), before.shipping, ship.price).Amount()
		}
		sum += ship.price + ship.tax
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
		return 0, refundShipping{}, nil, err
	}
	if total <= 0 {
		return 0, refundShipping{}, nil, errs.Invalid("amount", CodeNothingToRefund, "give an amount, lines or shipping to refund")
	}
	return total, ship, lines, nil
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
	before := refundedOf(refs, self)
	units, shipped := before.units, before.shipping
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

// reserveRefund reserves amount of the attempt for a refund of it alone
// (no lines, no shipping), as reserveParts does.
func (s *Service) reserveRefund(ctx context.Context, att *Attempt, amount int64, reason, staffID string) (*Refund, error) {
	refs, _, err := s.reserveParts(ctx, []refundPart{{att: att, amount: amount}}, refundShipping{}, nil, reason, staffID)
	if err != nil {
		return nil, err
	}
	return refs[0], nil
}

// reserveParts reserves each part of a refund on its attempt and the
// whole on the order's balance, and records each part PENDING, due for
// the reconciler at once should it never be sent, in the caller's
// transaction: any part not covered fails them all.
//
// The first part carries all of the refund's lines and shipping, the
// others are refunds of an amount. Each unit and each minor unit of
// shipping is then recorded on exactly one refund, so leftToRefund's
// counts (the sum over the order's refunds not FAILED) stay exact. Lines
// apportioned between parts could not stay exact: a unit whose price
// straddles two payments belongs to neither, and the rounding of each
// part's share of a line would not add up to the line's. Since the parts
// after a FAILED one are failed unsent (sendRefunds), the lines are not
// freed while another part of the same refund gives money back for them,
// save when the first part fails after the others were sent (a gateway
// declining later by notification).
//
// When a part's attempt had less left than the part, stale is true along
// with REFUND_EXCEEDS_CAPTURED and nothing is reserved: the caller may
// read the attempts and split again in the same transaction.
func (s *Service) reserveParts(ctx context.Context, parts []refundPart, ship refundShipping, lines RefundLines, reason, staffID string) (refs []*Refund, stale bool, err error) {
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		now := s.now()
		outcome, err := s.store.Reserve(ctx, parts, now)
		if err != nil {
			return err
		}
		if outcome != reserved {
			stale = outcome == attemptShort
			ids, total := make([]string, len(parts)), int64(0)
			for i, p := range parts {
				ids[i], total = p.att.ID, total+p.amount
			}
			of := "payment " + ids[0]
			if len(ids) > 1 {
				of = "payments " + strings.Join(ids, " and ")
			}
			return errs.Conflict("amount", CodeRefundExceedsCaptured,
				fmt.Sprintf("%s exceeds what is left to refund of %s", money.New(total, parts[0].att.Currency), of))
		}
		next := s.nextCheck(now, 0)
		for i, p := range parts {
			att := p.att
			ref := &Refund{ID: id.New("ref"), OrderID: att.OrderID, AttemptID: att.ID, GatewayID: att.GatewayID,
				AmountMinor: p.amount, Currency: att.Currency, State: RefundStatePending,
				Reason: clip(reason, 2000), StaffID: staffID, NextCheckAt: &next, CreatedAt: now, UpdatedAt: now}
			if i == 0 {
				ref.ShippingMinor, ref.ShippingTaxMinor, ref.Lines = ship.price, ship.tax, lines
			}
			if err := s.store.InsertRefund(ctx, ref); err != nil {
				return err
			}
			refs = append(refs, ref)
		}
		return nil
	})
	return refs, stale, err
}

// sendRefunds sends a staff refund's parts, reserved by reserveRefund, in
// order, and returns them as they end. Once a part FAILED (its gateway
// refused it, or could not be reached), the parts not yet sent are failed
// unsent and their reservations released: a split refund stops at the
// first refusal rather than give back a part alone, and staff refund
// again. When the first part could not be sent, its error is returned,
// as for a refund of one part: nothing left.
func (s *Service) sendRefunds(ctx context.Context, refs []*Refund) ([]*Refund, error) {
	out := make([]*Refund, len(refs))
	var firstErr error
	stopped := "" // the FAILED part that stops the rest
	for i, ref := range refs {
		if stopped != "" {
			if err := s.failUnsent(ctx, ref, "refund_part_failed", "not sent: part "+stopped+" of the same refund failed"); err != nil {
				return nil, errors.Join(firstErr, err)
			}
		} else if _, err := s.sendRefund(ctx, ref.ID, true); err != nil && i == 0 {
			firstErr = err
		}
		// A later part's error is on the part itself, FAILED with the
		// gateway's message, or UNKNOWN.
		cur, err := s.store.Refund(ctx, ref.ID)
		if err != nil {
			return nil, errors.Join(firstErr, err)
		}
		if cur.State == RefundStateFailed && stopped == "" {
			stopped = cur.ID
		}
		out[i] = cur
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// failUnsent fails a PENDING refund the gateway never saw, with code and
// message for staff, and releases its reservation.
func (s *Service) failUnsent(ctx context.Context, ref *Refund, code, message string) error {
	_, err := s.apply(ctx, fact{gatewayID: ref.GatewayID, source: SourceStaff, attemptID: ref.AttemptID, refundID: ref.ID, captured: -1,
		typ: EventRefundFailed, eventID: "refund:" + ref.ID + ":NOT_SENT", declineCode: code, message: message})
	return err
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
		if aerr := s.failUnsent(ctx, ref, "gateway_unavailable", err.Error()); aerr != nil {
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
