package money_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/money"
)

func TestParseCurrency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		code string
		want money.Currency
	}{
		{name: "upper case", code: "USD", want: money.USD},
		{name: "lower case is folded", code: "usd", want: money.USD},
		{name: "mixed case is folded", code: "jPy", want: money.JPY},
		{name: "three digit currency", code: "kwd", want: money.KWD},
		{name: "registered without a variable", code: "NZD", want: mustCurrency(t, "nzd")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := money.ParseCurrency(tt.code)
			if err != nil {
				t.Fatalf("ParseCurrency(%q): %v", tt.code, err)
			}
			if got != tt.want {
				t.Errorf("ParseCurrency(%q) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}

func TestParseCurrencyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		code string
	}{
		{name: "empty", code: ""},
		{name: "too short", code: "US"},
		{name: "too long", code: "USDD"},
		{name: "leading space", code: " USD"},
		{name: "trailing space", code: "USD "},
		{name: "digit", code: "U5D"},
		{name: "non-ASCII letter", code: "ÜSD"},
		{name: "not ISO 4217", code: "ABC"},
		{name: "precious metal is not for checkout", code: "XAU"},
		{name: "no currency code", code: "XXX"},
		{name: "withdrawn currency", code: "HRK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := money.ParseCurrency(tt.code)
			if !errors.Is(err, money.ErrUnknownCurrency) {
				t.Fatalf("ParseCurrency(%q) error = %v, want ErrUnknownCurrency", tt.code, err)
			}
			var typed *money.UnknownCurrencyError
			if !errors.As(err, &typed) || typed.Code != tt.code {
				t.Errorf("ParseCurrency(%q) error = %#v, want *UnknownCurrencyError with the code as given", tt.code, err)
			}
		})
	}
}

// TestExponents pins the minor units of the currencies Kassa must support,
// and checks the package variables agree with the registry.
func TestExponents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code     string
		variable money.Currency
		exponent int
	}{
		{"JPY", money.JPY, 0}, {"KRW", money.KRW, 0},
		{"CNY", money.CNY, 2}, {"USD", money.USD, 2}, {"EUR", money.EUR, 2},
		{"GBP", money.GBP, 2}, {"HKD", money.HKD, 2}, {"SGD", money.SGD, 2},
		{"AUD", money.AUD, 2}, {"CAD", money.CAD, 2}, {"CHF", money.CHF, 2},
		{"TWD", money.TWD, 2}, {"MYR", money.MYR, 2}, {"THB", money.THB, 2},
		{"INR", money.INR, 2},
		{"KWD", money.KWD, 3}, {"BHD", money.BHD, 3}, {"JOD", money.JOD, 3},
		{"OMR", money.OMR, 3}, {"TND", money.TND, 3},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			got := mustCurrency(t, tt.code)
			if got != tt.variable {
				t.Errorf("ParseCurrency(%q) = %#v, package variable is %#v", tt.code, got, tt.variable)
			}
			if got.Exponent() != tt.exponent {
				t.Errorf("%s.Exponent() = %d, want %d", tt.code, got.Exponent(), tt.exponent)
			}
			if got.Code() != tt.code || got.String() != tt.code {
				t.Errorf("Code() = %q, String() = %q, want %q", got.Code(), got.String(), tt.code)
			}
		})
	}
}

func TestCurrencies(t *testing.T) {
	t.Parallel()
	all := money.Currencies()
	if len(all) < 150 {
		t.Errorf("Currencies() has %d entries, want the whole active ISO 4217 list", len(all))
	}
	if !slices.IsSortedFunc(all, func(a, b money.Currency) int {
		return strings.Compare(a.Code(), b.Code())
	}) {
		t.Error("Currencies() is not sorted by code")
	}
	for i, c := range all {
		if i > 0 && all[i-1] == c {
			t.Errorf("Currencies() lists %s twice", c)
		}
		if got := mustCurrency(t, c.Code()); got != c {
			t.Errorf("ParseCurrency(%q) = %#v, Currencies() has %#v", c.Code(), got, c)
		}
		switch c.Exponent() {
		case 0, 2, 3:
		default:
			t.Errorf("%s has exponent %d; ISO 4217 trading currencies use 0, 2 or 3", c, c.Exponent())
		}
	}
	all[0] = money.Currency{} // the caller owns the slice
	if money.Currencies()[0].IsZero() {
		t.Error("Currencies() returned shared state")
	}
}

func TestCurrencyText(t *testing.T) {
	t.Parallel()
	text, err := money.EUR.MarshalText()
	if err != nil || string(text) != "EUR" {
		t.Errorf("EUR.MarshalText() = %q, %v; want \"EUR\", nil", text, err)
	}
	if _, err := (money.Currency{}).MarshalText(); !errors.Is(err, money.ErrUnknownCurrency) {
		t.Errorf("zero Currency MarshalText() error = %v, want ErrUnknownCurrency", err)
	}
	var c money.Currency
	if err := c.UnmarshalText([]byte("gbp")); err != nil || c != money.GBP {
		t.Errorf("UnmarshalText(gbp) = %v, %v; want GBP", c, err)
	}
	if err := c.UnmarshalText([]byte("nope")); !errors.Is(err, money.ErrUnknownCurrency) {
		t.Errorf("UnmarshalText(nope) error = %v, want ErrUnknownCurrency", err)
	}
	if c != money.GBP {
		t.Errorf("failed UnmarshalText changed the currency to %v", c)
	}
}

func TestCurrencySQL(t *testing.T) {
	t.Parallel()
	v, err := money.JPY.Value()
	if err != nil || v != "JPY" {
		t.Errorf("JPY.Value() = %v, %v; want \"JPY\", nil", v, err)
	}
	if _, err := (money.Currency{}).Value(); !errors.Is(err, money.ErrUnknownCurrency) {
		t.Errorf("zero Currency Value() error = %v, want ErrUnknownCurrency", err)
	}

	tests := []struct {
		name    string
		src     any
		want    money.Currency
		wantErr bool
	}{
		{name: "string", src: "USD", want: money.USD},
		{name: "bytes", src: []byte("KWD"), want: money.KWD},
		{name: "NULL", src: nil, wantErr: true},
		{name: "integer", src: int64(840), wantErr: true},
		{name: "unknown code", src: "ABC", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got money.Currency
			err := got.Scan(tt.src)
			if tt.wantErr {
				if !errors.Is(err, money.ErrUnknownCurrency) {
					t.Errorf("Scan(%#v) error = %v, want ErrUnknownCurrency", tt.src, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Scan(%#v) = %v, %v; want %v", tt.src, got, err, tt.want)
			}
		})
	}
}

func TestZeroCurrency(t *testing.T) {
	t.Parallel()
	var c money.Currency
	if !c.IsZero() || c.Code() != "" || c.Exponent() != 0 {
		t.Errorf("zero Currency: IsZero=%v Code=%q Exponent=%d", c.IsZero(), c.Code(), c.Exponent())
	}
	if money.USD.IsZero() {
		t.Error("USD.IsZero() = true")
	}
}

func mustCurrency(t testing.TB, code string) money.Currency {
	t.Helper()
	c, err := money.ParseCurrency(code)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
