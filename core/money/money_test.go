package money_test

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/money"
)

func usd(minor int64) money.Money { return money.New(minor, money.USD) }

func TestAccessors(t *testing.T) {
	t.Parallel()
	m := money.New(-1234, money.EUR)
	if m.Amount() != -1234 || m.Currency() != money.EUR {
		t.Errorf("New(-1234, EUR): Amount=%d Currency=%v", m.Amount(), m.Currency())
	}
	if z := money.Zero(money.JPY); z.Amount() != 0 || z.Currency() != money.JPY {
		t.Errorf("Zero(JPY) = %v", z)
	}
	if money.New(5, money.USD) != money.MustParse("0.05", money.USD) {
		t.Error("Money values with equal amount and currency are not ==")
	}
}

func TestPredicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                     string
		m                        money.Money
		zero, positive, negative bool
		sign                     int
	}{
		{name: "positive", m: usd(1), positive: true, sign: 1},
		{name: "zero", m: usd(0), zero: true, sign: 0},
		{name: "negative", m: usd(-1), negative: true, sign: -1},
		{name: "smallest", m: usd(math.MinInt64), negative: true, sign: -1},
		{name: "zero Money", m: money.Money{}, zero: true, sign: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := [...]any{tt.m.IsZero(), tt.m.IsPositive(), tt.m.IsNegative(), tt.m.Sign()}
			want := [...]any{tt.zero, tt.positive, tt.negative, tt.sign}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("IsZero, IsPositive, IsNegative, Sign of %v (-want +got):\n%s", tt.m, diff)
			}
		})
	}
}

// binaryTest is a case for Add, Sub and Cmp, which share their failure modes.
type binaryTest struct {
	name    string
	a, b    money.Money
	want    money.Money
	wantErr error
}

func runBinary(t *testing.T, op string, f func(a, b money.Money) (money.Money, error), tests []binaryTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := f(tt.a, tt.b)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("%v.%s(%v) error = %v, want %v", tt.a, op, tt.b, err, tt.wantErr)
				}
				if got != (money.Money{}) {
					t.Errorf("%v.%s(%v) returned %v alongside an error", tt.a, op, tt.b, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v.%s(%v): %v", tt.a, op, tt.b, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%v.%s(%v) mismatch (-want +got):\n%s", tt.a, op, tt.b, diff)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	runBinary(t, "Add", money.Money.Add, []binaryTest{
		{name: "simple", a: usd(1234), b: usd(66), want: usd(1300)},
		{name: "negative", a: usd(100), b: usd(-250), want: usd(-150)},
		{name: "to largest", a: usd(math.MaxInt64 - 1), b: usd(1), want: usd(math.MaxInt64)},
		{name: "to smallest", a: usd(math.MinInt64 + 1), b: usd(-1), want: usd(math.MinInt64)},
		{name: "extremes cancel", a: usd(math.MaxInt64), b: usd(math.MinInt64), want: usd(-1)},
		{name: "overflow", a: usd(math.MaxInt64), b: usd(1), wantErr: money.ErrOverflow},
		{name: "underflow", a: usd(math.MinInt64), b: usd(-1), wantErr: money.ErrOverflow},
		{name: "currency mismatch", a: usd(1), b: money.New(1, money.EUR), wantErr: money.ErrCurrencyMismatch},
		{name: "same digits other currency", a: money.New(1, money.CAD), b: money.New(1, money.AUD), wantErr: money.ErrCurrencyMismatch},
		{name: "zero Money", a: usd(1), b: money.Money{}, wantErr: money.ErrUnknownCurrency},
		{name: "both zero Money", a: money.Money{}, b: money.Money{}, wantErr: money.ErrUnknownCurrency},
	})
}

func TestSub(t *testing.T) {
	t.Parallel()
	runBinary(t, "Sub", money.Money.Sub, []binaryTest{
		{name: "simple", a: usd(1300), b: usd(66), want: usd(1234)},
		{name: "below zero", a: usd(100), b: usd(250), want: usd(-150)},
		{name: "minus negative", a: usd(100), b: usd(-250), want: usd(350)},
		{name: "to smallest", a: usd(-1), b: usd(math.MaxInt64), want: usd(math.MinInt64)},
		{name: "overflow", a: usd(0), b: usd(math.MinInt64), wantErr: money.ErrOverflow},
		{name: "underflow", a: usd(math.MinInt64), b: usd(1), wantErr: money.ErrOverflow},
		{name: "overflow from largest", a: usd(math.MaxInt64), b: usd(-1), wantErr: money.ErrOverflow},
		{name: "currency mismatch", a: money.New(1, money.JPY), b: money.New(1, money.KRW), wantErr: money.ErrCurrencyMismatch},
		{name: "zero Money", a: money.Money{}, b: usd(1), wantErr: money.ErrUnknownCurrency},
	})
}

func TestMul(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		m       money.Money
		qty     int64
		want    money.Money
		wantErr error
	}{
		{name: "line total", m: usd(1999), qty: 3, want: usd(5997)},
		{name: "zero quantity", m: usd(1999), qty: 0, want: usd(0)},
		{name: "negative quantity", m: usd(1999), qty: -2, want: usd(-3998)},
		{name: "negative price", m: usd(-500), qty: -2, want: usd(1000)},
		{name: "smallest by one", m: usd(math.MinInt64), qty: 1, want: usd(math.MinInt64)},
		{name: "to smallest", m: usd(math.MinInt64 / 2), qty: 2, want: usd(math.MinInt64)},
		{name: "smallest by minus one", m: usd(math.MinInt64), qty: -1, wantErr: money.ErrOverflow},
		{name: "minus one by smallest", m: usd(-1), qty: math.MinInt64, wantErr: money.ErrOverflow},
		{name: "largest by two", m: usd(math.MaxInt64), qty: 2, wantErr: money.ErrOverflow},
		{name: "wraps to positive in 64 bits", m: usd(1 << 32), qty: 1 << 32, wantErr: money.ErrOverflow},
		{name: "zero Money", m: money.Money{}, qty: 2, wantErr: money.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.m.Mul(tt.qty)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("%v.Mul(%d) error = %v, want %v", tt.m, tt.qty, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%v.Mul(%d) mismatch (-want +got):\n%s", tt.m, tt.qty, diff)
			}
		})
	}
}

func TestNeg(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		m       money.Money
		want    money.Money
		wantErr error
	}{
		{name: "positive", m: usd(5), want: usd(-5)},
		{name: "negative", m: usd(-5), want: usd(5)},
		{name: "zero", m: usd(0), want: usd(0)},
		{name: "largest", m: usd(math.MaxInt64), want: usd(-math.MaxInt64)},
		{name: "smallest", m: usd(math.MinInt64), wantErr: money.ErrOverflow},
		{name: "zero Money", m: money.Money{}, wantErr: money.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.m.Neg()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("%v.Neg() error = %v, want %v", tt.m, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%v.Neg() mismatch (-want +got):\n%s", tt.m, diff)
			}
		})
	}
}

func TestCmp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		a, b    money.Money
		want    int
		wantErr error
	}{
		{name: "less", a: usd(1), b: usd(2), want: -1},
		{name: "equal", a: usd(2), b: usd(2), want: 0},
		{name: "greater", a: usd(3), b: usd(2), want: 1},
		{name: "extremes", a: usd(math.MinInt64), b: usd(math.MaxInt64), want: -1},
		{name: "currency mismatch", a: usd(1), b: money.New(1, money.EUR), wantErr: money.ErrCurrencyMismatch},
		{name: "zero Money", a: money.Money{}, b: money.Money{}, wantErr: money.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.a.Cmp(tt.b)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("%v.Cmp(%v) error = %v, want %v", tt.a, tt.b, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("%v.Cmp(%v) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	t.Parallel()
	if !usd(5).Equal(usd(5)) {
		t.Error("5 USD is not Equal to 5 USD")
	}
	if usd(5).Equal(money.New(5, money.EUR)) {
		t.Error("5 USD is Equal to 5 EUR")
	}
	if usd(5).Equal(usd(6)) {
		t.Error("5 USD is Equal to 6 USD")
	}
}

func TestSum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cur     money.Currency
		amounts []money.Money
		want    money.Money
		wantErr error
	}{
		{name: "no amounts", cur: money.EUR, want: money.Zero(money.EUR)},
		{name: "one", cur: money.USD, amounts: []money.Money{usd(5)}, want: usd(5)},
		{name: "several", cur: money.USD, amounts: []money.Money{usd(5), usd(-2), usd(1000)}, want: usd(1003)},
		{name: "intermediate overflow fails", cur: money.USD, amounts: []money.Money{usd(math.MaxInt64), usd(1), usd(-1)}, wantErr: money.ErrOverflow},
		{name: "other currency", cur: money.USD, amounts: []money.Money{usd(1), money.New(1, money.EUR)}, wantErr: money.ErrCurrencyMismatch},
		{name: "all in another currency", cur: money.USD, amounts: []money.Money{money.New(1, money.EUR)}, wantErr: money.ErrCurrencyMismatch},
		{name: "no currency", cur: money.Currency{}, wantErr: money.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := money.Sum(tt.cur, tt.amounts...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Sum error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Sum mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	_, err := usd(100).Add(money.New(250, money.EUR))
	const want = "money: add 1.00 USD and 2.50 EUR: currency mismatch"
	if err == nil || err.Error() != want {
		t.Errorf("Add error = %v, want %s", err, want)
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := money.Parse("-1234567.89", money.USD); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecimal(b *testing.B) {
	m := usd(-123456789)
	for b.Loop() {
		_ = m.Decimal()
	}
}

func BenchmarkAllocate(b *testing.B) {
	// A discount over a 20-line cart with uneven line totals.
	weights := make([]int64, 20)
	for i := range weights {
		weights[i] = int64(1999 * (i + 1) % 7919)
	}
	total := usd(-12345)
	for b.Loop() {
		if _, err := money.Allocate(total, weights); err != nil {
			b.Fatal(err)
		}
	}
}
