package money_test

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/money"
)

func TestMulRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		m        money.Money
		num, den int64
		mode     money.RoundingMode
		want     money.Money
		wantErr  error
	}{
		// Exact results are the same in every mode.
		{name: "10% off exact", m: usd(2000), num: 10, den: 100, mode: money.HalfUp, want: usd(200)},
		{name: "identity", m: usd(math.MaxInt64), num: 7, den: 7, mode: money.TowardZero, want: usd(math.MaxInt64)},
		{name: "identity smallest", m: usd(math.MinInt64), num: -3, den: -3, mode: money.HalfEven, want: usd(math.MinInt64)},
		{name: "zero amount", m: usd(0), num: 3, den: 7, mode: money.AwayFromZero, want: usd(0)},

		// 12.5 cents: a tie.
		{name: "tie half up", m: usd(125), num: 10, den: 100, mode: money.HalfUp, want: usd(13)},
		{name: "tie half even down", m: usd(125), num: 10, den: 100, mode: money.HalfEven, want: usd(12)},
		{name: "tie half even up", m: usd(135), num: 10, den: 100, mode: money.HalfEven, want: usd(14)},
		{name: "tie toward zero", m: usd(125), num: 10, den: 100, mode: money.TowardZero, want: usd(12)},
		{name: "tie away from zero", m: usd(125), num: 10, den: 100, mode: money.AwayFromZero, want: usd(13)},

		// Negative ties round symmetrically.
		{name: "negative tie half up", m: usd(-125), num: 10, den: 100, mode: money.HalfUp, want: usd(-13)},
		{name: "negative tie half even", m: usd(-125), num: 10, den: 100, mode: money.HalfEven, want: usd(-12)},
		{name: "negative rate tie half up", m: usd(125), num: -10, den: 100, mode: money.HalfUp, want: usd(-13)},
		{name: "negative denominator", m: usd(125), num: 10, den: -100, mode: money.TowardZero, want: usd(-12)},

		// 1/3 and 2/3 of a cent: not ties.
		{name: "third half up", m: usd(1), num: 1, den: 3, mode: money.HalfUp, want: usd(0)},
		{name: "two thirds half even", m: usd(2), num: 1, den: 3, mode: money.HalfEven, want: usd(1)},
		{name: "third away from zero", m: usd(1), num: 1, den: 3, mode: money.AwayFromZero, want: usd(1)},
		{name: "two thirds toward zero", m: usd(-2), num: 1, den: 3, mode: money.TowardZero, want: usd(0)},

		// Realistic rates.
		{name: "VAT 19%", m: money.New(1999, money.EUR), num: 19, den: 100, mode: money.HalfUp, want: money.New(380, money.EUR)},
		{name: "sales tax 8.875%", m: usd(10000), num: 8875, den: 100000, mode: money.HalfEven, want: usd(888)},
		{name: "yen consumption tax truncated", m: money.New(1234, money.JPY), num: 10, den: 100, mode: money.TowardZero, want: money.New(123, money.JPY)},

		// The 128-bit intermediate.
		{name: "intermediate beyond int64", m: usd(math.MaxInt64), num: math.MaxInt64, den: math.MaxInt64, mode: money.HalfUp, want: usd(math.MaxInt64)},
		{name: "half of largest is a tie", m: usd(math.MaxInt64), num: 1, den: 2, mode: money.HalfEven, want: usd(1 << 62)},
		{name: "smallest denominator", m: usd(math.MinInt64), num: 1, den: math.MinInt64, mode: money.HalfUp, want: usd(1)},
		// MaxInt64² / (MaxInt64-1) is 2^63 and a bit: it fits only as a negative.
		{name: "down to smallest", m: usd(math.MaxInt64), num: -math.MaxInt64, den: math.MaxInt64 - 1, mode: money.TowardZero, want: usd(math.MinInt64)},
		{name: "rounding past smallest", m: usd(math.MaxInt64), num: -math.MaxInt64, den: math.MaxInt64 - 1, mode: money.AwayFromZero, wantErr: money.ErrOverflow},
		{name: "just past largest", m: usd(math.MaxInt64), num: math.MaxInt64, den: math.MaxInt64 - 1, mode: money.TowardZero, wantErr: money.ErrOverflow},
		{name: "result overflows", m: usd(math.MaxInt64), num: 3, den: 2, mode: money.HalfUp, wantErr: money.ErrOverflow},
		{name: "quotient beyond 64 bits", m: usd(math.MaxInt64), num: math.MaxInt64, den: 1, mode: money.HalfUp, wantErr: money.ErrOverflow},
		{name: "negation of smallest", m: usd(math.MinInt64), num: -1, den: 1, mode: money.HalfUp, wantErr: money.ErrOverflow},

		{name: "zero denominator", m: usd(100), num: 1, den: 0, mode: money.HalfUp, wantErr: money.ErrInvalidArgument},
		{name: "zero rounding mode", m: usd(100), num: 1, den: 2, wantErr: money.ErrInvalidArgument},
		{name: "unknown rounding mode", m: usd(100), num: 1, den: 2, mode: 99, wantErr: money.ErrInvalidArgument},
		{name: "zero Money", m: money.Money{}, num: 1, den: 2, mode: money.HalfUp, wantErr: money.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.m.MulRate(tt.num, tt.den, tt.mode)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("%v.MulRate(%d, %d, %v) error = %v, want %v", tt.m, tt.num, tt.den, tt.mode, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%v.MulRate(%d, %d, %v) mismatch (-want +got):\n%s", tt.m, tt.num, tt.den, tt.mode, diff)
			}
		})
	}
}

func TestRoundingModeString(t *testing.T) {
	t.Parallel()
	for mode, want := range map[money.RoundingMode]string{
		money.HalfUp:       "HalfUp",
		money.HalfEven:     "HalfEven",
		money.TowardZero:   "TowardZero",
		money.AwayFromZero: "AwayFromZero",
		0:                  "RoundingMode(0)",
	} {
		if got := mode.String(); got != want {
			t.Errorf("RoundingMode(%d).String() = %q, want %q", uint8(mode), got, want)
		}
	}
}
