//go:build unix

package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kassahq/kassa/core/store"
)

// TestTryLockIsExclusive: a second holder is refused at once and told who
// holds the lock; once released, the lock can be taken again. flock locks
// belong to an open file, so two opens in one process conflict like two
// processes do (the e2e tests cover real processes and a killed holder).
func TestTryLockIsExclusive(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kassa.lock")
	unlock, err := store.TryLock(path, "pid 1, http 127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.TryLock(path, "pid 2, http 127.0.0.1:8081")
	var le *store.LockedError
	if !errors.As(err, &le) || !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second TryLock = %v, want a LockedError", err)
	}
	if le.Holder != "pid 1, http 127.0.0.1:8080" {
		t.Fatalf("holder = %q, want the first holder's text", le.Holder)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file mode = %v, want 0600", fi.Mode().Perm())
	}
	unlock()
	unlock2, err := store.TryLock(path, "pid 2, http 127.0.0.1:8081")
	if err != nil {
		t.Fatalf("TryLock after unlock: %v", err)
	}
	defer unlock2()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "pid 2, http 127.0.0.1:8081\n" {
		t.Fatalf("lock file = %q, want the new holder only", b)
	}
}
