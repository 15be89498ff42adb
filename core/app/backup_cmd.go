package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/core/store"
)

func init() {
	commands["backup"] = command{"copy the shop (SQLite database, master key, plugins) into a new directory, while it runs", runBackup}
}

// runBackup writes a copy of the shop that `kassa serve --data-dir DIR`
// starts from. It needs no sqlite3 tool (the container image has none):
// SQLite's VACUUM INTO copies a consistent database while the shop
// writes, without stopping it.
func runBackup(ctx context.Context, args []string, io IO) error {
	fs, load := flagSet("backup", io, "Usage: kassa backup --to DIR [flags]\n\n"+
		"Copies what the shop needs to come back into DIR, a new directory readable by its owner only, while the\n"+
		"shop runs:\n"+
		"  kassa.db       the SQLite database, a consistent copy (on PostgreSQL, back it up with pg_dump instead)\n"+
		"  secret.key     the master key, unless it comes from KASSA_SECRET_KEY (then keep that value with the backup)\n"+
		"  plugins/       the installed plugin executables\n"+
		"  plugin-data/   the plugins' own files\n"+
		"To restore, stop kassa and start it on the copy: kassa serve --data-dir DIR (docs/operations.md, Backups).\n",
		"data-dir", "database-url", "secret-key", "plugin-dir")
	to := fs.String("to", "", "the directory to write: new, or empty")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if *to == "" {
		fs.Usage()
		return fmt.Errorf("%w: --to DIR names where the backup goes", errUsage)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	b := backup{cfg: cfg, dir: *to, out: io.Stdout}
	if err := b.run(ctx); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(io.Stdout, "backup written to %s; restore with: kassa serve --data-dir %s\n", b.dir, b.dir)
	return nil
}

type backup struct {
	cfg config.Config
	dir string
	out interface{ Write([]byte) (int, error) }
}

func (b *backup) run(ctx context.Context) error {
	// Opening a SQLite file that is not there would create an empty
	// one, and back up nothing.
	if file, ok := store.SQLiteFile(b.cfg.Database()); ok {
		if _, err := os.Stat(file); err != nil {
			return fmt.Errorf("no database to back up: %w (is --data-dir right?)", err)
		}
	}
	if err := newPrivateDir(b.dir); err != nil {
		return err
	}
	if err := b.database(ctx); err != nil {
		return err
	}
	if err := b.key(); err != nil {
		return err
	}
	for _, d := range []struct{ what, from, to string }{
		{"plugins", b.cfg.Plugins(), "plugins"},
		{"plugin data", filepath.Join(b.cfg.DataDir, "plugin-data"), "plugin-data"},
	} {
		n, err := copyTree(d.from, filepath.Join(b.dir, d.to))
		if err != nil {
			return fmt.Errorf("copy %s: %w", d.what, err)
		}
		fmt.Fprintf(b.out, "%-12s %d files from %s\n", d.what+":", n, d.from)
	}
	return nil
}

// database copies a SQLite database with VACUUM INTO: one read
// transaction, so the copy is the database as it was at one instant,
// whatever the shop writes meanwhile; PostgreSQL is pg_dump's.
func (b *backup) database(ctx context.Context) error {
	db, err := store.Open(ctx, b.cfg.Database(), store.Options{MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer db.Close()
	if db.Dialect != store.SQLite {
		fmt.Fprintln(b.out, "database:    PostgreSQL, not copied: back it up with pg_dump -Fc (docs/operations.md, Backups)")
		return nil
	}
	path := filepath.Join(b.dir, "kassa.db")
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("copy the database: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, "database:    %s (%d bytes)\n", b.cfg.Database(), st.Size())
	return nil
}

// key copies the master key file; a key given in the environment or as
// a flag is the operator's to keep.
func (b *backup) key() error {
	if b.cfg.SecretKey != "" {
		fmt.Fprintln(b.out, "master key:  from KASSA_SECRET_KEY, not copied: keep that value with the backup")
		return nil
	}
	from := filepath.Join(b.cfg.DataDir, secret.KeyFileName)
	key, err := os.ReadFile(from)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(b.out, "master key:  none in %s (the shop has not started yet)\n", b.cfg.DataDir)
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.dir, secret.KeyFileName), key, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(b.out, "master key:  %s\n", from)
	return nil
}

// newPrivateDir creates dir for its owner only, or takes an empty one
// and narrows it so: the copy holds password hashes, session hashes and
// the master key. A directory holding anything is refused, so a backup
// never mixes with an older one.
func newPrivateDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(dir, 0o700)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s is not empty: back up into a new directory", dir)
	}
	return os.Chmod(dir, 0o700)
}

// copyTree copies the regular files under from into to, keeping their
// modes (plugins stay executable) and creating directories for the owner
// only; a missing from copies nothing. It returns how many files it
// copied.
func copyTree(from, to string) (int, error) {
	n := 0
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == from {
				return filepath.SkipAll
			}
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, data, info.Mode().Perm()&0o700); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}
