package graphql_test

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/kassahq/kassa/graphql/resolver"
)

const (
	opsBegin = "<!-- BEGIN OPERATIONS: generated from graphql/resolver.Operations(); go test ./graphql -run OperationsDoc -update -->\n"
	opsEnd   = "<!-- END OPERATIONS -->"
)

func operationsMarkdown() string {
	ops := resolver.Operations()
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("| operation | needs |\n| --- | --- |\n")
	for _, n := range names {
		p := ops[n]
		need := "open to everyone"
		if p != (resolver.Permission{}) {
			need = "`" + string(p.Object) + ":" + string(p.Action) + "`"
		}
		b.WriteString("| `" + n + "` | " + need + " |\n")
	}
	return b.String()
}

// TestOperationsDocMatches keeps the operations table of
// docs/permissions.md equal to resolver.Operations().
func TestOperationsDocMatches(t *testing.T) {
	const path = "../docs/permissions.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, opsBegin), strings.Index(doc, opsEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no operations markers", path)
	}
	want := operationsMarkdown()
	if doc[i+len(opsBegin):j] == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc[:i+len(opsBegin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the operations table of %s is out of date; run go test ./graphql -run OperationsDoc -update", path)
}
