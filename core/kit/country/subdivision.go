package country

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// subdivisionsFile holds the ISO 3166-2 subdivisions (states, provinces,
// regions) of 201 countries, with their English names; internal/gen
// writes it from the iso-codes project's list.
//
//go:embed subdivisions.txt
var subdivisionsFile string

// subdivisionIndex maps, per country, a subdivision's code and its folded
// name (foldName) to its code.
type subdivisionIndex map[string]map[string]string

var subdivisions = sync.OnceValue(func() subdivisionIndex {
	idx := subdivisionIndex{}
	for _, line := range strings.Split(subdivisionsFile, "\n") {
		country, list, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		m := map[string]string{}
		for _, pair := range strings.Split(list, "|") {
			code, name, _ := strings.Cut(pair, "=")
			m[code] = code
			if f := foldName(name); f != "~" {
				if _, taken := m[f]; !taken {
					m[f] = code
				}
			}
		}
		idx[country] = m
	}
	for country, codes := range aliases {
		for code, names := range codes {
			for _, name := range names {
				idx[country][foldName(name)] = code
			}
		}
	}
	return idx
})

// HasSubdivisions reports whether the country (an upper-case alpha-2
// code) has ISO 3166-2 subdivisions Subdivision knows.
func HasSubdivisions(country string) bool { return subdivisions()[country] != nil }

// Subdivision reads what a person typed as the state or province of an
// address in country as an ISO 3166-2 subdivision and returns its code
// without the country prefix: "QC", "qc", "CA-QC", "Quebec" and "Québec"
// are all "QC" in CA, and 浙江省, 浙江 and Zhejiang "ZJ" in CN (aliases). ok is false when the text names none of the
// country's subdivisions, or the country has none.
func Subdivision(country, text string) (code string, ok bool) {
	m := subdivisions()[country]
	if m == nil {
		return "", false
	}
	t := strings.ToUpper(strings.TrimSpace(text))
	t = strings.TrimPrefix(t, country+"-")
	if c, ok := m[t]; ok && c == t {
		return c, true
	}
	c, ok := m[foldName(text)]
	return c, ok
}

// foldName is a name as compared: lower case, without accents, spaces
// or punctuation ("Québec", "quebec" and "QUE BEC" are one), behind a
// "~" that keeps it apart from the codes in the same map.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// an accent, dropped with the decomposition
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return "~" + b.String()
}

// Region is the region of an address or a rule in country as Kassa
// compares regions (tax rates, shipping zones): the subdivision code
// when text names one ("Québec" is "QC" in CA), otherwise text trimmed,
// in upper case, without the country's prefix ("CA-XY" is "XY"), for
// the caller to judge.
func Region(country, text string) string {
	if code, ok := Subdivision(country, text); ok {
		return code
	}
	r := strings.ToUpper(strings.TrimSpace(text))
	if rest, ok := strings.CutPrefix(r, country+"-"); ok && country != "" && rest != "" {
		return rest
	}
	return r
}
