package loader_test

import (
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
