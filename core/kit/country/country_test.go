package country

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValid(t *testing.T) {
	t.Parallel()
	if len(known) != 249 {
		t.Fatalf("%d codes, want the 249 ISO 3166-1 alpha-2 codes", len(known))
	}
	for code, want := range map[string]bool{"CN": true, "US": true, "DE": true, "HK": true, "XX": false, "cn": false, "UK": false, "": false, "CHN": false} {
		if got := Valid(code); got != want {
			t.Errorf("Valid(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestSubdivision(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		country, text, want string
	}{
		{"CA", "QC", "QC"},
		{"CA", " qc ", "QC"},
		{"CA", "CA-QC", "QC"},
		{"CA", "Quebec", "QC"},
		{"CA", "Québec", "QC"},
		{"CA", "QUÉBEC", "QC"},
		{"CA", "Que bec", "QC"},
		{"CA", "british columbia", "BC"},
		{"CA", "Q C", ""},
		{"CA", "Quebec City", ""},
		{"CA", "ZZ", ""},
		{"CA", "US-CA", ""},
		{"CA", "", ""},
		{"US", "California", "CA"},
		{"US", "ca", "CA"},
		{"US", "New York", "NY"},
		{"US", "DC", "DC"},
		{"CN", "CN-ZJ", "ZJ"},
		{"CN", "Beijing Shi", "BJ"},
		{"SE", "Stockholms län [SE-01]", "AB"}, // the ISO list's name
		{"SE", "Stockholms län", "AB"},         // as forms show it
		{"ES", "Alacant", "A"},
		{"ES", "Alacant*", "A"},
		{"CN", "浙江省", "ZJ"},
		{"CN", "浙江", "ZJ"},
		{"CN", "zhejiang", "ZJ"},
		{"CN", "Inner Mongolia", "NM"},
		{"CN", "Shanxi", "SX"},
		{"CN", "Shaanxi", "SN"},
		{"CN", "浙江省杭州市", ""},
		{"DE", "Bayern", "BY"},
		{"XX", "QC", ""},
		{"AQ", "anything", ""},
	} {
		got, ok := Subdivision(c.country, c.text)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("Subdivision(%s, %q) = %q, %v; want %q", c.country, c.text, got, ok, c.want)
		}
	}
	if !HasSubdivisions("CA") || HasSubdivisions("AQ") || HasSubdivisions("ca") {
		t.Error("HasSubdivisions: CA has them, AQ has none, codes are upper case")
	}
}

func TestSubdivisions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, country, lang string
		// first are the first suggestions, in order; run some others,
		// one after another; has some more, anywhere.
		first, run, has []SubdivisionName
		n               int
	}{
		{"US in English, by name", "US", "en",
			[]SubdivisionName{{"AL", "Alabama"}, {"AK", "Alaska"}, {"AS", "American Samoa"}, {"AZ", "Arizona"}},
			[]SubdivisionName{{"NM", "New Mexico"}, {"NY", "New York"}, {"NC", "North Carolina"}, {"ND", "North Dakota"}},
			[]SubdivisionName{{"CA", "California"}, {"WY", "Wyoming"}}, 57},
		{"US on a Chinese page: English, Kassa knows no Chinese names", "US", "zh-CN",
			[]SubdivisionName{{"AL", "Alabama"}, {"AK", "Alaska"}}, nil, []SubdivisionName{{"CA", "California"}}, 57},
		{"CN in Simplified Chinese, by code", "CN", "zh-CN",
			[]SubdivisionName{{"AH", "安徽省"}, {"BJ", "北京市"}, {"CQ", "重庆市"}, {"FJ", "福建省"}}, nil,
			[]SubdivisionName{{"GX", "广西壮族自治区"}, {"HK", "香港特别行政区"}, {"ZJ", "浙江省"}}, 34},
		{"CN, zh is Simplified Chinese", "CN", "zh", []SubdivisionName{{"AH", "安徽省"}}, nil, []SubdivisionName{{"ZJ", "浙江省"}}, 34},
		{"CN, zh-Hans", "CN", "zh-Hans", []SubdivisionName{{"AH", "安徽省"}}, nil, nil, 34},
		{"CN in English: pinyin, as people write it", "CN", "en",
			[]SubdivisionName{{"AH", "Anhui"}, {"BJ", "Beijing"}, {"CQ", "Chongqing"}}, nil,
			[]SubdivisionName{{"ZJ", "Zhejiang"}, {"NM", "Nei Mongol"}}, 34},
		{"CN in Traditional Chinese: English", "CN", "zh-TW", []SubdivisionName{{"AH", "Anhui"}}, nil, nil, 34},
		{"CN, a tag that does not parse: English", "CN", "??", []SubdivisionName{{"AH", "Anhui"}}, nil, nil, 34},
		{"SE: without the ISO list's bracketed codes", "SE", "en",
			[]SubdivisionName{{"K", "Blekinge län"}, {"W", "Dalarnas län"}}, nil, []SubdivisionName{{"AB", "Stockholms län"}}, 21},
		{"ES: without the ISO list's asterisks", "ES", "en",
			[]SubdivisionName{{"C", "A Coruña"}, {"A", "Alacant"}}, nil, []SubdivisionName{{"B", "Barcelona"}}, 66},
		{"FR: accents do not change the order", "FR", "en",
			[]SubdivisionName{{"01", "Ain"}, {"02", "Aisne"}, {"03", "Allier"}, {"04", "Alpes-de-Haute-Provence"}, {"06", "Alpes-Maritimes"}},
			[]SubdivisionName{{"07", "Ardèche"}, {"08", "Ardennes"}, {"09", "Ariège"}, {"10", "Aube"}},
			[]SubdivisionName{{"IDF", "Île-de-France"}}, 122},
		{"TW: Chiayi county and city are one suggestion", "TW", "en",
			[]SubdivisionName{{"CHA", "Changhua"}, {"CYI", "Chiayi"}, {"HSQ", "Hsinchu"}, {"HUA", "Hualien"}}, nil, nil, 20},
		{"HK has none", "HK", "en", nil, nil, nil, 0},
		{"AQ has none", "AQ", "zh-CN", nil, nil, nil, 0},
		{"codes are upper case", "us", "en", nil, nil, nil, 0},
		{"no country", "", "en", nil, nil, nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := Subdivisions(c.country, c.lang)
			if len(got) != c.n {
				t.Fatalf("%d suggestions, want %d: %v", len(got), c.n, got)
			}
			if c.n == 0 && got != nil {
				t.Fatalf("got %#v, want nil", got)
			}
			if diff := cmp.Diff(c.first, got[:len(c.first)]); diff != "" {
				t.Errorf("first suggestions (-want +got):\n%s", diff)
			}
			if len(c.run) > 0 {
				i := slices.Index(got, c.run[0])
				if i < 0 || i+len(c.run) > len(got) {
					t.Fatalf("no %v among %v", c.run[0], got)
				}
				if diff := cmp.Diff(c.run, got[i:i+len(c.run)]); diff != "" {
					t.Errorf("suggestions from %v (-want +got):\n%s", c.run[0], diff)
				}
			}
			for _, s := range c.has {
				if !slices.Contains(got, s) {
					t.Errorf("no %v among %v", s, got)
				}
			}
		})
	}
}

// TestSubdivisionsReadBack: in every country and either language, each
// suggestion is a text Subdivision reads as its code, no name is offered
// twice, the English ones are in order, and a caller changing its slice
// changes nobody else's.
func TestSubdivisionsReadBack(t *testing.T) {
	t.Parallel()
	countries := 0
	for country := range subdivisions().listed {
		countries++
		for _, lang := range []string{"en", "zh-CN"} {
			got := Subdivisions(country, lang)
			if len(got) == 0 {
				t.Errorf("%s %s: no suggestions", country, lang)
			}
			seen := map[string]bool{}
			for i, s := range got {
				if code, ok := Subdivision(country, s.Name); !ok || code != s.Code {
					t.Errorf("%s %s: %q reads as %q, %v; want %q", country, lang, s.Name, code, ok, s.Code)
				}
				if seen[foldName(s.Name)] {
					t.Errorf("%s %s: %q offered twice", country, lang, s.Name)
				}
				seen[foldName(s.Name)] = true
				if i > 0 && lang == "en" && foldName(got[i-1].Name) > foldName(s.Name) {
					t.Errorf("%s: %q before %q", country, got[i-1].Name, s.Name)
				}
			}
			if len(got) > 0 {
				got[0].Name = "changed"
				if Subdivisions(country, lang)[0].Name == "changed" {
					t.Fatalf("%s %s: the caller's change shows in the next call", country, lang)
				}
			}
		}
	}
	if countries != 200 {
		t.Errorf("%d countries with subdivisions, want 200", countries)
	}
}
