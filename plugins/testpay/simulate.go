package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// simulatedTypes are the notifications testpay sends (and so can
// simulate): everything but disputes, which the sandbox has no notion of.
var simulatedTypes = []string{
	payment.EventPaymentAuthorized, payment.EventPaymentSucceeded, payment.EventPaymentFailed,
	payment.EventPaymentCanceled, payment.EventPaymentRequiresAction, payment.EventRefundSucceeded, payment.EventRefundFailed,
}

// SimulateWebhook implements payment.WebhookSimulator: it builds the
// notification testpay would POST, signed with the webhook_secret setting.
// Testpay is a sandbox only, so it never refuses for production. It reads
// nothing from the payments it knows: a developer may announce any attempt,
// and the shop's checks (unknown attempt, wrong amount) answer as they
// would to a real gateway.
func (g *Gateway) SimulateWebhook(_ context.Context, req payment.SimulateRequest) (payment.SimulatedWebhook, error) {
	cfg := g.cfg.Load()
	if cfg == nil {
		return payment.SimulatedWebhook{}, errors.New("testpay is not configured: set its webhook_secret first")
	}
	var problems []error
	if !slices.Contains(simulatedTypes, req.Type) {
		problems = append(problems, fmt.Errorf("testpay sends no %q notification (it sends %v)", req.Type, simulatedTypes))
	}
	if req.AttemptID == "" && req.GatewayRef == "" {
		problems = append(problems, errors.New("name the attempt (attempt id or testpay payment ref)"))
	}
	if req.Amount.Amount <= 0 || len(req.Amount.Currency) != 3 {
		problems = append(problems, fmt.Errorf("invalid amount %d %q: want a positive amount in minor units and an ISO 4217 currency", req.Amount.Amount, req.Amount.Currency))
	}
	refund := req.Type == payment.EventRefundSucceeded || req.Type == payment.EventRefundFailed
	if refund && req.RefundID == "" && req.GatewayRefundRef == "" {
		problems = append(problems, errors.New("a refund notification needs the refund (refund id or testpay refund ref)"))
	}
	if err := errors.Join(problems...); err != nil {
		return payment.SimulatedWebhook{}, err
	}
	at := req.SignedAt
	if at.IsZero() {
		at = time.Now()
	}
	id := req.EventID
	if id == "" {
		// A fresh id per simulation: each trigger is a new delivery, as a
		// gateway's second event about the same payment would be.
		id = newRef("evt_sim_")
	}
	n := notification{ID: id, Type: req.Type, Created: at.Unix(), Data: notificationData{
		AttemptID: req.AttemptID, Payment: req.GatewayRef, Amount: req.Amount.Amount, Currency: req.Amount.Currency,
		DeclineCode: req.DeclineCode,
	}}
	if refund {
		n.Data.RefundID, n.Data.Refund = req.RefundID, req.GatewayRefundRef
	}
	if req.Type == payment.EventPaymentFailed && n.Data.DeclineCode == "" {
		n.Data.DeclineCode = payment.DeclineCardDeclined
	}
	body, err := json.Marshal(n)
	if err != nil {
		return payment.SimulatedWebhook{}, err
	}
	return payment.SimulatedWebhook{
		Method: http.MethodPost,
		Header: http.Header{
			"Content-Type":  {"application/json"},
			"User-Agent":    {"testpay/" + Version},
			SignatureHeader: {webhook.Sign([]byte(cfg.WebhookSecret), at, body)},
		},
		Body: body,
	}, nil
}
