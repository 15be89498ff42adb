//go:build !no_ui

package admin

import (
	"embed"
	"io/fs"
)

//go:embed dist
var embedded embed.FS

// builtFiles returns the built admin, rooted at dist/.
func builtFiles() fs.FS {
	sub, err := fs.Sub(embedded, "dist")
	if err != nil {
		// fs.Sub fails only on an invalid path name, a constant here.
		panic(err)
	}
	return sub
}
