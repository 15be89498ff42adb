package cart

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/country"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
)

// quote is what pricing a cart found besides the money it wrote into the
// cart.
type quote struct {
	settings *shop.Settings
	// parcel is what shipping prices: the shipping address, the subtotal
	// and weight of the priced lines. Meaningful only with a shipping
	// address.
	parcel shipping.Parcel
	// problems stand between the cart and checkout: a currency the shop
	// no longer sells in (currencyCode), lines that cannot be bought as
	// they are (lines.N.variantId, lines.N.quantity) and a chosen method
	// that no longer ships the cart (shippingMethodId).
	problems []*errs.Error
}

// price fills c's lines, shipping rate and totals from the catalog, the
// shop's settings, shipping and tax, as ComputeTotals computes them. A
// line that cannot be priced is marked (Line.Problem) and left out of the
// totals; a chosen method that does not ship the cart leaves
// ShippingRate nil. c.Lines must be loaded.
func (s *Service) price(ctx context.Context, c *Cart) (*quote, error) {
	vs, err := s.variants(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	return s.priceWith(ctx, c, vs)
}

// priceWith is price over variants read already: every variant of c's
// lines, as Catalog.CheckoutVariants answers (a missing one does not
// exist). With a shipping address it quotes shipping once and keeps the
// quote in c for ShippingMethodsOf. A cart whose money does not fit in
// int64 is CodeAmountTooLarge, the buyer's to fix, not a failure.
func (s *Service) priceWith(ctx context.Context, c *Cart, variants map[string]catalog.CheckoutVariant) (*quote, error) {
	q, err := s.priceLines(ctx, c, variants)
	if errors.Is(err, money.ErrOverflow) {
		return nil, amountTooLarge()
	}
	return q, err
}

// priceLines is priceWith's work.
func (s *Service) priceLines(ctx context.Context, c *Cart, variants map[string]catalog.CheckoutVariant) (*quote, error) {
	set, err := s.settings.Settings(ctx)
	if err != nil {
		return nil, err
	}
	q := &quote{settings: set}
	cur := c.Currency
	if !set.Sells(cur) {
		// Prices in cur may remain; the shop's list of currencies is
		// what it sells in now.
		q.problems = append(q.problems, currencyNotSold(cur))
	}
	zero := money.Zero(cur)
	in := TotalsInput{Currency: cur, TaxIncluded: set.PricesIncludeTax}
	subtotal := zero
	var counted []*Line
	for i, l := range c.Lines {
		v, found := variants[l.VariantID]
		l.UnitPrice, l.Subtotal, l.Discount, l.Tax, l.Total = zero, zero, zero, zero, zero
		l.Problem = ""
		if p := lineProblem("lines."+strconv.Itoa(i), v, found, l.Quantity, set.LineQuantityLimit); p != nil {
			l.Problem = p.Code
			q.problems = append(q.problems, p)
		}
		if found && v.ForSale() {
			l.ProductID, l.SKU, l.ProductTitle, l.VariantTitle = v.ProductID, v.SKU, v.ProductTitle, v.VariantTitle
			l.ProductHandle, l.SelectedOptions = v.ProductHandle, v.SelectedOptions
			l.WeightGrams, l.Available = v.WeightGrams, v.Available
		}
		if !l.priced() {
			continue
		}
		l.UnitPrice = *v.Price
		sub, err := l.UnitPrice.Mul(l.Quantity)
		if err != nil {
			return nil, err
		}
		if subtotal, err = subtotal.Add(sub); err != nil {
			return nil, err
		}
		in.Lines = append(in.Lines, PricedLine{UnitPrice: l.UnitPrice, Quantity: l.Quantity})
		q.parcel.WeightGrams += l.WeightGrams * l.Quantity
		counted = append(counted, l)
	}
	q.parcel.Subtotal = subtotal
	c.ShippingRate, c.quoted, c.rates = nil, false, nil
	if a := c.ShippingAddress; a != nil {
		// An address set before the shop's rates or zones told this
		// country's regions apart may name none of them.
		if err := s.checkProvince(ctx, a, "shippingAddress"); err != nil {
			all := errs.All(err)
			if len(all) == 0 {
				return nil, err
			}
			q.problems = append(q.problems, all...)
		}
		// Read as a subdivision code once: tax and shipping then take it
		// as it is.
		region := country.Region(a.CountryCode, a.Province)
		q.parcel.Country, q.parcel.Region = a.CountryCode, region
		rate, err := s.tax.Rate(ctx, a.CountryCode, region)
		if err != nil {
			return nil, err
		}
		in.TaxBasisPoints, in.TaxName = rate.BasisPoints, rate.Name
		// One quote answers both the chosen method's price and the
		// methods offered (Rates.Rate is Quote and a lookup).
		if c.rates, err = s.rates.Quote(ctx, q.parcel); err != nil {
			return nil, err
		}
		c.quoted = true
		if c.ShippingMethodID != "" {
			i := slices.IndexFunc(c.rates, func(r shipping.Rate) bool { return r.MethodID == c.ShippingMethodID })
			if i < 0 {
				q.problems = append(q.problems, methodUnavailable("shippingMethodId"))
			} else {
				r := c.rates[i]
				c.ShippingRate = &r
				in.Shipping = r.Price
			}
		}
	}
	p, err := ComputeTotals(in)
	if err != nil {
		return nil, err
	}
	for i, l := range counted {
		lt := p.Lines[i]
		l.Subtotal, l.Discount, l.Tax, l.Total = lt.Subtotal, lt.Discount, lt.Tax, lt.Total
	}
	c.Totals = p.Totals
	return q, nil
}

// lineProblem says what keeps qty units of variant v (found or not) from
// being bought, as an error on field (a line's path: "lines.2"), or nil.
func lineProblem(field string, v catalog.CheckoutVariant, found bool, qty, limit int64) *errs.Error {
	switch {
	case !found || v.ProductStatus == catalog.StatusDraft:
		// A draft is not shown to buyers: it does not exist for them.
		return errs.Invalid(field+".variantId", CodeVariantNotFound, "no such product variant")
	case !v.ForSale():
		return errs.Invalid(field+".variantId", CodeVariantArchived, "this item is no longer sold")
	case v.Price == nil:
		return errs.Invalid(field+".variantId", CodeVariantUnavailable, "this item is not sold in this currency")
	case qty > limit:
		return overLimit(field+".quantity", limit)
	case qty > v.Available:
		return insufficientStock(field+".quantity", v.Available)
	}
	return nil
}
