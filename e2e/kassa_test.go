package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/store"
)

// kassaBin is the binary built once for the whole package.
var kassaBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kassa-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kassaBin = filepath.Join(dir, "kassa")
	build := exec.Command("go", "build", "-o", kassaBin, "../cmd/kassa")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build kassa:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// instance is a running `kassa serve`.
type instance struct {
	t       *testing.T
	cmd     *exec.Cmd
	base    string
	dataDir string
	logs    *bytes.Buffer
	exited  chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// kassa runs a kassa command to completion and returns its output.
func kassa(t *testing.T, dataDir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(kassaBin, args...)
	cmd.Env = append(os.Environ(), "KASSA_DATA_DIR="+dataDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kassa %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start runs `kassa serve` on a free port and waits for /readyz.
func start(t *testing.T, dataDir string, extra ...string) *instance {
	t.Helper()
	return startAt(t, freeAddr(t), dataDir, extra...)
}

// startAt is start on a given address, so that a restarted instance is
// reached where gateways were told to send their notifications. Kassa
// runs in a process group of its own with its plugins: killing the group
// is a crash of the machine.
func startAt(t *testing.T, addr, dataDir string, extra ...string) *instance {
	t.Helper()
	args := append([]string{"serve", "--http-addr", addr, "--data-dir", dataDir}, extra...)
	cmd := exec.Command(kassaBin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{t: t, cmd: cmd, base: "http://" + addr, dataDir: dataDir, logs: logs, exited: make(chan error, 1)}
	go func() { in.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-in.exited
		}
		if t.Failed() {
			t.Logf("kassa logs:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-in.exited:
			t.Fatalf("kassa exited before ready: %v\n%s", err, logs.String())
		default:
		}
		if res, err := http.Get(in.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return in
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("kassa not ready in 60s\n%s", logs.String())
	return nil
}

// crash kills Kassa and its plugins at once (SIGKILL to the process
// group): nothing is flushed, nothing shuts down.
func (in *instance) crash() {
	in.t.Helper()
	if err := syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		in.t.Fatal(err)
	}
	<-in.exited
}

// stop sends SIGTERM and waits for a clean exit.
func (in *instance) stop() {
	in.t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		in.t.Fatal(err)
	}
	select {
	case err := <-in.exited:
		if err != nil {
			in.t.Fatalf("kassa exited with %v after SIGTERM\n%s", err, in.logs.String())
		}
	case <-time.After(30 * time.Second):
		in.t.Fatal("kassa did not stop within 30s of SIGTERM")
	}
}

// createOwner runs `kassa user create-owner` on the data directory dir,
// the password on standard input.
func createOwner(t *testing.T, dir, email, password string) {
	t.Helper()
	create := exec.Command(kassaBin, "user", "create-owner", "--email", email, "--password-stdin")
	create.Env = append(os.Environ(), "KASSA_DATA_DIR="+dir)
	create.Stdin = strings.NewReader(password + "\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("create-owner: %v\n%s", err, out)
	}
}

func (in *instance) get(path string) (int, string) {
	in.t.Helper()
	res, err := http.Get(in.base + path)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// graphql posts an operation and decodes data into out.
func (in *instance) graphql(query string, vars map[string]any, out any) {
	in.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	res, err := http.Post(in.base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Data   json.RawMessage
		Errors []map[string]any
	}
	if err := json.NewDecoder(res.Body).Decode(&env); err != nil {
		in.t.Fatal(err)
	}
	if len(env.Errors) > 0 {
		in.t.Fatalf("graphql errors: %v", env.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			in.t.Fatal(err)
		}
	}
}

func TestServeHealthMetricsAndGracefulStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const metricsOwner, metricsPassword = "owner@example.com", "correct horse battery staple"
	createOwner(t, dir, metricsOwner, metricsPassword)
	in := start(t, dir)

	if code, body := in.get("/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	var v struct{ ServerVersion string }
	in.graphql(`{ serverVersion }`, nil, &v)
	if v.ServerVersion == "" {
		t.Fatal("empty serverVersion")
	}
	// The figures are the owner's: refused to anyone else, read with a
	// staff bearer token as Prometheus would with an API key.
	if code, body := in.get("/metrics"); code != http.StatusUnauthorized || strings.Contains(body, "kassa_outbox") {
		t.Errorf("anonymous /metrics = %d %.200s", code, body)
	}
	token := in.staffToken(metricsOwner, metricsPassword)
	req, _ := http.NewRequest(http.MethodGet, in.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	code, metrics := res.StatusCode, string(b)
	for _, name := range []string{"kassa_http_request_duration_seconds", "kassa_graphql_operation_duration_seconds", "go_sql_max_open_connections", "kassa_outbox"} {
		if code != 200 || !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	resp, err := http.Get(in.base + "/graphql")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if rid := resp.Header.Get("X-Request-Id"); rid == "" {
		t.Error("no X-Request-Id header")
	}
	// A write right before SIGTERM leaves events in the outbox; the
	// graceful stop publishes them before exiting.
	in.graphql(`mutation { customerRegister(input: {email: "late@example.com", password: "a long enough passphrase"}) { userErrors { code } } }`, nil, nil)
	in.stop()
	db, err := store.Open(context.Background(), filepath.Join(dir, "kassa.db"), store.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	var total, pending int
	if err := db.NewRaw("SELECT count(*), count(*) - count(sent_at) FROM outbox_events").Scan(context.Background(), &total, &pending); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if total == 0 || pending != 0 {
		t.Fatalf("after SIGTERM the outbox holds %d events, %d not published", total, pending)
	}

	// A second start on the same data directory finds the schema in place.
	again := start(t, dir)
	again.stop()
	if _, err := os.Stat(filepath.Join(dir, "kassa.db")); err != nil {
		t.Fatalf("no SQLite database in the data dir: %v", err)
	}
}

func TestMigrateCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if out := kassa(t, dir, "migrate", "status"); !strings.Contains(out, "pending") {
		t.Fatalf("fresh database status:\n%s", out)
	}
	if out := kassa(t, dir, "migrate", "up"); !strings.Contains(out, "applied") {
		t.Fatalf("migrate up:\n%s", out)
	}
	if out := kassa(t, dir, "migrate", "up"); !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate up:\n%s", out)
	}
	// down asks for confirmation, then rolls back one migration per call.
	refuse := exec.Command(kassaBin, "migrate", "down", "--data-dir", dir)
	if out, err := refuse.CombinedOutput(); err == nil || !strings.Contains(string(out), "--yes") {
		t.Fatalf("migrate down without --yes: %v\n%s", err, out)
	}
	before := strings.Count(kassa(t, dir, "migrate", "status"), "applied ")
	if out := kassa(t, dir, "migrate", "down", "--yes"); strings.Count(out, "rolled back") != 1 {
		t.Fatalf("migrate down --yes:\n%s", out)
	}
	if after := strings.Count(kassa(t, dir, "migrate", "status"), "applied "); after != before-1 {
		t.Fatalf("applied migrations went from %d to %d after one down", before, after)
	}
}

func TestSeedDemoIsIdempotentAndServed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	kassa(t, dir, "seed", "demo")
	kassa(t, dir, "seed", "demo")
	in := start(t, dir)
	defer in.stop()

	var res struct {
		Products struct {
			Edges []struct {
				Node struct {
					Handle   string
					Variants []struct {
						SKU               string `json:"sku"`
						Price             *struct{ Amount, CurrencyCode string }
						AvailableQuantity int
					}
				}
			}
			PageInfo struct{ HasNextPage bool }
		}
	}
	in.graphql(`query($first: Int!) { products(first: $first, currency: "CNY") { edges { node { handle variants { sku price { amount currencyCode } availableQuantity } } } pageInfo { hasNextPage } } }`,
		map[string]any{"first": 100}, &res)
	n := len(res.Products.Edges)
	if n < 50 || res.Products.PageInfo.HasNextPage {
		t.Fatalf("demo shop has %d products (hasNext %v), want 50+ on one page of 100", n, res.Products.PageInfo.HasNextPage)
	}
	seen := map[string]bool{}
	for _, e := range res.Products.Edges {
		if seen[e.Node.Handle] {
			t.Fatalf("product %s seeded twice", e.Node.Handle)
		}
		seen[e.Node.Handle] = true
		if len(e.Node.Variants) == 0 || e.Node.Variants[0].Price == nil || e.Node.Variants[0].Price.CurrencyCode != "CNY" {
			t.Fatalf("product %s lacks variants with CNY prices", e.Node.Handle)
		}
	}
}
