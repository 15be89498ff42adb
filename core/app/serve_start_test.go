package app

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/store"
)

// TestServeOnATakenAddress: with its address taken by another program,
// `kassa serve` says how to choose another and nothing else. An outside
// review found it printing "Kassa is serving" and a new one-time setup
// link (which revokes the one printed before) for the other program's
// address, and only then failing.
func TestServeOnATakenAddress(t *testing.T) {
	t.Parallel()
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	dir := t.TempDir()
	code, out, errOut := runMain("serve", "--data-dir", dir, "--http-addr", other.Addr().String(), "--seed-demo", "--log-level", "warn")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	for _, want := range []string{"cannot listen on " + other.Addr().String(), "address already in use", "--http-addr", "KASSA_HTTP_ADDR"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the error lacks %q:\n%s", want, errOut)
		}
	}
	for _, never := range []string{"Kassa is serving", "/admin/setup", "ktok_", "seeding products"} {
		if strings.Contains(out+errOut, never) {
			t.Errorf("a server that cannot serve printed %q:\n%s%s", never, out, errOut)
		}
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "kassa.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := db.NewSelect().Table("account_tokens").Where("purpose = ?", "owner_setup").Count(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("%d owner setup tokens issued (%v), want none", n, err)
	}
}

// TestSeedIfEmpty: `kassa serve --seed-demo` (make run) seeds the demo
// shop on the first start only, and redraws no progress bar where
// standard error is not a terminal. An outside review found every rerun
// of make run drawing the bar to report created=0.
func TestSeedIfEmpty(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", false, func(string) string { return "" }, map[string]string{"data-dir": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var logs, progress bytes.Buffer
	a, err := New(context.Background(), cfg, Options{Offline: true, LogOutput: &logs})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	if err := a.seedIfEmpty(context.Background(), &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `msg="demo shop seeded" result.created=56`) {
		t.Fatalf("first start did not seed the demo shop:\n%s", logs.String())
	}
	logs.Reset()
	if err := a.seedIfEmpty(context.Background(), &progress); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "demo shop seeded") || !strings.Contains(logs.String(), "the catalog has products") {
		t.Errorf("a later start seeded again:\n%s", logs.String())
	}
	if progress.Len() > 0 {
		t.Errorf("progress drawn on a standard error that is not a terminal: %q", progress.String())
	}
}
