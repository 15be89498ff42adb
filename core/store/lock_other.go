//go:build !unix

package store

import "context"

// lockFile is a no-op where flock is not available; SQLite there is used
// by one process at a time.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
