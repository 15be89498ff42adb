package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/store"
)

// dataDirLockFile is the file in the data directory a serving instance
// holds an flock on.
const dataDirLockFile = "kassa.lock"

// ownsDataDir reports whether a serving instance keeps state in the data
// directory that a second one would damage: the embedded NATS store
// (JetStream files, and cache invalidations that would reach only one of
// the two) or a SQLite database. On PostgreSQL with an external NATS the
// data directory holds only plugins and the key file, so instances may
// share it.
func ownsDataDir(cfg config.Config) bool {
	db := cfg.Database()
	postgres := strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
	return cfg.NATSURL == "" || !postgres
}

// lockDataDir takes the data directory's lock for this process, or says
// which process holds it. The kernel releases it when the process ends,
// however it ends, so a crash never blocks the next start. Offline
// commands (seed, user, plugin, migrate) do not take it: they write only
// through the database and the outbox, beside a running server.
func lockDataDir(cfg config.Config) (func(), error) {
	holder := fmt.Sprintf("pid %d, http %s", os.Getpid(), cfg.HTTPAddr)
	unlock, err := store.TryLock(filepath.Join(cfg.DataDir, dataDirLockFile), holder)
	if err == nil {
		return unlock, nil
	}
	var locked *store.LockedError
	if errors.As(err, &locked) {
		who := "another kassa serve"
		if locked.Holder != "" {
			who += " (" + locked.Holder + ")"
		}
		return nil, &dataDirInUseError{fmt.Sprintf("%s is using %s; stop it or use another --data-dir", who, cfg.DataDir)}
	}
	return nil, fmt.Errorf("lock data dir %s: %w", cfg.DataDir, err)
}

// dataDirInUseError is the refusal to serve a locked data directory: a
// message for the shop owner that still unwraps to store.ErrLocked.
type dataDirInUseError struct{ msg string }

func (e *dataDirInUseError) Error() string { return e.msg }
func (e *dataDirInUseError) Unwrap() error { return store.ErrLocked }
