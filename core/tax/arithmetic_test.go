package tax_test

import (
	"testing"

	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/tax"
)

func TestLineTax(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name      string
		amount    money.Money
		bps       int64
		inclusive bool
		want      int64
	}{
		// Exclusive: round(amount × bps / 10000).
		{"USD 13 % of 10.00", money.New(1000, money.USD), 1300, false, 130},
		{"USD zero rate", money.New(1000, money.USD), 0, false, 0},
		{"USD 100 %", money.New(1234, money.USD), 10000, false, 1234},
		{"USD half a cent rounds up", money.New(1, money.USD), 5000, false, 1},
		{"USD 1.5 cents rounds up", money.New(3, money.USD), 5000, false, 2},
		{"USD just below half a cent rounds down", money.New(1, money.USD), 4999, false, 0},
		{"USD just above half a cent rounds up", money.New(1, money.USD), 5001, false, 1},
		{"USD 2 % of 0.25 is a tie", money.New(25, money.USD), 200, false, 1},
		{"USD 2 % of 0.24", money.New(24, money.USD), 200, false, 0},
		{"USD negative ties away from zero", money.New(-3, money.USD), 5000, false, -2},
		{"USD zero amount", money.New(0, money.USD), 1300, false, 0},
		{"JPY 10 % of 105 is a tie", money.New(105, money.JPY), 1000, false, 11},
		{"JPY 10 % of 104", money.New(104, money.JPY), 1000, false, 10},
		{"JPY 10 % of 106", money.New(106, money.JPY), 1000, false, 11},
		{"JPY 8 % of 1", money.New(1, money.JPY), 800, false, 0},
		// Inclusive: amount − round(amount × 10000 / (10000 + bps)).
		{"USD 13 % in 113.00", money.New(11300, money.USD), 1300, true, 1300},
		{"USD 13 % in 1.00", money.New(100, money.USD), 1300, true, 12}, // net 88.495 -> 88
		{"USD zero rate inclusive", money.New(999, money.USD), 0, true, 0},
		{"USD 100 % in 0.05 is a tie", money.New(5, money.USD), 10000, true, 2}, // net 2.5 -> 3
		{"USD 100 % in 0.07", money.New(7, money.USD), 10000, true, 3},          // net 3.5 -> 4
		{"USD negative inclusive", money.New(-5, money.USD), 10000, true, -2},
		{"JPY 10 % in 110", money.New(110, money.JPY), 1000, true, 10},
		{"JPY 10 % in 1", money.New(1, money.JPY), 1000, true, 0},            // net 0.909 -> 1
		{"JPY 10 % in 100", money.New(100, money.JPY), 1000, true, 9},        // net 90.909 -> 91
		{"JPY 8 % in 27 is a tie", money.New(27, money.JPY), 800, true, 2},   // net 25 exactly
		{"JPY 100 % in 3 is a tie", money.New(3, money.JPY), 10000, true, 1}, // net 1.5 -> 2
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := tax.LineTax(c.amount, c.bps, c.inclusive)
			if want := money.New(c.want, c.amount.Currency()); got != want {
				t.Errorf("LineTax(%s, %d, %v) = %s, want %s", c.amount, c.bps, c.inclusive, got, want)
			}
		})
	}
}

func TestLineTaxRefusesNonsense(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func(){
		"negative rate":   func() { tax.LineTax(money.New(1, money.USD), -1, false) },
		"rate above 100%": func() { tax.LineTax(money.New(1, money.USD), 10001, true) },
		"no currency":     func() { tax.LineTax(money.Money{}, 1300, false) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}
