package plugin

import (
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/plugins/sdk"
)

// toSDKMoney converts an amount for the wire; the zero Money stays zero.
func toSDKMoney(m money.Money) sdk.Money {
	if m.Currency().IsZero() {
		return sdk.Money{Amount: m.Amount()}
	}
	return sdk.Money{Amount: m.Amount(), Currency: m.Currency().Code()}
}

// fromSDKMoney converts an amount a plugin sent. No currency and no amount
// is the zero Money ("not given"); an unknown currency is a bad answer.
func fromSDKMoney(m sdk.Money, field string) (money.Money, error) {
	if m.Currency == "" {
		if m.Amount != 0 {
			return money.Money{}, badAnswer("%s has an amount but no currency", field)
		}
		return money.Money{}, nil
	}
	cur, err := money.ParseCurrency(m.Currency)
	if err != nil {
		return money.Money{}, badAnswer("%s: %v", field, err)
	}
	return money.New(m.Amount, cur), nil
}
