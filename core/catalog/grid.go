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
// see are left out, as in VariantsByProductIDs.
func (s *Service) VariantGrid(ctx context.Context, productIDs []string, currency money.Currency) (map[string][]GridVariant, error) {
	if err := s.authz.Can(ctx, authz.Product, authz.Read); err != nil {
		return nil, err
	}
	return s.store.VariantGrid(ctx, productIDs, currency, !s.seesAll(ctx))
}
