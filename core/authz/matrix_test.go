package authz_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/authz"
)

var update = flag.Bool("update", false, "rewrite docs/permissions.md's matrix from the default policy")

const (
	matrixBegin = "<!-- BEGIN MATRIX: generated from core/authz.DefaultPolicy; go test ./core/authz -update -->\n"
	matrixEnd   = "<!-- END MATRIX -->"
)

// TestPermissionsDocMatchesDefaultPolicy keeps the human-readable matrix
// equal to the policy that is seeded.
func TestPermissionsDocMatchesDefaultPolicy(t *testing.T) {
	const path = "../../docs/permissions.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, matrixBegin)
	j := strings.Index(doc, matrixEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no matrix markers", path)
	}
	want := authz.MatrixMarkdown()
	got := doc[i+len(matrixBegin) : j]
	if got == want {
		return
	}
	if *update {
		doc = doc[:i+len(matrixBegin)] + want + doc[j:]
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/permissions.md differs from the default policy; run go test ./core/authz -update and review the diff.\nwant:\n%s", want)
}
