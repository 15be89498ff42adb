package app

import (
	"runtime"
	"runtime/debug"
)

// serverGCPercent is the garbage collector's target for kassa serve when
// the operator set none (GOGC unset): the heap may grow to five times
// what is live between collections instead of twice. A shop's live heap
// is small (tens of MB), so this costs about 60 MB more memory under load
// and saves ~6 % of the server's CPU per checkout (BENCHMARKS.md,
// "Collector and connections"). GOGC, and GOMEMLIMIT on a small machine,
// still decide when set.
const serverGCPercent = 400

// tuneGC applies serverGCPercent unless getenv("GOGC") names a setting of
// the operator's, and reports the percent it set (0: left as it was).
func tuneGC(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		return 0
	}
	debug.SetGCPercent(serverGCPercent)
	return serverGCPercent
}

// graphqlSlots is how many GraphQL operations run at once for the
// setting n (config.GraphQLConcurrency): 0 is the PostgreSQL pool's
// default size, 4 per CPU.
func graphqlSlots(n int) int {
	if n <= 0 {
		return 4 * runtime.GOMAXPROCS(0)
	}
	return n
}
