package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
		"Copies what the shop needs to come back into DIR, a new directory readable by its owner only, outside the\n"+
		"data and plugin directories, while the shop runs:\n"+
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
	if err := b.refuseInsideShop(); err != nil {
		return err
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

// refuseInsideShop refuses a backup directory in the data directory or
// the plugin directory, symlinks resolved: inside the plugin data or
// plugins it would copy itself into itself until paths grow too long
// (hundreds of copies of the database left in the live shop's plugin
// data), and anywhere in the data directory it would be lost with the
// disk it is meant to outlive.
func (b *backup) refuseInsideShop() error {
	to, err := realPath(b.dir)
	if err != nil {
		return err
	}
	for _, d := range []struct{ what, dir string }{
		{"data directory", b.cfg.DataDir},
		{"plugin directory", b.cfg.Plugins()},
	} {
		if d.dir == "" {
			continue
		}
		shop, err := realPath(d.dir)
		if err != nil {
			return err
		}
		if rel, err := filepath.Rel(shop, to); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%s is inside the %s %s: back up into a directory outside the shop", b.dir, d.what, d.dir)
		}
	}
	return nil
}

// realPath is path made absolute with the symlinks of its longest
// existing part resolved; the rest, not created yet, is kept as given.
func realPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		real, err := filepath.EvalSymlinks(dir)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(dir) == dir {
			return "", err
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
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
	// Absolute: SQLite reads a name that starts with "file:" as a URI,
	// so --to file:/elsewhere would write the copy outside the private
	// directory, past its emptiness check.
	path, err := filepath.Abs(filepath.Join(b.dir, "kassa.db"))
	if err != nil {
		return err
	}
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
// never mixes with an older one, and so is one of another user: root
// backing up into /tmp/kassa-backup that someone made beforehand would
// hand them a directory they may still rename, empty or fill with
// symlinks while root writes the master key into it.
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
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !ownedByCaller(fi) {
		return fmt.Errorf("%s belongs to another user: back up into a new directory, or one of your own", dir)
	}
	return os.Chmod(dir, 0o700)
}

// copyTree copies the regular files under from into to, keeping their
// modes (plugins stay executable) and creating directories for the owner
// only; a missing from copies nothing. from may be a symlink to the
// directory, as the plugin host allows for its directory; symlinks under
// it are skipped, as the host refuses them. It returns how many files it
// copied.
func copyTree(from, to string) (int, error) {
	// WalkDir does not follow a root that is a symlink: it would copy
	// nothing and report success.
	from, err := filepath.EvalSymlinks(from)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	err = filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
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
		data, err := readNoFollow(path)
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
