package money_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kassahq/kassa/core/money"
)

// A cart line of three items at 19.99 EUR with 10 % off.
func Example() {
	price, err := money.Parse("19.99", money.EUR)
	if err != nil {
		panic(err)
	}
	line, _ := price.Mul(3)
	discount, _ := line.MulRate(10, 100, money.HalfUp)
	total, _ := line.Sub(discount)
	fmt.Println(line, "-", discount, "=", total)
	// Output: 59.97 EUR - 6.00 EUR = 53.97 EUR
}

func ExampleParse() {
	for _, in := range []string{"12.34", "12", "-0.5", "12.345", "1e3"} {
		m, err := money.Parse(in, money.USD)
		if err != nil {
			var amountErr *money.AmountError
			errors.As(err, &amountErr)
			fmt.Printf("%q: %s\n", in, amountErr.Reason)
			continue
		}
		fmt.Printf("%q: %d minor units\n", in, m.Amount())
	}
	// Output:
	// "12.34": 1234 minor units
	// "12": 1200 minor units
	// "-0.5": -50 minor units
	// "12.345": more than 2 fraction digits
	// "1e3": unexpected character 'e'
}

func ExampleMoney_Decimal() {
	fmt.Println(money.New(-5, money.USD).Decimal())
	fmt.Println(money.New(1200, money.JPY).Decimal())
	fmt.Println(money.New(1500, money.KWD).Decimal())
	// Output:
	// -0.05
	// 1200
	// 1.500
}

// Spreading a 10.00 EUR cart discount over three lines in proportion to
// their totals: the parts add up to exactly -10.00.
func ExampleAllocate() {
	discount := money.MustParse("-10.00", money.EUR)
	lineTotals := []int64{1999, 4550, 349} // 19.99, 45.50 and 3.49 EUR
	parts, err := money.Allocate(discount, lineTotals)
	if err != nil {
		panic(err)
	}
	fmt.Println(parts)
	// Output: [-2.90 EUR -6.60 EUR -0.50 EUR]
}

func ExampleSplit() {
	parts, _ := money.Split(money.MustParse("10.00", money.USD), 3)
	fmt.Println(parts)
	// Output: [3.34 USD 3.33 USD 3.33 USD]
}

func ExampleMoney_MulRate() {
	net := money.MustParse("0.125", money.KWD) // an amount that makes ties visible
	for _, mode := range []money.RoundingMode{money.HalfUp, money.HalfEven, money.TowardZero, money.AwayFromZero} {
		half, _ := net.MulRate(1, 2, mode)
		fmt.Println(mode, half)
	}
	// Output:
	// HalfUp 0.063 KWD
	// HalfEven 0.062 KWD
	// TowardZero 0.062 KWD
	// AwayFromZero 0.063 KWD
}

func ExampleMoney_Add() {
	_, err := money.MustParse("1.00", money.USD).Add(money.MustParse("1.00", money.EUR))
	fmt.Println(errors.Is(err, money.ErrCurrencyMismatch))
	fmt.Println(err)
	// Output:
	// true
	// money: add 1.00 USD and 1.00 EUR: currency mismatch
}

func ExampleMoney_MarshalJSON() {
	data, _ := json.Marshal(money.MustParse("12.34", money.USD))
	fmt.Println(string(data))
	// Output: {"amount":"12.34","currencyCode":"USD"}
}
