package resolver

import (
	"context"
	"errors"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/graphql/loader"
)

// catalogOperations lists the catalog's operations with the permission
// each needs (catalog.Service enforces them). Two fields inside the types
// are guarded too: ProductVariant.inventory and
// ProductVariant.inventoryAdjustments need inventory read.
var catalogOperations = map[string]Permission{
	"Query.products":    {authz.Product, authz.Read},
	"Query.product":     {authz.Product, authz.Read},
	"Query.collections": {authz.Collection, authz.Read},
	"Query.collection":  {authz.Collection, authz.Read},

	"Mutation.productCreate":            {authz.Product, authz.Write},
	"Mutation.productUpdate":            {authz.Product, authz.Write},
	"Mutation.productArchive":           {authz.Product, authz.Write},
	"Mutation.productUnarchive":         {authz.Product, authz.Write},
	"Mutation.productVariantCreate":     {authz.Product, authz.Write},
	"Mutation.productVariantUpdate":     {authz.Product, authz.Write},
	"Mutation.productVariantArchive":    {authz.Product, authz.Write},
	"Mutation.productVariantPricesSet":  {authz.Product, authz.Write},
	"Mutation.inventoryAdjust":          {authz.Inventory, authz.Write},
	"Mutation.collectionCreate":         {authz.Collection, authz.Write},
	"Mutation.collectionUpdate":         {authz.Collection, authz.Write},
	"Mutation.collectionDelete":         {authz.Collection, authz.Write},
	"Mutation.collectionAddProducts":    {authz.Collection, authz.Write},
	"Mutation.collectionRemoveProducts": {authz.Collection, authz.Write},
}

// catalogCache: the storefront's catalog reads answer every guest and
// buyer alike (both see ACTIVE products only), until a catalog event
// says the catalog changed.
var catalogCache = CachePolicy{
	Fields:   []string{"products", "product", "collections", "collection"},
	Subjects: catalog.CacheSubjects(),
}

// catalogRoot resolves the catalog's queries and mutations.
type catalogRoot struct{ svc *catalog.Service }

// catalogScope is what every catalog resolver of one request shares: the
// service and the request's loaders.
type catalogScope struct {
	svc *catalog.Service
	l   *loader.Loaders
}

// scope returns the request's scope. Without loaders in ctx (a server
// built without Options.PerRequest) it makes a set for this top-level
// field, so batching still works within it.
func (r *catalogRoot) scope(ctx context.Context) *catalogScope {
	l := loader.From(ctx)
	if l == nil {
		l = loader.New(loader.Services{Catalog: r.svc})
	}
	return &catalogScope{svc: r.svc, l: l}
}

// mutationScope returns a scope with loaders of its own: mutations of one
// document run one after another, and a payload must not show what an
// earlier mutation's payload cached before this one changed it.
func (r *catalogRoot) mutationScope() *catalogScope {
	return &catalogScope{svc: r.svc, l: loader.New(loader.Services{Catalog: r.svc})}
}

type productsArgs struct {
	First      *int32
	After      *string
	Query      *string
	Collection *string
	SortKey    *string
	Reverse    bool
	Status     *string
}

// Products resolves Query.products.
func (r *catalogRoot) Products(ctx context.Context, args productsArgs) (*productConnection, error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	f := catalog.ProductFilter{Reverse: args.Reverse}
	if args.Query != nil {
		f.Query = *args.Query
	}
	if args.Collection != nil {
		f.Collection = *args.Collection
	}
	if args.SortKey != nil {
		f.SortKey = catalog.ProductSortKey(*args.SortKey)
	}
	if args.Status != nil {
		f.Status = catalog.ProductStatus(*args.Status)
	}
	p, err := r.svc.ListProducts(ctx, f, req)
	if err != nil {
		return nil, err
	}
	return newProductConnection(r.scope(ctx), p), nil
}

type byIDOrHandle struct {
	ID     *gql.ID
	Handle *string
}

// which checks that exactly one of id and handle is given.
func (a byIDOrHandle) which() (id, handle string, err error) {
	switch {
	case a.ID != nil && a.Handle == nil:
		return string(*a.ID), "", nil
	case a.ID == nil && a.Handle != nil:
		return "", *a.Handle, nil
	}
	return "", "", errs.Invalid("id", "INVALID_ARGUMENTS", "give either id or handle")
}

// Product resolves Query.product; null when not found.
func (r *catalogRoot) Product(ctx context.Context, args byIDOrHandle) (*productResolver, error) {
	id, handle, err := args.which()
	if err != nil {
		return nil, err
	}
	var p catalog.Product
	if id != "" {
		p, err = r.svc.GetProduct(ctx, id)
	} else {
		p, err = r.svc.GetProductByHandle(ctx, handle)
	}
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return newProduct(r.scope(ctx), &p), nil
}

// Collections resolves Query.collections.
func (r *catalogRoot) Collections(ctx context.Context, args struct {
	First *int32
	After *string
}) (*collectionConnection, error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	p, err := r.svc.ListCollections(ctx, req)
	if err != nil {
		return nil, err
	}
	return newCollectionConnection(r.scope(ctx), p), nil
}

// Collection resolves Query.collection; null when not found.
func (r *catalogRoot) Collection(ctx context.Context, args byIDOrHandle) (*collectionResolver, error) {
	id, handle, err := args.which()
	if err != nil {
		return nil, err
	}
	var c catalog.Collection
	if id != "" {
		c, err = r.svc.GetCollection(ctx, id)
	} else {
		c, err = r.svc.GetCollectionByHandle(ctx, handle)
	}
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &collectionResolver{c: c, s: r.scope(ctx)}, nil
}

// variantByID returns a variant with its product, or nil when it does not
// exist or the caller may not see it (a variant of a draft for a guest).
func (r *catalogRoot) variantByID(ctx context.Context, id string) (*variantResolver, error) {
	v, err := r.svc.GetVariant(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	vr, err := r.variant(ctx, v)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	return vr, err
}
