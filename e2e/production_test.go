package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProductionMode: KASSA_ENV=production serves no GraphiQL, answers no
// anonymous introspection and writes no buyer's sign-in token to the log.
func TestProductionMode(t *testing.T) {
	t.Parallel()
	in := start(t, t.TempDir(), "--env", "production")
	defer in.stop()

	req, _ := http.NewRequest(http.MethodGet, in.base+"/graphql", nil)
	req.Header.Set("Accept", "text/html")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		t.Fatal("GraphiQL is served in production")
	}
	var intro struct {
		Schema *struct{ QueryType struct{ Name string } } `json:"__schema"`
	}
	in.graphql(`{ __schema { queryType { name } } }`, nil, &intro)
	if intro.Schema != nil {
		t.Fatal("anonymous introspection answered in production")
	}
	var reg struct {
		CustomerRegister struct{ UserErrors []struct{ Code string } }
	}
	in.graphql(`mutation { customerRegister(input: {email: "prod@example.com", password: "a long enough passphrase"}) { userErrors { code } } }`, nil, &reg)
	if len(reg.CustomerRegister.UserErrors) > 0 {
		t.Fatalf("register: %+v", reg.CustomerRegister.UserErrors)
	}
	// The owner setup token is printed for the person starting the shop;
	// a buyer's verification token must never be logged.
	for _, line := range strings.Split(in.logs.String(), "\n") {
		if strings.Contains(line, "level=") && strings.Contains(line, "ktok_") {
			t.Fatalf("a token reached the log in production: %s", line)
		}
	}
}

// TestRestoreWithoutTheSecretKey restores a SQLite backup into a new data
// directory but forgets secret.key: Kassa refuses to start (instead of
// generating a key that cannot open the plugins' secrets), names the file
// and the way out, and leaves no key behind; with the key put back, the
// restored shop starts.
func TestRestoreWithoutTheSecretKey(t *testing.T) {
	t.Parallel()
	orig, restored := t.TempDir(), t.TempDir()
	kassa(t, orig, "plugin", "install", buildPlugin(t, t.TempDir(), "testpay"))
	kassa(t, orig, "plugin", "settings", "payment.testpay", "--set", `{"webhook_secret":"whsec-restore-test-0123"}`)
	kassa(t, orig, "plugin", "enable", "payment.testpay")
	db, err := os.ReadFile(filepath.Join(orig, "kassa.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "kassa.db"), db, 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(filepath.Join(orig, "plugins", "payment.testpay"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(restored, "plugins"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "plugins", "payment.testpay"), bin, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a start that succeeds serves until killed
	defer cancel()
	cmd := exec.CommandContext(ctx, kassaBin, "serve", "--http-addr", freeAddr(t), "--data-dir", restored)
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "secret.key does not exist") || !strings.Contains(string(out), "restore secret.key") {
		t.Fatalf("serve without the key: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(restored, "secret.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused start left a key behind: %v", err)
	}

	key, err := os.ReadFile(filepath.Join(orig, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "secret.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	in := start(t, restored)
	// The plugin starts only if its secret opens with the restored key.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(kassa(t, restored, "plugin", "list"), "SERVING") {
		if time.Now().After(deadline) {
			t.Fatalf("testpay not serving on the restored shop:\n%s\n%s", kassa(t, restored, "plugin", "list"), in.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	in.stop()
}
