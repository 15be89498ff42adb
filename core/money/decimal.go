package money

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Parse reads a decimal amount of cur, as typed in the admin or sent as a
// GraphQL amount: "12.34", "12", "-0.5", "0.05".
//
// It is strict because a guess about money is worse than an error:
//   - an optional leading '-', then ASCII digits, then optionally '.' and at
//     least one more digit; no '+', spaces, exponents, grouping
//     separators, ".5" or "5.";
//   - at most cur.Exponent() fraction digits: "12.345" USD and "12.5" JPY
//     are errors, never silently rounded (use MulRate to round on purpose);
//   - the result must fit in int64 minor units.
//
// Errors are *AmountError, which unwraps to ErrInvalidAmount (and to
// ErrOverflow for amounts out of range). Parse never uses floating point.
func Parse(s string, cur Currency) (Money, error) {
	if cur.IsZero() {
		return Money{}, noCurrency(fmt.Sprintf("parse %q", s))
	}
	amount, reason, overflow := parseMinor(s, int(cur.exponent))
	if reason != "" {
		return Money{}, &AmountError{Input: s, Currency: cur, Reason: reason, overflow: overflow}
	}
	return Money{amount: amount, currency: cur}, nil
}

// MaxPrice is the largest amount, in minor units, that staff may set as
// a price or another amount a cart sums (a shipping price, a free-shipping
// threshold): 10^12, that is 10 000 000 000.00 USD or 1 000 000 000 000 JPY.
// Far above anything sold, it keeps every sum of a cart or an order inside
// int64: MaxPrice × 10 000 units (the largest line quantity limit) × 250
// lines (the most an order holds) × 2 (tax at 100%, added) is 5×10^18,
// below math.MaxInt64 (about 9.2×10^18).
const MaxPrice = 1_000_000_000_000

// ParsePrice is Parse for an amount staff enter as a price: it also
// refuses one above MaxPrice, with an *AmountError (ErrInvalidAmount)
// whose Reason names the maximum. A negative amount parses; refusing it
// is the caller's, whose message says which amounts may be negative.
func ParsePrice(s string, cur Currency) (Money, error) {
	m, err := Parse(s, cur)
	var ae *AmountError
	switch {
	case errors.As(err, &ae) && ae.overflow && s[0] != '-':
		// Beyond int64 is beyond MaxPrice too: one message for both.
		ae.Reason = aboveMaxPrice(cur)
		return Money{}, ae
	case err != nil:
		return Money{}, err
	case m.amount > MaxPrice:
		return Money{}, &AmountError{Input: s, Currency: cur, Reason: aboveMaxPrice(cur)}
	}
	return m, nil
}

func aboveMaxPrice(cur Currency) string {
	return "more than the maximum of " + New(MaxPrice, cur).Decimal()
}

// MustParse is Parse for amounts written in code, such as test fixtures and
// examples; it panics on error. Never use it on input.
func MustParse(s string, cur Currency) Money {
	m, err := Parse(s, cur)
	if err != nil {
		panic(err)
	}
	return m
}

// parseMinor turns decimal text into minor units with exp fraction digits.
// On failure it returns a reason for AmountError and whether the text was
// well-formed but out of range.
func parseMinor(s string, exp int) (amount int64, reason string, overflow bool) {
	if s == "" {
		return 0, "empty", false
	}
	rest := s
	neg := rest[0] == '-'
	if neg {
		rest = rest[1:]
	}
	intEnd := 0
	for intEnd < len(rest) && isDigit(rest[intEnd]) {
		intEnd++
	}
	intPart, frac := rest[:intEnd], ""
	if intPart == "" {
		if rest == "" {
			return 0, "missing digits", false
		}
		if rest[0] == '.' {
			return 0, "missing digits before the decimal point", false
		}
		return 0, unexpected(rest, 0), false
	}
	if intEnd < len(rest) {
		if rest[intEnd] != '.' {
			return 0, unexpected(rest, intEnd), false
		}
		frac = rest[intEnd+1:]
		if frac == "" {
			return 0, "missing digits after the decimal point", false
		}
		for i := 0; i < len(frac); i++ {
			if !isDigit(frac[i]) {
				return 0, unexpected(frac, i), false
			}
		}
	}
	if len(frac) > exp {
		if exp == 0 {
			return 0, "this currency has no fraction digits", false
		}
		return 0, fmt.Sprintf("more than %d fraction digits", exp), false
	}

	// Accumulate the magnitude in uint64 so the most negative int64, whose
	// magnitude is one more than the largest positive one, still parses.
	limit := uint64(math.MaxInt64)
	if neg {
		limit = 1 << 63
	}
	var u uint64
	push := func(d uint64) bool {
		if u > (limit-d)/10 {
			return false
		}
		u = u*10 + d
		return true
	}
	for _, digits := range [...]string{intPart, frac} {
		for i := 0; i < len(digits); i++ {
			if !push(uint64(digits[i] - '0')) {
				return 0, "out of range", true
			}
		}
	}
	for range exp - len(frac) {
		if !push(0) {
			return 0, "out of range", true
		}
	}
	amount, _ = fromMagnitude(neg, u) // u <= limit, so it fits
	return amount, "", false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// unexpected names the character at s[i] for an error message, decoded as
// UTF-8 so a stray "€" is reported as such rather than as its first byte.
func unexpected(s string, i int) string {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return fmt.Sprintf("unexpected character %q", r)
}

// Decimal returns the amount as a decimal string with exactly
// Currency().Exponent() fraction digits and no currency: "12.34", "-0.05",
// "1200" for JPY, "1.000" for KWD. This is the GraphQL amount field and what
// Parse reads back to the same Money. It never uses floating point.
func (m Money) Decimal() string {
	var buf [32]byte
	b := buf[:0]
	if m.amount < 0 {
		b = append(b, '-')
	}
	start := len(b)
	b = strconv.AppendUint(b, magnitude(m.amount), 10)
	exp := int(m.currency.exponent)
	if exp == 0 {
		return string(b)
	}
	// Left-pad with zeros so there is always an integer digit: 5 cents is
	// "0.05", not ".05".
	for len(b)-start <= exp {
		b = slices.Insert(b, start, '0')
	}
	b = slices.Insert(b, len(b)-exp, '.')
	return string(b)
}

// String returns the amount and the currency code, "12.34 USD", for logs,
// error messages and tests. User-facing text should be formatted per locale
// by the storefront or admin instead.
func (m Money) String() string {
	if m.currency.IsZero() {
		return m.Decimal()
	}
	return m.Decimal() + " " + m.currency.code
}
