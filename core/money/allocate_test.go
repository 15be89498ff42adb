package money_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/money"
)

// usds builds the expected parts of a USD allocation.
func usds(minor ...int64) []money.Money {
	out := make([]money.Money, len(minor))
	for i, m := range minor {
		out[i] = usd(m)
	}
	return out
}

func TestAllocate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		total   money.Money
		weights []int64
		want    []money.Money
	}{
		{name: "exact proportions", total: usd(500), weights: []int64{3000, 1000}, want: usds(375, 125)},
		{name: "thirds", total: usd(100), weights: []int64{1, 1, 1}, want: usds(34, 33, 33)},
		{name: "ties go to the earlier index", total: usd(7), weights: []int64{1, 1, 1, 1}, want: usds(2, 2, 2, 1)},
		// Shares 10/7, 20/7, 40/7: remainders 3/7, 6/7, 5/7, two units left.
		{name: "largest remainders win over index", total: usd(10), weights: []int64{1, 2, 4}, want: usds(1, 3, 6)},
		{name: "zero weight gets zero", total: usd(100), weights: []int64{0, 1, 0, 2}, want: usds(0, 33, 0, 67)},
		{name: "all zero weights split equally", total: usd(100), weights: []int64{0, 0, 0}, want: usds(34, 33, 33)},
		{name: "negative total mirrors positive", total: usd(-100), weights: []int64{1, 1, 1}, want: usds(-34, -33, -33)},
		{name: "negative remainders", total: usd(-10), weights: []int64{1, 2, 4}, want: usds(-1, -3, -6)},
		{name: "zero total", total: usd(0), weights: []int64{1, 2}, want: usds(0, 0)},
		{name: "single weight takes all", total: usd(12345), weights: []int64{7}, want: usds(12345)},
		{name: "one unit to the heaviest", total: usd(1), weights: []int64{math.MaxInt64, 1}, want: usds(1, 0)},
		{name: "smallest total halved", total: usd(math.MinInt64), weights: []int64{1, 1}, want: usds(math.MinInt64/2, math.MinInt64/2)},
		{name: "smallest total whole", total: usd(math.MinInt64), weights: []int64{0, 5}, want: usds(0, math.MinInt64)},
		{name: "largest total and weights", total: usd(math.MaxInt64), weights: []int64{math.MaxInt64, math.MaxInt64},
			want: usds(1<<62, 1<<62-1)},
		{
			name:    "cart discount over lines",
			total:   money.New(-1000, money.EUR), // 10.00 EUR off
			weights: []int64{1999, 4550, 349},    // line totals
			want:    []money.Money{money.New(-290, money.EUR), money.New(-660, money.EUR), money.New(-50, money.EUR)},
		},
		{name: "yen", total: money.New(1000, money.JPY), weights: []int64{1, 1, 1},
			want: []money.Money{money.New(334, money.JPY), money.New(333, money.JPY), money.New(333, money.JPY)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := money.Allocate(tt.total, tt.weights)
			if err != nil {
				t.Fatalf("Allocate(%v, %v): %v", tt.total, tt.weights, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Allocate(%v, %v) mismatch (-want +got):\n%s", tt.total, tt.weights, diff)
			}
		})
	}
}

func TestAllocateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		total   money.Money
		weights []int64
		wantErr error
	}{
		{name: "no weights", total: usd(100), weights: nil, wantErr: money.ErrInvalidArgument},
		{name: "negative weight", total: usd(100), weights: []int64{1, -1, 1}, wantErr: money.ErrInvalidArgument},
		{name: "weights overflow", total: usd(100), weights: []int64{math.MaxInt64, math.MaxInt64, 2}, wantErr: money.ErrOverflow},
		{name: "zero Money", total: money.Money{}, weights: []int64{1}, wantErr: money.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := money.Allocate(tt.total, tt.weights)
			if !errors.Is(err, tt.wantErr) || got != nil {
				t.Errorf("Allocate(%v, %v) = %v, %v; want nil, %v", tt.total, tt.weights, got, err, tt.wantErr)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		total   money.Money
		n       int
		want    []money.Money
		wantErr error
	}{
		{name: "thirds", total: usd(1000), n: 3, want: usds(334, 333, 333)},
		{name: "negative thirds", total: usd(-1000), n: 3, want: usds(-334, -333, -333)},
		{name: "fewer units than parts", total: usd(2), n: 5, want: usds(1, 1, 0, 0, 0)},
		{name: "even", total: usd(900), n: 3, want: usds(300, 300, 300)},
		{name: "zero", total: usd(0), n: 2, want: usds(0, 0)},
		{name: "one part", total: usd(math.MinInt64), n: 1, want: usds(math.MinInt64)},
		{name: "zero parts", total: usd(100), n: 0, wantErr: money.ErrInvalidArgument},
		{name: "negative parts", total: usd(100), n: -1, wantErr: money.ErrInvalidArgument},
		{name: "zero Money", total: money.Money{}, n: 2, wantErr: money.ErrUnknownCurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := money.Split(tt.total, tt.n)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Split(%v, %d) error = %v, want %v", tt.total, tt.n, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Split(%v, %d) mismatch (-want +got):\n%s", tt.total, tt.n, diff)
			}
		})
	}
}

// Shares taken a few at a time add up to the whole, to the minor unit.
func TestShare(t *testing.T) {
	for _, c := range []struct {
		whole, count int64
		steps        []int64
		want         []int64
	}{
		{34, 3, []int64{1, 1, 1}, []int64{11, 11, 12}},
		{34, 3, []int64{3}, []int64{34}},
		{130, 1000, []int64{300, 300, 400}, []int64{39, 39, 52}},
		{-34, 3, []int64{1, 2}, []int64{-11, -23}},
		{math.MaxInt64, 7, []int64{3, 4}, []int64{math.MaxInt64 / 7 * 3, math.MaxInt64 - math.MaxInt64/7*3}},
		{math.MinInt64, 2, []int64{1, 1}, []int64{math.MinInt64 / 2, math.MinInt64 / 2}},
	} {
		var got []int64
		var sum, before int64
		for _, n := range c.steps {
			s := money.New(c.whole, money.CNY).Share(c.count, before, n)
			got, sum, before = append(got, s.Amount()), sum+s.Amount(), before+n
		}
		if !slices.Equal(got, c.want) || sum != c.whole {
			t.Errorf("%d in %d parts by %v: %v (sum %d), want %v", c.whole, c.count, c.steps, got, sum, c.want)
		}
	}
	for _, bad := range [][3]int64{{0, 0, 1}, {3, 0, 4}, {3, 0, -1}} {
		if s := money.New(100, money.CNY).Share(bad[0], bad[1], bad[2]); !s.IsZero() || s.Currency() != money.CNY {
			t.Errorf("Share(%v) = %s, want 0.00 CNY", bad, s)
		}
	}
}
