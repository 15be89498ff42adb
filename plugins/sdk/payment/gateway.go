package payment

import (
	"context"
	"fmt"

	"github.com/kassahq/kassa/plugins/sdk"
)

// ErrUnimplemented is returned by optional methods a gateway does not
// implement; the host's client returns it for codes.Unimplemented. It is
// sdk.ErrUnimplemented.
var ErrUnimplemented = sdk.ErrUnimplemented

// Gateway is a payment gateway plugin. Implement it, embed
// [UnimplementedGateway] for the optional methods you do not support, and
// call [Serve] from main.
//
// Rules every method follows:
//   - Business outcomes are data: a decline is a result with StatusFailed and
//     a DeclineCode, a refused refund is RefundFailed with a FailureCode. An
//     error means "outcome unknown": Kassa keeps the attempt UNKNOWN and
//     reconciles with GetPayment, so never return an error after money may
//     have moved without being sure it did not.
//   - Mutating calls are idempotent by IdempotencyKey: a retry returns the
//     first answer and never charges, captures or refunds twice.
//   - Respect ctx's deadline; Kassa puts one on every call.
//
// The host side of Kassa uses the same interface: sdk/host returns a
// Gateway backed by gRPC.
type Gateway interface {
	sdk.Plugin

	// CreatePayment starts a payment attempt and says what the buyer must
	// do next.
	CreatePayment(ctx context.Context, req CreateRequest) (CreateResult, error)
	// GetPayment queries the gateway for an attempt's state (reconciliation).
	// An attempt the gateway never saw is StatusNotFound, not an error.
	GetPayment(ctx context.Context, req GetRequest) (PaymentState, error)
	// CapturePayment captures an authorized payment (CapCaptureManual).
	CapturePayment(ctx context.Context, req CaptureRequest) (CaptureResult, error)
	// CancelPayment closes an unpaid trade; CancelAlreadyPaid when the buyer
	// paid first (CapCancel).
	CancelPayment(ctx context.Context, req CancelRequest) (CancelResult, error)
	// Refund returns money, partly or fully (CapRefund or CapRefundManual).
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
	// GetRefund queries a refund's state.
	GetRefund(ctx context.Context, req GetRefundRequest) (RefundResult, error)
	// HandleWebhook verifies a notification (signature, freshness, replay),
	// normalizes its events and returns the gateway's expected answer
	// (CapWebhook). A refused notification is a result with Rejection set.
	HandleWebhook(ctx context.Context, req WebhookRequest) (WebhookResult, error)
	// ListTransactions lists settled transactions (CapListTransactions).
	ListTransactions(ctx context.Context, req ListTransactionsRequest) (TransactionPage, error)
}

// UnimplementedGateway implements the optional methods of [Gateway] by
// returning ErrUnimplemented. Embed it in your gateway so that methods added
// to the interface later never break your plugin:
//
//	type Gateway struct {
//		payment.UnimplementedGateway
//		// ...
//	}
//
// The methods you must write yourself are Describe, Configure, Health,
// CreatePayment and GetPayment.
type UnimplementedGateway struct{}

func unimplemented(method string) error {
	return fmt.Errorf("PaymentGateway.%s: %w", method, ErrUnimplemented)
}

// HandleHTTP returns ErrUnimplemented.
func (UnimplementedGateway) HandleHTTP(context.Context, sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	return sdk.HTTPResponse{}, unimplemented("HandleHTTP")
}

// CapturePayment returns ErrUnimplemented.
func (UnimplementedGateway) CapturePayment(context.Context, CaptureRequest) (CaptureResult, error) {
	return CaptureResult{}, unimplemented("CapturePayment")
}

// CancelPayment returns ErrUnimplemented.
func (UnimplementedGateway) CancelPayment(context.Context, CancelRequest) (CancelResult, error) {
	return CancelResult{}, unimplemented("CancelPayment")
}

// Refund returns ErrUnimplemented.
func (UnimplementedGateway) Refund(context.Context, RefundRequest) (RefundResult, error) {
	return RefundResult{}, unimplemented("Refund")
}

// GetRefund returns ErrUnimplemented.
func (UnimplementedGateway) GetRefund(context.Context, GetRefundRequest) (RefundResult, error) {
	return RefundResult{}, unimplemented("GetRefund")
}

// HandleWebhook returns ErrUnimplemented.
func (UnimplementedGateway) HandleWebhook(context.Context, WebhookRequest) (WebhookResult, error) {
	return WebhookResult{}, unimplemented("HandleWebhook")
}

// ListTransactions returns ErrUnimplemented.
func (UnimplementedGateway) ListTransactions(context.Context, ListTransactionsRequest) (TransactionPage, error) {
	return TransactionPage{}, unimplemented("ListTransactions")
}
