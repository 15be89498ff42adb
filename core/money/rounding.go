package money

import (
	"fmt"
	"math/bits"
)

// RoundingMode says how MulRate resolves a result that falls between two
// minor units. Tax rules differ per country and sometimes per shop, so the
// caller always names one: the zero RoundingMode is invalid on purpose.
//
// All modes are symmetric around zero: rounding -x gives the negation of
// rounding x, so a refund rounds exactly like the charge it reverses.
type RoundingMode uint8

const (
	// HalfUp rounds to the nearest minor unit and ties away from zero:
	// 0.125 -> 0.13, -0.125 -> -0.13. This is commercial rounding, the usual
	// choice for percentage discounts.
	HalfUp RoundingMode = iota + 1
	// HalfEven rounds to the nearest minor unit and ties to the even one:
	// 0.125 -> 0.12, 0.135 -> 0.14. Banker's rounding; it does not drift
	// upwards over many roundings, which some tax authorities require.
	HalfEven
	// TowardZero drops the fraction: 0.129 -> 0.12, -0.129 -> -0.12. Some
	// jurisdictions (Japan's consumption tax, commonly) truncate tax.
	TowardZero
	// AwayFromZero rounds any fraction up in magnitude: 0.121 -> 0.13,
	// -0.121 -> -0.13.
	AwayFromZero
)

// String returns the Go name of the mode, for logs and test failures.
func (r RoundingMode) String() string {
	switch r {
	case HalfUp:
		return "HalfUp"
	case HalfEven:
		return "HalfEven"
	case TowardZero:
		return "TowardZero"
	case AwayFromZero:
		return "AwayFromZero"
	}
	return fmt.Sprintf("RoundingMode(%d)", uint8(r))
}

// MulRate returns m × numerator / denominator rounded to a whole minor unit
// with mode. It is how rates and percentages are applied:
//
//	tenPercentOff, err := price.MulRate(10, 100, money.HalfUp)
//	vat, err := net.MulRate(19, 100, money.HalfEven)
//	salesTax, err := net.MulRate(8875, 100000, money.HalfUp) // 8.875 %
//
// The product is computed in 128 bits, so only a result that does not fit in
// int64 fails (ErrOverflow); intermediates never overflow. A zero
// denominator or an unknown mode is ErrInvalidArgument. Signs of all three
// operands are honoured.
func (m Money) MulRate(numerator, denominator int64, mode RoundingMode) (Money, error) {
	if m.currency.IsZero() {
		return Money{}, noCurrency("multiply by rate")
	}
	if denominator == 0 {
		return Money{}, fmt.Errorf("money: multiply %s by %d/0: zero denominator: %w", m, numerator, ErrInvalidArgument)
	}
	if mode < HalfUp || mode > AwayFromZero {
		return Money{}, fmt.Errorf("money: multiply %s by rate: rounding mode %d: %w", m, uint8(mode), ErrInvalidArgument)
	}

	// Work on magnitudes: every mode is symmetric, so the sign can be put
	// back afterwards.
	neg := (m.amount < 0) != (numerator < 0) != (denominator < 0)
	den := magnitude(denominator)
	hi, lo := bits.Mul64(magnitude(m.amount), magnitude(numerator))
	if hi >= den {
		// The quotient needs more than 64 bits (and bits.Div64 would panic).
		return Money{}, fmt.Errorf("money: multiply %s by %d/%d: %w", m, numerator, denominator, ErrOverflow)
	}
	q, r := bits.Div64(hi, lo, den)
	if q > 1<<63 {
		return Money{}, fmt.Errorf("money: multiply %s by %d/%d: %w", m, numerator, denominator, ErrOverflow)
	}
	if roundUp(q, r, den, mode) {
		q++ // cannot wrap: q <= 1<<63 here
	}
	amount, ok := fromMagnitude(neg, q)
	if !ok {
		return Money{}, fmt.Errorf("money: multiply %s by %d/%d: %w", m, numerator, denominator, ErrOverflow)
	}
	return Money{amount: amount, currency: m.currency}, nil
}

// roundUp reports whether the magnitude quotient q with remainder r of a
// division by den must be bumped to q+1 under mode. r < den, so den-r never
// underflows, and comparing r with den-r avoids computing 2r.
func roundUp(q, r, den uint64, mode RoundingMode) bool {
	if r == 0 {
		return false
	}
	switch mode {
	case HalfUp:
		return r >= den-r
	case HalfEven:
		return r > den-r || (r == den-r && q%2 == 1)
	case AwayFromZero:
		return true
	}
	return false // TowardZero
}
