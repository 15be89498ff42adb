package rpc

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kassahq/kassa/plugins/sdk"
)

func TestErrorMapping(t *testing.T) {
	t.Parallel()
	live := context.Background()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		server error // returned by the plugin's implementation
		wire   codes.Code
		is     error // what the host's error unwraps to
	}{
		{"unimplemented", live, fmt.Errorf("X: %w", sdk.ErrUnimplemented), codes.Unimplemented, sdk.ErrUnimplemented},
		{"deadline", live, context.DeadlineExceeded, codes.DeadlineExceeded, context.DeadlineExceeded},
		{"caller canceled", gone, context.Canceled, codes.Canceled, context.Canceled},
		{"canceled under a live caller means the plugin went away", live, context.Canceled, codes.Canceled, sdk.ErrUnavailable},
		{"bug", live, errors.New("boom"), codes.Unknown, nil},
		{"status kept", live, status.Error(codes.Unavailable, "down"), codes.Unavailable, sdk.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wire := ToStatus(tc.server)
			if got := status.Code(wire); got != tc.wire {
				t.Fatalf("ToStatus code = %s, want %s", got, tc.wire)
			}
			err := FromStatus(tc.ctx, "PaymentGateway.CreatePayment", wire)
			var ce *CallError
			if !errors.As(err, &ce) || ce.Code != tc.wire || ce.Method != "PaymentGateway.CreatePayment" {
				t.Fatalf("FromStatus = %#v", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("FromStatus = %v, want errors.Is %v", err, tc.is)
			}
			if tc.is == nil && (errors.Is(err, sdk.ErrUnavailable) || errors.Is(err, sdk.ErrUnimplemented)) {
				t.Errorf("a plugin bug must not look like %v", err)
			}
		})
	}
	if ToStatus(nil) != nil || FromStatus(live, "m", nil) != nil {
		t.Error("nil must stay nil")
	}
}
