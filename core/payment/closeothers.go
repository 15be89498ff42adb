package payment

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kassahq/kassa/core/events"
)

// SupersededSubjects are the events after which the other open attempts
// of the order are closed (HandleSuperseded): an attempt took or holds
// the order's money.
var SupersededSubjects = []string{SubjectSucceeded, SubjectAuthorized}

// HandleSuperseded is the durable consumer of SupersededSubjects
// (core/app subscribes it, once across instances): it closes, at their
// gateways, the other attempts of the order still open (CloseSuperseded).
// An error has the event delivered again.
func (s *Service) HandleSuperseded(ctx context.Context, e events.Event) error {
	var p AttemptEvent
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return fmt.Errorf("payment: read %s %s: %w", e.Subject, e.ID, err)
	}
	if p.OrderID == "" || p.AttemptID == "" {
		return nil
	}
	return s.closeSuperseded(ctx, p.OrderID, p.AttemptID, e.OccurredAt)
}

// CloseSuperseded closes the order's open attempts other than paidID, an
// attempt that took or holds the order's money, at their gateways
// (CancelPayment, key "supersede:pay_…"; closeAttempt), as Stripe and
// Shopify expire a checkout's other sessions once one is paid: the buyer
// who opened two payment pages cannot pay the order twice. A gateway that
// says one was paid meanwhile gets its capture applied, flagged
// DUPLICATE_PAYMENT for staff to refund. An attempt whose gateway did not
// answer fails the call, to be retried. It runs as the platform.
func (s *Service) CloseSuperseded(ctx context.Context, orderID, paidID string) error {
	return s.closeSuperseded(ctx, orderID, paidID, time.Time{})
}

// closeSuperseded is CloseSuperseded of the attempts created up to
// before, the time the paid attempt took the money (zero: all of them).
// An attempt started after it was started against the order as that
// left it (the rest of a PARTIALLY_PAID order, which the start checks
// against the balance): a capture delivered late must not close it, or
// the buyer paying the rest would find their payment page closed.
func (s *Service) closeSuperseded(ctx context.Context, orderID, paidID string, before time.Time) error {
	ctx = asSystem(ctx, "payment."+CloseSuperseded)
	atts, err := s.store.AttemptsOfOrders(ctx, []string{orderID})
	if err != nil {
		return err
	}
	var open []*Attempt
	for _, a := range atts {
		if a.ID == paidID && !(a.State == StateCaptured || a.State == StateAuthorized) {
			return nil // not (or no longer) holding money: nothing supersedes
		}
		if a.ID != paidID && a.State.Open() && (before.IsZero() || !a.CreatedAt.After(before)) {
			open = append(open, a)
		}
	}
	unanswered := 0
	for _, a := range open {
		_, answered, err := s.closeAttempt(ctx, a, CloseSuperseded)
		if err != nil {
			return err
		}
		if !answered {
			unanswered++
		}
	}
	if unanswered > 0 {
		return fmt.Errorf("payment: %d superseded attempts of order %s not closed yet", unanswered, orderID)
	}
	return nil
}
