package money

import (
	"fmt"
	"math"
	"math/bits"
)

// Money is an exact amount in the minor units of one currency: 1234 with USD
// is $12.34, 1234 with JPY is ¥1234, 1234 with KWD is 1.234 KWD.
//
// Money is a small value type: pass it and store it by value. Two Money
// values are == when amount and currency are equal. The fields are
// unexported so that amounts change only through the operations below, which
// check overflow and currency; New builds one from stored columns.
//
// The zero Money has no currency. It is only ever a field that was not set:
// arithmetic, comparison with Cmp and JSON refuse it with ErrUnknownCurrency.
type Money struct {
	amount   int64
	currency Currency
}

// New returns amount minor units of cur, e.g. New(1234, USD) is 12.34 USD.
// Stores use it to rebuild a Money from a BIGINT amount column and a TEXT
// currency column (Currency implements sql.Scanner).
func New(amount int64, cur Currency) Money {
	return Money{amount: amount, currency: cur}
}

// Zero returns no money in cur: the starting point of a total.
func Zero(cur Currency) Money {
	return Money{currency: cur}
}

// Amount returns the amount in minor units (cents for USD, yen for JPY).
// This is what the stores persist, as BIGINT.
func (m Money) Amount() int64 { return m.amount }

// Currency returns the currency of m.
func (m Money) Currency() Currency { return m.currency }

// IsZero reports whether the amount is zero, whatever the currency.
func (m Money) IsZero() bool { return m.amount == 0 }

// IsPositive reports whether the amount is above zero.
func (m Money) IsPositive() bool { return m.amount > 0 }

// IsNegative reports whether the amount is below zero, e.g. a refund line
// or a discount.
func (m Money) IsNegative() bool { return m.amount < 0 }

// Sign returns -1, 0 or +1 following the sign of the amount.
func (m Money) Sign() int {
	switch {
	case m.amount < 0:
		return -1
	case m.amount > 0:
		return 1
	}
	return 0
}

// Equal reports whether m and o have the same amount and currency. Unlike
// Cmp it needs no error: amounts in different currencies are simply not
// equal. It also lets go-cmp compare Money values.
func (m Money) Equal(o Money) bool { return m == o }

// Cmp compares m with o: -1 if m < o, 0 if equal, +1 if m > o. Amounts in
// different currencies have no order, so that is ErrCurrencyMismatch rather
// than a guess.
func (m Money) Cmp(o Money) (int, error) {
	if err := sameCurrency("compare", m, o); err != nil {
		return 0, err
	}
	switch {
	case m.amount < o.amount:
		return -1, nil
	case m.amount > o.amount:
		return 1, nil
	}
	return 0, nil
}

// Add returns m + o. It fails with ErrCurrencyMismatch when the currencies
// differ and ErrOverflow when the sum does not fit in int64.
func (m Money) Add(o Money) (Money, error) {
	if err := sameCurrency("add", m, o); err != nil {
		return Money{}, err
	}
	sum := m.amount + o.amount
	// Signed overflow wraps: adding a positive must increase the value and
	// adding a negative must not.
	if (sum > m.amount) != (o.amount > 0) {
		return Money{}, fmt.Errorf("money: add %s to %s: %w", o, m, ErrOverflow)
	}
	return Money{amount: sum, currency: m.currency}, nil
}

// Sub returns m - o. It fails with ErrCurrencyMismatch when the currencies
// differ and ErrOverflow when the difference does not fit in int64.
func (m Money) Sub(o Money) (Money, error) {
	if err := sameCurrency("subtract", m, o); err != nil {
		return Money{}, err
	}
	diff := m.amount - o.amount
	if (diff < m.amount) != (o.amount > 0) {
		return Money{}, fmt.Errorf("money: subtract %s from %s: %w", o, m, ErrOverflow)
	}
	return Money{amount: diff, currency: m.currency}, nil
}

// Mul returns m × qty, e.g. a line total from a unit price and a quantity.
// It fails with ErrOverflow when the product does not fit in int64.
func (m Money) Mul(qty int64) (Money, error) {
	if m.currency.IsZero() {
		return Money{}, noCurrency("multiply")
	}
	hi, lo := bits.Mul64(magnitude(m.amount), magnitude(qty))
	amount, ok := fromMagnitude((m.amount < 0) != (qty < 0), lo)
	if hi != 0 || !ok {
		return Money{}, fmt.Errorf("money: multiply %s by %d: %w", m, qty, ErrOverflow)
	}
	return Money{amount: amount, currency: m.currency}, nil
}

// Neg returns -m. It fails with ErrOverflow only for the most negative
// int64, which has no positive counterpart.
func (m Money) Neg() (Money, error) {
	if m.currency.IsZero() {
		return Money{}, noCurrency("negate")
	}
	if m.amount == math.MinInt64 {
		return Money{}, fmt.Errorf("money: negate %s: %w", m, ErrOverflow)
	}
	return Money{amount: -m.amount, currency: m.currency}, nil
}

// Sum adds up amounts that must all be in cur. Taking the currency
// explicitly means an empty list is a well-defined Zero(cur), which is what a
// cart with no lines totals to.
func Sum(cur Currency, amounts ...Money) (Money, error) {
	if cur.IsZero() {
		return Money{}, noCurrency("sum")
	}
	total := Zero(cur)
	for _, a := range amounts {
		var err error
		if total, err = total.Add(a); err != nil {
			return Money{}, err
		}
	}
	return total, nil
}

// sameCurrency checks that a binary operation is meaningful. The zero
// Currency never matches, not even itself: two unset fields adding up to an
// unset total would only move the bug further from its cause.
func sameCurrency(op string, a, b Money) error {
	if a.currency.IsZero() || b.currency.IsZero() {
		return noCurrency(fmt.Sprintf("%s %s and %s", op, a, b))
	}
	if a.currency != b.currency {
		return fmt.Errorf("money: %s %s and %s: %w", op, a, b, ErrCurrencyMismatch)
	}
	return nil
}

// magnitude returns |v| as a uint64, which also holds |math.MinInt64|.
func magnitude(v int64) uint64 {
	if v < 0 {
		return -uint64(v)
	}
	return uint64(v)
}

// fromMagnitude is the inverse of magnitude: it applies a sign to u and
// reports false when the result does not fit in int64. The negative range is
// one larger than the positive one, so math.MinInt64 round-trips.
func fromMagnitude(neg bool, u uint64) (int64, bool) {
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}
