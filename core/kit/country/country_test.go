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
