package seed

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// orderProgress reports how far Orders is. On a terminal it redraws one
// line in place (at most ten times a second):
//
//	seeding orders [###############---------------]  500000/1000000  50%   21034/s  ETA 23s
//
// elsewhere (a log file, CI) it writes a plain line every interval, which
// carriage returns would garble:
//
//	seeding orders: 500000/1000000 (50%), 21034 orders/s, ETA 23s
//
// and in both cases a last line with the total and the rate. A nil writer
// reports nothing.
type orderProgress struct {
	w        io.Writer
	bar      bool
	interval time.Duration
	total    int
	start    time.Time
	last     time.Time
	done     int
	drawn    int // done at the last report
}

func newOrderProgress(w io.Writer, bar bool, interval time.Duration, total int) *orderProgress {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	if bar {
		interval = 100 * time.Millisecond
	}
	now := time.Now()
	return &orderProgress{w: w, bar: bar, interval: interval, total: total, start: now, last: now}
}

func (p *orderProgress) update(done int) {
	p.done = done
	if p.w == nil {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= p.interval || (p.bar && done >= p.total) {
		p.last = now
		p.report(now)
	}
}

func (p *orderProgress) finish() {
	if p.w == nil {
		return
	}
	now := time.Now()
	if p.bar {
		if p.drawn != p.done {
			p.report(now)
		}
		fmt.Fprintln(p.w)
	}
	elapsed := now.Sub(p.start)
	fmt.Fprintf(p.w, "seeded %d orders in %s (%.0f orders/s)\n", p.done, elapsed.Round(time.Millisecond), rate(p.done, elapsed))
}

func (p *orderProgress) report(now time.Time) {
	p.drawn = p.done
	total := max(p.total, 1)
	r := rate(p.done, now.Sub(p.start))
	eta := "--"
	switch {
	case p.done >= p.total:
		eta = "0s"
	case r > 0:
		eta = time.Duration(float64(p.total-p.done) / r * float64(time.Second)).Round(time.Second).String()
	}
	if !p.bar {
		fmt.Fprintf(p.w, "seeding orders: %d/%d (%d%%), %.0f orders/s, ETA %s\n", p.done, p.total, 100*p.done/total, r, eta)
		return
	}
	filled := min(barWidth*p.done/total, barWidth)
	fmt.Fprintf(p.w, "\rseeding orders [%s%s] %*d/%d %3d%% %8.0f/s  ETA %-8s",
		strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled),
		len(fmt.Sprint(p.total)), p.done, p.total, 100*p.done/total, r, eta)
}

// rate is n per second over d.
func rate(n int, d time.Duration) float64 {
	if s := d.Seconds(); s > 0 {
		return float64(n) / s
	}
	return 0
}
