package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildPlugin compiles a reference plugin into dir.
func buildPlugin(t *testing.T, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, "../plugins/"+name)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", name, err, b)
	}
	return out
}

// staffToken signs the owner in and returns a bearer token.
func (in *instance) staffToken(email, password string) string {
	in.t.Helper()
	var res struct {
		StaffLogin struct {
			Session    *struct{ Token string }
			UserErrors []struct{ Code string }
		}
	}
	in.graphql(`mutation($e: String!, $p: String!) { staffLogin(input: {email: $e, password: $p, returnToken: true}) { session { token } userErrors { code } } }`,
		map[string]any{"e": email, "p": password}, &res)
	if res.StaffLogin.Session == nil {
		in.t.Fatalf("staff login failed: %+v", res.StaffLogin.UserErrors)
	}
	return res.StaffLogin.Session.Token
}

// graphqlAs posts an operation with a bearer token and returns the raw
// response body.
func (in *instance) graphqlAs(token, query string) string {
	in.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, in.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return b.String()
}

// TestPluginsInstalledEnabledAndGuarded is the shop owner's path of the
// plugin platform with the built binaries: install the reference gateways,
// create the owner, seed the demo (which configures and enables them),
// serve, see them healthy through GraphQL, and have a tampered binary
// caught by `kassa plugin verify`.
func TestPluginsInstalledEnabledAndGuarded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bins := t.TempDir()
	for _, name := range []string{"testpay", "banktransfer"} {
		out := kassa(t, dir, "plugin", "install", buildPlugin(t, bins, name))
		if !strings.Contains(out, "payment."+name) {
			t.Fatalf("install %s printed:\n%s", name, out)
		}
	}
	if out := kassa(t, dir, "plugin", "list"); !strings.Contains(out, "payment.testpay") || !strings.Contains(out, "payment.banktransfer") {
		t.Fatalf("plugin list:\n%s", out)
	}
	kassa(t, dir, "plugin", "verify")

	const email, password = "owner@example.com", "correct horse battery staple"
	createOwner(t, dir, email, password)
	kassa(t, dir, "seed", "demo")

	in := start(t, dir)
	token := in.staffToken(email, password)
	body := in.graphqlAs(token, `{ plugins { id enabled } }`)
	for _, want := range []string{`{"id":"payment.testpay","enabled":true}`, `{"id":"payment.banktransfer","enabled":true}`} {
		if !strings.Contains(body, want) {
			t.Fatalf("plugins query lacks %s:\n%s", want, body)
		}
	}
	if body := in.graphqlAs(token, `mutation { pluginHealthCheck(input: {id: "payment.testpay"}) { userErrors { code } } }`); strings.Contains(body, `"code"`) || strings.Contains(body, "errors") {
		t.Fatalf("health check of testpay failed:\n%s", body)
	}
	// Anonymous callers may not see plugins at all.
	var anon struct {
		Errors []struct{ Extensions map[string]any }
	}
	raw := in.graphqlAs("", `{ plugins { id } }`)
	_ = json.Unmarshal([]byte(raw), &anon)
	if len(anon.Errors) == 0 || anon.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
		t.Fatalf("anonymous plugins query not refused:\n%s", raw)
	}
	in.stop()

	// A replaced binary is caught.
	installed := filepath.Join(dir, "plugins", "payment.testpay")
	f, err := os.OpenFile(installed, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open installed plugin: %v", err)
	}
	_, _ = f.WriteString("tampered")
	f.Close()
	cmd := exec.Command(kassaBin, "plugin", "verify")
	cmd.Env = append(os.Environ(), "KASSA_DATA_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "payment.testpay") {
		t.Fatalf("verify accepted a tampered binary (err %v):\n%s", err, out)
	}
}

// TestPluginAutoInstall: an image that ships its plugins in the plugin
// directory gets them installed (and pinned) at the first start.
func TestPluginAutoInstall(t *testing.T) {
	t.Parallel()
	dir, pluginDir := t.TempDir(), t.TempDir()
	buildPlugin(t, pluginDir, "banktransfer")
	in := start(t, dir, "--plugin-dir", pluginDir, "--plugin-autoinstall")
	in.stop()
	out := kassa(t, dir, "plugin", "list", "--plugin-dir", pluginDir)
	if !strings.Contains(out, "payment.banktransfer") {
		t.Fatalf("plugin not installed at start:\n%s\nlogs:\n%s", out, in.logs.String())
	}
	kassa(t, dir, "plugin", "verify", "--plugin-dir", pluginDir)
}
