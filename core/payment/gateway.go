package payment

import (
	"context"
	"errors"
	"time"

	"github.com/kassahq/kassa/core/money"
)

// Errors of Gateway calls, next to the *errs.Error (code
// PLUGIN_UNAVAILABLE or PLUGIN_TIMEOUT, kind errs.ErrUnavailable) a gateway
// implementation returns for failures.
var (
	// ErrOutcomeUnknown means the call may or may not have happened at the
	// gateway: the plugin crashed, the connection broke or the deadline passed
	// after the request left. A payment attempt stays UNKNOWN and is
	// reconciled with GetPayment; never treat it as a decline.
	ErrOutcomeUnknown = errors.New("payment: gateway outcome unknown")
	// ErrNotSupported means the gateway does not offer an optional call
	// (capture, cancel, refund, webhooks, transaction lists).
	ErrNotSupported = errors.New("payment: not supported by the gateway")
)

// Gateway is a payment gateway as the checkout sees it: Stripe, Alipay, a
// bank transfer, the test gateway. core/plugin makes plugin processes
// satisfy it; tests may use an in-memory fake.
//
// Business outcomes are data: a decline is a CreateResult with StatusFailed
// and a DeclineCode, never an error. An error unwrapping to
// ErrOutcomeUnknown means the state must be reconciled; one that does not
// (e.g. the plugin was known to be down before the call) means nothing was
// sent. Every mutating call carries an idempotency key: retrying with the
// same key never charges, captures or refunds twice.
type Gateway interface {
	// ID is the gateway's plugin id, e.g. "payment.stripe".
	ID() string
	// Supports reports whether the gateway declares the capability, one of
	// the Cap* constants.
	Supports(capability string) bool
	// CreatePayment starts a payment attempt and says what the buyer does
	// next.
	CreatePayment(ctx context.Context, req CreateRequest) (CreateResult, error)
	// GetPayment asks the gateway for an attempt's state (reconciliation).
	GetPayment(ctx context.Context, req GetRequest) (GatewayPayment, error)
	// CapturePayment captures an authorized payment (CapCaptureManual).
	CapturePayment(ctx context.Context, req CaptureRequest) (CaptureResult, error)
	// CancelPayment closes an unpaid trade; CancelAlreadyPaid when the buyer
	// paid first (CapCancel).
	CancelPayment(ctx context.Context, req CancelRequest) (CancelResult, error)
	// Refund returns money, partly or fully (CapRefund or CapRefundManual).
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
	// GetRefund asks for a refund's state.
	GetRefund(ctx context.Context, req GetRefundRequest) (RefundResult, error)
	// HandleWebhook verifies a gateway notification and normalizes its
	// events; the core answers with WebhookResult.Response only after it
	// committed them (CapWebhook).
	HandleWebhook(ctx context.Context, req WebhookRequest) (WebhookResult, error)
	// ListTransactions lists settled transactions for reconciliation
	// (CapListTransactions).
	ListTransactions(ctx context.Context, req ListTransactionsRequest) (TransactionPage, error)
}

// Capabilities a gateway may declare.
const (
	CapActionNone         = "action.none"          // can complete without a buyer action
	CapActionRedirect     = "action.redirect"      // answers ActionRedirect
	CapActionQRCode       = "action.qr_code"       // answers ActionQRCode
	CapActionClientSecret = "action.client_secret" // answers ActionClientSecret
	CapActionInstructions = "action.instructions"  // answers ActionInstructions
	CapCaptureManual      = "capture.manual"       // authorize now, capture later
	CapCancel             = "cancel"               // closes unpaid trades
	CapRefund             = "refund"               // refunds through the gateway
	CapRefundPartial      = "refund.partial"       // refunds below the captured amount
	CapRefundManual       = "refund.manual"        // staff refund outside the gateway
	CapWebhook            = "webhook"              // verifies notifications
	CapListTransactions   = "list_transactions"    // lists settled transactions
	CapHTTP               = "http"                 // serves pages under /plugins/{id}/
	// CapManualConfirmation: an offline gateway (a bank transfer) that
	// never learns that the buyer paid: staff confirm the money
	// (ConfirmBankTransfer), on its attempts only.
	CapManualConfirmation = "confirm.manual"
)

// Status is the state of a payment attempt at the gateway.
type Status string

// The payment states at the gateway.
const (
	StatusUnknown        Status = "UNKNOWN"         // no trustworthy answer: reconcile
	StatusPending        Status = "PENDING"         // outcome not known yet
	StatusRequiresAction Status = "REQUIRES_ACTION" // the buyer must act
	StatusAuthorized     Status = "AUTHORIZED"      // funds reserved, capture later
	StatusSucceeded      Status = "SUCCEEDED"       // money captured
	StatusFailed         Status = "FAILED"          // declined (final)
	StatusCanceled       Status = "CANCELED"        // closed unpaid (final)
	StatusNotFound       Status = "NOT_FOUND"       // the gateway never saw it
)

// CaptureMethod says when an authorization is captured.
type CaptureMethod string

// The capture methods.
const (
	CaptureAutomatic CaptureMethod = "AUTOMATIC"
	CaptureManual    CaptureMethod = "MANUAL"
)

// ActionType is what the buyer does next.
type ActionType string

// The buyer actions.
const (
	ActionNone         ActionType = "NONE"
	ActionRedirect     ActionType = "REDIRECT"
	ActionQRCode       ActionType = "QR_CODE"
	ActionClientSecret ActionType = "CLIENT_SECRET"
	ActionInstructions ActionType = "INSTRUCTIONS"
)

// Action is what the buyer has to do to pay.
type Action struct {
	// Type says which field below is set.
	Type ActionType
	// URL to send the buyer's browser to (ActionRedirect).
	URL string
	// QRCode is the text to show as a QR code (ActionQRCode).
	QRCode string
	// ClientSecret is for the gateway's browser library (ActionClientSecret).
	ClientSecret string
	// Instructions are plain text, e.g. bank details (ActionInstructions).
	Instructions string
	// ExpiresAt is when the action stops working; zero if unknown.
	ExpiresAt time.Time
	// Details are structured values behind the instructions ("iban",
	// "reference").
	Details map[string]string
}

// CreateRequest starts a payment attempt.
type CreateRequest struct {
	AttemptID      string // Kassa's attempt id (pay_...), the merchant reference
	OrderID        string // Kassa's order id
	OrderNumber    string // human order number, e.g. #1001
	Amount         money.Money
	BuyerEmail     string
	Locale         string // BCP 47
	ReturnURL      string // where the buyer comes back; never proof of payment
	NotifyURL      string // Kassa's webhook endpoint for this gateway
	IdempotencyKey string // a retry with the same key never charges twice
	PaymentMethod  string // a hint ("card", "alipay", a gateway token); never a card number
	Metadata       map[string]string
	Description    string
	CaptureMethod  CaptureMethod
	// PluginBaseURL is the absolute URL of the gateway's pages served by
	// Kassa; filled by the gateway implementation when empty.
	PluginBaseURL string
	ExpiresAt     time.Time // the order's payment deadline; zero if none
	// BuyerIP and BuyerUserAgent describe the buyer's browser when the
	// payment starts from the buyer's request (the storefront, or a
	// headless storefront calling the API); empty otherwise.
	BuyerIP        string
	BuyerUserAgent string
}

// CreateResult is the outcome of CreatePayment.
type CreateResult struct {
	Status          Status
	GatewayRef      string // the gateway's payment id
	Action          Action
	DeclineCode     string // stable reason when failed, e.g. card_declined
	BuyerMessage    string // safe to show to the buyer
	MerchantMessage string // detail for staff
	// Amount the gateway accepted; the zero Money means the requested one.
	Amount money.Money
}

// GetRequest identifies an attempt at the gateway.
type GetRequest struct {
	AttemptID  string
	GatewayRef string // empty when CreatePayment's answer was lost
}

// GatewayPayment is the gateway's view of an attempt.
type GatewayPayment struct {
	Status          Status
	GatewayRef      string
	Amount          money.Money
	Authorized      int64 // minor units of Amount's currency
	Captured        int64
	Refunded        int64
	DeclineCode     string
	MerchantMessage string
	Action          Action // pending action when StatusRequiresAction
}

// CaptureRequest captures an authorized payment.
type CaptureRequest struct {
	AttemptID      string
	GatewayRef     string
	Amount         money.Money
	IdempotencyKey string
}

// CaptureResult is the outcome of a capture.
type CaptureResult struct {
	Status          Status
	Captured        int64 // total captured so far, minor units
	DeclineCode     string
	MerchantMessage string
}

// CancelRequest closes an unpaid attempt.
type CancelRequest struct {
	AttemptID      string
	GatewayRef     string
	IdempotencyKey string
	Reason         string // e.g. "expired"
}

// CancelStatus is the outcome of CancelPayment.
type CancelStatus string

// The cancel outcomes.
const (
	CancelUnknown     CancelStatus = "UNKNOWN"
	CancelCanceled    CancelStatus = "CANCELED"
	CancelAlreadyPaid CancelStatus = "ALREADY_PAID" // mark the order paid instead
	CancelFailed      CancelStatus = "FAILED"
)

// CancelResult is the outcome of a cancel.
type CancelResult struct {
	Status          CancelStatus
	PaymentStatus   Status
	Code            string
	MerchantMessage string
}

// RefundRequest returns money of a paid attempt.
type RefundRequest struct {
	RefundID       string // Kassa's refund id (ref_...)
	AttemptID      string
	GatewayRef     string
	Amount         money.Money
	Reason         string
	IdempotencyKey string
	Locale         string
}

// RefundStatus is the state of a refund at the gateway.
type RefundStatus string

// The refund states.
const (
	RefundUnknown   RefundStatus = "UNKNOWN"
	RefundPending   RefundStatus = "PENDING"
	RefundSucceeded RefundStatus = "SUCCEEDED"
	RefundFailed    RefundStatus = "FAILED"
	RefundNotFound  RefundStatus = "NOT_FOUND"
)

// RefundResult is the state of a refund.
type RefundResult struct {
	Status           RefundStatus
	GatewayRefundRef string
	Amount           money.Money
	FailureCode      string
	MerchantMessage  string
	Instructions     string // how staff complete a manual refund
}

// GetRefundRequest identifies a refund at the gateway.
type GetRefundRequest struct {
	RefundID         string
	GatewayRefundRef string
	AttemptID        string
	GatewayRef       string
}

// WebhookRequest is a notification as received on /webhooks/{gateway id}.
type WebhookRequest struct {
	Method     string
	Path       string // below /webhooks/{gateway id}
	Query      string
	Header     map[string][]string // canonical header names, as net/http gives them
	Body       []byte              // raw, byte for byte
	ReceivedAt time.Time
}

// Rejection reasons of a refused notification.
const (
	RejectBadSignature  = "BAD_SIGNATURE"
	RejectStale         = "STALE"
	RejectReplay        = "REPLAY"
	RejectMalformed     = "MALFORMED"
	RejectNotConfigured = "NOT_CONFIGURED"
)

// WebhookResult is a verified, normalized notification and the exact HTTP
// answer the gateway expects.
type WebhookResult struct {
	Events []GatewayEvent
	// Response is sent to the gateway after the events were committed.
	Response WebhookResponse
	// Rejected is a Reject* reason when the notification was refused ("" when
	// accepted); RejectMessage is detail for logs.
	Rejected      string
	RejectMessage string
}

// WebhookResponse is the HTTP answer for the gateway.
type WebhookResponse struct {
	Status int // 0 means 200
	Header map[string][]string
	Body   []byte
}

// Gateway event types.
const (
	EventPaymentAuthorized     = "payment.authorized"
	EventPaymentSucceeded      = "payment.succeeded"
	EventPaymentFailed         = "payment.failed"
	EventPaymentCanceled       = "payment.canceled"
	EventPaymentRequiresAction = "payment.requires_action"
	EventRefundSucceeded       = "refund.succeeded"
	EventRefundFailed          = "refund.failed"
	EventDisputeOpened         = "dispute.opened"
	EventDisputeClosed         = "dispute.closed"
)

// GatewayEvent is one normalized event of a notification. The core applies
// each ID at most once.
type GatewayEvent struct {
	ID               string
	Type             string // one of the Event* constants
	AttemptID        string
	GatewayRef       string
	RefundID         string
	GatewayRefundRef string
	Amount           money.Money // checked against the attempt
	OccurredAt       time.Time
	DeclineCode      string
	MerchantMessage  string
}

// ListTransactionsRequest asks for settled transactions in [From, To).
type ListTransactionsRequest struct {
	From, To  time.Time
	PageToken string
	PageSize  int
}

// TransactionPage is one page of settled transactions.
type TransactionPage struct {
	Transactions  []GatewayTransaction
	NextPageToken string
}

// GatewayTransaction is one settled money movement at the gateway.
type GatewayTransaction struct {
	ID               string
	Type             string // charge, refund, fee, payout, dispute, adjustment
	AttemptID        string
	GatewayRef       string
	GatewayRefundRef string
	Amount           money.Money // negative for money leaving the merchant
	Fee              money.Money
	OccurredAt       time.Time
}
