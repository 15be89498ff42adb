package seed

import (
	"bytes"
	"regexp"
	"testing"
	"time"
)

// TestOrderProgress: on a terminal the bar is redrawn in place; elsewhere
// progress comes as plain lines; both end with the total and the rate.
func TestOrderProgress(t *testing.T) {
	tests := []struct {
		name string
		bar  bool
		want []*regexp.Regexp
		deny *regexp.Regexp
	}{
		{"terminal", true, []*regexp.Regexp{
			regexp.MustCompile(`\rseeding orders \[#{15}-{15}\] +500/1000 +50% +\d+/s  ETA \S+`),
			regexp.MustCompile(`\rseeding orders \[#{30}\] 1000/1000 100% +\d+/s  ETA 0s +\nseeded 1000 orders in \S+ \(\d+ orders/s\)\n$`),
		}, nil},
		{"log file", false, []*regexp.Regexp{
			regexp.MustCompile(`(?m)^seeding orders: 500/1000 \(50%\), \d+ orders/s, ETA \S+$`),
			regexp.MustCompile(`(?m)^seeding orders: 1000/1000 \(100%\), \d+ orders/s, ETA 0s\nseeded 1000 orders in \S+ \(\d+ orders/s\)\n$`),
		}, regexp.MustCompile("\r")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newOrderProgress(&buf, tt.bar, time.Nanosecond, 1000)
			time.Sleep(2 * time.Millisecond) // a measurable rate
			for _, done := range []int{500, 1000} {
				p.last = time.Time{} // due for a report
				p.update(done)
			}
			p.finish()
			for _, re := range tt.want {
				if !re.Match(buf.Bytes()) {
					t.Errorf("output %q does not match %s", buf.String(), re)
				}
			}
			if tt.deny != nil && tt.deny.Match(buf.Bytes()) {
				t.Errorf("output %q matches %s", buf.String(), tt.deny)
			}
		})
	}
	var nothing orderProgress
	nothing.update(5)
	nothing.finish() // a nil writer reports nothing and does not panic
}
