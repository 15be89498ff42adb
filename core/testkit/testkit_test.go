package testkit_test

import (
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/testkit"
)

// TestRunChecksEvents shows the harness on both engines: a refused
// operation writes no event, an accepted one writes exactly its own.
func TestRunChecksEvents(t *testing.T) {
	owner := authz.Subject{Kind: authz.KindStaff, ID: "stf_test", Roles: []string{authz.RoleOwner}}
	const create = `mutation($t: String!) { productCreate(input: {title: $t}) { product { title } userErrors { code } } }`
	testkit.ForEachEngine(t, func(t *testing.T, ta *testkit.TestApp) {
		testkit.Run(t, ta, []testkit.Scenario{{
			Name:          "anonymous is refused and nothing is written",
			Query:         create,
			Variables:     map[string]any{"t": "Tea"},
			WantErrorCode: "UNAUTHENTICATED",
			WantEvents:    []string{},
		}, {
			Name:       "owner creates a product and one event is written",
			Query:      create,
			Variables:  map[string]any{"t": "Tea"},
			As:         owner,
			WantData:   `{"productCreate":{"product":{"title":"Tea"},"userErrors":[]}}`,
			WantEvents: []string{"kassa.product.created"},
		}})
	})
}
