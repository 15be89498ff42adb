package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// schema is the plugin's settings schema. Secrets are "writeOnly": Kassa
// encrypts them at rest and never shows them again.
var schema = sdk.MustCompileSchema(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["webhook_secret"],
  "properties": {
    "webhook_secret": {
      "type": "string", "minLength": 16, "writeOnly": true,
      "title": "Webhook signing secret",
      "description": "Shared secret the gateway signs notifications with."
    },
    "statement_descriptor": {
      "type": "string", "maxLength": 22,
      "title": "Statement descriptor",
      "description": "Text on the buyer's bank statement."
    }
  }
}`)

// settings is the decoded settings object.
type settings struct {
	WebhookSecret       string `json:"webhook_secret"`
	StatementDescriptor string `json:"statement_descriptor"`
}

// SignatureHeader is the header that carries "t=<unix>,v1=<hex hmac>" on
// the gateway's notifications.
const SignatureHeader = "Example-Signature"

// Gateway is the example gateway. Embedding UnimplementedGateway keeps it
// compiling when optional methods are added to the interface.
type Gateway struct {
	payment.UnimplementedGateway

	cfg    atomic.Pointer[settings]
	replay *webhook.ReplayCache

	mu       sync.Mutex
	payments map[string]*charge              // by attempt id
	byKey    map[string]payment.CreateResult // CreatePayment answers by idempotency key
	refunds  map[string]*refund              // by refund id
}

type charge struct {
	ref      string
	amount   sdk.Money
	status   payment.Status
	refunded int64
}

type refund struct {
	ref    string
	amount sdk.Money
}

// New returns an unconfigured gateway.
func New() *Gateway {
	return &Gateway{
		replay:   webhook.NewReplayCache(10000),
		payments: map[string]*charge{},
		byKey:    map[string]payment.CreateResult{},
		refunds:  map[string]*refund{},
	}
}

// Describe implements sdk.Plugin.
func (g *Gateway) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID:          "payment.example",
		Kind:        sdk.KindPayment,
		Version:     "0.1.0",
		DisplayName: "Example gateway",
		Description: "A minimal gateway showing the Kassa plugin contract.",
		Capabilities: []string{
			payment.CapActionNone, payment.CapCancel, payment.CapRefund,
			payment.CapRefundPartial, payment.CapWebhook,
		},
		ConfigSchema: schema.String(),
	}, nil
}

// Configure implements sdk.Plugin: invalid settings are refused as data and
// the previous settings stay in effect.
func (g *Gateway) Configure(_ context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var s settings
	if errs := schema.Decode(raw, &s); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	g.cfg.Store(&s)
	return sdk.ConfigureResult{}, nil
}

// Health implements sdk.Plugin.
func (g *Gateway) Health(context.Context) (sdk.Health, error) {
	if g.cfg.Load() == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "not configured"}, nil
	}
	return sdk.Health{Status: sdk.HealthServing}, nil
}

func newRef(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// CreatePayment implements payment.Gateway.
func (g *Gateway) CreatePayment(_ context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if res, ok := g.byKey[req.IdempotencyKey]; ok {
		return res, nil // a retry: the first answer, no second charge
	}
	c := &charge{ref: newRef("ch_"), amount: req.Amount}
	var res payment.CreateResult
	switch req.PaymentMethod {
	case "tok_decline":
		c.status = payment.StatusFailed
		res = payment.CreateResult{Status: payment.StatusFailed, DeclineCode: payment.DeclineCardDeclined,
			BuyerMessage: "Your card was declined.", MerchantMessage: "test token tok_decline"}
	case "tok_pending":
		c.status = payment.StatusPending
		res = payment.CreateResult{Status: payment.StatusPending}
	default:
		c.status = payment.StatusSucceeded
		res = payment.CreateResult{Status: payment.StatusSucceeded}
	}
	res.GatewayRef, res.Amount = c.ref, req.Amount
	g.payments[req.AttemptID] = c
	g.byKey[req.IdempotencyKey] = res
	return res, nil
}

// GetPayment implements payment.Gateway.
func (g *Gateway) GetPayment(_ context.Context, req payment.GetRequest) (payment.PaymentState, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.payments[req.AttemptID]
	if !ok {
		return payment.PaymentState{Status: payment.StatusNotFound}, nil
	}
	st := payment.PaymentState{Status: c.status, GatewayRef: c.ref, Amount: c.amount, Refunded: c.refunded}
	if c.status == payment.StatusSucceeded {
		st.Authorized, st.Captured = c.amount.Amount, c.amount.Amount
	}
	return st, nil
}

// CancelPayment implements payment.Gateway.
func (g *Gateway) CancelPayment(_ context.Context, req payment.CancelRequest) (payment.CancelResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.payments[req.AttemptID]
	if !ok {
		return payment.CancelResult{Status: payment.CancelCanceled}, nil // never seen: can never be paid
	}
	switch c.status {
	case payment.StatusSucceeded:
		return payment.CancelResult{Status: payment.CancelAlreadyPaid, PaymentStatus: c.status}, nil
	case payment.StatusPending, payment.StatusRequiresAction, payment.StatusCanceled:
		c.status = payment.StatusCanceled
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: c.status}, nil
	default:
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: c.status}, nil
	}
}

// Refund implements payment.Gateway: idempotent by refund id, over-refunds
// refused as data.
func (g *Gateway) Refund(_ context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r, ok := g.refunds[req.RefundID]; ok {
		return payment.RefundResult{Status: payment.RefundSucceeded, GatewayRefundRef: r.ref, Amount: r.amount}, nil
	}
	c, ok := g.payments[req.AttemptID]
	switch {
	case !ok:
		return payment.RefundResult{Status: payment.RefundFailed, FailureCode: payment.FailurePaymentNotFound}, nil
	case c.status != payment.StatusSucceeded:
		return payment.RefundResult{Status: payment.RefundFailed, FailureCode: payment.FailurePaymentNotCaptured}, nil
	case req.Amount.Amount <= 0 || req.Amount.Amount > c.amount.Amount-c.refunded:
		return payment.RefundResult{Status: payment.RefundFailed, FailureCode: payment.FailureAmountExceedsCaptured,
			MerchantMessage: fmt.Sprintf("refundable: %d", c.amount.Amount-c.refunded)}, nil
	}
	c.refunded += req.Amount.Amount
	r := &refund{ref: newRef("re_"), amount: req.Amount}
	g.refunds[req.RefundID] = r
	return payment.RefundResult{Status: payment.RefundSucceeded, GatewayRefundRef: r.ref, Amount: r.amount}, nil
}

// GetRefund implements payment.Gateway.
func (g *Gateway) GetRefund(_ context.Context, req payment.GetRefundRequest) (payment.RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.refunds[req.RefundID]
	if !ok {
		return payment.RefundResult{Status: payment.RefundNotFound}, nil
	}
	return payment.RefundResult{Status: payment.RefundSucceeded, GatewayRefundRef: r.ref, Amount: r.amount}, nil
}

// Notification is the body the (imaginary) gateway posts. Tests sign one
// with SignatureHeader to play the gateway.
type Notification struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	AttemptID string `json:"attempt_id"`
	Payment   string `json:"payment"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	Created   int64  `json:"created"`
}

// HandleWebhook implements payment.Gateway: verify (signature, freshness,
// replay), then normalize. Refusals are data with the answer to send.
func (g *Gateway) HandleWebhook(_ context.Context, req payment.WebhookRequest) (payment.WebhookResult, error) {
	cfg := g.cfg.Load()
	if cfg == nil {
		return reject(payment.RejectNotConfigured, "not configured", http.StatusServiceUnavailable), nil
	}
	v := webhook.Verifier{Secrets: [][]byte{[]byte(cfg.WebhookSecret)}, Replay: g.replay}
	if err := v.Verify(req.Header.Get(SignatureHeader), req.Body, req.ReceivedAt); err != nil {
		switch {
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
			ID: n.ID, Type: n.Type, AttemptID: n.AttemptID, GatewayRef: n.Payment,
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
