package shipping

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/kit/country"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
)

// checkName validates a zone or method name and returns it trimmed.
func checkName(v *errs.Validator, name string) string {
	name = strings.TrimSpace(name)
	v.Check(name != "", "name", CodeRequired, "a name is required")
	v.Check(utf8.RuneCountInString(name) <= MaxNameLength, "name", CodeTooLong,
		fmt.Sprintf("a name is at most %d characters", MaxNameLength))
	return name
}

// checkCountries validates country codes as the address book does and
// returns them upper case. A list longer than MaxCountries is refused as a
// whole, so a huge list cannot answer one problem per entry.
func checkCountries(v *errs.Validator, codes []string) []string {
	v.Check(len(codes) > 0, "countries", CodeRequired, "a zone covers at least one country")
	if len(codes) > MaxCountries {
		v.Add(errs.Invalid("countries", CodeTooMany, fmt.Sprintf("a zone lists at most %d countries", MaxCountries)))
		return nil
	}
	out := make([]string, 0, len(codes))
	for i, c := range codes {
		field := "countries." + strconv.Itoa(i)
		c = strings.ToUpper(strings.TrimSpace(c))
		switch {
		case !country.Valid(c):
			v.Add(errs.Invalid(field, CodeInvalidCountry, "the country is an ISO 3166-1 alpha-2 code such as CN or US"))
		case slices.Contains(out, c):
			v.Add(errs.Invalid(field, CodeDuplicateCountry, c+" is listed twice"))
		default:
			out = append(out, c)
		}
	}
	return out
}

// normRegion is how regions are compared: trimmed, upper case.
func normRegion(r string) string { return strings.ToUpper(strings.TrimSpace(r)) }

// validRegion reports whether r (normalized) is a plausible region code:
// letters, digits and dashes, as ISO 3166-2 ("CN-GD") or its subdivision
// part ("GD") are.
func validRegion(r string) bool {
	if r == "" || len(r) > MaxRegionLength {
		return false
	}
	for _, c := range r {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// subdivision returns region in the form zones keep and addresses send
// (their province): the ISO 3166-2 subdivision code without its country
// prefix, upper case (country.Region). "ca-qc", "QC" and "Québec" of CA
// are "QC"; a prefix of another country stays.
func subdivision(region, cc string) string { return country.Region(cc, region) }

// zoneRegion returns region without the prefix of whichever of countries
// it names ("CA-QC" -> "QC" in a zone covering CA).
func zoneRegion(region string, countries []string) string {
	r := normRegion(region)
	for _, c := range countries {
		if s := subdivision(r, c); s != r {
			return s
		}
	}
	return r
}

// checkRegions validates region codes and returns them normalized to
// subdivision codes of the zone's countries (zoneRegion). A list longer
// than MaxRegions is refused as a whole.
func checkRegions(v *errs.Validator, regions, countries []string) []string {
	if len(regions) > MaxRegions {
		v.Add(errs.Invalid("regions", CodeTooMany, fmt.Sprintf("a zone lists at most %d regions", MaxRegions)))
		return nil
	}
	out := make([]string, 0, len(regions))
	for i, r := range regions {
		field := "regions." + strconv.Itoa(i)
		r = zoneRegion(r, countries)
		switch {
		case !validRegion(r):
			v.Add(errs.Invalid(field, CodeInvalidRegion,
				fmt.Sprintf("a region code is 1 to %d letters, digits or dashes, such as GD (or CN-GD) for Guangdong", MaxRegionLength)))
		case slices.Contains(out, r):
			v.Add(errs.Invalid(field, CodeDuplicateRegion, r+" is listed twice"))
		default:
			out = append(out, r)
		}
	}
	return out
}

// parsePrices converts staff's prices, reporting problems under
// "prices.N...". It checks the amounts, not which fields the kind uses
// (checkKind does). Lists longer than MaxPrices or MaxBands are refused
// as a whole, and messages never repeat what was typed, so a huge input
// gets a short answer.
func parsePrices(v *errs.Validator, in []MethodPriceInput) []MethodPrice {
	v.Check(len(in) > 0, "prices", CodeRequired, "a method has a price in at least one currency")
	if len(in) > MaxPrices {
		v.Add(errs.Invalid("prices", CodeTooMany, fmt.Sprintf("a method has at most %d prices", MaxPrices)))
		return nil
	}
	out := make([]MethodPrice, 0, len(in))
	seen := map[money.Currency]bool{}
	for i, pin := range in {
		field := "prices." + strconv.Itoa(i)
		cur, err := money.ParseCurrency(strings.TrimSpace(pin.Currency))
		if err != nil {
			v.Add(errs.Invalid(field+".currencyCode", CodeInvalidCurrency, "the currency is an ISO 4217 code such as CNY or USD"))
			continue
		}
		if seen[cur] {
			v.Add(errs.Invalid(field+".currencyCode", CodeDuplicateCurrency, cur.Code()+" has two prices"))
			continue
		}
		seen[cur] = true
		p := MethodPrice{Currency: cur}
		p.Amount = parseAmount(v, field+".amount", pin.Amount, cur)
		p.FreeOver = parseAmount(v, field+".freeOver", pin.FreeOver, cur)
		if len(pin.Bands) > MaxBands {
			v.Add(errs.Invalid(field+".bands", CodeTooMany, fmt.Sprintf("a price has at most %d weight bands", MaxBands)))
			continue
		}
		for j, b := range pin.Bands {
			bf := field + ".bands." + strconv.Itoa(j)
			price := parseAmount(v, bf+".amount", b.Amount, cur)
			if price.Currency().IsZero() && strings.TrimSpace(b.Amount) == "" {
				v.Add(errs.Invalid(bf+".amount", CodeRequired, "a weight band has a price"))
			}
			p.Bands = append(p.Bands, WeightBand{MaxGrams: b.MaxGrams, Price: price})
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b MethodPrice) int { return strings.Compare(a.Currency.Code(), b.Currency.Code()) })
	return out
}

// parseAmount parses a non-negative decimal amount; "" is the zero Money
// (not set).
func parseAmount(v *errs.Validator, field, s string, cur money.Currency) money.Money {
	s = strings.TrimSpace(s)
	if s == "" {
		return money.Money{}
	}
	m, err := money.ParsePrice(s, cur)
	if err != nil {
		// The reason ("more than 2 fraction digits"), not err's text,
		// which repeats the input however long it is.
		reason := "not a decimal amount"
		var ae *money.AmountError
		if errors.As(err, &ae) {
			reason = ae.Reason
		}
		v.Add(errs.Invalid(field, CodeInvalidAmount, "not a valid "+cur.Code()+" amount: "+reason))
		return money.Money{}
	}
	if m.IsNegative() {
		v.Add(errs.Invalid(field, CodeInvalidAmount, "an amount cannot be negative"))
		return money.Money{}
	}
	return m
}

// checkKind checks that prices set exactly the fields kind uses, and that
// weight bands ascend. Fields are reported under "prices.N...".
func checkKind(v *errs.Validator, kind MethodKind, prices []MethodPrice) {
	if !kind.Valid() {
		v.Add(errs.Invalid("kind", CodeInvalidKind, "the kind is FLAT, FREE_OVER or WEIGHT_BANDS"))
		return
	}
	set := func(m money.Money) bool { return !m.Currency().IsZero() }
	for i, p := range prices {
		field := "prices." + strconv.Itoa(i)
		switch kind {
		case KindFlat, KindFreeOver:
			v.Check(set(p.Amount), field+".amount", CodeRequired, "a "+string(kind)+" method has an amount")
			v.Check(len(p.Bands) == 0, field+".bands", CodeNotForKind, "only WEIGHT_BANDS methods have weight bands")
			if kind == KindFlat {
				v.Check(!set(p.FreeOver), field+".freeOver", CodeNotForKind, "only FREE_OVER methods have a threshold")
			} else {
				switch {
				case !set(p.FreeOver):
					v.Add(errs.Invalid(field+".freeOver", CodeRequired, "a FREE_OVER method has a threshold"))
				case !p.FreeOver.IsPositive():
					v.Add(errs.Invalid(field+".freeOver", CodeInvalidAmount, "the threshold is more than zero"))
				}
			}
		case KindWeightBands:
			v.Check(!set(p.Amount), field+".amount", CodeNotForKind, "a WEIGHT_BANDS method is priced by its bands")
			v.Check(!set(p.FreeOver), field+".freeOver", CodeNotForKind, "only FREE_OVER methods have a threshold")
			v.Check(len(p.Bands) > 0, field+".bands", CodeRequired, "a WEIGHT_BANDS method has at least one band")
			var prev int64
			for j, b := range p.Bands {
				bf := field + ".bands." + strconv.Itoa(j) + ".maxGrams"
				switch {
				case b.MaxGrams == nil:
					v.Check(j == len(p.Bands)-1, bf, CodeInvalidBands, "only the last band may be open-ended")
				case *b.MaxGrams <= prev:
					v.Add(errs.Invalid(bf, CodeInvalidBands, "bands ascend by weight, from more than 0 grams"))
				case *b.MaxGrams > MaxBandGrams:
					v.Add(errs.Invalid(bf, CodeInvalidBands, fmt.Sprintf("a band ends at %d grams at most", MaxBandGrams)))
				default:
					prev = *b.MaxGrams
				}
			}
		}
	}
}
