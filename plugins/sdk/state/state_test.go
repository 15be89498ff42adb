package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type rec struct {
	N       int               `json:"n"`
	Created time.Time         `json:"created"`
	Tags    map[string]string `json:"tags,omitempty"`
}

const file = "test.jsonl"

func open(t *testing.T, dir string, mod ...func(*Options[rec])) *Store[rec] {
	t.Helper()
	o := Options[rec]{Dir: dir, File: file}
	for _, f := range mod {
		f(&o)
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func snapshot(s *Store[rec]) map[string]int {
	out := map[string]int{}
	s.Range(func(k string, r rec) bool { out[k] = r.N; return true })
	return out
}

func lines(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func TestPutGetReplay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	for i := range 10 {
		if err := s.Put(fmt.Sprintf("k%d", i%4), rec{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete("k0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Update("k1", func(r *rec, ok bool) bool {
		if !ok {
			t.Error("k1 not found")
		}
		r.N += 100
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update("k9", func(*rec, bool) bool { return false }); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"k1": 109, "k2": 6, "k3": 7}
	if d := cmp.Diff(want, snapshot(s)); d != "" {
		t.Fatalf("live (-want +got):\n%s", d)
	}
	s.Close()
	// A restart (the process killed: nothing but the file survives) sees
	// exactly what was acknowledged.
	if d := cmp.Diff(want, snapshot(open(t, dir))); d != "" {
		t.Fatalf("replayed (-want +got):\n%s", d)
	}
}

func TestInMemory(t *testing.T) {
	t.Parallel()
	s := open(t, "")
	if err := s.Put("a", rec{N: 1}); err != nil {
		t.Fatal(err)
	}
	if r, ok := s.Get("a"); !ok || r.N != 1 {
		t.Fatalf("Get = %v, %v", r, ok)
	}
	if _, err := Open(Options[rec]{Dir: t.TempDir()}); err == nil {
		t.Fatal("Open without File succeeded")
	}
}

// TestTornTail simulates a crash in the middle of a write: the last line
// is cut anywhere. Replay keeps every complete line, drops the torn one,
// and the next appends are readable at the following start.
func TestTornTail(t *testing.T) {
	t.Parallel()
	for _, tail := range []string{`{"k":"x","r":{"n":`, `{"k":"x"`, "\x00\x00\x00", `{"k":"x","r":{"n":9}}` /* complete but unterminated */, "garbage\n"} {
		t.Run(fmt.Sprintf("%q", tail), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := open(t, dir)
			for i := range 3 {
				if err := s.Put(fmt.Sprintf("k%d", i), rec{N: i}); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			f, err := os.OpenFile(filepath.Join(dir, file), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(tail); err != nil {
				t.Fatal(err)
			}
			f.Close()

			s = open(t, dir)
			want := map[string]int{"k0": 0, "k1": 1, "k2": 2}
			if d := cmp.Diff(want, snapshot(s)); d != "" {
				t.Fatalf("after torn tail (-want +got):\n%s", d)
			}
			if err := s.Put("k3", rec{N: 3}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			want["k3"] = 3
			if d := cmp.Diff(want, snapshot(open(t, dir))); d != "" {
				t.Fatalf("after append past torn tail (-want +got):\n%s", d)
			}
		})
	}
}

// TestCorruptMiddleRefused: an unreadable line followed by good ones is
// not a torn write; losing it silently could forget a charge.
func TestCorruptMiddleRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	body := `{"k":"a","r":{"n":1}}` + "\n" + `{"k":"b","r":` + "\n" + `{"k":"c","r":{"n":3}}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options[rec]{Dir: dir, File: file})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("Open = %v, want a corrupt line 2 error", err)
	}
}

// TestCrashReplay runs a child process that writes concurrently and is
// killed without warning; every Put it reported as done must be replayed.
func TestCrashReplay(t *testing.T) {
	if dir := os.Getenv("STATE_CRASH_DIR"); dir != "" {
		crashChild(dir)
		return
	}
	t.Parallel()
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := newCmd(exe, dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := readAcks(t, out, 300)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	s := open(t, dir, func(o *Options[rec]) { o.CompactMin = 50 })
	got := snapshot(s)
	for k, n := range acked {
		if got[k] < n {
			t.Errorf("%s = %d after crash, acknowledged %d", k, got[k], n)
		}
	}
	if len(acked) == 0 {
		t.Fatal("child acknowledged nothing")
	}
}

func crashChild(dir string) {
	s, err := Open(Options[rec]{Dir: dir, File: file, CompactMin: 50})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; ; i++ {
				k := fmt.Sprintf("w%d-%d", w, i%20)
				if err := s.Put(k, rec{N: i}); err != nil {
					fmt.Println("put:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Printf("%s %d\n", k, i)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestCompactionBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir, func(o *Options[rec]) { o.CompactMin = 20 })
	for i := range 1000 {
		if err := s.Put(fmt.Sprintf("k%d", i%5), rec{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	if n := lines(t, dir); n > 21 {
		t.Fatalf("journal has %d lines for 5 records, want at most 21", n)
	}
	s.Close()
	want := map[string]int{"k0": 995, "k1": 996, "k2": 997, "k3": 998, "k4": 999}
	if d := cmp.Diff(want, snapshot(open(t, dir))); d != "" {
		t.Fatalf("after compactions (-want +got):\n%s", d)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, file+".*")); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

func TestExpiredDroppedAtCompaction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	opt := func(o *Options[rec]) {
		o.Now = func() time.Time { return now }
		o.Expired = func(r rec, now time.Time) bool { return now.Sub(r.Created) > time.Hour }
	}
	s := open(t, dir, opt)
	if err := s.Put("old", rec{N: 1, Created: now.Add(-2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("new", rec{N: 2, Created: now}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Get("old"); ok {
		t.Fatal("expired record visible")
	}
	if err := s.Update("old", func(r *rec, ok bool) bool {
		if ok {
			t.Error("Update saw an expired record")
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if n := lines(t, dir); n != 1 {
		t.Fatalf("journal has %d lines after compaction, want 1", n)
	}
}

func TestLegacyFolded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "old.json"), []byte(`{"a":{"n":1},"b":{"n":2}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir, func(o *Options[rec]) { o.Legacy = "old.json" })
	if d := cmp.Diff(map[string]int{"a": 1, "b": 2}, snapshot(s)); d != "" {
		t.Fatalf("legacy (-want +got):\n%s", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "old.json")); !os.IsNotExist(err) {
		t.Fatalf("legacy file still there: %v", err)
	}
	s.Close()
	if d := cmp.Diff(map[string]int{"a": 1, "b": 2}, snapshot(open(t, dir))); d != "" {
		t.Fatalf("after restart (-want +got):\n%s", d)
	}
}

// TestCloneIsolatesReaders: a record read with Get does not change when
// an Update changes the map it held (run with -race).
func TestCloneIsolatesReaders(t *testing.T) {
	t.Parallel()
	s := open(t, "", func(o *Options[rec]) {
		o.Clone = func(r rec) rec {
			m := make(map[string]string, len(r.Tags))
			for k, v := range r.Tags {
				m[k] = v
			}
			r.Tags = m
			return r
		}
	})
	if err := s.Put("a", rec{Tags: map[string]string{"x": "1"}}); err != nil {
		t.Fatal(err)
	}
	r, _ := s.Get("a")
	if err := s.Update("a", func(cur *rec, _ bool) bool { cur.Tags["x"] = "2"; return true }); err != nil {
		t.Fatal(err)
	}
	if r.Tags["x"] != "1" {
		t.Fatalf("reader's copy changed to %q", r.Tags["x"])
	}
}

func BenchmarkPutParallel(b *testing.B) {
	s, err := Open(Options[rec]{Dir: b.TempDir(), File: file})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n sync.Mutex
	i := 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Lock()
			i++
			k := fmt.Sprintf("k%d", i%1000)
			n.Unlock()
			if err := s.Put(k, rec{N: i}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestBatchAllOrNone: the changes of one Append are one line; a crash
// that tears it loses all of them, and a complete one replays all.
func TestBatchAllOrNone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	a, b := rec{N: 1}, rec{N: 2}
	if err := s.Put("gone", rec{N: 9}); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(Change[rec]{Key: "a", Record: &a}, Change[rec]{Key: "b", Record: &b}, Change[rec]{Key: "gone"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := lines(t, dir); n != 2 {
		t.Fatalf("journal has %d lines, want 2 (a put and one batch)", n)
	}
	want := map[string]int{"a": 1, "b": 2}
	if d := cmp.Diff(want, snapshot(s)); d != "" {
		t.Fatalf("live (-want +got):\n%s", d)
	}
	s.Close()
	if d := cmp.Diff(want, snapshot(open(t, dir))); d != "" {
		t.Fatalf("replayed (-want +got):\n%s", d)
	}

	// Tear the batch line: neither a nor b, and "gone" is back.
	path := filepath.Join(dir, file)
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, body[:len(body)-10], 0o600); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]int{"gone": 9}, snapshot(open(t, dir))); d != "" {
		t.Fatalf("after a torn batch (-want +got):\n%s", d)
	}
}
