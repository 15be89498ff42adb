package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/app"
	"github.com/kassahq/kassa/core/store"
)

// run runs kassa with args and returns its exit code and output.
func run(args ...string) (int, string) {
	var out, errOut bytes.Buffer
	code := app.Main(args, app.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return code, out.String() + errOut.String()
}

// TestBackupCommand: kassa backup copies a SQLite shop's database, key,
// plugins and plugin files into a new directory for its owner only; a
// directory holding anything, or a data directory without a shop, is
// refused and nothing is written.
func TestBackupCommand(t *testing.T) {
	data := t.TempDir()
	if code, out := run("seed", "demo", "--data-dir", data); code != 0 {
		t.Fatalf("seed: %s", out)
	}
	key := []byte("0123456789abcdef0123456789abcdef0123456789ab\n")
	for _, f := range []struct {
		path string
		body []byte
		mode os.FileMode
	}{
		{"secret.key", key, 0o600},
		{"plugins/payment.fake", []byte("#!/bin/sh\n"), 0o755},
		{"plugin-data/payment.fake/journal", []byte("pay_1 CAPTURED\n"), 0o600},
	} {
		p := filepath.Join(data, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.body, f.mode); err != nil {
			t.Fatal(err)
		}
	}

	to := filepath.Join(t.TempDir(), "kassa-backup")
	code, out := run("backup", "--data-dir", data, "--to", to)
	if code != 0 {
		t.Fatalf("backup: %s", out)
	}
	if !strings.Contains(out, "restore with: kassa serve --data-dir "+to) {
		t.Errorf("the backup does not say how to restore:\n%s", out)
	}
	for path, mode := range map[string]os.FileMode{
		"":                                 0o700 | os.ModeDir,
		"kassa.db":                         0o600,
		"secret.key":                       0o600,
		"plugins/payment.fake":             0o700,
		"plugin-data/payment.fake/journal": 0o600,
	} {
		st, err := os.Stat(filepath.Join(to, path))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", path, st.Mode(), mode)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(to, "secret.key")); !bytes.Equal(got, key) {
		t.Errorf("the key copied: %q", got)
	}
	count := func(dir string) (n int) {
		db, err := store.Open(context.Background(), filepath.Join(dir, "kassa.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.NewRaw("SELECT count(*) FROM products").Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if want, got := count(data), count(to); got != want || got == 0 {
		t.Errorf("the copy holds %d products, the shop %d", got, want)
	}

	// Refused: a directory holding a backup already; a data directory
	// without a shop.
	if code, out := run("backup", "--data-dir", data, "--to", to); code == 0 || !strings.Contains(out, "not empty") {
		t.Errorf("a second backup into the same directory: %d %s", code, out)
	}
	nowhere := filepath.Join(t.TempDir(), "none")
	if code, out := run("backup", "--data-dir", t.TempDir(), "--to", nowhere); code == 0 || !strings.Contains(out, "no database to back up") {
		t.Errorf("a data directory without a shop: %d %s", code, out)
	}
	if _, err := os.Stat(nowhere); !os.IsNotExist(err) {
		t.Errorf("a refused backup left %s: %v", nowhere, err)
	}
	// A key given in the environment is the operator's to keep.
	to2 := filepath.Join(t.TempDir(), "b2")
	code, out = run("backup", "--data-dir", data, "--to", to2, "--secret-key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if code != 0 || !strings.Contains(out, "not copied: keep that value") {
		t.Errorf("a backup with the key in the environment: %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(to2, "secret.key")); !os.IsNotExist(err) {
		t.Errorf("the file key was copied beside an environment key: %v", err)
	}
}

// TestBackupOutsideTheShop: a backup directory in the data directory or
// the plugin directory, also through a symlink, is refused before
// anything is written (inside plugin-data the copy copied itself until
// paths grew too long, leaving hundreds of copies of the database in the
// live shop); a plugin directory that is a symlink is copied, not
// skipped as an empty one.
func TestBackupOutsideTheShop(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if code, out := run("seed", "demo", "--data-dir", data); code != 0 {
		t.Fatalf("seed: %s", out)
	}
	plugins := filepath.Join(t.TempDir(), "plugins")
	for _, p := range []string{filepath.Join(data, "plugin-data", "payment.fake", "journal"), filepath.Join(plugins, "payment.fake")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x\n"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(plugins, filepath.Join(data, "plugins")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	for name, to := range map[string]string{
		"in plugin data":             filepath.Join(data, "plugin-data", "backup"),
		"in the plugins":             filepath.Join(data, "plugins", "backup"),
		"in the data directory":      filepath.Join(data, "backups", "monday"),
		"through a symlink":          filepath.Join(link, "plugin-data", "backup"),
		"the data directory, dotted": data + string(filepath.Separator) + ".",
	} {
		t.Run(name, func(t *testing.T) {
			code, out := run("backup", "--data-dir", data, "--to", to)
			if code == 0 || !strings.Contains(out, "inside the") {
				t.Errorf("backup --to %s: %d %s", to, code, out)
			}
			if name != "the data directory, dotted" {
				if _, err := os.Lstat(to); !os.IsNotExist(err) {
					t.Errorf("a refused backup left %s: %v", to, err)
				}
			}
		})
	}
	to := filepath.Join(t.TempDir(), "backup")
	if code, out := run("backup", "--data-dir", data, "--to", to); code != 0 {
		t.Fatalf("backup: %s", out)
	}
	if _, err := os.Stat(filepath.Join(to, "plugins", "payment.fake")); err != nil {
		t.Errorf("the plugins behind a symlinked plugin directory were not copied: %v", err)
	}

	// A directory named like a SQLite URI gets the database too: SQLite
	// took file:/elsewhere/kassa.db as a URI and wrote there, into a
	// directory nobody checked was empty or private.
	t.Chdir(t.TempDir())
	elsewhere := t.TempDir()
	if code, out := run("backup", "--data-dir", data, "--to", "file:"+elsewhere); code != 0 {
		t.Fatalf("backup --to file:%s: %s", elsewhere, out)
	}
	if _, err := os.Stat(filepath.Join("file:"+elsewhere, "kassa.db")); err != nil {
		t.Errorf("the database is not in the backup directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "kassa.db")); !os.IsNotExist(err) {
		t.Errorf("the database was written to %s: %v", elsewhere, err)
	}
}

// TestBackupRefusesAnotherUsersDirectory: an empty directory of another
// user is refused, before anything is written or its mode changed; only
// root can make one here.
func TestBackupRefusesAnotherUsersDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	data := t.TempDir()
	if code, out := run("seed", "demo", "--data-dir", data); code != 0 {
		t.Fatalf("seed: %s", out)
	}
	to := filepath.Join(t.TempDir(), "planted")
	if err := os.Mkdir(to, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(to, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	if code, out := run("backup", "--data-dir", data, "--to", to); code == 0 || !strings.Contains(out, "belongs to another user") {
		t.Fatalf("backup into another user's directory: %d %s", code, out)
	}
	if entries, err := os.ReadDir(to); err != nil || len(entries) > 0 {
		t.Errorf("the refused backup wrote %v (%v)", entries, err)
	}
}
