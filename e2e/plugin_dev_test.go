package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a log buffer written by a process and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// pluginSource copies testpay's sources into a module of their own, as a
// third-party author's plugin is: it needs the SDK only (through the
// replace recipe of docs/plugins.md, with the SDK's requirements so that
// nothing is fetched).
func pluginSource(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "devpay")
	if err := os.MkdirAll(src, 0o750); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../plugins/testpay/*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, filepath.Base(f)), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	sdk, err := filepath.Abs("../plugins/sdk")
	if err != nil {
		t.Fatal(err)
	}
	sdkMod, err := os.ReadFile(filepath.Join(sdk, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var mod strings.Builder
	mod.WriteString("module example.com/devpay\n\ngo 1.26.0\n\nrequire github.com/kassahq/kassa/plugins/sdk v0.0.0\n\n")
	for _, block := range regexp.MustCompile(`(?s)require \(.*?\)`).FindAllString(string(sdkMod), -1) {
		mod.WriteString(block + "\n\n")
	}
	mod.WriteString("replace github.com/kassahq/kassa/plugins/sdk => " + sdk + "\n")
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(mod.String()), 0o640); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(sdk, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.sum"), sum, 0o640); err != nil {
		t.Fatal(err)
	}
	return src
}

// waitLog waits until the process output holds want.
func waitLog(t *testing.T, logs *lockedBuffer, exited <-chan error, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(logs.String(), want) {
		select {
		case err := <-exited:
			t.Fatalf("kassa plugin dev exited (%v) before printing %q:\n%s", err, want, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s:\n%s", want, within, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPluginDevRebuildsAndTriggers is a plugin author's loop: `kassa plugin
// dev` builds a copy of testpay and serves a shop with it; a broken edit is
// reported while the shop keeps serving; the fixed edit (a new version) is
// rebuilt, reinstalled and visible in `kassa plugin list`; and `kassa
// plugin trigger payment.succeeded` turns a payment waiting for the buyer
// into a paid order through the shop's webhook endpoint.
func TestPluginDevRebuildsAndTriggers(t *testing.T) {
	t.Parallel()
	dir, src, addr := t.TempDir(), pluginSource(t), freeAddr(t)
	createOwner(t, dir, crashOwner, crashPassword)
	kassa(t, dir, "seed", "demo")

	cmd := exec.Command(kassaBin, "plugin", "dev", src, "--data-dir", dir, "--addr", addr, "--poll", "200ms",
		"--settings", `{"webhook_secret":"whsec_dev_0123456789abcdef"}`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("kassa plugin dev output:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	waitLog(t, logs, exited, "Watching "+src, 3*time.Minute)
	for _, want := range []string{"payment.testpay 1.0.0 is installed from " + src, "shop        " + base + "/",
		"webhooks    " + base + "/webhooks/payment.testpay", "kassa plugin trigger payment.succeeded --plugin payment.testpay"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the start-up output lacks %q", want)
		}
	}
	if res, err := http.Get(base + "/readyz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the development shop is not ready: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if out := kassa(t, dir, "plugin", "list"); !regexp.MustCompile(`payment\.testpay\s+payment\s+1\.0\.0\s+true`).MatchString(out) {
		t.Fatalf("plugin list before the edit:\n%s", out)
	}

	// A broken edit: the error is printed, the shop keeps serving.
	broken := filepath.Join(src, "broken.go")
	if err := os.WriteFile(broken, []byte("package main\n\nfunc broken() { undefinedThing() }\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, exited, "build failed (the previous build keeps running)", 2*time.Minute)
	if !strings.Contains(logs.String(), "undefinedThing") {
		t.Errorf("the compiler's message is not shown")
	}
	if res, err := http.Get(base + "/readyz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the shop stopped serving after a failed build: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	// The fix, with a new version: rebuilt, reinstalled, restarted.
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	gateway := filepath.Join(src, "gateway.go")
	b, err := os.ReadFile(gateway)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gateway, bytes.Replace(b, []byte(`const Version = "1.0.0"`), []byte(`const Version = "1.0.1-dev"`), 1), 0o640); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, exited, "reinstalled payment.testpay 1.0.1-dev", 2*time.Minute)
	waitLog(t, logs, exited, "restarted: SERVING", 30*time.Second)
	if out := kassa(t, dir, "plugin", "list"); !regexp.MustCompile(`payment\.testpay\s+payment\s+1\.0\.1-dev\s+true`).MatchString(out) {
		t.Fatalf("plugin list after the edit:\n%s", out)
	}

	// A payment waiting for the buyer on testpay's page, paid by a
	// triggered notification.
	shop := &paymentShop{t: t, dir: dir, addr: addr, in: &instance{t: t, base: base, dataDir: dir}}
	shop.staff = shop.in.staffToken(crashOwner, crashPassword)
	o := shop.placeOrder()
	body, err := shop.pay(o, "redirect")
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Data struct {
			PaymentCreate struct {
				Payment    *struct{ ID, State string }
				UserErrors []struct{ Code, Message string }
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || created.Data.PaymentCreate.Payment == nil {
		t.Fatalf("paymentCreate: %v\n%s", err, body)
	}
	pay := created.Data.PaymentCreate.Payment
	if m := shop.money(o); m.PaymentStatus == "PAID" {
		t.Fatalf("the order is paid before the notification: %+v", m)
	}

	trigger := exec.Command(kassaBin, "plugin", "trigger", "payment.succeeded", "--plugin", "payment.testpay",
		"--payment", pay.ID, "--data-dir", dir, "--http-addr", addr)
	out, err := trigger.CombinedOutput()
	if err != nil {
		t.Fatalf("kassa plugin trigger: %v\n%s", err, out)
	}
	for _, want := range []string{"payment.testpay signed a payment.succeeded notification for " + pay.ID,
		"POST " + base + "/webhooks/payment.testpay", "shop answered 200 OK", "-> CAPTURED"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("trigger output lacks %q:\n%s", want, out)
		}
	}
	paidOnce(t, shop.money(o))

	// A refund notification without its refund is a usage error; nothing
	// is posted.
	bad := exec.Command(kassaBin, "plugin", "trigger", "refund.succeeded", "--payment", pay.ID, "--data-dir", dir, "--http-addr", addr)
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "--refund") {
		t.Errorf("refund trigger without --refund: %v\n%s", err, out)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("kassa plugin dev exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("kassa plugin dev did not stop within 30s of SIGTERM")
	}
}
