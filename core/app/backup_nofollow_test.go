//go:build unix

package app

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReadNoFollow: the backup's reads refuse a symlink, so a file a
// plugin swaps for a link after the walk looked at it is not read
// through the link.
func TestReadNoFollow(t *testing.T) {
	dir := t.TempDir()
	secret, link := filepath.Join(dir, "secret"), filepath.Join(dir, "journal")
	if err := os.WriteFile(secret, []byte("root's"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	if data, err := readNoFollow(link); err == nil {
		t.Fatalf("read %q through a symlink", data)
	}
	if data, err := readNoFollow(secret); err != nil || string(data) != "root's" {
		t.Fatalf("a plain file: %q %v", data, err)
	}
}
