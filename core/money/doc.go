// Package money is Kassa's money type: an exact int64 amount of minor units
// (cents, yen, fils) in one ISO 4217 currency. Every price, total, discount,
// tax, payment and refund in Kassa is a Money.
//
// There is no floating point anywhere in this package, on purpose: 0.1 + 0.2
// is not 0.3 in float64, and a checkout must never be off by a cent. Amounts
// enter as decimal strings (Parse, JSON) or as stored minor units (New), and
// leave the same way (Decimal, Amount).
//
// The rules that keep totals honest:
//   - Amounts in different currencies never combine: Add, Sub, Cmp and Sum
//     fail with ErrCurrencyMismatch. Conversion is an explicit step elsewhere.
//   - Arithmetic never wraps around: a result outside int64 is ErrOverflow.
//   - Parse never rounds: "12.345" USD is an error. Rounding happens only
//     where the business asks for it, in MulRate, with a named RoundingMode.
//   - Allocate and Split never lose or invent a minor unit: the parts always
//     add up to the total.
//
// Storage: persist Amount() as BIGINT and Currency().Code() as TEXT (Currency
// implements sql.Scanner and driver.Valuer), and rebuild with New. GraphQL
// and JSON: Money is {"amount": "12.34", "currencyCode": "USD"}, with the
// amount as a decimal string (Decimal) so no client reads it as a float.
//
// Usage:
//
//	price, err := money.Parse("19.99", money.EUR)
//	if err != nil {
//		return err // *money.AmountError: show err.Reason next to the field
//	}
//	line, err := price.Mul(3)                            // 59.97 EUR
//	discount, err := line.MulRate(10, 100, money.HalfUp) // 6.00 EUR
//	total, err := line.Sub(discount)                     // 53.97 EUR
//
//	// Spread a 5.00 EUR cart discount over lines of 30.00 and 10.00:
//	parts, err := money.Allocate(money.MustParse("5.00", money.EUR), []int64{3000, 1000})
//	// parts: 3.75 EUR, 1.25 EUR
//
// Error handling is elided above; every operation that can fail returns an
// error that wraps one of the Err* sentinels.
package money
