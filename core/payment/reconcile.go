package payment

import (
	"context"
	"errors"
	"fmt"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/worker"
)

// Workers returns the reconciler as a periodic worker, for App.Start's
// group.
func (s *Service) Workers() ([]worker.Worker, error) {
	w, err := worker.NewPeriodic(ReconcilerWorker, func(ctx context.Context) error {
		_, err := s.Reconcile(ctx)
		return err
	}, worker.PeriodicOptions{Interval: s.opt.ReconcileInterval, Jitter: s.opt.ReconcileInterval / 10})
	if err != nil {
		return nil, err
	}
	return []worker.Worker{w}, nil
}

// Reconcile runs one round of the reconciler and returns how many
// attempts and refunds reached a final state: every PENDING or UNKNOWN
// attempt and refund whose next check is due is claimed (several
// instances share the work, worker.Claimer) and its gateway asked
// (GetPayment, GetRefund); the answer is applied as a notification would
// be, under an event id derived from the state reported, so a later
// notification of the same fact changes no money. Those still open are
// asked again after Backoff. A refund the gateway never saw is sent
// again with its own key. It acts as the system subject ReconcilerWorker.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	ctx = authz.WithSubject(ctx, authz.SystemSubject(ReconcilerWorker))
	attempts, refunds := s.attemptClaims, s.refundClaims
	done := 0
	var failures []error
	for range 20 {
		now := s.now()
		ids, err := attempts.Claim(ctx, worker.Due{Where: "state IN (?, ?) AND next_check_at <= ?",
			Args: []any{StatePending, StateUnknown, now}, OrderBy: "next_check_at, id"}, s.opt.ReconcileBatch)
		if err != nil {
			return done, errors.Join(append(failures, err)...)
		}
		for _, id := range ids {
			final, err := s.reconcileAttempt(ctx, id)
			if err != nil {
				failures = append(failures, fmt.Errorf("attempt %s: %w", id, err))
			}
			if final {
				done++
			}
			if err := s.reschedule(ctx, attempts, "attempt", id); err != nil {
				failures = append(failures, err)
			}
		}
		if len(ids) < s.opt.ReconcileBatch {
			break
		}
	}
	for range 20 {
		now := s.now()
		ids, err := refunds.Claim(ctx, worker.Due{Where: "state IN (?, ?) AND next_check_at <= ?",
			Args: []any{RefundStatePending, RefundStateUnknown, now}, OrderBy: "next_check_at, id"}, s.opt.ReconcileBatch)
		if err != nil {
			return done, errors.Join(append(failures, err)...)
		}
		for _, id := range ids {
			final, err := s.reconcileRefund(ctx, id)
			if err != nil {
				failures = append(failures, fmt.Errorf("refund %s: %w", id, err))
			}
			if final {
				done++
			}
			if err := s.reschedule(ctx, refunds, "refund", id); err != nil {
				failures = append(failures, err)
			}
		}
		if len(ids) < s.opt.ReconcileBatch {
			break
		}
	}
	return done, errors.Join(failures...)
}

// reschedule sets the next check of a row still open after its round
// (the back-off) and releases the claim, in one transaction.
func (s *Service) reschedule(ctx context.Context, c *worker.Claimer, kind, id string) error {
	return s.db.RunInTx(ctx, func(ctx context.Context) error {
		now := s.now()
		if kind == "attempt" {
			a, err := s.store.Attempt(ctx, id)
			if err != nil {
				return err
			}
			if a.State.Open() {
				next := s.nextCheck(now, a.CheckCount+1)
				if err := s.store.ScheduleAttempt(ctx, id, &next, a.CheckCount+1, now); err != nil {
					return err
				}
			}
		} else {
			r, err := s.store.Refund(ctx, id)
			if err != nil {
				return err
			}
			if r.State == RefundStatePending || r.State == RefundStateUnknown {
				next := s.nextCheck(now, r.CheckCount+1)
				if err := s.store.ScheduleRefund(ctx, id, &next, r.CheckCount+1, now); err != nil {
					return err
				}
			}
		}
		return c.Release(ctx, []string{id})
	})
}

// reconcileAttempt asks the gateway about one attempt and applies the
// answer; it reports whether the attempt is final now.
func (s *Service) reconcileAttempt(ctx context.Context, attemptID string) (bool, error) {
	att, err := s.store.Attempt(ctx, attemptID)
	if err != nil {
		return false, err
	}
	if !att.State.Open() {
		return true, nil
	}
	gw, err := s.gateways.InstalledGateway(ctx, att.GatewayID)
	if err != nil {
		return false, err
	}
	gp, err := gw.GetPayment(ctx, GetRequest{AttemptID: att.ID, GatewayRef: att.GatewayRef})
	if err != nil {
		return false, err
	}
	f := fact{gatewayID: att.GatewayID, source: SourceReconcile, attemptID: att.ID, gatewayRef: gp.GatewayRef,
		amount: gp.Amount, captured: -1, declineCode: gp.DeclineCode, message: gp.MerchantMessage,
		eventID: "reconcile:" + att.ID + ":" + string(gp.Status)}
	switch gp.Status {
	case StatusSucceeded:
		f.typ = EventPaymentSucceeded
		if gp.Captured > 0 {
			f.captured = gp.Captured
		}
	case StatusAuthorized:
		f.typ = EventPaymentAuthorized
	case StatusFailed:
		f.typ = EventPaymentFailed
	case StatusCanceled:
		f.typ = EventPaymentCanceled
	case StatusPending, StatusRequiresAction:
		if att.State != StateUnknown && (gp.GatewayRef == "" || att.GatewayRef != "") {
			return false, nil
		}
		f.typ = EventPaymentRequiresAction
		act := gp.Action
		f.action = &act
	case StatusNotFound:
		// The request never reached the gateway (the process died between
		// the attempt's commit and the call, or the call was lost). After
		// a second look a few minutes apart, nothing was charged and
		// nothing will be: the attempt failed.
		if att.CheckCount < 1 {
			return false, nil
		}
		f.typ, f.declineCode, f.message = EventPaymentFailed, "not_found_at_gateway", "the gateway never received the payment"
	default:
		return false, nil
	}
	if _, err := s.apply(ctx, f); err != nil {
		return false, err
	}
	a, err := s.store.Attempt(ctx, att.ID)
	if err != nil {
		return false, err
	}
	return !a.State.Open(), nil
}

// reconcileRefund asks the gateway about one refund.
func (s *Service) reconcileRefund(ctx context.Context, refundID string) (bool, error) {
	ref, err := s.store.Refund(ctx, refundID)
	if err != nil {
		return false, err
	}
	if ref.State != RefundStatePending && ref.State != RefundStateUnknown {
		return true, nil
	}
	att, err := s.store.Attempt(ctx, ref.AttemptID)
	if err != nil {
		return false, err
	}
	gw, err := s.gateways.InstalledGateway(ctx, ref.GatewayID)
	if err != nil {
		return false, err
	}
	res, err := gw.GetRefund(ctx, GetRefundRequest{RefundID: ref.ID, GatewayRefundRef: ref.GatewayRefundRef, AttemptID: att.ID, GatewayRef: att.GatewayRef})
	if err != nil {
		return false, err
	}
	if res.Status == RefundNotFound {
		// Never sent, or lost on the way: send it again, same key.
		r, err := s.sendRefund(ctx, ref.ID, false)
		if err != nil {
			return false, err
		}
		return r.State == RefundStateSucceeded || r.State == RefundStateFailed, nil
	}
	if err := s.applyRefundResult(ctx, ref, att, res, "reconcile:"+ref.ID+":", SourceReconcile); err != nil {
		return false, err
	}
	r, err := s.store.Refund(ctx, ref.ID)
	if err != nil {
		return false, err
	}
	return r.State == RefundStateSucceeded || r.State == RefundStateFailed, nil
}
