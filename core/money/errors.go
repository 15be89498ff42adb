package money

import (
	"errors"
	"fmt"
)

// Sentinel errors, for errors.Is. Every error this package returns wraps at
// least one of them, so the GraphQL layer can map them to stable codes in one
// place; the message around it gives the amounts and the operation.
var (
	// ErrUnknownCurrency reports a currency code that is not in the registry,
	// or a Money or Currency that has no currency at all (the zero value).
	ErrUnknownCurrency = errors.New("unknown currency")

	// ErrInvalidAmount reports text or JSON that is not a well-formed amount
	// of money in the given currency.
	ErrInvalidAmount = errors.New("invalid amount")

	// ErrCurrencyMismatch reports an operation that combines amounts in two
	// different currencies. Converting between currencies is never implicit.
	ErrCurrencyMismatch = errors.New("currency mismatch")

	// ErrOverflow reports a result that does not fit in int64 minor units.
	ErrOverflow = errors.New("amount out of range")

	// ErrInvalidArgument reports a caller mistake other than the above: a zero
	// denominator, an unknown rounding mode, negative or missing weights.
	ErrInvalidArgument = errors.New("invalid argument")
)

// UnknownCurrencyError is returned by ParseCurrency for a code that is not a
// registered ISO 4217 currency. It unwraps to ErrUnknownCurrency.
type UnknownCurrencyError struct {
	// Code is the code exactly as it was given, before case folding.
	Code string
}

// Error implements error.
func (e *UnknownCurrencyError) Error() string {
	return fmt.Sprintf("money: unknown currency %q", e.Code)
}

// Unwrap makes errors.Is(err, ErrUnknownCurrency) true.
func (e *UnknownCurrencyError) Unwrap() error { return ErrUnknownCurrency }

// AmountError is returned by Parse for text that is not a valid amount in
// the given currency. It unwraps to ErrInvalidAmount, and also to ErrOverflow
// when the amount is well-formed but too large for int64 minor units.
type AmountError struct {
	// Input is the text exactly as it was given.
	Input string
	// Currency is the currency the text was parsed for.
	Currency Currency
	// Reason says what is wrong in words fit for a form field message,
	// e.g. "more than 2 fraction digits".
	Reason string

	overflow bool
}

// Error implements error.
func (e *AmountError) Error() string {
	return fmt.Sprintf("money: invalid %s amount %q: %s", e.Currency.Code(), e.Input, e.Reason)
}

// Unwrap makes errors.Is match ErrInvalidAmount, and ErrOverflow for an
// amount that is out of range.
func (e *AmountError) Unwrap() []error {
	if e.overflow {
		return []error{ErrInvalidAmount, ErrOverflow}
	}
	return []error{ErrInvalidAmount}
}

// noCurrency is what operations on the zero Money or Currency return. The
// zero value usually means a field was never set, which is a bug worth
// surfacing rather than silently treating as some default currency.
func noCurrency(op string) error {
	return fmt.Errorf("money: %s: no currency set: %w", op, ErrUnknownCurrency)
}
