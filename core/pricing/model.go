// Package pricing holds the shape of an order's money: the totals a cart
// shows at every step and an order snapshots at checkout, and the
// adjustments (discounts) that promotions will add to them. The cart
// computes totals (ADR 0008); the order stores them; promotions will add
// adjustments without changing the shape.
package pricing

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kassahq/kassa/core/money"
)

// AdjustmentKind says what an adjustment is.
type AdjustmentKind string

// The kinds of adjustment.
const (
	// Discount lowers what the buyer pays (a promotion, a coupon).
	Discount AdjustmentKind = "DISCOUNT"
)

// Adjustment is one change to the totals made by a rule other than the
// prices: a promotion's discount, later loyalty points. Amount is
// negative when it lowers the total.
type Adjustment struct {
	Kind AdjustmentKind `json:"kind"`
	// Code identifies the rule (a promotion id, a coupon code).
	Code string `json:"code"`
	// Label is what the buyer reads ("10% off shoes").
	Label  string      `json:"label"`
	Amount money.Money `json:"amount"`
}

// Totals are the money of a cart or an order, always computed by the core
// from its lines, never taken from a client.
type Totals struct {
	// Subtotal is the sum of the lines as priced (tax included when the
	// shop's prices include tax).
	Subtotal money.Money `json:"subtotal"`
	// Discounts are the adjustments applied; empty until promotions exist.
	Discounts []Adjustment `json:"discounts"`
	// DiscountTotal is the sum of Discounts (zero or negative).
	DiscountTotal money.Money `json:"discountTotal"`
	// Shipping is the chosen method's price as priced (tax included when
	// prices include tax); zero before one is chosen.
	Shipping money.Money `json:"shipping"`
	// Tax is the sum of the tax of every line and of shipping, each
	// rounded on its own.
	Tax money.Money `json:"tax"`
	// TaxIncluded says whether Tax is part of Subtotal and Shipping
	// (inclusive prices) or added on top of them.
	TaxIncluded bool `json:"taxIncluded"`
	// TaxName and TaxBasisPoints are the rate every line and the
	// shipping were taxed at ("VAT", 1300 for 13 %), what an invoice
	// states; empty and zero while no address chose one.
	TaxName        string `json:"taxName,omitempty"`
	TaxBasisPoints int64  `json:"taxBasisPoints,omitempty"`
	// Total is what the buyer pays.
	Total money.Money `json:"total"`
}

// Percent is a tax rate in basis points as invoices and exports state
// it, in percent: 1300 is "13", 650 "6.5", 1498 "14.98"; empty for zero,
// a rate unknown (Totals.TaxBasisPoints of an order placed before it was
// kept).
func Percent(basisPoints int64) string {
	if basisPoints <= 0 {
		return ""
	}
	s := strconv.FormatInt(basisPoints/100, 10)
	if frac := basisPoints % 100; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%02d", frac), "0")
	}
	return s
}
