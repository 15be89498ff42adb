package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// PayPal retries any answer but 2xx; the body is not read.
var (
	answerOK       = sdk.HTTPResponse{Status: http.StatusOK}
	answerRejected = sdk.HTTPResponse{Status: http.StatusBadRequest, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte("rejected")}
)

func rejected(reason payment.RejectionReason, msg string) payment.WebhookResult {
	return payment.WebhookResult{Rejection: &payment.Rejection{Reason: reason, Message: msg}, Response: answerRejected}
}

// webhookEvent is the part of a PayPal webhook event the plugin reads.
type webhookEvent struct {
	ID         string          `json:"id"`
	EventType  string          `json:"event_type"`
	CreateTime string          `json:"create_time"`
	Resource   json.RawMessage `json:"resource"`
}

// transmission headers PayPal signs each delivery with.
const (
	hdrID      = "Paypal-Transmission-Id"
	hdrTime    = "Paypal-Transmission-Time"
	hdrSig     = "Paypal-Transmission-Sig"
	hdrCertURL = "Paypal-Cert-Url"
	hdrAlgo    = "Paypal-Auth-Algo"
)

// HandleWebhook implements payment.Gateway: the delivery is verified
// (verify-webhook-signature, or offline with PayPal's certificate), its
// transmission time checked, a copy of an accepted transmission refused,
// and the event mapped to Kassa events carrying PayPal's event id.
func (g *Gateway) HandleWebhook(ctx context.Context, req payment.WebhookRequest) (payment.WebhookResult, error) {
	c := g.cfg.Load()
	if c == nil {
		return rejected(payment.RejectNotConfigured, "paypal is not configured"), nil
	}
	var ev webhookEvent
	if err := json.Unmarshal(req.Body, &ev); err != nil || ev.ID == "" || ev.EventType == "" || len(ev.Resource) == 0 {
		return rejected(payment.RejectMalformed, "not a PayPal webhook event"), nil
	}
	h := req.Header
	tid, ts, sig := h.Get(hdrID), h.Get(hdrTime), h.Get(hdrSig)
	if tid == "" || ts == "" || sig == "" || h.Get(hdrCertURL) == "" || h.Get(hdrAlgo) == "" {
		return rejected(payment.RejectBadSignature, "delivery without PayPal's transmission headers"), nil
	}
	at := req.ReceivedAt
	if at.IsZero() {
		at = g.now()
	}
	if res, err := g.verify(ctx, c, req, at); err != nil || res != nil {
		if res != nil {
			return *res, nil
		}
		return payment.WebhookResult{}, err
	}
	sent, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return rejected(payment.RejectMalformed, "PAYPAL-TRANSMISSION-TIME is not RFC 3339"), nil
	}
	if d := at.Sub(sent); d > transmissionTolerance || d < -transmissionTolerance {
		return rejected(payment.RejectStale, fmt.Sprintf("transmitted at %s, received at %s", ts, at.UTC().Format(time.RFC3339))), nil
	}
	// PayPal retries with a new transmission id and signature; only a
	// copy of one transmission is a replay. Kassa applies each event id once.
	// The key is what PayPal signed, not the spelling of
	// PAYPAL-TRANSMISSION-SIG: base64 decoding ignores its padding bits.
	// It is taken before PayPal is asked (normalize), so copies of one
	// transmission, or bodies forged to its CRC, cost one call to PayPal
	// between them, not one each.
	key := sha256.Sum256([]byte(signatureBase(tid, ts, c.s.WebhookID, req.Body)))
	if !g.replay.Add(hex.EncodeToString(key[:]), at.Add(2*transmissionTolerance), at) {
		return rejected(payment.RejectReplay, "transmission "+tid+" was already accepted"), nil
	}
	events, msg, err := g.normalize(ctx, c, ev)
	if err != nil {
		// PayPal could not be asked (capture on approval, a refund's
		// capture): Kassa answers 5xx and PayPal retries.
		g.replay.Forget(hex.EncodeToString(key[:]))
		return payment.WebhookResult{}, err
	}
	if msg != "" {
		return rejected(payment.RejectMalformed, msg), nil
	}
	return payment.WebhookResult{Events: events, Response: answerOK}, nil
}

// verify checks the signature; a non-nil result is a rejection, an error
// that PayPal could not be asked.
func (g *Gateway) verify(ctx context.Context, c *configured, req payment.WebhookRequest, at time.Time) (*payment.WebhookResult, error) {
	h := req.Header
	if c.s.Verification == VerifyOffline {
		if h.Get(hdrAlgo) != "SHA256withRSA" {
			r := rejected(payment.RejectBadSignature, "PAYPAL-AUTH-ALGO "+h.Get(hdrAlgo)+" is not SHA256withRSA")
			return &r, nil
		}
		u, err := checkCertURL(h.Get(hdrCertURL), c.certHosts, c.certs.testDouble)
		if err != nil {
			r := rejected(payment.RejectBadSignature, err.Error())
			return &r, nil
		}
		cert, err := c.certs.get(ctx, u, at)
		if err != nil {
			return nil, err
		}
		if err := verifyWithCert(cert, h.Get(hdrID), h.Get(hdrTime), c.s.WebhookID, req.Body, h.Get(hdrSig)); err != nil {
			r := rejected(payment.RejectBadSignature, err.Error())
			return &r, nil
		}
		return nil, nil
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(req.Body))
	if err != nil {
		return nil, err
	}
	hr.Header = h.Clone()
	res, err := c.api.c.VerifyWebhookSignature(ctx, hr, c.s.WebhookID)
	switch {
	case err != nil && isAPIError(err) && (isStatus(err, http.StatusBadRequest) || isStatus(err, http.StatusNotFound)):
		r := rejected(payment.RejectBadSignature, "verify-webhook-signature refused the delivery: "+describe(err))
		return &r, nil
	case err != nil:
		return nil, fmt.Errorf("paypal: verify-webhook-signature: %w", err)
	case res.VerificationStatus != "SUCCESS":
		r := rejected(payment.RejectBadSignature, "PayPal answered verification_status "+res.VerificationStatus)
		return &r, nil
	}
	return nil, nil
}

// eventTime is when the resource last changed, or the event's time.
func eventTime(p ppPayment, ev webhookEvent) time.Time {
	for _, s := range []string{p.UpdateTime, p.CreateTime, ev.CreateTime} {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// resourceKind is the Payments v2 collection each followed event's
// resource belongs to.
var resourceKind = map[string]string{
	"PAYMENT.CAPTURE.COMPLETED":     "captures",
	"PAYMENT.CAPTURE.DENIED":        "captures",
	"PAYMENT.CAPTURE.DECLINED":      "captures",
	"PAYMENT.AUTHORIZATION.CREATED": "authorizations",
	"PAYMENT.AUTHORIZATION.VOIDED":  "authorizations",
	"PAYMENT.CAPTURE.REFUNDED":      "refunds",
}

// normalize maps a verified event. msg is set for a malformed one; err
// when PayPal could not be asked.
//
// PayPal's signature covers a CRC-32 of the body, not the body: anyone
// holding one signed delivery to this webhook can write another body with
// the same CRC. So the event only says which capture, authorization or
// refund changed; its status, amount and attempt are read back from
// PayPal, and what PayPal says now is what Kassa hears.
func (g *Gateway) normalize(ctx context.Context, c *configured, ev webhookEvent) ([]payment.Event, string, error) {
	if ev.EventType == "CHECKOUT.ORDER.APPROVED" {
		return g.approved(ctx, c, ev)
	}
	kind, followed := resourceKind[ev.EventType]
	if !followed {
		// PAYMENT.CAPTURE.PENDING and events Kassa does not follow: the
		// delivery is acknowledged and nothing changes (a pending capture
		// ends in COMPLETED or DENIED).
		return nil, "", nil
	}
	var said struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(ev.Resource, &said); err != nil || said.ID == "" {
		return nil, ev.EventType + " without a resource id", nil
	}
	var p ppPayment
	err := c.api.do(ctx, http.MethodGet, "/v2/payments/"+kind+"/"+url.PathEscape(said.ID), nil, "", &p)
	switch {
	case isStatus(err, http.StatusNotFound):
		return nil, "PayPal has no " + strings.TrimSuffix(kind, "s") + " " + said.ID, nil
	case err != nil:
		return nil, "", fmt.Errorf("paypal: read %s %s of event %s: %w", strings.TrimSuffix(kind, "s"), said.ID, ev.ID, err)
	case p.ID != said.ID:
		return nil, "", fmt.Errorf("paypal: asked for %s, PayPal answered %s", said.ID, p.ID)
	}
	e := payment.Event{ID: ev.ID, AttemptID: p.CustomID, GatewayRef: p.SupplementaryData.RelatedIDs.OrderID, OccurredAt: eventTime(p, ev)}
	switch kind + " " + p.Status {
	case "captures COMPLETED", "captures PARTIALLY_REFUNDED", "captures REFUNDED":
		e.Type = payment.EventPaymentSucceeded
	case "captures DECLINED", "captures DENIED", "captures FAILED":
		e.Type, e.DeclineCode, e.MerchantMessage = payment.EventPaymentFailed, "capture_denied", "PayPal denied the capture"
	case "authorizations CREATED", "authorizations PARTIALLY_CAPTURED", "authorizations CAPTURED":
		e.Type = payment.EventPaymentAuthorized
	case "authorizations VOIDED", "authorizations EXPIRED", "authorizations DENIED":
		e.Type = payment.EventPaymentCanceled
	case "refunds COMPLETED", "refunds FAILED", "refunds CANCELLED":
		e.Type, e.RefundID, e.GatewayRefundRef, e.AttemptID = payment.EventRefundSucceeded, p.CustomID, p.ID, ""
		if p.Status != "COMPLETED" {
			e.Type, e.DeclineCode = payment.EventRefundFailed, "gateway_refused"
		}
		if err := g.refundParent(ctx, c, p, &e); err != nil {
			return nil, "", err
		}
	default:
		// Pending at PayPal (a capture awaiting an eCheck, a refund in
		// progress): a later event tells how it ends.
		return nil, "", nil
	}
	if p.Amount.Currency == "" {
		return nil, "PayPal's " + strings.TrimSuffix(kind, "s") + " " + p.ID + " has no amount", nil
	}
	m, err := p.Amount.minor()
	if err != nil {
		return nil, err.Error(), nil
	}
	e.Amount = m
	if e.OccurredAt.IsZero() {
		return nil, ev.EventType + " without a time", nil
	}
	return []payment.Event{e}, "", nil
}

// refundParent finds the attempt and order of a refund: the order from
// related_ids, else from the refund's "up" link to its capture (asked of
// PayPal); the attempt from the capture's custom_id or the journal.
func (g *Gateway) refundParent(ctx context.Context, c *configured, p ppPayment, e *payment.Event) error {
	if e.GatewayRef == "" {
		up := link(p.Links, "up")
		if i := strings.Index(up, "/v2/payments/captures/"); i >= 0 {
			id := strings.TrimPrefix(up[i:], "/v2/payments/captures/")
			var capt ppPayment
			if err := c.api.do(ctx, http.MethodGet, "/v2/payments/captures/"+url.PathEscape(id), nil, "", &capt); err != nil {
				return fmt.Errorf("paypal: capture of refund %s: %w", p.ID, err)
			}
			e.GatewayRef, e.AttemptID = capt.SupplementaryData.RelatedIDs.OrderID, capt.CustomID
		}
	}
	if e.AttemptID == "" && e.GatewayRef != "" {
		e.AttemptID = g.attemptOf(e.GatewayRef)
	}
	return nil
}

// approved handles CHECKOUT.ORDER.APPROVED: the order is captured (or
// authorized) now, unless the attempt was closed, and the outcome is
// reported under the event's id. The body is trusted for the order's id
// only (its signature covers a CRC, see normalize): the attempt is the
// custom_id of the order as PayPal has it, and a body naming another is
// refused.
func (g *Gateway) approved(ctx context.Context, c *configured, ev webhookEvent) ([]payment.Event, string, error) {
	var o ppOrder
	if err := json.Unmarshal(ev.Resource, &o); err != nil || o.ID == "" {
		return nil, "CHECKOUT.ORDER.APPROVED without an order", nil
	}
	fresh, err := g.getOrder(ctx, c, o.ID)
	if err != nil {
		return nil, "", err
	}
	if fresh == nil || len(fresh.PurchaseUnits) == 0 {
		return nil, "PayPal has no order " + o.ID, nil
	}
	attemptID := fresh.PurchaseUnits[0].CustomID
	if attemptID == "" {
		return nil, "", nil // an order Kassa did not create (another integration of the account)
	}
	if len(o.PurchaseUnits) > 0 && o.PurchaseUnits[0].CustomID != attemptID {
		return nil, "order " + o.ID + " is not the order of attempt " + o.PurchaseUnits[0].CustomID, nil
	}
	a, known := g.journal.Get(attemptID)
	if known && a.OrderID != "" && a.OrderID != o.ID {
		return nil, "order " + o.ID + " is not the order of attempt " + attemptID, nil
	}
	if a.Closed {
		return nil, "", nil
	}
	if fresh, err = g.settle(ctx, c, attemptID, fresh); err != nil {
		return nil, "", err
	}
	st, err := orderState(fresh, a, known)
	if err != nil {
		return nil, "", err
	}
	e := payment.Event{ID: ev.ID, AttemptID: attemptID, GatewayRef: o.ID, Amount: st.Amount}
	if t, err := time.Parse(time.RFC3339, ev.CreateTime); err == nil {
		e.OccurredAt = t
	} else {
		e.OccurredAt = g.now().UTC()
	}
	switch st.Status {
	case payment.StatusSucceeded:
		e.Type, e.Amount.Amount = payment.EventPaymentSucceeded, st.Captured
	case payment.StatusAuthorized:
		e.Type, e.Amount.Amount = payment.EventPaymentAuthorized, st.Authorized
	default:
		// Pending capture or closed meanwhile: later events tell.
		return nil, "", nil
	}
	return []payment.Event{e}, "", nil
}
