package rpc

import (
	"context"
	"encoding/json"

	"google.golang.org/grpc"

	"github.com/kassahq/kassa/plugins/sdk"
	pb "github.com/kassahq/kassa/plugins/sdk/internal/pb/kassa/plugin/v1"
)

// CommonServer serves the Plugin service from an sdk.Plugin.
type CommonServer struct {
	pb.UnimplementedPluginServer
	// Impl is the author's plugin.
	Impl sdk.Plugin
}

// Describe implements pb.PluginServer. It fills the protocol and SDK
// versions when the author left them empty.
func (s *CommonServer) Describe(ctx context.Context, _ *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	info, err := s.Impl.Describe(ctx)
	if err != nil {
		return nil, ToStatus(err)
	}
	if info.ProtocolVersion == 0 {
		info.ProtocolVersion = sdk.ProtocolVersion
	}
	if info.SDKVersion == "" {
		info.SDKVersion = sdk.Version
	}
	return &pb.DescribeResponse{Info: InfoToPB(info)}, nil
}

// Configure implements pb.PluginServer.
func (s *CommonServer) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	ctx = sdk.WithAllowPrivateNetworks(ctx, req.GetAllowPrivateNetworks())
	res, err := s.Impl.Configure(ctx, req.GetConfig())
	if err != nil {
		return nil, ToStatus(err)
	}
	return &pb.ConfigureResponse{Errors: ConfigErrorsToPB(res.Errors)}, nil
}

// Health implements pb.PluginServer.
func (s *CommonServer) Health(ctx context.Context, _ *pb.HealthRequest) (*pb.HealthResponse, error) {
	h, err := s.Impl.Health(ctx)
	if err != nil {
		return nil, ToStatus(err)
	}
	return &pb.HealthResponse{Status: pb.HealthStatus(h.Status), Message: h.Message}, nil
}

// HandleHTTP implements pb.PluginServer.
func (s *CommonServer) HandleHTTP(ctx context.Context, req *pb.HTTPRequest) (*pb.HTTPResponse, error) {
	res, err := s.Impl.HandleHTTP(ctx, HTTPRequestFromPB(req))
	if err != nil {
		return nil, ToStatus(err)
	}
	return HTTPResponseToPB(res), nil
}

// CommonClient is the host's sdk.Plugin backed by the Plugin service.
type CommonClient struct {
	c pb.PluginClient
}

// NewCommonClient returns a client of the Plugin service on conn.
func NewCommonClient(conn grpc.ClientConnInterface) *CommonClient {
	return &CommonClient{c: pb.NewPluginClient(conn)}
}

var _ sdk.Plugin = (*CommonClient)(nil)

// Describe implements sdk.Plugin.
func (c *CommonClient) Describe(ctx context.Context) (sdk.Info, error) {
	res, err := c.c.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return sdk.Info{}, FromStatus(ctx, "Plugin.Describe", err)
	}
	return InfoFromPB(res.GetInfo()), nil
}

// Configure implements sdk.Plugin.
func (c *CommonClient) Configure(ctx context.Context, config json.RawMessage) (sdk.ConfigureResult, error) {
	res, err := c.c.Configure(ctx, &pb.ConfigureRequest{Config: config, AllowPrivateNetworks: sdk.AllowPrivateNetworks(ctx)})
	if err != nil {
		return sdk.ConfigureResult{}, FromStatus(ctx, "Plugin.Configure", err)
	}
	return sdk.ConfigureResult{Errors: ConfigErrorsFromPB(res.GetErrors())}, nil
}

// Health implements sdk.Plugin.
func (c *CommonClient) Health(ctx context.Context) (sdk.Health, error) {
	res, err := c.c.Health(ctx, &pb.HealthRequest{})
	if err != nil {
		return sdk.Health{}, FromStatus(ctx, "Plugin.Health", err)
	}
	return sdk.Health{Status: sdk.HealthStatus(res.GetStatus()), Message: res.GetMessage()}, nil
}

// HandleHTTP implements sdk.Plugin.
func (c *CommonClient) HandleHTTP(ctx context.Context, req sdk.HTTPRequest) (sdk.HTTPResponse, error) {
	res, err := c.c.HandleHTTP(ctx, HTTPRequestToPB(req))
	if err != nil {
		return sdk.HTTPResponse{}, FromStatus(ctx, "Plugin.HandleHTTP", err)
	}
	return HTTPResponseFromPB(res), nil
}
