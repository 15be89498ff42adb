package plugin

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// The test plugin, compiled once per test run (Vault's CompilePlugin idea):
// gatewayBin is version 1.0.0, gatewayBinV2 the same plugin as 1.1.0.
var gatewayBin, gatewayBinV2 string

// testpayBin is the reference sandbox gateway (plugins/testpay).
var (
	testpayBin string
)

const testID = "payment.hosttest"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kassa-plugin-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gatewayBin = filepath.Join(dir, "gateway")
	gatewayBinV2 = filepath.Join(dir, "gateway-v2")
	testpayBin = filepath.Join(dir, "testpay")
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for n, b := range []struct{ out, ldflags, pkg string }{
		{gatewayBin, "", "./testdata/gateway"},
		{gatewayBinV2, "-X main.version=1.1.0", "./testdata/gateway"},
		{testpayBin, "", "../../plugins/testpay"},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("go", "build", "-trimpath", "-ldflags", b.ldflags, "-o", b.out, b.pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[n] = fmt.Errorf("build test plugin: %v\n%s", err, out)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is one plugin host under test.
type env struct {
	svc  *Service
	db   *store.DB
	logs *syncBuffer
	opts Options
}

// newEnv builds a Service on db with fast timeouts; mod adjusts options.
func newEnv(t testing.TB, db *store.DB, mod ...func(*Options)) *env {
	t.Helper()
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	var out io.Writer = logs
	if os.Getenv("KASSA_TEST_LOG") != "" {
		out = io.MultiWriter(logs, os.Stderr)
	}
	data := t.TempDir()
	opts := Options{
		Dir: filepath.Join(data, "plugins"), DataDir: data, BaseURL: "http://shop.test",
		Secrets: box, Logger: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})),
		CallTimeout: 5 * time.Second, StartTimeout: 10 * time.Second,
		BackoffMin: 50 * time.Millisecond, BackoffMax: 2 * time.Second, HealthInterval: time.Hour,
	}
	for _, m := range mod {
		m(&opts)
	}
	svc, err := NewService(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &env{svc: svc, db: db, logs: logs, opts: opts}
}

func sqliteEnv(t testing.TB, mod ...func(*Options)) *env {
	t.Helper()
	return newEnv(t, storetest.NewSQLite(t), mod...)
}

// ctx is a staff context; the tests' Service allows everything.
func ctx() context.Context {
	return authz.WithSubject(context.Background(), authz.SystemSubject("test"))
}

// installEnabled installs the test plugin with valid settings and enables it.
func (e *env) installEnabled(t testing.TB, settings string) Plugin {
	t.Helper()
	if _, err := e.svc.Install(ctx(), gatewayBin, InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if settings == "" {
		settings = `{"mode":"sandbox"}`
	}
	if _, err := e.svc.UpdateSettings(ctx(), testID, []byte(settings)); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Enable(ctx(), testID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pid returns the process id of the running test plugin, or 0.
func (e *env) pid() int {
	i := e.svc.existing(testID)
	if i == nil {
		return 0
	}
	if p := i.running(); p != nil {
		return p.PID()
	}
	return 0
}
