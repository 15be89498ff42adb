package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// SimulateWebhook implements payment.WebhookSimulator for `kassa plugin
// trigger`: the event Stripe would send, signed with the webhook signing
// secret as Stripe signs it. Only in test mode: with live keys a signed
// event would be indistinguishable from a real payment. Like `stripe
// trigger`, it changes nothing at Stripe; unlike it, nothing reaches
// Stripe at all, so the objects carry only what Kassa reads.
func (g *Gateway) SimulateWebhook(_ context.Context, req payment.SimulateRequest) (payment.SimulatedWebhook, error) {
	c, err := g.configured()
	if err != nil {
		return payment.SimulatedWebhook{}, err
	}
	if !c.s.TestMode {
		return payment.SimulatedWebhook{}, fmt.Errorf("%w: the plugin is configured with live keys (test_mode is off)", payment.ErrSimulationRefused)
	}
	amount, cur, err := toStripe(req.Amount)
	if err != nil {
		return payment.SimulatedWebhook{}, fmt.Errorf("stripe: %v", err)
	}
	if req.AttemptID == "" {
		return payment.SimulatedWebhook{}, errors.New("stripe: name the attempt: Stripe's objects carry Kassa's attempt id in their metadata")
	}
	pi := req.GatewayRef
	if pi == "" {
		pi = "pi_sim_" + randomHex(12)
	}
	intent := map[string]any{"id": pi, "object": "payment_intent", "amount": amount, "currency": cur,
		"metadata": map[string]string{metaAttempt: req.AttemptID}}
	var typ string
	switch req.Type {
	case payment.EventPaymentSucceeded:
		typ, intent["status"], intent["amount_received"] = "payment_intent.succeeded", "succeeded", amount
	case payment.EventPaymentAuthorized:
		typ, intent["status"], intent["amount_capturable"] = "payment_intent.amount_capturable_updated", "requires_capture", amount
	case payment.EventPaymentFailed:
		code := req.DeclineCode
		if code == "" {
			code = "card_declined"
		}
		typ, intent["status"] = "payment_intent.payment_failed", "requires_payment_method"
		intent["last_payment_error"] = map[string]any{"type": "card_error", "code": code, "decline_code": code, "message": "Simulated by kassa plugin trigger."}
	case payment.EventPaymentCanceled:
		typ, intent["status"], intent["cancellation_reason"] = "payment_intent.canceled", "canceled", "requested_by_customer"
	case payment.EventRefundSucceeded, payment.EventRefundFailed:
		if req.RefundID == "" && req.GatewayRefundRef == "" {
			return payment.SimulatedWebhook{}, errors.New("stripe: a refund event needs the refund (Kassa's refund id or Stripe's re_…)")
		}
		ref := req.GatewayRefundRef
		if ref == "" {
			ref = "re_sim_" + randomHex(12)
		}
		refund := map[string]any{"id": ref, "object": "refund", "amount": amount, "currency": cur, "payment_intent": pi,
			"status": "succeeded", "metadata": map[string]string{metaRefund: req.RefundID, metaAttempt: req.AttemptID}}
		typ = "refund.updated"
		if req.Type == payment.EventRefundFailed {
			typ, refund["status"], refund["failure_reason"] = "refund.failed", "failed", "unknown"
		}
		intent = refund
	default:
		return payment.SimulatedWebhook{}, fmt.Errorf("stripe: Kassa reads no Stripe event for %q", req.Type)
	}
	at := req.SignedAt
	if at.IsZero() {
		at = time.Now()
	}
	id := req.EventID
	if id == "" {
		id = "evt_sim_" + randomHex(12)
	}
	body, err := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": stripe.APIVersion, "created": at.Unix(),
		"type": typ, "livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": intent}})
	if err != nil {
		return payment.SimulatedWebhook{}, err
	}
	sig := "t=" + strconv.FormatInt(at.Unix(), 10) + ",v1=" + hex.EncodeToString(webhook.ComputeSignature(at, body, c.s.WebhookSecret))
	return payment.SimulatedWebhook{Method: http.MethodPost, Body: body,
		Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Stripe-Signature": {sig}, "User-Agent": {"Stripe/1.0 (+https://stripe.com/docs/webhooks)"}}}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
