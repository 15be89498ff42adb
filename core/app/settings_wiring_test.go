package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/testkit"
)

// TestShopSettingsCachedAndInvalidated: the public part of shopSettings
// is answered from the response cache, and a change of the settings,
// made through this instance's API or by another instance on the same
// database, reaches guests once its event has gone through the bus, not
// when the shop service's own cache of the settings expires.
func TestShopSettingsCachedAndInvalidated(t *testing.T) {
	ta := testkit.NewTestApp(t, testkit.SQLite)
	const read = `{ shopSettings { currencies pricesIncludeTax } }`
	anon := authz.AnonymousSubject()
	if res := ta.Exec(anon, read, nil); len(res.Errors) > 0 || !strings.Contains(string(res.Data), `"currencies":["USD"]`) {
		t.Fatalf("first read: %s %v", res.Data, res.Errors)
	}
	before := counter(t, ta, "kassa_graphql_cache_hits_total")
	ta.Exec(anon, read, nil)
	if got := counter(t, ta, "kassa_graphql_cache_hits_total"); got != before+1 {
		t.Fatalf("second identical guest read was not a cache hit (hits %v -> %v)", before, got)
	}
	// A guest asking for a staff-only field is refused, and the refusal
	// is not shared.
	if res := ta.Exec(anon, `{ shopSettings { currencies orderNumberPrefix } }`, nil); len(res.Errors) == 0 {
		t.Fatalf("a guest read the order number prefix: %s", res.Data)
	}

	res := ta.Exec(owner, `mutation { shopSettingsUpdate(input: {currencies: ["EUR", "USD"]}) { userErrors { code } } }`, nil)
	if len(res.Errors) > 0 || strings.Contains(string(res.Data), `"code"`) {
		t.Fatalf("shopSettingsUpdate: %s %v", res.Data, res.Errors)
	}
	waitFor(t, "new currencies visible to guests", func() bool {
		return strings.Contains(string(ta.Exec(anon, read, nil).Data), `"currencies":["EUR","USD"]`)
	})

	// Another instance saves the settings: its event reaches this one,
	// which forgets both its settings and the answers built from them
	// well before its settings cache would expire.
	other, err := shop.NewService(ta.DB, shop.Options{Authz: authz.AllowAll{}, Outbox: ta.Outbox, CacheFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	ctx := authz.WithSubject(context.Background(), authz.SystemSubject("other instance"))
	if _, err := other.Update(ctx, shop.UpdateSettingsInput{PricesIncludeTax: &yes}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(shop.DefaultCacheFor / 2)
	for !strings.Contains(string(ta.Exec(anon, read, nil).Data), `"pricesIncludeTax":true`) {
		if time.Now().After(deadline) {
			t.Fatalf("another instance's update is not visible to guests after %s", shop.DefaultCacheFor/2)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
