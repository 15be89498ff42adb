package testkit_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/testkit"
	"github.com/kassahq/kassa/graphql"
)

// TestDig walks keys and indexes, and answers nil for any step that is
// not there instead of panicking.
func TestDig(t *testing.T) {
	data := testkit.DecodeJSON(t, `{"products": {"edges": [{"node": {"title": "Tea"}}, {"node": null}]}, "n": 2}`)
	tests := []struct {
		name string
		path []any
		want any
	}{
		{"key and index", []any{"products", "edges", 0, "node", "title"}, "Tea"},
		{"null leaf", []any{"products", "edges", 1, "node"}, nil},
		{"index past the end", []any{"products", "edges", 2, "node"}, nil},
		{"negative index", []any{"products", "edges", -1}, nil},
		{"key on a list", []any{"products", "edges", "node"}, nil},
		{"index on an object", []any{"products", 0}, nil},
		{"missing key", []any{"orders", "edges"}, nil},
		{"number", []any{"n"}, float64(2)},
		{"other step type", []any{"products", 1.5}, nil},
		{"no path", nil, data},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, testkit.Dig(data, tt.path...)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestJSONRoundTrip: what EncodeJSON writes, DecodeJSON reads back, from
// a string or from response bytes.
func TestJSONRoundTrip(t *testing.T) {
	in := map[string]any{"a": []any{"x", float64(1), nil, true}}
	s := testkit.EncodeJSON(t, in)
	if s != `{"a":["x",1,null,true]}` {
		t.Fatalf("EncodeJSON = %s", s)
	}
	for _, got := range []any{testkit.DecodeJSON(t, s), testkit.DecodeJSON(t, []byte(s))} {
		if diff := cmp.Diff(any(in), got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}

// TestErrorCodes lists every top-level code in order, an empty string
// for an error without one.
func TestErrorCodes(t *testing.T) {
	res := &graphql.Response{Errors: []*graphql.Error{
		{Extensions: map[string]any{"code": "FORBIDDEN"}}, {Message: "no code"}, {Extensions: map[string]any{"code": "INVALID_CURSOR"}},
	}}
	if diff := cmp.Diff([]string{"FORBIDDEN", "", "INVALID_CURSOR"}, testkit.ErrorCodes(res)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := testkit.ErrorCodes(&graphql.Response{}); got != nil {
		t.Errorf("no errors: %v", got)
	}
}
