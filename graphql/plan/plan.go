package plan

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"github.com/graph-gophers/graphql-go/ast"
)

// A Plan is a query operation compiled against a Table. It holds no
// request's data: one plan serves every request with its document.
type Plan struct {
	roots []*node
	// vars lists the operation's variables with their defaults.
	vars []*ast.InputValueDefinition
	// size is the length of the plan's last answer: the next starts with
	// room for it, not growing its buffer from 4 KB a few times over.
	size atomic.Int64
}

// node is one response key of a selection set after fragments are
// flattened and fields of the same key merged, as graph-gophers merges
// them.
type node struct {
	name     string // the schema field
	prefix   []byte // `"key":` (the response key: alias or name), ready to write
	typename string // for __typename: the name to write
	nonNull  bool
	f        *field
	enum     map[string]bool // an enum leaf's schema values
	args     []arg           // the arguments of a field with resolve
	children []*node
	// raw gathers the selection sets merged into this key while compiling.
	raw []ast.Selection
}

// arg is one argument of a field: the document's value or else the
// schema's default.
type arg struct {
	name  string
	value ast.Value // nil: absent
	def   ast.Value // the schema's default, nil when none
}

// maxFragmentDepth bounds fragment nesting while compiling; validation
// refuses cycles, but compiling runs before it.
const maxFragmentDepth = 32

// Compile returns the plan of op, an operation of doc, or nil when op is
// not a query that t covers in full. maxSelections is the executor's
// bound: an operation near it is left to the executor, which refuses or
// runs it as it always has.
func Compile(t *Table, s *ast.Schema, doc *ast.ExecutableDefinition, op *ast.OperationDefinition, maxSelections int) *Plan {
	if t == nil || op == nil || op.Type != "QUERY" || len(op.Directives) > 0 {
		return nil
	}
	q := queryType(s)
	if q == nil {
		return nil
	}
	c := compiler{t: t, s: s, doc: doc, budget: maxSelections / 2}
	roots, ok := c.selectionSet(op.Selections, q, nil)
	if !ok {
		return nil
	}
	return &Plan{roots: roots, vars: op.Vars}
}

type compiler struct {
	t      *Table
	s      *ast.Schema
	doc    *ast.ExecutableDefinition
	budget int // field selections left before giving up
}

// selectionSet compiles sels on the object type def, resolved by the Go
// type typ (nil on Query, whose fields are roots).
func (c *compiler) selectionSet(sels []ast.Selection, def *ast.ObjectTypeDefinition, typ reflect.Type) ([]*node, bool) {
	var obj *object
	if typ != nil {
		obj = c.t.objects[typ]
		if obj == nil || obj.name != def.Name {
			return nil, false
		}
	}
	var nodes []*node
	byKey := map[string]*node{}
	if !c.gather(sels, def, obj, &nodes, byKey, 0) {
		return nil, false
	}
	for _, n := range nodes {
		if n.f == nil {
			continue // __typename
		}
		child := n.f.child
		if child == nil { // a leaf
			if len(n.raw) > 0 {
				return nil, false
			}
			continue
		}
		if len(n.raw) == 0 {
			return nil, false
		}
		o := c.t.objects[child]
		if o == nil {
			return nil, false
		}
		cdef, ok := c.s.Types[o.name].(*ast.ObjectTypeDefinition)
		if !ok {
			return nil, false
		}
		if n.children, ok = c.selectionSet(n.raw, cdef, child); !ok {
			return nil, false
		}
		n.raw = nil
	}
	return nodes, true
}

// gather flattens sels into nodes, merging fields of the same response
// key in the order they first appear.
func (c *compiler) gather(sels []ast.Selection, def *ast.ObjectTypeDefinition, obj *object, nodes *[]*node, byKey map[string]*node, depth int) bool {
	if depth > maxFragmentDepth {
		return false
	}
	for _, sel := range sels {
		switch sel := sel.(type) {
		case *ast.Field:
			if len(sel.Directives) > 0 {
				return false
			}
			if c.budget--; c.budget < 0 {
				return false
			}
			key, name := sel.Alias.Name, sel.Name.Name
			if n := byKey[key]; n != nil {
				if n.name != name {
					return false
				}
				n.raw = append(n.raw, sel.SelectionSet...)
				continue
			}
			n := &node{name: name, prefix: append(appendString(nil, key), ':'), raw: append([]ast.Selection(nil), sel.SelectionSet...)}
			if name == "__typename" {
				if len(sel.Arguments) > 0 {
					return false
				}
				n.typename = def.Name
			} else if !c.field(n, sel, def, obj) {
				return false
			}
			byKey[key] = n
			*nodes = append(*nodes, n)
		case *ast.InlineFragment:
			if len(sel.Directives) > 0 || (sel.On.Name != "" && sel.On.Name != def.Name) {
				return false
			}
			if !c.gather(sel.Selections, def, obj, nodes, byKey, depth+1) {
				return false
			}
		case *ast.FragmentSpread:
			frag := c.doc.Fragments.Get(sel.Name.Name)
			if len(sel.Directives) > 0 || frag == nil || len(frag.Directives) > 0 || frag.On.Name != def.Name {
				return false
			}
			if !c.gather(frag.Selections, def, obj, nodes, byKey, depth+1) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// field fills n for sel, a field of def (resolved by obj, nil for Query).
func (c *compiler) field(n *node, sel *ast.Field, def *ast.ObjectTypeDefinition, obj *object) bool {
	if strings.HasPrefix(n.name, "__") {
		return false // introspection: the executor's
	}
	fd := def.Fields.Get(n.name)
	if fd == nil {
		return false
	}
	n.nonNull = isNonNull(fd.Type)
	if obj == nil {
		n.f = c.t.roots[n.name]
	} else {
		n.f = obj.fields[n.name]
	}
	if n.f == nil {
		return false
	}
	if n.f.resolve == nil {
		return len(sel.Arguments) == 0 && (n.f.enum == nil || c.enumValues(n, fd))
	}
	for _, a := range sel.Arguments {
		if fd.Arguments.Get(a.Name.Name) == nil {
			return false
		}
	}
	for _, ad := range fd.Arguments {
		v, _ := sel.Arguments.Get(ad.Name.Name)
		n.args = append(n.args, arg{name: ad.Name.Name, value: v, def: ad.Default})
	}
	return true
}

// enumValues gives n, an enum leaf of fd, the schema's values.
func (c *compiler) enumValues(n *node, fd *ast.FieldDefinition) bool {
	e, ok := c.s.Types[namedType(fd.Type)].(*ast.EnumTypeDefinition)
	if !ok {
		return false
	}
	n.enum = make(map[string]bool, len(e.EnumValuesDefinition))
	for _, v := range e.EnumValuesDefinition {
		n.enum[v.EnumValue] = true
	}
	return true
}

// ErrGaveUp is what Execute returns when the plan left the request to the
// executor in the ordinary way: an error, a null, a value the executor
// would write otherwise.
var ErrGaveUp = errors.New("plan: left to the executor")

// A PanicError is what Execute returns when a getter or the plan itself
// panicked; the caller runs the executor, and should log it.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("plan: panic: %v", e.Value) }

// Execute runs the plan with the request's variables (after validation)
// and returns the response's data. On an error (ErrGaveUp, a
// *PanicError) the plan gave up: the caller runs the executor, which
// answers exactly as it would have.
func (p *Plan) Execute(ctx context.Context, vars map[string]any) (data []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			data, err = nil, &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	r := &run{ctx: ctx, vars: p.withDefaults(vars)}
	size := max(p.size.Load()+p.size.Load()/8, 4096)
	data, ok := r.writeObject(make([]byte, 0, size), p.roots, nil)
	if !ok || ctx.Err() != nil {
		return nil, ErrGaveUp
	}
	p.size.Store(int64(len(data)))
	return data, nil
}

// run is one execution of a plan.
type run struct {
	ctx  context.Context
	vars map[string]any
}

// withDefaults returns vars with the operation's defaults for variables
// the request did not give, as the executor fills them in.
func (p *Plan) withDefaults(vars map[string]any) map[string]any {
	var out map[string]any
	for _, v := range p.vars {
		if v.Default == nil {
			continue
		}
		if _, ok := vars[v.Name.Name]; ok {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(vars)+1)
			for k, x := range vars {
				out[k] = x
			}
		}
		out[v.Name.Name] = v.Default.Deserialize(nil)
	}
	if out == nil {
		return vars
	}
	return out
}

// argValues returns a field's arguments as graph-gophers reads them: each
// argument the document gives, with the request's variables (a variable
// the request left out is null), and the schema's default for each it
// does not give.
func (n *node) argValues(vars map[string]any) map[string]any {
	if len(n.args) == 0 {
		return nil
	}
	m := make(map[string]any, len(n.args))
	for _, a := range n.args {
		switch {
		case a.value != nil:
			m[a.name] = a.value.Deserialize(vars)
		case a.def != nil:
			m[a.name] = a.def.Deserialize(nil)
		}
	}
	return m
}

// writeObject appends the JSON object of sels on obj (nil for Query).
func (r *run) writeObject(b []byte, sels []*node, obj any) ([]byte, bool) {
	b = append(b, '{')
	for i, n := range sels {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, n.prefix...)
		var ok bool
		if b, ok = r.write(b, n, obj); !ok {
			return nil, false
		}
	}
	return append(b, '}'), true
}

// write appends the value of n on obj.
func (r *run) write(b []byte, n *node, obj any) ([]byte, bool) {
	f := n.f
	switch {
	case n.typename != "":
		return appendString(b, n.typename), true
	case f.enum != nil:
		name := f.enum(obj)
		if !n.enum[name] {
			return nil, false
		}
		return appendString(b, name), true
	}
	switch f.kind {
	case leafField:
		return f.leaf(b, obj)
	case objectField:
		var c any
		if f.resolve != nil {
			bad := false
			v, err := f.resolve(context.WithValue(r.ctx, selectionKey{}, n), obj, Args{vals: n.argValues(r.vars), bad: &bad})
			if err != nil || bad {
				return nil, false
			}
			c = v
		} else {
			c = f.object(obj)
		}
		if c == nil {
			if n.nonNull {
				return nil, false
			}
			return append(b, "null"...), true
		}
		return r.writeObject(b, n.children, c)
	default:
		b = append(b, '[')
		first, ok := true, true
		complete := f.list(obj, func(item any) bool {
			if !first {
				b = append(b, ',')
			}
			first = false
			b, ok = r.writeObject(b, n.children, item)
			return ok
		})
		if !complete || !ok {
			return nil, false
		}
		return append(b, ']'), true
	}
}

// selectionKey holds, in the context of a field's resolve, the node it
// resolves.
type selectionKey struct{}

// SelectedFieldNames returns the field paths selected under the field a
// plan resolves in ctx, as graph-gophers' SelectedFieldNames gives
// them: dotted schema names, fragments flattened, duplicates and
// __typename left out, in first-seen order. ok false: ctx is not a plan's.
func SelectedFieldNames(ctx context.Context) (names []string, ok bool) {
	n, ok := ctx.Value(selectionKey{}).(*node)
	if !ok {
		return nil, false
	}
	names = []string{}
	seen := map[string]bool{}
	var walk func(prefix string, ns []*node)
	walk = func(prefix string, ns []*node) {
		for _, c := range ns {
			if c.typename != "" {
				continue
			}
			path := c.name
			if prefix != "" {
				path = prefix + "." + c.name
			}
			if !seen[path] {
				seen[path] = true
				names = append(names, path)
			}
			walk(path, c.children)
		}
	}
	walk("", n.children)
	return names, true
}

// Roots returns the names of the plan's root fields, __typename included,
// as graph-gophers' tracer reports them.
func (p *Plan) Roots() []string {
	names := make([]string, len(p.roots))
	for i, n := range p.roots {
		names[i] = n.name
	}
	return names
}

func queryType(s *ast.Schema) *ast.ObjectTypeDefinition {
	q, _ := s.RootOperationTypes["query"].(*ast.ObjectTypeDefinition)
	return q
}

func isNonNull(t ast.Type) bool {
	_, ok := t.(*ast.NonNull)
	return ok
}

// isList reports whether t, non-null or not, is a list type.
func isList(t ast.Type) bool {
	if nn, ok := t.(*ast.NonNull); ok {
		t = nn.OfType
	}
	_, ok := t.(*ast.List)
	return ok
}

// namedType is the name of t without its list and non-null wrappers.
func namedType(t ast.Type) string {
	for {
		switch w := t.(type) {
		case *ast.NonNull:
			t = w.OfType
		case *ast.List:
			t = w.OfType
		case ast.NamedType:
			return w.TypeName()
		default:
			return ""
		}
	}
}
