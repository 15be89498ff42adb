package graphql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"text/scanner"
	"unicode/utf8"

	"github.com/graph-gophers/graphql-go/ast"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"

	"github.com/kassahq/kassa/core/kit/text"
)

// CodeInvalidCharacters is the code of a string input holding a control
// character or bytes that are not UTF-8.
const CodeInvalidCharacters = "INVALID_CHARACTERS"

// multilineDirective marks, in the schema, the input fields and arguments
// whose text may hold TAB, LF and CR.
const multilineDirective = "multiline"

// maxTextProblems caps the problems reported per root field: enough to fix
// a form at once, too few to make the answer a cost amplifier.
const maxTextProblems = 10

// textProblem is one string input that may not be stored.
type textProblem struct {
	// field is the path of the input, from the argument: ["input",
	// "variants", "0", "sku"], like UserError.field.
	field   []string
	problem text.Problem
	loc     gqlerrors.Location
}

func (p textProblem) message() string {
	name := "input"
	for i := len(p.field) - 1; i >= 0; i-- {
		if _, err := strconv.Atoi(p.field[i]); err != nil {
			name = p.field[i]
			break
		}
	}
	return fmt.Sprintf("%s contains %s; remove it", name, p.problem)
}

// checkDocumentText refuses a request whose string inputs hold control
// characters or invalid UTF-8 (issue 7: a NUL byte reached bun and
// PostgreSQL refused the statement, an INTERNAL error and an ERROR log
// line from anonymous input). It reads the operation the executor will
// run, from the document Exec already parsed with the executor's own
// parser, with its variables, and answers before anything runs: nil when
// the request may run. A mutation whose payloads can carry it gets
// userErrors (code INVALID_CHARACTERS), anything else top-level errors
// with the same code. A document that is too long, does not parse or names
// no operation is left to the answers of those checks.
//
// Variables the operation does not use are not read: the executor never
// hands them to a resolver, and clients share one variables object
// across operations.
func (s *Server) checkDocumentText(d *document, vars map[string]any) *Response {
	if d == nil || d.def == nil || d.op == nil {
		return nil
	}
	return s.refuseText(d.def, d.op, vars)
}

// refuseText is checkDocumentText on a parsed document: op must be the
// operation the executor would run, vars the request's variables.
func (s *Server) refuseText(doc *ast.ExecutableDefinition, op *ast.OperationDefinition, vars map[string]any) *Response {
	perRoot := findTextProblems(s.schema.AST(), doc, op, vars)
	if perRoot == nil {
		return nil
	}
	if op.Type == "MUTATION" {
		if data, ok := userErrorPayloads(s.schema.AST(), op, perRoot); ok {
			return &Response{Data: data}
		}
	}
	out := &Response{}
	for _, problems := range perRoot {
		for _, p := range problems {
			out.Errors = append(out.Errors, &Error{
				Message:    p.message(),
				Locations:  []Location{{Line: p.loc.Line, Column: p.loc.Column}},
				Extensions: map[string]any{"code": CodeInvalidCharacters, "field": p.field},
			})
		}
	}
	return out
}

// validJSONText reports whether b, a JSON text as sent, holds only UTF-8
// and surrogate escapes in pairs. encoding/json turns bytes that are not
// UTF-8 and an unpaired \uD800 to \uDFFF into U+FFFD without an error,
// after which checkDocumentText cannot tell them from a typed U+FFFD:
// the text stored would silently differ from the text sent. Escapes that
// are not well formed are left to the decoder, which refuses them.
func validJSONText(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return true
		}
		i += j
		if i+1 >= len(b) {
			return true // a backslash last: the decoder refuses it
		}
		if b[i+1] != 'u' {
			i += 2 // a one-character escape, \\ included
			continue
		}
		r, ok := hex4(b, i+2)
		switch {
		case !ok:
			return true // not an escape the decoder takes
		case r >= 0xdc00 && r <= 0xdfff:
			return false // a low surrogate alone
		case r >= 0xd800 && r <= 0xdbff:
			if i+11 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
				return false
			}
			if lo, ok := hex4(b, i+8); !ok || lo < 0xdc00 || lo > 0xdfff {
				return false
			}
			i += 12
		default:
			i += 6
		}
	}
}

// hex4 reads the four hexadecimal digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// invalidText is the answer to a request whose JSON fails validJSONText.
func invalidText() Response {
	return Response{Errors: []*Error{{
		Message:    "the request holds bytes that are not valid UTF-8, or an unpaired surrogate escape (\\uD800 to \\uDFFF); send text as UTF-8",
		Extensions: map[string]any{"code": CodeInvalidCharacters},
	}}}
}

// textOutcome is the metric outcome of a refusal: userErrors count as
// "ok" like any other mutation's, top-level errors as "error".
func textOutcome(out *Response) string {
	if len(out.Errors) > 0 {
		return "error"
	}
	return "ok"
}

// findTextProblems walks every argument of op, fragments included, and
// returns the problems found under each root selection (index aligned
// with op.Selections), or nil when there are none.
func findTextProblems(schema *ast.Schema, doc *ast.ExecutableDefinition, op *ast.OperationDefinition, vars map[string]any) [][]textProblem {
	w := &textWalker{schema: schema, doc: doc, op: op, vars: vars}
	root := schema.RootOperationTypes[rootOperationKey(op.Type)]
	w.directives(op.Directives)
	opLevel := w.found
	// Made on the first problem: nearly every request has none.
	var perRoot [][]textProblem
	if len(opLevel) > 0 {
		perRoot = make([][]textProblem, len(op.Selections))
	}
	for i, sel := range op.Selections {
		w.found = nil
		w.selection(sel, root)
		if len(w.found) > 0 && perRoot == nil {
			perRoot = make([][]textProblem, len(op.Selections))
		}
		if perRoot != nil {
			perRoot[i] = w.found
		}
	}
	if perRoot == nil {
		return nil
	}
	if len(opLevel) > 0 {
		// A directive of the operation itself belongs to no root field:
		// reported last, and never as userErrors (see userErrorPayloads).
		perRoot = append(perRoot, opLevel)
	}
	return perRoot
}

// rootOperationKey is the key of an operation type in
// ast.Schema.RootOperationTypes.
func rootOperationKey(t ast.OperationType) string {
	switch t {
	case "MUTATION":
		return "mutation"
	case "SUBSCRIPTION":
		return "subscription"
	}
	return "query"
}

// textWalker collects the text problems of one operation.
type textWalker struct {
	schema *ast.Schema
	doc    *ast.ExecutableDefinition
	op     *ast.OperationDefinition
	vars   map[string]any
	// frags holds each fragment's problems: a fragment is walked once
	// however often it is spread, and a cycle stops at the fragment in
	// progress (the executor refuses cycles anyway).
	frags map[string]*fragmentText
	found []textProblem
}

type fragmentText struct {
	done     bool
	problems []textProblem
}

func (w *textWalker) add(path []string, p text.Problem, loc gqlerrors.Location) {
	if len(w.found) < maxTextProblems {
		w.found = append(w.found, textProblem{field: append([]string(nil), path...), problem: p, loc: loc})
	}
}

func (w *textWalker) selections(set ast.SelectionSet, parent ast.NamedType) {
	for _, sel := range set {
		w.selection(sel, parent)
	}
}

func (w *textWalker) selection(sel ast.Selection, parent ast.NamedType) {
	switch sel := sel.(type) {
	case *ast.Field:
		def := fieldDefinition(parent, sel.Name.Name)
		for _, arg := range sel.Arguments {
			var iv *ast.InputValueDefinition
			if def != nil {
				iv = def.Arguments.Get(arg.Name.Name)
			}
			w.value(arg.Value, iv, []string{arg.Name.Name})
		}
		w.directives(sel.Directives)
		var child ast.NamedType
		if def != nil {
			child = unwrapNamed(def.Type)
		}
		w.selections(sel.SelectionSet, child)
	case *ast.InlineFragment:
		w.directives(sel.Directives)
		on := parent
		if sel.On.Name != "" {
			on = w.schema.Types[sel.On.Name]
		}
		w.selections(sel.Selections, on)
	case *ast.FragmentSpread:
		w.directives(sel.Directives)
		w.fragment(sel.Name.Name)
	}
}

func (w *textWalker) fragment(name string) {
	if f, seen := w.frags[name]; seen {
		if f.done {
			for _, p := range f.problems {
				if len(w.found) < maxTextProblems {
					w.found = append(w.found, p)
				}
			}
		}
		return
	}
	def := w.doc.Fragments.Get(name)
	if def == nil {
		return // the executor refuses an unknown fragment
	}
	f := &fragmentText{}
	if w.frags == nil {
		w.frags = map[string]*fragmentText{}
	}
	w.frags[name] = f
	outer := w.found
	w.found = nil
	w.directives(def.Directives)
	w.selections(def.Selections, w.schema.Types[def.On.Name])
	f.problems, f.done = w.found, true
	w.found = outer
	w.fragment(name)
}

// directives checks the arguments of directives as single-line text: no
// directive of the schema takes text that spans lines.
func (w *textWalker) directives(list ast.DirectiveList) {
	for _, d := range list {
		for _, arg := range d.Arguments {
			w.value(arg.Value, nil, []string{arg.Name.Name})
		}
	}
}

// value checks a literal or variable at the input position iv (nil when
// the schema does not know the position: the executor refuses it, and
// until then it is single-line).
func (w *textWalker) value(v ast.Value, iv *ast.InputValueDefinition, path []string) {
	var t ast.Type
	lines := text.SingleLine
	if iv != nil {
		t, lines = iv.Type, multiline(iv)
	}
	w.literal(v, t, lines, path)
}

func (w *textWalker) literal(v ast.Value, t ast.Type, lines text.Lines, path []string) {
	switch v := v.(type) {
	case *ast.PrimitiveValue:
		if v.Type != scanner.String {
			return
		}
		// The executor unquotes the same way (ast.PrimitiveValue.Deserialize).
		s, err := strconv.Unquote(v.Text)
		if err != nil {
			return
		}
		if p, bad := text.Check(s, lines); bad {
			w.add(path, p, v.Loc)
		}
	case *ast.ListValue:
		elem := listElement(t)
		for i, x := range v.Values {
			w.literal(x, elem, lines, appendPath(path, strconv.Itoa(i)))
		}
	case *ast.ObjectValue:
		fields := inputFields(t)
		for _, f := range v.Fields {
			ft, fl := w.field(fields, f.Name.Name, t, lines)
			w.literal(f.Value, ft, fl, appendPath(path, f.Name.Name))
		}
	case *ast.Variable:
		w.variable(v.Name, v.Loc, t, lines, path)
	}
}

// field resolves an input object's field; a scalar (JSON) passes its own
// type and lines on to everything inside it.
func (w *textWalker) field(fields ast.ArgumentsDefinition, name string, parent ast.Type, lines text.Lines) (ast.Type, text.Lines) {
	if fields == nil {
		if _, scalar := unwrapNamed(parent).(*ast.ScalarTypeDefinition); scalar {
			return parent, lines
		}
		return nil, text.SingleLine
	}
	def := fields.Get(name)
	if def == nil {
		return nil, text.SingleLine
	}
	return def.Type, multiline(def)
}

func (w *textWalker) variable(name string, loc gqlerrors.Location, t ast.Type, lines text.Lines, path []string) {
	if v, given := w.vars[name]; given {
		w.jsonValue(v, loc, t, lines, path)
		return
	}
	// The executor fills a missing variable from its default.
	if def := w.op.Vars.Get(name); def != nil && def.Default != nil {
		w.literal(def.Default, t, lines, path)
	}
}

// jsonValue checks a variable's value as encoding/json decodes it
// (strings, []any, map[string]any) without reflection: every request's
// variables pass here. Any other Go value goes to goValue.
//
// A list or object extends path in place, one array for the whole value
// rather than one per item: add copies the path, nothing else keeps it,
// and an item's walk is over before its sibling's starts. The array is
// copied first (Grow) when path has no room: the caller's is not ours.
func (w *textWalker) jsonValue(v any, loc gqlerrors.Location, t ast.Type, lines text.Lines, path []string) {
	switch v.(type) {
	case []any, map[string]any:
		if cap(path) == len(path) {
			path = slices.Grow(path, 4)
		}
	}
	switch v := v.(type) {
	case nil, bool, float64, json.Number:
	case string:
		if p, bad := text.Check(v, lines); bad {
			w.add(path, p, loc)
		}
	case []any:
		elem := listElement(t)
		for i, x := range v {
			w.jsonValue(x, loc, elem, lines, append(path, strconv.Itoa(i)))
		}
	case map[string]any:
		fields := inputFields(t)
		for name, x := range v {
			ft, fl := w.field(fields, name, t, lines)
			w.jsonValue(x, loc, ft, fl, append(path, name))
		}
	default:
		w.goValue(reflect.ValueOf(v), loc, t, lines, path)
	}
}

// goValue checks a variable's value: Go values given by in-process
// callers (the storefront).
func (w *textWalker) goValue(v reflect.Value, loc gqlerrors.Location, t ast.Type, lines text.Lines, path []string) {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		if p, bad := text.Check(v.String(), lines); bad {
			w.add(path, p, loc)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes are not a GraphQL input
		}
		elem := listElement(t)
		for i := 0; i < v.Len(); i++ {
			w.goValue(v.Index(i), loc, elem, lines, appendPath(path, strconv.Itoa(i)))
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		fields := inputFields(t)
		iter := v.MapRange()
		for iter.Next() {
			name := iter.Key().String()
			ft, fl := w.field(fields, name, t, lines)
			w.goValue(iter.Value(), loc, ft, fl, appendPath(path, name))
		}
	}
}

func multiline(iv *ast.InputValueDefinition) text.Lines {
	return text.Lines(iv.Directives.Get(multilineDirective) != nil)
}

// appendPath extends a path without sharing the backing array of siblings.
func appendPath(path []string, name string) []string {
	return append(path[:len(path):len(path)], name)
}

// listElement is the type of the items of a list at t; a single value
// given for a list is coerced to a list of one, so t itself otherwise.
func listElement(t ast.Type) ast.Type {
	if nn, ok := t.(*ast.NonNull); ok {
		t = nn.OfType
	}
	if l, ok := t.(*ast.List); ok {
		return l.OfType
	}
	return t
}

func inputFields(t ast.Type) ast.ArgumentsDefinition {
	if nn, ok := t.(*ast.NonNull); ok {
		t = nn.OfType
	}
	if io, ok := t.(*ast.InputObject); ok {
		return io.Values
	}
	return nil
}

func fieldDefinition(t ast.NamedType, name string) *ast.FieldDefinition {
	switch t := t.(type) {
	case *ast.ObjectTypeDefinition:
		return t.Fields.Get(name)
	case *ast.InterfaceTypeDefinition:
		return t.Fields.Get(name)
	}
	return nil
}

// userErrorPayloads answers a refused mutation the way the schema promises
// ("a non-empty userErrors means nothing was changed"): every root field's
// payload with its userErrors and null elsewhere, nothing executed. It
// gives up (false) unless the document lets it answer exactly as the
// executor would have: plain root fields, each with problems, each
// payload with userErrors, and only nullable fields, __typename and
// UserError's own fields selected.
func userErrorPayloads(schema *ast.Schema, op *ast.OperationDefinition, perRoot [][]textProblem) (json.RawMessage, bool) {
	if len(perRoot) != len(op.Selections) {
		return nil, false // a problem outside every root field
	}
	mutation := schema.RootOperationTypes["mutation"]
	var b bytes.Buffer
	b.WriteByte('{')
	keys := map[string]bool{}
	for i, sel := range op.Selections {
		f, ok := sel.(*ast.Field)
		if !ok || len(f.Directives) > 0 || keys[f.Alias.Name] || len(perRoot[i]) == 0 {
			return nil, false
		}
		keys[f.Alias.Name] = true
		def := fieldDefinition(mutation, f.Name.Name)
		if def == nil {
			return nil, false
		}
		t := def.Type
		if nn, ok := t.(*ast.NonNull); ok {
			t = nn.OfType
		}
		payload, ok := t.(*ast.ObjectTypeDefinition)
		if !ok || payload.Fields.Get("userErrors") == nil {
			return nil, false
		}
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, f.Alias.Name)
		b.WriteByte(':')
		if len(f.SelectionSet) == 0 || !writePayload(&b, payload, f.SelectionSet, perRoot[i]) {
			return nil, false
		}
	}
	b.WriteByte('}')
	return b.Bytes(), true
}

func writePayload(b *bytes.Buffer, payload *ast.ObjectTypeDefinition, set ast.SelectionSet, problems []textProblem) bool {
	b.WriteByte('{')
	keys := map[string]bool{}
	for i, sel := range set {
		f, ok := sel.(*ast.Field)
		if !ok || len(f.Directives) > 0 || len(f.Arguments) > 0 || keys[f.Alias.Name] {
			return false
		}
		keys[f.Alias.Name] = true
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, f.Alias.Name)
		b.WriteByte(':')
		switch f.Name.Name {
		case "__typename":
			writeJSONString(b, payload.Name)
		case "userErrors":
			if len(f.SelectionSet) == 0 || !writeUserErrors(b, f.SelectionSet, problems) {
				return false
			}
		default:
			def := payload.Fields.Get(f.Name.Name)
			if def == nil {
				return false
			}
			if _, required := def.Type.(*ast.NonNull); required {
				return false
			}
			b.WriteString("null")
		}
	}
	b.WriteByte('}')
	return true
}

func writeUserErrors(b *bytes.Buffer, set ast.SelectionSet, problems []textProblem) bool {
	b.WriteByte('[')
	for i, p := range problems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		keys := map[string]bool{}
		for j, sel := range set {
			f, ok := sel.(*ast.Field)
			if !ok || len(f.Directives) > 0 || len(f.Arguments) > 0 || len(f.SelectionSet) > 0 || keys[f.Alias.Name] {
				return false
			}
			keys[f.Alias.Name] = true
			if j > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, f.Alias.Name)
			b.WriteByte(':')
			switch f.Name.Name {
			case "__typename":
				writeJSONString(b, "UserError")
			case "field":
				list, _ := json.Marshal(p.field)
				b.Write(list)
			case "message":
				writeJSONString(b, p.message())
			case "code":
				writeJSONString(b, CodeInvalidCharacters)
			default:
				return false
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return true
}

func writeJSONString(b *bytes.Buffer, s string) {
	out, _ := json.Marshal(s)
	b.Write(out)
}
