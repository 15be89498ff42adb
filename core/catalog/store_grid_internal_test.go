package catalog

import "testing"

// The IN list of a grid read has a few lengths, each one prepared
// statement, whatever number of products a buyer's grid misses.
func TestGridListLen(t *testing.T) {
	for _, tt := range []struct{ n, want int }{
		{0, 0}, {1, 1}, {2, 2}, {3, 4}, {5, 8}, {8, 8}, {9, 16}, {24, 32}, {100, 128}, {256, 256}, {257, 257},
	} {
		if got := gridListLen(tt.n); got != tt.want {
			t.Errorf("gridListLen(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}
