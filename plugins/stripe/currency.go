package main

import (
	"fmt"
	"strings"

	"github.com/kassahq/kassa/plugins/sdk"
)

// Kassa's amounts are in ISO 4217 minor units (sdk.Money); Stripe's are in
// "the currency's smallest unit" with a few documented exceptions
// (https://docs.stripe.com/currencies, "Zero-decimal currencies",
// "Three-decimal currencies" and "Special cases"). The two agree except
// for the cases below.

// Stripe's zero-decimal currencies (BIF, CLP, DJF, GNF, JPY, KMF, KRW,
// MGA, PYG, RWF, UGX, VND, VUV, XAF, XOF, XPF) have ISO 4217 exponent 0
// too: amount 1000 JPY is ¥1000 on both sides and passes unchanged.
// Multiplying them by 100, the classic Stripe integration bug, would
// charge a hundred times the price.

// twoDecimalWholeUnits are currencies ISO 4217 gives no minor unit but
// Stripe still takes as two-decimal amounts whose decimals are always 00
// (ISK: charging 5 ISK is amount 500).
var twoDecimalWholeUnits = map[string]bool{"ISK": true}

// threeDecimal are Stripe's three-decimal currencies: the amount is in
// thousandths, as in ISO 4217, but Stripe requires its last digit to be 0
// for card payments.
var threeDecimal = map[string]bool{"BHD": true, "JOD": true, "KWD": true, "OMR": true, "TND": true}

// maxStripeAmount is Stripe's largest amount (eight digits in most
// currencies; larger in a few, refused by Stripe itself then).
const maxStripeAmount = 99_999_999

// errAmount is an amount Stripe cannot represent; a decline, never a call.
type errAmount struct{ msg string }

func (e errAmount) Error() string { return e.msg }

// toStripe converts a Kassa amount to Stripe's amount and lowercase
// currency code.
func toStripe(m sdk.Money) (int64, string, error) {
	cur := strings.ToUpper(m.Currency)
	if len(cur) != 3 || strings.Trim(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return 0, "", errAmount{fmt.Sprintf("%q is not an ISO 4217 currency code", m.Currency)}
	}
	if m.Amount <= 0 {
		return 0, "", errAmount{fmt.Sprintf("amount %d must be positive", m.Amount)}
	}
	amt := m.Amount
	switch {
	case twoDecimalWholeUnits[cur]:
		amt *= 100
	case threeDecimal[cur] && amt%10 != 0:
		return 0, "", errAmount{fmt.Sprintf("Stripe takes %s amounts in steps of 0.010 only; %d thousandths is not one", cur, amt)}
	}
	if amt > maxStripeAmount {
		return 0, "", errAmount{fmt.Sprintf("amount %d %s is above Stripe's maximum", m.Amount, cur)}
	}
	return amt, strings.ToLower(cur), nil
}

// fromStripe converts a Stripe amount back to Kassa's minor units.
func fromStripe(amount int64, currency string) sdk.Money {
	cur := strings.ToUpper(currency)
	if twoDecimalWholeUnits[cur] {
		amount /= 100
	}
	return sdk.Money{Amount: amount, Currency: cur}
}
