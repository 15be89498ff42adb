package rpc

import (
	"log/slog"
	"os"
	"time"

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
	go exitWithHost(os.Getppid(), time.Second, os.Getppid, func() {
		slog.Warn("the Kassa process that started this plugin is gone; exiting")
		os.Exit(0)
	})
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

// exitWithHost calls exit once the parent process, ppid when the plugin
// started, is gone (the plugin was handed to another parent), checking
// every interval. go-plugin ends a plugin only when the host asks, so a
// host killed with SIGKILL or by the OOM killer left its plugins running,
// one more set at each crash and restart. A plugin started by init (ppid
// 1), as under a debugger that reattaches, is not watched.
func exitWithHost(ppid int, every time.Duration, getppid func() int, exit func()) {
	if ppid <= 1 {
		return
	}
	for {
		time.Sleep(every)
		if getppid() != ppid {
			exit()
			return
		}
	}
}
