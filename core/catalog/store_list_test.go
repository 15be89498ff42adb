package catalog

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseOptions holds the hand-sliced reading of a product's options
// to what encoding/json reads from the same text, for the form bun writes
// and for the texts the fast path must hand over.
func TestParseOptions(t *testing.T) {
	written, err := json.Marshal([]Option{{Name: "Size", Values: []string{"S", "M", "L"}}, {Name: "颜色", Values: []string{"红", "蓝"}}, {Name: "Empty", Values: []string{}}, {Name: "Nil"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		text string
	}{
		{"as bun writes them", string(written)},
		{"one option", `[{"name":"Size","values":["S"]}]`},
		{"escapes go to encoding/json", `[{"name":"A \"quoted\" name","values":["x\\y"]}]`},
		{"a bracket inside a value", `[{"name":"Fit","values":["a]}","b"]},{"name":"Z","values":["1"]}]`},
		{"a comma inside a value", `[{"name":"Fit","values":["a,b","c"]}]`},
		{"spaces between tokens", `[ {"name": "Size", "values": ["S"]} ]`},
		{"fields in another order", `[{"values":["S"],"name":"Size"}]`},
		{"no options", `[]`},
		{"null", `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []Option
			if err := json.Unmarshal([]byte(tt.text), &want); err != nil {
				t.Fatal(err)
			}
			got, err := parseOptions(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("parseOptions(%s) (-encoding/json +got):\n%s", tt.text, diff)
			}
		})
	}
	if _, err := parseOptions(`[{"name":"Size","values":["S"]`); err == nil {
		t.Fatal("a cut text was read without an error")
	}
}
