package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/config"
)

// TestUserCreateOwner runs `kassa user create-owner` with the password on
// standard input, then checks the owner can sign in and that the setup
// token is no longer offered.
func TestUserCreateOwner(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	run := func(stdin string, args ...string) int {
		out.Reset()
		errOut.Reset()
		return Main(append(args, "--data-dir", dir), IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut})
	}
	if code := run("password1\n", "user", "create-owner", "--email", "olga@shop.example", "--password-stdin"); code != 2 || !strings.Contains(errOut.String(), "PASSWORD") && !strings.Contains(errOut.String(), "characters") {
		t.Fatalf("weak password: exit %d, %s", code, errOut.String())
	}
	if code := run("olga's owner passphrase\n", "user", "create-owner", "--email", "olga@shop.example", "--name", "Olga", "--password-stdin"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "olga@shop.example") || strings.Contains(out.String()+errOut.String(), "passphrase") {
		t.Fatalf("output %q / %q", out.String(), errOut.String())
	}

	ctx := context.Background()
	cfg, err := config.Load("", false, func(string) string { return "" }, map[string]string{"data-dir": dir})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(ctx, cfg, Options{LogOutput: &errOut})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx) //nolint:errcheck
	acc, err := NewAccounts(ctx, a.DB, AccountsOptions{Outbox: a.Outbox, Logger: a.Log})
	if err != nil {
		t.Fatal(err)
	}
	defer acc.Close()
	if _, _, err := acc.Service.StaffLogin(ctx, "olga@shop.example", "olga's owner passphrase"); err != nil {
		t.Fatalf("owner signs in: %v", err)
	}
	var setup bytes.Buffer
	if err := acc.AnnounceOwnerSetup(ctx, &setup, "http://127.0.0.1:8080", false); err != nil || setup.Len() != 0 {
		t.Fatalf("setup offered while an owner exists: %q %v", setup.String(), err)
	}
}
