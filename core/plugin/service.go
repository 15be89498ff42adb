package plugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
)

// Defaults for Options fields left zero.
const (
	DefaultCallTimeout    = 30 * time.Second
	DefaultStartTimeout   = 10 * time.Second
	DefaultHealthInterval = 30 * time.Second
	DefaultBackoffMin     = 250 * time.Millisecond
	DefaultBackoffMax     = time.Minute
)

// Log attribute keys.
const (
	attrComponent = "component"
	attrPlugin    = "plugin"
	attrErr       = "err"
)

// Options configure a Service.
type Options struct {
	// Dir is the plugin directory: every executable the catalog starts
	// lives inside it.
	Dir string
	// DataDir is Kassa's data directory; each plugin gets
	// DATA_DIR/plugin-data/<id> for its own files.
	DataDir string
	// BaseURL is the shop's public URL; plugin pages are served under
	// BaseURL/plugins/<id>/ and webhooks arrive on BaseURL/webhooks/<id>.
	BaseURL string
	// Secrets seals secret settings. Nil makes every operation on secret
	// settings fail (the CLI's install, list and verify do not need it).
	Secrets *secret.Box
	// Authz checks the plugin permission of catalog and settings
	// operations. Nil allows everything (tests).
	Authz authz.Authorizer
	// Logger receives the host's and the plugins' log lines.
	Logger *slog.Logger
	// Clock tells the time; nil means the system clock.
	Clock clock.Clock
	// CallTimeout bounds every call to a plugin whose context has no
	// earlier deadline.
	CallTimeout time.Duration
	// StartTimeout bounds starting a plugin (handshake, Describe,
	// Configure, Health).
	StartTimeout time.Duration
	// HealthInterval is the period of health checks of running plugins.
	HealthInterval time.Duration
	// BackoffMin and BackoffMax bound the exponential delay before a
	// crashed or failing plugin is started again.
	BackoffMin, BackoffMax time.Duration
	// LogLevel is the most verbose level plugins should emit.
	LogLevel slog.Level
	// AllowPrivateNetworks lets plugin settings and plugin connections
	// reach loopback, link-local, private and other non-public addresses
	// (the owner's KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS). False refuses
	// them when settings are saved, and plugins are told at Configure to
	// refuse them when connecting.
	AllowPrivateNetworks bool
	// InUse says what plugin id still has to finish, in a few words ("2
	// payments open"), or "" when nothing: a plugin in use is not removed
	// (PLUGIN_IN_USE). Nil lets every plugin be removed.
	InUse func(ctx context.Context, id string) (string, error)
}

// Service is the plugin host: the catalog of installed plugins, their
// settings, and the supervisor that runs their processes. Catalog and
// settings operations check the plugin permission; the lookups domains use
// (Gateway, Channels, Rules) do not, because the domain service calling
// them has checked its own.
type Service struct {
	db    *store.DB
	st    pluginStore
	opts  Options
	log   *slog.Logger
	authz authz.Authorizer
	clock clock.Clock

	mu        sync.Mutex
	instances map[string]*instance
	closed    bool
	// pendingHealth holds health changes not yet written; healthWriting
	// marks plugins whose writer runs.
	pendingHealth map[string]Health
	healthWriting map[string]bool
	wg            sync.WaitGroup
	// enabled caches the lists of enabled plugins (enabled_cache.go).
	enabled enabledCache
}

// NewService returns the plugin host over db. It starts no process:
// plugins start on first use. The app runs Check every HealthInterval as
// a worker (core/worker); Close stops every plugin.
func NewService(db *store.DB, opts Options) (*Service, error) {
	if opts.Dir == "" {
		return nil, errors.New("plugin: no plugin directory configured")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("plugin dir: %w", err)
	}
	opts.Dir = dir
	if opts.DataDir != "" {
		if opts.DataDir, err = filepath.Abs(opts.DataDir); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = clock.System
	}
	if opts.Authz == nil {
		opts.Authz = authz.AllowAll{}
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.HealthInterval <= 0 {
		opts.HealthInterval = DefaultHealthInterval
	}
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = DefaultBackoffMin
	}
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = max(DefaultBackoffMax, opts.BackoffMin)
	}
	return &Service{
		db:        db,
		st:        pluginStore{db: db},
		opts:      opts,
		log:       opts.Logger.With(attrComponent, "plugin"),
		authz:     opts.Authz,
		clock:     opts.Clock,
		instances: map[string]*instance{},

		pendingHealth: map[string]Health{},
		healthWriting: map[string]bool{},
	}, nil
}

// Dir returns the plugin directory.
func (s *Service) Dir() string { return s.opts.Dir }

// Close stops every plugin process (each gets a graceful
// shutdown request, then SIGKILL after two seconds). Calls made afterwards
// fail with PLUGIN_UNAVAILABLE.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	insts := make([]*instance, 0, len(s.instances))
	for _, i := range s.instances {
		insts = append(insts, i)
	}
	s.mu.Unlock()

	var wg sync.WaitGroup
	for _, i := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i.close()
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop plugins: %w", ctx.Err())
	}
}

// instance returns the supervisor of plugin id, creating it on first use.
func (s *Service) instance(id string) (*instance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, unavailable(CodeUnavailable, "plugin %s is unavailable: the plugin host is shutting down", id)
	}
	i, ok := s.instances[id]
	if !ok {
		i = newInstance(s, id)
		s.instances[id] = i
	}
	return i, nil
}

// running returns the supervisor of id if one exists, without creating it.
func (s *Service) existing(id string) *instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.instances[id]
}

// reload stops the process of plugin id, if one runs, so that the next use
// starts it from the catalog again (new binary, disabled, removed).
func (s *Service) reload(id, why string) {
	if i := s.existing(id); i != nil {
		i.stopProcess(why)
	}
}

// guard is the network policy of plugin settings and connections.
func (s *Service) guard() netguard.Policy {
	return netguard.Policy{AllowPrivate: s.opts.AllowPrivateNetworks}
}

// configureContext carries the owner's network policy to a plugin's
// Configure.
func (s *Service) configureContext(ctx context.Context) context.Context {
	return sdk.WithAllowPrivateNetworks(ctx, s.opts.AllowPrivateNetworks)
}

func (s *Service) can(ctx context.Context, act authz.Action) error {
	return s.authz.Can(ctx, authz.Plugin, act)
}

func (s *Service) pluginDataDir(id string) string {
	if s.opts.DataDir == "" {
		return ""
	}
	return filepath.Join(s.opts.DataDir, "plugin-data", id)
}

func (s *Service) binaryPath(r *row) string { return filepath.Join(s.opts.Dir, r.FileName) }

// removeFile deletes a file the catalog created, ignoring a missing one.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
