package country

import (
	"cmp"
	_ "embed"
	"slices"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// subdivisionsFile holds the ISO 3166-2 subdivisions (states, provinces,
// regions) of 201 countries, with their English names; internal/gen
// writes it from the iso-codes project's list.
//
//go:embed subdivisions.txt
var subdivisionsFile string

// subdivisionIndex is subdivisions.txt and the aliases, read for
// Subdivision and Subdivisions.
type subdivisionIndex struct {
	// byText maps, per country, a subdivision's code and its folded name
	// (foldName) to its code.
	byText map[string]map[string]string
	// listed are, per country, its subdivisions with their English names,
	// in the list's order (by code).
	listed map[string][]SubdivisionName
	// english are, per country, the subdivisions Subdivisions offers in
	// English: the listed ones whose name byText reads back as their
	// code, sorted by folded name, then code. Where aliases give a name
	// in Latin letters (China's pinyin, latinName), it replaces the ISO
	// list's: "Zhejiang", not "Zhejiang Sheng".
	english map[string][]SubdivisionName
}

var subdivisions = sync.OnceValue(func() subdivisionIndex {
	idx := subdivisionIndex{byText: map[string]map[string]string{}, listed: map[string][]SubdivisionName{},
		english: map[string][]SubdivisionName{}}
	for _, line := range strings.Split(subdivisionsFile, "\n") {
		country, list, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		m := map[string]string{}
		for _, pair := range strings.Split(list, "|") {
			code, name, _ := strings.Cut(pair, "=")
			m[code] = code
			// Some ISO names carry an alternate in brackets ("Stockholms
			// län [SE-01]", "Cardiff [Caerdydd GB-CRD]") or a note's
			// asterisk ("Alacant*"): the name without them is what forms
			// show, and both spellings read as the code.
			short := name
			if i := strings.Index(name, " ["); i > 0 {
				short = name[:i]
			}
			short = strings.TrimRight(short, "*")
			idx.listed[country] = append(idx.listed[country], SubdivisionName{Code: code, Name: short})
			for _, n := range []string{name, short} {
				if f := foldName(n); f != "~" {
					if _, taken := m[f]; !taken {
						m[f] = code
					}
				}
			}
		}
		idx.byText[country] = m
	}
	for country, codes := range aliases {
		for code, names := range codes {
			for _, name := range names {
				idx.byText[country][foldName(name)] = code
			}
		}
	}
	for country, list := range idx.listed {
		var english []SubdivisionName
		folded := map[string]string{} // by code
		for _, s := range list {
			if name := latinName(aliases[country][s.Code]); name != "" {
				s.Name = name
			}
			if f := foldName(s.Name); idx.byText[country][f] == s.Code {
				english = append(english, s)
				folded[s.Code] = f
			}
		}
		slices.SortFunc(english, func(a, b SubdivisionName) int {
			return cmp.Or(strings.Compare(folded[a.Code], folded[b.Code]), strings.Compare(a.Code, b.Code))
		})
		idx.english[country] = english
	}
	return idx
})

// latinName is the name of a subdivision in Latin letters among its
// aliases (the first such: China's pinyin, "Nei Mongol"), or "".
func latinName(names []string) string {
	for _, n := range names {
		if n != "" && strings.IndexFunc(n, func(r rune) bool { return r > unicode.MaxLatin1 && unicode.IsLetter(r) }) < 0 {
			return n
		}
	}
	return ""
}

// HasSubdivisions reports whether the country (an upper-case alpha-2
// code) has ISO 3166-2 subdivisions Subdivision knows.
func HasSubdivisions(country string) bool { return subdivisions().byText[country] != nil }

// Subdivision reads what a person typed as the state or province of an
// address in country as an ISO 3166-2 subdivision and returns its code
// without the country prefix: "QC", "qc", "CA-QC", "Quebec" and "Québec"
// are all "QC" in CA, and 浙江省, 浙江 and Zhejiang "ZJ" in CN (aliases). ok is false when the text names none of the
// country's subdivisions, or the country has none.
func Subdivision(country, text string) (code string, ok bool) {
	m := subdivisions().byText[country]
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

// SubdivisionName is a subdivision as an address form suggests it: its
// ISO 3166-2 code without the country prefix ("ZJ") and its name in the
// form's language ("Zhejiang", "浙江省").
type SubdivisionName struct {
	Code, Name string
}

// Subdivisions are country's subdivisions (an upper-case alpha-2 code)
// as an address form in lang (a BCP 47 tag: "en", "zh-CN") suggests
// them for its state or province field; nil when the country has none.
//
// A form in the country's own language gets the names its people write,
// where Kassa knows them (China's provinces in Simplified Chinese:
// 浙江省), in the order of their codes, which for China is the pinyin
// order of the provinces' abbreviations (安徽省, 北京市, 重庆市, ...); Han
// characters are not sorted, as that takes a collator. Any other form
// gets English names (the ISO list's; for China the pinyin people write,
// "Zhejiang" rather than the list's "Zhejiang Sheng"), sorted as people
// look them up: ignoring case, accents, spaces and punctuation, then by
// code.
//
// Every name reads back as its code through Subdivision, so a suggestion
// the buyer picks is a province checkout accepts; where the ISO list
// names two subdivisions alike (Chiayi county and Chiayi city in TW),
// only the one Subdivision reads the name as is offered. The slice is
// the caller's.
func Subdivisions(country, lang string) []SubdivisionName {
	idx := subdivisions()
	native, ok := nativeLanguage[country]
	if !ok || !sameLanguage(lang, native) {
		return slices.Clone(idx.english[country])
	}
	var out []SubdivisionName
	for _, s := range idx.listed[country] {
		if names := aliases[country][s.Code]; len(names) > 0 {
			s.Name = names[0]
		}
		if idx.byText[country][foldName(s.Name)] == s.Code {
			out = append(out, s)
		}
	}
	return out
}

// sameLanguage reports whether the BCP 47 tag lang is native's language
// in native's script: "zh-CN", "zh" and "zh-Hans" are Simplified
// Chinese, "zh-TW" and "zh-Hant" are not.
func sameLanguage(lang string, native language.Tag) bool {
	tag, err := language.Parse(lang)
	if err != nil {
		return false
	}
	b1, _ := tag.Base()
	b2, _ := native.Base()
	s1, _ := tag.Script()
	s2, _ := native.Script()
	return b1 == b2 && s1 == s2
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
