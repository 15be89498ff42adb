package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPluginDevAndTriggerUsage: bad calls of `kassa plugin dev` and
// `kassa plugin trigger` are refused as usage errors (exit 2) with the
// reason, before any database, build or plugin process is touched.
func TestPluginDevAndTriggerUsage(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"dev without a directory", []string{"dev"}, "takes the plugin's source directory"},
		{"dev of a directory without Go", []string{"dev", empty}, "holds no .go files"},
		{"dev with settings that are not JSON", []string{"dev", ".", "--settings", "{nope"}, "--settings is not valid JSON"},
		{"dev polling too fast", []string{"dev", ".", "--poll", "1ms"}, "--poll must be at least 50ms"},
		{"trigger without an event", []string{"trigger", "--payment", "pay_1"}, "takes one event type"},
		{"trigger of an unknown event", []string{"trigger", "payment.teleported", "--payment", "pay_1"}, `unknown event "payment.teleported"`},
		{"trigger without a payment", []string{"trigger", "payment.succeeded"}, "--payment pay_"},
		{"refund trigger without the refund", []string{"trigger", "refund.succeeded", "--payment", "pay_1"}, "--refund ref_"},
		{"trigger of a negative amount", []string{"trigger", "payment.succeeded", "--payment", "pay_1", "--amount", "-5"}, "--amount must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := t.TempDir()
			var out, errOut bytes.Buffer
			code := Main(append(append([]string{"plugin"}, tt.args...), "--data-dir", data), IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
			if code != 2 || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut.String(), tt.want)
			}
			if entries, _ := os.ReadDir(data); len(entries) != 0 {
				t.Errorf("a refused call left files in the data dir: %v", entries)
			}
		})
	}
}

// TestDevWatchFingerprint: the watcher sees an edit, an added and a
// removed Go file and a go.mod change, and ignores what the go command
// ignores (hidden directories, testdata, other files).
func TestDevWatchFingerprint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
		// Modification times may be coarse: move them on explicitly.
		later := time.Now().Add(time.Duration(len(body)+1) * time.Second)
		_ = os.Chtimes(p, later, later)
	}
	write("main.go", "package main")
	fp := func() string {
		t.Helper()
		f, err := fingerprint(dir)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	steps := []struct {
		name   string
		do     func()
		change bool
	}{
		{"nothing", func() {}, false},
		{"a README", func() { write("README.md", "hello") }, false},
		{"a file in a hidden directory", func() { write(".kassa/x.go", "package x") }, false},
		{"a file in testdata", func() { write("testdata/x.go", "package x") }, false},
		{"an edit", func() { write("main.go", "package main // edited") }, true},
		{"a new file in a subpackage", func() { write("internal/a/a.go", "package a") }, true},
		{"go.mod", func() { write("go.mod", "module x") }, true},
		{"a removed file", func() { _ = os.Remove(filepath.Join(dir, "internal/a/a.go")) }, true},
	}
	last := fp()
	for _, s := range steps {
		s.do()
		now := fp()
		if (now != last) != s.change {
			t.Errorf("%s: changed=%t, want %t", s.name, now != last, s.change)
		}
		last = now
	}
	files, _ := watchedFiles(dir)
	if !hasGo(files) {
		t.Errorf("watched files %v hold no .go file", files)
	}
}
