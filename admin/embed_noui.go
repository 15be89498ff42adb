//go:build no_ui

package admin

import "io/fs"

// builtFiles returns nil: this binary was built without the admin.
func builtFiles() fs.FS { return nil }
