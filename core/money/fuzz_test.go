package money_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/money"
)

// The fuzz targets check invariants against math/big, an independent exact
// implementation. Their seeds run as ordinary tests with `go test`; explore
// with e.g. `go test -fuzz=FuzzAllocate -fuzztime=30s ./core/money/`.

var currencies = money.Currencies()

// pick maps a fuzzed byte onto a registered currency, covering exponents 0,
// 2 and 3 alike.
func pick(i uint8) money.Currency { return currencies[int(i)%len(currencies)] }

func FuzzParseFormat(f *testing.F) {
	for _, amount := range []int64{0, 1, -1, 5, -5, 99, 100, 1234, -1234, 1e6 + 1, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		for _, cur := range []money.Currency{money.USD, money.JPY, money.KWD} {
			f.Add(amount, uint8(slices.Index(currencies, cur)))
		}
	}
	f.Fuzz(func(t *testing.T, amount int64, curIndex uint8) {
		cur := pick(curIndex)
		m := money.New(amount, cur)
		s := m.Decimal()

		got, err := money.Parse(s, cur)
		if err != nil {
			t.Fatalf("Parse(%q, %s) of Decimal() of %d: %v", s, cur, amount, err)
		}
		if got != m {
			t.Fatalf("Parse(Decimal(%d %s)) = %d, via %q", amount, cur, got.Amount(), s)
		}

		// Exactly Exponent fraction digits, and the value is the amount.
		_, frac, hasPoint := strings.Cut(s, ".")
		if cur.Exponent() == 0 && hasPoint || cur.Exponent() > 0 && len(frac) != cur.Exponent() {
			t.Fatalf("Decimal() = %q for %s, want exactly %d fraction digits", s, cur, cur.Exponent())
		}
		if want := minorToRat(amount, cur); ratOf(t, s).Cmp(want) != 0 {
			t.Fatalf("Decimal() = %q, want the value %s", s, want.FloatString(cur.Exponent()))
		}

		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back money.Money
		if err := json.Unmarshal(data, &back); err != nil || back != m {
			t.Fatalf("JSON round trip of %v through %s = %v, %v", m, data, back, err)
		}
	})
}

// wellFormed is the grammar Parse documents, before the currency's digit
// limit and the int64 range are applied.
var wellFormed = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"12.34", "12", "-0.5", "0.05", "-0", "007.50", "1.234", "12.345", "12.5",
		"", "-", "+1", "+-", "1e3", "NaN", "Inf", " 1", "1 ", ".5", "5.", "1.2.3", "1,00", "€1", "１",
		"92233720368547758.07", "92233720368547758.08", "-92233720368547758.08", "-92233720368547758.09",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999999",
	} {
		for _, cur := range []money.Currency{money.USD, money.JPY, money.KWD} {
			f.Add(s, uint8(slices.Index(currencies, cur)))
		}
	}
	f.Fuzz(func(t *testing.T, s string, curIndex uint8) {
		cur := pick(curIndex)
		m, err := money.Parse(s, cur)

		// Work out independently whether s should be accepted.
		var want *big.Int
		inRange := false
		if wellFormed.MatchString(s) {
			_, frac, _ := strings.Cut(s, ".")
			if len(frac) <= cur.Exponent() {
				scaled := new(big.Rat).Mul(ratOf(t, s), new(big.Rat).SetInt(pow10(cur.Exponent())))
				want = scaled.Num() // an integer: no more fraction digits than the exponent
				inRange = want.IsInt64()
			}
		}

		if err != nil {
			if inRange {
				t.Fatalf("Parse(%q, %s) rejected a valid amount: %v", s, cur, err)
			}
			var amountErr *money.AmountError
			if !errors.As(err, &amountErr) || !errors.Is(err, money.ErrInvalidAmount) {
				t.Fatalf("Parse(%q, %s) error %#v is not an *AmountError", s, cur, err)
			}
			if overflow := want != nil && !inRange; errors.Is(err, money.ErrOverflow) != overflow {
				t.Fatalf("Parse(%q, %s) error %v: ErrOverflow match is %v, want %v", s, cur, err, !overflow, overflow)
			}
			return
		}
		if !inRange {
			t.Fatalf("Parse(%q, %s) = %v, want an error", s, cur, m)
		}
		if m.Amount() != want.Int64() || m.Currency() != cur {
			t.Fatalf("Parse(%q, %s) = %d %s, want %s", s, cur, m.Amount(), m.Currency(), want)
		}
		if again, err := money.Parse(m.Decimal(), cur); err != nil || again != m {
			t.Fatalf("Parse(Decimal(Parse(%q))) = %v, %v; want %v", s, again, err, m)
		}
	})
}

// allocateWeights decodes fuzz bytes into weights as signed varints, so the
// fuzzer reaches small, huge, zero and negative weights alike.
func allocateWeights(data []byte) []int64 {
	var weights []int64
	for len(data) > 0 && len(weights) < 64 {
		w, n := binary.Varint(data)
		if n <= 0 {
			break
		}
		weights = append(weights, w)
		data = data[n:]
	}
	return weights
}

func FuzzAllocate(f *testing.F) {
	varints := func(ws ...int64) []byte {
		var b []byte
		for _, w := range ws {
			b = binary.AppendVarint(b, w)
		}
		return b
	}
	f.Add(int64(100), uint8(0), varints(1, 1, 1))
	f.Add(int64(-100), uint8(1), varints(1, 2, 4))
	f.Add(int64(7), uint8(2), varints(0, 0, 0, 0))
	f.Add(int64(1000), uint8(3), varints(1999, 4550, 349, 0))
	f.Add(int64(0), uint8(4), varints(5))
	f.Add(int64(1), uint8(5), varints(math.MaxInt64, 1))
	f.Add(int64(math.MaxInt64), uint8(6), varints(math.MaxInt64, math.MaxInt64))
	f.Add(int64(math.MinInt64), uint8(7), varints(1, 0, 3, math.MaxInt64))
	f.Add(int64(math.MinInt64), uint8(8), varints(math.MaxInt64, math.MaxInt64, 2)) // weights overflow
	f.Add(int64(10), uint8(9), varints(3, -1))                                      // negative weight
	f.Add(int64(10), uint8(10), []byte{})                                           // no weights
	f.Fuzz(func(t *testing.T, amount int64, curIndex uint8, data []byte) {
		total := money.New(amount, pick(curIndex))
		weights := allocateWeights(data)
		parts, err := money.Allocate(total, weights)

		weightSum := new(big.Int)
		negative := false
		for _, w := range weights {
			weightSum.Add(weightSum, big.NewInt(w))
			negative = negative || w < 0
		}
		switch {
		case len(weights) == 0 || negative:
			if !errors.Is(err, money.ErrInvalidArgument) {
				t.Fatalf("Allocate(%v, %v) error = %v, want ErrInvalidArgument", total, weights, err)
			}
			return
		case weightSum.Cmp(new(big.Int).SetUint64(math.MaxUint64)) > 0:
			if !errors.Is(err, money.ErrOverflow) {
				t.Fatalf("Allocate(%v, %v) error = %v, want ErrOverflow", total, weights, err)
			}
			return
		case err != nil:
			t.Fatalf("Allocate(%v, %v): %v", total, weights, err)
		}

		if len(parts) != len(weights) {
			t.Fatalf("Allocate(%v, %v) returned %d parts", total, weights, len(parts))
		}
		sum := new(big.Int)
		bigTotal := big.NewInt(amount)
		for i, p := range parts {
			if p.Currency() != total.Currency() {
				t.Fatalf("part %d is %v, not in %s", i, p, total.Currency())
			}
			if p.Sign() != 0 && p.Sign() != total.Sign() {
				t.Fatalf("part %d is %v, opposite in sign to %v", i, p, total)
			}
			sum.Add(sum, big.NewInt(p.Amount()))
			if weightSum.Sign() == 0 {
				continue
			}
			// |part - total×w/W| < 1  <=>  |part×W - total×w| < W
			dev := new(big.Int).Mul(big.NewInt(p.Amount()), weightSum)
			dev.Sub(dev, new(big.Int).Mul(bigTotal, big.NewInt(weights[i])))
			if dev.Abs(dev).Cmp(weightSum) >= 0 {
				t.Fatalf("Allocate(%v, %v): part %d = %v is a unit or more from its exact share", total, weights, i, p)
			}
			if weights[i] == 0 && !p.IsZero() {
				t.Fatalf("Allocate(%v, %v): zero weight %d got %v", total, weights, i, p)
			}
		}
		if sum.Cmp(bigTotal) != 0 {
			t.Fatalf("Allocate(%v, %v) parts sum to %s, want %d", total, weights, sum, amount)
		}

		if weightSum.Sign() == 0 {
			split, err := money.Split(total, len(weights))
			if err != nil || !slices.Equal(parts, split) {
				t.Fatalf("Allocate(%v, all zero weights) = %v, Split = %v, %v", total, parts, split, err)
			}
		}
		// Negating the total negates every part (when it can be negated).
		if neg, err := total.Neg(); err == nil {
			mirrored, err := money.Allocate(neg, weights)
			if err != nil {
				t.Fatal(err)
			}
			for i := range parts {
				if back, _ := mirrored[i].Neg(); back != parts[i] {
					t.Fatalf("Allocate(%v, %v)[%d] = %v, but Allocate of the negation gives %v", total, weights, i, parts[i], mirrored[i])
				}
			}
		}
	})
}

func FuzzMulRate(f *testing.F) {
	f.Add(int64(125), int64(10), int64(100), uint8(money.HalfUp))
	f.Add(int64(-125), int64(10), int64(100), uint8(money.HalfEven))
	f.Add(int64(135), int64(10), int64(100), uint8(money.HalfEven))
	f.Add(int64(2), int64(1), int64(3), uint8(money.TowardZero))
	f.Add(int64(1), int64(-1), int64(3), uint8(money.AwayFromZero))
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64-1), uint8(money.TowardZero))
	f.Add(int64(math.MaxInt64), int64(-math.MaxInt64), int64(math.MaxInt64-1), uint8(money.AwayFromZero))
	f.Add(int64(math.MinInt64), int64(1), int64(math.MinInt64), uint8(money.HalfUp))
	f.Add(int64(100), int64(1), int64(0), uint8(money.HalfUp))
	f.Add(int64(100), int64(1), int64(2), uint8(0))
	f.Fuzz(func(t *testing.T, amount, num, den int64, modeByte uint8) {
		mode := money.RoundingMode(modeByte % 6) // includes two invalid modes
		got, err := usd(amount).MulRate(num, den, mode)
		if den == 0 || mode < money.HalfUp || mode > money.AwayFromZero {
			if !errors.Is(err, money.ErrInvalidArgument) {
				t.Fatalf("MulRate(%d, %d, %v) error = %v, want ErrInvalidArgument", num, den, mode, err)
			}
			return
		}

		// Round |amount×num| / |den| with big.Int, then put the sign back.
		product := new(big.Int).Mul(big.NewInt(amount), big.NewInt(num))
		neg := product.Sign()*sign(den) < 0
		q, r := new(big.Int).QuoRem(new(big.Int).Abs(product), new(big.Int).Abs(big.NewInt(den)), new(big.Int))
		twice := new(big.Int).Lsh(r, 1)
		half := twice.Cmp(new(big.Int).Abs(big.NewInt(den))) // -1 below half, 0 tie, +1 above
		up := false
		switch mode {
		case money.HalfUp:
			up = half >= 0
		case money.HalfEven:
			up = half > 0 || half == 0 && q.Bit(0) == 1
		case money.AwayFromZero:
			up = r.Sign() != 0
		}
		if up {
			q.Add(q, big.NewInt(1))
		}
		if neg {
			q.Neg(q)
		}

		if !q.IsInt64() {
			if !errors.Is(err, money.ErrOverflow) {
				t.Fatalf("%d.MulRate(%d, %d, %v) = %v, %v; want ErrOverflow for %s", amount, num, den, mode, got, err, q)
			}
			return
		}
		if err != nil || got.Amount() != q.Int64() {
			t.Fatalf("%d.MulRate(%d, %d, %v) = %v, %v; want %s", amount, num, den, mode, got.Amount(), err, q)
		}
	})
}

func sign(v int64) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

func pow10(exp int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)
}

// minorToRat is the exact value of amount minor units of cur.
func minorToRat(amount int64, cur money.Currency) *big.Rat {
	return new(big.Rat).SetFrac(big.NewInt(amount), pow10(cur.Exponent()))
}

// ratOf reads a decimal string exactly; big.Rat never goes through a float.
func ratOf(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("big.Rat cannot read %q", s)
	}
	return r
}
