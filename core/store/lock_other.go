//go:build !unix

package store

import "os"

// tryFlock always succeeds where flock is not available: SQLite and the
// embedded NATS store there are used by one process at a time.
func tryFlock(*os.File) (bool, error) { return true, nil }

// unflock releases nothing where flock is not available.
func unflock(*os.File) {}
