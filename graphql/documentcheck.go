package graphql

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/scanner"
	"time"
	"unicode/utf8"

	"github.com/graph-gophers/graphql-go/ast"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// maxDocumentProblems caps the problems reported for one document: enough
// to fix it, too few to make the answer larger than the question. The
// checks stop walking once they have found that many.
const maxDocumentProblems = 10

// maxVariableListDepth is the deepest list a variable's type may nest:
// no argument of Kassa's schema takes a list of lists, and the value of a
// variable typed [[[…]]] a thousand deep would be walked a thousand
// levels for each of its items.
const maxVariableListDepth = 2

// maxPathInMessage bounds the path a message quotes, in bytes: its tail
// is kept, where the problem is.
const maxPathInMessage = 120

// scalarsTakingObjects are the custom scalars whose values may be lists
// or objects; every other scalar and every enum takes a single value.
var scalarsTakingObjects = map[string]bool{"JSON": true}

// documentProblems finds, before validation, what graph-gophers would
// answer badly (issue 7):
//
//   - a list or object given where a single value belongs (a String
//     argument) passes its validation and fails when the arguments are
//     unpacked, with a Go dump of the value as the message: 16 KB for a
//     2 KB document;
//   - in production, an unknown field, argument, input field or enum
//     value makes its validator compute "Did you mean" suggestions, an
//     edit distance to every name of the type, for anyone who asks.
//     Answering those here, plainly, means that code never runs.
//
// Names are checked in every operation and fragment, as the validator
// does; values of variables only for the operation that runs.
//
// A clean document (d.clean: nothing found in its text before, names
// checked or not as now) gets only
// the checks of the request's variables, in the order the whole check
// runs them, so the answer is the same as the whole check's.
func documentProblems(schema *ast.Schema, d *document, production bool) []*gqlerrors.QueryError {
	c := &documentChecker{schema: schema, names: production}
	if d.clean && d.cleanNames == production {
		c.variables(d)
		return c.problems
	}
	for _, op := range d.def.Operations {
		for _, v := range op.Vars {
			t := resolveDocType(schema, v.Type)
			if v.Default != nil && t != nil {
				c.literal(v.Default, t, "$"+v.Name.Name, nil)
			}
			if production && t != nil {
				if val, ok := d.vars[v.Name.Name]; ok {
					c.variableNames(val, t, v.Name.Name)
				}
			}
		}
		c.directives(op.Directives)
		if root := rootType(schema, op.Type); root != nil {
			c.selections(op.Selections, root)
		}
	}
	for _, f := range d.def.Fragments {
		c.directives(f.Directives)
		if t := schema.Types[f.On.Name]; t != nil {
			c.selections(f.Selections, t)
		}
	}
	c.operationVariables(d)
	return c.problems
}

// variables runs the checks of documentProblems that read the request's
// variables, in the same order. The variables' types are read as the
// document writes them (docType), not resolved into new values first:
// this runs for every request. A name the schema does not know stops
// the check where the resolved type would have been nil, and problems
// are only found at known types, so the answer is the same.
func (c *documentChecker) variables(d *document) {
	if c.names {
		for _, op := range d.def.Operations {
			for _, v := range op.Vars {
				if val, ok := d.vars[v.Name.Name]; ok {
					c.variableNames(val, v.Type, v.Name.Name)
				}
			}
		}
	}
	c.operationVariables(d)
}

// operationVariables checks the values of the variables of the operation
// that runs against their declared types, and that each required one
// (non-null, without a default) was given.
func (c *documentChecker) operationVariables(d *document) {
	if d.op == nil {
		return
	}
	for _, v := range d.op.Vars {
		if depth := listDepth(v.Type); depth > maxVariableListDepth {
			c.add(v.Loc, "VariablesOfCorrectType", "Variable %q nests lists %d deep; no argument takes more than %d.", "$"+v.Name.Name, depth, maxVariableListDepth)
			continue
		}
		val, ok := d.vars[v.Name.Name]
		if !ok {
			if _, required := v.Type.(*ast.NonNull); required && v.Default != nil {
				continue
			} else if required && c.docType(v.Type) != nil {
				c.add(v.Loc, "VariablesOfCorrectType", "Variable %q of required type %s was not provided.", "$"+v.Name.Name, typeString(v.Type))
			}
			continue
		}
		c.jsonVariable(val, v.Type, v.Name.Name, nil, v.Loc)
	}
}

// docType strips the non-null of t and, when t is a name written in the
// document, looks it up in the schema: nil for a name it does not know.
// Schema types and those of resolveDocType pass through.
func (c *documentChecker) docType(t ast.Type) ast.Type {
	if nn, ok := t.(*ast.NonNull); ok {
		t = nn.OfType
	}
	if tn, ok := t.(*ast.TypeName); ok {
		if nt, ok := c.schema.Types[tn.Name]; ok {
			return nt
		}
		return nil
	}
	return t
}

type documentChecker struct {
	schema   *ast.Schema
	names    bool
	problems []*gqlerrors.QueryError
}

// full reports whether the checks found as many problems as are reported.
func (c *documentChecker) full() bool { return len(c.problems) >= maxDocumentProblems }

func (c *documentChecker) add(loc gqlerrors.Location, rule, format string, args ...any) {
	if !c.full() {
		c.problems = append(c.problems, &gqlerrors.QueryError{Message: fmt.Sprintf(format, args...), Locations: []gqlerrors.Location{loc}, Rule: rule})
	}
}

func (c *documentChecker) selections(set ast.SelectionSet, parent ast.NamedType) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			c.field(sel, parent)
		case *ast.InlineFragment:
			c.directives(sel.Directives)
			t := parent
			if sel.On.Name != "" {
				t = c.schema.Types[sel.On.Name]
			}
			if t != nil {
				c.selections(sel.Selections, t)
			}
		case *ast.FragmentSpread:
			c.directives(sel.Directives)
		}
	}
}

func (c *documentChecker) field(f *ast.Field, parent ast.NamedType) {
	c.directives(f.Directives)
	def := lookupField(c.schema, parent, f.Name.Name)
	if def == nil {
		if c.names {
			c.add(f.Alias.Loc, "FieldsOnCorrectTypeRule", "Cannot query field %q on type %q.", f.Name.Name, parent.TypeName())
		}
		return
	}
	owner := fmt.Sprintf("field %q", parent.TypeName()+"."+f.Name.Name)
	c.arguments(f.Arguments, def.Arguments, owner)
	t := unwrapNamed(def.Type)
	switch t.(type) {
	case *ast.ObjectTypeDefinition, *ast.InterfaceTypeDefinition, *ast.Union:
		if len(f.SelectionSet) == 0 {
			if c.names {
				c.add(f.Alias.Loc, "ScalarLeafsRule", "Field %q of type %q must have a selection of subfields.", f.Name.Name, def.Type)
			}
			return
		}
		c.selections(f.SelectionSet, t)
	}
}

func (c *documentChecker) directives(list ast.DirectiveList) {
	for _, d := range list {
		if def := c.schema.Directives[d.Name.Name]; def != nil {
			c.arguments(d.Arguments, def.Arguments, fmt.Sprintf("directive %q", "@"+d.Name.Name))
		}
	}
}

func (c *documentChecker) arguments(args ast.ArgumentList, decls ast.ArgumentsDefinition, owner string) {
	for _, a := range args {
		decl := decls.Get(a.Name.Name)
		if decl == nil {
			if c.names {
				c.add(a.Name.Loc, "KnownArgumentNamesRule", "Unknown argument %q on %s.", a.Name.Name, owner)
			}
			continue
		}
		c.literal(a.Value, decl.Type, a.Name.Name, nil)
	}
}

// literal checks a value written in the document against its type.
// Variables are checked where they are declared.
func (c *documentChecker) literal(v ast.Value, t ast.Type, arg string, path []string) {
	if nn, ok := t.(*ast.NonNull); ok {
		t = nn.OfType
	}
	switch v.(type) {
	case *ast.Variable, *ast.NullValue:
		return
	}
	switch t := t.(type) {
	case *ast.List:
		if list, ok := v.(*ast.ListValue); ok {
			for _, e := range list.Values {
				c.literal(e, t.OfType, arg, path)
			}
			return
		}
		c.literal(v, t.OfType, arg, path) // one value for a list of one
	case *ast.InputObject:
		obj, ok := v.(*ast.ObjectValue)
		if !ok {
			return // the validator answers it, quoting the literal
		}
		for _, f := range obj.Fields {
			decl := t.Values.Get(f.Name.Name)
			if decl == nil {
				if c.names {
					c.add(f.Name.Loc, "ValuesOfCorrectTypeRule", "Field %q is not defined by type %q.", f.Name.Name, t.Name)
				}
				continue
			}
			c.literal(f.Value, decl.Type, arg, append(path, f.Name.Name))
		}
	case *ast.EnumTypeDefinition:
		lit, ok := v.(*ast.PrimitiveValue)
		if !ok {
			c.notSingle(v.Location(), arg, path, t.Name)
			return
		}
		if !c.names {
			return
		}
		if lit.Type != scanner.Ident || lit.Text == "true" || lit.Text == "false" {
			c.add(lit.Loc, "ValuesOfCorrectTypeRule", "Enum %q cannot represent non-enum value: %s.", t.Name, lit.Text)
			return
		}
		if !slices.ContainsFunc(t.EnumValuesDefinition, func(e *ast.EnumValueDefinition) bool { return e.EnumValue == lit.Text }) {
			c.add(lit.Loc, "ValuesOfCorrectTypeRule", "Value %q does not exist in %q enum.", lit.Text, t.Name)
		}
	case *ast.ScalarTypeDefinition:
		switch v := v.(type) {
		case *ast.ListValue, *ast.ObjectValue:
			if !scalarsTakingObjects[t.Name] {
				c.notSingle(v.Location(), arg, path, t.Name)
			}
		case *ast.PrimitiveValue:
			// The validator checks the built-in scalars; a DateTime the
			// executor would refuse while unpacking, beside an empty data.
			if t.Name == "DateTime" {
				text, err := strconv.Unquote(v.Text)
				if v.Type != scanner.String || err != nil || scalarMismatch(t.Name, text) != "" {
					c.notSingle(v.Loc, arg, path, "DateTime, an RFC 3339 time such as 2026-12-07T10:30:00Z")
				}
			}
		}
	}
}

func (c *documentChecker) notSingle(loc gqlerrors.Location, arg string, path []string, want string) {
	if len(path) == 0 {
		c.add(loc, "ValuesOfCorrectTypeRule", "Argument %q has an invalid value: expected %s.", arg, want)
		return
	}
	c.add(loc, "ValuesOfCorrectTypeRule", "Argument %q has an invalid value at %q: expected %s.", arg, strings.Join(path, "."), want)
}

// jsonVariable is variable for a value as encoding/json decodes it
// (strings, numbers, booleans, []any, map[string]any), read without
// reflection: every request's variables pass here. Any other Go value
// (an in-process caller's) goes to variable.
func (c *documentChecker) jsonVariable(v any, t ast.Type, name string, path []string, loc gqlerrors.Location) {
	if c.full() {
		return
	}
	declared := t
	t = c.docType(t)
	if t == nil {
		return // a type the schema does not know: the validator answers it
	}
	var composite bool
	switch v := v.(type) {
	case nil:
		if _, nonNull := declared.(*ast.NonNull); nonNull {
			c.variableProblem(loc, name, path, "expected %s, got null", typeString(declared))
		}
		return
	case string, float64, bool, json.Number:
	case []any:
		if l, ok := t.(*ast.List); ok {
			for i, e := range v {
				c.jsonVariable(e, l.OfType, name, append(path, strconv.Itoa(i)), loc)
			}
			return
		}
		composite = true
	case map[string]any:
		if io, ok := t.(*ast.InputObject); ok {
			for _, decl := range io.Values {
				e, ok := v[decl.Name.Name]
				if !ok {
					if _, required := decl.Type.(*ast.NonNull); required && decl.Default == nil {
						c.variableProblem(loc, name, path, "field %s of required type %s was not provided", decl.Name.Name, typeString(decl.Type))
					}
					continue
				}
				c.jsonVariable(e, decl.Type, name, append(path, decl.Name.Name), loc)
			}
			return
		}
		composite = true
	default:
		c.variable(reflect.ValueOf(v), t, name, path, loc)
		return
	}
	switch t := t.(type) {
	case *ast.List:
		c.jsonVariable(v, t.OfType, name, path, loc) // one value for a list of one
	case *ast.InputObject:
		c.variableProblem(loc, name, path, "expected %s (an object), got %s", t.Name, jsonKind(v))
	case *ast.EnumTypeDefinition:
		s, ok := v.(string)
		switch {
		case composite:
			c.variableNotSingle(loc, name, path, t.Name)
		case !ok:
			c.variableProblem(loc, name, path, "expected %s, got %s", t.Name, jsonKind(v))
		case !slices.ContainsFunc(t.EnumValuesDefinition, func(e *ast.EnumValueDefinition) bool { return e.EnumValue == s }):
			if c.names {
				// Production: anonymous callers get no introspection, so
				// the values are not listed to them here either.
				c.variableProblem(loc, name, path, "expected %s, got %s", t.Name, jsonKind(v))
			} else {
				c.variableProblem(loc, name, path, "expected %s (%s), got %s", t.Name, enumValues(t), jsonKind(v))
			}
		}
	case *ast.ScalarTypeDefinition:
		if composite {
			c.single(t, true, name, path, loc)
			return
		}
		if want := scalarMismatch(t.Name, v); want != "" {
			c.variableProblem(loc, name, path, "expected %s, got %s", want, jsonKind(v))
		}
	}
}

// typeString writes a type as the document or the schema does (Int!,
// [CartLineInput!]); a name written in the document has no String of
// its own until resolved.
func typeString(t ast.Type) string {
	switch t := t.(type) {
	case *ast.NonNull:
		return typeString(t.OfType) + "!"
	case *ast.List:
		return "[" + typeString(t.OfType) + "]"
	case *ast.TypeName:
		return t.Name
	case ast.NamedType:
		return t.TypeName()
	}
	return t.Kind()
}

// scalarMismatch says what a variable of scalar type name must hold when
// v, a single JSON value, is not that; "" when it is. The executor would
// refuse the same values with a Go type in its message
// ("could not unmarshal true (bool) into int32").
func scalarMismatch(name string, v any) string {
	switch name {
	case "Int":
		var f float64
		switch n := v.(type) {
		case float64:
			f = n
		case json.Number:
			i, err := n.Int64()
			if err != nil {
				return "Int, a whole number from -2147483648 to 2147483647"
			}
			f = float64(i)
		default:
			return "Int"
		}
		if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return "Int, a whole number from -2147483648 to 2147483647"
		}
	case "Float":
		switch v.(type) {
		case float64, json.Number:
		default:
			return "Float"
		}
	case "String", "ID":
		if _, ok := v.(string); !ok {
			return name + ", a string"
		}
	case "Boolean":
		if _, ok := v.(bool); !ok {
			return "Boolean, true or false"
		}
	case "DateTime":
		s, ok := v.(string)
		if !ok {
			return "DateTime, an RFC 3339 time such as 2026-12-07T10:30:00Z"
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return "DateTime, an RFC 3339 time such as 2026-12-07T10:30:00Z"
		}
	}
	return ""
}

// jsonKind names a JSON value for a message: short strings, numbers and
// booleans as written, anything else by its kind, so the answer stays
// small whatever was sent.
func jsonKind(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) <= 40 {
			return strconv.Quote(v)
		}
		return "a string of " + strconv.Itoa(len(v)) + " bytes"
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case json.Number:
		if len(v) <= 40 {
			return v.String()
		}
		return "a number of " + strconv.Itoa(len(v)) + " digits"
	case bool:
		return strconv.FormatBool(v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "a value"
}

// enumValues lists an enum's values for a message, the first ten.
func enumValues(t *ast.EnumTypeDefinition) string {
	names := make([]string, 0, min(len(t.EnumValuesDefinition), 11))
	for i, e := range t.EnumValuesDefinition {
		if i == 10 {
			names = append(names, "…")
			break
		}
		names = append(names, e.EnumValue)
	}
	return "one of " + strings.Join(names, ", ")
}

// variableProblem reports a variable's value, or the part of it at path,
// that its type refuses.
func (c *documentChecker) variableProblem(loc gqlerrors.Location, name string, path []string, format string, args ...any) {
	if c.full() {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if len(path) == 0 {
		c.add(loc, "VariablesOfCorrectType", "Variable %q has an invalid value: %s.", "$"+name, msg)
		return
	}
	c.add(loc, "VariablesOfCorrectType", "Variable %q has an invalid value at %q: %s.", "$"+name, variablePath(path), msg)
}

// variablePath writes a path into a variable as clients write it,
// lines[0].quantity, its tail only past maxPathInMessage bytes.
func variablePath(path []string) string {
	p := fullVariablePath(path)
	if len(p) > maxPathInMessage {
		cut := len(p) - maxPathInMessage
		for cut < len(p) && !utf8.RuneStart(p[cut]) {
			cut++
		}
		p = "…" + p[cut:]
	}
	return p
}

// listDepth is how many lists t nests.
func listDepth(t ast.Type) int {
	n := 0
	for {
		switch u := t.(type) {
		case *ast.NonNull:
			t = u.OfType
		case *ast.List:
			n++
			t = u.OfType
		default:
			return n
		}
	}
}

func fullVariablePath(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if p != "" && p[0] >= '0' && p[0] <= '9' {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// variable checks the value of a variable of the operation that runs,
// given as Go values by an in-process caller: a list or object where a
// single value belongs. Values decoded from JSON get jsonVariable's
// stricter check (scalars, enums, nulls, required fields) as well.
func (c *documentChecker) variable(v reflect.Value, t ast.Type, name string, path []string, loc gqlerrors.Location) {
	if c.full() {
		return
	}
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return
	}
	t = c.docType(t)
	composite := v.Kind() == reflect.Slice || v.Kind() == reflect.Array || v.Kind() == reflect.Map || v.Kind() == reflect.Struct
	switch t := t.(type) {
	case *ast.List:
		if v.Kind() == reflect.Slice || v.Kind() == reflect.Array {
			for i := 0; i < v.Len(); i++ {
				c.variable(v.Index(i), t.OfType, name, append(path, strconv.Itoa(i)), loc)
			}
			return
		}
		c.variable(v, t.OfType, name, path, loc)
	case *ast.InputObject:
		if v.Kind() != reflect.Map || v.Type().Key().Kind() != reflect.String {
			return
		}
		for _, decl := range t.Values {
			if e := v.MapIndex(reflect.ValueOf(decl.Name.Name).Convert(v.Type().Key())); e.IsValid() {
				c.variable(e, decl.Type, name, append(path, decl.Name.Name), loc)
			}
		}
	default:
		c.single(t, composite, name, path, loc)
	}
}

// single refuses a list or object (composite) given for a variable, or a
// part of one, of enum or scalar type t, except for the scalars that take
// objects.
func (c *documentChecker) single(t ast.Type, composite bool, name string, path []string, loc gqlerrors.Location) {
	switch t := t.(type) {
	case *ast.EnumTypeDefinition:
		if composite {
			c.variableNotSingle(loc, name, path, t.Name)
		}
	case *ast.ScalarTypeDefinition:
		if composite && !scalarsTakingObjects[t.Name] {
			c.variableNotSingle(loc, name, path, t.Name)
		}
	}
}

func (c *documentChecker) variableNotSingle(loc gqlerrors.Location, name string, path []string, want string) {
	if c.full() {
		return
	}
	if len(path) == 0 {
		c.add(loc, "VariablesOfCorrectType", "Variable %q has an invalid value: expected %s.", "$"+name, want)
		return
	}
	c.add(loc, "VariablesOfCorrectType", "Variable %q has an invalid value at %q: expected %s.", "$"+name, variablePath(path), want)
}

// variableNames checks, in production, that a variable's input objects
// name only fields their types have.
func (c *documentChecker) variableNames(val any, t ast.Type, name string) {
	t = c.docType(t)
	switch t := t.(type) {
	case *ast.List:
		if list, ok := val.([]any); ok {
			for _, e := range list {
				c.variableNames(e, t.OfType, name)
			}
			return
		}
		c.variableNames(val, t.OfType, name)
	case *ast.InputObject:
		obj, ok := val.(map[string]any)
		if !ok {
			return
		}
		// Keys in order, so the problems are; on the stack for the few
		// fields an input object has.
		var buf [16]string
		keys := buf[:0]
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			decl := t.Values.Get(k)
			if decl == nil {
				c.add(gqlerrors.Location{}, "VariablesOfCorrectType", "Variable %q has invalid value.\nField %q is not defined by type %q.", name, k, t.Name)
				continue
			}
			c.variableNames(obj[k], decl.Type, name)
		}
	}
}

// resolveDocType resolves a type written in the document (a variable's)
// against the schema; nil when a name is unknown.
func resolveDocType(schema *ast.Schema, t ast.Type) ast.Type {
	switch t := t.(type) {
	case *ast.NonNull:
		if inner := resolveDocType(schema, t.OfType); inner != nil {
			return &ast.NonNull{OfType: inner}
		}
	case *ast.List:
		if inner := resolveDocType(schema, t.OfType); inner != nil {
			return &ast.List{OfType: inner}
		}
	case *ast.TypeName:
		if nt, ok := schema.Types[t.Name]; ok {
			return nt
		}
	}
	return nil
}
