package payment

import (
	"context"
	"fmt"

	"github.com/kassahq/kassa/core/kit/errs"
)

// CodeWebhookFailed: a notification could not be applied (the database
// or the plugin failed); answer 5xx so the gateway retries.
const CodeWebhookFailed = "WEBHOOK_NOT_APPLIED"

// WebhookOutcome is what ApplyWebhook did with a notification.
type WebhookOutcome struct {
	// Response is the plugin's answer for the gateway: send it as it is.
	Response WebhookResponse
	// Rejected is the plugin's Reject* reason when the notification was
	// refused (forged, stale, replayed, malformed); nothing was applied.
	Rejected string
	// Applied, Duplicates and Flagged count the notification's events.
	Applied, Duplicates, Flagged int
}

// ApplyWebhook applies a gateway notification received on
// /webhooks/{gatewayID}. It asks no permission: the plugin's HandleWebhook
// verifies the notification (signature, freshness, replays), and the
// events it returns are applied each once, each in one transaction with
// its event row (a duplicate changes nothing), as the platform.
//
// Answer the gateway with outcome.Response only when err is nil: the
// events are committed then. A rejected notification comes back with
// err nil, Rejected set and the plugin's refusal as Response (4xx). An
// error means nothing or not everything was applied: an unknown plugin
// is errs.ErrNotFound (answer 404), a plugin down errs.ErrUnavailable
// (503), anything else WEBHOOK_NOT_APPLIED (500); the gateway retries,
// and what was applied before is a duplicate then.
func (s *Service) ApplyWebhook(ctx context.Context, gatewayID string, req WebhookRequest) (out *WebhookOutcome, err error) {
	defer func() { s.observeWebhook(gatewayID, out, err) }()
	gw, err := s.gateways.InstalledGateway(ctx, gatewayID)
	if err != nil {
		return nil, err
	}
	if req.ReceivedAt.IsZero() {
		req.ReceivedAt = s.clock.Now()
	}
	res, err := gw.HandleWebhook(ctx, req)
	if err != nil {
		return nil, err
	}
	out = &WebhookOutcome{Response: res.Response, Rejected: res.Rejected}
	if res.Rejected != "" {
		s.log.WarnContext(ctx, "webhook rejected by the plugin", "gateway", gatewayID, "reason", res.Rejected, "detail", res.RejectMessage)
		return out, nil
	}
	ctx = asSystem(ctx, "payment.webhook")
	for _, ev := range res.Events {
		if ev.ID == "" {
			return nil, errs.Unavailable(CodeWebhookFailed, fmt.Sprintf("plugin %s returned an event without an id", gatewayID))
		}
		a, err := s.apply(ctx, fact{gatewayID: gatewayID, eventID: ev.ID, typ: ev.Type, source: SourceWebhook,
			attemptID: ev.AttemptID, gatewayRef: ev.GatewayRef, refundID: ev.RefundID, gatewayRefundRef: ev.GatewayRefundRef,
			amount: ev.Amount, captured: -1, declineCode: ev.DeclineCode, message: ev.MerchantMessage, occurredAt: ev.OccurredAt})
		if err != nil {
			// Only the code travels: an inner not-found must not become a
			// 404, which would stop the gateway's retries.
			s.log.ErrorContext(ctx, "webhook event not applied", "gateway", gatewayID, "event", ev.ID, "error", err)
			return nil, errs.Unavailable(CodeWebhookFailed, fmt.Sprintf("event %s could not be applied; retry: %v", ev.ID, err))
		}
		switch {
		case a.duplicate:
			out.Duplicates++
		case a.flag != "":
			out.Flagged++
		default:
			out.Applied++
		}
	}
	return out, nil
}
