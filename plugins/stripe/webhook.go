package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v82"
	stripewebhook "github.com/stripe/stripe-go/v82/webhook"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// Answers to Stripe: any 2xx stops its retries (for up to three days in
// live mode, with exponential back-off); anything else makes it retry.
var (
	answerOK      = sdk.HTTPResponse{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"received":true}`)}
	answerRefused = sdk.HTTPResponse{Status: http.StatusBadRequest, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"received":false}`)}
)

func rejected(reason payment.RejectionReason, msg string) payment.WebhookResult {
	return payment.WebhookResult{Rejection: &payment.Rejection{Reason: reason, Message: msg}, Response: answerRefused}
}

// HandleWebhook implements payment.Gateway for Stripe's webhook events.
//
// The Stripe-Signature header ("t=<unix>,v1=<hex>[,v1=<hex>...]") is
// parsed once, by the SDK's webhook.ParseHeader, which refuses a header
// with more than one t. Everything after uses that one t: each v1 is
// compared with stripe-go's MAC of "t.body" under each configured secret
// (any v1 may match: Stripe signs with the old and the new secret while
// one is rolled), then t is judged against Kassa's receive time with a
// 300 s tolerance, then t and the body name the delivery in the replay
// cache.
//
// Warning: do not go back to stripe-go's ValidatePayload* here beside a
// second parse for the timestamp. stripe-go skips a part " t=..." (it does
// not trim) while other parsers read it, so the MAC would be checked
// under one t and freshness under another.
func (g *Gateway) HandleWebhook(ctx context.Context, req payment.WebhookRequest) (payment.WebhookResult, error) {
	c := g.cfg.Load()
	if c == nil {
		return rejected(payment.RejectNotConfigured, "stripe is not configured"), nil
	}
	header := req.Header.Get("Stripe-Signature")
	if header == "" {
		return rejected(payment.RejectBadSignature, "no Stripe-Signature header"), nil
	}
	sig, err := webhook.ParseHeader(header)
	if err != nil {
		return rejected(payment.RejectBadSignature, "Stripe-Signature: "+err.Error()), nil
	}
	if !signedWithAny(c.secrets, sig, req.Body) {
		return rejected(payment.RejectBadSignature, "no v1 signature of Stripe-Signature matches the body with the configured signing secret"), nil
	}
	at := req.ReceivedAt
	if at.IsZero() {
		at = g.now()
	}
	if d := at.Sub(sig.Timestamp); d > tolerance || d < -tolerance {
		return rejected(payment.RejectStale, fmt.Sprintf("signed at %s, received at %s: more than %s apart (a replay, or a clock off: synchronize the server's clock with NTP)",
			sig.Timestamp.Format(time.RFC3339), at.UTC().Format(time.RFC3339), tolerance)), nil
	}
	var ev stripe.Event
	if err := json.Unmarshal(req.Body, &ev); err != nil || ev.ID == "" || ev.Type == "" || ev.Data == nil {
		return rejected(payment.RejectMalformed, "not a Stripe event"), nil
	}
	events, msg, err := g.normalize(ctx, c, &ev)
	if err != nil {
		// Stripe could not be asked about a refund: Kassa answers 5xx
		// and Stripe retries.
		return payment.WebhookResult{}, err
	}
	if msg != "" {
		return rejected(payment.RejectMalformed, msg), nil
	}
	// Replays: each delivery is signed anew (its own t), so the same t
	// and body twice is a copy, however its header is spelled. Kassa
	// itself applies each event id once. The refusal is not a 2xx: the
	// first copy may not have been committed, and Stripe's retry, signed
	// later, then passes.
	if !g.replay.Add(deliveryKey(sig.Timestamp, req.Body), sig.Timestamp.Add(tolerance), at) {
		return rejected(payment.RejectReplay, "delivery of "+ev.ID+" was already accepted"), nil
	}
	return payment.WebhookResult{Events: events, Response: answerOK}, nil
}

// signedWithAny reports whether a v1 of sig is Stripe's MAC of
// "<sig.Timestamp>.<body>" under one of secrets, compared in constant time.
func signedWithAny(secrets []string, sig webhook.Signature, body []byte) bool {
	for _, secret := range secrets {
		want := stripewebhook.ComputeSignature(sig.Timestamp, body, secret)
		for _, got := range sig.V1 {
			if hmac.Equal(want, got) {
				return true
			}
		}
	}
	return false
}

// deliveryKey names a verified delivery in the replay cache by what Stripe
// signed, "<t>.<body>": not by the header's spelling (whitespace, order
// and number of v1 values are not signed) nor by the v1 that matched (a
// copy may keep only the other secret's v1 during a roll).
func deliveryKey(t time.Time, body []byte) string {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(t.Unix(), 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// normalize maps a verified Stripe event to Kassa's events. Event types
// Kassa does not use are accepted with no events, so Stripe stops sending
// them. A non-empty msg refuses the event as malformed.
func (g *Gateway) normalize(ctx context.Context, c *configured, ev *stripe.Event) ([]payment.Event, string, error) {
	at := unixTime(ev.Created)
	switch ev.Type {
	case "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled", "payment_intent.amount_capturable_updated":
		var pi stripe.PaymentIntent
		if err := json.Unmarshal(ev.Data.Raw, &pi); err != nil || pi.ID == "" {
			return nil, "event " + ev.ID + " carries no PaymentIntent", nil
		}
		out := payment.Event{ID: ev.ID, AttemptID: pi.Metadata[metaAttempt], GatewayRef: pi.ID, OccurredAt: at,
			Amount: fromStripe(pi.Amount, string(pi.Currency))}
		switch ev.Type {
		case "payment_intent.succeeded":
			out.Type, out.Amount = payment.EventPaymentSucceeded, fromStripe(pi.AmountReceived, string(pi.Currency))
		case "payment_intent.amount_capturable_updated":
			if pi.AmountCapturable == 0 {
				return nil, "", nil
			}
			out.Type, out.Amount = payment.EventPaymentAuthorized, fromStripe(pi.AmountCapturable, string(pi.Currency))
		case "payment_intent.payment_failed":
			out.Type, out.DeclineCode = payment.EventPaymentFailed, payment.DeclineCardDeclined
			if e := pi.LastPaymentError; e != nil {
				out.DeclineCode, out.MerchantMessage = declineCode(e), "Stripe: "+e.Msg
			}
		case "payment_intent.canceled":
			out.Type, out.MerchantMessage = payment.EventPaymentCanceled, "Stripe: canceled ("+string(pi.CancellationReason)+")"
		}
		return []payment.Event{out}, "", nil
	case "checkout.session.expired":
		var cs stripe.CheckoutSession
		if err := json.Unmarshal(ev.Data.Raw, &cs); err != nil || cs.ID == "" {
			return nil, "event " + ev.ID + " carries no Checkout Session", nil
		}
		if cs.PaymentIntent != nil {
			// Its PaymentIntent's own events tell what happened.
			return nil, "", nil
		}
		return []payment.Event{{ID: ev.ID, Type: payment.EventPaymentCanceled, AttemptID: cs.ClientReferenceID, GatewayRef: cs.ID,
			Amount: fromStripe(cs.AmountTotal, string(cs.Currency)), OccurredAt: at, MerchantMessage: "Stripe: Checkout session expired unpaid"}}, "", nil
	case "refund.created", "refund.updated", "refund.failed":
		var r stripe.Refund
		if err := json.Unmarshal(ev.Data.Raw, &r); err != nil || r.ID == "" {
			return nil, "event " + ev.ID + " carries no refund", nil
		}
		out, ok := refundEvent(ev.ID, &r, at)
		if !ok {
			return nil, "", nil
		}
		return []payment.Event{out}, "", nil
	case "charge.refunded":
		var ch stripe.Charge
		if err := json.Unmarshal(ev.Data.Raw, &ch); err != nil || ch.ID == "" {
			return nil, "event " + ev.ID + " carries no charge", nil
		}
		return g.chargeRefunds(ctx, c, ev.ID, &ch, at)
	}
	return nil, "", nil
}

// refundEvent maps a refund; ok false for a refund still pending.
func refundEvent(eventID string, r *stripe.Refund, at time.Time) (payment.Event, bool) {
	out := payment.Event{ID: eventID, RefundID: r.Metadata[metaRefund], GatewayRefundRef: r.ID, AttemptID: r.Metadata[metaAttempt],
		Amount: fromStripe(r.Amount, string(r.Currency)), OccurredAt: at}
	if r.PaymentIntent != nil {
		out.GatewayRef = r.PaymentIntent.ID
	}
	switch r.Status {
	case stripe.RefundStatusSucceeded:
		out.Type = payment.EventRefundSucceeded
	case stripe.RefundStatusFailed, stripe.RefundStatusCanceled:
		out.Type, out.DeclineCode = payment.EventRefundFailed, string(r.FailureReason)
		if out.DeclineCode == "" {
			out.DeclineCode = "refund_" + string(r.Status)
		}
	default:
		return out, false
	}
	return out, true
}

// chargeRefunds turns charge.refunded into one event per succeeded refund
// of the charge, with ids "<event id>:<refund id>" (stable across Stripe's
// redeliveries). Since API version 2022-11-15 the charge no longer lists
// its refunds, so they are asked of Stripe then.
func (g *Gateway) chargeRefunds(ctx context.Context, c *configured, eventID string, ch *stripe.Charge, at time.Time) ([]payment.Event, string, error) {
	var refunds []*stripe.Refund
	if ch.Refunds != nil && len(ch.Refunds.Data) > 0 {
		refunds = ch.Refunds.Data
	} else {
		p := &stripe.RefundListParams{Charge: stripe.String(ch.ID)}
		p.Limit = stripe.Int64(100)
		for r, err := range c.sc.V1Refunds.List(ctx, p) {
			if err != nil {
				return nil, "", fmt.Errorf("stripe: list refunds of charge %s: %w", ch.ID, err)
			}
			refunds = append(refunds, r)
		}
	}
	var out []payment.Event
	for _, r := range refunds {
		if r.PaymentIntent == nil && ch.PaymentIntent != nil {
			r.PaymentIntent = ch.PaymentIntent
		}
		ev, ok := refundEvent(eventID+":"+r.ID, r, at)
		if !ok || ev.Type != payment.EventRefundSucceeded {
			continue
		}
		if ev.AttemptID == "" {
			ev.AttemptID = ch.Metadata[metaAttempt]
		}
		out = append(out, ev)
	}
	return out, "", nil
}
