package plugintest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Main builds the plugin's main package pkg once for the whole test run,
// stores the binary's path in *binary, runs the tests, removes the binary
// and exits. An author's TestMain is one line:
//
//	var binary string
//
//	func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }
func Main(m *testing.M, pkg string, binary *string) {
	dir, err := os.MkdirTemp("", "plugintest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *binary, err = BuildBinary(pkg, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// BuildBinary compiles the main package pkg (a directory such as "." or
// "./cmd/myplugin", or an import path, resolved from the current
// directory, like `go build`) into dir and returns the binary's path.
// Main uses it to build once per test run.
func BuildBinary(pkg, dir string) (string, error) {
	name := filepath.Base(strings.TrimRight(pkg, "/"))
	if name == "." || name == "" {
		wd, _ := os.Getwd()
		name = filepath.Base(wd)
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// Build is BuildBinary into t.TempDir(); it fails the test on error.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	bin, err := BuildBinary(pkg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
