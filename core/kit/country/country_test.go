package country

import "testing"

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
