package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/internal/rpc"
	"github.com/kassahq/kassa/plugins/sdk/invoice"
	"github.com/kassahq/kassa/plugins/sdk/notify"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// Errors returned by Start. They are wrapped with context; test with
// errors.Is.
var (
	// ErrChecksumMismatch: the binary's sha256 differs from the pinned one
	// (the binary was replaced or tampered with). The plugin is not started.
	ErrChecksumMismatch = errors.New("plugin binary checksum mismatch")
	// ErrNotRegularFile: the path is a symlink, a directory or missing.
	ErrNotRegularFile = errors.New("plugin path is not a regular file")
	// ErrStart: the process did not complete the handshake (crashed, wrong
	// magic cookie, no common protocol version, start timeout).
	ErrStart = errors.New("plugin failed to start")
)

// Defaults for Config fields left zero.
const (
	DefaultStartTimeout = 10 * time.Second
	DefaultCallTimeout  = 30 * time.Second
)

// Config says how to start one plugin process.
type Config struct {
	// Path is the plugin executable. It must be a regular file, not a
	// symlink (the catalog resolves and checks paths; Start refuses links
	// anyway).
	Path string
	// SHA256 is the hex sha256 the binary must have (pinned at install
	// time). Required: Start refuses a binary with another checksum before
	// executing it, and go-plugin's SecureConfig checks again.
	SHA256 string
	// PluginID is the catalog id, e.g. "payment.testpay". It tags the
	// plugin's log lines and is passed as KASSA_PLUGIN_ID. May be empty when
	// installing (the id is not known before Describe).
	PluginID string
	// Args are extra command-line arguments. Usually none.
	Args []string
	// Env are extra environment variables ("KEY=value") for the plugin. The
	// host's own environment is NOT inherited (it holds Kassa's secrets);
	// only PATH, HOME, TMPDIR, TZ, LANG and LC_ALL are passed through, plus
	// KASSA_PLUGIN_ID, KASSA_PLUGIN_DATA_DIR and KASSA_PLUGIN_LOG_LEVEL.
	Env []string
	// DataDir is a writable directory for the plugin's own files, passed as
	// KASSA_PLUGIN_DATA_DIR. Start creates it (0700) if missing. Optional.
	DataDir string
	// Logger receives the plugin's log lines (with their level and
	// attributes) and go-plugin's lifecycle messages, every one with the
	// attribute plugin=<PluginID>. Nil discards them.
	Logger *slog.Logger
	// LogLevel is the most verbose level the plugin should emit; passed to
	// the plugin. Zero means info.
	LogLevel slog.Level
	// StartTimeout bounds the handshake; zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// CallTimeout is the deadline applied to calls whose context has none;
	// zero means DefaultCallTimeout, negative means none.
	CallTimeout time.Duration
}

// Plugin is a running plugin process. Its clients (Gateway, Rule, Channel)
// implement the SDK interfaces over gRPC; their errors unwrap to
// sdk.ErrUnimplemented, sdk.ErrUnavailable or context.DeadlineExceeded.
//
// go-plugin does not restart plugins: when the process dies, calls fail with
// sdk.ErrUnavailable, [Plugin.Exited] turns true and [Plugin.Done] is closed.
// The caller (Kassa's supervisor) starts a new Plugin.
type Plugin struct {
	cfg     Config
	client  *goplugin.Client
	proto   goplugin.ClientProtocol
	common  *rpc.CommonClient
	pid     int
	done    <-chan struct{}
	version int

	// mask hides the secret settings in what the plugin says; schema
	// is its settings' schema, known after the first Describe.
	mask        *secretMask
	schema      string
	schemaKnown bool

	mu       sync.Mutex
	gateway  payment.Gateway
	rule     invoice.Rule
	channel  notify.Channel
	killOnce sync.Once
}

// lifecycleName is a host-only entry in the plugin set: dispensing it hands
// back go-plugin's context that is canceled when the process exits.
const lifecycleName = "_kassa_lifecycle"

type lifecyclePlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (lifecyclePlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("host-only plugin")
}

func (lifecyclePlugin) GRPCClient(ctx context.Context, _ *goplugin.GRPCBroker, _ *grpc.ClientConn) (any, error) {
	return ctx, nil
}

// PluginSets returns the plugin sets a host offers, by protocol version.
// Start uses it; it is exported for hosts that build their own
// goplugin.ClientConfig.
func PluginSets() map[int]goplugin.PluginSet {
	return map[int]goplugin.PluginSet{
		sdk.ProtocolVersion: {
			sdk.PluginSetName(sdk.KindPayment): &payment.GRPCPlugin{},
			sdk.PluginSetName(sdk.KindInvoice): &invoice.GRPCPlugin{},
			sdk.PluginSetName(sdk.KindNotify):  &notify.GRPCPlugin{},
			lifecycleName:                      lifecyclePlugin{},
		},
	}
}

// FileSHA256 returns the hex sha256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

var passEnv = []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL"}

// Start verifies the binary's checksum, starts the process, completes the
// go-plugin handshake (gRPC over AutoMTLS) and returns the running plugin. It
// does not call Describe or Configure: the caller drives the lifecycle. On
// error nothing is left running.
func Start(ctx context.Context, cfg Config) (*Plugin, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	label := cfg.PluginID
	if label == "" {
		label = cfg.Path
	}
	fi, err := os.Lstat(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w: %v", label, ErrNotRegularFile, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("plugin %s: %w: %s is %s", label, ErrNotRegularFile, cfg.Path, fi.Mode().Type())
	}
	want, err := hex.DecodeString(strings.ToLower(strings.TrimSpace(cfg.SHA256)))
	if err != nil || len(want) != sha256.Size {
		return nil, fmt.Errorf("plugin %s: pinned sha256 %q is not 64 hex digits", label, cfg.SHA256)
	}
	got, err := FileSHA256(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: reading binary: %w", label, err)
	}
	if got != hex.EncodeToString(want) {
		return nil, fmt.Errorf("plugin %s: %w: %s has sha256 %s but %s was pinned; reinstall the plugin if the change is intended",
			label, ErrChecksumMismatch, cfg.Path, got, hex.EncodeToString(want))
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("plugin %s: data dir: %w", label, err)
		}
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = DefaultStartTimeout
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PluginID != "" {
		logger = logger.With("plugin", cfg.PluginID)
	}

	mask := &secretMask{}
	cmd := exec.Command(cfg.Path, cfg.Args...)
	for _, k := range passEnv {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, "KASSA_PLUGIN_LOG_LEVEL="+sdk.LevelName(cfg.LogLevel))
	if cfg.PluginID != "" {
		cmd.Env = append(cmd.Env, sdk.EnvPluginID+"="+cfg.PluginID)
	}
	if cfg.DataDir != "" {
		cmd.Env = append(cmd.Env, sdk.EnvDataDir+"="+cfg.DataDir)
	}
	cmd.Env = append(cmd.Env, cfg.Env...)

	callTimeout := cfg.CallTimeout
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: PluginSets(),
		Cmd:              cmd,
		SecureConfig:     &goplugin.SecureConfig{Checksum: want, Hash: sha256.New()},
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Managed:          false,
		SkipHostEnv:      true,
		StartTimeout:     cfg.StartTimeout,
		Logger:           newHCLog(logger, mask),
		Stderr:           io.Discard,
		SyncStdout:       io.Discard,
		SyncStderr:       io.Discard,
		GRPCDialOptions: []grpc.DialOption{
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(rpc.MaxMessageSize), grpc.MaxCallSendMsgSize(rpc.MaxMessageSize)),
			grpc.WithUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
				if _, ok := ctx.Deadline(); !ok && callTimeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, callTimeout)
					defer cancel()
				}
				return invoker(ctx, method, req, reply, cc, opts...)
			}),
		},
	})
	p, err := connect(ctx, client, cfg, mask)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("plugin %s: %w: %v", label, ErrStart, err)
	}
	return p, nil
}

func connect(ctx context.Context, client *goplugin.Client, cfg Config, mask *secretMask) (*Plugin, error) {
	type result struct {
		proto goplugin.ClientProtocol
		err   error
	}
	ch := make(chan result, 1)
	go func() {
		proto, err := client.Client()
		ch <- result{proto, err}
	}()
	var r result
	select {
	case r = <-ch:
	case <-ctx.Done():
		client.Kill()
		<-ch
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	gc, ok := r.proto.(*goplugin.GRPCClient)
	if !ok {
		return nil, fmt.Errorf("plugin speaks %T, want gRPC", r.proto)
	}
	raw, err := r.proto.Dispense(lifecycleName)
	if err != nil {
		return nil, err
	}
	p := &Plugin{
		cfg:     cfg,
		client:  client,
		proto:   r.proto,
		common:  rpc.NewCommonClient(gc.Conn),
		done:    raw.(context.Context).Done(),
		version: client.NegotiatedVersion(),
		mask:    mask,
	}
	if rc := client.ReattachConfig(); rc != nil {
		p.pid = rc.Pid
	}
	return p, nil
}

// ID returns the configured plugin id (may be empty).
func (p *Plugin) ID() string { return p.cfg.PluginID }

// PID returns the process id of the plugin (for tests that kill it).
func (p *Plugin) PID() int { return p.pid }

// ProtocolVersion returns the negotiated protocol major version.
func (p *Plugin) ProtocolVersion() int { return p.version }

// Done is closed when the plugin process has exited, for whatever reason.
func (p *Plugin) Done() <-chan struct{} { return p.done }

// Exited reports whether the plugin process has exited.
func (p *Plugin) Exited() bool { return p.client.Exited() }

// Kill stops the plugin: a graceful shutdown request, then SIGKILL after two
// seconds. Safe to call more than once and after the process died.
func (p *Plugin) Kill() {
	p.killOnce.Do(p.client.Kill)
}

// Ping checks that the connection to the plugin works.
func (p *Plugin) Ping() error {
	if err := p.proto.Ping(); err != nil {
		return fmt.Errorf("plugin %s: %w: %v", p.cfg.PluginID, sdk.ErrUnavailable, err)
	}
	return nil
}

// Plugin returns the kind-independent client: Describe, Configure, Health,
// HandleHTTP. Its Configure teaches the host the secret settings to mask
// in the plugin's log lines and in Redact.
func (p *Plugin) Plugin() sdk.Plugin { return maskingPlugin{Plugin: p.common, p: p} }

// Describe calls the plugin's Describe.
func (p *Plugin) Describe(ctx context.Context) (sdk.Info, error) {
	info, err := p.common.Describe(ctx)
	if err == nil {
		p.rememberSchema(info)
	}
	return info, err
}

// dispense returns the kind's client from go-plugin.
func (p *Plugin) dispense(k sdk.Kind) (any, error) {
	raw, err := p.proto.Dispense(sdk.PluginSetName(k))
	if err != nil {
		return nil, fmt.Errorf("plugin %s: dispense %s: %w", p.cfg.PluginID, k, err)
	}
	return raw, nil
}

// Gateway returns the payment gateway client. It does not check that the
// plugin is a payment plugin: use Describe first (calls to a plugin of
// another kind fail with sdk.ErrUnimplemented).
func (p *Plugin) Gateway() (payment.Gateway, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gateway == nil {
		raw, err := p.dispense(sdk.KindPayment)
		if err != nil {
			return nil, err
		}
		p.gateway = raw.(payment.Gateway)
	}
	return p.gateway, nil
}

// Rule returns the invoice rule client. Pass the host's sequence to
// IssueInvoice: the client serves it to the plugin over the go-plugin
// broker for the duration of the call.
func (p *Plugin) Rule() (invoice.Rule, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rule == nil {
		raw, err := p.dispense(sdk.KindInvoice)
		if err != nil {
			return nil, err
		}
		p.rule = raw.(invoice.Rule)
	}
	return p.rule, nil
}

// Channel returns the notification channel client.
func (p *Plugin) Channel() (notify.Channel, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.channel == nil {
		raw, err := p.dispense(sdk.KindNotify)
		if err != nil {
			return nil, err
		}
		p.channel = raw.(notify.Channel)
	}
	return p.channel, nil
}
