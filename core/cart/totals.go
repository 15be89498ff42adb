package cart

import (
	"errors"
	"fmt"

	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/tax"
)

// TotalsInput is what ComputeTotals prices: lines at their catalog
// prices, the chosen shipping method's price, the tax rate of the
// shipping address and whether prices include tax. Every amount comes
// from the core (catalog, shipping, tax, shop), never from a client.
type TotalsInput struct {
	Currency money.Currency
	Lines    []PricedLine
	// Shipping is the shipping price; the zero Money (no method chosen
	// yet) counts as zero.
	Shipping money.Money
	// TaxBasisPoints is the rate applied to every line and to shipping,
	// 0..tax.MaxBasisPoints.
	TaxBasisPoints int64
	// TaxIncluded says that prices include tax (tax is the part of them)
	// rather than exclude it (tax is added).
	TaxIncluded bool
	// TaxName is what receipts call the rate ("VAT"), kept with the
	// totals for invoices.
	TaxName string
}

// PricedLine is a line at its unit price.
type PricedLine struct {
	UnitPrice money.Money
	Quantity  int64
}

// LineTotals is the money of one line.
type LineTotals struct {
	// Subtotal is UnitPrice × Quantity, as priced.
	Subtotal money.Money
	// Discount is what adjustments take off the line (zero or negative);
	// zero until promotions exist.
	Discount money.Money
	// Tax is the line's tax, rounded on its own.
	Tax money.Money
	// Total is what the buyer pays for the line: Subtotal plus Discount,
	// plus Tax when prices exclude it.
	Total money.Money
}

// Priced is the result of ComputeTotals.
type Priced struct {
	// Lines are the lines' money, in the order of TotalsInput.Lines.
	Lines []LineTotals
	// ShippingTax is the tax on shipping, rounded on its own.
	ShippingTax money.Money
	Totals      pricing.Totals
}

// ComputeTotals is the one calculation of a cart's money (ADR 0008),
// shown at every step and snapshot into the order at checkout. It is pure:
// the same input gives the same totals.
//
// Tax is computed per line on the line's subtotal, and on shipping, each
// rounded half away from zero in the currency's minor unit
// (tax.LineTax); the order's tax is the sum. With tax-inclusive prices the
// total is the sum of the prices and tax is the part of it; with
// exclusive prices tax is added on top. Discounts are an empty list until
// promotions add adjustments.
//
// It fails on a line in another currency, a quantity below one or a rate
// outside 0..tax.MaxBasisPoints: each is a bug in the caller, which
// validates its input first. An amount that overflows fails with
// money.ErrOverflow: prices within money.MaxPrice never do, but a price
// set before that bound can, and the cart answers CodeAmountTooLarge.
func ComputeTotals(in TotalsInput) (Priced, error) {
	cur := in.Currency
	if cur.IsZero() {
		return Priced{}, errors.New("cart: totals need a currency")
	}
	if in.TaxBasisPoints < 0 || in.TaxBasisPoints > tax.MaxBasisPoints {
		return Priced{}, fmt.Errorf("cart: tax rate %d basis points is outside 0..%d", in.TaxBasisPoints, tax.MaxBasisPoints)
	}
	ship := in.Shipping
	if ship.Currency().IsZero() {
		ship = money.Zero(cur)
	}
	if ship.Currency() != cur {
		return Priced{}, fmt.Errorf("cart: shipping in %s, cart in %s", ship.Currency(), cur)
	}
	zero := money.Zero(cur)
	out := Priced{Lines: make([]LineTotals, len(in.Lines))}
	subtotal, taxSum := zero, zero
	for i, l := range in.Lines {
		if l.UnitPrice.Currency() != cur {
			return Priced{}, fmt.Errorf("cart: line %d priced in %s, cart in %s", i, l.UnitPrice.Currency(), cur)
		}
		if l.Quantity < 1 {
			return Priced{}, fmt.Errorf("cart: line %d has quantity %d", i, l.Quantity)
		}
		sub, err := l.UnitPrice.Mul(l.Quantity)
		if err != nil {
			return Priced{}, fmt.Errorf("cart: line %d: %w", i, err)
		}
		lt := LineTotals{Subtotal: sub, Discount: zero, Tax: tax.LineTax(sub, in.TaxBasisPoints, in.TaxIncluded)}
		if lt.Total, err = payable(sub, lt.Tax, in.TaxIncluded); err != nil {
			return Priced{}, fmt.Errorf("cart: line %d: %w", i, err)
		}
		if subtotal, err = subtotal.Add(sub); err != nil {
			return Priced{}, fmt.Errorf("cart: subtotal: %w", err)
		}
		if taxSum, err = taxSum.Add(lt.Tax); err != nil {
			return Priced{}, fmt.Errorf("cart: tax: %w", err)
		}
		out.Lines[i] = lt
	}
	out.ShippingTax = tax.LineTax(ship, in.TaxBasisPoints, in.TaxIncluded)
	taxSum, err := taxSum.Add(out.ShippingTax)
	if err != nil {
		return Priced{}, fmt.Errorf("cart: tax: %w", err)
	}
	goods, err := subtotal.Add(ship)
	if err != nil {
		return Priced{}, fmt.Errorf("cart: total: %w", err)
	}
	total, err := payable(goods, taxSum, in.TaxIncluded)
	if err != nil {
		return Priced{}, fmt.Errorf("cart: total: %w", err)
	}
	out.Totals = pricing.Totals{
		Subtotal:       subtotal,
		Discounts:      []pricing.Adjustment{},
		DiscountTotal:  zero,
		Shipping:       ship,
		Tax:            taxSum,
		TaxIncluded:    in.TaxIncluded,
		TaxName:        in.TaxName,
		TaxBasisPoints: in.TaxBasisPoints,
		Total:          total,
	}
	return out, nil
}

// payable is what the buyer pays for amount carrying t of tax: amount
// itself when prices include tax, amount plus t otherwise.
func payable(amount, t money.Money, included bool) (money.Money, error) {
	if included {
		return amount, nil
	}
	return amount.Add(t)
}
