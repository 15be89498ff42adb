package rpc

import (
	"log/slog"
	"os"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/kassahq/kassa/plugins/sdk"
)

// MaxMessageSize bounds every gRPC message in both directions (invoice
// documents are the largest payloads).
const MaxMessageSize = 32 << 20

// ServerOptions are the gRPC options of every plugin server.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize)}
}

// Serve runs a plugin of kind k served by p until the host stops it. It
// installs a JSON logger on stderr as slog's default (the host reads it),
// speaks the Kassa handshake and offers protocol version 1.
func Serve(k sdk.Kind, p goplugin.Plugin) {
	level := sdk.ParseLevel(os.Getenv("KASSA_PLUGIN_LOG_LEVEL"))
	slog.SetDefault(sdk.NewLogger(os.Stderr, level))
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: sdk.Handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{
			sdk.ProtocolVersion: {sdk.PluginSetName(k): p},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, ServerOptions()...)...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "go-plugin",
			Level:      hclog.Warn,
			Output:     os.Stderr,
			JSONFormat: true,
		}),
	})
}
