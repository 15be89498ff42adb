// Package plan runs the storefront's read queries without graph-gophers'
// executor: a document whose every field has a typed getter in a Table
// compiles once to a plan, and a plan writes its answer into one buffer
// with plain calls. graph-gophers still parses and validates every
// document and runs everything else; a plan gives up (and the executor
// answers) whenever something is not exactly the ordinary case: an
// error, a null where the schema promises a value, a panic, a directive,
// an abstract type. ADR 0012 records why.
package plan

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/graph-gophers/graphql-go/ast"
)

// A Table holds the object types and root query fields plans may use.
// It is built once at start-up and only read afterwards.
type Table struct {
	objects map[reflect.Type]*object
	roots   map[string]*field
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{objects: map[reflect.Type]*object{}, roots: map[string]*field{}}
}

// object is a GraphQL object type as resolved by one Go type.
type object struct {
	name   string // the GraphQL type name
	fields map[string]*field
}

type fieldKind uint8

const (
	leafField   fieldKind = iota // a scalar, an enum or a list of them
	objectField                  // an object, or null
	listField                    // a list of objects
)

// field is one field of an object type, or a root field. Exactly one of
// leaf, enum, object, resolve and list is set.
type field struct {
	kind fieldKind
	// leaf appends the JSON of the field's value to b; ok false gives up
	// (a value the executor would not write as it is).
	leaf func(b []byte, obj any) (out []byte, ok bool)
	// enum returns the name of an enum value; the plan checks it against
	// the schema.
	enum func(obj any) string
	// nullable marks a leaf that may write null: only allowed on a field
	// of a nullable type.
	nullable bool
	// object returns the child object, nil for null.
	object func(obj any) any
	// resolve returns the child object of a field that takes arguments
	// or the request's context (a root field, a collection's products);
	// nil for null; an error gives up. obj is nil for a root field.
	resolve func(ctx context.Context, obj any, args Args) (any, error)
	// list calls each with every item of the list, in order, until it
	// returns false; it returns false when an item is nil.
	list  func(obj any, each func(item any) bool) bool
	child reflect.Type // the Go type of object or list items
	// scalars are the schema types a leaf may stand for (nil: any
	// scalar; an enum's name is checked per document); isList marks a
	// field of a list type.
	scalars []string
	isList  bool
}

// Object registers the GraphQL object type name as resolved by the Go type
// T, with its fields.
func Object[T any](t *Table, name string, fields ...Field[T]) {
	o := &object{name: name, fields: make(map[string]*field, len(fields))}
	for _, f := range fields {
		o.fields[f.name] = f.f
	}
	t.objects[reflect.TypeFor[T]()] = o
}

// Root registers the Query field name, resolved by resolve into a value of
// the registered object type *C; nil is null.
func Root[C any](t *Table, name string, resolve func(ctx context.Context, args Args) (*C, error)) {
	t.roots[name] = &field{kind: objectField, child: reflect.TypeFor[*C](),
		resolve: func(ctx context.Context, _ any, args Args) (any, error) {
			c, err := resolve(ctx, args)
			if c == nil || err != nil {
				return nil, err
			}
			return c, nil
		}}
}

// stringTypes are the scalars a Go string is written as: String, and ID
// when its Go type is a string kind (a graphql.ID wants ID).
var stringTypes = []string{"String", "ID"}

// Field is one field of an object type resolved by T.
type Field[T any] struct {
	name string
	f    *field
}

// String is a String! (or ID!) field.
func String[T any](name string, get func(T) string) Field[T] {
	return Field[T]{name, &field{kind: leafField, scalars: stringTypes, leaf: func(b []byte, o any) ([]byte, bool) {
		return appendString(b, get(o.(T))), true
	}}}
}

// NullString is a nullable String field.
func NullString[T any](name string, get func(T) *string) Field[T] {
	return Field[T]{name, &field{kind: leafField, nullable: true, scalars: stringTypes, leaf: func(b []byte, o any) ([]byte, bool) {
		if s := get(o.(T)); s != nil {
			return appendString(b, *s), true
		}
		return append(b, "null"...), true
	}}}
}

// Strings is a [String!]! field; a nil slice is written as [], as
// graph-gophers writes it.
func Strings[T any](name string, get func(T) []string) Field[T] {
	return Field[T]{name, &field{kind: leafField, scalars: []string{"String"}, isList: true, leaf: func(b []byte, o any) ([]byte, bool) {
		ss := get(o.(T))
		b = append(b, '[')
		for i, s := range ss {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']'), true
	}}}
}

// Int is an Int! field.
func Int[T any](name string, get func(T) int32) Field[T] {
	return Field[T]{name, &field{kind: leafField, scalars: []string{"Int"}, leaf: func(b []byte, o any) ([]byte, bool) {
		return strconv.AppendInt(b, int64(get(o.(T))), 10), true
	}}}
}

// Bool is a Boolean! field.
func Bool[T any](name string, get func(T) bool) Field[T] {
	return Field[T]{name, &field{kind: leafField, scalars: []string{"Boolean"}, leaf: func(b []byte, o any) ([]byte, bool) {
		return strconv.AppendBool(b, get(o.(T))), true
	}}}
}

// JSON is a non-null field of a custom scalar: appendJSON appends the
// JSON its MarshalJSON gives (graph-gophers writes a scalar with
// encoding/json, which calls MarshalJSON), and must write no HTML
// characters, which encoding/json would escape.
func JSON[T any](name string, appendJSON func(T, []byte) []byte) Field[T] {
	return Field[T]{name, &field{kind: leafField, leaf: func(b []byte, o any) ([]byte, bool) {
		return appendJSON(o.(T), b), true
	}}}
}

// NullJSON is a nullable field of a custom scalar: appendJSON appends
// its JSON as JSON does, or null.
func NullJSON[T any](name string, appendJSON func(T, []byte) []byte) Field[T] {
	return Field[T]{name, &field{kind: leafField, nullable: true, leaf: func(b []byte, o any) ([]byte, bool) {
		return appendJSON(o.(T), b), true
	}}}
}

// Enum is a field of an enum type; the name get returns is checked
// against the schema's values.
func Enum[T any](name string, get func(T) string) Field[T] {
	return Field[T]{name, &field{kind: leafField, enum: func(o any) string { return get(o.(T)) }}}
}

// Obj is a field of an object type resolved by *C; nil is null.
func Obj[T, C any](name string, get func(T) *C) Field[T] {
	return Field[T]{name, &field{kind: objectField, child: reflect.TypeFor[*C](), object: func(o any) any {
		if c := get(o.(T)); c != nil {
			return c
		}
		return nil
	}}}
}

// Resolve is a field of an object type resolved by *C that takes
// arguments or the request's context; nil is null.
func Resolve[T, C any](name string, resolve func(ctx context.Context, obj T, args Args) (*C, error)) Field[T] {
	return Field[T]{name, &field{kind: objectField, child: reflect.TypeFor[*C](),
		resolve: func(ctx context.Context, o any, args Args) (any, error) {
			c, err := resolve(ctx, o.(T), args)
			if c == nil || err != nil {
				return nil, err
			}
			return c, nil
		}}}
}

// ID is an ID! field whose Go value is a graphql.ID, which graph-gophers
// writes with strconv.Quote: the same JSON as a string's for printable
// ASCII, which Kassa's ids are; any other id gives up.
func ID[T any](name string, get func(T) string) Field[T] {
	return Field[T]{name, &field{kind: leafField, scalars: []string{"ID"}, leaf: func(b []byte, o any) ([]byte, bool) {
		return appendID(b, get(o.(T)))
	}}}
}

// NullID is a nullable ID field whose Go value is a *graphql.ID, written
// as ID writes one; nil is null.
func NullID[T any](name string, get func(T) *string) Field[T] {
	return Field[T]{name, &field{kind: leafField, nullable: true, scalars: []string{"ID"}, leaf: func(b []byte, o any) ([]byte, bool) {
		id := get(o.(T))
		if id == nil {
			return append(b, "null"...), true
		}
		return appendID(b, *id)
	}}}
}

// appendID appends id as graph-gophers writes a graphql.ID, or gives up.
func appendID(b []byte, id string) ([]byte, bool) {
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return b, false
		}
	}
	return appendString(b, id), true
}

// List is a list of objects resolved by *C; a nil slice is [], a nil item
// gives up.
func List[T, C any](name string, get func(T) []*C) Field[T] {
	return Field[T]{name, &field{kind: listField, isList: true, child: reflect.TypeFor[*C](), list: func(o any, each func(any) bool) bool {
		for _, c := range get(o.(T)) {
			if c == nil || !each(c) {
				return false
			}
		}
		return true
	}}}
}

// Args are a root field's arguments: the document's values with the
// request's variables and the schema's defaults applied. An accessor
// that meets a value of another type marks the arguments bad, and the
// plan gives up (graph-gophers' validation has refused such requests
// before a plan runs; this is the belt to its braces).
type Args struct {
	vals map[string]any
	bad  *bool
}

func (a Args) fail() { *a.bad = true }

// String returns a String or ID argument; nil when absent or null.
func (a Args) String(name string) *string {
	switch v := a.vals[name].(type) {
	case nil:
		return nil
	case string:
		return &v
	default:
		a.fail()
		return nil
	}
}

// Int32 returns an Int argument; nil when absent or null. Variables come
// as JSON numbers over HTTP and as Go integers from in-process callers.
func (a Args) Int32(name string) *int32 {
	var n int64
	switch v := a.vals[name].(type) {
	case nil:
		return nil
	case int32:
		n = int64(v)
	case int:
		n = int64(v)
	case int64:
		n = v
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32+1 {
			a.fail()
			return nil
		}
		n = int64(v)
	default:
		a.fail()
		return nil
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		a.fail()
		return nil
	}
	i := int32(n)
	return &i
}

// Bool returns a Boolean argument; nil when absent or null.
func (a Args) Bool(name string) *bool {
	switch v := a.vals[name].(type) {
	case nil:
		return nil
	case bool:
		return &v
	default:
		a.fail()
		return nil
	}
}

// Check reports a table whose types or fields do not match schema, so a
// mistake in the table fails at start-up and in tests, not in a request.
func (t *Table) Check(s *ast.Schema) error {
	for typ, o := range t.objects {
		def, ok := s.Types[o.name].(*ast.ObjectTypeDefinition)
		if !ok {
			return fmt.Errorf("plan: %s (%v) is not an object type of the schema", o.name, typ)
		}
		for name, f := range o.fields {
			fd := def.Fields.Get(name)
			if fd == nil {
				return fmt.Errorf("plan: %s.%s is not in the schema", o.name, name)
			}
			if len(fd.Arguments) > 0 && f.resolve == nil {
				return fmt.Errorf("plan: %s.%s takes arguments; use Resolve", o.name, name)
			}
			if f.child != nil {
				if _, ok := t.objects[f.child]; !ok {
					return fmt.Errorf("plan: %s.%s gives %v, which is not in the table", o.name, name, f.child)
				}
			}
			if f.nullable && isNonNull(fd.Type) {
				return fmt.Errorf("plan: %s.%s may write null for a non-null type", o.name, name)
			}
			if f.isList != isList(fd.Type) {
				return fmt.Errorf("plan: %s.%s is %s, and its getter says otherwise about a list", o.name, name, fd.Type)
			}
			if f.scalars != nil && !slices.Contains(f.scalars, namedType(fd.Type)) {
				return fmt.Errorf("plan: %s.%s is %s, its getter writes %s", o.name, name, fd.Type, strings.Join(f.scalars, " or "))
			}
		}
	}
	for name, r := range t.roots {
		if queryType(s).Fields.Get(name) == nil {
			return fmt.Errorf("plan: Query.%s is not in the schema", name)
		}
		if _, ok := t.objects[r.child]; !ok {
			return fmt.Errorf("plan: Query.%s gives %v, which is not in the table", name, r.child)
		}
	}
	return nil
}
