package payment

import (
	"context"
	"errors"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kassahq/kassa/plugins/sdk"
	pb "github.com/kassahq/kassa/plugins/sdk/internal/pb/kassa/plugin/v1"
	"github.com/kassahq/kassa/plugins/sdk/internal/rpc"
)

// CapWebhookSimulate: the gateway implements [WebhookSimulator] and builds
// signed test notifications in its sandbox mode (`kassa plugin trigger`,
// and the conformance kit's webhook checks). It needs CapWebhook.
const CapWebhookSimulate = "webhook.simulate"

// ErrSimulationRefused is what SimulateWebhook returns, wrapped with the
// reason, when the plugin is configured for the gateway's production
// environment: a notification signed with live keys would be
// indistinguishable from a real payment. Hosts see it through errors.Is.
var ErrSimulationRefused = errors.New("webhook simulation refused")

// WebhookSimulator is the optional interface of gateways that can build the
// notifications their gateway sends, signed as the gateway signs them. A
// [Gateway] implementing it declares CapWebhookSimulate; existing gateways
// need not change. The host's client always implements it and returns
// ErrUnimplemented for plugins that do not.
//
// Serve it only in sandbox or test mode: when configured for production,
// return an error wrapping ErrSimulationRefused that says so.
type WebhookSimulator interface {
	// SimulateWebhook returns the HTTP request the gateway would send to
	// announce req.Type. It must have no side effect on payments: Kassa
	// posts the request to its own /webhooks/{plugin id}, where
	// HandleWebhook verifies it like any other.
	SimulateWebhook(ctx context.Context, req SimulateRequest) (SimulatedWebhook, error)
}

// SimulateRequest says which notification to build.
type SimulateRequest struct {
	// Type is the event to announce, one of the Event* constants.
	Type string
	// AttemptID is Kassa's attempt id the notification is about.
	AttemptID string
	// GatewayRef is the gateway's payment id, when known.
	GatewayRef string
	// Amount is the payment's amount, or the refund's for refund events.
	Amount sdk.Money
	// RefundID is Kassa's refund id (refund events).
	RefundID string
	// GatewayRefundRef is the gateway's refund id, when known.
	GatewayRefundRef string
	// DeclineCode is the reason of failure events. Optional.
	DeclineCode string
	// EventID is the id the notification should carry; empty lets the
	// plugin choose a fresh one (gateways without event ids ignore it).
	EventID string
	// SignedAt is the time the signature states; zero means now.
	SignedAt time.Time
}

// SimulatedWebhook is an HTTP request as the gateway would send it.
type SimulatedWebhook struct {
	// Method is the HTTP method, normally "POST".
	Method string
	// Path below /webhooks/{plugin id}, "" or "/...".
	Path string
	// Query is the raw query string without "?".
	Query string
	// Header holds the request headers, signature included.
	Header http.Header
	// Body is the raw body, as signed.
	Body []byte
}

// Request returns the notification as Kassa would hand it to
// HandleWebhook, received at receivedAt.
func (w SimulatedWebhook) Request(receivedAt time.Time) WebhookRequest {
	return WebhookRequest{Method: w.Method, Path: w.Path, Query: w.Query, Header: w.Header.Clone(), Body: w.Body, ReceivedAt: receivedAt}
}

// SimulatedEventTypes are the event types `kassa plugin trigger` offers:
// the ones a gateway's notification can announce.
var SimulatedEventTypes = []string{
	EventPaymentAuthorized, EventPaymentSucceeded, EventPaymentFailed, EventPaymentCanceled,
	EventPaymentRequiresAction, EventRefundSucceeded, EventRefundFailed, EventDisputeOpened, EventDisputeClosed,
}

func simulateReqToPB(r SimulateRequest) *pb.SimulateWebhookRequest {
	out := &pb.SimulateWebhookRequest{
		Type: r.Type, AttemptId: r.AttemptID, GatewayPaymentRef: r.GatewayRef, Amount: rpc.MoneyToPB(r.Amount),
		RefundId: r.RefundID, GatewayRefundRef: r.GatewayRefundRef, DeclineCode: r.DeclineCode, EventId: r.EventID,
	}
	if !r.SignedAt.IsZero() {
		out.SignedAt = rpc.TS(r.SignedAt)
	}
	return out
}

func simulateReqFromPB(r *pb.SimulateWebhookRequest) SimulateRequest {
	out := SimulateRequest{
		Type: r.GetType(), AttemptID: r.GetAttemptId(), GatewayRef: r.GetGatewayPaymentRef(), Amount: rpc.MoneyFromPB(r.GetAmount()),
		RefundID: r.GetRefundId(), GatewayRefundRef: r.GetGatewayRefundRef(), DeclineCode: r.GetDeclineCode(), EventID: r.GetEventId(),
	}
	if r.GetSignedAt() != nil {
		out.SignedAt = rpc.Time(r.GetSignedAt())
	}
	return out
}

func simulatedToPB(w SimulatedWebhook) *pb.SimulateWebhookResponse {
	return &pb.SimulateWebhookResponse{Method: w.Method, Path: w.Path, Query: w.Query, Headers: rpc.HeaderToPB(w.Header), Body: w.Body}
}

func simulatedFromPB(r *pb.SimulateWebhookResponse) SimulatedWebhook {
	return SimulatedWebhook{Method: r.GetMethod(), Path: r.GetPath(), Query: r.GetQuery(), Header: rpc.HeaderFromPB(r.GetHeaders()), Body: r.GetBody()}
}

// SimulateWebhook serves the optional RPC: Unimplemented unless the gateway
// is a WebhookSimulator; a refusal in production travels as
// FAILED_PRECONDITION so the host can tell it from a failure.
func (s *server) SimulateWebhook(ctx context.Context, req *pb.SimulateWebhookRequest) (*pb.SimulateWebhookResponse, error) {
	sim, ok := s.impl.(WebhookSimulator)
	if !ok {
		return nil, status.Error(codes.Unimplemented, unimplemented("SimulateWebhook").Error())
	}
	res, err := sim.SimulateWebhook(ctx, simulateReqFromPB(req))
	if errors.Is(err, ErrSimulationRefused) {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return simulatedToPB(res), nil
}

var _ WebhookSimulator = (*client)(nil)

// SimulateWebhook implements [WebhookSimulator] for the host. It returns
// ErrUnimplemented when the plugin does not simulate notifications, and an
// error wrapping ErrSimulationRefused when the plugin refuses (production).
func (c *client) SimulateWebhook(ctx context.Context, req SimulateRequest) (SimulatedWebhook, error) {
	res, err := c.c.SimulateWebhook(ctx, simulateReqToPB(req))
	if err != nil {
		if st, ok := status.FromError(err); ok && st.Code() == codes.FailedPrecondition {
			return SimulatedWebhook{}, &refusedError{msg: st.Message()}
		}
		return SimulatedWebhook{}, rpc.FromStatus(ctx, "PaymentGateway.SimulateWebhook", err)
	}
	return simulatedFromPB(res), nil
}

// refusedError is a refusal as the host receives it: the plugin's own
// words, unwrapping to ErrSimulationRefused.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }
func (e *refusedError) Unwrap() error { return ErrSimulationRefused }
