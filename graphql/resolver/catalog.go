package resolver

import "github.com/kassahq/kassa/core/catalog"

// catalogRoot resolves the catalog's queries and mutations.
type catalogRoot struct{ svc *catalog.Service }
