package main

import (
	"strconv"
	"strings"
)

// minorDigits are the ISO 4217 currencies whose minor unit is not 1/100.
// Kassa sends amounts in minor units; the document shows them in major
// units with the currency's own number of decimals.
var minorDigits = map[string]int{
	// no minor unit
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	// thousandths
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// ten-thousandths
	"CLF": 4, "UYW": 4,
}

// currencyDigits returns the number of decimals of an ISO 4217 currency
// (2 unless listed in minorDigits).
func currencyDigits(currency string) int {
	if d, ok := minorDigits[strings.ToUpper(currency)]; ok {
		return d
	}
	return 2
}

// formatAmount formats minor units as a decimal number with thousands
// separators: 123456 EUR -> "1,234.56", 1234 JPY -> "1,234", -5 EUR ->
// "-0.05".
func formatAmount(minor int64, currency string) string {
	digits := currencyDigits(currency)
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-minor) // two's complement: correct for math.MinInt64 too
	}
	s := strconv.FormatUint(u, 10)
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	whole, frac := s[:len(s)-digits], s[len(s)-digits:]
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if digits > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// formatMoney is formatAmount followed by the currency code: "1,234.56 EUR".
func formatMoney(minor int64, currency string) string {
	return formatAmount(minor, currency) + " " + currency
}
