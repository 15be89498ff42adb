package resolver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/shop"
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
type catalogRoot struct {
	svc *catalog.Service
	// shop gives the default currency of prices asked for without one:
	// the first of the shop's currencies. Its settings are kept in
	// memory and forgotten when staff save them (on any instance), so
	// asking once per top-level field reads no row.
	shop *shop.Service
}

// defaultCurrency is the shop's default currency: the first of the
// currencies in its settings, or the catalog's when the resolver has no
// shop service (a server built for the catalog alone).
func (r *catalogRoot) defaultCurrency(ctx context.Context) (money.Currency, error) {
	if r.shop == nil {
		return r.svc.DefaultCurrency(), nil
	}
	set, err := r.shop.Settings(ctx)
	if err != nil {
		return money.Currency{}, err
	}
	if cur := set.DefaultCurrency(); !cur.IsZero() {
		return cur, nil
	}
	return r.svc.DefaultCurrency(), nil
}

// catalogScope is what every catalog resolver under one top-level field
// shares: the service, the request's loaders, the currency of the prices
// shown, and the field's context.
//
// The fields of list items (a product's variants, a variant's price and
// stock) are synchronous getters: graph-gophers/graphql-go runs a field
// that takes a context, takes arguments or returns an error in a goroutine
// of its own, and then every item of a list above it too. So the
// top-level and connection resolvers load, one query per level, what the
// selection under them reads (load), and the getters read it from the
// loaders' caches. ctx serves the rare getter whose data nobody loaded (a
// mutation's payload): it loads on demand (see mustLoad).
type catalogScope struct {
	svc *catalog.Service
	l   *loader.Loaders
	ctx context.Context
	// currency is the currency of every price under the field, decided
	// once: the top-level field's currency argument or the shop's default.
	currency money.Currency

	// inventory is the caller's permission to see stock figures, asked
	// once for all the variants under the field.
	inventoryOnce sync.Once
	inventoryErr  error
}

// scope returns the scope of a top-level field, with prices in currency
// (nil: the shop's default). Without loaders in ctx (a server built
// without Options.PerRequest) it makes a set for this field, so batching
// still works within it.
func (r *catalogRoot) scope(ctx context.Context, currency *string) (*catalogScope, error) {
	var cur money.Currency
	if currency == nil {
		c, err := r.defaultCurrency(ctx)
		if err != nil {
			return nil, err
		}
		cur = c
	} else {
		c, err := money.ParseCurrency(*currency)
		if err != nil {
			return nil, errs.Invalid("currency", catalog.CodeInvalidCurrency, fmt.Sprintf("%q is not an ISO 4217 currency code", *currency))
		}
		cur = c
	}
	l := loader.From(ctx)
	if l == nil {
		l = loader.New(loader.Services{Catalog: r.svc})
	}
	return &catalogScope{svc: r.svc, l: l, ctx: ctx, currency: cur}, nil
}

// mutationScope returns a scope with loaders of its own: mutations of one
// document run one after another, and a payload must not show what an
// earlier mutation's payload cached before this one changed it. Payloads
// show prices in the shop's default currency.
func (r *catalogRoot) mutationScope(ctx context.Context) (*catalogScope, error) {
	cur, err := r.defaultCurrency(ctx)
	if err != nil {
		return nil, err
	}
	return &catalogScope{svc: r.svc, l: loader.New(loader.Services{Catalog: r.svc}), ctx: ctx, currency: cur}, nil
}

type productsArgs struct {
	First      *int32
	After      *string
	Query      *string
	Collection *string
	SortKey    *string
	Reverse    *bool
	Status     *string
	Currency   *string
}

// Products resolves Query.products.
func (r *catalogRoot) Products(ctx context.Context, args productsArgs) (*productConnection, error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	s, err := r.scope(ctx, args.Currency)
	if err != nil {
		return nil, err
	}
	f := catalog.ProductFilter{Reverse: isTrue(args.Reverse)}
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
	return newProductConnection(ctx, s, p)
}

type byIDOrHandle struct {
	ID       *gql.ID
	Handle   *string
	Currency *string
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
	s, err := r.scope(ctx, args.Currency)
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
	grid, err := s.load(ctx, productNeeds(ctx), p.ID)
	if err != nil {
		return nil, err
	}
	return &productResolver{p: &p, s: s, grid: grid}, nil
}

// Collections resolves Query.collections.
func (r *catalogRoot) Collections(ctx context.Context, args struct {
	First    *int32
	After    *string
	Currency *string
}) (*collectionConnection, error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	s, err := r.scope(ctx, args.Currency)
	if err != nil {
		return nil, err
	}
	p, err := r.svc.ListCollections(ctx, req)
	if err != nil {
		return nil, err
	}
	return newCollectionConnection(s, p), nil
}

// Collection resolves Query.collection; null when not found.
func (r *catalogRoot) Collection(ctx context.Context, args byIDOrHandle) (*collectionResolver, error) {
	id, handle, err := args.which()
	if err != nil {
		return nil, err
	}
	s, err := r.scope(ctx, args.Currency)
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
	return &collectionResolver{c: c, s: s}, nil
}

// variantByID returns a variant with its product, or nil when it does not
// exist or the caller may not see it (a variant of a draft for a guest).
// Its prices are in the shop's default currency.
func (r *catalogRoot) variantByID(ctx context.Context, id string) (*variantResolver, error) {
	v, err := r.svc.GetVariant(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p, err := r.svc.GetProduct(ctx, v.ProductID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := r.scope(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := s.loadVariants(ctx, productNeeds(ctx), []string{v.ID}); err != nil {
		return nil, err
	}
	vr := newVariant(&v, &p, s, nil)
	return &vr, nil
}

// need is a set of the rows related to products that a selection reads.
type need uint16

const (
	needVariants need = 1 << iota
	// needPrice: the price in the scope's currency (price,
	// compareAtPrice, priceRange).
	needPrice
	// needAllPrices: the prices in every currency (prices).
	needAllPrices
	needLevel
	// needVariantTimes: a variant's createdAt or updatedAt, which the
	// grid statement does not read.
	needVariantTimes
	needCollections
)

// productNeeds reads the selection under the field of ctx (a product, a
// page of products or a variant) for what it shows of the products'
// variants, prices, stock and collections. The products of a product's
// collections are another page, loaded by Collection.products: paths
// through a collections field stop there.
func productNeeds(ctx context.Context) need {
	var n need
	for _, path := range selectedFieldNames(ctx) {
		if strings.HasPrefix(path, "collections.") || strings.Contains(path, ".collections.") {
			continue
		}
		parent, field := "", path
		if i := strings.LastIndexByte(path, '.'); i >= 0 {
			parent, field = path[:i], path[i+1:]
			parent = parent[strings.LastIndexByte(parent, '.')+1:]
		}
		switch field {
		case "variants", "allVariants", "featuredVariant":
			n |= needVariants
		case "price", "compareAtPrice", "priceRange":
			n |= needVariants | needPrice
		case "prices":
			n |= needVariants | needAllPrices
		case "availableQuantity", "availableForSale", "inventory":
			n |= needVariants | needLevel
		case "createdAt", "updatedAt":
			switch parent {
			case "variants", "allVariants", "featuredVariant":
				n |= needVariants | needVariantTimes
			}
		case "collections":
			n |= needCollections
		}
	}
	return n
}

// load fetches what n says the selection reads of the given products, one
// statement per kind of row for all of them. It reports whether the
// products' variants are in the grid loader (with their stock and price
// in the scope's currency: one statement), rather than in the variant,
// price and stock loaders (up to three), which hold what the grid leaves
// out.
func (s *catalogScope) load(ctx context.Context, n need, productIDs ...string) (grid bool, err error) {
	if n == 0 || len(productIDs) == 0 {
		return false, nil
	}
	if n&needCollections != 0 {
		if err := s.l.Collections.Load(ctx, productIDs...); err != nil {
			return false, err
		}
	}
	if n&needVariants == 0 {
		return false, nil
	}
	var ids []string
	if n&needVariantTimes == 0 {
		keys := make([]loader.GridKey, len(productIDs))
		for i, id := range productIDs {
			keys[i] = loader.GridKey{ProductID: id, Currency: s.currency}
		}
		if err := s.l.Grid.Load(ctx, keys...); err != nil {
			return false, err
		}
		if n&needAllPrices == 0 {
			return true, nil
		}
		for _, k := range keys {
			vs, _ := s.l.Grid.Cached(k)
			for i := range vs {
				ids = append(ids, vs[i].ID)
			}
		}
		return true, s.loadVariants(ctx, needAllPrices, ids)
	}
	if err := s.l.Variants.Load(ctx, productIDs...); err != nil {
		return false, err
	}
	for _, pid := range productIDs {
		vs, _ := s.l.Variants.Cached(pid)
		for i := range vs {
			ids = append(ids, vs[i].ID)
		}
	}
	return false, s.loadVariants(ctx, n, ids)
}

// loadVariants fetches the prices and stock of variants that n asks for.
func (s *catalogScope) loadVariants(ctx context.Context, n need, variantIDs []string) error {
	if len(variantIDs) == 0 {
		return nil
	}
	if n&(needPrice|needAllPrices) != 0 {
		if err := s.l.Prices.Load(ctx, variantIDs...); err != nil {
			return err
		}
	}
	if n&needLevel != 0 {
		if err := s.l.Inventory.Load(ctx, variantIDs...); err != nil {
			return err
		}
	}
	return nil
}

// loadFailure is what a synchronous getter panics with when the data
// nobody loaded for it cannot be loaded on demand: it has no error to
// return (returning one would put it in a goroutine of its own).
// graph-gophers recovers the panic of each field and answers it like a
// returned error, null at the field's path with an internal error.
type loadFailure struct{ err error }

func (f loadFailure) Error() string { return "catalog: load on demand: " + f.err.Error() }
func (f loadFailure) Unwrap() error { return f.err }

// mustLoad returns the value of key from g: cached when a parent loaded
// it (the rule), else fetched now with the scope's context, together
// with whatever is wanted.
func mustLoad[V any](s *catalogScope, g *loader.Group[string, V], key string) V {
	if v, ok := g.Cached(key); ok {
		return v
	}
	v, err := g.Get(s.ctx, key)
	if err != nil {
		panic(loadFailure{err})
	}
	return v
}

// gridVariants returns a product's variants as the grid loader holds
// them; false when it holds none for the scope's currency.
func (s *catalogScope) gridVariants(productID string) ([]catalog.GridVariant, bool) {
	return s.l.Grid.Cached(loader.GridKey{ProductID: productID, Currency: s.currency})
}

func (s *catalogScope) variants(productID string) []catalog.Variant {
	return mustLoad(s, s.l.Variants, productID)
}

func (s *catalogScope) prices(variantID string) []catalog.Price {
	return mustLoad(s, s.l.Prices, variantID)
}

func (s *catalogScope) level(variantID string) catalog.InventoryLevel {
	return mustLoad(s, s.l.Inventory, variantID)
}

func (s *catalogScope) collections(productID string) []catalog.Collection {
	return mustLoad(s, s.l.Collections, productID)
}

// price is a variant's price in the scope's currency, nil when it has
// none in it.
func (s *catalogScope) price(variantID string) *catalog.Price {
	ps := s.prices(variantID)
	for i := range ps {
		if ps[i].Amount.Currency() == s.currency {
			return &ps[i]
		}
	}
	return nil
}

// canReadInventory asks once whether the caller may see stock figures.
func (s *catalogScope) canReadInventory(ctx context.Context) error {
	s.inventoryOnce.Do(func() { s.inventoryErr = s.svc.CanReadInventory(ctx) })
	return s.inventoryErr
}
