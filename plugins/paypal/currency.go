package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kassahq/kassa/plugins/sdk"
)

// currencies are the ones PayPal takes through the REST API, with their
// minor-unit digits (HUF, JPY and TWD are whole units at PayPal).
var currencies = map[string]int{
	"AUD": 2, "BRL": 2, "CAD": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2, "HKD": 2, "HUF": 0, "ILS": 2,
	"JPY": 0, "MYR": 2, "MXN": 2, "TWD": 0, "NZD": 2, "NOK": 2, "PHP": 2, "PLN": 2, "GBP": 2, "SGD": 2,
	"SEK": 2, "CHF": 2, "THB": 2, "USD": 2,
}

// formatValue writes minor units as PayPal's decimal string ("19.99",
// "1999" for JPY).
func formatValue(m sdk.Money) string {
	d := currencies[m.Currency]
	if d == 0 {
		return strconv.FormatInt(m.Amount, 10)
	}
	return fmt.Sprintf("%d.%02d", m.Amount/100, m.Amount%100)
}

// parseValue reads PayPal's decimal string into minor units.
func parseValue(currency, v string) (sdk.Money, error) {
	d, ok := currencies[currency]
	if !ok {
		return sdk.Money{}, fmt.Errorf("paypal: unknown currency %q", currency)
	}
	whole, frac, hasFrac := strings.Cut(v, ".")
	if whole == "" || len(frac) > d || (d == 0 && hasFrac) {
		return sdk.Money{}, fmt.Errorf("paypal: malformed amount %q %s", v, currency)
	}
	for len(frac) < d {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n < 0 {
		return sdk.Money{}, errors.Join(fmt.Errorf("paypal: malformed amount %q %s", v, currency), err)
	}
	return sdk.Money{Amount: n, Currency: currency}, nil
}
