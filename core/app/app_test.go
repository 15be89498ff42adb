package app_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/testkit"
)

var owner = authz.Subject{Kind: authz.KindStaff, ID: "usr_owner", Roles: []string{"owner"}, Store: authz.DefaultStore}

// TestPublicReadsCachedAndInvalidated checks the storefront's response
// cache end to end: an anonymous catalog read is served again from the
// cache, and a catalog change made through the API reaches anonymous
// readers once its event has gone through the bus.
func TestPublicReadsCachedAndInvalidated(t *testing.T) {
	ta := testkit.NewTestApp(t, testkit.SQLite)
	const list = `{ products(first: 50) { edges { node { handle variants { availableQuantity } } } } }`
	anon := authz.AnonymousSubject()

	if res := ta.Exec(anon, list, nil); len(res.Errors) > 0 || strings.Contains(string(res.Data), "cached-tea") {
		t.Fatalf("unexpected first read: %s %v", res.Data, res.Errors)
	}
	before := counter(t, ta, "kassa_graphql_cache_hits_total")
	ta.Exec(anon, list, nil)
	if got := counter(t, ta, "kassa_graphql_cache_hits_total"); got != before+1 {
		t.Fatalf("second identical anonymous read was not a cache hit (hits %v -> %v)", before, got)
	}
	// Signed-in buyers see the public catalog too and share the answers
	// among themselves (their role's, not the guests').
	buyer := authz.Subject{Kind: authz.KindCustomer, ID: "cus_1", Roles: []string{"customer"}, Store: authz.DefaultStore}
	ta.Exec(buyer, list, nil)
	other := buyer
	other.ID = "cus_2"
	ta.Exec(other, list, nil)
	if got := counter(t, ta, "kassa_graphql_cache_hits_total"); got != before+2 {
		t.Fatalf("a second buyer's catalog read was not served from the cache (hits %v -> %v)", before, got)
	}
	// Staff reads are never cached: they may see drafts.
	ta.Exec(owner, list, nil)
	ta.Exec(owner, list, nil)
	if got := counter(t, ta, "kassa_graphql_cache_hits_total"); got != before+2 {
		t.Fatalf("staff read was served from the cache")
	}

	res := ta.Exec(owner, `mutation { productCreate(input: {title: "Cached Tea", handle: "cached-tea", status: ACTIVE,
		variants: [{sku: "CT-1", prices: [{amount: "10.00", currencyCode: "CNY"}], inventoryQuantity: 5}]}) {
		product { id variants { id } } userErrors { code message } } }`, nil)
	var created struct {
		ProductCreate struct {
			Product struct {
				ID       string
				Variants []struct{ ID string }
			}
			UserErrors []struct{ Code, Message string }
		}
	}
	if err := json.Unmarshal(res.Data, &created); err != nil || len(res.Errors) > 0 || len(created.ProductCreate.UserErrors) > 0 {
		t.Fatalf("productCreate: %s %v", res.Data, res.Errors)
	}
	waitFor(t, "new product visible to anonymous readers", func() bool {
		return strings.Contains(string(ta.Exec(anon, list, nil).Data), `"cached-tea"`)
	})

	variant := created.ProductCreate.Product.Variants[0].ID
	res = ta.Exec(owner, `mutation($v: ID!) { inventoryAdjust(input: {variantId: $v, delta: 7, reason: RECEIVED}) { userErrors { code } } }`, map[string]any{"v": variant})
	if len(res.Errors) > 0 || strings.Contains(string(res.Data), `"code"`) {
		t.Fatalf("inventoryAdjust: %s %v", res.Data, res.Errors)
	}
	const one = `query($h: String!) { product(handle: $h) { variants { availableQuantity } } }`
	waitFor(t, "stock change visible to anonymous readers", func() bool {
		return strings.Contains(string(ta.Exec(anon, one, map[string]any{"h": "cached-tea"}).Data), `"availableQuantity":12`)
	})
}

// TestCachedCatalogFollowsThePolicy: the owner may take product:read from
// the guests' role (a members-only catalog). From then on guests are
// refused: neither their own earlier answers nor the buyers' cached ones
// reach them.
func TestCachedCatalogFollowsThePolicy(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		anon := authz.AnonymousSubject()
		buyer := authz.Subject{Kind: authz.KindCustomer, ID: "cus_1", Roles: []string{"customer"}, Store: authz.DefaultStore}
		res := ta.Exec(owner, `mutation { productCreate(input: {title: "Members Tea", handle: "members-tea", status: ACTIVE,
			variants: [{sku: "MT-1", prices: [{amount: "10.00", currencyCode: "CNY"}], inventoryQuantity: 5}]}) { userErrors { code } } }`, nil)
		if len(res.Errors) > 0 || strings.Contains(string(res.Data), `"code"`) {
			t.Fatalf("productCreate: %s %v", res.Data, res.Errors)
		}
		const one = `{ product(handle: "members-tea") { title } }`
		visible := func(s authz.Subject) bool { return strings.Contains(string(ta.Exec(s, one, nil).Data), "Members Tea") }
		waitFor(t, "the product visible to guests", func() bool { return visible(anon) })
		visible(anon) // cached for the guests now

		var perms []any // as JSON decodes them
		for _, p := range ta.Accounts.Enforcer.RolePermissions(authz.RoleAnonymous, authz.DefaultStore) {
			if p.Object != authz.Product {
				perms = append(perms, p.String())
			}
		}
		res = ta.Exec(owner, `mutation($p: [String!]) { roleUpdate(input: {name: "anonymous", permissions: $p}) { userErrors { code } } }`, map[string]any{"p": perms})
		if len(res.Errors) > 0 || strings.Contains(string(res.Data), `"code"`) {
			t.Fatalf("roleUpdate: %s %s", res.Data, testkit.EncodeJSON(t, res.Errors))
		}
		if visible(anon) {
			t.Fatal("a guest still reads the product after the guests' role lost product:read")
		}
		for range 2 { // the second read is the buyers' cached answer
			if !visible(buyer) {
				t.Fatal("a buyer, whose role kept product:read, cannot read the product")
			}
		}
		if visible(anon) {
			t.Fatal("a guest reads the buyers' cached answer")
		}
	})
}

func counter(t *testing.T, ta *testkit.TestApp, name string) float64 {
	t.Helper()
	mfs, err := ta.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ok() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting: %s", what)
}

// TestNodeQuery: Relay clients refetch objects by id through node and
// nodes, with the permissions of each object's own query.
func TestNodeQuery(t *testing.T) {
	ta := testkit.NewTestApp(t, testkit.SQLite)
	res := ta.Exec(owner, `mutation {
		active: productCreate(input: {title: "Node Tea", status: ACTIVE, variants: [{sku: "NODE-1"}]}) { product { id variants { id } } }
		draft: productCreate(input: {title: "Draft Tea", status: DRAFT}) { product { id } } }`, nil)
	var created struct {
		Active struct {
			Product struct {
				ID       string
				Variants []struct{ ID string }
			}
		}
		Draft struct{ Product struct{ ID string } }
	}
	if err := json.Unmarshal(res.Data, &created); err != nil || len(res.Errors) > 0 {
		t.Fatalf("create: %s %v", res.Data, res.Errors)
	}
	prd, variant, draft := created.Active.Product.ID, created.Active.Product.Variants[0].ID, created.Draft.Product.ID
	const q = `query($id: ID!) { node(id: $id) { __typename id ... on Product { title } ... on ProductVariant { sku } } }`
	anon := authz.AnonymousSubject()
	tests := []struct {
		name string
		as   authz.Subject
		id   string
		want string
		code string
	}{
		{"product", anon, prd, `"__typename":"Product"`, ""},
		{"variant", anon, variant, `"sku":"NODE-1"`, ""},
		{"draft hidden from guests", anon, draft, `"node":null`, ""},
		{"draft shown to staff", owner, draft, `"title":"Draft Tea"`, ""},
		{"unknown id", anon, "prd_01JD4S3Y8W3M9Q6T0G2V5XK7PZ", `"node":null`, ""},
		{"unknown kind", anon, "zzz_1", `"node":null`, ""},
		{"staff member needs permission", anon, "stf_01JD4S3Y8W3M9Q6T0G2V5XK7PZ", "", "UNAUTHENTICATED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ta.Exec(tt.as, q, map[string]any{"id": tt.id})
			if tt.code != "" {
				if len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != tt.code {
					t.Fatalf("want %s, got %s %+v", tt.code, res.Data, res.Errors)
				}
				return
			}
			if len(res.Errors) > 0 || !strings.Contains(string(res.Data), tt.want) {
				t.Fatalf("got %s %+v, want %s", res.Data, res.Errors, tt.want)
			}
		})
	}
	res = ta.Exec(anon, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []any{prd, draft, variant}})
	if want := `{"nodes":[{"id":"` + prd + `"},null,{"id":"` + variant + `"}]}`; string(res.Data) != want {
		t.Fatalf("nodes = %s %+v, want %s", res.Data, res.Errors, want)
	}
}
