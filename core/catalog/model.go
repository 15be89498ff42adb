package catalog

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/money"
)

// ProductStatus says whether a product is for sale.
type ProductStatus string

// The product statuses. Only ACTIVE products are visible to buyers.
const (
	// StatusDraft is a product being prepared; only staff see it.
	StatusDraft ProductStatus = "DRAFT"
	// StatusActive is a product for sale.
	StatusActive ProductStatus = "ACTIVE"
	// StatusArchived is a product no longer sold but kept for history
	// (orders keep pointing at its variants).
	StatusArchived ProductStatus = "ARCHIVED"
)

// Valid reports whether s is one of the known statuses.
func (s ProductStatus) Valid() bool {
	return s == StatusDraft || s == StatusActive || s == StatusArchived
}

// Product is something the shop sells, in one or more variants.
type Product struct {
	bun.BaseModel `bun:"table:products"`

	// ID is "prd_" followed by a sortable id.
	ID string `bun:"id,pk"`
	// Handle is the unique, URL-friendly name of the product
	// ("oolong-tea"), used by storefront URLs.
	Handle      string        `bun:"handle"`
	Title       string        `bun:"title"`
	Description string        `bun:"description"`
	Status      ProductStatus `bun:"status"`
	Vendor      string        `bun:"vendor"`
	ProductType string        `bun:"product_type"`
	Tags        []string      `bun:"tags"`
	// Options are the dimensions the variants differ in (Size, Color), in
	// display order. A product without options has one variant.
	Options   []Option  `bun:"options"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// Option is a dimension in which a product's variants differ, with its
// values in display order: Size: S, M, L.
type Option struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Variant is one purchasable version of a product (a size and color): it
// has its own SKU, prices and stock.
type Variant struct {
	bun.BaseModel `bun:"table:product_variants"`

	// ID is "var_" followed by a sortable id.
	ID        string `bun:"id,pk"`
	ProductID string `bun:"product_id"`
	// SKU is the merchant's stock keeping unit; empty or unique.
	SKU string `bun:"sku"`
	// Title is "M / Red" unless the merchant named the variant.
	Title string `bun:"title"`
	// OptionValues[i] is the value of the product's Options[i].
	OptionValues []string `bun:"option_values"`
	// Position orders the variants of a product, from 0.
	Position    int       `bun:"position"`
	WeightGrams int       `bun:"weight_grams"`
	Archived    bool      `bun:"archived"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

// SelectedOption is one option value of a variant, by option name.
type SelectedOption struct {
	Name  string
	Value string
}

// SelectedOptions pairs the variant's values with the names of the options
// of p, its product.
func (v *Variant) SelectedOptions(p *Product) []SelectedOption {
	out := make([]SelectedOption, 0, len(v.OptionValues))
	for i, val := range v.OptionValues {
		if i < len(p.Options) {
			out = append(out, SelectedOption{Name: p.Options[i].Name, Value: val})
		}
	}
	return out
}

// Price is what a variant costs in one currency.
type Price struct {
	VariantID string
	// Amount is the selling price.
	Amount money.Money
	// CompareAt is the "was" price shown struck through; nil when the
	// variant is not on sale in this currency.
	CompareAt *money.Money
}

// InventoryLevel is a variant's stock.
type InventoryLevel struct {
	bun.BaseModel `bun:"table:inventory_levels"`

	VariantID string `bun:"variant_id,pk"`
	// OnHand is what the shop physically holds.
	OnHand int64 `bun:"on_hand"`
	// Reserved is held for placed orders not yet shipped.
	Reserved  int64     `bun:"reserved"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// Available is what can still be sold: on hand minus reserved, never below
// zero (stock counted down under reservations shows as sold out, not as a
// negative number to buyers).
func (l InventoryLevel) Available() int64 {
	if a := l.OnHand - l.Reserved; a > 0 {
		return a
	}
	return 0
}

// AdjustmentReason says why stock was adjusted by hand.
type AdjustmentReason string

// The adjustment reasons.
const (
	// ReasonReceived is stock delivered by a supplier (and initial stock).
	ReasonReceived AdjustmentReason = "RECEIVED"
	// ReasonCorrection fixes a count after a stock take.
	ReasonCorrection AdjustmentReason = "CORRECTION"
	// ReasonDamaged is stock that can no longer be sold.
	ReasonDamaged AdjustmentReason = "DAMAGED"
	// ReasonLost is stock that went missing.
	ReasonLost AdjustmentReason = "LOST"
	// ReasonReturned is stock a buyer sent back, put back on the shelf.
	ReasonReturned AdjustmentReason = "RETURNED"
	// ReasonOther is anything else; the note should say what.
	ReasonOther AdjustmentReason = "OTHER"
)

// Valid reports whether r is one of the known reasons.
func (r AdjustmentReason) Valid() bool {
	switch r {
	case ReasonReceived, ReasonCorrection, ReasonDamaged, ReasonLost, ReasonReturned, ReasonOther:
		return true
	}
	return false
}

// InventoryAdjustment is one row of the stock ledger: who changed a
// variant's stock on hand, by how much, and why.
type InventoryAdjustment struct {
	bun.BaseModel `bun:"table:inventory_adjustments"`

	// ID is "adj_" followed by a sortable id.
	ID        string `bun:"id,pk"`
	VariantID string `bun:"variant_id"`
	// Delta is added to on hand: positive for stock in, negative for out.
	Delta  int64            `bun:"delta"`
	Reason AdjustmentReason `bun:"reason"`
	Note   string           `bun:"note"`
	// Actor is the id of the subject that made the change.
	Actor string `bun:"actor"`
	// OnHandAfter is the stock on hand right after this adjustment.
	OnHandAfter int64     `bun:"on_hand_after"`
	CreatedAt   time.Time `bun:"created_at"`
}

// Collection is a merchant-curated group of products (a category, a sale,
// a season), in the merchant's order.
type Collection struct {
	bun.BaseModel `bun:"table:collections"`

	// ID is "col_" followed by a sortable id.
	ID          string    `bun:"id,pk"`
	Handle      string    `bun:"handle"`
	Title       string    `bun:"title"`
	Description string    `bun:"description"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

// ProductSortKey orders a product listing.
type ProductSortKey string

// The product sort keys. Every one is paired with the id as tie-breaker.
const (
	// SortID orders by id, which is creation order; the default.
	SortID ProductSortKey = "ID"
	// SortTitle orders by title, ignoring case.
	SortTitle ProductSortKey = "TITLE"
	// SortCreatedAt orders by creation time.
	SortCreatedAt ProductSortKey = "CREATED_AT"
	// SortUpdatedAt orders by last change.
	SortUpdatedAt ProductSortKey = "UPDATED_AT"
	// SortManual is the merchant's order inside a collection; it needs a
	// collection filter.
	SortManual ProductSortKey = "MANUAL"
)

// ProductFilter narrows and orders ListProducts.
type ProductFilter struct {
	// Query keeps products whose title, handle, vendor or one of whose
	// SKUs contains every whitespace-separated term, ignoring case.
	Query string
	// Collection keeps products of one collection, by id or handle.
	Collection string
	// Status keeps products in one status; "" keeps all the caller may
	// see. Callers without product write permission only ever see ACTIVE
	// products.
	Status ProductStatus
	// SortKey orders the list; "" is SortID, or SortManual when
	// Collection is set.
	SortKey ProductSortKey
	// Reverse turns the order around.
	Reverse bool
}
