package plugin

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/payment"
)

// BenchmarkRoundTrip measures a trivial plugin call (GetPayment) through
// the payment.Gateway adapter: supervisor lookup, gRPC over AutoMTLS to the
// plugin process, conversion. It reports p50 and p99 (target p50 < 100 µs).
func BenchmarkRoundTrip(b *testing.B) {
	e := sqliteEnv(b)
	e.installEnabled(b, "")
	gw, err := e.svc.Gateway(ctx(), testID)
	if err != nil {
		b.Fatal(err)
	}
	c := ctx()
	req := payment.GetRequest{AttemptID: "pay_1", GatewayRef: "gw_1"}
	for range 200 { // start the process, warm the connection
		if _, err := gw.GetPayment(c, req); err != nil {
			b.Fatal(err)
		}
	}
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := gw.GetPayment(c, req); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, durations)
}

// BenchmarkColdStart measures starting a plugin up to its first answer:
// checksum, process start, go-plugin handshake with AutoMTLS, Describe,
// Configure, Health. It also reports the process's resident memory
// (target < 15 MB).
func BenchmarkColdStart(b *testing.B) {
	e := sqliteEnv(b)
	e.installEnabled(b, "")
	gw, err := e.svc.Gateway(ctx(), testID)
	if err != nil {
		b.Fatal(err)
	}
	req := payment.GetRequest{AttemptID: "pay_1"}
	inst := e.svc.existing(testID)
	var rss, anon []int
	durations := make([]time.Duration, 0, b.N)
	for b.Loop() {
		b.StopTimer()
		if inst != nil {
			inst.stopProcess("benchmark")
		}
		b.StartTimer()
		start := time.Now()
		if _, err := gw.GetPayment(ctx(), req); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
		b.StopTimer()
		inst = e.svc.existing(testID)
		for range 100 {
			_, _ = gw.GetPayment(ctx(), req)
		}
		if kb, an := vmRSS(e.pid()); kb > 0 {
			rss, anon = append(rss, kb), append(anon, an)
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportPercentiles(b, durations)
	if len(rss) > 0 {
		slices.Sort(rss)
		slices.Sort(anon)
		b.ReportMetric(float64(rss[len(rss)/2])/1024, "rss-MB")
		// Most of VmRSS is clean file-backed pages of the executable (the
		// host has just hashed it, so it is in the page cache and the
		// kernel maps it around faults); the private part is RssAnon.
		b.ReportMetric(float64(anon[len(anon)/2])/1024, "anon-MB")
	}
}

func reportPercentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	pct := func(p float64) float64 {
		i := int(float64(len(d)-1) * p)
		return float64(d[i].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// vmRSS returns the resident set size of pid and its anonymous part in
// kB, from /proc/<pid>/status.
func vmRSS(pid int) (rss, anon int) {
	if pid == 0 {
		return 0, 0
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	kb := func(v string) int {
		n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		return n
	}
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			rss = kb(v)
		}
		if v, ok := strings.CutPrefix(sc.Text(), "RssAnon:"); ok {
			anon = kb(v)
		}
	}
	return rss, anon
}
