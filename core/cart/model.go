package cart

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/shipping"
)

// Limits on a cart.
const (
	// MaxLines is the most lines (distinct variants) a cart holds, and
	// the most lines one call may add, change or remove.
	MaxLines = 100
	// maxText bounds every text field of an address.
	maxText = 200
	// maxEmail is the longest email address (RFC 5321).
	maxEmail = 254
)

// The id prefixes of cart records.
const (
	Prefix     = "cart"
	LinePrefix = "cln"
)

// Cart is a buyer's cart: a guest's, reached with the cart token returned
// when it was created, or a signed-in buyer's, reached as that buyer. Its
// currency is fixed at creation. The stored columns are what the buyer
// chose; Lines, ShippingRate and Totals are priced on every read from the
// catalog, shipping, tax and the shop's settings, never stored and never
// taken from a client.
type Cart struct {
	bun.BaseModel `bun:"table:carts"`

	// ID is "cart_" followed by a sortable id.
	ID string `bun:"id,pk"`
	// TokenHash is the SHA-256 (hex) of a guest cart's token; nil for a
	// signed-in buyer's cart. Never shown.
	TokenHash *string `bun:"token_hash"`
	// CustomerID is the signed-in buyer the cart belongs to; nil for a
	// guest's.
	CustomerID *string        `bun:"customer_id"`
	Currency   money.Currency `bun:"currency"`
	// Email is where the order's messages will go, lower-cased; "" until
	// given.
	Email string `bun:"email"`
	// ShippingAddress and BillingAddress are nil until given; an order
	// without a billing address is billed to the shipping address.
	ShippingAddress *order.Address `bun:"shipping_address"`
	BillingAddress  *order.Address `bun:"billing_address"`
	// ShippingMethodID is the shipping method the buyer chose; "" until
	// chosen.
	ShippingMethodID string `bun:"shipping_method_id"`
	// OrderID is the order the cart placed; "" until completed.
	OrderID string `bun:"order_id"`
	// MergedInto is the buyer's cart a guest cart was merged into at
	// sign-in, or the new cart that replaced a buyer's cart in a
	// currency the shop no longer sells in (Create); a merged cart is
	// reached no more.
	MergedInto  *string    `bun:"merged_into"`
	CompletedAt *time.Time `bun:"completed_at"`
	CreatedAt   time.Time  `bun:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at"`
	// TouchedAt is when the cart was last changed, to the hour (see
	// touchEvery), or when it was completed or merged: its lifetime
	// counts from it (Purge).
	TouchedAt time.Time `bun:"touched_at"`

	// Lines are the cart's lines, oldest first, priced.
	Lines []*Line `bun:"-"`
	// ShippingRate is the chosen method priced for this cart; nil when
	// none is chosen, there is no shipping address, or the method no
	// longer ships this cart (Complete then refuses it).
	ShippingRate *shipping.Rate `bun:"-"`
	// Totals are the cart's money: the lines that can be priced (see
	// Line.Problem) and the shipping rate, taxed at the rate of the
	// shipping address (zero before there is one).
	Totals pricing.Totals `bun:"-"`

	// rates are the methods that ship the cart as priced, cheapest
	// first, when quoted is true (it has a shipping address).
	rates  []shipping.Rate `bun:"-"`
	quoted bool            `bun:"-"`
}

// Completed reports whether the cart placed its order.
func (c *Cart) Completed() bool { return c.CompletedAt != nil }

// Line is one variant in a cart.
type Line struct {
	bun.BaseModel `bun:"table:cart_lines"`

	// ID is "cln_" followed by a sortable id.
	ID        string    `bun:"id,pk"`
	CartID    string    `bun:"cart_id"`
	VariantID string    `bun:"variant_id"`
	Quantity  int64     `bun:"quantity"`
	CreatedAt time.Time `bun:"created_at"`

	// What the catalog says of the variant now; the titles and SKU are
	// empty when the variant is not for sale.
	ProductID    string `bun:"-"`
	SKU          string `bun:"-"`
	ProductTitle string `bun:"-"`
	VariantTitle string `bun:"-"`
	// ProductHandle and SelectedOptions (shared with the catalog's
	// cache: read-only) let a storefront link the line to its product
	// page and show the variant's options.
	ProductHandle   string                   `bun:"-"`
	SelectedOptions []catalog.SelectedOption `bun:"-"`
	WeightGrams     int64                    `bun:"-"`
	// Available is how many units can still be bought.
	Available int64 `bun:"-"`
	// The line's money in the cart's currency (zero when the line cannot
	// be priced): UnitPrice from the catalog, and the rest as
	// ComputeTotals' LineTotals.
	UnitPrice money.Money `bun:"-"`
	Subtotal  money.Money `bun:"-"`
	Discount  money.Money `bun:"-"`
	Tax       money.Money `bun:"-"`
	Total     money.Money `bun:"-"`
	// Problem is "" when the line can be bought as it is, else the code
	// of what stands in the way (CodeVariantNotFound,
	// CodeVariantArchived, CodeVariantUnavailable: not priced, left out
	// of the totals; CodeInsufficientStock, CodeQuantityOverLimit:
	// priced, to be lowered before checkout).
	Problem string `bun:"-"`
}

// priced reports whether the line counts in the totals.
func (l *Line) priced() bool {
	switch l.Problem {
	case CodeVariantNotFound, CodeVariantArchived, CodeVariantUnavailable:
		return false
	}
	return true
}

// Ref names a cart the way a buyer reaches it: with its token (a guest,
// or anyone the guest gave it to), or as the signed-in buyer it belongs
// to, by ID or, with neither ID nor Token, as the buyer's open cart.
// Another buyer's cart is not found, whether or not it exists.
type Ref struct {
	ID    string
	Token string
}

// Created is a new cart and, for a guest's cart, the token that reaches
// it: shown once, the cart keeps only its hash.
type Created struct {
	Cart  *Cart
	Token string
}

// LineInput adds units of a variant to a cart.
type LineInput struct {
	VariantID string
	Quantity  int64
}

// LineUpdate sets the quantity of a line; 0 removes it.
type LineUpdate struct {
	LineID   string
	Quantity int64
}
