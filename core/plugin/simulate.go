package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/plugins/sdk/host"
	sdkpay "github.com/kassahq/kassa/plugins/sdk/payment"
)

// Codes of webhook simulation.
const (
	// CodeSimulationRefused: the plugin refuses to simulate notifications
	// because it is configured for its gateway's production environment.
	CodeSimulationRefused = "PLUGIN_SIMULATION_REFUSED"
	// CodeInvalidSimulation: the notification asked for is not one the
	// host can ask for (unknown event type, no attempt, no amount).
	CodeInvalidSimulation = "INVALID_SIMULATION"
)

// WebhookSimulation says which notification a payment plugin should build
// (`kassa plugin trigger`).
type WebhookSimulation struct {
	// Type is the event, one of the SDK's payment event types, e.g.
	// "payment.succeeded".
	Type string
	// AttemptID and GatewayRef name the payment attempt.
	AttemptID, GatewayRef string
	// Amount is the payment's amount, or the refund's for refund events.
	Amount money.Money
	// RefundID and GatewayRefundRef name the refund (refund events).
	RefundID, GatewayRefundRef string
	// DeclineCode is the reason of a failure event. Optional.
	DeclineCode string
	// EventID is the notification's event id; empty lets the plugin choose.
	EventID string
	// SignedAt is the signature's time; zero means now.
	SignedAt time.Time
}

// SimulatedWebhook is the HTTP request the gateway would send to
// /webhooks/{plugin id}, signed by the plugin.
type SimulatedWebhook struct {
	// Method is the HTTP method; Path follows /webhooks/{plugin id};
	// Query is the raw query without "?".
	Method, Path, Query string
	// Header holds the request headers, signature included.
	Header http.Header
	// Body is the raw body as signed.
	Body []byte
}

// SimulateWebhook asks the enabled payment plugin id to build a
// notification signed as its gateway signs them, for a developer to post
// to a test shop. It needs the plugin write permission: the result is a
// notification the shop will believe. The plugin must declare
// "webhook.simulate"; it refuses (PLUGIN_SIMULATION_REFUSED) when it is
// configured for production. Nothing is posted and nothing changes here.
func (s *Service) SimulateWebhook(ctx context.Context, id string, req WebhookSimulation) (SimulatedWebhook, error) {
	if err := s.can(ctx, authz.Write); err != nil {
		return SimulatedWebhook{}, err
	}
	if err := validateSimulation(req); err != nil {
		return SimulatedWebhook{}, err
	}
	r, err := s.enabledOfKind(ctx, id, KindPayment)
	if err != nil {
		return SimulatedWebhook{}, err
	}
	if !slices.Contains(r.capabilities(), sdkpay.CapWebhookSimulate) {
		return SimulatedWebhook{}, errs.Invalid("plugin", CodeNotSupported,
			fmt.Sprintf("plugin %s does not declare %q: it cannot build test notifications (its author implements payment.WebhookSimulator)", id, sdkpay.CapWebhookSimulate))
	}
	i, err := s.instance(id)
	if err != nil {
		return SimulatedWebhook{}, err
	}
	var out SimulatedWebhook
	err = i.call(ctx, "PaymentGateway.SimulateWebhook", domainSentinels{}, func(ctx context.Context, p *host.Plugin) error {
		gw, err := p.Gateway()
		if err != nil {
			return err
		}
		sim, ok := gw.(sdkpay.WebhookSimulator)
		if !ok {
			return sdkpay.ErrUnimplemented
		}
		res, err := sim.SimulateWebhook(ctx, simulationToSDK(req))
		if err != nil {
			return err
		}
		out = SimulatedWebhook{Method: res.Method, Path: res.Path, Query: res.Query, Header: res.Header, Body: res.Body}
		return nil
	})
	if errors.Is(err, sdkpay.ErrSimulationRefused) {
		var cause *CallError
		msg := err.Error()
		if errors.As(err, &cause) && cause.cause != nil {
			msg = cause.cause.Error()
		}
		return SimulatedWebhook{}, errs.Invalid("plugin", CodeSimulationRefused, fmt.Sprintf("plugin %s refuses to simulate notifications: %s", id, msg))
	}
	if err != nil {
		return SimulatedWebhook{}, err
	}
	if out.Method == "" {
		out.Method = http.MethodPost
	}
	if out.Path != "" && !strings.HasPrefix(out.Path, "/") {
		return SimulatedWebhook{}, badAnswer("simulated notification path %q does not start with /", out.Path)
	}
	return out, nil
}

// SimulatedEventTypes lists the event types a notification may be
// simulated for (the SDK's payment event types), for the command line.
func SimulatedEventTypes() []string { return slices.Clone(sdkpay.SimulatedEventTypes) }

// validateSimulation checks what the host asks for; what the gateway's
// format needs beyond it is the plugin's to check.
func validateSimulation(req WebhookSimulation) error {
	var v errs.Validator
	v.Check(slices.Contains(sdkpay.SimulatedEventTypes, req.Type), "type", CodeInvalidSimulation,
		fmt.Sprintf("unknown event type %q; one of %s", req.Type, strings.Join(sdkpay.SimulatedEventTypes, ", ")))
	v.Check(req.AttemptID != "" || req.GatewayRef != "", "attemptId", CodeInvalidSimulation, "name the payment attempt")
	v.Check(!req.Amount.Currency().IsZero() && req.Amount.Amount() > 0, "amount", CodeInvalidSimulation, "the amount must be positive, with a currency")
	if strings.HasPrefix(req.Type, "refund.") {
		v.Check(req.RefundID != "" || req.GatewayRefundRef != "", "refundId", CodeInvalidSimulation, "a refund event names the refund")
	}
	return v.Err()
}

func simulationToSDK(req WebhookSimulation) sdkpay.SimulateRequest {
	return sdkpay.SimulateRequest{
		Type: req.Type, AttemptID: req.AttemptID, GatewayRef: req.GatewayRef, Amount: toSDKMoney(req.Amount),
		RefundID: req.RefundID, GatewayRefundRef: req.GatewayRefundRef, DeclineCode: req.DeclineCode,
		EventID: req.EventID, SignedAt: req.SignedAt,
	}
}
