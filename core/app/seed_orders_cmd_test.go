package app

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestSeedAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"first", []string{"orders", "--count", "5"}, "orders"},
		{"after flags with values", []string{"--data-dir", "orders", "--count=5", "orders"}, "orders"},
		{"after a boolean flag", []string{"--quiet", "orders"}, "orders"},
		{"demo", []string{"demo", "--products", "10"}, "demo"},
		{"demo after a flag valued orders", []string{"--data-dir", "orders", "demo"}, "demo"},
		{"after double dash", []string{"--", "orders"}, "orders"},
		{"none", []string{"--count", "5"}, ""},
		{"help only", []string{"--help"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := seedAction(tt.args, IO{Stdout: io.Discard, Stderr: io.Discard}); got != tt.want {
				t.Fatalf("seedAction(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

// TestSeedOrdersCommand runs `kassa seed orders` as a user would, on a
// fresh SQLite shop: refused before the demo catalog exists and without
// a count, then adding the orders, with plain progress lines on a
// standard error that is not a terminal.
func TestSeedOrdersCommand(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
		return code, out.String(), errOut.String()
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"no count", []string{"seed", "orders", "--data-dir", dir}, 2, "", "--count must be a positive number"},
		{"no catalog", []string{"seed", "--data-dir", dir, "orders", "--count", "10"}, 1, "", "run `kassa seed demo` first"},
		{"demo", []string{"seed", "demo", "--data-dir", dir, "--log-level", "warn"}, 0, "", ""},
		{"orders", []string{"seed", "--data-dir", dir, "orders", "--count", "120", "--customers", "3", "--batch", "50", "--log-level", "warn"},
			0, "added orders #1001 to #1120 (120;", "seeded 120 orders in "},
		{"more orders, quiet", []string{"seed", "orders", "--data-dir", dir, "--count", "5", "--quiet", "--log-level", "warn"},
			0, "added orders #1121 to #1125 (5;", ""},
	}
	for _, tt := range tests {
		code, out, errOut := run(tt.args...)
		if code != tt.wantCode || !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tt.name, code, out, errOut, tt.wantCode, tt.wantOut, tt.wantErr)
		}
		if strings.Contains(errOut, "\r") {
			t.Errorf("%s: progress redrawn in place on a standard error that is not a terminal: %q", tt.name, errOut)
		}
	}
}
