package graphql

import "testing"

func TestOperationKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, op, want string
		wantErr             bool
	}{
		{"shorthand", `{ products { id } }`, "", "query", false},
		{"named query", `query Q($a: Int = 1) { a }`, "", "query", false},
		{"mutation", `mutation { ping }`, "", "mutation", false},
		{"comment before mutation", "# x\nmutation { ping }", "", "mutation", false},
		{"string mentioning query", `mutation { a(input: {s: "query {"}) { b } }`, "", "mutation", false},
		{"block string", "mutation M { a(s: \"\"\"\n{ query \\\"\"\" }\"\"\") }", "", "mutation", false},
		{"second operation chosen", `query A { a } mutation B { ping }`, "B", "mutation", false},
		{"first operation chosen", `query A { a } mutation B { ping }`, "A", "query", false},
		{"two operations, none named", `query A { a } mutation B { ping }`, "", "", true},
		{"unknown name", `query A { a }`, "C", "", true},
		{"fragment and query", `fragment F on Product { id } query { products { ...F } }`, "", "query", false},
		{"fragment and mutation", `fragment F on Product { id } mutation { ping }`, "", "mutation", false},
		{"directive on operation", `mutation M @x(if: true) { ping }`, "M", "mutation", false},
		{"subscription", `subscription { orderUpdated { id } }`, "", "subscription", false},
		{"unbalanced", `query { a`, "", "", true},
		{"garbage", `%%% mutation { ping }`, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := operationKind(tt.doc, tt.op)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("operationKind(%q, %q) = %q, %v; want %q, error %v", tt.doc, tt.op, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzOperationKind(f *testing.F) {
	for _, s := range []string{`{ a }`, `mutation { b }`, "# c\nquery { d }", `query A { a } mutation B { b }`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		_, _ = operationKind(doc, "")
	})
}
