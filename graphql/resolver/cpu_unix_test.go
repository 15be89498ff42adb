//go:build unix

package resolver_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuClock returns the CPU time (user and system, every thread, so the
// garbage collector's too) the process has used so far.
func cpuClock() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// reportCPU starts counting the process's CPU time; the function it
// returns reports it per operation as cpu-ns/op. On a machine that other
// work shares, ns/op counts the waits for a core as well; cpu-ns/op mostly
// does not, and on two cores it bounds the throughput from above:
// 2e9 / cpu-ns/op requests a second.
func reportCPU(b *testing.B) func() {
	start := cpuClock()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuClock()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
