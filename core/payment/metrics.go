package payment

import (
	"context"
	"errors"

	"github.com/kassahq/kassa/core/store"
)

// WebhookResultLabel names how a notification ended, for Observer.Webhook.
type WebhookResultLabel string

// The notification results.
const (
	// WebhookApplied: every event was applied (or was a duplicate, and at
	// least one was new).
	WebhookApplied WebhookResultLabel = "applied"
	// WebhookDuplicate: every event had been applied before.
	WebhookDuplicate WebhookResultLabel = "duplicate"
	// WebhookFlagged: at least one event was flagged for staff.
	WebhookFlagged WebhookResultLabel = "flagged"
	// WebhookRejected: the plugin refused the notification (signature,
	// freshness, replay, format).
	WebhookRejected WebhookResultLabel = "rejected"
	// WebhookFailed: not (wholly) applied: the plugin was down or a
	// transaction failed; the gateway retries.
	WebhookFailed WebhookResultLabel = "failed"
)

// Observer is told of payment outcomes once they are committed, for
// metrics (core/app counts them for /metrics). Its methods are called on
// the request's goroutine: they must be quick and must not block.
type Observer interface {
	// AttemptMoved: an attempt of the gateway reached state to
	// (AUTHORIZED, CAPTURED, FAILED, CANCELLED or UNKNOWN; PENDING again
	// after UNKNOWN is not an outcome and is not reported).
	AttemptMoved(gatewayID string, to State)
	// Webhook: a notification to the gateway ended with result.
	Webhook(gatewayID string, result WebhookResultLabel)
}

// noObserver is the Observer of a service given none.
type noObserver struct{}

func (noObserver) AttemptMoved(string, State)         {}
func (noObserver) Webhook(string, WebhookResultLabel) {}

// observeAttempt reports a move of an attempt after the transaction
// carried by ctx commits (at once without one: the move committed on its
// own). A transaction that rolls back, or a retry that loses a race,
// reports nothing.
func (s *Service) observeAttempt(ctx context.Context, gatewayID string, to State) {
	if to == StatePending {
		return
	}
	obs := s.opt.Observer
	store.AfterCommit(ctx, func() { obs.AttemptMoved(gatewayID, to) })
}

// observeWebhook reports how ApplyWebhook ended. An unknown gateway is
// not reported: its id comes from the URL, and counting it would let
// anyone grow the metric's labels.
func (s *Service) observeWebhook(gatewayID string, out *WebhookOutcome, err error) {
	if errors.Is(err, errsNotFound) {
		return
	}
	var r WebhookResultLabel
	switch {
	case err != nil:
		r = WebhookFailed
	case out.Rejected != "":
		r = WebhookRejected
	case out.Flagged > 0:
		r = WebhookFlagged
	case out.Applied == 0 && out.Duplicates > 0:
		r = WebhookDuplicate
	default:
		r = WebhookApplied
	}
	s.opt.Observer.Webhook(gatewayID, r)
}
