package storefront

import (
	"fmt"
	"strings"
)

// symbols are the signs of the currencies shops use most; others show
// their ISO code.
var symbols = map[string]string{
	"CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "TWD": "NT$",
	"KRW": "₩", "SGD": "S$", "AUD": "A$", "CAD": "C$",
}

// formatMoney writes an amount as buyers read it: "¥128.00", "CHF 12.30".
// The amount is GraphQL's decimal string, already in the currency's minor
// digits; a minus sign goes before the symbol.
func formatMoney(m money) string {
	amount, neg := strings.CutPrefix(m.Amount, "-")
	sign := ""
	if neg {
		sign = "-"
	}
	if s, ok := symbols[m.CurrencyCode]; ok {
		return sign + s + amount
	}
	return sign + m.CurrencyCode + " " + amount
}

// sprintf fills a catalog message's verbs.
func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
