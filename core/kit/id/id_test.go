package id

import (
	"sort"
	"testing"
)

func TestNewSortsAndValidates(t *testing.T) {
	t.Parallel()
	ids := make([]string, 10000)
	for i := range ids {
		ids[i] = New("ord")
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("identifiers made in sequence do not sort in creation order")
	}
	seen := make(map[string]bool, len(ids))
	for _, s := range ids {
		if seen[s] {
			t.Fatalf("duplicate id %s", s)
		}
		seen[s] = true
		if !Valid(s, "ord") {
			t.Fatalf("Valid(%q) = false", s)
		}
	}
}

func TestValid(t *testing.T) {
	t.Parallel()
	good := New("prd")
	tests := []struct {
		name, in, prefix string
		want             bool
	}{
		{"good", good, "prd", true},
		{"wrong prefix", good, "ord", false},
		{"short", "prd_01ABC", "prd", false},
		{"bad char", "prd_01JD4S3Y8W3M9Q6T0G2V5XK7PU", "prd", false},
		{"empty", "", "prd", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.in, tt.prefix); got != tt.want {
				t.Errorf("Valid(%q, %q) = %v, want %v", tt.in, tt.prefix, got, tt.want)
			}
		})
	}
	if Prefix(good) != "prd" {
		t.Errorf("Prefix(%q) = %q", good, Prefix(good))
	}
}
