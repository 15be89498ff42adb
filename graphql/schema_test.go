package graphql_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/graphql"
	"github.com/kassahq/kassa/graphql/resolver"
	"github.com/kassahq/kassa/graphql/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestSchemaGolden keeps testdata/schema.golden.graphql equal to the
// embedded schema, so every API change shows up in review as a diff of one
// file. Run `go test ./graphql -run Golden -update` after changing a
// .graphql file.
func TestSchemaGolden(t *testing.T) {
	got := schema.String()
	path := filepath.Join("testdata", "schema.golden.graphql")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Fatalf("schema differs from %s (-golden +current); run go test ./graphql -run Golden -update and review:\n%s", path, diff)
	}
}

// TestSchemaParsesWithResolvers proves every field of the schema has a
// resolver method: graph-gophers checks this at parse time.
func TestSchemaParsesWithResolvers(t *testing.T) {
	if _, err := graphql.New(resolver.Services{}, graphql.Options{}); err != nil {
		t.Fatal(err)
	}
}
