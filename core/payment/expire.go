package payment

import (
	"context"
	"errors"
)

// BeforeExpire is asked by the order deadline closer before it cancels an
// unpaid order past its deadline: ClosePayments with the deadline's
// reason (key "expire:pay_…").
func (s *Service) BeforeExpire(ctx context.Context, orderID string) (Verdict, error) {
	return s.ClosePayments(ctx, orderID, CloseExpired)
}

// Why an order's payments are closed (ClosePayments): the prefix of the
// gateway's idempotency key and of the facts' event ids.
const (
	// CloseExpired: the order's payment deadline passed (the deadline
	// closer).
	CloseExpired = "expire"
	// CloseCancelled: staff or the buyer cancel the order.
	CloseCancelled = "cancel"
	// CloseSuperseded: another attempt of the order took its money
	// (CloseSuperseded attempts, closeothers.go).
	CloseSuperseded = "supersede"
	// CloseReplaced: the buyer starts another payment of the order while
	// this one can still be paid (Create).
	CloseReplaced = "replace"
)

// ClosePayments closes every open attempt of an order at its gateway
// before the order is cancelled, by the deadline closer (why is
// CloseExpired) or by staff or the buyer (CloseCancelled); core/app hands
// it to the order service (order.PaymentCloser), which asks it on every
// cancel path. It runs as the platform, outside any transaction.
//
// First it takes the order's start (payment_starts) for the close, so
// that no payment starts while it works (a start gets
// PAYMENT_IN_PROGRESS): an attempt inserted after the attempts were read
// would never be closed, and its money would land on a cancelled order.
// A start whose gateway has not answered yet keeps the close away
// (VerdictPending). The hold is kept when the order may be cancelled
// (the cancel's transaction checks it, PaymentsClosed) and given back
// otherwise; its lease (Options.CreateLease) frees the order should the
// caller crash.
//
// Each open attempt is closed (CancelPayment, key "<why>:pay_…"): a
// gateway that answers ALREADY_PAID (the buyer paid at the last moment)
// gets its capture applied and the order moved, and the answer is
// VerdictPaid, so the order is never cancelled with money taken. A
// gateway that cannot answer gives VerdictPending (the closer asks again
// later; a cancel by staff or the buyer is refused, retryable); so does
// money already taken short of the order's total (an underpaid transfer:
// staff settle it). A gateway that cannot cancel is asked with
// GetPayment and its attempt closed in Kassa's books: money arriving
// later is flagged as money for a cancelled order. Otherwise
// VerdictExpire.
func (s *Service) ClosePayments(ctx context.Context, orderID, why string) (v Verdict, err error) {
	ctx = asSystem(ctx, "payment."+why)
	now := s.now()
	held, err := s.store.HoldStarts(ctx, orderID, now.Add(s.opt.CreateLease), now)
	if err != nil || !held {
		return VerdictPending, err
	}
	defer func() {
		if err != nil || v != VerdictExpire {
			// Not cancelled: the buyer may pay again at once. Detached
			// from ctx, which may be why we stop.
			if rerr := s.store.ReleaseHold(context.WithoutCancel(ctx), orderID, s.now()); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}()
	atts, err := s.store.AttemptsOfOrders(ctx, []string{orderID})
	if err != nil {
		return VerdictPending, err
	}
	paid, pending := false, false
	for _, att := range atts {
		switch {
		case att.State == StateCaptured || att.State == StateAuthorized:
			paid = true
			continue
		case !att.State.Open():
			continue
		}
		p, ok, err := s.closeAttempt(ctx, att, why)
		if err != nil {
			return VerdictPending, err
		}
		paid = paid || p
		pending = pending || !ok
	}
	if paid {
		// The capture's move of the order may have lost a race; make sure.
		if err := s.db.RunInTx(ctx, func(ctx context.Context) error {
			return s.syncOrder(ctx, orderID, reasonPaidBeforeCancel)
		}); err != nil {
			return VerdictPending, err
		}
		return VerdictPaid, nil
	}
	if pending {
		return VerdictPending, nil
	}
	bs, err := s.store.Balances(ctx, []string{orderID})
	if err != nil {
		return VerdictPending, err
	}
	if len(bs) == 1 && bs[0].Captured > 0 {
		return VerdictPending, nil
	}
	return VerdictExpire, nil
}

// PaymentsClosed is asked in the transaction that cancels an order after
// ClosePayments answered VerdictExpire, before the order moves: it
// reports whether the close still holds the order's start and no attempt
// of the order is open. False when the hold's lease ran out and a payment
// started meanwhile: the cancel is refused (or the closer asks again).
// It renews the hold, which on PostgreSQL keeps starts waiting until the
// transaction ends; after it, the order is cancelled and not payable.
func (s *Service) PaymentsClosed(ctx context.Context, orderID string) (bool, error) {
	held, err := s.store.KeepHold(ctx, orderID, s.now().Add(s.opt.CreateLease))
	if err != nil || !held {
		return false, err
	}
	n, err := s.store.OpenAttempts(ctx, orderID)
	return n == 0, err
}

// closeAttempt closes one open attempt at its gateway, why (CloseExpired,
// CloseCancelled, ...) prefixing the gateway's idempotency key and the
// facts' event ids. It reports whether the gateway said it was paid, and
// whether it got an answer.
func (s *Service) closeAttempt(ctx context.Context, att *Attempt, why string) (paid, answered bool, err error) {
	gw, err := s.gateways.InstalledGateway(ctx, att.GatewayID)
	if err != nil {
		s.log.WarnContext(ctx, "gateway unavailable to close a payment", "attempt", att.ID, "gateway", att.GatewayID, "why", why, "error", err)
		return false, false, nil
	}
	source := SourceClose
	if why == CloseExpired {
		source = SourceExpire
	}
	f := fact{gatewayID: att.GatewayID, source: source, attemptID: att.ID, gatewayRef: att.GatewayRef, captured: -1}
	if !gw.Supports(CapCancel) {
		gp, err := gw.GetPayment(ctx, GetRequest{AttemptID: att.ID, GatewayRef: att.GatewayRef})
		if err != nil {
			return false, false, nil
		}
		switch gp.Status {
		case StatusSucceeded, StatusAuthorized:
			f.typ, f.eventID, f.amount = EventPaymentSucceeded, why+":"+att.ID+":"+string(gp.Status), gp.Amount
			if gp.Status == StatusAuthorized {
				f.typ = EventPaymentAuthorized
			}
			if gp.Captured > 0 {
				f.captured = gp.Captured
			}
			_, err := s.apply(ctx, f)
			return err == nil, err == nil, err
		case StatusUnknown:
			return false, false, nil
		}
		f.typ, f.eventID = EventPaymentCanceled, why+":"+att.ID+":CLOSED"
		_, err = s.apply(ctx, f)
		return false, err == nil, err
	}
	res, err := gw.CancelPayment(ctx, CancelRequest{AttemptID: att.ID, GatewayRef: att.GatewayRef, IdempotencyKey: why + ":" + att.ID, Reason: closeReasons[why]})
	if err != nil {
		s.log.WarnContext(ctx, "closing a payment at its gateway failed", "attempt", att.ID, "why", why, "error", err)
		return false, false, nil
	}
	switch res.Status {
	case CancelAlreadyPaid:
		f.typ, f.eventID = EventPaymentSucceeded, why+":"+att.ID+":ALREADY_PAID"
		if res.PaymentStatus == StatusAuthorized {
			f.typ = EventPaymentAuthorized
		}
		_, err := s.apply(ctx, f)
		return err == nil, err == nil, err
	case CancelCanceled:
		f.typ, f.eventID = EventPaymentCanceled, why+":"+att.ID+":CANCELED"
		if res.PaymentStatus == StatusFailed {
			f.typ, f.eventID = EventPaymentFailed, why+":"+att.ID+":FAILED"
		}
		_, err := s.apply(ctx, f)
		return false, err == nil, err
	}
	return false, false, nil
}

// closeReasons are the reasons CancelPayment is given, by why.
var closeReasons = map[string]string{CloseExpired: "expired", CloseCancelled: "order cancelled", CloseSuperseded: "order paid by another payment",
	CloseReplaced: "replaced by another payment of the order"}
