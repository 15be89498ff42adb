package money

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
)

// Allocate splits total into len(weights) parts proportional to weights,
// e.g. a cart discount over lines in proportion to their line totals:
//
//	parts, err := money.Allocate(discount, []int64{line1.Amount(), line2.Amount()})
//
// The parts always add up to exactly total: nothing is lost or invented.
// Each part is its exact share rounded down in magnitude, and the minor units
// left over go one each to the parts with the largest remainders (the
// largest-remainder, or Hamilton, method), ties to the earlier index. So
// every part is within one minor unit of its exact share, a weight of 0 gets
// 0, and the result is deterministic.
//
// A negative total is split like its magnitude and negated, so
// Allocate(-t, w) is the part-by-part negation of Allocate(t, w).
//
// When every weight is 0 (a cart of free items) there is no proportion to
// follow; Allocate then splits equally, like Split, rather than failing, so
// a discount can still be spread over the lines.
//
// Weights must not be negative and there must be at least one
// (ErrInvalidArgument); their sum must fit in a uint64 (ErrOverflow), which
// any sum of real line totals does.
func Allocate(total Money, weights []int64) ([]Money, error) {
	if total.currency.IsZero() {
		return nil, noCurrency("allocate")
	}
	if len(weights) == 0 {
		return nil, fmt.Errorf("money: allocate %s: no weights: %w", total, ErrInvalidArgument)
	}
	// Reject a negative weight before summing, so the error names the bug
	// rather than an overflow it may have caused.
	for i, w := range weights {
		if w < 0 {
			return nil, fmt.Errorf("money: allocate %s: weight %d is negative (%d): %w", total, i, w, ErrInvalidArgument)
		}
	}
	var sum uint64
	for _, w := range weights {
		var carry uint64
		if sum, carry = bits.Add64(sum, uint64(w), 0); carry != 0 {
			return nil, fmt.Errorf("money: allocate %s: sum of weights: %w", total, ErrOverflow)
		}
	}
	if sum == 0 {
		return Split(total, len(weights))
	}

	// Exact shares are mag×w/sum. The product needs up to 128 bits; the
	// quotient fits in 64 because w <= sum, which also keeps bits.Div64 from
	// panicking (hi < sum).
	mag := magnitude(total.amount)
	quotients := make([]uint64, len(weights))
	remainders := make([]uint64, len(weights))
	var allotted uint64
	for i, w := range weights {
		hi, lo := bits.Mul64(mag, uint64(w))
		quotients[i], remainders[i] = bits.Div64(hi, lo, sum)
		allotted += quotients[i]
	}

	// The remainders add up to left×sum with each below sum, so fewer than
	// len(weights) units are left and each goes to a distinct part with a
	// non-zero remainder: never to a zero weight.
	if left := mag - allotted; left > 0 {
		order := make([]int, len(weights))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int {
			if c := cmp.Compare(remainders[b], remainders[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		for _, i := range order[:left] {
			quotients[i]++
		}
	}
	return signParts(total, quotients), nil
}

// Split divides total into n parts as equal as possible that add up to
// exactly total: 10.00 USD in 3 is 3.34, 3.33, 3.33. The extra minor units
// go to the earliest parts, matching Allocate with equal weights. n must be
// at least 1 (ErrInvalidArgument).
func Split(total Money, n int) ([]Money, error) {
	if total.currency.IsZero() {
		return nil, noCurrency("split")
	}
	if n < 1 {
		return nil, fmt.Errorf("money: split %s into %d parts: %w", total, n, ErrInvalidArgument)
	}
	mag := magnitude(total.amount)
	each, extra := mag/uint64(n), mag%uint64(n)
	quotients := make([]uint64, n)
	for i := range quotients {
		quotients[i] = each
		if uint64(i) < extra {
			quotients[i]++
		}
	}
	return signParts(total, quotients), nil
}

// signParts turns magnitudes that add up to |total| back into Money with the
// sign and currency of total. Each magnitude is at most |total|, so it fits.
func signParts(total Money, magnitudes []uint64) []Money {
	parts := make([]Money, len(magnitudes))
	for i, u := range magnitudes {
		amount, _ := fromMagnitude(total.amount < 0, u)
		parts[i] = Money{amount: amount, currency: total.currency}
	}
	return parts
}

// Share is the part of m that n of count equal parts carry when before of
// them were taken already: m × (before+n) / count less m × before / count,
// each rounded toward zero. Taken a few at a time, the parts add up to m
// exactly, the last ones carrying what rounding left, where m × n / count
// each time would leave up to count − 1 minor units that no part ever
// takes (a line's total refunded unit by unit: 0.34 for 3 units is 0.11,
// 0.11 and 0.12, not 0.11 three times). before is clamped to
// 0..count − n; a count below one, or n outside 0..count, is a share of
// zero.
func (m Money) Share(count, before, n int64) Money {
	if count < 1 || n < 0 || n > count {
		return Zero(m.currency)
	}
	before = max(0, min(before, count-n))
	return Money{amount: mulDivCount(m.amount, before+n, count) - mulDivCount(m.amount, before, count), currency: m.currency}
}

// mulDivCount is a × k / count rounded toward zero, for 0 <= k <= count:
// the product is taken in 128 bits, and the quotient is at most |a|.
func mulDivCount(a, k, count int64) int64 {
	mag := uint64(a)
	if a < 0 {
		mag = -mag // two's complement: right for math.MinInt64 too
	}
	hi, lo := bits.Mul64(mag, uint64(k))
	q, _ := bits.Div64(hi, lo, uint64(count)) // hi < count since k <= count
	if a < 0 {
		return -int64(q)
	}
	return int64(q)
}
