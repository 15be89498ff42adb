package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/kassahq/kassa/plugins/sdk"
	pb "github.com/kassahq/kassa/plugins/sdk/internal/pb/kassa/plugin/v1"
)

func TestSimulateRoundTrip(t *testing.T) {
	t.Parallel()
	for _, req := range []SimulateRequest{
		{Type: EventRefundSucceeded, AttemptID: "pay_1", GatewayRef: "g", Amount: eur, RefundID: "ref_1",
			GatewayRefundRef: "gr", DeclineCode: "dc", EventID: "evt_1", SignedAt: at},
		{Type: EventPaymentSucceeded, AttemptID: "pay_2"}, // zero SignedAt stays zero ("now")
	} {
		if d := cmp.Diff(req, simulateReqFromPB(simulateReqToPB(req))); d != "" {
			t.Errorf("SimulateRequest (-want +got):\n%s", d)
		}
	}
	res := SimulatedWebhook{Method: "POST", Path: "/v2", Query: "a=b", Header: http.Header{"X-Sig": {"t=1,v1=ab"}}, Body: []byte(`{"id":1}`)}
	if d := cmp.Diff(res, simulatedFromPB(simulatedToPB(res))); d != "" {
		t.Errorf("SimulatedWebhook (-want +got):\n%s", d)
	}
	got := res.Request(at)
	want := WebhookRequest{Method: "POST", Path: "/v2", Query: "a=b", Header: res.Header, Body: res.Body, ReceivedAt: at}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Request (-want +got):\n%s", d)
	}
	got.Header.Set("X-Sig", "changed")
	if res.Header.Get("X-Sig") != "t=1,v1=ab" {
		t.Error("Request shares its header with the simulated webhook")
	}
}

// plainGateway is a gateway written before SimulateWebhook existed: it
// still compiles and is served, and the host learns it is unimplemented.
type plainGateway struct{ UnimplementedGateway }

func (plainGateway) Describe(context.Context) (sdk.Info, error) { return sdk.Info{}, nil }
func (plainGateway) Configure(context.Context, json.RawMessage) (sdk.ConfigureResult, error) {
	return sdk.ConfigureResult{}, nil
}
func (plainGateway) Health(context.Context) (sdk.Health, error) { return sdk.Health{}, nil }
func (plainGateway) CreatePayment(context.Context, CreateRequest) (CreateResult, error) {
	return CreateResult{}, nil
}
func (plainGateway) GetPayment(context.Context, GetRequest) (PaymentState, error) {
	return PaymentState{}, nil
}

// simGateway simulates in sandbox mode and refuses in production.
type simGateway struct {
	plainGateway
	production bool
}

func (g simGateway) SimulateWebhook(_ context.Context, req SimulateRequest) (SimulatedWebhook, error) {
	if g.production {
		return SimulatedWebhook{}, fmt.Errorf("%w: configured for production; switch sandbox on", ErrSimulationRefused)
	}
	if req.Type == "" {
		return SimulatedWebhook{}, errors.New("no type")
	}
	return SimulatedWebhook{Method: http.MethodPost, Header: http.Header{"Sig": {req.EventID}}, Body: []byte(req.Type + " " + req.AttemptID)}, nil
}

// dial serves g over an in-memory gRPC connection and returns the host's
// client.
func dial(t *testing.T, g Gateway) Gateway {
	t.Helper()
	ln := bufconn.Listen(1 << 20)
	s := grpc.NewServer()
	pb.RegisterPaymentGatewayServer(s, &server{impl: g})
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return NewClient(conn)
}

func TestSimulateWebhookOverGRPC(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	req := SimulateRequest{Type: EventPaymentSucceeded, AttemptID: "pay_1", EventID: "evt_9", Amount: eur}
	tests := []struct {
		name    string
		gw      Gateway
		want    SimulatedWebhook
		wantErr error
		noErrIs error
	}{
		{name: "simulated in sandbox", gw: simGateway{},
			want: SimulatedWebhook{Method: "POST", Header: http.Header{"Sig": {"evt_9"}}, Body: []byte("payment.succeeded pay_1")}},
		{name: "refused in production", gw: simGateway{production: true}, wantErr: ErrSimulationRefused, noErrIs: ErrUnimplemented},
		{name: "an older gateway is unimplemented", gw: plainGateway{}, wantErr: ErrUnimplemented, noErrIs: ErrSimulationRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, ok := dial(t, tt.gw).(WebhookSimulator)
			if !ok {
				t.Fatal("the host's client is not a WebhookSimulator")
			}
			got, err := sim.SimulateWebhook(ctx, req)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || errors.Is(err, tt.noErrIs) {
					t.Fatalf("err = %v, want %v (and not %v)", err, tt.wantErr, tt.noErrIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("simulated (-want +got):\n%s", d)
			}
		})
	}
	// The production refusal keeps the plugin's explanation.
	_, err := dial(t, simGateway{production: true}).(WebhookSimulator).SimulateWebhook(ctx, req)
	if err == nil || err.Error() != "webhook simulation refused: configured for production; switch sandbox on" {
		t.Errorf("refusal message = %v", err)
	}
}
