package payment

import (
	"context"
)

// BeforeExpire is asked by the order deadline closer before it cancels an
// unpaid order past its deadline (core/app hands it to
// order.SchedulerOptions.BeforeExpire). It closes every open attempt at
// its gateway first (CancelPayment, key "expire:pay_…"): a gateway that
// answers ALREADY_PAID (the buyer paid at the last moment) gets its
// capture applied and the order moved, and the answer is VerdictPaid, so
// the order is never cancelled with money taken. A gateway that cannot
// answer gives VerdictPending (asked again later); so does money already
// taken short of the order's total (an underpaid transfer: staff settle
// it). A gateway that cannot cancel is asked with GetPayment and its
// attempt closed in Kassa's books: money arriving later is flagged as
// money for a cancelled order. Otherwise VerdictExpire. It runs as the
// closer's system subject, outside any transaction.
func (s *Service) BeforeExpire(ctx context.Context, orderID string) (Verdict, error) {
	ctx = asSystem(ctx, "payment.expire")
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
		p, ok, err := s.closeAttempt(ctx, att)
		if err != nil {
			return VerdictPending, err
		}
		paid = paid || p
		pending = pending || !ok
	}
	if paid {
		// The capture's move of the order may have lost a race; make sure.
		if err := s.db.RunInTx(ctx, func(ctx context.Context) error {
			return s.syncOrder(ctx, orderID, "paid before its deadline")
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

// closeAttempt closes one open attempt at its gateway. It reports
// whether the gateway said it was paid, and whether it got an answer.
func (s *Service) closeAttempt(ctx context.Context, att *Attempt) (paid, answered bool, err error) {
	gw, err := s.gateways.Gateway(ctx, att.GatewayID)
	if err != nil {
		s.log.WarnContext(ctx, "gateway unavailable at an order's deadline", "attempt", att.ID, "gateway", att.GatewayID, "error", err)
		return false, false, nil
	}
	f := fact{gatewayID: att.GatewayID, source: SourceExpire, attemptID: att.ID, gatewayRef: att.GatewayRef, captured: -1}
	if !gw.Supports(CapCancel) {
		gp, err := gw.GetPayment(ctx, GetRequest{AttemptID: att.ID, GatewayRef: att.GatewayRef})
		if err != nil {
			return false, false, nil
		}
		switch gp.Status {
		case StatusSucceeded, StatusAuthorized:
			f.typ, f.eventID, f.amount = EventPaymentSucceeded, "expire:"+att.ID+":"+string(gp.Status), gp.Amount
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
		f.typ, f.eventID = EventPaymentCanceled, "expire:"+att.ID+":CLOSED"
		_, err = s.apply(ctx, f)
		return false, err == nil, err
	}
	res, err := gw.CancelPayment(ctx, CancelRequest{AttemptID: att.ID, GatewayRef: att.GatewayRef, IdempotencyKey: "expire:" + att.ID, Reason: "expired"})
	if err != nil {
		s.log.WarnContext(ctx, "cancel at the deadline failed", "attempt", att.ID, "error", err)
		return false, false, nil
	}
	switch res.Status {
	case CancelAlreadyPaid:
		f.typ, f.eventID = EventPaymentSucceeded, "expire:"+att.ID+":ALREADY_PAID"
		if res.PaymentStatus == StatusAuthorized {
			f.typ = EventPaymentAuthorized
		}
		_, err := s.apply(ctx, f)
		return err == nil, err == nil, err
	case CancelCanceled:
		f.typ, f.eventID = EventPaymentCanceled, "expire:"+att.ID+":CANCELED"
		if res.PaymentStatus == StatusFailed {
			f.typ, f.eventID = EventPaymentFailed, "expire:"+att.ID+":FAILED"
		}
		_, err := s.apply(ctx, f)
		return false, err == nil, err
	}
	return false, false, nil
}
