// Package loader holds the per-request dataloaders of the GraphQL API, so
// that a page of products with their variants, prices and stock, or a page
// of buyers with their addresses, tags and groups, costs a fixed number of
// queries whatever the page size.
//
// The application gives every request a set in its context, made when a
// resolver first asks for it:
//
//	srv, err := graphql.New(services, graphql.Options{
//		PerRequest: func(ctx context.Context) context.Context {
//			return loader.AttachNew(ctx, loader.Services{Catalog: catalogService, Customers: accounts})
//		},
//	})
//
// Resolvers take it with From. The loaders batch by siblings (see Group):
// a list resolver loads the keys of its page (Load) before its children
// read them (Cached), or announces them (Want) so that the first child that
// needs one fetches all of them; fetching variants announces their ids to
// the price and stock loaders in turn. Grid reads a page's variants with
// their stock and price in one statement.
package loader

import (
	"context"
	"sync"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/money"
)

// Services are the core services the loaders read from.
type Services struct {
	Catalog *catalog.Service
	// Customers are the accounts; nil leaves the customer loaders nil
	// (resolvers then make their own, see graphql/resolver).
	Customers *account.Service
}

// Loaders is one request's set of dataloaders.
type Loaders struct {
	// Variants loads a product's variants (archived ones included), in
	// position order, by product id.
	Variants *Group[string, []catalog.Variant]
	// Prices loads a variant's prices, by variant id.
	Prices *Group[string, []catalog.Price]
	// Inventory loads a variant's stock, by variant id.
	Inventory *Group[string, catalog.InventoryLevel]
	// Collections loads a product's collections, by product id.
	Collections *Group[string, []catalog.Collection]
	// Grid loads a product's variants with their stock and their price in
	// one currency, by product id and currency, in one statement for a
	// page (catalog.Service.VariantGrid): what a product grid shows.
	Grid *Group[GridKey, []catalog.GridVariant]

	// Addresses loads a buyer's address book, oldest first, by customer
	// id. Default addresses are looked up in it, not loaded one by one.
	Addresses *Group[string, []*account.Address]
	// CustomerTags loads a buyer's tags, sorted, by customer id.
	CustomerTags *Group[string, []string]
	// CustomerGroups loads the groups a buyer belongs to, by name, by
	// customer id.
	CustomerGroups *Group[string, []*account.Group]
	// GroupSizes loads how many buyers a group has, by group id.
	GroupSizes *Group[string, int]
}

// New returns a fresh set of loaders over s. Make one per request: the
// loaders cache what they fetched, with the permissions of the caller who
// caused the fetch.
func New(s Services) *Loaders {
	l := &Loaders{}
	l.Prices = NewGroup(s.Catalog.PricesByVariantIDs)
	l.Inventory = NewGroup(s.Catalog.InventoryLevels)
	l.Collections = NewGroup(s.Catalog.CollectionsByProductIDs)
	l.Variants = NewGroup(func(ctx context.Context, productIDs []string) (map[string][]catalog.Variant, error) {
		m, err := s.Catalog.VariantsByProductIDs(ctx, productIDs)
		if err != nil {
			return nil, err
		}
		// Whoever shows variants usually shows their price and stock:
		// announce them so each is one query for the whole page.
		n := 0
		for _, vs := range m {
			n += len(vs)
		}
		ids := make([]string, 0, n)
		for _, pid := range productIDs {
			for i := range m[pid] {
				ids = append(ids, m[pid][i].ID)
			}
		}
		l.Prices.Want(ids...)
		l.Inventory.Want(ids...)
		return m, nil
	})
	l.Grid = NewGroup(func(ctx context.Context, keys []GridKey) (map[GridKey][]catalog.GridVariant, error) {
		// One statement per currency; the keys of one page share theirs.
		out := make(map[GridKey][]catalog.GridVariant, len(keys))
		for len(keys) > 0 {
			cur := keys[0].Currency
			var ids []string
			var others []GridKey
			for _, k := range keys {
				if k.Currency == cur {
					ids = append(ids, k.ProductID)
				} else {
					others = append(others, k)
				}
			}
			m, err := s.Catalog.VariantGrid(ctx, ids, cur)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				out[GridKey{ProductID: id, Currency: cur}] = m[id]
			}
			keys = others
		}
		return out, nil
	})
	if s.Customers != nil {
		l.Addresses = NewGroup(s.Customers.AddressesByCustomerIDs)
		l.CustomerTags = NewGroup(s.Customers.TagsByCustomerIDs)
		l.CustomerGroups = NewGroup(s.Customers.GroupsByCustomerIDs)
		l.GroupSizes = NewGroup(s.Customers.GroupSizes)
	}
	return l
}

// WantProducts announces the products of a page to the loaders keyed by
// product id.
func (l *Loaders) WantProducts(ids ...string) {
	l.Variants.Want(ids...)
	l.Collections.Want(ids...)
}

// WantCustomers announces the buyers of a page to the loaders keyed by
// customer id. Without customer loaders (Services.Customers was nil) it
// does nothing.
func (l *Loaders) WantCustomers(ids ...string) {
	if l.Addresses == nil {
		return
	}
	l.Addresses.Want(ids...)
	l.CustomerTags.Want(ids...)
	l.CustomerGroups.Want(ids...)
}

// WantGroups announces the customer groups of a list to the loaders keyed
// by group id.
func (l *Loaders) WantGroups(ids ...string) {
	if l == nil || l.GroupSizes == nil {
		return
	}
	l.GroupSizes.Want(ids...)
}

// GridKey is a key of Loaders.Grid: a product and the currency of the
// prices shown.
type GridKey struct {
	ProductID string
	Currency  money.Currency
}

type ctxKey struct{}

// Attach returns ctx carrying l.
func Attach(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// AttachNew returns ctx carrying a fresh set of loaders over s, made by
// the first From: a request that reads nothing in batches (a cart
// mutation, a checkout step) makes none.
func AttachNew(ctx context.Context, s Services) context.Context {
	return context.WithValue(ctx, ctxKey{}, &lazyLoaders{s: s})
}

// lazyLoaders makes one request's loaders when a resolver first asks.
type lazyLoaders struct {
	once sync.Once
	s    Services
	l    *Loaders
}

// From returns the loaders in ctx, or nil when none were attached.
func From(ctx context.Context) *Loaders {
	switch v := ctx.Value(ctxKey{}).(type) {
	case *Loaders:
		return v
	case *lazyLoaders:
		v.once.Do(func() { v.l = New(v.s) })
		return v.l
	}
	return nil
}
