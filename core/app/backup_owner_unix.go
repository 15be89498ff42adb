//go:build unix

package app

import (
	"io/fs"
	"os"
	"syscall"
)

// ownedByCaller reports whether fi belongs to the user running kassa.
func ownedByCaller(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || int(st.Uid) == os.Geteuid()
}
