// Package schema embeds the GraphQL schema of Kassa, split into one file
// per domain. schema.graphql holds the root types and shared types; every
// other file extends Query and Mutation with `extend type`.
package schema

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.graphql
var files embed.FS

// String returns the whole schema: schema.graphql first, then the domain
// files in name order.
func String() string {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Name() != "schema.graphql" {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range append([]string{"schema.graphql"}, names...) {
		data, _ := files.ReadFile(n)
		b.WriteString("# ---- " + n + " ----\n")
		b.Write(data)
		b.WriteString("\n")
	}
	return b.String()
}
