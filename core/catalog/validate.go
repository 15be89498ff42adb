package catalog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
)

// Limits on catalog input. They keep one product affordable to load and
// render; a shop that needs more variants splits the product.
const (
	MaxTitleLen       = 255
	MaxHandleLen      = 255
	MaxDescriptionLen = 64 << 10
	MaxTags           = 250
	MaxTagLen         = 255
	MaxOptions        = 3
	MaxOptionValues   = 100
	MaxOptionLen      = 255
	MaxVariants       = 100
	MaxSKULen         = 255
	MaxNoteLen        = 1000
	// MaxQuantity bounds every stock figure (on hand, an adjustment, an
	// initial quantity) and weight, so sums never overflow and each fits
	// the API's 32-bit Int (2^31-1).
	MaxQuantity = 1_000_000_000
)

// Slugify derives a handle from a title: lower-case letters and digits
// (any script) joined by single dashes. "Oolong Tea, 250 g" becomes
// "oolong-tea-250-g". It returns "" when the title has no letter or digit.
// Handles never contain "_", so they cannot be mistaken for ids.
func Slugify(title string) string {
	var b strings.Builder
	b.Grow(len(title))
	dash := false
	for _, r := range title {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
		if b.Len() >= MaxHandleLen-8 { // room for a "-N" suffix
			break
		}
	}
	return b.String()
}

// validHandle reports whether h is a handle Slugify could have made.
func validHandle(h string) bool {
	if h == "" || len(h) > MaxHandleLen || h[0] == '-' || h[len(h)-1] == '-' || strings.Contains(h, "--") {
		return false
	}
	for _, r := range h {
		if r != '-' && !(unicode.IsDigit(r) || unicode.IsLetter(r) && !unicode.IsUpper(r)) {
			return false
		}
	}
	return true
}

// sortKey folds a title for TITLE ordering, the same way on every engine.
func sortKey(title string) string { return strings.ToLower(title) }

// searchText is what ProductFilter.Query matches against.
func searchText(p *Product, skus []string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(p.Title))
	b.WriteByte(' ')
	b.WriteString(p.Handle)
	if p.Vendor != "" {
		b.WriteByte(' ')
		b.WriteString(strings.ToLower(p.Vendor))
	}
	for _, s := range skus {
		if s != "" {
			b.WriteByte(' ')
			b.WriteString(strings.ToLower(s))
		}
	}
	return b.String()
}

// path builds a dotted field path: path("variants", 2, "sku") is
// "variants.2.sku". Empty parts are left out, so path("", "title") is
// "title": the prefix of the whole input is empty, field paths being
// relative to the service's input (ADR 0007).
func path(parts ...any) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		switch v := p.(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		default:
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// checkText validates a free-text field: required or not, and its length
// in characters.
func checkText(v *errs.Validator, s, field string, required bool, max int) {
	if required && strings.TrimSpace(s) == "" {
		v.Add(errs.Invalid(field, CodeRequired, "is required"))
		return
	}
	if utf8.RuneCountInString(s) > max {
		v.Add(errs.Invalid(field, CodeTooLong, fmt.Sprintf("must be at most %d characters", max)))
	}
}

// checkSKU validates a SKU: at most MaxSKULen characters, none of them
// invisible. A SKU is typed into warehouse systems and compared byte for
// byte: "TEA-1" with a zero-width space (U+200B) or a soft hyphen would
// look like "TEA-1" everywhere and be another SKU, so format characters
// (Unicode Cf) and spaces other than U+0020 are refused.
func checkSKU(v *errs.Validator, sku, field string) {
	checkText(v, sku, field, false, MaxSKULen)
	for _, r := range sku {
		if unicode.Is(unicode.Cf, r) || (r != ' ' && unicode.IsSpace(r)) {
			v.Add(errs.Invalid(field, CodeInvalidSKU, fmt.Sprintf("a SKU holds visible characters only; remove the invisible %U", r)))
			return
		}
	}
}

// checkOptions validates a product's options: names unique and non-empty,
// values unique and non-empty within an option.
func checkOptions(v *errs.Validator, opts []Option, field string) {
	if len(opts) > MaxOptions {
		v.Add(errs.Invalid(field, CodeTooMany, fmt.Sprintf("a product has at most %d options", MaxOptions)))
		return
	}
	names := make(map[string]bool, len(opts))
	for i, o := range opts {
		f := path(field, i)
		checkText(v, o.Name, f+".name", true, MaxOptionLen)
		key := strings.ToLower(strings.TrimSpace(o.Name))
		if key != "" && names[key] {
			v.Add(errs.Invalid(f+".name", CodeDuplicateOption, fmt.Sprintf("option %q is given twice", o.Name)))
		}
		names[key] = true
		if len(o.Values) == 0 {
			v.Add(errs.Invalid(f+".values", CodeRequired, "an option needs at least one value"))
		}
		if len(o.Values) > MaxOptionValues {
			v.Add(errs.Invalid(f+".values", CodeTooMany, fmt.Sprintf("an option has at most %d values", MaxOptionValues)))
			continue
		}
		seen := make(map[string]bool, len(o.Values))
		for j, val := range o.Values {
			checkText(v, val, path(f, "values", j), true, MaxOptionLen)
			if seen[val] {
				v.Add(errs.Invalid(path(f, "values", j), CodeDuplicateOptionValue, fmt.Sprintf("value %q is given twice", val)))
			}
			seen[val] = true
		}
	}
}

// resolveOptions maps a variant's selected options (by name) to values
// aligned with the product's options. It reports unknown names, missing
// options and values the option does not offer.
func resolveOptions(v *errs.Validator, opts []Option, selected []SelectedOption, field string) []string {
	values := make([]string, len(opts))
	given := make([]bool, len(opts))
	ok := true
	for i, so := range selected {
		f := path(field, i)
		idx := -1
		for j, o := range opts {
			if strings.EqualFold(strings.TrimSpace(o.Name), strings.TrimSpace(so.Name)) {
				idx = j
				break
			}
		}
		if idx < 0 {
			v.Add(errs.Invalid(f+".name", CodeUnknownOption, fmt.Sprintf("the product has no option %q", so.Name)))
			ok = false
			continue
		}
		if given[idx] {
			v.Add(errs.Invalid(f+".name", CodeDuplicateOption, fmt.Sprintf("option %q is given twice", so.Name)))
			ok = false
			continue
		}
		given[idx] = true
		found := false
		for _, val := range opts[idx].Values {
			if val == so.Value {
				found = true
				break
			}
		}
		if !found {
			v.Add(errs.Invalid(f+".value", CodeUnknownOptionValue, fmt.Sprintf("%q is not a value of option %q", so.Value, opts[idx].Name)))
			ok = false
			continue
		}
		values[idx] = so.Value
	}
	for j, g := range given {
		if !g {
			v.Add(errs.Invalid(field, CodeMissingOption, fmt.Sprintf("a value for option %q is required", opts[j].Name)))
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return values
}

// variantTitle is the default title of a variant: its values, "M / Red".
func variantTitle(values []string) string {
	if len(values) == 0 {
		return "Default"
	}
	return strings.Join(values, " / ")
}

// parsePrices validates a variant's price inputs and returns the prices;
// problems are recorded in v and the bad entries are left out.
func parsePrices(v *errs.Validator, in []PriceInput, variantID, field string) []Price {
	out := make([]Price, 0, len(in))
	seen := make(map[money.Currency]bool, len(in))
	for i, p := range in {
		f := path(field, i)
		cur, err := money.ParseCurrency(p.Currency)
		if err != nil {
			v.Add(errs.Invalid(f+".currencyCode", CodeInvalidCurrency, fmt.Sprintf("%q is not an ISO 4217 currency code", p.Currency)))
			continue
		}
		if seen[cur] {
			v.Add(errs.Invalid(f+".currencyCode", CodeDuplicateCurrency, fmt.Sprintf("%s is given twice", cur)))
			continue
		}
		seen[cur] = true
		amount, ok := parseAmount(v, p.Amount, cur, f+".amount")
		var compareAt *money.Money
		if p.CompareAtAmount != "" {
			c, cok := parseAmount(v, p.CompareAtAmount, cur, f+".compareAtAmount")
			compareAt = &c
			ok = ok && cok
		}
		if ok {
			out = append(out, Price{VariantID: variantID, Amount: amount, CompareAt: compareAt})
		}
	}
	return out
}

func parseAmount(v *errs.Validator, s string, cur money.Currency, field string) (money.Money, bool) {
	m, err := money.ParsePrice(strings.TrimSpace(s), cur)
	if err != nil {
		reason := err.Error()
		var ae *money.AmountError
		if errors.As(err, &ae) {
			reason = ae.Reason
		}
		v.Add(errs.Invalid(field, CodeInvalidAmount, fmt.Sprintf("%q is not a valid %s amount: %s", s, cur, reason)))
		return money.Money{}, false
	}
	if m.IsNegative() {
		v.Add(errs.Invalid(field, CodeInvalidAmount, "must not be negative"))
		return money.Money{}, false
	}
	return m, true
}

func checkQuantity(v *errs.Validator, q int64, field string, allowNegative bool) {
	switch {
	case !allowNegative && q < 0:
		v.Add(errs.Invalid(field, CodeInvalidQuantity, "must not be negative"))
	case q > MaxQuantity || q < -MaxQuantity:
		v.Add(errs.Invalid(field, CodeInvalidQuantity, fmt.Sprintf("must be at most %d", MaxQuantity)))
	}
}

func cleanTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	return out
}

func checkTags(v *errs.Validator, tags []string, field string) {
	if len(tags) > MaxTags {
		v.Add(errs.Invalid(field, CodeTooMany, fmt.Sprintf("a product has at most %d tags", MaxTags)))
		return
	}
	for i, t := range tags {
		checkText(v, t, path(field, i), false, MaxTagLen)
	}
}

func cleanOptions(opts []Option) []Option {
	out := make([]Option, len(opts))
	for i, o := range opts {
		vals := make([]string, len(o.Values))
		for j, val := range o.Values {
			vals[j] = strings.TrimSpace(val)
		}
		out[i] = Option{Name: strings.TrimSpace(o.Name), Values: vals}
	}
	return out
}
