package resolver

import (
	"maps"

	"github.com/kassahq/kassa/core/authz"
)

// Permission is what an operation needs: an action on an object. The
// service behind the operation enforces it; this table documents it and
// lets tests check every operation against every role.
type Permission struct {
	Object authz.Object
	Action authz.Action
}

// Operations maps every Query, Mutation and Subscription field, as
// "Query.products" or "Mutation.productCreate", to the permission it
// needs. Each domain adds its own map here.
func Operations() map[string]Permission {
	out := make(map[string]Permission, len(catalogOperations))
	for _, m := range []map[string]Permission{catalogOperations, customerOperations, staffOperations, accessOperations, pluginOperations, nodeOperations, settingsOperations, cartOperations, orderOperations, orderBulkOperations, orderSubscriptionOperations, deliveryOperations, paymentOperations, paymentReportOperations, salesOperations} {
		maps.Copy(out, m)
	}
	return out
}
