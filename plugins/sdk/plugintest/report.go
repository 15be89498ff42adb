package plugintest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// outcome of one check in the summary report.
type checkResult struct {
	name   string
	status string // PASS, FAIL, SKIP
	note   string
}

// suite runs named checks as subtests and keeps the summary report.
type suite struct {
	t       *testing.T
	mu      sync.Mutex
	results []checkResult
	notes   map[*testing.T]string
}

func newSuite(t *testing.T) *suite { return &suite{t: t, notes: map[*testing.T]string{}} }

// skipf skips the running check t and records the reason for the report.
func (s *suite) skipf(t *testing.T, format string, args ...any) {
	t.Helper()
	s.mu.Lock()
	s.notes[t] = fmt.Sprintf(format, args...)
	s.mu.Unlock()
	t.Skipf(format, args...)
}

// check runs fn as the subtest name and records its outcome. It reports
// whether the check passed (a skip is not a pass).
func (s *suite) check(name string, fn func(t *testing.T)) bool {
	var sub *testing.T
	ok := s.t.Run(name, func(t *testing.T) {
		sub = t
		fn(t)
	})
	r := checkResult{name: name, status: "PASS"}
	switch {
	case sub != nil && sub.Skipped():
		s.mu.Lock()
		r.status, r.note = "SKIP", s.notes[sub]
		s.mu.Unlock()
	case !ok:
		r.status = "FAIL"
	}
	s.mu.Lock()
	s.results = append(s.results, r)
	s.mu.Unlock()
	return ok && r.status == "PASS"
}

// skip records a check that was not run, with the reason.
func (s *suite) skip(name, reason string) {
	s.t.Run(name, func(t *testing.T) { t.Skip(reason) })
	s.mu.Lock()
	s.results = append(s.results, checkResult{name: name, status: "SKIP", note: reason})
	s.mu.Unlock()
}

// report logs the summary table; on failures it also marks the parent test
// failed with the list of failed checks.
func (s *suite) report(title string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sb strings.Builder
	var pass, fail, skip int
	var failed []string
	width := 0
	for _, r := range s.results {
		width = max(width, len(r.name))
	}
	for _, r := range s.results {
		switch r.status {
		case "PASS":
			pass++
		case "FAIL":
			fail++
			failed = append(failed, r.name)
		default:
			skip++
		}
		line := fmt.Sprintf("  %-4s  %-*s", r.status, width, r.name)
		if r.note != "" && r.status == "SKIP" {
			line += "  (" + r.note + ")"
		}
		sb.WriteString(strings.TrimRight(line, " "))
		sb.WriteByte('\n')
	}
	s.t.Logf("%s conformance report: %d passed, %d failed, %d skipped\n%s", title, pass, fail, skip, sb.String())
	if fail > 0 {
		s.t.Errorf("%s: %d check(s) failed: %s (see the subtests above for details)", title, fail, strings.Join(failed, ", "))
	}
}
