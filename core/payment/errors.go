package payment

import (
	"fmt"

	"github.com/kassahq/kassa/core/kit/errs"
)

// The stable error codes of payments. Clients switch on them; never
// change a released one. The gateway lookup adds core/plugin's codes
// (PLUGIN_NOT_FOUND, PLUGIN_DISABLED, PLUGIN_UNAVAILABLE, PLUGIN_TIMEOUT)
// and idempotency keys theirs (IDEMPOTENCY_KEY_REUSED, ...).
const (
	// CodeRequired: a required field is empty.
	CodeRequired = "REQUIRED"
	// CodeTooLong: a text longer than its limit.
	CodeTooLong = "TOO_LONG"
	// CodeInvalidURL: the return URL is not an absolute http(s) URL.
	CodeInvalidURL = "INVALID_URL"
	// CodeReturnURLNotAllowed: the return URL is on another origin than
	// the shop's public URL and its storefront origins (shop settings).
	CodeReturnURLNotAllowed = "RETURN_URL_NOT_ALLOWED"
	// CodeInvalidAmount: an amount that is not positive, or in another
	// currency than the order's.
	CodeInvalidAmount = "INVALID_AMOUNT"
	// CodeOrderNotFound: no such order, or not the caller's.
	CodeOrderNotFound = "ORDER_NOT_FOUND"
	// CodeAttemptNotFound: no such payment attempt.
	CodeAttemptNotFound = "PAYMENT_NOT_FOUND"
	// CodeRefundNotFound: no such refund.
	CodeRefundNotFound = "REFUND_NOT_FOUND"
	// CodeOrderAlreadyPaid: the order's payment is authorized, paid or
	// refunded: nothing to pay.
	CodeOrderAlreadyPaid = "ORDER_ALREADY_PAID"
	// CodeOrderNotOpen: the order was cancelled or completed.
	CodeOrderNotOpen = "ORDER_NOT_OPEN"
	// CodeOrderPaymentVoided: the order's authorization was voided.
	CodeOrderPaymentVoided = "ORDER_PAYMENT_VOIDED"
	// CodeOrderPaymentExpired: the order's payment deadline passed; it
	// is about to be cancelled and can no longer be paid.
	CodeOrderPaymentExpired = "ORDER_PAYMENT_EXPIRED"
	// CodePaymentInProgress: another payment of the order is being
	// started and its gateway has not answered yet, or the order's
	// payments are being closed before it is cancelled. Retry in a moment:
	// the answer says whether the order still needs paying.
	CodePaymentInProgress = "PAYMENT_IN_PROGRESS"
	// CodeNotAuthorized: capture or void of an attempt that is not
	// AUTHORIZED.
	CodeNotAuthorized = "PAYMENT_NOT_AUTHORIZED"
	// CodeCaptureExceedsAuthorized: a capture above the authorization.
	CodeCaptureExceedsAuthorized = "CAPTURE_EXCEEDS_AUTHORIZED"
	// CodeRefundExceedsCaptured: a refund above what was captured net of
	// earlier and pending refunds.
	CodeRefundExceedsCaptured = "REFUND_EXCEEDS_CAPTURED"
	// CodeNothingToRefund: a refund of no amount, no line and no shipping.
	CodeNothingToRefund = "NOTHING_TO_REFUND"
	// CodeRefundAmountMismatch: an amount that is not the sum of the lines
	// and shipping given with it.
	CodeRefundAmountMismatch = "REFUND_AMOUNT_MISMATCH"
	// CodeLineNotFound: a refund line that is not a line of the order.
	CodeLineNotFound = "LINE_NOT_FOUND"
	// CodeInvalidQuantity: a refund line quantity outside 1..ordered.
	CodeInvalidQuantity = "INVALID_QUANTITY"
	// CodeLineAlreadyRefunded: a refund line asking for more units than
	// earlier refunds (not FAILED) left of the line.
	CodeLineAlreadyRefunded = "LINE_ALREADY_REFUNDED"
	// CodeShippingAlreadyRefunded: a refund of more shipping than earlier
	// refunds (not FAILED) left of the order's.
	CodeShippingAlreadyRefunded = "SHIPPING_ALREADY_REFUNDED"
	// CodeNotSupported: the gateway does not offer the operation.
	CodeNotSupported = "PAYMENT_NOT_SUPPORTED"
	// CodeNoOpenAttempt: a bank transfer to confirm needs an attempt of
	// the order through an offline gateway (bank transfer).
	CodeNoOpenAttempt = "NO_OPEN_PAYMENT"
	// CodeNotOffline: a bank transfer confirmed on an attempt of a
	// gateway that reports its own money (a card, a wallet).
	CodeNotOffline = "PAYMENT_NOT_OFFLINE"
	// CodeAlreadyCaptured: a bank transfer confirmed on an attempt whose
	// money is in already.
	CodeAlreadyCaptured = "PAYMENT_ALREADY_CAPTURED"
	// CodeGatewayRefused: the gateway refused a capture or void; its code
	// is in the message.
	CodeGatewayRefused = "GATEWAY_REFUSED"
	// CodeOutcomeUnknown: the gateway did not answer a capture, void or
	// refund; the reconciler finds out. Do not retry with another key.
	CodeOutcomeUnknown = "PAYMENT_OUTCOME_UNKNOWN"
	// CodeEventNotFound: no such gateway event.
	CodeEventNotFound = "PAYMENT_EVENT_NOT_FOUND"
	// CodeEventNotFlagged: an event resolved that no flag held for staff.
	CodeEventNotFlagged = "PAYMENT_EVENT_NOT_FLAGGED"
	// CodeFlagAlreadyResolved: an event's flag that staff resolved
	// already.
	CodeFlagAlreadyResolved = "FLAG_ALREADY_RESOLVED"
)

func orderNotFound() *errs.Error { return errs.NotFound(CodeOrderNotFound, "no such order") }

func attemptNotFound() *errs.Error {
	return errs.NotFound(CodeAttemptNotFound, "no such payment")
}

func refundNotFound() *errs.Error { return errs.NotFound(CodeRefundNotFound, "no such refund") }

func notAuthorized(a *Attempt) *errs.Error {
	return errs.Conflict("attemptId", CodeNotAuthorized, fmt.Sprintf("payment %s is %s, not AUTHORIZED", a.ID, a.State))
}

func outcomeUnknown(what string) *errs.Error {
	return errs.Unavailable(CodeOutcomeUnknown, fmt.Sprintf("the gateway did not answer the %s; its outcome will be known after reconciliation", what))
}

// errsNotFound is the sentinel every not-found error unwraps to.
var errsNotFound = errs.ErrNotFound
