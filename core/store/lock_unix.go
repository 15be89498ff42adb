//go:build unix

package store

import (
	"fmt"
	"os"
	"syscall"
)

// tryFlock takes an exclusive flock on f without waiting and reports
// whether it got it. The kernel releases the lock when the last descriptor
// of the open file closes, so a crashed holder never blocks the next one.
// Go opens files close-on-exec, so plugin processes never inherit it.
func tryFlock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		return true, nil
	}
	if err == syscall.EWOULDBLOCK {
		return false, nil
	}
	return false, fmt.Errorf("flock %s: %w", f.Name(), err)
}

// unflock releases a lock taken by tryFlock.
func unflock(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
