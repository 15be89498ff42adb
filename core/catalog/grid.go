package catalog

import (
	"context"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/money"
)

// GridVariant is a variant as a product grid shows it: with its stock and
// its price in one currency. Its Variant's CreatedAt and UpdatedAt are
// zero, and so is its Level's UpdatedAt: a grid does not read them (parsing
// them costs more than the rest of the row). Read variants with
// VariantsByProductIDs where those matter.
type GridVariant struct {
	Variant
	// Level is the variant's stock; zero when it has no stock row.
	Level InventoryLevel
	// Price is the variant's price in the currency asked for; nil when it
	// has none in it.
	Price *Price
}

// VariantGrid returns the variants (archived ones included) of the given
// products, by product id, in position order, each with its stock and its
// price in currency: one permission check and one statement for any number
// of products, where VariantsByProductIDs, InventoryLevels and
// PricesByVariantIDs take three. A storefront's product grid reads this
// after each page of products. The variants of products the caller may not
// see are left out, as in VariantsByProductIDs. A buyer's answer may come
// from memory (as fresh as CheckoutVariants'); its slices are shared and
// read-only.
func (s *Service) VariantGrid(ctx context.Context, productIDs []string, currency money.Currency) (map[string][]GridVariant, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Read); err != nil {
		return nil, err
	}
	activeOnly := !s.seesAll(ctx)
	load := func(ids []string) (map[string][]GridVariant, error) {
		return s.store.VariantGrid(ctx, ids, currency, activeOnly)
	}
	// A buyer's grid is answered from memory where fresh (grid_cache.go):
	// the storefront reads it with every page of products, and it changes
	// with the catalog and the stock moves that drop or update it.
	if k := authz.SubjectFrom(ctx).Kind; activeOnly && (k == authz.KindAnonymous || k == authz.KindCustomer) {
		return s.cache.gridGet(ctx, productIDs, currency.Code(), load)
	}
	return load(productIDs)
}
