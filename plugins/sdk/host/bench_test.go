package host_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/host"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// Figures for BENCHMARKS.md: `go test -run '^$' -bench . ./host/`.

// BenchmarkRoundTrip measures a trivial plugin call (GetPayment answering
// NOT_FOUND) over gRPC with mTLS to a real plugin process; it reports p50
// and p99 latencies besides the mean.
func BenchmarkRoundTrip(b *testing.B) {
	p, err := host.Start(context.Background(), host.Config{Path: bins["payment"], SHA256: shaB(b, bins["payment"])})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Kill()
	gw, _ := p.Gateway()
	ctx := context.Background()
	for range 100 { // warm up connections
		_, _ = gw.GetPayment(ctx, payment.GetRequest{AttemptID: "x"})
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := gw.GetPayment(ctx, payment.GetRequest{AttemptID: "x"}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	if rss := rssKB(p.PID()); rss > 0 {
		b.ReportMetric(float64(rss), "plugin-rss-KB")
	}
}

// BenchmarkColdStart measures starting a plugin (checksum, exec, handshake,
// mTLS) until its first answer.
func BenchmarkColdStart(b *testing.B) {
	sum := shaB(b, bins["payment"])
	for b.Loop() {
		p, err := host.Start(context.Background(), host.Config{Path: bins["payment"], SHA256: sum})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Describe(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		p.Kill()
		b.StartTimer()
	}
}

func shaB(b *testing.B, path string) string {
	s, err := host.FileSHA256(path)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// rssKB reads a process's resident set size from /proc (Linux only).
func rssKB(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}
