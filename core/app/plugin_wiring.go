package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/core/store"
)

// NewPlugins builds the plugin host of an instance: the catalog in db, the
// plugin directory cfg.Plugins(), secrets sealed with the master key
// (KASSA_SECRET_KEY or DATA_DIR/secret.key). No plugin process starts
// here: each starts on first use, and the supervisor's periodic health
// checks run only as a worker of a started App. Close the service after
// the HTTP server stopped and before the database.
func NewPlugins(ctx context.Context, cfg config.Config, db *store.DB, az authz.Authorizer, log *slog.Logger) (*plugin.Service, error) {
	if err := refuseNewKeyForOldSecrets(ctx, cfg, db); err != nil {
		return nil, err
	}
	box, err := secret.Load(cfg.SecretKey, cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	svc, err := plugin.NewService(db, plugin.Options{
		Dir:      cfg.Plugins(),
		DataDir:  cfg.DataDir,
		BaseURL:  cfg.BaseURL(),
		Secrets:  box,
		Authz:    az,
		Logger:   log,
		LogLevel: level,

		AllowPrivateNetworks: cfg.PluginAllowPrivateNetworks,
		InUse:                payment.GatewayInUse(db),
	})
	if err != nil {
		return nil, err
	}
	return svc, nil
}

// refuseNewKeyForOldSecrets stops secret.Load from generating a master key
// beside a database whose plugin secrets were sealed with another: a
// restore that forgot secret.key, or a second instance on a shared
// PostgreSQL without KASSA_SECRET_KEY. The new key could never open them,
// and whatever it sealed would be lost once the right key is put back.
func refuseNewKeyForOldSecrets(ctx context.Context, cfg config.Config, db *store.DB) error {
	path := filepath.Join(cfg.DataDir, secret.KeyFileName)
	if cfg.SecretKey != "" {
		return nil
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil // secret.Load reads it, or says what is wrong with it
	}
	ids, err := plugin.SecretKeyIDs(ctx, db)
	if err != nil || len(ids) == 0 {
		return err
	}
	return fmt.Errorf("secret key: %s does not exist and KASSA_SECRET_KEY is empty, but the database holds plugin secrets "+
		"sealed with master key %s; put that key back (restore secret.key from your backup, or set KASSA_SECRET_KEY "+
		"as the other instances do). If it is lost, create a new key yourself (openssl rand -base64 32 > %s; chmod 600 %s) "+
		"and enter the plugins' secrets again", path, strings.Join(ids, ", "), path, path)
}

// InstallNewPlugins installs every executable file in the plugin directory
// that no catalog entry names yet, as the system subject, and returns the
// ids installed. A file whose plugin id is installed under another file is
// skipped with a warning: replacing a pinned binary stays a deliberate
// `kassa plugin install --replace`.
func InstallNewPlugins(ctx context.Context, svc *plugin.Service, dir string, log *slog.Logger) ([]string, error) {
	ctx = authz.WithSubject(ctx, authz.SystemSubject("autoinstall"))
	list, err := svc.List(ctx)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, p := range list {
		known[p.FileName] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read plugin dir: %w", err)
	}
	var installed []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 || known[e.Name()] {
			continue
		}
		res, err := svc.Install(ctx, filepath.Join(dir, e.Name()), plugin.InstallOptions{})
		if err != nil {
			log.Warn("plugin not installed", "file", e.Name(), "err", err)
			continue
		}
		installed = append(installed, res.Plugin.ID)
	}
	return installed, nil
}

// systemOnly authorizes the system subject only. The CLI runs as
// authz.SystemSubject("cli"), which the Casbin enforcer also lets through;
// this keeps plugin commands from needing the enforcer (and its event bus)
// while still refusing any other caller.
type systemOnly struct{}

func (systemOnly) Can(ctx context.Context, obj authz.Object, act authz.Action) error {
	if authz.SubjectFrom(ctx).IsSystem() {
		return nil
	}
	return errs.Forbidden("FORBIDDEN", "only the system may do this here")
}

// demoPluginSettings are the settings the demo shop gives the reference
// gateways and the invoice rule (the notification channels need the
// owner's mail server or endpoints, so they stay off). Secrets are generated (see SetUpDemoPlugins).
var demoPluginSettings = map[string]map[string]any{
	"payment.testpay":  {"async_delay_ms": 2000},
	"invoice.standard": {"issue_on": "on_paid", "number_prefix": "INV-"},
	"payment.banktransfer": {
		"account_holder": "Kassa Demo Shop", "iban": "DE89370400440532013000",
		"bic": "COBADEFFXXX", "bank_name": "Demo Bank",
	},
}

// SetUpDemoPlugins configures and enables the reference gateways of the
// demo shop (testpay with a random webhook secret, banktransfer with a demo
// account) when they are installed and still untouched: disabled, no
// settings. It runs as the system subject and is idempotent; the demo
// seeder calls it so `make run` works out of the box.
func SetUpDemoPlugins(ctx context.Context, svc *plugin.Service) ([]string, error) {
	ctx = authz.WithSubject(ctx, authz.SystemSubject("seed"))
	list, err := svc.List(ctx)
	if err != nil {
		return nil, err
	}
	var enabled []string
	for _, p := range list {
		settings, ok := demoPluginSettings[p.ID]
		if !ok || p.Enabled || string(p.Settings) != "{}" {
			continue
		}
		cfg := maps.Clone(settings)
		if p.ID == "payment.testpay" {
			var b [24]byte
			_, _ = rand.Read(b[:])
			cfg["webhook_secret"] = hex.EncodeToString(b[:])
		}
		raw, err := json.Marshal(cfg)
		if err != nil {
			return enabled, err
		}
		if _, err := svc.UpdateSettings(ctx, p.ID, raw); err != nil {
			return enabled, fmt.Errorf("configure demo plugin %s: %w", p.ID, err)
		}
		if _, err := svc.Enable(ctx, p.ID); err != nil {
			return enabled, fmt.Errorf("enable demo plugin %s: %w", p.ID, err)
		}
		enabled = append(enabled, p.ID)
	}
	return enabled, nil
}
