//go:build unix

package app

import (
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ownedByCaller reports whether fi belongs to the user running kassa.
func ownedByCaller(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || int(st.Uid) == os.Geteuid()
}

// readNoFollow reads the file at path, refusing a symlink there: between
// the walk's look at the entry and this read, a plugin running as the
// shop's user could swap the file for a link to a file of whoever runs
// the backup (often root).
func readNoFollow(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
