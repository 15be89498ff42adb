package tax

import (
	"fmt"

	"github.com/kassahq/kassa/core/money"
)

// LineTax returns the tax in amount at bps basis points, rounded to the
// currency's minor unit half away from zero (money.HalfUp), with integer
// arithmetic only:
//
//   - exclusive (inclusive false), the tax added to amount:
//     round(amount × bps / 10000);
//   - inclusive, the part of amount that is tax:
//     amount − round(amount × 10000 / (10000 + bps)).
//
// The cart calls it once per line and once for shipping and adds the
// results, so each is rounded on its own (ADR 0008).
//
// It panics when amount has no currency or bps is outside
// 0..MaxBasisPoints: rates come validated from the store, so either is a
// bug in the caller, and a silent zero would under-charge tax.
func LineTax(amount money.Money, bps int64, inclusive bool) money.Money {
	if bps < 0 || bps > MaxBasisPoints {
		panic(fmt.Sprintf("tax: rate %d basis points is outside 0..%d", bps, MaxBasisPoints))
	}
	if !inclusive {
		t, err := amount.MulRate(bps, MaxBasisPoints, money.HalfUp)
		if err != nil {
			panic(fmt.Sprintf("tax: %v", err))
		}
		return t
	}
	net, err := amount.MulRate(MaxBasisPoints, MaxBasisPoints+bps, money.HalfUp)
	if err != nil {
		panic(fmt.Sprintf("tax: %v", err))
	}
	// net has amount's sign and a smaller magnitude, so this cannot fail.
	t, err := amount.Sub(net)
	if err != nil {
		panic(fmt.Sprintf("tax: %v", err))
	}
	return t
}
