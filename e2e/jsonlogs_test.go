package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestJSONLogsAreAllJSON: with --log-format json, everything kassa serve
// writes is a JSON object per line, the owner setup link included, so a
// log collector parsing them all trips on nothing. An operator review
// found the start-up banner and the setup link as plain text among them.
func TestJSONLogsAreAllJSON(t *testing.T) {
	t.Parallel()
	in := start(t, t.TempDir(), "--log-format", "json", "--seed-demo")
	in.stop()
	setup := ""
	for _, line := range strings.Split(in.logs.String(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a line that is not JSON: %q\n%s", line, in.logs.String())
		}
		if u, ok := rec["setup_url"].(string); ok {
			setup = u
		}
	}
	if !strings.HasPrefix(setup, in.base+"/admin/setup?token=") {
		t.Fatalf("no owner setup link among the lines (%q):\n%s", setup, in.logs.String())
	}
}
