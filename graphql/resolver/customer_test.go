package resolver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/account/accounttest"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/loader"
	"github.com/kassahq/kassa/graphql/resolver"
)

// newAccountsServer returns a GraphQL server over acc and a catalog on db.
// With perRequest it makes loaders per request as the application does;
// without, the resolvers make their own.
func newAccountsServer(t testing.TB, db *store.DB, acc *account.Service, perRequest bool) *graphql.Server {
	t.Helper()
	cat := catalogtest.NewService(db)
	var opts graphql.Options
	if perRequest {
		opts.PerRequest = func(ctx context.Context) context.Context {
			return loader.Attach(ctx, loader.New(loader.Services{Catalog: cat, Customers: acc}))
		}
	}
	srv, err := graphql.New(resolver.Services{Catalog: cat, Accounts: acc}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// customerListQuery is the admin's customer list: the query the customer
// loaders exist for.
const customerListQuery = `query($first: Int) { customers(first: $first) { edges { node { id email
	addresses { id city }
	defaultShippingAddress { id city }
	defaultBillingAddress { id }
	tags
	groups { name }
} } } }`

// wantNode is what customerListQuery must answer for b.
func wantNode(b accounttest.Seeded) map[string]any {
	addrs := []any{}
	var ship, bill any
	for _, a := range b.Addresses {
		addrs = append(addrs, map[string]any{"id": a.ID, "city": a.City})
		if b.DefaultShippingAddressID != nil && *b.DefaultShippingAddressID == a.ID {
			ship = map[string]any{"id": a.ID, "city": a.City}
		}
		if b.DefaultBillingAddressID != nil && *b.DefaultBillingAddressID == a.ID {
			bill = map[string]any{"id": a.ID}
		}
	}
	tags := []any{}
	for _, tag := range b.Tags {
		tags = append(tags, tag)
	}
	groups := []any{}
	for _, g := range b.Groups {
		groups = append(groups, map[string]any{"name": g.Name})
	}
	return map[string]any{"id": b.ID, "email": b.Email, "addresses": addrs, "defaultShippingAddress": ship,
		"defaultBillingAddress": bill, "tags": tags, "groups": groups}
}

// TestCustomerListQueryCountIsFixed proves the customer list has no N+1:
// 3 or 20 buyers with their addresses, default addresses, tags and groups
// cost the same few SQL statements, with the application's per-request
// loaders and with the ones the resolvers make when there are none.
func TestCustomerListQueryCountIsFixed(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		acc := accounttest.NewService(t, db)
		buyers := accounttest.SeedBuyers(t, acc, 25)
		counter := &queryCounter{}
		db.AddQueryHook(counter)
		staff := accounttest.Staff(authz.RoleSupport)
		for _, perRequest := range []bool{true, false} {
			t.Run(fmt.Sprint("perRequest=", perRequest), func(t *testing.T) {
				srv := newAccountsServer(t, db, acc, perRequest)
				count := func(first int) int64 {
					counter.n.Store(0)
					r := testkit.ExecServer(t, staff, srv, customerListQuery, map[string]any{"first": first})
					n := counter.n.Load()
					edges, _ := testkit.Dig(r.Data, "customers", "edges").([]any)
					if len(edges) != first || len(r.Codes) > 0 {
						t.Fatalf("first=%d: errors %v, response %s", first, r.Codes, r.Raw)
					}
					// Newest first: the last seeded buyer leads.
					for i, e := range edges {
						want := wantNode(buyers[len(buyers)-1-i])
						if diff := cmp.Diff(want, testkit.Dig(e, "node")); diff != "" {
							t.Fatalf("first=%d, buyer %d (-want +got):\n%s", first, i, diff)
						}
					}
					return n
				}
				small, large := count(3), count(20)
				t.Logf("queries for 3 customers: %d, for 20: %d", small, large)
				if small != large {
					t.Fatalf("listing 3 customers ran %d queries, 20 ran %d: the count grows with the page", small, large)
				}
				if large > 4 {
					t.Fatalf("listing ran %d queries, want at most 4 (customers, addresses, tags, groups)", large)
				}
			})
		}
	})
}

// TestCustomerFieldsKeepTheirPermissions runs the batched fields as each
// kind of caller: a buyer reads their own address book but not their tags
// or groups and never another buyer; staff without customer read get
// nothing.
func TestCustomerFieldsKeepTheirPermissions(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		buyers := accounttest.SeedBuyers(t, ta.Accounts.Service, 3)
		ana, ben := buyers[2], buyers[1] // with two addresses and one
		asAna := authz.SubjectFrom(accounttest.Buyer(ana.ID))
		const book = `addresses { city } defaultShippingAddress { city } defaultBillingAddress { city }`
		testkit.Run(t, ta, []testkit.Scenario{
			{
				Name:     "a buyer reads their own address book",
				As:       asAna,
				Query:    `{ me { ` + book + ` } }`,
				WantData: `{"me": {"addresses": [{"city": "City 2-0"}, {"city": "City 2-1"}], "defaultShippingAddress": {"city": "City 2-1"}, "defaultBillingAddress": {"city": "City 2-0"}}}`,
			},
			{
				Name:      "a buyer reads themselves by id",
				As:        asAna,
				Query:     `query($id: ID!) { customer(id: $id) { ` + book + ` } }`,
				Variables: map[string]any{"id": ana.ID},
				WantData:  `{"customer": {"addresses": [{"city": "City 2-0"}, {"city": "City 2-1"}], "defaultShippingAddress": {"city": "City 2-1"}, "defaultBillingAddress": {"city": "City 2-0"}}}`,
			},
			{
				Name:      "another buyer does not exist for a buyer",
				As:        asAna,
				Query:     `query($id: ID!) { customer(id: $id) { ` + book + ` } }`,
				Variables: map[string]any{"id": ben.ID},
				WantData:  `{"customer": null}`,
			},
			{
				Name:           "tags and groups are staff only",
				As:             asAna,
				Query:          `{ me { email tags groups { name } } }`,
				WantData:       `{"me": {"email": "buyer02@example.com", "tags": null, "groups": null}}`,
				WantErrorCodes: []string{"FORBIDDEN", "FORBIDDEN"},
			},
			{
				Name:           "buyers cannot list buyers",
				As:             asAna,
				Query:          `{ customers(first: 5) { nodes { ` + book + ` } } }`,
				WantErrorCodes: []string{"FORBIDDEN"},
			},
			{
				Name:           "staff without customer read cannot list buyers",
				As:             authz.SubjectFrom(accounttest.Staff(authz.RoleDeveloper)),
				Query:          `{ customers(first: 5) { nodes { ` + book + ` } } }`,
				WantErrorCodes: []string{"FORBIDDEN"},
			},
			{
				Name:  "staff with customer read see every buyer's book, tags and groups",
				As:    authz.SubjectFrom(accounttest.Staff(authz.RoleSupport)),
				Query: `{ customers(first: 2) { nodes { ` + book + ` tags groups { name } } } }`,
				WantData: `{"customers": {"nodes": [
					{"addresses": [{"city": "City 2-0"}, {"city": "City 2-1"}], "defaultShippingAddress": {"city": "City 2-1"}, "defaultBillingAddress": {"city": "City 2-0"}, "tags": ["all", "tier-2"], "groups": [{"name": "Even"}]},
					{"addresses": [{"city": "City 1-0"}], "defaultShippingAddress": {"city": "City 1-0"}, "defaultBillingAddress": {"city": "City 1-0"}, "tags": ["all", "tier-1"], "groups": []}]}}`,
			},
		})
	})
}

// TestCustomerPayloadsShowTheirOwnMutation runs two mutations in one
// document: each payload's buyer shows the address book as that mutation
// left it, not as an earlier payload loaded it.
func TestCustomerPayloadsShowTheirOwnMutation(t *testing.T) {
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		ben := accounttest.SeedBuyers(t, ta.Accounts.Service, 2)[1] // one address
		const create = `customerAddressCreate(input: {customerId: $id, address: {line1: "New", city: $city, countryCode: "DE"}}) {
			customer { addresses { city } } userErrors { code } }`
		testkit.Run(t, ta, []testkit.Scenario{{
			Name: "two address creations in one document",
			As:   authz.SubjectFrom(accounttest.Staff(authz.RoleSupport)),
			Query: `mutation($id: ID!, $city: String!, $city2: String!) {
				a: ` + create + ` b: ` + strings.ReplaceAll(create, "$city", "$city2") + ` }`,
			Variables: map[string]any{"id": ben.ID, "city": "Bonn", "city2": "Kiel"},
			WantData: `{"a": {"customer": {"addresses": [{"city": "City 1-0"}, {"city": "Bonn"}]}, "userErrors": []},
				"b": {"customer": {"addresses": [{"city": "City 1-0"}, {"city": "Bonn"}, {"city": "Kiel"}]}, "userErrors": []}}`,
		}})
	})
}

// TestGroupListQueryCountIsFixed: member counts of a page of customer
// groups, and of the groups under each buyer, are one query for the page.
func TestGroupListQueryCountIsFixed(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		acc := accounttest.NewService(t, db)
		accounttest.SeedBuyers(t, acc, 6) // groups Even (3) and Triple (2)
		counter := &queryCounter{}
		db.AddQueryHook(counter)
		srv := newAccountsServer(t, db, acc, true)
		staff := accounttest.Staff(authz.RoleSupport)
		count := func(query string) (int64, testkit.Result) {
			counter.n.Store(0)
			r := testkit.ExecServer(t, staff, srv, query, nil)
			if len(r.Codes) > 0 {
				t.Fatalf("errors %v: %s", r.Codes, r.Raw)
			}
			return counter.n.Load(), r
		}
		const groups = `{ customerGroups(first: 50) { edges { node { name customerCount } } } }`
		before, r := count(groups)
		if !strings.Contains(r.Raw, `"name":"Even","customerCount":3`) || !strings.Contains(r.Raw, `"name":"Triple","customerCount":2`) {
			t.Fatalf("member counts wrong: %s", r.Raw)
		}
		for i := 0; i < 5; i++ {
			if _, err := acc.CreateGroup(accounttest.System(), account.GroupInput{Name: func(s string) *string { return &s }(fmt.Sprintf("Extra %d", i))}); err != nil {
				t.Fatal(err)
			}
		}
		after, _ := count(groups)
		if after != before || after > 2 {
			t.Fatalf("2 groups cost %d queries, 7 cost %d: want the same, at most 2 (groups, counts)", before, after)
		}
		n, _ := count(`{ customers(first: 6) { edges { node { groups { name customerCount } } } } }`)
		if n > 5 {
			t.Fatalf("buyers with their groups' member counts cost %d queries, want at most 5", n)
		}

	})
}
