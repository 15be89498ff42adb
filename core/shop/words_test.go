package shop

import (
	"testing"
	"time"
)

// TestInWords: messages say durations as people do (issue 9: "5m0s").
func TestInWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{MinPaymentDeadline, "5 minutes"},
		{MaxPaymentDeadline, "7 days"},
		{time.Hour, "1 hour"},
		{90 * time.Minute, "1 hour 30 minutes"},
		{26*time.Hour + time.Second, "1 day 2 hours 1 second"},
		{time.Second, "1 second"},
		{0, "0 seconds"},
	} {
		if got := inWords(tc.d); got != tc.want {
			t.Errorf("inWords(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
