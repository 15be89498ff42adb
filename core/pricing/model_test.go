package pricing_test

import (
	"testing"

	"github.com/kassahq/kassa/core/pricing"
)

func TestPercent(t *testing.T) {
	for bps, want := range map[int64]string{1300: "13", 650: "6.5", 1498: "14.98", 5: "0.05", 10000: "100", 0: "", -1: ""} {
		if got := pricing.Percent(bps); got != want {
			t.Errorf("Percent(%d) = %q, want %q", bps, got, want)
		}
	}
}
