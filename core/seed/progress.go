package seed

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar, redrawn in place with a carriage
// return:
//
//	[##########----------]  50000/100000  50%   21034/s  ETA 2s
//
// It draws at most ten times a second, plus once at the end. A nil writer
// draws nothing.
type progress struct {
	w     io.Writer
	total int
	start time.Time
	last  time.Time
	done  int
	drawn int // done at the last draw
}

const barWidth = 30

func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, total: total, start: time.Now()}
}

func (p *progress) update(done int) {
	p.done = done
	if p.w == nil {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || done >= p.total {
		p.last = now
		p.draw(now)
	}
}

func (p *progress) finish() {
	if p.w == nil {
		return
	}
	if p.drawn != p.done {
		p.draw(time.Now())
	}
	fmt.Fprintln(p.w)
}

func (p *progress) draw(now time.Time) {
	p.drawn = p.done
	total := max(p.total, 1)
	filled := min(barWidth*p.done/total, barWidth)
	elapsed := now.Sub(p.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(p.done) / s
	}
	eta := "--"
	if rate > 0 && p.done < p.total {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	} else if p.done >= p.total {
		eta = "0s"
	}
	fmt.Fprintf(p.w, "\rseeding products [%s%s] %*d/%d %3d%% %8.0f/s  ETA %-8s",
		strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled),
		len(fmt.Sprint(p.total)), p.done, p.total, 100*p.done/total, rate, eta)
}
