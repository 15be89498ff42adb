package rpc

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kassahq/kassa/plugins/sdk"
)

// ToStatus turns an error returned by a plugin's implementation into a gRPC
// status error for the wire. ErrUnimplemented becomes codes.Unimplemented so
// hosts detect optional methods; context errors keep their codes.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, sdk.ErrUnimplemented):
		return status.Error(codes.Unimplemented, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	default:
		return status.Error(codes.Unknown, err.Error())
	}
}

// CallError is a failed call to a plugin, as the host sees it. It unwraps to
// a sentinel (sdk.ErrUnimplemented, sdk.ErrUnavailable,
// context.DeadlineExceeded, context.Canceled) when one applies.
type CallError struct {
	// Method is the RPC, e.g. "PaymentGateway.CreatePayment".
	Method string
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the status message.
	Message string

	sentinel error
}

// Error describes the failure.
func (e *CallError) Error() string {
	return fmt.Sprintf("plugin call %s: %s: %s", e.Method, e.Code, e.Message)
}

// Unwrap returns the sentinel the code maps to, if any.
func (e *CallError) Unwrap() error { return e.sentinel }

// FromStatus maps an error of a gRPC client call back to SDK errors. ctx is
// the caller's context: a Canceled code with a live context means the plugin
// went away, not that the caller gave up.
func FromStatus(ctx context.Context, method string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("plugin call %s: %w", method, err)
	}
	ce := &CallError{Method: method, Code: st.Code(), Message: st.Message()}
	switch st.Code() {
	case codes.Unimplemented:
		ce.sentinel = sdk.ErrUnimplemented
	case codes.Unavailable:
		ce.sentinel = sdk.ErrUnavailable
	case codes.DeadlineExceeded:
		ce.sentinel = context.DeadlineExceeded
	case codes.Canceled:
		if ctx.Err() != nil {
			ce.sentinel = context.Canceled
		} else {
			ce.sentinel = sdk.ErrUnavailable
		}
	}
	return ce
}
