package resolver_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
)

// TestPluginSettingsAttack reproduces item 3 of issue 7 through GraphQL
// with the default roles: the developer (plugin:write, no customer:read)
// pointed notify.webhook at a URL of its own and received buyers' data,
// and anyone could point it at loopback or private addresses (SSRF).
func TestPluginSettingsAttack(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "notify-webhook")
	cmd := exec.Command("go", "build", "-o", bin, "../../plugins/notify-webhook")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build notify-webhook: %v\n%s", err, out)
	}
	// The attacker's receiver; a loopback test server, only ever reached
	// when the owner allowed private networks.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	box, _ := secret.New(key)

	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		az, err := authz.NewEnforcer(ctx, db, authz.Options{ReloadEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(az.Close)
		staff := func(role string) context.Context {
			return authz.WithSubject(ctx, authz.Subject{Kind: authz.KindStaff, ID: "stf_" + role, Roles: []string{role}})
		}
		// Both servers share the plugin directory, like restarts of one shop.
		pluginDir, dataDir := filepath.Join(t.TempDir(), "plugins"), t.TempDir()
		newServer := func(allowPrivate bool) (*graphql.Server, *plugin.Service) {
			svc, err := plugin.NewService(db, plugin.Options{
				Dir: pluginDir, DataDir: dataDir, Authz: az, Secrets: box,
				AllowPrivateNetworks: allowPrivate,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = svc.Close(context.Background()) })
			srv, err := graphql.New(resolver.Services{Plugins: svc}, graphql.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return srv, svc
		}
		srv, svc := newServer(false)
		if _, err := svc.Install(authz.WithSubject(ctx, authz.SystemSubject("test")), bin, plugin.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
		const update = `mutation($s: JSON!) { pluginSettingsUpdate(input: {id: "notify.webhook", settings: $s}) {
			plugin { settings } userErrors { field code message } } }`
		settings := func(url string) map[string]any {
			return map[string]any{"s": map[string]any{
				"endpoints":       []any{map[string]any{"name": "mine", "url": url}},
				"signing_secrets": map[string]any{"mine": "whsec_attacker_0123456789"},
			}}
		}
		unchanged := func(t *testing.T) {
			t.Helper()
			p, err := svc.Get(staff("owner"), "notify.webhook")
			if err != nil {
				t.Fatal(err)
			}
			if string(p.Settings) != "{}" || p.Enabled {
				t.Fatalf("the plugin changed: settings %s enabled %v", p.Settings, p.Enabled)
			}
		}

		tests := []struct {
			name, role, url string
			wantCode        string // top-level error code
			wantMessage     string
			wantUserError   string // userErrors code at input.settings.endpoints.0.url
		}{
			{name: "developer to own public URL", role: "developer", url: "https://attacker.example/collect",
				wantCode: "FORBIDDEN", wantMessage: "customer:read"},
			{name: "developer to loopback", role: "developer", url: receiver.URL + "/",
				wantCode: "FORBIDDEN", wantMessage: "customer:read"},
			{name: "manager without plugin:write", role: "manager", url: "https://erp.example/in",
				wantCode: "FORBIDDEN", wantMessage: "plugin"},
			{name: "owner to loopback", role: "owner", url: receiver.URL + "/", wantUserError: plugin.CodePrivateNetwork},
			{name: "owner to metadata", role: "owner", url: "http://169.254.169.254/latest/meta-data/", wantUserError: plugin.CodePrivateNetwork},
			{name: "owner to decimal loopback", role: "owner", url: "http://2130706433/", wantUserError: plugin.CodePrivateNetwork},
			{name: "owner to octal loopback", role: "owner", url: "http://0177.0.0.1/", wantUserError: plugin.CodePrivateNetwork},
			{name: "owner to IPv4-mapped private", role: "owner", url: "http://[::ffff:10.0.0.1]/", wantUserError: plugin.CodePrivateNetwork},
			{name: "owner to localhost", role: "owner", url: "http://localhost:8080/", wantUserError: plugin.CodePrivateNetwork},
			{name: "owner, not a URL", role: "owner", url: "gopher://erp.example/", wantUserError: plugin.CodeInvalidURL},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := srv.Exec(staff(tt.role), graphql.Request{Query: update, Variables: settings(tt.url)})
				r := decode(t, res)
				switch {
				case tt.wantCode != "":
					if len(res.Errors) != 1 || res.Errors[0].Extensions["code"] != tt.wantCode || !strings.Contains(res.Errors[0].Message, tt.wantMessage) {
						t.Fatalf("errors %+v, want %s naming %q", res.Errors, tt.wantCode, tt.wantMessage)
					}
				default:
					if len(res.Errors) != 0 || testkit.Dig(r, "pluginSettingsUpdate", "plugin") != nil ||
						testkit.Dig(r, "pluginSettingsUpdate", "userErrors", 0, "code") != tt.wantUserError ||
						strings.Join(toStrings(testkit.Dig(r, "pluginSettingsUpdate", "userErrors", 0, "field")), ".") != "input.settings.endpoints.0.url" {
						t.Fatalf("got %s %v, want userError %s on the URL", res.Data, res.Errors, tt.wantUserError)
					}
				}
				unchanged(t)
			})
		}

		// The owner's explicit switch lets the same loopback URL through,
		// and the plugin, told at Configure, connects to it.
		t.Run("owner allowed private networks", func(t *testing.T) {
			srv, _ := newServer(true)
			res := srv.Exec(staff("owner"), graphql.Request{Query: update, Variables: settings(receiver.URL + "/")})
			if r := decode(t, res); len(res.Errors) != 0 || len(toStrings(testkit.Dig(r, "pluginSettingsUpdate", "userErrors"))) != 0 {
				t.Fatalf("allowed: %s %+v", res.Data, res.Errors[0])
			}
			res = srv.Exec(staff("owner"), graphql.Request{Query: `mutation { pluginEnable(input: {id: "notify.webhook"}) { plugin { enabled } userErrors { code message } } }
				`})
			if r := decode(t, res); testkit.Dig(r, "pluginEnable", "plugin", "enabled") != true {
				t.Fatalf("enable: %s %v", res.Data, res.Errors)
			}
			res = srv.Exec(staff("owner"), graphql.Request{Query: `mutation { pluginHealthCheck(input: {id: "notify.webhook"}) { health { status message } userErrors { code } } }`})
			if r := decode(t, res); testkit.Dig(r, "pluginHealthCheck", "health", "status") != "SERVING" {
				t.Fatalf("the plugin refused the allowed settings: %s %v", res.Data, res.Errors)
			}
			// Disabling narrows what flows: plugin:write alone suffices.
			res = srv.Exec(staff("developer"), graphql.Request{Query: `mutation { pluginDisable(input: {id: "notify.webhook"}) { plugin { enabled } userErrors { code } } }`})
			if r := decode(t, res); testkit.Dig(r, "pluginDisable", "plugin", "enabled") != false {
				t.Fatalf("developer disable: %s %v", res.Data, res.Errors)
			}
		})
	})
}

func decode(t *testing.T, res *graphql.Response) map[string]any {
	t.Helper()
	var m map[string]any
	if len(res.Data) > 0 && string(res.Data) != "null" {
		if err := json.Unmarshal(res.Data, &m); err != nil {
			t.Fatal(err)
		}
	}
	return m
}
