package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// notification is the body of testpay's webhook deliveries.
type notification struct {
	// ID is the event id, stable across redeliveries.
	ID string `json:"id"`
	// Type is a payment.Event* type.
	Type string `json:"type"`
	// Created is when the event happened, in Unix seconds.
	Created int64 `json:"created"`
	// Data describes the payment or refund.
	Data notificationData `json:"data"`
}

type notificationData struct {
	AttemptID   string `json:"attempt_id"`
	Payment     string `json:"payment"`
	RefundID    string `json:"refund_id,omitempty"`
	Refund      string `json:"refund,omitempty"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	DeclineCode string `json:"decline_code,omitempty"`
}

// eventFor builds the notification for the payment's current state, or for
// the refund refundID; callers hold g.mu.
func (g *Gateway) eventFor(p *record, refundID string) notification {
	n := notification{Created: time.Now().Unix(), Data: notificationData{
		AttemptID: p.AttemptID, Payment: p.Ref, Amount: p.Amount, Currency: p.Currency, DeclineCode: p.DeclineCode,
	}}
	if r, ok := g.st.Refunds[refundID]; ok && refundID != "" {
		n.Type = payment.EventRefundSucceeded
		n.ID = "evt_" + r.Ref
		n.Data.RefundID, n.Data.Refund, n.Data.Amount = r.ID, r.Ref, r.Amount
		return n
	}
	switch parseStatus(p.Status) {
	case payment.StatusSucceeded:
		n.Type = payment.EventPaymentSucceeded
	case payment.StatusAuthorized:
		n.Type = payment.EventPaymentAuthorized
	case payment.StatusFailed:
		n.Type = payment.EventPaymentFailed
	case payment.StatusCanceled:
		n.Type = payment.EventPaymentCanceled
	default:
		n.Type = payment.EventPaymentRequiresAction
	}
	n.ID = "evt_" + p.Ref + "_" + n.Type
	return n
}

// notify delivers n to url after delay, signed, retrying twice on failure
// like a real gateway. Deliveries run in the background.
func (g *Gateway) notify(url string, n notification, delay time.Duration) {
	cfg := g.cfg.Load()
	if url == "" || cfg == nil {
		return
	}
	body, err := json.Marshal(n)
	if err != nil {
		return
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		time.Sleep(delay)
		backoff := 500 * time.Millisecond
		for attempt := 1; attempt <= 3; attempt++ {
			err := g.post(url, []byte(cfg.WebhookSecret), body)
			if err == nil {
				return
			}
			slog.Warn("notification delivery failed", "event", n.ID, "attempt", attempt, "error", err)
			time.Sleep(backoff)
			backoff *= 2
		}
	}()
}

func (g *Gateway) post(url string, secret, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "testpay/"+Version)
	req.Header.Set(SignatureHeader, webhook.Sign(secret, time.Now(), body))
	res, err := g.client.Do(req)
	if err != nil {
		return err
	}
	// Read the (short) answer to its end: a connection whose answer was
	// left unread is closed instead of kept for the next delivery.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return errors.New("notify_url answered " + res.Status)
	}
	return nil
}

// HandleWebhook implements payment.Gateway: it verifies testpay's signature
// (HMAC-SHA256 over "<t>.<body>"), refuses stale and replayed deliveries and
// normalizes the event. Testpay expects a 200 with {"received":true}.
func (g *Gateway) HandleWebhook(_ context.Context, req payment.WebhookRequest) (payment.WebhookResult, error) {
	cfg := g.cfg.Load()
	if cfg == nil {
		return reject(payment.RejectNotConfigured, "testpay is not configured", http.StatusServiceUnavailable), nil
	}
	received := req.ReceivedAt
	if received.IsZero() {
		received = time.Now()
	}
	v := webhook.Verifier{Secrets: [][]byte{[]byte(cfg.WebhookSecret)}, Tolerance: cfg.tolerance(), Replay: g.replay}
	if err := v.Verify(req.Header.Get(SignatureHeader), req.Body, received); err != nil {
		switch {
		case errors.Is(err, webhook.ErrNoSecret):
			// The owner has not set the secret yet: 503, so that the
			// gateway delivers again once they have.
			return reject(payment.RejectNotConfigured, err.Error(), http.StatusServiceUnavailable), nil
		case errors.Is(err, webhook.ErrStale):
			return reject(payment.RejectStale, err.Error(), http.StatusBadRequest), nil
		case errors.Is(err, webhook.ErrReplay):
			return reject(payment.RejectReplay, err.Error(), http.StatusConflict), nil
		default:
			return reject(payment.RejectBadSignature, err.Error(), http.StatusUnauthorized), nil
		}
	}
	var n notification
	if err := json.Unmarshal(req.Body, &n); err != nil || n.ID == "" || n.Type == "" {
		return reject(payment.RejectMalformed, "not a testpay notification", http.StatusBadRequest), nil
	}
	switch n.Type {
	case payment.EventPaymentSucceeded, payment.EventPaymentAuthorized, payment.EventRefundSucceeded:
		// testpay always says how much moved; a notification that does
		// not is none of its own, and "the gateway did not say" would
		// let the core assume the whole amount.
		if n.Data.Amount <= 0 || n.Data.Currency == "" {
			return reject(payment.RejectMalformed, n.Type+" without its amount and currency", http.StatusBadRequest), nil
		}
	}
	ev := payment.Event{
		ID: n.ID, Type: n.Type, AttemptID: n.Data.AttemptID, GatewayRef: n.Data.Payment,
		RefundID: n.Data.RefundID, GatewayRefundRef: n.Data.Refund,
		Amount: sdk.Money{Amount: n.Data.Amount, Currency: n.Data.Currency}, OccurredAt: time.Unix(n.Created, 0).UTC(),
		DeclineCode: n.Data.DeclineCode,
	}
	return payment.WebhookResult{
		Events:   []payment.Event{ev},
		Response: sdk.HTTPResponse{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"received":true}`)},
	}, nil
}

func reject(reason payment.RejectionReason, msg string, status int) payment.WebhookResult {
	body, _ := json.Marshal(map[string]string{"error": reason.String(), "message": msg})
	return payment.WebhookResult{
		Rejection: &payment.Rejection{Reason: reason, Message: msg},
		Response:  sdk.HTTPResponse{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: body},
	}
}
