package money_test

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/money"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		cur  money.Currency
		want int64
	}{
		{name: "cents", in: "12.34", cur: money.USD, want: 1234},
		{name: "whole units", in: "12", cur: money.USD, want: 1200},
		{name: "short fraction is padded", in: "12.3", cur: money.USD, want: 1230},
		{name: "negative fraction", in: "-0.5", cur: money.USD, want: -50},
		{name: "negative cents", in: "-0.05", cur: money.USD, want: -5},
		{name: "zero", in: "0", cur: money.USD, want: 0},
		{name: "negative zero is zero", in: "-0.00", cur: money.USD, want: 0},
		{name: "leading zeros", in: "007.50", cur: money.EUR, want: 750},
		{name: "yen", in: "1200", cur: money.JPY, want: 1200},
		{name: "won", in: "-15000", cur: money.KRW, want: -15000},
		{name: "dinar fils", in: "1.234", cur: money.KWD, want: 1234},
		{name: "dinar short fraction", in: "1.2", cur: money.BHD, want: 1200},
		{name: "largest", in: "92233720368547758.07", cur: money.USD, want: math.MaxInt64},
		{name: "smallest", in: "-92233720368547758.08", cur: money.USD, want: math.MinInt64},
		{name: "largest yen", in: "9223372036854775807", cur: money.JPY, want: math.MaxInt64},
		{name: "smallest dinar", in: "-9223372036854775.808", cur: money.OMR, want: math.MinInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := money.Parse(tt.in, tt.cur)
			if err != nil {
				t.Fatalf("Parse(%q, %s): %v", tt.in, tt.cur, err)
			}
			if diff := cmp.Diff(money.New(tt.want, tt.cur), got); diff != "" {
				t.Errorf("Parse(%q, %s) mismatch (-want +got):\n%s", tt.in, tt.cur, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		in           string
		cur          money.Currency
		wantReason   string
		wantOverflow bool
	}{
		{name: "empty", in: "", cur: money.USD, wantReason: "empty"},
		{name: "sign only", in: "-", cur: money.USD, wantReason: "missing digits"},
		{name: "plus sign", in: "+1", cur: money.USD, wantReason: `unexpected character '+'`},
		{name: "plus minus", in: "+-", cur: money.USD, wantReason: `unexpected character '+'`},
		{name: "double minus", in: "--1", cur: money.USD, wantReason: `unexpected character '-'`},
		{name: "exponent", in: "1e3", cur: money.USD, wantReason: `unexpected character 'e'`},
		{name: "NaN", in: "NaN", cur: money.USD, wantReason: `unexpected character 'N'`},
		{name: "Inf", in: "-Inf", cur: money.USD, wantReason: `unexpected character 'I'`},
		{name: "leading space", in: " 1.00", cur: money.USD, wantReason: `unexpected character ' '`},
		{name: "trailing space", in: "1.00 ", cur: money.USD, wantReason: `unexpected character ' '`},
		{name: "inner space", in: "1 000", cur: money.USD, wantReason: `unexpected character ' '`},
		{name: "thousands separator", in: "1,000.00", cur: money.USD, wantReason: `unexpected character ','`},
		{name: "decimal comma", in: "12,34", cur: money.EUR, wantReason: `unexpected character ','`},
		{name: "underscore", in: "1_000", cur: money.USD, wantReason: `unexpected character '_'`},
		{name: "currency symbol", in: "€12", cur: money.EUR, wantReason: `unexpected character '€'`},
		{name: "full-width digit", in: "１", cur: money.JPY, wantReason: `unexpected character '１'`},
		{name: "hex", in: "0x10", cur: money.USD, wantReason: `unexpected character 'x'`},
		{name: "no integer digits", in: ".5", cur: money.USD, wantReason: "missing digits before the decimal point"},
		{name: "negative no integer digits", in: "-.5", cur: money.USD, wantReason: "missing digits before the decimal point"},
		{name: "no fraction digits", in: "5.", cur: money.USD, wantReason: "missing digits after the decimal point"},
		{name: "two points", in: "1.2.3", cur: money.KWD, wantReason: `unexpected character '.'`},
		{name: "too many fraction digits", in: "12.345", cur: money.USD, wantReason: "more than 2 fraction digits"},
		{name: "trailing zero still too many", in: "12.340", cur: money.USD, wantReason: "more than 2 fraction digits"},
		{name: "yen has no fraction", in: "12.5", cur: money.JPY, wantReason: "this currency has no fraction digits"},
		{name: "dinar four digits", in: "1.2345", cur: money.KWD, wantReason: "more than 3 fraction digits"},
		{name: "one past largest", in: "92233720368547758.08", cur: money.USD, wantReason: "out of range", wantOverflow: true},
		{name: "one past smallest", in: "-92233720368547758.09", cur: money.USD, wantReason: "out of range", wantOverflow: true},
		{name: "padding overflows", in: "92233720368547759", cur: money.USD, wantReason: "out of range", wantOverflow: true},
		{name: "huge", in: "123456789012345678901234567890", cur: money.JPY, wantReason: "out of range", wantOverflow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := money.Parse(tt.in, tt.cur)
			if err == nil {
				t.Fatalf("Parse(%q, %s) = %v, want an error", tt.in, tt.cur, got)
			}
			if !errors.Is(err, money.ErrInvalidAmount) {
				t.Errorf("error %v does not match ErrInvalidAmount", err)
			}
			if errors.Is(err, money.ErrOverflow) != tt.wantOverflow {
				t.Errorf("errors.Is(%v, ErrOverflow) = %v, want %v", err, !tt.wantOverflow, tt.wantOverflow)
			}
			var amountErr *money.AmountError
			if !errors.As(err, &amountErr) {
				t.Fatalf("error %T is not *AmountError", err)
			}
			if amountErr.Input != tt.in || amountErr.Currency != tt.cur || amountErr.Reason != tt.wantReason {
				t.Errorf("AmountError{Input: %q, Currency: %v, Reason: %q}, want {%q, %v, %q}",
					amountErr.Input, amountErr.Currency, amountErr.Reason, tt.in, tt.cur, tt.wantReason)
			}
		})
	}
}

func TestParseWithoutCurrency(t *testing.T) {
	t.Parallel()
	if _, err := money.Parse("1.00", money.Currency{}); !errors.Is(err, money.ErrUnknownCurrency) {
		t.Errorf("Parse with the zero Currency: error = %v, want ErrUnknownCurrency", err)
	}
}

func TestAmountErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := money.Parse("12.345", money.USD)
	const want = `money: invalid USD amount "12.345": more than 2 fraction digits`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestMustParsePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("MustParse of a bad amount did not panic")
		}
	}()
	money.MustParse("1.234", money.USD)
}

func TestDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    money.Money
		want string
	}{
		{name: "cents", m: money.New(1234, money.USD), want: "12.34"},
		{name: "whole", m: money.New(1200, money.USD), want: "12.00"},
		{name: "zero", m: money.Zero(money.EUR), want: "0.00"},
		{name: "one cent", m: money.New(1, money.USD), want: "0.01"},
		{name: "negative cents", m: money.New(-5, money.USD), want: "-0.05"},
		{name: "negative", m: money.New(-1234, money.USD), want: "-12.34"},
		{name: "ten cents", m: money.New(10, money.GBP), want: "0.10"},
		{name: "yen", m: money.New(1200, money.JPY), want: "1200"},
		{name: "negative yen", m: money.New(-7, money.JPY), want: "-7"},
		{name: "zero yen", m: money.Zero(money.JPY), want: "0"},
		{name: "fils", m: money.New(5, money.KWD), want: "0.005"},
		{name: "dinar", m: money.New(1000, money.KWD), want: "1.000"},
		{name: "largest", m: money.New(math.MaxInt64, money.USD), want: "92233720368547758.07"},
		{name: "smallest", m: money.New(math.MinInt64, money.USD), want: "-92233720368547758.08"},
		{name: "smallest dinar", m: money.New(math.MinInt64, money.OMR), want: "-9223372036854775.808"},
		{name: "smallest yen", m: money.New(math.MinInt64, money.JPY), want: "-9223372036854775808"},
		{name: "no currency", m: money.Money{}, want: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.m.Decimal(); got != tt.want {
				t.Errorf("Decimal() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    money.Money
		want string
	}{
		{money.New(1234, money.USD), "12.34 USD"},
		{money.New(-5, money.EUR), "-0.05 EUR"},
		{money.New(1200, money.JPY), "1200 JPY"},
		{money.New(1234, money.KWD), "1.234 KWD"},
		{money.Money{}, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.m.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParsePrice(t *testing.T) {
	t.Parallel()
	// outcome is what ParsePrice answers: an amount or an error's reason.
	type outcome struct {
		Amount int64
		Reason string
	}
	const tooLarge = "more than the maximum of 10000000000.00"
	for _, tt := range []struct {
		name, in string
		cur      money.Currency
		want     outcome
	}{
		{"maximum", "10000000000.00", money.USD, outcome{Amount: money.MaxPrice}},
		{"maximum yen", "1000000000000", money.JPY, outcome{Amount: money.MaxPrice}},
		{"negative parses", "-1.00", money.USD, outcome{Amount: -100}},
		{"one cent above", "10000000000.01", money.USD, outcome{Reason: tooLarge}},
		{"largest int64", "92233720368547758.07", money.CNY, outcome{Reason: tooLarge}},
		{"beyond int64", "92233720368547758.08", money.CNY, outcome{Reason: tooLarge}},
		{"dinar", "1000000000.001", money.KWD, outcome{Reason: "more than the maximum of 1000000000.000"}},
		{"malformed", "1e9", money.USD, outcome{Reason: `unexpected character 'e'`}},
		{"empty", "", money.USD, outcome{Reason: "empty"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := money.ParsePrice(tt.in, tt.cur)
			got := outcome{Amount: m.Amount()}
			if ae := (*money.AmountError)(nil); errors.As(err, &ae) {
				got.Reason = ae.Reason
			} else if err != nil || m.Currency() != tt.cur {
				t.Fatalf("ParsePrice(%q, %s) = %v, %v", tt.in, tt.cur, m, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePrice(%q, %s) mismatch (-want +got):\n%s", tt.in, tt.cur, diff)
			}
		})
	}
}
