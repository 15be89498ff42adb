package plugin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/plugins/sdk/host"
)

func code(err error) string {
	if all := errs.All(err); len(all) > 0 {
		return all[0].Code
	}
	return ""
}

func TestCatalogInstallListVerifyRemove(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		sum, _ := host.FileSHA256(gatewayBin)

		res, err := e.svc.Install(ctx(), gatewayBin, InstallOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p := res.Plugin
		if p.ID != testID || p.Kind != KindPayment || p.Version != "1.0.0" || p.SHA256 != sum || p.Enabled || res.Replaced {
			t.Fatalf("installed %+v", p)
		}
		if p.FileName != testID {
			t.Fatalf("a binary outside the plugin dir must be copied in under its id; file name %q", p.FileName)
		}
		if got, _ := host.FileSHA256(filepath.Join(e.opts.Dir, testID)); got != sum {
			t.Fatal("copied binary differs from the source")
		}
		if len(p.SecretFields) != 1 || p.SecretFields[0].Name != "api_key" || p.SecretFields[0].IsSet {
			t.Fatalf("secret fields %+v", p.SecretFields)
		}
		if !p.Has("http") || p.Revision != 1 {
			t.Fatalf("capabilities %v revision %d", p.Capabilities, p.Revision)
		}

		// Again without --replace: refused. With --replace, same binary: no-op.
		if _, err := e.svc.Install(ctx(), gatewayBin, InstallOptions{}); code(err) != CodeAlreadyInstalled || !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("second install: %v", err)
		}
		res, err = e.svc.Install(ctx(), gatewayBin, InstallOptions{Replace: true})
		if err != nil || !res.Unchanged {
			t.Fatalf("reinstall same binary: %+v, %v", res, err)
		}

		// Settings survive an upgrade.
		if _, err := e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"live","api_key":"sk_upgrade_1234"}`)); err != nil {
			t.Fatal(err)
		}
		res, err = e.svc.Install(ctx(), gatewayBinV2, InstallOptions{Replace: true})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Replaced || res.Plugin.Version != "1.1.0" || res.Plugin.Revision != 3 || len(res.Warnings) != 0 {
			t.Fatalf("upgrade: %+v", res)
		}
		if string(res.Plugin.Settings) != `{"mode":"live"}` || !res.Plugin.SecretFields[0].IsSet {
			t.Fatalf("settings after upgrade: %s %+v", res.Plugin.Settings, res.Plugin.SecretFields)
		}

		list, err := e.svc.List(ctx())
		if err != nil || len(list) != 1 || list[0].Version != "1.1.0" {
			t.Fatalf("List = %+v, %v", list, err)
		}

		vr, err := e.svc.Verify(ctx())
		if err != nil || len(vr) != 1 || !vr[0].OK() {
			t.Fatalf("Verify = %+v, %v", vr, err)
		}
		// Tamper: append bytes to the installed binary.
		f, err := os.OpenFile(vr[0].Path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.Write([]byte("tampered"))
		f.Close()
		vr, _ = e.svc.Verify(ctx())
		if vr[0].OK() || !strings.Contains(vr[0].Problem, "checksum mismatch") || vr[0].Got == vr[0].Want {
			t.Fatalf("Verify after tampering = %+v", vr[0])
		}

		if err := e.svc.Remove(ctx(), testID); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(vr[0].Path); !os.IsNotExist(err) {
			t.Fatal("the copied binary was not deleted")
		}
		if list, _ := e.svc.List(ctx()); len(list) != 0 {
			t.Fatalf("after remove: %+v", list)
		}
		if err := e.svc.Remove(ctx(), testID); code(err) != CodeNotFound {
			t.Fatalf("remove twice: %v", err)
		}
	})
}

func TestInstallRefusesBadPaths(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	if err := os.MkdirAll(e.opts.Dir, 0o750); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	link := filepath.Join(outside, "link")
	if err := os.Symlink(gatewayBin, link); err != nil {
		t.Fatal(err)
	}
	linkInside := filepath.Join(e.opts.Dir, "link")
	if err := os.Symlink(gatewayBin, linkInside); err != nil {
		t.Fatal(err)
	}
	noExec := filepath.Join(outside, "noexec")
	copyFile(t, gatewayBin, noExec, 0o644)
	notPlugin := filepath.Join(outside, "true")
	if err := os.WriteFile(notPlugin, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ path, want string }{
		"symlink":            {link, "symbolic link"},
		"symlink inside dir": {linkInside, "symbolic link"},
		"missing":            {filepath.Join(outside, "nope"), "no such file"},
		"directory":          {outside, "not a regular file"},
		"not executable":     {noExec, "not executable"},
		"not a plugin":       {notPlugin, "did not start as a Kassa plugin"},
	} {
		_, err := e.svc.Install(ctx(), c.path, InstallOptions{})
		if code(err) != CodeInvalidBinary || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Install = %v, want %s containing %q", name, err, CodeInvalidBinary, c.want)
		}
	}
	if list, _ := e.svc.List(ctx()); len(list) != 0 {
		t.Fatalf("refused installs recorded plugins: %+v", list)
	}
	entries, _ := os.ReadDir(e.opts.Dir)
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), ".install-") {
			t.Errorf("temporary copy %s left behind", en.Name())
		}
	}
}

func TestInstallReferencesFileInsideDir(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	inside := filepath.Join(e.opts.Dir, "sub", "gw")
	copyFile(t, gatewayBin, inside, 0o755)
	res, err := e.svc.Install(ctx(), inside, InstallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plugin.FileName != filepath.Join("sub", "gw") {
		t.Fatalf("file name %q, want the path inside the plugin dir", res.Plugin.FileName)
	}
	if _, err := os.Stat(filepath.Join(e.opts.Dir, testID)); !os.IsNotExist(err) {
		t.Fatal("a file inside the plugin dir was copied")
	}
	// Remove leaves a file the catalog did not create.
	if err := e.svc.Remove(ctx(), testID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(inside); err != nil {
		t.Fatal("remove deleted a binary the catalog did not copy")
	}
}

func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

// TestTextBusy: install retries exec's ETXTBSY, as an errno and as the
// text go-plugin passes on, and nothing else.
func TestTextBusy(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&os.PathError{Op: "fork/exec", Path: "/p/.install-1", Err: syscall.ETXTBSY}, true},
		{fmt.Errorf("plugin failed to start: %s", &os.PathError{Op: "fork/exec", Path: "/p/.install-1", Err: syscall.ETXTBSY}), true},
		{&os.PathError{Op: "fork/exec", Path: "/p/.install-1", Err: syscall.EACCES}, false},
		{errors.New("plugin exited before the handshake"), false},
	} {
		if got := textBusy(c.err); got != c.want {
			t.Errorf("textBusy(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
