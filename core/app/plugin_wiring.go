package app

import (
	"context"
	"log/slog"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/core/store"
)

// NewPlugins builds the plugin host of an instance: the catalog in db, the
// plugin directory cfg.Plugins(), secrets sealed with the master key
// (KASSA_SECRET_KEY or DATA_DIR/secret.key), and the supervisor's periodic
// health checks when supervise is true (serving instances; the CLI passes
// false). No plugin process starts here: each starts on first use. Close
// the service after the HTTP server stopped and before the database.
func NewPlugins(cfg config.Config, db *store.DB, az authz.Authorizer, log *slog.Logger, supervise bool) (*plugin.Service, error) {
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
	})
	if err != nil {
		return nil, err
	}
	if supervise {
		svc.Supervise()
	}
	return svc, nil
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
