package invoice

import (
	"context"
	"fmt"
	"sync"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/kassahq/kassa/plugins/sdk"
	pb "github.com/kassahq/kassa/plugins/sdk/internal/pb/kassa/plugin/v1"
	"github.com/kassahq/kassa/plugins/sdk/internal/rpc"
)

// Serve runs r as a Kassa invoice plugin until the host stops it:
//
//	func main() { invoice.Serve(&Rule{}) }
func Serve(r Rule) {
	rpc.Serve(sdk.KindInvoice, &GRPCPlugin{Impl: r})
}

// GRPCPlugin is the go-plugin glue of invoice rules; [Serve] and sdk/host use
// it. Both sides need the broker: the host serves HostSequence on it during
// IssueInvoice and the plugin dials it.
type GRPCPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the rule to serve (plugin side only).
	Impl Rule
}

// GRPCServer registers the Plugin and InvoiceRule services.
func (p *GRPCPlugin) GRPCServer(b *goplugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterPluginServer(s, &rpc.CommonServer{Impl: p.Impl})
	pb.RegisterInvoiceRuleServer(s, &server{impl: p.Impl, broker: b})
	return nil
}

// GRPCClient returns a Rule backed by the connection and the broker.
func (p *GRPCPlugin) GRPCClient(_ context.Context, b *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &client{CommonClient: rpc.NewCommonClient(c), c: pb.NewInvoiceRuleClient(c), broker: b}, nil
}

type server struct {
	pb.UnimplementedInvoiceRuleServer
	impl   Rule
	broker *goplugin.GRPCBroker
}

func (s *server) Evaluate(ctx context.Context, req *pb.EvaluateRequest) (*pb.EvaluateResponse, error) {
	d, err := s.impl.Evaluate(ctx, Event{
		Type: req.GetEventType(), ID: req.GetEventId(), Order: orderFromPB(req.GetOrder()),
		Refund: rpc.MoneyFromPB(req.GetRefund()), InvoiceNumbers: req.GetInvoiceNumbers(), OccurredAt: rpc.Time(req.GetOccurredAt()),
	})
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &pb.EvaluateResponse{Issue: d.Issue, Kind: kindToPB(d.Kind), Reason: d.Reason}, nil
}

func (s *server) IssueInvoice(ctx context.Context, req *pb.IssueInvoiceRequest) (*pb.IssueInvoiceResponse, error) {
	seq := &brokerSequence{broker: s.broker, id: req.GetSequenceBrokerId()}
	defer seq.close()
	doc, err := s.impl.IssueInvoice(ctx, IssueRequest{
		Order: orderFromPB(req.GetOrder()), Seller: partyFromPB(req.GetSeller()), Buyer: partyFromPB(req.GetBuyer()),
		Kind: kindFromPB(req.GetKind()), OriginalInvoiceNumber: req.GetOriginalInvoiceNumber(),
		IdempotencyKey: req.GetIdempotencyKey(), Locale: req.GetLocale(), IssuedAt: rpc.Time(req.GetIssuedAt()),
	}, seq)
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &pb.IssueInvoiceResponse{
		Number: doc.Number, Document: doc.Content, MimeType: doc.MimeType, FileName: doc.FileName,
		IssuedAt: rpc.TS(doc.IssuedAt), Problems: problemsToPB(doc.Problems),
	}, nil
}

func (s *server) VoidInvoice(ctx context.Context, req *pb.VoidInvoiceRequest) (*pb.VoidInvoiceResponse, error) {
	r, err := s.impl.VoidInvoice(ctx, VoidRequest{
		Number: req.GetNumber(), Reason: req.GetReason(), IdempotencyKey: req.GetIdempotencyKey(), Order: orderFromPB(req.GetOrder()),
	})
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &pb.VoidInvoiceResponse{Voided: r.Voided, Problems: problemsToPB(r.Problems)}, nil
}

// brokerSequence is the plugin's Sequence: it dials the host's HostSequence
// on first use and closes the connection when IssueInvoice returns.
type brokerSequence struct {
	broker *goplugin.GRPCBroker
	id     uint32

	mu   sync.Mutex
	conn *grpc.ClientConn
	err  error
}

func (s *brokerSequence) Next(ctx context.Context, name, idempotencyKey string) (int64, error) {
	if s.id == 0 {
		return 0, ErrNoSequence
	}
	s.mu.Lock()
	if s.conn == nil && s.err == nil {
		s.conn, s.err = s.broker.DialWithOptions(s.id, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(rpc.MaxMessageSize)))
	}
	conn, err := s.conn, s.err
	s.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("invoice: dial host sequence: %w", err)
	}
	res, err := pb.NewHostSequenceClient(conn).Next(ctx, &pb.NextRequest{Name: name, IdempotencyKey: idempotencyKey})
	if err != nil {
		return 0, rpc.FromStatus(ctx, "HostSequence.Next", err)
	}
	return res.GetValue(), nil
}

func (s *brokerSequence) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.Close()
	}
}

// sequenceServer serves a host's Sequence to the plugin.
type sequenceServer struct {
	pb.UnimplementedHostSequenceServer
	seq Sequence
}

func (s *sequenceServer) Next(ctx context.Context, req *pb.NextRequest) (*pb.NextResponse, error) {
	v, err := s.seq.Next(ctx, req.GetName(), req.GetIdempotencyKey())
	if err != nil {
		return nil, rpc.ToStatus(err)
	}
	return &pb.NextResponse{Value: v}, nil
}

// client is the host's Rule backed by gRPC.
type client struct {
	*rpc.CommonClient
	c      pb.InvoiceRuleClient
	broker *goplugin.GRPCBroker
}

var _ Rule = (*client)(nil)

func (c *client) Evaluate(ctx context.Context, ev Event) (Decision, error) {
	res, err := c.c.Evaluate(ctx, &pb.EvaluateRequest{
		EventType: ev.Type, EventId: ev.ID, Order: orderToPB(ev.Order), Refund: rpc.MoneyToPB(ev.Refund),
		InvoiceNumbers: ev.InvoiceNumbers, OccurredAt: rpc.TS(ev.OccurredAt),
	})
	if err != nil {
		return Decision{}, rpc.FromStatus(ctx, "InvoiceRule.Evaluate", err)
	}
	return Decision{Issue: res.GetIssue(), Kind: kindFromPB(res.GetKind()), Reason: res.GetReason()}, nil
}

// IssueInvoice serves seq (when not nil) on a fresh broker stream for the
// duration of the call, so the plugin can number the document.
func (c *client) IssueInvoice(ctx context.Context, req IssueRequest, seq Sequence) (Document, error) {
	var brokerID uint32
	if seq != nil {
		brokerID = c.broker.NextId()
		started := make(chan *grpc.Server, 1)
		served := make(chan struct{})
		go func() {
			defer close(served)
			c.broker.AcceptAndServe(brokerID, func(opts []grpc.ServerOption) *grpc.Server {
				s := grpc.NewServer(append(opts, rpc.ServerOptions()...)...)
				pb.RegisterHostSequenceServer(s, &sequenceServer{seq: seq})
				started <- s
				return s
			})
		}()
		defer func() {
			go func() {
				select {
				case s := <-started:
					s.Stop()
				case <-served:
				}
			}()
		}()
	}
	res, err := c.c.IssueInvoice(ctx, &pb.IssueInvoiceRequest{
		Order: orderToPB(req.Order), Seller: partyToPB(req.Seller), Buyer: partyToPB(req.Buyer),
		Kind: kindToPB(req.Kind), OriginalInvoiceNumber: req.OriginalInvoiceNumber, SequenceBrokerId: brokerID,
		IdempotencyKey: req.IdempotencyKey, Locale: req.Locale, IssuedAt: rpc.TS(req.IssuedAt),
	})
	if err != nil {
		return Document{}, rpc.FromStatus(ctx, "InvoiceRule.IssueInvoice", err)
	}
	return Document{
		Number: res.GetNumber(), Content: res.GetDocument(), MimeType: res.GetMimeType(), FileName: res.GetFileName(),
		IssuedAt: rpc.Time(res.GetIssuedAt()), Problems: problemsFromPB(res.GetProblems()),
	}, nil
}

func (c *client) VoidInvoice(ctx context.Context, req VoidRequest) (VoidResult, error) {
	res, err := c.c.VoidInvoice(ctx, &pb.VoidInvoiceRequest{
		Number: req.Number, Reason: req.Reason, IdempotencyKey: req.IdempotencyKey, Order: orderToPB(req.Order),
	})
	if err != nil {
		return VoidResult{}, rpc.FromStatus(ctx, "InvoiceRule.VoidInvoice", err)
	}
	return VoidResult{Voided: res.GetVoided(), Problems: problemsFromPB(res.GetProblems())}, nil
}
