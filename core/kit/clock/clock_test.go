package clock_test

import (
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/kit/clock"
)

// TestZone: IANA names load from the embedded database; no name, the
// server's own zone, paths and huge names do not.
func TestZone(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"Asia/Shanghai": true, "UTC": true, "America/St_Johns": true, "Asia/Kolkata": true,
		"": false, "Local": false, "local": false, "Mars/Olympus_Mons": false, "../../etc/passwd": false, "/etc/localtime": false,
		strings.Repeat("Asia/", 20): false,
	} {
		loc, ok := clock.Zone(name)
		if ok != want || (ok && loc.String() != name) {
			t.Errorf("Zone(%q) = %v, %v; want ok %v", name, loc, ok, want)
		}
	}
}
