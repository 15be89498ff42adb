package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/store"
)

// TestOneServingInstancePerDataDir: a second serving instance on the same
// data directory is refused before it opens anything, with a message that
// names the holder; offline instances (seed, user) still run beside it;
// once the first stops, a new one starts. The e2e tests do the same with
// two real processes and a killed holder.
func TestOneServingInstancePerDataDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg, err := config.Load("", false, func(string) string { return "" }, map[string]string{"data-dir": dir, "http-addr": "127.0.0.1:18080"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := New(ctx, cfg, Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close(ctx) //nolint:errcheck // closed below; a second close does nothing

	_, err = New(ctx, cfg, Options{LogOutput: io.Discard})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second serving instance: err = %v, want ErrLocked", err)
	}
	want := fmt.Sprintf("another kassa serve (pid %d, http 127.0.0.1:18080) is using %s; stop it or use another --data-dir", os.Getpid(), dir)
	if err.Error() != want {
		t.Fatalf("message = %q\nwant      %q", err, want)
	}

	offline, err := New(ctx, cfg, Options{LogOutput: io.Discard, Offline: true})
	if err != nil {
		t.Fatalf("offline instance beside a serving one: %v", err)
	}
	if err := offline.Close(ctx); err != nil {
		t.Fatal(err)
	}

	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := New(ctx, cfg, Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatalf("serving instance after the first stopped: %v", err)
	}
	if err := again.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestServeRefusedOnLockedDataDir: `kassa serve` exits non-zero with the
// message on standard error.
func TestServeRefusedOnLockedDataDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := store.TryLock(dir+"/"+dataDirLockFile, "pid 1234, http 127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var out, errOut bytes.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- Main([]string{"serve", "--data-dir", dir, "--http-addr", "127.0.0.1:0"}, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	}()
	var code int
	select {
	case code = <-exit:
	case <-time.After(10 * time.Second):
		t.Fatal("kassa serve is serving a locked data dir")
	}
	want := "kassa serve: another kassa serve (pid 1234, http 127.0.0.1:8080) is using " + dir + "; stop it or use another --data-dir\n"
	if code != 1 || errOut.String() != want {
		t.Fatalf("exit %d, stderr %q\nwant exit 1, %q", code, errOut.String(), want)
	}
}

// TestOwnsDataDir: only PostgreSQL with an external NATS leaves nothing in
// the data directory that two instances could damage.
func TestOwnsDataDir(t *testing.T) {
	for _, tc := range []struct {
		name     string
		db, nats string
		want     bool
	}{
		{"sqlite, embedded nats", "", "", true},
		{"sqlite, external nats", "", "nats://n1:4222", true},
		{"postgres, embedded nats", "postgres://db/kassa", "", true},
		{"postgres, external nats", "postgres://db/kassa", "nats://n1:4222", false},
		{"postgresql scheme, external nats", "postgresql://db/kassa", "nats://n1:4222", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Config{DataDir: "./data", DatabaseURL: tc.db, NATSURL: tc.nats}
			if got := ownsDataDir(cfg); got != tc.want {
				t.Fatalf("ownsDataDir = %v, want %v", got, tc.want)
			}
		})
	}
}
