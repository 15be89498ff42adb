package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// serveOnce runs `kassa serve` expecting it to give up by itself, and
// returns its exit error, output and how long it ran.
func serveOnce(t *testing.T, dataDir string, extra ...string) (error, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	args := append([]string{"serve", "--http-addr", freeAddr(t), "--data-dir", dataDir}, extra...)
	cmd := exec.CommandContext(ctx, kassaBin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	err := cmd.Run()
	return err, out.String(), time.Since(began)
}

// TestSecondServeOnOneDataDirExits: a second `kassa serve` on a data
// directory in use exits at once, non-zero, naming the process that holds
// it; the first keeps serving, commands still run beside it, and once it
// stops a new server starts.
func TestSecondServeOnOneDataDirExits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := start(t, dir)
	addr := strings.TrimPrefix(first.base, "http://")

	err, out, took := serveOnce(t, dir)
	if err == nil {
		t.Fatalf("second kassa serve on %s exited 0:\n%s", dir, out)
	}
	want := fmt.Sprintf("kassa serve: another kassa serve (pid %d, http %s) is using %s; stop it or use another --data-dir", first.cmd.Process.Pid, addr, dir)
	if !strings.Contains(out, want) {
		t.Fatalf("second kassa serve said:\n%s\nwant the line:\n%s", out, want)
	}
	if took > 5*time.Second {
		t.Fatalf("second kassa serve took %v to give up, want at once", took)
	}

	if code, _ := first.get("/readyz"); code != 200 {
		t.Fatalf("first server /readyz = %d after the second tried", code)
	}
	var v struct{ ServerVersion string }
	first.graphql(`{ serverVersion }`, nil, &v)
	// Offline commands still run beside the server.
	if out := kassa(t, dir, "migrate", "status"); !strings.Contains(out, "applied") {
		t.Fatalf("migrate status beside the server: %s", out)
	}
	first.stop()

	again := start(t, dir)
	again.stop()
	for _, bad := range []string{"corrupt", "outdated"} {
		if strings.Contains(first.logs.String()+again.logs.String(), bad) {
			t.Fatalf("NATS store damaged:\n%s\n%s", first.logs.String(), again.logs.String())
		}
	}
}

// TestKilledServeDoesNotBlockTheNextStart: the lock dies with its holder,
// so a server killed without a chance to clean up (SIGKILL, a crash, a
// power cut) leaves nothing that keeps the next one from starting.
func TestKilledServeDoesNotBlockTheNextStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := start(t, dir)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-first.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("killed kassa did not exit")
	}
	again := start(t, dir)
	if code, _ := again.get("/readyz"); code != 200 {
		t.Fatalf("/readyz after restart = %d", code)
	}
	again.stop()
}

// TestSharedDataDirOnPostgresAndExternalNATS: with PostgreSQL and an
// external NATS nothing in the data directory belongs to one server, so
// instances scaled out on a shared directory (plugins, key file) all run.
func TestSharedDataDirOnPostgresAndExternalNATS(t *testing.T) {
	t.Parallel()
	dbURL := postgresURL(t)
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	dir := t.TempDir()
	kassa(t, dir, "migrate", "up", "--database-url", dbURL)
	flags := []string{"--database-url", dbURL, "--nats-url", ns.ClientURL()}
	one := start(t, dir, flags...)
	two := start(t, dir, flags...)
	for _, in := range []*instance{one, two} {
		var v struct{ ServerVersion string }
		in.graphql(`{ serverVersion }`, nil, &v)
	}
	two.stop()
	one.stop()
}
