package loader_test

import (
	"context"
	"sync"
	"testing"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/graphql/loader"
)

func TestCustomerLoadersNeedTheAccounts(t *testing.T) {
	t.Parallel()
	l := loader.New(loader.Services{})
	if l.Addresses != nil || l.CustomerTags != nil || l.CustomerGroups != nil {
		t.Fatal("customer loaders made without Services.Customers")
	}
	l.WantCustomers("cus_1") // does nothing, does not panic

	l = loader.New(loader.Services{Customers: &account.Service{}})
	if l.Addresses == nil || l.CustomerTags == nil || l.CustomerGroups == nil {
		t.Fatal("customer loaders missing with Services.Customers")
	}
}

// TestAttachNewMakesOneSetOnFirstUse: the loaders of a request are made
// when a resolver first asks, once, and every resolver of the request
// shares them (their caches are what batching relies on).
func TestAttachNewMakesOneSetOnFirstUse(t *testing.T) {
	t.Parallel()
	if loader.From(context.Background()) != nil {
		t.Fatal("loaders in a context without any")
	}
	ctx := loader.AttachNew(context.Background(), loader.Services{Customers: &account.Service{}})
	var wg sync.WaitGroup
	got := make([]*loader.Loaders, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = loader.From(ctx)
		}()
	}
	wg.Wait()
	for _, l := range got {
		if l == nil || l != got[0] {
			t.Fatalf("From gave %p and %p: one set per request expected", l, got[0])
		}
	}
	if got[0].Addresses == nil {
		t.Fatal("loaders made without the services given to AttachNew")
	}
	// A fresh group answers Cached before any Want or Get.
	if _, ok := got[0].Prices.Cached("var_1"); ok {
		t.Fatal("an unused group has a value")
	}
}
