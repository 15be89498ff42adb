package resolver_test

import (
	"slices"
	"testing"

	"github.com/kassahq/kassa/graphql/resolver"
)

// TestCachePolicy pins what the response cache shares and when it
// forgets. A field dropped from a domain's declaration would stop the
// storefront's reads from being cached; a subject dropped would leave
// stale catalog answers until the TTL. Personal fields are never shared,
// and every shared field is a Query field with a permission.
func TestCachePolicy(t *testing.T) {
	t.Parallel()
	got := resolver.Cache()
	for _, f := range []string{"products", "product", "collections", "collection", "serverVersion"} {
		if !slices.Contains(got.Fields, f) {
			t.Errorf("Query.%s is no longer shared by the response cache (fields %v)", f, got.Fields)
		}
	}
	for _, s := range []string{"kassa.product.>", "kassa.inventory.>", "kassa.collection.>"} {
		if !slices.Contains(got.Subjects, s) {
			t.Errorf("events %s no longer drop cached answers (subjects %v)", s, got.Subjects)
		}
	}
	for _, f := range []string{"me", "viewer", "customer", "customers", "node", "nodes", "plugins", "roles"} {
		if slices.Contains(got.Fields, f) {
			t.Errorf("Query.%s is personal or staff-only but shared by the response cache", f)
		}
	}
	ops := resolver.Operations()
	for _, f := range got.Fields {
		if _, ok := ops["Query."+f]; !ok {
			t.Errorf("the response cache shares %s, which is not a Query field of resolver.Operations()", f)
		}
	}
}
