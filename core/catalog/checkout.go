package catalog

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
)

// CheckoutVariant is a variant as a cart prices it: what to show and
// snapshot into an order line, its price in the cart's currency, whether
// it is for sale, and how much of it can still be sold.
type CheckoutVariant struct {
	VariantID    string
	ProductID    string
	SKU          string
	ProductTitle string
	VariantTitle string
	WeightGrams  int64
	// ProductStatus and Archived say whether the variant is for sale:
	// only a variant that is not archived, of an ACTIVE product, is.
	ProductStatus ProductStatus
	Archived      bool
	// Price is the selling price in the currency asked for; nil when the
	// variant has no price in it.
	Price *money.Money
	// Available is on hand minus reserved, never below zero.
	Available int64
}

// ForSale reports whether buyers may buy the variant: it is not archived
// and its product is ACTIVE.
func (v *CheckoutVariant) ForSale() bool { return !v.Archived && v.ProductStatus == StatusActive }

// CheckoutReaderOptions configure NewCheckoutReader. No field is required
// yet; the struct keeps the constructor's shape the same as every other's.
type CheckoutReaderOptions struct{}

// CheckoutReader reads what a cart needs of the catalog: the catalog's
// side of the cart's Catalog port (ADR 0006, ADR 0008).
//
// It asks no authorizer: the cart has authorized its caller (a buyer
// reaching their own cart), and it answers only what buyers see of a
// variant for sale anyway (titles, SKU, price, availability, weight).
// The cart must not show a variant that is not ForSale. Only core/app
// builds it and hands it to the cart. It reads in the transaction carried
// by ctx, if any, so checkout prices the cart in its own transaction.
type CheckoutReader struct {
	store *catalogStore
}

// NewCheckoutReader returns the catalog's checkout reader over db.
func NewCheckoutReader(db *store.DB, _ CheckoutReaderOptions) *CheckoutReader {
	return &CheckoutReader{store: newCatalogStore(db)}
}

// CheckoutVariants returns the variants with the given ids that exist, by
// id, with their prices in cur, in one query. An id with no variant is
// absent from the map.
func (r *CheckoutReader) CheckoutVariants(ctx context.Context, ids []string, cur money.Currency) (map[string]CheckoutVariant, error) {
	if cur.IsZero() {
		return nil, fmt.Errorf("catalog: checkout variants need a currency")
	}
	return r.store.CheckoutVariants(ctx, ids, cur)
}

// checkoutRow is one variant joined with its product, its price in one
// currency and its stock.
type checkoutRow struct {
	ID            string        `bun:"id"`
	ProductID     string        `bun:"product_id"`
	SKU           string        `bun:"sku"`
	Title         string        `bun:"title"`
	WeightGrams   int64         `bun:"weight_grams"`
	Archived      bool          `bun:"archived"`
	ProductTitle  string        `bun:"product_title"`
	ProductStatus ProductStatus `bun:"product_status"`
	Amount        *int64        `bun:"amount"`
	OnHand        *int64        `bun:"on_hand"`
	Reserved      *int64        `bun:"reserved"`
}

// CheckoutVariants is the query of CheckoutReader. It lives beside its
// only caller rather than in store.go: it is the catalog's one read made
// for another domain, and the join answers a cart of any size in one
// round trip.
func (s *catalogStore) CheckoutVariants(ctx context.Context, ids []string, cur money.Currency) (map[string]CheckoutVariant, error) {
	out := make(map[string]CheckoutVariant, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []checkoutRow
	err := s.db.Conn(ctx).NewRaw(`SELECT v.id, v.product_id, v.sku, v.title, v.weight_grams, v.archived,
			p.title AS product_title, p.status AS product_status,
			vp.amount, il.on_hand, il.reserved
		FROM product_variants AS v
		JOIN products AS p ON p.id = v.product_id
		LEFT JOIN variant_prices AS vp ON vp.variant_id = v.id AND vp.currency = ?
		LEFT JOIN inventory_levels AS il ON il.variant_id = v.id
		WHERE v.id IN (?)`, cur.Code(), bun.In(ids)).Scan(ctx, &rows)
	if err != nil && !store.IsNoRows(err) {
		return nil, fmt.Errorf("read checkout variants: %w", err)
	}
	for _, r := range rows {
		v := CheckoutVariant{
			VariantID: r.ID, ProductID: r.ProductID, SKU: r.SKU, ProductTitle: r.ProductTitle, VariantTitle: r.Title,
			WeightGrams: r.WeightGrams, ProductStatus: r.ProductStatus, Archived: r.Archived,
		}
		if r.Amount != nil {
			p := money.New(*r.Amount, cur)
			v.Price = &p
		}
		if r.OnHand != nil && r.Reserved != nil {
			v.Available = InventoryLevel{OnHand: *r.OnHand, Reserved: *r.Reserved}.Available()
		}
		out[r.ID] = v
	}
	return out, nil
}
