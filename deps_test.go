package kassa_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/kassahq/kassa"

// pkg is the part of `go list -json` the rules look at.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// domains are the bounded contexts of core (DESIGN.md, Layout).
var domains = map[string]bool{
	"catalog": true, "cart": true, "order": true, "payment": true, "promotion": true,
	"account": true, "aftersales": true, "invoice": true, "notify": true,
	"shop": true, "shipping": true, "tax": true,
}

// rel returns the path of p inside the module, or "" for outside packages.
func rel(p string) string {
	if p == module {
		return "."
	}
	r, ok := strings.CutPrefix(p, module+"/")
	if !ok {
		return ""
	}
	return r
}

// area names the layer a package belongs to: "cmd", "app", "kit",
// "money", "store", "events", "authz", "transition", "worker", "plugin", "testkit",
// "domain:<name>", "sdk", "plugins", "httpauth", "graphql", "storefront", or "other".
func area(p string) string {
	r := rel(p)
	parts := strings.Split(r, "/")
	switch {
	case r == "":
		return "external"
	case parts[0] == "cmd":
		return "cmd"
	case parts[0] == "plugins" && len(parts) > 1 && parts[1] == "sdk":
		return "sdk"
	case parts[0] == "plugins":
		return "plugins"
	case parts[0] == "core" && len(parts) > 1:
		if domains[parts[1]] {
			return "domain:" + parts[1]
		}
		return parts[1]
	case parts[0] == "httpauth":
		return "httpauth"
	case parts[0] == "graphql", parts[0] == "storefront", parts[0] == "admin", parts[0] == "migrations":
		return parts[0]
	}
	return "other"
}

// allowed says whether a package of area from may import a kassa package
// of area to (directly). DESIGN.md, "Who may import whom".
func allowed(from, to string) bool {
	if from == to && from != "plugins" { // each plugin is a program of its own: see samePlugin
		return true
	}
	leaf := map[string]bool{"kit": true}
	switch {
	case from == "kit":
		return false
	case from == "money":
		return leaf[to]
	case from == "pricing":
		// The shape of an order's money (totals, adjustments): a value
		// package over money that carts, orders and promotions share.
		return leaf[to] || to == "money"
	case from == "store":
		return leaf[to] || to == "migrations"
	case from == "events":
		return leaf[to] || to == "store"
	case from == "authz":
		return leaf[to] || to == "store" || to == "events"
	case from == "transition", from == "worker", from == "idempotency":
		// Platform kits the domains build on: state machines, the
		// worker lifecycle with its claims and leases, idempotency keys.
		return leaf[to] || to == "store" || to == "events" || to == "authz"
	case from == "delivery":
		// The journal of event consumers: deliveries, dead letters kept
		// sealed, replays.
		return leaf[to] || to == "store" || to == "events" || to == "authz" || to == "secret"
	case strings.HasPrefix(from, "domain:"):
		return leaf[to] || to == "money" || to == "store" || to == "events" || to == "authz" || to == "secret" || to == "transition" || to == "worker" || to == "idempotency" || to == "delivery" || to == "pricing" || strings.HasPrefix(to, "domain:")
	case from == "plugin":
		return leaf[to] || to == "money" || to == "store" || to == "events" || to == "authz" || to == "secret" || to == "sdk" || to == "worker" || strings.HasPrefix(to, "domain:")
	case from == "httpauth":
		// Authentication and CSRF for every HTTP transport: it resolves
		// sessions and API keys through the accounts service.
		return leaf[to] || to == "authz" || to == "domain:account" || to == "store"
	case from == "graphql":
		return to != "app" && to != "cmd" && to != "storefront" && to != "plugins" && to != "testkit"
	case from == "storefront":
		return to == "graphql" || leaf[to] || to == "money" || to == "authz"
	case from == "cmd":
		return to == "app"
	case from == "plugins", from == "sdk":
		return to == "sdk"
	case from == "secret":
		return leaf[to]
	case from == "seed":
		// The demo seeder fills domains through their services.
		return leaf[to] || to == "money" || to == "store" || to == "authz" || strings.HasPrefix(to, "domain:")
	case from == "app", from == "testkit", from == "other":
		return to != "cmd"
	case from == "migrations", from == "admin":
		return false
	}
	return false
}

// forbiddenStd are standard or third-party packages a layer may not use
// directly: core domains hold no HTTP or GraphQL and never see gRPC.
func forbiddenExternal(from, imp string) bool {
	if !strings.HasPrefix(from, "domain:") && from != "money" && from != "kit" && from != "store" {
		return false
	}
	for _, bad := range []string{"net/http", "github.com/graph-gophers/", "google.golang.org/grpc", "github.com/hashicorp/go-plugin"} {
		if imp == bad || strings.HasPrefix(imp, bad) {
			return true
		}
	}
	return false
}

// samePlugin reports whether two packages belong to one plugin under
// plugins/ (a plugin may keep its own internal packages: signing code
// shared with its test sandbox).
func samePlugin(a, b string) bool {
	root := func(path string) string {
		parts := strings.Split(rel(path), "/")
		if len(parts) < 2 || parts[0] != "plugins" || parts[1] == "sdk" {
			return ""
		}
		return parts[0] + "/" + parts[1]
	}
	ra := root(a)
	return ra != "" && ra == root(b)
}

// violations applies the rules to a package list.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		from := area(p.ImportPath)
		if from == "external" {
			continue
		}
		for _, imp := range p.Imports {
			to := area(imp)
			if to == "external" {
				if forbiddenExternal(from, imp) {
					out = append(out, fmt.Sprintf("%s (%s) imports %s", rel(p.ImportPath), from, imp))
				}
				continue
			}
			if !allowed(from, to) && !samePlugin(p.ImportPath, imp) {
				out = append(out, fmt.Sprintf("%s (%s) imports %s (%s)", rel(p.ImportPath), from, rel(imp), to))
			}
		}
		// Plugins must not reach core even indirectly: they are built by
		// third parties against the SDK module alone.
		if from == "plugins" || from == "sdk" {
			for _, d := range p.Deps {
				if a := area(d); a != "external" && a != "sdk" && !samePlugin(p.ImportPath, d) {
					out = append(out, fmt.Sprintf("%s (%s) depends on %s", rel(p.ImportPath), from, rel(d)))
					break
				}
			}
		}
	}
	return out
}

func goList(t *testing.T, dir string, patterns ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-e", "-json=ImportPath,Imports,Deps"}, patterns...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestDependencyRule keeps the layering of DESIGN.md: domains never see
// HTTP, GraphQL or gRPC; plugins never import core; cmd only calls app.
func TestDependencyRule(t *testing.T) {
	t.Parallel()
	pkgs := goList(t, ".", "./...")
	pkgs = append(pkgs, goList(t, filepath.Join("plugins", "sdk"), "./...")...)
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error("dependency rule broken:", v)
	}
}

// TestDependencyRuleCatchesViolations proves the checker is not vacuous: a
// plugin importing core, a domain importing net/http and cmd importing a
// domain are all reported.
func TestDependencyRuleCatchesViolations(t *testing.T) {
	t.Parallel()
	bad := []pkg{
		{ImportPath: module + "/plugins/evilpay", Imports: []string{module + "/plugins/sdk/payment", module + "/core/order"}},
		{ImportPath: module + "/plugins/sneaky", Imports: []string{module + "/plugins/sdk/payment"}, Deps: []string{module + "/core/money"}},
		{ImportPath: module + "/core/catalog", Imports: []string{"net/http", module + "/core/store"}},
		{ImportPath: module + "/cmd/kassa", Imports: []string{module + "/core/catalog"}},
		{ImportPath: module + "/core/kit/id", Imports: []string{module + "/core/store"}},
		{ImportPath: module + "/core/order", Imports: []string{module + "/graphql"}},
		{ImportPath: module + "/core/order", Imports: []string{module + "/httpauth"}},
		{ImportPath: module + "/httpauth", Imports: []string{module + "/graphql/resolver"}},
		// Another plugin's package is not the plugin's own.
		{ImportPath: module + "/plugins/wxpay", Imports: []string{module + "/plugins/alipay/internal/sign"}},
	}
	got := violations(bad)
	if len(got) != len(bad) {
		t.Fatalf("want %d violations, got %d: %q", len(bad), len(got), got)
	}
	good := []pkg{
		{ImportPath: module + "/core/catalog", Imports: []string{module + "/core/store", module + "/core/money", module + "/core/kit/errs", "context"}},
		{ImportPath: module + "/plugins/testpay", Imports: []string{module + "/plugins/sdk/payment"}, Deps: []string{module + "/plugins/sdk/payment", "fmt"}},
		{ImportPath: module + "/plugins/wxpay", Imports: []string{module + "/plugins/wxpay/internal/sign"}, Deps: []string{module + "/plugins/wxpay/internal/sign"}},
		{ImportPath: module + "/core/plugin", Imports: []string{module + "/plugins/sdk/host", module + "/core/payment"}},
		{ImportPath: module + "/httpauth", Imports: []string{module + "/core/account", module + "/core/authz", module + "/core/kit/errs"}},
		{ImportPath: module + "/graphql", Imports: []string{module + "/httpauth"}},
	}
	if got := violations(good); len(got) != 0 {
		t.Fatalf("false positives: %q", got)
	}
}
