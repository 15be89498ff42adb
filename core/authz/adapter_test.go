package authz_test

import (
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestAdapter drives the bun adapter through Casbin's own auto-save and
// reads the result back with a fresh enforcer.
func TestAdapter(t *testing.T) {
	t.Parallel()
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		load := func() *casbin.Enforcer {
			t.Helper()
			m, err := model.NewModelFromString(authz.ModelText())
			if err != nil {
				t.Fatal(err)
			}
			e, err := casbin.NewEnforcer(m, authz.NewAdapter(db))
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		e := load()
		must := func(ok bool, err error) {
			t.Helper()
			if err != nil || !ok {
				t.Fatalf("ok=%v err=%v", ok, err)
			}
		}
		must(e.AddPolicy("clerk", "s1", "order", "read"))
		must(e.AddPolicy("clerk", "s1", "order", "write"))
		must(e.AddPolicy("clerk", "s2", "order", "read"))
		must(e.AddGroupingPolicy("stf_1", "clerk", "s1"))
		must(e.RemovePolicy("clerk", "s1", "order", "write"))

		got, _ := load().GetPolicy()
		want := [][]string{{"clerk", "s1", "order", "read"}, {"clerk", "s2", "order", "read"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after add/remove (-want +got):\n%s", diff)
		}
		if ok, _ := load().Enforce("stf_1", "s1", "order", "read"); !ok {
			t.Error("grouping rule not persisted")
		}

		must(e.RemoveFilteredPolicy(1, "s2"))
		got, _ = load().GetPolicy()
		if diff := cmp.Diff([][]string{{"clerk", "s1", "order", "read"}}, got); diff != "" {
			t.Errorf("after filtered remove (-want +got):\n%s", diff)
		}

		// SavePolicy replaces everything.
		e.ClearPolicy()
		if _, err := e.AddPolicies([][]string{{"a", "s", "product", "read"}}); err != nil {
			t.Fatal(err)
		}
		if err := e.SavePolicy(); err != nil {
			t.Fatal(err)
		}
		fresh := load()
		got, _ = fresh.GetPolicy()
		if diff := cmp.Diff([][]string{{"a", "s", "product", "read"}}, got); diff != "" {
			t.Errorf("after save (-want +got):\n%s", diff)
		}
		if g, _ := fresh.GetGroupingPolicy(); len(g) != 0 {
			t.Errorf("grouping rules survived SavePolicy: %v", g)
		}
	})
}
