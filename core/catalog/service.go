package catalog

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
)

// maxSearchTerms bounds the LIKE clauses one listing may add.
const maxSearchTerms = 8

// Options configure NewService. Authz and Outbox are required; the other
// fields default when zero.
type Options struct {
	// Authz is asked before every operation, with the subject in the
	// context. Required.
	Authz authz.Authorizer
	// Outbox records the catalog's events in the transaction of the
	// change that causes them: core/events' outbox in the app, an
	// eventstest.Outbox in tests. Required: other instances drop their
	// cached catalog answers when these events reach them.
	Outbox Outbox
	// Clock stamps writes (tests move it); nil is the system clock.
	Clock clock.Clock
	// DefaultCurrency is the currency of a shop that never chose its
	// currencies: GraphQL shows prices asked for without a currency in
	// the first of the shop settings' currencies, which start as this
	// one. Zero is USD.
	DefaultCurrency money.Currency
}

// Service is the catalog: products, variants, prices, stock and
// collections. Every method first asks the authorizer, with the subject in
// ctx: queries need read permission on the object they return, mutations
// write permission (inventory adjustments: inventory write). Callers who may
// not write products see ACTIVE products only.
type Service struct {
	db       *store.DB
	store    *catalogStore
	authz    authz.Authorizer
	clock    clock.Clock
	currency money.Currency
	outbox   Outbox
	// cache holds the checkout answers this service's changes drop.
	cache *checkoutCache
}

// NewService returns the catalog service over db. It fails when a
// required option is missing.
func NewService(db *store.DB, opts Options) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("catalog: no database")
	case opts.Authz == nil:
		return nil, errors.New("catalog: Options.Authz is required")
	case opts.Outbox == nil:
		return nil, errors.New("catalog: Options.Outbox is required")
	}
	s := &Service{db: db, store: newCatalogStore(db), authz: opts.Authz, clock: opts.Clock,
		currency: opts.DefaultCurrency, outbox: opts.Outbox, cache: checkoutCacheOf(db)}
	if s.clock == nil {
		s.clock = clock.System
	}
	if s.currency.IsZero() {
		s.currency = money.USD
	}
	return s, nil
}

// DefaultCurrency is the currency of prices asked for without one.
func (s *Service) DefaultCurrency() money.Currency { return s.currency }

// now is the time of a write, cut to the microsecond PostgreSQL keeps, so
// what a mutation returns equals what a later read returns and cursors made
// from either compare the same.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// seesAll reports whether the caller sees products in every status: staff
// who may write products do, buyers see ACTIVE ones only.
func (s *Service) seesAll(ctx context.Context) bool {
	return s.authz.Can(ctx, authz.Product, authz.Write) == nil
}

// actor names the subject of ctx for the stock ledger.
func actor(ctx context.Context) string {
	sub := authz.SubjectFrom(ctx)
	if sub.ID != "" {
		return sub.ID
	}
	return string(sub.Kind)
}

// ListProducts returns one page of products matching f, in f's order.
// Pages are keyset-paginated: a cursor stays valid, and pages stay free of
// gaps and repeats, while products are added.
func (s *Service) ListProducts(ctx context.Context, f ProductFilter, req page.Request) (page.Page[Product], error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Read); err != nil {
		return page.Page[Product]{}, err
	}
	q := listQuery{sortKey: f.SortKey, reverse: f.Reverse, after: req.After, status: f.Status}
	if q.sortKey == "" {
		q.sortKey = SortID
		if f.Collection != "" {
			q.sortKey = SortManual
		}
	}
	switch q.sortKey {
	case SortID, SortTitle, SortCreatedAt, SortUpdatedAt:
	case SortManual:
		if f.Collection == "" {
			return page.Page[Product]{}, errs.Invalid("sortKey", CodeInvalidSortKey, "MANUAL order needs a collection")
		}
	default:
		return page.Page[Product]{}, errs.Invalid("sortKey", CodeInvalidSortKey, "unknown sort key "+string(f.SortKey))
	}
	if q.status != "" && !q.status.Valid() {
		return page.Page[Product]{}, errs.Invalid("status", CodeInvalidStatus, "unknown status "+string(f.Status))
	}
	empty := page.Page[Product]{HasPrevious: req.After != nil}
	if !s.seesAll(ctx) {
		if q.status != "" && q.status != StatusActive {
			return empty, nil
		}
		q.status = StatusActive
	}
	if f.Collection != "" {
		if strings.HasPrefix(f.Collection, "col_") {
			q.collectionID = f.Collection
		} else {
			c, err := s.store.CollectionByHandle(ctx, f.Collection)
			if errors.Is(err, errs.ErrNotFound) {
				return empty, nil // an unknown collection lists nothing
			}
			if err != nil {
				return page.Page[Product]{}, err
			}
			q.collectionID = c.ID
		}
	}
	if terms := strings.Fields(strings.ToLower(f.Query)); len(terms) > 0 {
		if len(terms) > maxSearchTerms {
			terms = terms[:maxSearchTerms]
		}
		q.terms = terms
	}
	if req.First <= 0 {
		return empty, nil
	}
	q.limit = req.First + 1
	items, cursors, err := s.store.ListProducts(ctx, q)
	if err != nil {
		return page.Page[Product]{}, err
	}
	p := page.Page[Product]{Items: items, Cursors: cursors, HasPrevious: req.After != nil}
	if len(items) > req.First {
		p.Items, p.Cursors, p.HasNext = items[:req.First], cursors[:req.First], true
	}
	return p, nil
}

// GetProduct returns a product by id. Products the caller may not see are
// not found.
func (s *Service) GetProduct(ctx context.Context, id string) (Product, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Read); err != nil {
		return Product{}, err
	}
	p, err := s.store.ProductByID(ctx, id)
	return s.visible(ctx, p, err)
}

// GetProductByHandle returns a product by handle. Products the caller may
// not see are not found.
func (s *Service) GetProductByHandle(ctx context.Context, handle string) (Product, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Read); err != nil {
		return Product{}, err
	}
	p, err := s.store.ProductByHandle(ctx, handle)
	return s.visible(ctx, p, err)
}

func (s *Service) visible(ctx context.Context, p Product, err error) (Product, error) {
	if err != nil {
		return Product{}, err
	}
	if p.Status != StatusActive && !s.seesAll(ctx) {
		return Product{}, productNotFound("")
	}
	return p, nil
}

// ExistingProductHandles returns which of handles name a product, in any
// status: importers and the demo seeder use it to skip what exists.
func (s *Service) ExistingProductHandles(ctx context.Context, handles []string) (map[string]bool, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Write); err != nil {
		return nil, err
	}
	return s.store.TakenHandles(ctx, handles)
}

// GetVariant returns a variant by id. Variants of products the caller may
// not see are not found.
func (s *Service) GetVariant(ctx context.Context, id string) (Variant, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Read); err != nil {
		return Variant{}, err
	}
	v, err := s.store.VariantByID(ctx, id)
	if err != nil {
		return Variant{}, err
	}
	if !s.seesAll(ctx) {
		p, err := s.store.ProductByID(ctx, v.ProductID)
		if err != nil || p.Status != StatusActive {
			return Variant{}, variantNotFound("")
		}
	}
	return v, nil
}

// VariantsByProductIDs returns the variants (archived ones included) of
// the given products, by product id, in position order, with one query for
// any number of products: dataloaders call it once per page.
func (s *Service) VariantsByProductIDs(ctx context.Context, productIDs []string) (map[string][]Variant, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Read); err != nil {
		return nil, err
	}
	return s.store.VariantsByProductIDs(ctx, productIDs, !s.seesAll(ctx))
}

// PricesByVariantIDs returns the prices of the given variants, by variant
// id, ordered by currency, with one query.
func (s *Service) PricesByVariantIDs(ctx context.Context, variantIDs []string) (map[string][]Price, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Read); err != nil {
		return nil, err
	}
	return s.store.PricesByVariantIDs(ctx, variantIDs)
}

// InventoryLevels returns the stock of the given variants, by variant id,
// with one query. Availability is public (storefronts show "sold out");
// show on hand and reserved figures only to callers CanReadInventory
// allows.
func (s *Service) InventoryLevels(ctx context.Context, variantIDs []string) (map[string]InventoryLevel, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Read); err != nil {
		return nil, err
	}
	return s.store.LevelsByVariantIDs(ctx, variantIDs)
}

// CanReadInventory returns nil when the caller may see stock figures
// (on hand, reserved, the ledger), and the authorizer's error otherwise.
func (s *Service) CanReadInventory(ctx context.Context) error {
	return s.authz.Can(ctx, authz.Inventory, authz.Read)
}

// InventoryAdjustments returns a page of a variant's stock ledger, newest
// first.
func (s *Service) InventoryAdjustments(ctx context.Context, variantID string, req page.Request) (page.Page[InventoryAdjustment], error) {
	if err := s.authz.Can(ctx, authz.Inventory, authz.Read); err != nil {
		return page.Page[InventoryAdjustment]{}, err
	}
	p := page.Page[InventoryAdjustment]{HasPrevious: req.After != nil}
	if req.First <= 0 {
		return p, nil
	}
	before := ""
	if req.After != nil {
		before = req.After.ID
	}
	items, err := s.store.Adjustments(ctx, variantID, before, req.First+1)
	if err != nil {
		return page.Page[InventoryAdjustment]{}, err
	}
	if len(items) > req.First {
		items, p.HasNext = items[:req.First], true
	}
	p.Items = items
	p.Cursors = make([]page.Cursor, len(items))
	for i, a := range items {
		p.Cursors[i] = page.Cursor{ID: a.ID}
	}
	return p, nil
}

// CollectionsByProductIDs returns the collections of the given products, by
// product id, with one query.
func (s *Service) CollectionsByProductIDs(ctx context.Context, productIDs []string) (map[string][]Collection, error) {
	if err := s.authz.Can(ctx, authz.Collection, authz.Read); err != nil {
		return nil, err
	}
	return s.store.CollectionsByProductIDs(ctx, productIDs)
}

// ListCollections returns one page of collections, by title.
func (s *Service) ListCollections(ctx context.Context, req page.Request) (page.Page[Collection], error) {
	if err := s.authz.Can(ctx, authz.Collection, authz.Read); err != nil {
		return page.Page[Collection]{}, err
	}
	p := page.Page[Collection]{HasPrevious: req.After != nil}
	if req.First <= 0 {
		return p, nil
	}
	items, cursors, err := s.store.ListCollections(ctx, req.After, req.First+1)
	if err != nil {
		return page.Page[Collection]{}, err
	}
	if len(items) > req.First {
		items, cursors, p.HasNext = items[:req.First], cursors[:req.First], true
	}
	p.Items, p.Cursors = items, cursors
	return p, nil
}

// GetCollection returns a collection by id.
func (s *Service) GetCollection(ctx context.Context, id string) (Collection, error) {
	if err := s.authz.Can(ctx, authz.Collection, authz.Read); err != nil {
		return Collection{}, err
	}
	return s.store.CollectionByID(ctx, id)
}

// GetCollectionByHandle returns a collection by handle.
func (s *Service) GetCollectionByHandle(ctx context.Context, handle string) (Collection, error) {
	if err := s.authz.Can(ctx, authz.Collection, authz.Read); err != nil {
		return Collection{}, err
	}
	return s.store.CollectionByHandle(ctx, handle)
}
