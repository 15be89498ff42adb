package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
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

// configured is what Configure built: the settings in effect and the HTTP
// client for outgoing calls, swapped together so a call never sees the
// secret of one configuration with the client of another.
type configured struct {
	settings
	// client dials through the SDK's network guard: only public
	// addresses, unless the shop owner allows private networks.
	client *http.Client
}

// Payment method hints (CreateRequest.PaymentMethod) the example answers.
// A real gateway names its products here ("card", "alipay_qr", ...); the
// test tokens stand in for a sandbox's test cards.
const (
	MethodPage   = "page"        // REQUIRES_ACTION: redirect to the hosted payment page (also without a hint)
	MethodQR     = "qr"          // REQUIRES_ACTION: a QR code holding the page's address
	TokenOK      = "tok_ok"      // SUCCEEDED at once, no buyer action
	TokenDecline = "tok_decline" // FAILED, card_declined
	TokenPending = "tok_pending" // PENDING until cancelled
)

// SignatureHeader is the header that carries "t=<unix>,v1=<hex hmac>" on
// the gateway's notifications.
const SignatureHeader = "Example-Signature"

// Gateway is the example gateway. Embedding UnimplementedGateway keeps it
// compiling when optional methods are added to the interface.
type Gateway struct {
	payment.UnimplementedGateway

	cfg    atomic.Pointer[configured]
	replay *webhook.ReplayCache

	mu       sync.Mutex
	payments map[string]*charge              // by attempt id
	byKey    map[string]payment.CreateResult // CreatePayment answers by idempotency key
	refunds  map[string]*refund              // by refund id
}

// charge is the in-memory bank's record of a payment. The fields below
// refunded are what the hosted page needs; a real gateway keeps them on its
// side.
type charge struct {
	ref      string
	amount   sdk.Money
	status   payment.Status
	decline  string
	refunded int64

	attemptID, orderNumber, locale string
	returnURL, notifyURL           string
	// action is what the buyer still has to do while status is
	// REQUIRES_ACTION; its URL carries token.
	action payment.Action
	// token is the page's secret: unguessable, required by the page's
	// GET and POST (see page.go).
	token string
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
		// Names and descriptions in the buyer's and staff's languages;
		// screens fall back to DisplayName and Description.
		DisplayNames: map[string]string{"zh-CN": "示例网关"},
		Descriptions: map[string]string{"zh-CN": "演示 Kassa 插件约定的最小支付网关。"},
		Capabilities: []string{
			payment.CapActionNone, payment.CapActionRedirect, payment.CapActionQRCode, payment.CapHTTP,
			payment.CapCancel, payment.CapRefund, payment.CapRefundPartial, payment.CapWebhook,
		},
		ConfigSchema: schema.String(),
	}, nil
}

// Configure implements sdk.Plugin: invalid settings are refused as data and
// the previous settings stay in effect.
//
// The HTTP client is built here because the shop owner's choice about
// private networks arrives with Configure's context: every outgoing call
// (here only the notifications of webhook.go) goes through a transport
// that checks the address actually connected to.
func (g *Gateway) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var s settings
	if errs := schema.Decode(raw, &s); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	guard := netguard.Policy{AllowPrivate: sdk.AllowPrivateNetworks(ctx)}
	g.cfg.Store(&configured{settings: s, client: &http.Client{Transport: guard.Transport(), Timeout: 10 * time.Second}})
	return sdk.ConfigureResult{}, nil
}

// Health implements sdk.Plugin.
func (g *Gateway) Health(context.Context) (sdk.Health, error) {
	if g.cfg.Load() == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "not configured"}, nil
	}
	return sdk.Health{Status: sdk.HealthServing}, nil
}

// newRef returns prefix and n random bytes in hex: gateway references (8
// bytes) and the page's token (16 bytes, 128 bits nobody can guess).
func newRef(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// CreatePayment implements payment.Gateway. Most gateways answer
// REQUIRES_ACTION with a page for the buyer (MethodPage, MethodQR); the
// test tokens show the other outcomes. Nothing here may fail with an error
// after the charge is recorded: an error means "outcome unknown".
func (g *Gateway) CreatePayment(_ context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if res, ok := g.byKey[req.IdempotencyKey]; ok {
		return res, nil // a retry: the first answer, no second charge
	}
	c := &charge{ref: newRef("ch_", 8), amount: req.Amount, attemptID: req.AttemptID, orderNumber: req.OrderNumber,
		locale: req.Locale, returnURL: req.ReturnURL, notifyURL: req.NotifyURL}
	var res payment.CreateResult
	switch req.PaymentMethod {
	case MethodPage, MethodQR, "":
		if req.PluginBaseURL == "" || req.AttemptID == "" {
			// Nothing was charged, so this is a decline, not an error.
			res = declined(payment.DeclineProcessingError, req.Locale, "Kassa sent no PluginBaseURL or attempt id: the hosted page has no address")
			break
		}
		c.status, c.token = payment.StatusRequiresAction, newRef("", 16)
		// The page lives under the plugin's prefix on the shop's own
		// origin; Kassa hands the request to HandleHTTP (page.go).
		// The link works until the payment is settled or Kassa closes it
		// (CancelPayment at the order's payment deadline, ExpiresAt).
		link := req.PluginBaseURL + "/pay/" + req.AttemptID + "?token=" + c.token
		c.action = payment.Action{Type: payment.ActionRedirect, URL: link, ExpiresAt: req.ExpiresAt}
		if req.PaymentMethod == MethodQR {
			// The buyer scans the code with a phone, which opens the
			// same page.
			c.action = payment.Action{Type: payment.ActionQRCode, QRCode: link, Instructions: textScan.in(req.Locale), ExpiresAt: c.action.ExpiresAt}
		}
		res = payment.CreateResult{Status: c.status, Action: c.action}
	case TokenDecline:
		res = declined(payment.DeclineCardDeclined, req.Locale, "test token "+TokenDecline)
	case TokenPending:
		c.status = payment.StatusPending
		res = payment.CreateResult{Status: payment.StatusPending}
	case TokenOK:
		c.status = payment.StatusSucceeded
		res = payment.CreateResult{Status: payment.StatusSucceeded}
	default:
		res = declined("payment_method_not_supported", req.Locale,
			fmt.Sprintf("unknown payment method %q (page, qr or a test token)", req.PaymentMethod))
	}
	if res.Status == payment.StatusFailed {
		c.status, c.decline = payment.StatusFailed, res.DeclineCode
	}
	res.GatewayRef, res.Amount = c.ref, req.Amount
	g.payments[req.AttemptID] = c
	g.byKey[req.IdempotencyKey] = res
	return res, nil
}

// declined is a CreatePayment refusal as data: a stable code, a message
// for the buyer in their language, detail for staff.
func declined(code, locale, staff string) payment.CreateResult {
	buyer := textDeclined
	if code == payment.DeclineProcessingError || code == "payment_method_not_supported" {
		buyer = textUnavailable
	}
	return payment.CreateResult{Status: payment.StatusFailed, DeclineCode: code, BuyerMessage: buyer.in(locale), MerchantMessage: staff}
}

// GetPayment implements payment.Gateway.
func (g *Gateway) GetPayment(_ context.Context, req payment.GetRequest) (payment.PaymentState, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.payments[req.AttemptID]
	if !ok {
		return payment.PaymentState{Status: payment.StatusNotFound}, nil
	}
	st := payment.PaymentState{Status: c.status, GatewayRef: c.ref, Amount: c.amount, Refunded: c.refunded, DeclineCode: c.decline}
	switch c.status {
	case payment.StatusSucceeded:
		st.Authorized, st.Captured = c.amount.Amount, c.amount.Amount
	case payment.StatusRequiresAction:
		// A buyer coming back to the shop can pick up where they left.
		st.Action = c.action
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
	r := &refund{ref: newRef("re_", 8), amount: req.Amount}
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
