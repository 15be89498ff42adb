package payment

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/kassahq/kassa/plugins/sdk"
	pb "github.com/kassahq/kassa/plugins/sdk/internal/pb/kassa/plugin/v1"
	"github.com/kassahq/kassa/plugins/sdk/internal/rpc"
)

// Serve runs g as a Kassa payment plugin until the host stops it. It is all
// an author's main needs:
//
//	func main() { payment.Serve(&Gateway{}) }
//
// Serve speaks the Kassa handshake, negotiates mTLS with the host, bounds
// message sizes and installs a slog default logger whose lines reach Kassa's
// log tagged with the plugin id. Run directly (not by Kassa), the binary
// prints a notice and exits.
func Serve(g Gateway) {
	rpc.Serve(sdk.KindPayment, &GRPCPlugin{Impl: g})
}

// GRPCPlugin is the go-plugin glue of payment gateways: the plugin side
// serves Impl, the host side returns a [Gateway] backed by gRPC. Authors do
// not need it ([Serve] uses it); sdk/host does.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the gateway to serve (plugin side only).
	Impl Gateway
}

// GRPCServer registers the Plugin and PaymentGateway services.
func (p *GRPCPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterPluginServer(s, &rpc.CommonServer{Impl: p.Impl})
	pb.RegisterPaymentGatewayServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient returns a Gateway backed by the connection.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewClient(c), nil
}

// server adapts a Gateway to the generated PaymentGatewayServer.
type server struct {
	pb.UnimplementedPaymentGatewayServer
	impl Gateway
}

func (s *server) CreatePayment(ctx context.Context, req *pb.CreatePaymentRequest) (*pb.CreatePaymentResponse, error) {
	res, err := s.impl.CreatePayment(ctx, createReqFromPB(req))
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return createResToPB(res), nil
}

func (s *server) GetPayment(ctx context.Context, req *pb.GetPaymentRequest) (*pb.GetPaymentResponse, error) {
	res, err := s.impl.GetPayment(ctx, GetRequest{AttemptID: req.GetAttemptId(), GatewayRef: req.GetGatewayPaymentRef()})
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return stateToPB(res), nil
}

func (s *server) CapturePayment(ctx context.Context, req *pb.CapturePaymentRequest) (*pb.CapturePaymentResponse, error) {
	res, err := s.impl.CapturePayment(ctx, CaptureRequest{
		AttemptID: req.GetAttemptId(), GatewayRef: req.GetGatewayPaymentRef(),
		Amount: rpc.MoneyFromPB(req.GetAmount()), IdempotencyKey: req.GetIdempotencyKey(),
	})
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &pb.CapturePaymentResponse{
		Status: statusToPB[res.Status], AmountCaptured: res.Captured,
		DeclineCode: res.DeclineCode, MerchantMessage: res.MerchantMessage,
	}, nil
}

func (s *server) CancelPayment(ctx context.Context, req *pb.CancelPaymentRequest) (*pb.CancelPaymentResponse, error) {
	res, err := s.impl.CancelPayment(ctx, CancelRequest{
		AttemptID: req.GetAttemptId(), GatewayRef: req.GetGatewayPaymentRef(),
		IdempotencyKey: req.GetIdempotencyKey(), Reason: req.GetReason(),
	})
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &pb.CancelPaymentResponse{
		Status: cancelToPB[res.Status], PaymentStatus: statusToPB[res.PaymentStatus],
		Code: res.Code, MerchantMessage: res.MerchantMessage,
	}, nil
}

func (s *server) Refund(ctx context.Context, req *pb.RefundRequest) (*pb.RefundResponse, error) {
	res, err := s.impl.Refund(ctx, RefundRequest{
		RefundID: req.GetRefundId(), AttemptID: req.GetAttemptId(), GatewayRef: req.GetGatewayPaymentRef(),
		Amount: rpc.MoneyFromPB(req.GetAmount()), Reason: req.GetReason(),
		IdempotencyKey: req.GetIdempotencyKey(), Locale: req.GetLocale(),
	})
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return refundResToPB(res), nil
}

func (s *server) GetRefund(ctx context.Context, req *pb.GetRefundRequest) (*pb.RefundResponse, error) {
	res, err := s.impl.GetRefund(ctx, GetRefundRequest{
		RefundID: req.GetRefundId(), GatewayRefundRef: req.GetGatewayRefundRef(),
		AttemptID: req.GetAttemptId(), GatewayRef: req.GetGatewayPaymentRef(),
	})
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return refundResToPB(res), nil
}

func (s *server) HandleWebhook(ctx context.Context, req *pb.HandleWebhookRequest) (*pb.HandleWebhookResponse, error) {
	res, err := s.impl.HandleWebhook(ctx, WebhookRequest{
		Method: req.GetMethod(), Path: req.GetPath(), Query: req.GetQuery(),
		Header: rpc.HeaderFromPB(req.GetHeaders()), Body: req.GetBody(), ReceivedAt: rpc.Time(req.GetReceivedAt()),
	})
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return webhookResToPB(res), nil
}

func (s *server) ListTransactions(ctx context.Context, req *pb.ListTransactionsRequest) (*pb.ListTransactionsResponse, error) {
	res, err := s.impl.ListTransactions(ctx, ListTransactionsRequest{
		From: rpc.Time(req.GetRange().GetFrom()), To: rpc.Time(req.GetRange().GetTo()),
		PageToken: req.GetPageToken(), PageSize: int(req.GetPageSize()),
	})
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	out := &pb.ListTransactionsResponse{NextPageToken: res.NextPageToken}
	for _, t := range res.Transactions {
		out.Transactions = append(out.Transactions, txToPB(t))
	}
	return out, nil
}

// client is the host's Gateway backed by gRPC.
type client struct {
	*rpc.CommonClient
	c pb.PaymentGatewayClient
}

// NewClient returns a [Gateway] that calls a payment plugin over conn. Hosts
// normally get one from sdk/host instead. Errors unwrap to
// sdk.ErrUnimplemented (optional method missing), sdk.ErrUnavailable (the
// plugin went away) or context.DeadlineExceeded.
func NewClient(conn grpc.ClientConnInterface) Gateway {
	return &client{CommonClient: rpc.NewCommonClient(conn), c: pb.NewPaymentGatewayClient(conn)}
}

var _ Gateway = (*client)(nil)

func (c *client) CreatePayment(ctx context.Context, req CreateRequest) (CreateResult, error) {
	res, err := c.c.CreatePayment(ctx, createReqToPB(req))
	if err != nil {
		return CreateResult{}, rpc.FromStatus(ctx, "PaymentGateway.CreatePayment", err)
	}
	return createResFromPB(res), nil
}

func (c *client) GetPayment(ctx context.Context, req GetRequest) (PaymentState, error) {
	res, err := c.c.GetPayment(ctx, &pb.GetPaymentRequest{AttemptId: req.AttemptID, GatewayPaymentRef: req.GatewayRef})
	if err != nil {
		return PaymentState{}, rpc.FromStatus(ctx, "PaymentGateway.GetPayment", err)
	}
	return stateFromPB(res), nil
}

func (c *client) CapturePayment(ctx context.Context, req CaptureRequest) (CaptureResult, error) {
	res, err := c.c.CapturePayment(ctx, &pb.CapturePaymentRequest{
		AttemptId: req.AttemptID, GatewayPaymentRef: req.GatewayRef,
		Amount: rpc.MoneyToPB(req.Amount), IdempotencyKey: req.IdempotencyKey,
	})
	if err != nil {
		return CaptureResult{}, rpc.FromStatus(ctx, "PaymentGateway.CapturePayment", err)
	}
	return CaptureResult{
		Status: statusFromPB(res.GetStatus()), Captured: res.GetAmountCaptured(),
		DeclineCode: res.GetDeclineCode(), MerchantMessage: res.GetMerchantMessage(),
	}, nil
}

func (c *client) CancelPayment(ctx context.Context, req CancelRequest) (CancelResult, error) {
	res, err := c.c.CancelPayment(ctx, &pb.CancelPaymentRequest{
		AttemptId: req.AttemptID, GatewayPaymentRef: req.GatewayRef,
		IdempotencyKey: req.IdempotencyKey, Reason: req.Reason,
	})
	if err != nil {
		return CancelResult{}, rpc.FromStatus(ctx, "PaymentGateway.CancelPayment", err)
	}
	return CancelResult{
		Status: cancelFromPB(res.GetStatus()), PaymentStatus: statusFromPB(res.GetPaymentStatus()),
		Code: res.GetCode(), MerchantMessage: res.GetMerchantMessage(),
	}, nil
}

func (c *client) Refund(ctx context.Context, req RefundRequest) (RefundResult, error) {
	res, err := c.c.Refund(ctx, &pb.RefundRequest{
		RefundId: req.RefundID, AttemptId: req.AttemptID, GatewayPaymentRef: req.GatewayRef,
		Amount: rpc.MoneyToPB(req.Amount), Reason: req.Reason, IdempotencyKey: req.IdempotencyKey, Locale: req.Locale,
	})
	if err != nil {
		return RefundResult{}, rpc.FromStatus(ctx, "PaymentGateway.Refund", err)
	}
	return refundResFromPB(res), nil
}

func (c *client) GetRefund(ctx context.Context, req GetRefundRequest) (RefundResult, error) {
	res, err := c.c.GetRefund(ctx, &pb.GetRefundRequest{
		RefundId: req.RefundID, GatewayRefundRef: req.GatewayRefundRef,
		AttemptId: req.AttemptID, GatewayPaymentRef: req.GatewayRef,
	})
	if err != nil {
		return RefundResult{}, rpc.FromStatus(ctx, "PaymentGateway.GetRefund", err)
	}
	return refundResFromPB(res), nil
}

func (c *client) HandleWebhook(ctx context.Context, req WebhookRequest) (WebhookResult, error) {
	res, err := c.c.HandleWebhook(ctx, &pb.HandleWebhookRequest{
		Method: req.Method, Path: req.Path, Query: req.Query, Headers: rpc.HeaderToPB(req.Header),
		Body: req.Body, ReceivedAt: rpc.TS(req.ReceivedAt),
	})
	if err != nil {
		return WebhookResult{}, rpc.FromStatus(ctx, "PaymentGateway.HandleWebhook", err)
	}
	return webhookResFromPB(res), nil
}

func (c *client) ListTransactions(ctx context.Context, req ListTransactionsRequest) (TransactionPage, error) {
	res, err := c.c.ListTransactions(ctx, &pb.ListTransactionsRequest{
		Range:     &pb.TimeRange{From: rpc.TS(req.From), To: rpc.TS(req.To)},
		PageToken: req.PageToken, PageSize: int32(req.PageSize),
	})
	if err != nil {
		return TransactionPage{}, rpc.FromStatus(ctx, "PaymentGateway.ListTransactions", err)
	}
	out := TransactionPage{NextPageToken: res.GetNextPageToken()}
	for _, t := range res.GetTransactions() {
		out.Transactions = append(out.Transactions, txFromPB(t))
	}
	return out, nil
}
