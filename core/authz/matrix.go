package authz

import (
	"slices"
	"strings"
)

// DefaultAllows reports whether role holds p in the default policy.
func DefaultAllows(role string, p Permission) bool {
	ps := DefaultPolicy()[role]
	return slices.Contains(ps, Permission{Wildcard, Wildcard}) || slices.Contains(ps, p)
}

// MatrixMarkdown renders the default policy as the Markdown table of
// docs/permissions.md: one row per permission of the catalog, one column
// per built-in role.
func MatrixMarkdown() string {
	var b strings.Builder
	roles := BuiltinRoles()
	b.WriteString("| object | action |")
	for _, r := range roles {
		b.WriteString(" " + r + " |")
	}
	b.WriteString("\n| --- | --- |")
	for range roles {
		b.WriteString(" :-: |")
	}
	b.WriteString("\n")
	for _, p := range AllPermissions() {
		b.WriteString("| " + string(p.Object) + " | " + string(p.Action) + " |")
		for _, r := range roles {
			if DefaultAllows(r, p) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString("   |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
