package graphql

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/graph-gophers/graphql-go/ast"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// TestJSONVariableMatchesReflection: the reflection-free check of a
// variable decoded from JSON finds at least what the reflection walk of
// in-process Go values finds (a list or object where a single value
// belongs), for values of every shape at every kind of type; it also
// checks scalars, enums, nulls and required fields, which the walk of
// Go values leaves to the executor.
func TestJSONVariableMatchesReflection(t *testing.T) {
	t.Parallel()
	s := testServer(t, Options{})
	schema := s.schema.AST()
	input := schema.Types["CartLinesAddInput"]
	if input == nil {
		t.Fatal("no CartLinesAddInput in the schema")
	}
	types := map[string]ast.Type{
		"String":              schema.Types["String"],
		"String!":             &ast.NonNull{OfType: schema.Types["String"]},
		"[String!]":           &ast.List{OfType: &ast.NonNull{OfType: schema.Types["String"]}},
		"enum":                schema.Types["ProductStatus"],
		"JSON":                schema.Types["JSON"],
		"CartLinesAddInput!":  &ast.NonNull{OfType: input},
		"[CartLinesAddInput]": &ast.List{OfType: input},
		"written [Unknown!]":  &ast.List{OfType: &ast.NonNull{OfType: &ast.TypeName{Ident: ast.Ident{Name: "Unknown"}}}},
		"written String!":     &ast.NonNull{OfType: &ast.TypeName{Ident: ast.Ident{Name: "String"}}},
		"written [CartLinesAddInput!]!": &ast.NonNull{OfType: &ast.List{OfType: &ast.NonNull{
			OfType: &ast.TypeName{Ident: ast.Ident{Name: "CartLinesAddInput"}}}}},
	}
	line := map[string]any{"variantId": "var_1", "quantity": float64(2)}
	values := map[string]any{
		"null":            nil,
		"string":          "x",
		"number":          float64(1),
		"bool":            true,
		"list":            []any{"a", "b"},
		"object":          map[string]any{"a": "b"},
		"list of objects": []any{map[string]any{"a": "b"}},
		"input":           map[string]any{"token": "t", "lines": []any{line}},
		"input, bad line": map[string]any{"token": []any{"t"}, "lines": []any{map[string]any{"variantId": map[string]any{}, "quantity": []any{1}}}},
		"input, one line": map[string]any{"token": "t", "lines": line},
		"list of inputs":  []any{map[string]any{"token": map[string]any{}}, "x"},
	}
	for tn, typ := range types {
		for vn, val := range values {
			json := &documentChecker{schema: schema}
			json.jsonVariable(val, typ, "v", nil, gqlerrors.Location{})
			refl := &documentChecker{schema: schema}
			refl.variable(reflect.ValueOf(val), resolvedOrNil(schema, typ), "v", nil, gqlerrors.Location{})
			got := messages(json.problems)
			for _, want := range messages(refl.problems) {
				if !slices.Contains(got, want) {
					t.Errorf("%s at %s: %q, reflection finds %q", vn, tn, got, want)
				}
			}
		}
	}
}

// resolvedOrNil is the type documentProblems gives variable: the
// document's type resolved, nil when a name is unknown.
func resolvedOrNil(schema *ast.Schema, t ast.Type) ast.Type {
	if r := resolveDocType(schema, t); r != nil {
		return r
	}
	return t
}

// TestVariablePath: paths are written as clients write them, and a long
// one is quoted by its tail, cut on a character boundary.
func TestVariablePath(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		path []string
		want string
	}{
		{[]string{"lines", "0", "quantity"}, "lines[0].quantity"},
		{[]string{"0"}, "[0]"},
		{[]string{"0", "token"}, "[0].token"},
		{[]string{"a" + strings.Repeat("é", 100), "x"}, "…" + strings.Repeat("é", 59) + ".x"},
		{[]string{strings.Repeat("é", 100), "xy"}, "…" + strings.Repeat("é", 58) + ".xy"}, // a cut inside a character moves past it,
	} {
		if got := variablePath(c.path); got != c.want {
			t.Errorf("variablePath(%.40q) = %q, want %q", c.path, got, c.want)
		}
	}
}
