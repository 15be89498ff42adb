package money

import (
	"cmp"
	"database/sql/driver"
	"fmt"
	"slices"
)

// Currency is an ISO 4217 currency known to the registry. Values are
// comparable and safe to use as map keys.
//
// The only way to get a Currency is ParseCurrency, Currencies or one of the
// package variables (USD, EUR, ...), so a non-zero Currency is always a
// registered one. The zero Currency means "not set"; arithmetic, formatting
// for storage and JSON refuse it with ErrUnknownCurrency.
type Currency struct {
	code     string
	exponent uint8
}

// Currencies used often enough by Kassa shops to deserve a name. Any other
// registered code is available through ParseCurrency.
var (
	AUD = mustCurrency("AUD") // Australian dollar, 2 minor digits.
	BHD = mustCurrency("BHD") // Bahraini dinar, 3 minor digits.
	CAD = mustCurrency("CAD") // Canadian dollar, 2 minor digits.
	CHF = mustCurrency("CHF") // Swiss franc, 2 minor digits.
	CNY = mustCurrency("CNY") // Chinese yuan renminbi, 2 minor digits.
	EUR = mustCurrency("EUR") // Euro, 2 minor digits.
	GBP = mustCurrency("GBP") // Pound sterling, 2 minor digits.
	HKD = mustCurrency("HKD") // Hong Kong dollar, 2 minor digits.
	INR = mustCurrency("INR") // Indian rupee, 2 minor digits.
	JOD = mustCurrency("JOD") // Jordanian dinar, 3 minor digits.
	JPY = mustCurrency("JPY") // Japanese yen, no minor unit.
	KRW = mustCurrency("KRW") // South Korean won, no minor unit.
	KWD = mustCurrency("KWD") // Kuwaiti dinar, 3 minor digits.
	MYR = mustCurrency("MYR") // Malaysian ringgit, 2 minor digits.
	OMR = mustCurrency("OMR") // Omani rial, 3 minor digits.
	SGD = mustCurrency("SGD") // Singapore dollar, 2 minor digits.
	THB = mustCurrency("THB") // Thai baht, 2 minor digits.
	TND = mustCurrency("TND") // Tunisian dinar, 3 minor digits.
	TWD = mustCurrency("TWD") // New Taiwan dollar, 2 minor digits.
	USD = mustCurrency("USD") // US dollar, 2 minor digits.
)

// exponents is the registry: every active ISO 4217 currency a shop can sell
// in, with the number of minor unit digits from ISO 4217 list one.
//
// Funds, precious metals and accounting units (BOV, CLF, XAU, XDR, XXX, ...)
// are left out on purpose: nobody checks out in them. Withdrawn codes (HRK,
// SLL, ZWL, ANG, ...) are left out so a new shop cannot pick one.
//
// Exponents are ISO's, not a gateway's: Stripe, for one, treats HUF, TWD and
// ISK differently. Gateway plugins convert at their edge; the core never does.
var exponents = map[string]uint8{
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2,
	"AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2,
	"BND": 2, "BOB": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2,
	"CAD": 2, "CDF": 2, "CHF": 2, "CLP": 0, "CNY": 2, "COP": 2, "CRC": 2, "CUP": 2,
	"CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2,
	"ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2,
	"GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2,
	"IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3,
	"JPY": 0, "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3,
	"KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3,
	"MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2,
	"MUR": 2, "MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2,
	"NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2,
	"PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2,
	"RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2,
	"SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2,
	"THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2,
	"TZS": 2, "UAH": 2, "UGX": 0, "USD": 2, "UYU": 2, "UZS": 2, "VED": 2, "VES": 2,
	"VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0, "XPF": 0,
	"YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}

// mustCurrency builds the package variables; a typo there fails at init,
// long before it can price anything.
func mustCurrency(code string) Currency {
	c, err := ParseCurrency(code)
	if err != nil {
		panic(err)
	}
	return c
}

// ParseCurrency returns the registered currency for an ISO 4217 alphabetic
// code. Case is folded ("usd" is USD), but nothing else is forgiven: spaces,
// non-letters and unknown codes get an *UnknownCurrencyError, which unwraps
// to ErrUnknownCurrency.
func ParseCurrency(code string) (Currency, error) {
	if len(code) != 3 {
		return Currency{}, &UnknownCurrencyError{Code: code}
	}
	var upper [3]byte
	for i := range 3 {
		c := code[i]
		switch {
		case 'A' <= c && c <= 'Z':
			upper[i] = c
		case 'a' <= c && c <= 'z':
			upper[i] = c - ('a' - 'A')
		default:
			return Currency{}, &UnknownCurrencyError{Code: code}
		}
	}
	exp, ok := exponents[string(upper[:])]
	if !ok {
		return Currency{}, &UnknownCurrencyError{Code: code}
	}
	return Currency{code: string(upper[:]), exponent: exp}, nil
}

// Currencies returns every registered currency, sorted by code, for pickers
// in the admin and for validation messages. The slice is the caller's own.
func Currencies() []Currency {
	out := make([]Currency, 0, len(exponents))
	for code, exp := range exponents {
		out = append(out, Currency{code: code, exponent: exp})
	}
	slices.SortFunc(out, func(a, b Currency) int { return cmp.Compare(a.code, b.code) })
	return out
}

// Code returns the upper-case ISO 4217 code, e.g. "USD", or "" for the zero
// Currency. This is what the stores persist and GraphQL calls currencyCode.
func (c Currency) Code() string { return c.code }

// String returns the same as Code.
func (c Currency) String() string { return c.code }

// Exponent returns the number of minor unit digits: 2 for USD (cents), 0 for
// JPY, 3 for KWD. One major unit is 10^Exponent minor units.
func (c Currency) Exponent() int { return int(c.exponent) }

// IsZero reports whether c is the zero Currency, i.e. no currency was set.
func (c Currency) IsZero() bool { return c.code == "" }

// MarshalText implements encoding.TextMarshaler, so a Currency is a plain
// "USD" in JSON and config files. The zero Currency is an error rather than
// "", so a forgotten field is caught when it is written, not when it is read.
func (c Currency) MarshalText() ([]byte, error) {
	if c.IsZero() {
		return nil, noCurrency("marshal currency")
	}
	return []byte(c.code), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseCurrency.
func (c *Currency) UnmarshalText(text []byte) error {
	parsed, err := ParseCurrency(string(text))
	if err != nil {
		return err
	}
	*c = parsed
	return nil
}

// Value implements driver.Valuer so bun stores a Currency as its code in a
// TEXT column. The zero Currency is refused; use *Currency for a nullable
// column.
func (c Currency) Value() (driver.Value, error) {
	if c.IsZero() {
		return nil, noCurrency("store currency")
	}
	return c.code, nil
}

// Scan implements sql.Scanner for a TEXT column written by Value. NULL is
// refused for the same reason Value refuses the zero Currency.
func (c *Currency) Scan(src any) error {
	var code string
	switch v := src.(type) {
	case string:
		code = v
	case []byte:
		code = string(v)
	default:
		return fmt.Errorf("money: scan currency from %T: %w", src, ErrUnknownCurrency)
	}
	parsed, err := ParseCurrency(code)
	if err != nil {
		return fmt.Errorf("money: scan currency: %w", err)
	}
	*c = parsed
	return nil
}
