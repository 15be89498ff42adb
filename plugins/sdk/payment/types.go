package payment

import (
	"net/http"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
)

// Status is the state of a payment attempt at the gateway.
type Status int

// The payment states.
const (
	// StatusUnknown is the zero value; never a valid answer (the host treats
	// it as "outcome unknown" and reconciles).
	StatusUnknown Status = iota
	// StatusPending: created, outcome not known yet (the gateway will notify,
	// or the buyer pays later).
	StatusPending
	// StatusRequiresAction: the buyer must act (see Action).
	StatusRequiresAction
	// StatusAuthorized: funds reserved; capture with CapturePayment.
	StatusAuthorized
	// StatusSucceeded: money captured, the order is paid.
	StatusSucceeded
	// StatusFailed: declined or failed (final); see DeclineCode.
	StatusFailed
	// StatusCanceled: closed unpaid (final).
	StatusCanceled
	// StatusNotFound: the gateway does not know the attempt (GetPayment only).
	StatusNotFound
)

var statusNames = [...]string{"UNKNOWN", "PENDING", "REQUIRES_ACTION", "AUTHORIZED", "SUCCEEDED", "FAILED", "CANCELED", "NOT_FOUND"}

// String returns the state's name, e.g. "SUCCEEDED".
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return "UNKNOWN"
	}
	return statusNames[s]
}

// Final reports whether no further change is expected (SUCCEEDED can still
// be refunded, but the payment itself is settled).
func (s Status) Final() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusCanceled
}

// CaptureMethod says when a successful authorization is captured.
type CaptureMethod int

// The capture methods.
const (
	// CaptureAutomatic captures at once; success is StatusSucceeded.
	CaptureAutomatic CaptureMethod = iota
	// CaptureManual authorizes only; success is StatusAuthorized and the host
	// calls CapturePayment later (capability CapCaptureManual).
	CaptureManual
)

// ActionType is what the buyer has to do next.
type ActionType int

// The action types.
const (
	// ActionNone: nothing to do.
	ActionNone ActionType = iota
	// ActionRedirect: send the buyer's browser to Action.URL.
	ActionRedirect
	// ActionQRCode: show Action.QRCode as a QR code to scan.
	ActionQRCode
	// ActionClientSecret: give Action.ClientSecret to the gateway's browser
	// library on the payment page.
	ActionClientSecret
	// ActionInstructions: show Action.Instructions (e.g. bank details).
	ActionInstructions
)

// ActionTypes lists every action type.
var ActionTypes = []ActionType{ActionNone, ActionRedirect, ActionQRCode, ActionClientSecret, ActionInstructions}

var actionNames = [...]string{"NONE", "REDIRECT", "QR_CODE", "CLIENT_SECRET", "INSTRUCTIONS"}

// String returns the type's name, e.g. "REDIRECT".
func (a ActionType) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return "NONE"
	}
	return actionNames[a]
}

// Capability returns the capability that declares support for the action
// type, e.g. "action.redirect".
func (a ActionType) Capability() string {
	switch a {
	case ActionRedirect:
		return CapActionRedirect
	case ActionQRCode:
		return CapActionQRCode
	case ActionClientSecret:
		return CapActionClientSecret
	case ActionInstructions:
		return CapActionInstructions
	default:
		return CapActionNone
	}
}

// Capabilities of payment plugins, declared in sdk.Info.Capabilities. The
// host only makes optional calls a plugin declares, and the conformance kit
// checks every declared capability.
const (
	// CapActionNone: CreatePayment can complete without a buyer action.
	CapActionNone = "action.none"
	// CapActionRedirect: CreatePayment can answer ActionRedirect.
	CapActionRedirect = "action.redirect"
	// CapActionQRCode: CreatePayment can answer ActionQRCode.
	CapActionQRCode = "action.qr_code"
	// CapActionClientSecret: CreatePayment can answer ActionClientSecret.
	CapActionClientSecret = "action.client_secret"
	// CapActionInstructions: CreatePayment can answer ActionInstructions.
	CapActionInstructions = "action.instructions"
	// CapCaptureManual: CaptureManual is honoured and CapturePayment works.
	CapCaptureManual = "capture.manual"
	// CapCancel: CancelPayment closes unpaid trades.
	CapCancel = "cancel"
	// CapRefund: Refund and GetRefund move money back through the gateway,
	// and over-refunds are refused as data.
	CapRefund = "refund"
	// CapRefundPartial: refunds may be for less than the captured amount.
	CapRefundPartial = "refund.partial"
	// CapRefundManual: refunds are done by staff outside the gateway; Refund
	// answers RefundPending with Instructions.
	CapRefundManual = "refund.manual"
	// CapWebhook: HandleWebhook verifies and normalizes notifications.
	CapWebhook = "webhook"
	// CapListTransactions: ListTransactions lists settled transactions.
	CapListTransactions = "list_transactions"
	// CapHTTP: HandleHTTP serves pages under /plugins/{id}/.
	CapHTTP = "http"
	// CapManualConfirmation: the gateway never learns that the buyer paid
	// (e.g. an offline bank transfer); staff confirm receipt in Kassa.
	// GetPayment then stays PENDING, and Kassa must not treat that as a
	// regression of a payment staff marked received.
	CapManualConfirmation = "confirm.manual"
)

// Stable codes for DeclineCode and FailureCode. Gateways map their own codes
// to these where one fits and may use their own lower_snake_case codes
// otherwise.
const (
	// DeclineCardDeclined: the issuer declined without a specific reason.
	DeclineCardDeclined = "card_declined"
	// DeclineInsufficientFunds: not enough money on the account.
	DeclineInsufficientFunds = "insufficient_funds"
	// DeclineExpiredCard: the card has expired.
	DeclineExpiredCard = "expired_card"
	// DeclineAuthenticationFailed: the buyer failed 3-D Secure or similar.
	DeclineAuthenticationFailed = "authentication_failed"
	// DeclineBuyerCanceled: the buyer gave up on the payment page.
	DeclineBuyerCanceled = "buyer_canceled"
	// DeclineProcessingError: the gateway failed; retrying may help.
	DeclineProcessingError = "processing_error"
	// DeclineCurrencyNotSupported: the gateway cannot take this currency.
	DeclineCurrencyNotSupported = "currency_not_supported"
	// DeclineInvalidAmount: the amount is zero, negative or out of range.
	DeclineInvalidAmount = "invalid_amount"
	// FailureAmountExceedsCaptured: a refund above captured minus refunded.
	FailureAmountExceedsCaptured = "amount_exceeds_captured"
	// FailureAmountExceedsAuthorized: a capture above the authorization.
	FailureAmountExceedsAuthorized = "amount_exceeds_authorized"
	// FailurePaymentNotCaptured: a refund of a payment that was not captured.
	FailurePaymentNotCaptured = "payment_not_captured"
	// FailurePaymentNotFound: the payment is unknown to the gateway.
	FailurePaymentNotFound = "payment_not_found"
	// FailureInvalidState: the call does not fit the payment's state (e.g.
	// capturing a failed payment).
	FailureInvalidState = "invalid_state"
)

// Action is what the buyer has to do next.
type Action struct {
	// Type says which field below is set.
	Type ActionType
	// URL is the redirect target (ActionRedirect).
	URL string
	// QRCode is the text to encode as a QR code (ActionQRCode).
	QRCode string
	// ClientSecret is for the gateway's browser library (ActionClientSecret).
	ClientSecret string
	// Instructions is plain text for the buyer (ActionInstructions).
	Instructions string
	// ExpiresAt is when the action stops working; zero if unknown.
	ExpiresAt time.Time
	// Details are structured values behind the instructions, e.g. "iban",
	// "reference", for storefronts that lay them out themselves.
	Details map[string]string
}

// CreateRequest starts a payment attempt.
type CreateRequest struct {
	// AttemptID is Kassa's id of the attempt ("pay_..."); stable across
	// retries. Send it to the gateway as the merchant reference.
	AttemptID string
	// OrderID is Kassa's id of the order ("ord_...").
	OrderID string
	// OrderNumber is the human order number, e.g. "#1001".
	OrderNumber string
	// Amount to charge.
	Amount sdk.Money
	// BuyerEmail, when known.
	BuyerEmail string
	// Locale of the buyer (BCP 47), when known.
	Locale string
	// ReturnURL is where the buyer comes back after an action. Coming back is
	// never proof of payment.
	ReturnURL string
	// NotifyURL is Kassa's webhook endpoint for this plugin.
	NotifyURL string
	// IdempotencyKey: a retry with the same key returns the first answer and
	// never charges twice.
	IdempotencyKey string
	// PaymentMethod is a hint from the buyer or storefront ("card",
	// "alipay", a gateway token); never a card number.
	PaymentMethod string
	// Metadata to store with the payment at the gateway.
	Metadata map[string]string
	// Description is a short statement text.
	Description string
	// CaptureMethod asks for automatic or manual capture.
	CaptureMethod CaptureMethod
	// PluginBaseURL is the absolute URL of the plugin's HandleHTTP pages, e.g.
	// "https://shop.example/plugins/payment.testpay".
	PluginBaseURL string
	// ExpiresAt is the order's payment deadline; zero if none. A page, QR
	// code or trade the buyer acts on should stop taking money then (the
	// gateway's own expiry: Alipay's time_expire, a Checkout Session's
	// expires_at), so that an order is not paid after Kassa may have
	// cancelled it.
	ExpiresAt time.Time
	// BuyerIP is the buyer's browser's IP address as Kassa saw it, for
	// gateways that require it (WeChat Pay H5's payer_client_ip); empty when
	// the payment was not started from a buyer's request.
	BuyerIP string
	// BuyerUserAgent is the buyer's browser's User-Agent (at most 512
	// bytes); optional.
	BuyerUserAgent string
}

// CreateResult is the outcome of CreatePayment. A decline is a result with
// StatusFailed and a DeclineCode, never an error.
type CreateResult struct {
	// Status after the call.
	Status Status
	// GatewayRef is the gateway's payment id.
	GatewayRef string
	// Action is what the buyer has to do next.
	Action Action
	// DeclineCode is a stable reason when Status is StatusFailed, e.g.
	// DeclineCardDeclined.
	DeclineCode string
	// BuyerMessage is safe to show to the buyer.
	BuyerMessage string
	// MerchantMessage is detail for staff (never secrets).
	MerchantMessage string
	// Amount the gateway accepted, in minor units (as CreateRequest.Amount)
	// and the requested currency; zero means the requested amount. Kassa
	// flags a payment whose Amount differs AMOUNT_MISMATCH, whether it
	// came with the first answer or with the answer to a retry (the same
	// IdempotencyKey again), which must describe the same payment.
	Amount sdk.Money
}

// GetRequest identifies an attempt to query.
type GetRequest struct {
	// AttemptID is Kassa's attempt id.
	AttemptID string
	// GatewayRef is the gateway's payment id, empty when CreatePayment's
	// answer was lost.
	GatewayRef string
}

// PaymentState is the gateway's view of an attempt.
type PaymentState struct {
	// Status now; StatusNotFound when the gateway does not know the attempt.
	Status Status
	// GatewayRef is the gateway's payment id.
	GatewayRef string
	// Amount of the payment.
	Amount sdk.Money
	// Authorized is the amount reserved, in Amount's currency.
	Authorized int64
	// Captured is the amount captured.
	Captured int64
	// Refunded is the amount refunded by succeeded refunds.
	Refunded int64
	// DeclineCode when failed.
	DeclineCode string
	// MerchantMessage is detail for staff.
	MerchantMessage string
	// Action pending when Status is StatusRequiresAction.
	Action Action
}

// CaptureRequest captures an authorized payment.
type CaptureRequest struct {
	// AttemptID is Kassa's attempt id.
	AttemptID string
	// GatewayRef is the gateway's payment id.
	GatewayRef string
	// Amount to capture, at most the authorized amount.
	Amount sdk.Money
	// IdempotencyKey: a retry never captures twice.
	IdempotencyKey string
}

// CaptureResult is the outcome of a capture.
type CaptureResult struct {
	// Status after the call: StatusSucceeded when captured.
	Status Status
	// Captured is the total captured so far.
	Captured int64
	// DeclineCode when refused, e.g. FailureAmountExceedsAuthorized.
	DeclineCode string
	// MerchantMessage is detail for staff.
	MerchantMessage string
}

// CancelRequest closes an unpaid attempt.
type CancelRequest struct {
	// AttemptID is Kassa's attempt id.
	AttemptID string
	// GatewayRef is the gateway's payment id if known.
	GatewayRef string
	// IdempotencyKey: a retry answers as the first call did.
	IdempotencyKey string
	// Reason is a short machine reason, e.g. "expired".
	Reason string
}

// CancelStatus is the outcome of CancelPayment.
type CancelStatus int

// The cancel outcomes.
const (
	// CancelUnknown is the zero value; never a valid answer.
	CancelUnknown CancelStatus = iota
	// CancelCanceled: the trade is closed (also if it already was).
	CancelCanceled
	// CancelAlreadyPaid: the buyer paid first; Kassa marks the order paid.
	CancelAlreadyPaid
	// CancelFailed: the gateway refused; see Code.
	CancelFailed
)

// String returns the outcome's name, e.g. "ALREADY_PAID".
func (s CancelStatus) String() string {
	switch s {
	case CancelCanceled:
		return "CANCELED"
	case CancelAlreadyPaid:
		return "ALREADY_PAID"
	case CancelFailed:
		return "FAILED"
	default:
		return "UNKNOWN"
	}
}

// CancelResult is the outcome of a cancel.
type CancelResult struct {
	// Status is the outcome.
	Status CancelStatus
	// PaymentStatus after the call, when known.
	PaymentStatus Status
	// Code is a stable reason when CancelFailed.
	Code string
	// MerchantMessage is detail for staff.
	MerchantMessage string
}

// RefundRequest returns money of a paid payment.
type RefundRequest struct {
	// RefundID is Kassa's refund id ("ref_..."); stable across retries.
	RefundID string
	// AttemptID is Kassa's id of the paid attempt.
	AttemptID string
	// GatewayRef is the gateway's payment id.
	GatewayRef string
	// Amount to refund. Refuse more than captured minus refunded as data
	// (RefundFailed, FailureAmountExceedsCaptured).
	Amount sdk.Money
	// Reason is a short machine reason, e.g. "requested_by_customer".
	Reason string
	// IdempotencyKey: a retry never refunds twice.
	IdempotencyKey string
	// Locale for instructions. Optional.
	Locale string
}

// RefundStatus is the state of a refund.
type RefundStatus int

// The refund states.
const (
	// RefundUnknown is the zero value; never a valid answer.
	RefundUnknown RefundStatus = iota
	// RefundPending: accepted, not final.
	RefundPending
	// RefundSucceeded: money is on its way back (final).
	RefundSucceeded
	// RefundFailed: refused or failed (final); see FailureCode.
	RefundFailed
	// RefundNotFound: unknown to the gateway (GetRefund only).
	RefundNotFound
)

// String returns the state's name, e.g. "SUCCEEDED".
func (s RefundStatus) String() string {
	switch s {
	case RefundPending:
		return "PENDING"
	case RefundSucceeded:
		return "SUCCEEDED"
	case RefundFailed:
		return "FAILED"
	case RefundNotFound:
		return "NOT_FOUND"
	default:
		return "UNKNOWN"
	}
}

// RefundResult is the state of a refund (Refund and GetRefund).
type RefundResult struct {
	// Status of the refund.
	Status RefundStatus
	// GatewayRefundRef is the gateway's refund id.
	GatewayRefundRef string
	// Amount of the refund.
	Amount sdk.Money
	// FailureCode when failed, e.g. FailureAmountExceedsCaptured.
	FailureCode string
	// MerchantMessage is detail for staff.
	MerchantMessage string
	// Instructions tell staff how to complete a manual refund
	// (CapRefundManual).
	Instructions string
}

// GetRefundRequest identifies a refund to query.
type GetRefundRequest struct {
	// RefundID is Kassa's refund id.
	RefundID string
	// GatewayRefundRef is the gateway's refund id if known.
	GatewayRefundRef string
	// AttemptID is Kassa's id of the refunded attempt.
	AttemptID string
	// GatewayRef is the gateway's id of the refunded payment.
	GatewayRef string
}

// WebhookRequest is a notification as Kassa received it on
// /webhooks/{plugin id}.
type WebhookRequest struct {
	// Method is the HTTP method, normally "POST".
	Method string
	// Path below /webhooks/{plugin id}, "" or "/...".
	Path string
	// Query is the raw query string.
	Query string
	// Header holds the request headers.
	Header http.Header
	// Body is the raw body, byte for byte.
	Body []byte
	// ReceivedAt is when Kassa received it; judge timestamp freshness
	// against it, not against time.Now.
	ReceivedAt time.Time
}

// RejectionReason says why a notification was refused.
type RejectionReason int

// The rejection reasons.
const (
	// RejectNone: not rejected.
	RejectNone RejectionReason = iota
	// RejectBadSignature: missing or wrong signature.
	RejectBadSignature
	// RejectStale: the signed timestamp is outside the tolerance window.
	RejectStale
	// RejectReplay: the same signed delivery was already accepted.
	RejectReplay
	// RejectMalformed: the body could not be parsed.
	RejectMalformed
	// RejectNotConfigured: no verification secret is configured.
	RejectNotConfigured
)

// String returns the reason's name, e.g. "BAD_SIGNATURE".
func (r RejectionReason) String() string {
	switch r {
	case RejectBadSignature:
		return "BAD_SIGNATURE"
	case RejectStale:
		return "STALE"
	case RejectReplay:
		return "REPLAY"
	case RejectMalformed:
		return "MALFORMED"
	case RejectNotConfigured:
		return "NOT_CONFIGURED"
	default:
		return "NONE"
	}
}

// Rejection explains a refused notification.
type Rejection struct {
	// Reason is the category.
	Reason RejectionReason
	// Message is detail for logs (never secrets).
	Message string
}

// Event types of normalized gateway events.
const (
	EventPaymentAuthorized     = "payment.authorized"      // funds reserved
	EventPaymentSucceeded      = "payment.succeeded"       // money captured
	EventPaymentFailed         = "payment.failed"          // declined or failed
	EventPaymentCanceled       = "payment.canceled"        // closed unpaid
	EventPaymentRequiresAction = "payment.requires_action" // buyer must act
	EventRefundSucceeded       = "refund.succeeded"        // refund completed
	EventRefundFailed          = "refund.failed"           // refund failed
	EventDisputeOpened         = "dispute.opened"          // chargeback opened
	EventDisputeClosed         = "dispute.closed"          // chargeback closed
)

// Event is one normalized gateway event.
type Event struct {
	// ID is the gateway's unique event id; Kassa applies each id at most
	// once, so it must be stable across redeliveries.
	ID string
	// Type is one of the Event* constants.
	Type string
	// AttemptID is Kassa's attempt id, when the gateway echoes it.
	AttemptID string
	// GatewayRef is the gateway's payment id.
	GatewayRef string
	// RefundID is Kassa's refund id (refund events), when echoed.
	RefundID string
	// GatewayRefundRef is the gateway's refund id (refund events).
	GatewayRefundRef string
	// Amount the event is about; Kassa checks it against the attempt.
	// Leave it zero, currency included, only when the gateway's message
	// names no amount: Kassa then takes the attempt's own. An amount with
	// its currency, 0 included, is checked (a success that took 0 is an
	// AMOUNT_MISMATCH), and a refund must name what it returned.
	Amount sdk.Money
	// OccurredAt is when it happened at the gateway.
	OccurredAt time.Time
	// DeclineCode for failure events.
	DeclineCode string
	// MerchantMessage is detail for staff.
	MerchantMessage string
}

// WebhookResult is the verified, normalized content of a notification and
// the exact HTTP answer the gateway expects.
type WebhookResult struct {
	// Events carried by the notification; empty when rejected.
	Events []Event
	// Response is the answer for the gateway (Alipay's "success", WeChat
	// Pay's 204, ...). Kassa sends it only after it committed the events.
	Response sdk.HTTPResponse
	// Rejection is set when the notification was refused.
	Rejection *Rejection
}

// ListTransactionsRequest asks for settled transactions in [From, To).
type ListTransactionsRequest struct {
	// From is the inclusive start.
	From time.Time
	// To is the exclusive end.
	To time.Time
	// PageToken continues a listing; empty for the first page.
	PageToken string
	// PageSize is the maximum count; 0 lets the plugin choose.
	PageSize int
}

// TransactionPage is one page of settled transactions.
type TransactionPage struct {
	// Transactions in settlement order.
	Transactions []Transaction
	// NextPageToken is empty on the last page.
	NextPageToken string
}

// Transaction is one settled money movement at the gateway.
type Transaction struct {
	// ID is the gateway's id of the movement.
	ID string
	// Type is "charge", "refund", "fee", "payout", "dispute" or "adjustment".
	Type string
	// AttemptID is Kassa's attempt id, when known.
	AttemptID string
	// GatewayRef is the related payment.
	GatewayRef string
	// GatewayRefundRef is the related refund.
	GatewayRefundRef string
	// Amount is gross, negative for money leaving the merchant.
	Amount sdk.Money
	// Fee is the gateway's fee (positive).
	Fee sdk.Money
	// OccurredAt is when it settled.
	OccurredAt time.Time
}
