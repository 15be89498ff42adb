package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kassahq/kassa/core/kit/clock"
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
	// ProductHandle names the product's page; SelectedOptions are the
	// variant's option values by option name (Size: M), what a cart line
	// shows under the title and links to.
	ProductHandle   string
	SelectedOptions []SelectedOption
	WeightGrams     int64
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

// CheckoutReaderOptions configure NewCheckoutReader. Every field
// defaults when zero.
type CheckoutReaderOptions struct {
	// CacheFor is how long a variant's answer is kept in memory (see
	// checkoutCache): this instance's catalog changes drop what they
	// changed at once and its reservations write the new availability
	// in; another instance's changes are seen when their events arrive,
	// at the latest within CacheFor. Zero is DefaultCheckoutCacheFor;
	// negative turns the cache off (every call reads the database).
	CacheFor time.Duration
	// Clock dates the cached answers (tests move it); nil is the system
	// clock.
	Clock clock.Clock
}

// CheckoutReader reads what a cart needs of the catalog: the catalog's
// side of the cart's Catalog port (ADR 0006, ADR 0008).
//
// It asks no authorizer: the cart has authorized its caller (a buyer
// reaching their own cart), and it answers only what buyers see of a
// variant for sale anyway (titles, SKU, price, availability, weight).
// The cart must not show a variant that is not ForSale. Only core/app
// builds it and hands it to the cart. It reads in the transaction carried
// by ctx, if any, so checkout prices the cart in its own transaction.
//
// Answers are kept in memory for CheckoutReaderOptions.CacheFor, shared
// with the catalog Service and Reservations built over the same database,
// which drop what their changes make stale (Reservations write the new
// availability in).
type CheckoutReader struct {
	store *catalogStore
	cache *checkoutCache
}

// NewCheckoutReader returns the catalog's checkout reader over db.
func NewCheckoutReader(db *store.DB, opts CheckoutReaderOptions) *CheckoutReader {
	ttl := opts.CacheFor
	if ttl == 0 {
		ttl = DefaultCheckoutCacheFor
	}
	c := checkoutCacheOf(db)
	c.configure(ttl, opts.Clock)
	return &CheckoutReader{store: newCatalogStore(db), cache: c}
}

// CheckoutVariants returns the variants with the given ids that exist, by
// id, with their prices in cur: from memory where fresh, the rest in one
// query. An id with no variant is absent from the map. The map is the
// caller's; the Price pointers and SelectedOptions in it are shared,
// read-only.
func (r *CheckoutReader) CheckoutVariants(ctx context.Context, ids []string, cur money.Currency) (map[string]CheckoutVariant, error) {
	if cur.IsZero() {
		return nil, fmt.Errorf("catalog: checkout variants need a currency")
	}
	return r.cache.get(ctx, ids, cur.Code(), func(missing []string) (map[string]CheckoutVariant, error) {
		return r.store.CheckoutVariants(ctx, missing, cur)
	})
}

// selectedOptions pairs a variant's option values with its product's
// option names, both as stored (JSON text), as Variant.SelectedOptions
// does.
func selectedOptions(values, options string) ([]SelectedOption, error) {
	var (
		v Variant
		p Product
	)
	if err := json.Unmarshal([]byte(values), &v.OptionValues); err != nil {
		return nil, fmt.Errorf("option values: %w", err)
	}
	if err := json.Unmarshal([]byte(options), &p.Options); err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	return v.SelectedOptions(&p), nil
}

// checkoutVariantsText is the query of CheckoutVariants for n ids: the
// currency, then the ids, bound.
func checkoutVariantsText(n int) string {
	return `SELECT v.id, v.product_id, v.sku, v.title, v.weight_grams, v.archived, v.option_values,
			p.title AS product_title, p.status AS product_status, p.handle, p.options,
			vp.amount, il.on_hand, il.reserved
		FROM product_variants AS v
		JOIN products AS p ON p.id = v.product_id
		LEFT JOIN variant_prices AS vp ON vp.variant_id = v.id AND vp.currency = ?
		LEFT JOIN inventory_levels AS il ON il.variant_id = v.id
		WHERE v.id IN (` + store.Placeholders(n) + `)`
}

// CheckoutVariants is the query of CheckoutReader. It lives beside its
// only caller rather than in store.go: it is the catalog's one read made
// for another domain, and the join answers a cart of any size in one
// round trip. It is prepared (store.DB.QueryStmt, one text per number of
// ids): every cart change and checkout runs it, and PostgreSQL takes
// longer to plan the join than to run it.
func (s *catalogStore) CheckoutVariants(ctx context.Context, ids []string, cur money.Currency) (map[string]CheckoutVariant, error) {
	out := make(map[string]CheckoutVariant, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, 0, 1+len(ids))
	args = append(args, cur.Code())
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.db.QueryStmt(ctx, checkoutVariantsText(len(ids)), args...)
	if err != nil {
		return nil, fmt.Errorf("read checkout variants: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			v                        CheckoutVariant
			values, options          string
			amount, onHand, reserved sql.NullInt64
		)
		if err := rows.Scan(&v.VariantID, &v.ProductID, &v.SKU, &v.VariantTitle, &v.WeightGrams, &v.Archived, &values,
			&v.ProductTitle, &v.ProductStatus, &v.ProductHandle, &options, &amount, &onHand, &reserved); err != nil {
			return nil, fmt.Errorf("read checkout variants: %w", err)
		}
		var err error
		if v.SelectedOptions, err = selectedOptions(values, options); err != nil {
			return nil, fmt.Errorf("read checkout variant %s: %w", v.VariantID, err)
		}
		if amount.Valid {
			p := money.New(amount.Int64, cur)
			v.Price = &p
		}
		if onHand.Valid && reserved.Valid {
			v.Available = InventoryLevel{OnHand: onHand.Int64, Reserved: reserved.Int64}.Available()
		}
		out[v.VariantID] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read checkout variants: %w", err)
	}
	return out, nil
}
