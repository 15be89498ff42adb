package plugin

import (
	"context"
	"net/http"
	"slices"

	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/plugins/sdk/host"
	sdkpay "github.com/kassahq/kassa/plugins/sdk/payment"
)

// gatewayAdapter makes a payment plugin process satisfy payment.Gateway:
// the payment domain never sees gRPC or the SDK.
type gatewayAdapter struct {
	inst    *instance
	caps    []string
	baseURL string // BaseURL/plugins/<id>
	notify  string // BaseURL/webhooks/<id>
}

var _ payment.Gateway = (*gatewayAdapter)(nil)

var paymentSentinels = domainSentinels{unknown: payment.ErrOutcomeUnknown, notSupported: payment.ErrNotSupported}

// ID implements payment.Gateway.
func (g *gatewayAdapter) ID() string { return g.inst.id }

// Supports implements payment.Gateway.
func (g *gatewayAdapter) Supports(c string) bool { return slices.Contains(g.caps, c) }

func (g *gatewayAdapter) do(ctx context.Context, method string, fn func(ctx context.Context, gw sdkpay.Gateway) error) error {
	return g.inst.call(ctx, "PaymentGateway."+method, paymentSentinels, func(ctx context.Context, p *host.Plugin) error {
		gw, err := p.Gateway()
		if err != nil {
			return err
		}
		return fn(ctx, gw)
	})
}

// CreatePayment implements payment.Gateway. A new payment never starts
// on a disabled gateway, through an adapter obtained before it was
// disabled or from InstalledGateway: only the payments it took settle
// through it (ADR 0014). The check reads the cached catalog.
func (g *gatewayAdapter) CreatePayment(ctx context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	if _, err := g.inst.s.enabledOfKind(ctx, g.inst.id, KindPayment); err != nil {
		return payment.CreateResult{}, err
	}
	if req.PluginBaseURL == "" {
		req.PluginBaseURL = g.baseURL
	}
	if req.NotifyURL == "" {
		req.NotifyURL = g.notify
	}
	var out payment.CreateResult
	err := g.do(ctx, "CreatePayment", func(ctx context.Context, gw sdkpay.Gateway) error {
		res, err := gw.CreatePayment(ctx, createReqToSDK(req))
		if err != nil {
			return err
		}
		out, err = createResFromSDK(res)
		out.BuyerMessage, out.MerchantMessage = g.inst.redact(out.BuyerMessage), g.inst.redact(out.MerchantMessage)
		return err
	})
	return out, err
}

// GetPayment implements payment.Gateway.
func (g *gatewayAdapter) GetPayment(ctx context.Context, req payment.GetRequest) (payment.GatewayPayment, error) {
	var out payment.GatewayPayment
	err := g.do(ctx, "GetPayment", func(ctx context.Context, gw sdkpay.Gateway) error {
		res, err := gw.GetPayment(ctx, getReqToSDK(req))
		if err != nil {
			return err
		}
		out, err = paymentFromSDK(res)
		out.MerchantMessage = g.inst.redact(out.MerchantMessage)
		return err
	})
	return out, err
}

// CapturePayment implements payment.Gateway.
func (g *gatewayAdapter) CapturePayment(ctx context.Context, req payment.CaptureRequest) (payment.CaptureResult, error) {
	var out payment.CaptureResult
	err := g.do(ctx, "CapturePayment", func(ctx context.Context, gw sdkpay.Gateway) error {
		res, err := gw.CapturePayment(ctx, captureReqToSDK(req))
		if err != nil {
			return err
		}
		out = captureResFromSDK(res)
		out.MerchantMessage = g.inst.redact(out.MerchantMessage)
		return nil
	})
	return out, err
}

// CancelPayment implements payment.Gateway.
func (g *gatewayAdapter) CancelPayment(ctx context.Context, req payment.CancelRequest) (payment.CancelResult, error) {
	var out payment.CancelResult
	err := g.do(ctx, "CancelPayment", func(ctx context.Context, gw sdkpay.Gateway) error {
		res, err := gw.CancelPayment(ctx, cancelReqToSDK(req))
		if err != nil {
			return err
		}
		out = cancelResFromSDK(res)
		out.MerchantMessage = g.inst.redact(out.MerchantMessage)
		return nil
	})
	return out, err
}

// Refund implements payment.Gateway.
func (g *gatewayAdapter) Refund(ctx context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	var out payment.RefundResult
	err := g.do(ctx, "Refund", func(ctx context.Context, gw sdkpay.Gateway) error {
		res, err := gw.Refund(ctx, refundReqToSDK(req))
		if err != nil {
			return err
		}
		out, err = refundFromSDK(res)
		out.MerchantMessage = g.inst.redact(out.MerchantMessage)
		return err
	})
	return out, err
}

// GetRefund implements payment.Gateway.
func (g *gatewayAdapter) GetRefund(ctx context.Context, req payment.GetRefundRequest) (payment.RefundResult, error) {
	var out payment.RefundResult
	err := g.do(ctx, "GetRefund", func(ctx context.Context, gw sdkpay.Gateway) error {
		res, err := gw.GetRefund(ctx, getRefundReqToSDK(req))
		if err != nil {
			return err
		}
		out, err = refundFromSDK(res)
		out.MerchantMessage = g.inst.redact(out.MerchantMessage)
		return err
	})
	return out, err
}

// HandleWebhook implements payment.Gateway.
func (g *gatewayAdapter) HandleWebhook(ctx context.Context, req payment.WebhookRequest) (payment.WebhookResult, error) {
	var out payment.WebhookResult
	err := g.do(ctx, "HandleWebhook", func(ctx context.Context, gw sdkpay.Gateway) error {
		res, err := gw.HandleWebhook(ctx, webhookReqToSDK(req))
		if err != nil {
			return err
		}
		out, err = webhookResFromSDK(res)
		for i := range out.Events {
			out.Events[i].MerchantMessage = g.inst.redact(out.Events[i].MerchantMessage)
		}
		return err
	})
	return out, err
}

// ListTransactions implements payment.Gateway.
func (g *gatewayAdapter) ListTransactions(ctx context.Context, req payment.ListTransactionsRequest) (payment.TransactionPage, error) {
	var out payment.TransactionPage
	err := g.do(ctx, "ListTransactions", func(ctx context.Context, gw sdkpay.Gateway) error {
		res, err := gw.ListTransactions(ctx, listTxReqToSDK(req))
		if err != nil {
			return err
		}
		out, err = txPageFromSDK(res)
		return err
	})
	return out, err
}

// The conversions below are the whole of the adapter's translation, kept
// out of the calls so gateway_roundtrip_test.go can prove each carries
// every field: requests go out (domain to SDK), answers come in (SDK to
// domain).

func createReqToSDK(req payment.CreateRequest) sdkpay.CreateRequest {
	return sdkpay.CreateRequest{
		AttemptID: req.AttemptID, OrderID: req.OrderID, OrderNumber: req.OrderNumber,
		Amount: toSDKMoney(req.Amount), BuyerEmail: req.BuyerEmail, Locale: req.Locale,
		ReturnURL: req.ReturnURL, NotifyURL: req.NotifyURL, IdempotencyKey: req.IdempotencyKey,
		PaymentMethod: req.PaymentMethod, Metadata: req.Metadata, Description: req.Description,
		CaptureMethod: captureToSDK(req.CaptureMethod), PluginBaseURL: req.PluginBaseURL, ExpiresAt: req.ExpiresAt,
		BuyerIP: req.BuyerIP, BuyerUserAgent: req.BuyerUserAgent,
	}
}

func createResFromSDK(res sdkpay.CreateResult) (payment.CreateResult, error) {
	amount, err := fromSDKMoney(res.Amount, "amount")
	if err != nil {
		return payment.CreateResult{}, err
	}
	return payment.CreateResult{
		Status: statusFromSDK(res.Status), GatewayRef: res.GatewayRef, Action: actionFromSDK(res.Action),
		DeclineCode: res.DeclineCode, BuyerMessage: res.BuyerMessage, MerchantMessage: res.MerchantMessage,
		Amount: amount,
	}, nil
}

func getReqToSDK(req payment.GetRequest) sdkpay.GetRequest {
	return sdkpay.GetRequest{AttemptID: req.AttemptID, GatewayRef: req.GatewayRef}
}

func paymentFromSDK(res sdkpay.PaymentState) (payment.GatewayPayment, error) {
	amount, err := fromSDKMoney(res.Amount, "amount")
	if err != nil {
		return payment.GatewayPayment{}, err
	}
	return payment.GatewayPayment{
		Status: statusFromSDK(res.Status), GatewayRef: res.GatewayRef, Amount: amount,
		Authorized: res.Authorized, Captured: res.Captured, Refunded: res.Refunded,
		DeclineCode: res.DeclineCode, MerchantMessage: res.MerchantMessage, Action: actionFromSDK(res.Action),
	}, nil
}

func captureReqToSDK(req payment.CaptureRequest) sdkpay.CaptureRequest {
	return sdkpay.CaptureRequest{
		AttemptID: req.AttemptID, GatewayRef: req.GatewayRef, Amount: toSDKMoney(req.Amount), IdempotencyKey: req.IdempotencyKey,
	}
}

func captureResFromSDK(res sdkpay.CaptureResult) payment.CaptureResult {
	return payment.CaptureResult{Status: statusFromSDK(res.Status), Captured: res.Captured, DeclineCode: res.DeclineCode, MerchantMessage: res.MerchantMessage}
}

func cancelReqToSDK(req payment.CancelRequest) sdkpay.CancelRequest {
	return sdkpay.CancelRequest{
		AttemptID: req.AttemptID, GatewayRef: req.GatewayRef, IdempotencyKey: req.IdempotencyKey, Reason: req.Reason,
	}
}

func cancelResFromSDK(res sdkpay.CancelResult) payment.CancelResult {
	return payment.CancelResult{
		Status: cancelFromSDK(res.Status), PaymentStatus: statusFromSDK(res.PaymentStatus),
		Code: res.Code, MerchantMessage: res.MerchantMessage,
	}
}

func refundReqToSDK(req payment.RefundRequest) sdkpay.RefundRequest {
	return sdkpay.RefundRequest{
		RefundID: req.RefundID, AttemptID: req.AttemptID, GatewayRef: req.GatewayRef, Amount: toSDKMoney(req.Amount),
		Reason: req.Reason, IdempotencyKey: req.IdempotencyKey, Locale: req.Locale,
	}
}

func getRefundReqToSDK(req payment.GetRefundRequest) sdkpay.GetRefundRequest {
	return sdkpay.GetRefundRequest{
		RefundID: req.RefundID, GatewayRefundRef: req.GatewayRefundRef, AttemptID: req.AttemptID, GatewayRef: req.GatewayRef,
	}
}

func webhookReqToSDK(req payment.WebhookRequest) sdkpay.WebhookRequest {
	return sdkpay.WebhookRequest{
		Method: req.Method, Path: req.Path, Query: req.Query, Header: http.Header(req.Header),
		Body: req.Body, ReceivedAt: req.ReceivedAt,
	}
}

// webhookResFromSDK converts a plugin's verdict on a notification: a
// rejection carries no events.
func webhookResFromSDK(res sdkpay.WebhookResult) (payment.WebhookResult, error) {
	out := payment.WebhookResult{Response: payment.WebhookResponse{
		Status: res.Response.StatusCode(), Header: res.Response.Header, Body: res.Response.Body,
	}}
	if res.Rejection != nil {
		out.Rejected = res.Rejection.Reason.String()
		if out.Rejected == "NONE" {
			out.Rejected = payment.RejectMalformed
		}
		out.RejectMessage = res.Rejection.Message
		return out, nil
	}
	for _, e := range res.Events {
		amount, err := fromSDKMoney(e.Amount, "event amount")
		if err != nil {
			return payment.WebhookResult{}, err
		}
		out.Events = append(out.Events, payment.GatewayEvent{
			ID: e.ID, Type: e.Type, AttemptID: e.AttemptID, GatewayRef: e.GatewayRef, RefundID: e.RefundID,
			GatewayRefundRef: e.GatewayRefundRef, Amount: amount, OccurredAt: e.OccurredAt,
			DeclineCode: e.DeclineCode, MerchantMessage: e.MerchantMessage,
		})
	}
	return out, nil
}

func listTxReqToSDK(req payment.ListTransactionsRequest) sdkpay.ListTransactionsRequest {
	return sdkpay.ListTransactionsRequest{From: req.From, To: req.To, PageToken: req.PageToken, PageSize: req.PageSize}
}

func txPageFromSDK(res sdkpay.TransactionPage) (payment.TransactionPage, error) {
	out := payment.TransactionPage{NextPageToken: res.NextPageToken}
	for _, t := range res.Transactions {
		amount, err := fromSDKMoney(t.Amount, "transaction amount")
		if err != nil {
			return payment.TransactionPage{}, err
		}
		fee, err := fromSDKMoney(t.Fee, "transaction fee")
		if err != nil {
			return payment.TransactionPage{}, err
		}
		out.Transactions = append(out.Transactions, payment.GatewayTransaction{
			ID: t.ID, Type: t.Type, AttemptID: t.AttemptID, GatewayRef: t.GatewayRef,
			GatewayRefundRef: t.GatewayRefundRef, Amount: amount, Fee: fee, OccurredAt: t.OccurredAt,
		})
	}
	return out, nil
}

func refundFromSDK(res sdkpay.RefundResult) (payment.RefundResult, error) {
	amount, err := fromSDKMoney(res.Amount, "refund amount")
	if err != nil {
		return payment.RefundResult{}, err
	}
	st := payment.RefundUnknown
	switch res.Status {
	case sdkpay.RefundPending:
		st = payment.RefundPending
	case sdkpay.RefundSucceeded:
		st = payment.RefundSucceeded
	case sdkpay.RefundFailed:
		st = payment.RefundFailed
	case sdkpay.RefundNotFound:
		st = payment.RefundNotFound
	}
	return payment.RefundResult{
		Status: st, GatewayRefundRef: res.GatewayRefundRef, Amount: amount,
		FailureCode: res.FailureCode, MerchantMessage: res.MerchantMessage, Instructions: res.Instructions,
	}, nil
}

func statusFromSDK(s sdkpay.Status) payment.Status {
	switch s {
	case sdkpay.StatusPending:
		return payment.StatusPending
	case sdkpay.StatusRequiresAction:
		return payment.StatusRequiresAction
	case sdkpay.StatusAuthorized:
		return payment.StatusAuthorized
	case sdkpay.StatusSucceeded:
		return payment.StatusSucceeded
	case sdkpay.StatusFailed:
		return payment.StatusFailed
	case sdkpay.StatusCanceled:
		return payment.StatusCanceled
	case sdkpay.StatusNotFound:
		return payment.StatusNotFound
	default:
		return payment.StatusUnknown
	}
}

func cancelFromSDK(s sdkpay.CancelStatus) payment.CancelStatus {
	switch s {
	case sdkpay.CancelCanceled:
		return payment.CancelCanceled
	case sdkpay.CancelAlreadyPaid:
		return payment.CancelAlreadyPaid
	case sdkpay.CancelFailed:
		return payment.CancelFailed
	default:
		return payment.CancelUnknown
	}
}

func captureToSDK(c payment.CaptureMethod) sdkpay.CaptureMethod {
	if c == payment.CaptureManual {
		return sdkpay.CaptureManual
	}
	return sdkpay.CaptureAutomatic
}

func actionFromSDK(a sdkpay.Action) payment.Action {
	t := payment.ActionNone
	switch a.Type {
	case sdkpay.ActionRedirect:
		t = payment.ActionRedirect
	case sdkpay.ActionQRCode:
		t = payment.ActionQRCode
	case sdkpay.ActionClientSecret:
		t = payment.ActionClientSecret
	case sdkpay.ActionInstructions:
		t = payment.ActionInstructions
	}
	return payment.Action{
		Type: t, URL: a.URL, QRCode: a.QRCode, ClientSecret: a.ClientSecret,
		Instructions: a.Instructions, ExpiresAt: a.ExpiresAt, Details: a.Details,
	}
}
