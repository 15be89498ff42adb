package resolver_test

import (
	"context"
	"crypto/rand"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
)

// pluginStaffOnly lets staff do everything (plugin:write and the data a
// gateway receives) and nobody else.
type pluginStaffOnly struct{}

func (pluginStaffOnly) Can(ctx context.Context, _ authz.Object, _ authz.Action) error {
	if s := authz.SubjectFrom(ctx); s.Kind == authz.KindStaff || s.IsSystem() {
		return nil
	}
	return errs.Forbidden("FORBIDDEN", "not allowed")
}

const pluginSecret = "sk_graphql_NEVER_RETURNED"

// TestPluginGraphQL runs the plugin operations against a real plugin
// process: listing, settings with schema errors, a secret that is never
// returned, enable, disable and permissions.
func TestPluginGraphQL(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "gateway")
	cmd := exec.Command("go", "build", "-o", bin, "../../core/plugin/testdata/gateway")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build test plugin: %v\n%s", err, out)
	}
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	box, _ := secret.New(key)
	svc, err := plugin.NewService(storetest.NewSQLite(t), plugin.Options{
		Dir: filepath.Join(t.TempDir(), "plugins"), DataDir: t.TempDir(), Secrets: box, Authz: pluginStaffOnly{},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	staff := authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: "stf_1", Roles: []string{"developer"}})
	if _, err := svc.Install(authz.WithSubject(context.Background(), authz.SystemSubject("test")), bin, plugin.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	srv, err := graphql.New(resolver.Services{Plugins: svc}, graphql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all := []string{}
	exec := func(ctx context.Context, q string, vars map[string]any) testkit.Result {
		r := testkit.ExecServer(t, ctx, srv, q, vars)
		all = append(all, r.Raw)
		return r
	}
	const fields = `id kind version enabled sha256 settings configSchema capabilities
		secretFields { name isSet } health { status message checkedAt }`
	const update = `mutation($s: JSON!) { pluginSettingsUpdate(input: {id: "payment.hosttest", settings: $s}) {
		plugin { ` + fields + ` } userErrors { field message code } } }`

	r := exec(staff, `{ plugins { `+fields+` } }`, nil)
	list := testkit.Dig(r.Data, "plugins").([]any)
	if len(list) != 1 || testkit.Dig(r.Data, "plugins", 0, "kind") != "PAYMENT" || testkit.Dig(r.Data, "plugins", 0, "enabled") != false {
		t.Fatalf("plugins = %s", r.Raw)
	}
	if testkit.Dig(r.Data, "plugins", 0, "secretFields", 0, "isSet") != false || testkit.Dig(r.Data, "plugins", 0, "configSchema", "type") != "object" {
		t.Fatalf("plugins = %s", r.Raw)
	}

	// Wrong type: the schema's message, the field path, nothing changed.
	r = exec(staff, update, map[string]any{"s": map[string]any{"mode": "sandbox", "max_amount": "ten"}})
	if testkit.Dig(r.Data, "pluginSettingsUpdate", "plugin") != nil ||
		testkit.Dig(r.Data, "pluginSettingsUpdate", "userErrors", 0, "code") != plugin.CodeInvalidSettings ||
		!strings.Contains(testkit.Dig(r.Data, "pluginSettingsUpdate", "userErrors", 0, "message").(string), "want integer") ||
		strings.Join(toStrings(testkit.Dig(r.Data, "pluginSettingsUpdate", "userErrors", 0, "field")), ".") != "input.settings.max_amount" {
		t.Fatalf("wrong type: %s", r.Raw)
	}

	// A secret is accepted, shown as set, never returned.
	r = exec(staff, update, map[string]any{"s": map[string]any{"mode": "sandbox", "api_key": pluginSecret}})
	if testkit.Dig(r.Data, "pluginSettingsUpdate", "plugin", "secretFields", 0, "isSet") != true ||
		testkit.Dig(r.Data, "pluginSettingsUpdate", "plugin", "settings", "mode") != "sandbox" {
		t.Fatalf("secret update: %s", r.Raw)
	}
	r = exec(staff, `mutation { pluginEnable(input: {id: "payment.hosttest"}) { plugin { enabled } userErrors { code } } }`, nil)
	if testkit.Dig(r.Data, "pluginEnable", "plugin", "enabled") != true {
		t.Fatalf("enable: %s", r.Raw)
	}
	r = exec(staff, `mutation { pluginHealthCheck(input: {id: "payment.hosttest"}) { health { status checkedAt } userErrors { code } } }`, nil)
	if testkit.Dig(r.Data, "pluginHealthCheck", "health", "status") != "SERVING" {
		t.Fatalf("health: %s", r.Raw)
	}
	r = exec(staff, `{ plugin(id: "payment.hosttest") { `+fields+` } missing: plugin(id: "payment.none") { id } }`, nil)
	if testkit.Dig(r.Data, "plugin", "health", "status") != "SERVING" || testkit.Dig(r.Data, "missing") != nil {
		t.Fatalf("plugin: %s", r.Raw)
	}
	r = exec(staff, `mutation { pluginDisable(input: {id: "payment.hosttest"}) { plugin { enabled health { status } } userErrors { code } } }`, nil)
	if testkit.Dig(r.Data, "pluginDisable", "plugin", "enabled") != false || testkit.Dig(r.Data, "pluginDisable", "plugin", "health", "status") != "STOPPED" {
		t.Fatalf("disable: %s", r.Raw)
	}
	for _, raw := range all {
		if strings.Contains(raw, pluginSecret) {
			t.Fatalf("a response contains the secret: %s", raw)
		}
	}

	// Without the plugin permission: top-level FORBIDDEN, nothing changes.
	buyer := authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindCustomer, ID: "cus_1", Roles: []string{"customer"}})
	for _, q := range []string{
		`{ plugins { id } }`,
		`mutation { pluginEnable(input: {id: "payment.hosttest"}) { userErrors { code } } }`,
	} {
		if r := testkit.ExecServer(t, buyer, srv, q, nil); len(r.Codes) != 1 || r.Codes[0] != "FORBIDDEN" {
			t.Errorf("%s as a buyer: codes %v", q, r.Codes)
		}
	}
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, len(l))
	for i, x := range l {
		out[i], _ = x.(string)
	}
	return out
}
