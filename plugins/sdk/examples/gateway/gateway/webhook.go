package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// Notification is the body the (imaginary) gateway posts to Kassa's notify
// URL, signed in SignatureHeader. Tests sign one to play the gateway.
type Notification struct {
	// ID is the event's id, the same on every redelivery: Kassa applies
	// each id once.
	ID string `json:"id"`
	// Type is a payment.Event* type.
	Type      string `json:"type"`
	AttemptID string `json:"attempt_id"`
	Payment   string `json:"payment"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	// Created is when the event happened, in Unix seconds.
	Created     int64  `json:"created"`
	DeclineCode string `json:"decline_code,omitempty"`
}

// notificationFor describes a settled charge; callers hold g.mu. The id is
// derived from the payment and its new state, so a redelivery carries the
// same id and a different state change a different one.
func notificationFor(c *charge) Notification {
	typ := payment.EventPaymentSucceeded
	if c.status == payment.StatusFailed {
		typ = payment.EventPaymentFailed
	}
	return Notification{
		ID: "evt_" + c.ref + "_" + typ, Type: typ, AttemptID: c.attemptID, Payment: c.ref,
		Amount: c.amount.Amount, Currency: c.amount.Currency, Created: time.Now().Unix(), DeclineCode: c.decline,
	}
}

// announce tells Kassa about a settled payment, as the gateway's servers
// would: a signed POST to the notify URL of the payment, retried twice.
//
// A real plugin does not send notifications, it only receives them in
// HandleWebhook; the example's bank lives inside the plugin, so the plugin
// plays the gateway's servers here. Delivery is best effort, in the
// background: the buyer's redirect does not wait, and a notification that
// never arrives costs nothing, because Kassa asks GetPayment when the
// buyer returns and its reconciler asks again later.
func (g *Gateway) announce(notifyURL string, n Notification) {
	cfg := g.cfg.Load()
	if cfg == nil || notifyURL == "" {
		return
	}
	body, err := json.Marshal(n)
	if err != nil {
		return
	}
	go func() {
		wait := time.Second
		for attempt := 1; attempt <= 3; attempt++ {
			err := cfg.deliver(context.Background(), notifyURL, body)
			if err == nil {
				return
			}
			slog.Warn("notification not delivered", "event", n.ID, "attempt", attempt, "error", err)
			if errors.Is(err, netguard.ErrBlocked) {
				return // the owner's choice: retrying cannot change it
			}
			time.Sleep(wait)
			wait *= 2
		}
	}()
}

// deliver POSTs one signed notification through the guarded client: a
// notify URL on a private network is refused unless the shop owner allows
// private networks (a shop tried out on localhost must allow them).
func (c *configured) deliver(ctx context.Context, notifyURL string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, notifyURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, webhook.Sign([]byte(c.WebhookSecret), time.Now(), body))
	res, err := c.client.Do(req)
	if err != nil {
		return err
	}
	// Read the short answer to its end so the connection is kept for the
	// next delivery (an unread answer closes it).
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		// Kassa answers 5xx when it could not apply the events: retry.
		return fmt.Errorf("notify URL answered %s", res.Status)
	}
	return nil
}

// HandleWebhook implements payment.Gateway: verify (signature, freshness,
// replay), then normalize. Refusals are data with the answer to send;
// Kassa sends the 200 only after it committed the events, so a failure on
// its side makes the gateway deliver again.
func (g *Gateway) HandleWebhook(_ context.Context, req payment.WebhookRequest) (payment.WebhookResult, error) {
	cfg := g.cfg.Load()
	if cfg == nil {
		return reject(payment.RejectNotConfigured, "not configured", http.StatusServiceUnavailable), nil
	}
	v := webhook.Verifier{Secrets: [][]byte{[]byte(cfg.WebhookSecret)}, Replay: g.replay}
	if err := v.Verify(req.Header.Get(SignatureHeader), req.Body, req.ReceivedAt); err != nil {
		switch {
		case errors.Is(err, webhook.ErrNoSecret):
			// The owner has not set the secret yet: 503, so that the
			// gateway delivers again once they have.
			return reject(payment.RejectNotConfigured, err.Error(), http.StatusServiceUnavailable), nil
		case errors.Is(err, webhook.ErrStale):
			return reject(payment.RejectStale, err.Error(), http.StatusBadRequest), nil
		case errors.Is(err, webhook.ErrReplay):
			return reject(payment.RejectReplay, err.Error(), http.StatusBadRequest), nil
		default:
			return reject(payment.RejectBadSignature, err.Error(), http.StatusBadRequest), nil
		}
	}
	var n Notification
	if err := json.Unmarshal(req.Body, &n); err != nil || n.ID == "" {
		return reject(payment.RejectMalformed, "body is not a notification", http.StatusBadRequest), nil
	}
	return payment.WebhookResult{
		Events: []payment.Event{{
			ID: n.ID, Type: n.Type, AttemptID: n.AttemptID, GatewayRef: n.Payment, DeclineCode: n.DeclineCode,
			Amount: sdk.Money{Amount: n.Amount, Currency: n.Currency}, OccurredAt: time.Unix(n.Created, 0).UTC(),
		}},
		Response: sdk.HTTPResponse{Status: http.StatusOK},
	}, nil
}

func reject(reason payment.RejectionReason, msg string, status int) payment.WebhookResult {
	return payment.WebhookResult{
		Rejection: &payment.Rejection{Reason: reason, Message: msg},
		Response:  sdk.HTTPResponse{Status: status, Body: []byte(reason.String())},
	}
}
