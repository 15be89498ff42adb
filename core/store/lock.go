package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ErrLocked is what a lock held by another process unwraps to.
var ErrLocked = errors.New("locked by another process")

// LockedError reports a lock file held by another process, with what that
// process wrote about itself.
type LockedError struct {
	// Path is the lock file.
	Path string
	// Holder is the text the holder wrote into the file ("" when it
	// wrote nothing yet).
	Holder string
}

func (e *LockedError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("%s is locked by another process", e.Path)
	}
	return fmt.Sprintf("%s is locked by another process (%s)", e.Path, e.Holder)
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// TryLock takes an exclusive lock on the file at path, creating it 0600,
// without waiting: when another process holds it, the error is a
// *LockedError with what that process wrote. On success holder replaces
// the file's text, for the next one to read. The lock lasts until unlock
// is called or the process ends, however it ends. The file stays: removing
// it would let a newcomer lock a fresh file beside a holder of the old one.
func TryLock(path, holder string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	ok, err := tryFlock(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if !ok {
		f.Close()
		return nil, &LockedError{Path: path, Holder: readHolder(path)}
	}
	if err := f.Truncate(0); err != nil {
		unflock(f)
		f.Close()
		return nil, fmt.Errorf("write lock file: %w", err)
	}
	if _, err := f.WriteAt([]byte(holder+"\n"), 0); err != nil {
		unflock(f)
		f.Close()
		return nil, fmt.Errorf("write lock file: %w", err)
	}
	return func() {
		// Emptied first, so a stale description never outlives the lock
		// of a clean stop.
		_ = f.Truncate(0)
		unflock(f)
		f.Close()
	}, nil
}

// readHolder reads what the holder of a lock wrote, giving a holder that
// has just taken the lock a moment to write it.
func readHolder(path string) string {
	for range 10 {
		b, err := os.ReadFile(path)
		if err != nil {
			return ""
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ""
}

// lockFile takes an exclusive lock on path, waiting until ctx ends.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	for {
		ok, err := tryFlock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		if ok {
			return func() {
				unflock(f)
				f.Close()
			}, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("migration lock: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
