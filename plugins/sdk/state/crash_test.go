package state

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func newCmd(exe, dir string) *exec.Cmd {
	cmd := exec.Command(exe, "-test.run=^TestCrashReplay$", "-test.count=1")
	cmd.Env = append(os.Environ(), "STATE_CRASH_DIR="+dir)
	return cmd
}

// readAcks reads "key n" lines until it has seen want of them and returns
// the highest n acknowledged per key.
func readAcks(t *testing.T, r io.Reader, want int) map[string]int {
	t.Helper()
	acked := map[string]int{}
	sc := bufio.NewScanner(r)
	for seen := 0; seen < want && sc.Scan(); seen++ {
		k, v, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		acked[k] = max(acked[k], n)
	}
	return acked
}
