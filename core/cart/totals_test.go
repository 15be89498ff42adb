package cart_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/pricing"
)

// moneyEqual compares money.Money and money.Currency values, whose
// fields are unexported.
var moneyEqual = cmp.Options{
	cmp.Comparer(func(a, b money.Money) bool { return a == b }),
	cmp.Comparer(func(a, b money.Currency) bool { return a == b }),
}

func TestComputeTotals(t *testing.T) {
	t.Parallel()
	jpy := func(a int64) money.Money { return money.New(a, money.JPY) }
	cny := func(a int64) money.Money { return money.New(a, money.CNY) }
	usd := func(a int64) money.Money { return money.New(a, money.USD) }
	line := func(unit money.Money, qty int64) cart.PricedLine {
		return cart.PricedLine{UnitPrice: unit, Quantity: qty}
	}
	// lt is a line's money; its discount is zero.
	lt := func(sub, tax, total money.Money) cart.LineTotals {
		return cart.LineTotals{Subtotal: sub, Discount: money.Zero(sub.Currency()), Tax: tax, Total: total}
	}
	totals := func(sub, ship, tax, total money.Money, included bool) pricing.Totals {
		return pricing.Totals{Subtotal: sub, Discounts: []pricing.Adjustment{}, DiscountTotal: money.Zero(sub.Currency()),
			Shipping: ship, Tax: tax, TaxIncluded: included, Total: total}
	}
	tests := []struct {
		name string
		in   cart.TotalsInput
		want cart.Priced
	}{
		{
			// 10.5 yen of tax on each line rounds up to 11: 22 in all,
			// where the order's 210 yen would give 21.
			name: "JPY exclusive, rounded per line, not per order",
			in:   cart.TotalsInput{Currency: money.JPY, Lines: []cart.PricedLine{line(jpy(105), 1), line(jpy(105), 1)}, TaxBasisPoints: 1000},
			want: cart.Priced{
				Lines:       []cart.LineTotals{lt(jpy(105), jpy(11), jpy(116)), lt(jpy(105), jpy(11), jpy(116))},
				ShippingTax: jpy(0),
				Totals:      totals(jpy(210), jpy(0), jpy(22), jpy(232), false),
			},
		},
		{
			// Tax on a line is on its subtotal (3 × 105 = 315 -> 31.5 -> 32),
			// not per unit (3 × 11 = 33); shipping is taxed on its own.
			name: "JPY exclusive, quantity and shipping",
			in: cart.TotalsInput{Currency: money.JPY, Lines: []cart.PricedLine{line(jpy(105), 3)},
				Shipping: jpy(500), TaxBasisPoints: 1000},
			want: cart.Priced{
				Lines:       []cart.LineTotals{lt(jpy(315), jpy(32), jpy(347))},
				ShippingTax: jpy(50),
				Totals:      totals(jpy(315), jpy(500), jpy(82), jpy(897), false),
			},
		},
		{
			// 0.5 yen rounds away from zero.
			name: "JPY exclusive, half a yen",
			in:   cart.TotalsInput{Currency: money.JPY, Lines: []cart.PricedLine{line(jpy(10), 1)}, TaxBasisPoints: 500},
			want: cart.Priced{
				Lines:       []cart.LineTotals{lt(jpy(10), jpy(1), jpy(11))},
				ShippingTax: jpy(0),
				Totals:      totals(jpy(10), jpy(0), jpy(1), jpy(11), false),
			},
		},
		{
			// 1100 includes 100 of tax; 105 includes 9.55 -> 10.
			name: "JPY inclusive",
			in:   cart.TotalsInput{Currency: money.JPY, Lines: []cart.PricedLine{line(jpy(1100), 1), line(jpy(105), 1)}, TaxBasisPoints: 1000, TaxIncluded: true},
			want: cart.Priced{
				Lines:       []cart.LineTotals{lt(jpy(1100), jpy(100), jpy(1100)), lt(jpy(105), jpy(10), jpy(105))},
				ShippingTax: jpy(0),
				Totals:      totals(jpy(1205), jpy(0), jpy(110), jpy(1205), true),
			},
		},
		{
			// 13 % included: 11.30 holds 1.30; 29.97 holds 3.4479 -> 3.45;
			// shipping 10.00 holds 1.1504 -> 1.15.
			name: "CNY inclusive with shipping",
			in: cart.TotalsInput{Currency: money.CNY, Lines: []cart.PricedLine{line(cny(1130), 1), line(cny(999), 3)},
				Shipping: cny(1000), TaxBasisPoints: 1300, TaxIncluded: true},
			want: cart.Priced{
				Lines:       []cart.LineTotals{lt(cny(1130), cny(130), cny(1130)), lt(cny(2997), cny(345), cny(2997))},
				ShippingTax: cny(115),
				Totals:      totals(cny(4127), cny(1000), cny(590), cny(5127), true),
			},
		},
		{
			// 8.25 % of 39.98 is 3.29835 -> 3.30; free shipping has no tax.
			name: "USD exclusive, free shipping",
			in: cart.TotalsInput{Currency: money.USD, Lines: []cart.PricedLine{line(usd(1999), 2)},
				Shipping: usd(0), TaxBasisPoints: 825},
			want: cart.Priced{
				Lines:       []cart.LineTotals{lt(usd(3998), usd(330), usd(4328))},
				ShippingTax: usd(0),
				Totals:      totals(usd(3998), usd(0), usd(330), usd(4328), false),
			},
		},
		{
			// Three lines of 0.05 at 10 %: 0.005 each rounds to 0.01, three
			// cents in all, where the order's 0.015 would round to 0.02.
			name: "CNY exclusive, cents rounded per line",
			in: cart.TotalsInput{Currency: money.CNY, Lines: []cart.PricedLine{line(cny(5), 1), line(cny(5), 1), line(cny(5), 1)},
				TaxBasisPoints: 1000},
			want: cart.Priced{
				Lines:       []cart.LineTotals{lt(cny(5), cny(1), cny(6)), lt(cny(5), cny(1), cny(6)), lt(cny(5), cny(1), cny(6))},
				ShippingTax: cny(0),
				Totals:      totals(cny(15), cny(0), cny(3), cny(18), false),
			},
		},
		{
			name: "no tax rate",
			in:   cart.TotalsInput{Currency: money.CNY, Lines: []cart.PricedLine{line(cny(6800), 2)}, Shipping: cny(1200)},
			want: cart.Priced{
				Lines:       []cart.LineTotals{lt(cny(13600), cny(0), cny(13600))},
				ShippingTax: cny(0),
				Totals:      totals(cny(13600), cny(1200), cny(0), cny(14800), false),
			},
		},
		{
			name: "empty cart, no method chosen",
			in:   cart.TotalsInput{Currency: money.CNY, TaxBasisPoints: 1300},
			want: cart.Priced{
				Lines:       []cart.LineTotals{},
				ShippingTax: cny(0),
				Totals:      totals(cny(0), cny(0), cny(0), cny(0), false),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := cart.ComputeTotals(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			// The rate goes with the totals, for invoices.
			tt.want.Totals.TaxName, tt.want.Totals.TaxBasisPoints = tt.in.TaxName, tt.in.TaxBasisPoints
			if diff := cmp.Diff(tt.want, got, moneyEqual); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestComputeTotalsRefusesBadInput(t *testing.T) {
	t.Parallel()
	ok := []cart.PricedLine{{UnitPrice: money.New(100, money.CNY), Quantity: 1}}
	tests := map[string]cart.TotalsInput{
		"no currency":          {Lines: ok},
		"line in another":      {Currency: money.USD, Lines: ok},
		"shipping in another":  {Currency: money.CNY, Lines: ok, Shipping: money.New(100, money.USD)},
		"zero quantity":        {Currency: money.CNY, Lines: []cart.PricedLine{{UnitPrice: money.New(100, money.CNY)}}},
		"negative rate":        {Currency: money.CNY, Lines: ok, TaxBasisPoints: -1},
		"rate above 100 %":     {Currency: money.CNY, Lines: ok, TaxBasisPoints: 10001},
		"subtotal overflowing": {Currency: money.CNY, Lines: []cart.PricedLine{{UnitPrice: money.New(1<<62, money.CNY), Quantity: 4}}},
	}
	for name, in := range tests {
		if _, err := cart.ComputeTotals(in); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
