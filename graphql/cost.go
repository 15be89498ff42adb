package graphql

import (
	"math"
	"reflect"
	"strconv"
	"text/scanner"

	"github.com/graph-gophers/graphql-go/ast"

	"github.com/kassahq/kassa/core/kit/page"
)

// maxCost saturates cost arithmetic: nested page sizes and fragments
// spread many times multiply fast, and an overflow must not wrap to a
// small number.
const maxCost = math.MaxInt32

// operationCost is the static cost of op, computed from the document
// before it runs (issue 7: 285 aliases of products(first: 100) in each
// of 10 batched documents took 28 s and answered 38 MB):
//
//   - every field costs 1, each alias on its own;
//   - a field that takes a page size (a `first` or `last` argument)
//     multiplies the cost of its selection by that size: the value given
//     (a literal or a variable), else the default page size, at most the
//     largest page (core/kit/page);
//   - fragments and inline fragments count as if written out; every type
//     branch counts, so the cost is an upper bound.
//
// Lists without a page size (a product's variants) count once: their
// length is bounded by the catalog limits, not by the caller. Fragment
// costs are computed once each, and a fragment cycle (which validation
// refuses later) counts 0, so the walk is linear in the document.
func operationCost(schema *ast.Schema, def *ast.ExecutableDefinition, op *ast.OperationDefinition, vars map[string]any) int {
	cost, _ := priceOperation(schema, def, op, vars)
	return cost
}

// priceOperation is operationCost, also reporting whether the cost read
// a variable: when it did not, it is the same for every request of the
// document and parsedDocument keeps it.
func priceOperation(schema *ast.Schema, def *ast.ExecutableDefinition, op *ast.OperationDefinition, vars map[string]any) (cost int, readVars bool) {
	w := &costWalker{schema: schema, def: def, op: op, vars: vars}
	cost = w.selections(op.Selections, rootType(schema, op.Type))
	return cost, w.readVars
}

type costWalker struct {
	schema *ast.Schema
	def    *ast.ExecutableDefinition
	op     *ast.OperationDefinition
	vars   map[string]any
	// frags memoizes fragment costs; visiting marks a fragment being
	// walked, so a cycle ends there. Made at the first spread.
	frags map[string]int
	// readVars records that a page size came from a variable.
	readVars bool
}

const visiting = -1

func (w *costWalker) selections(set ast.SelectionSet, parent ast.NamedType) int {
	total := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			total = addCost(total, w.field(sel, parent))
		case *ast.InlineFragment:
			t := parent
			if sel.On.Name != "" {
				t = w.schema.Types[sel.On.Name]
			}
			total = addCost(total, w.selections(sel.Selections, t))
		case *ast.FragmentSpread:
			total = addCost(total, w.fragment(sel.Name.Name))
		}
	}
	return total
}

func (w *costWalker) fragment(name string) int {
	if c, ok := w.frags[name]; ok {
		if c == visiting {
			return 0
		}
		return c
	}
	f := w.def.Fragments.Get(name)
	if f == nil {
		return 0 // validation answers the unknown fragment
	}
	if w.frags == nil {
		w.frags = map[string]int{}
	}
	w.frags[name] = visiting
	c := w.selections(f.Selections, w.schema.Types[f.On.Name])
	w.frags[name] = c
	return c
}

// fieldWeights are the costs of fields that do far more work than a
// read of rows: aggregates over a range of a year, and reports that call
// a gateway. A document can hold a few of them, not hundreds. A bounded
// count of orders reads up to 10,001 index entries in at most 100 ms.
// cartCreate is the one write anyone may repeat that leaves a row for
// days (a guest cart lives 10): at 100 a client address makes at most 50
// carts a second, not 2,500, and a shopper's one cart a visit costs what
// a page of the grid does.
var fieldWeights = map[typeField]int{
	{"Query", "ordersCount"}:           50,
	{"Query", "paymentAnalytics"}:      100,
	{"Query", "paymentReconciliation"}: 100,
	{"Query", "salesSummary"}:          100,
	{"Mutation", "cartCreate"}:         100,
}

// typeField names a field of a type; as a map key it is looked up
// without building a "Type.field" string for every field priced.
type typeField struct{ typ, field string }

func (w *costWalker) field(f *ast.Field, parent ast.NamedType) int {
	def := lookupField(w.schema, parent, f.Name.Name)
	if def == nil {
		return addCost(1, w.selections(f.SelectionSet, nil))
	}
	self := 1
	if parent != nil {
		if n, ok := fieldWeights[typeField{parent.TypeName(), f.Name.Name}]; ok {
			self = n
		}
	}
	under := w.selections(f.SelectionSet, unwrapNamed(def.Type))
	return addCost(self, mulCost(w.pageSize(f, def), under))
}

// pageSize is the number of items a field may return for each item of
// its parent, as far as its arguments tell: the larger of first and last
// for a paged field, the number of ids asked for a field taking a list
// of ids (Query.nodes: each id is a read of its own), 1 for any other.
func (w *costWalker) pageSize(f *ast.Field, def *ast.FieldDefinition) int {
	if d := def.Arguments.Get("ids"); d != nil {
		if _, list := unwrapNonNull(d.Type).(*ast.List); list {
			return w.idCount(f)
		}
	}
	size, paged := 0, false
	for _, name := range [...]string{"first", "last"} {
		if def.Arguments.Get(name) == nil {
			continue
		}
		paged = true
		n := page.DefaultFirst
		if arg, ok := f.Arguments.Get(name); ok {
			if v, ok := w.intValue(arg); ok {
				n = v
			}
		}
		size = max(size, min(max(n, 0), page.MaxFirst))
	}
	if !paged {
		return 1
	}
	return size
}

// idCount is the length of the ids argument of f, given as a list
// literal or a variable; the most the resolver takes (page.MaxFirst)
// when it cannot be told, and a single id given for a list counts one.
func (w *costWalker) idCount(f *ast.Field) int {
	arg, ok := f.Arguments.Get("ids")
	if !ok {
		return page.MaxFirst
	}
	if variable, ok := arg.(*ast.Variable); ok {
		w.readVars = true
		val, ok := w.vars[variable.Name]
		if !ok {
			if decl := w.op.Vars.Get(variable.Name); decl != nil && decl.Default != nil {
				arg = decl.Default
			} else {
				return page.MaxFirst
			}
		} else {
			switch v := val.(type) {
			case []any:
				return min(len(v), maxCost)
			case nil:
				return 0
			default:
				return 1
			}
		}
	}
	switch v := arg.(type) {
	case *ast.ListValue:
		return min(len(v.Values), maxCost)
	case *ast.NullValue:
		return 0
	case *ast.Variable:
		return page.MaxFirst // a variable's default naming a variable: invalid
	}
	return 1
}

// unwrapNonNull strips a non-null wrapper from a schema type.
func unwrapNonNull(t ast.Type) ast.Type {
	if nn, ok := t.(*ast.NonNull); ok {
		return nn.OfType
	}
	return t
}

// intValue reads an Int argument given as a literal or a variable (with
// the operation's default); false when it is absent, null or not a
// number, where the resolver uses its default or refuses the request.
func (w *costWalker) intValue(v ast.Value) (int, bool) {
	if variable, ok := v.(*ast.Variable); ok {
		w.readVars = true
		if val, ok := w.vars[variable.Name]; ok {
			return goInt(val)
		}
		if decl := w.op.Vars.Get(variable.Name); decl != nil && decl.Default != nil {
			return literalInt(decl.Default)
		}
		return 0, false
	}
	return literalInt(v)
}

// literalInt reads an Int literal. ast.PrimitiveValue.Deserialize panics
// on integers past int64, which validation has not refused yet.
func literalInt(v ast.Value) (int, bool) {
	lit, ok := v.(*ast.PrimitiveValue)
	if !ok || lit.Type != scanner.Int {
		return 0, false
	}
	n, err := strconv.ParseInt(lit.Text, 10, 64)
	if err != nil {
		return 0, false // out of range: validation refuses it
	}
	return goInt(n)
}

func goInt(v any) (int, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(max(min(rv.Int(), maxCost), -1)), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int(min(rv.Uint(), maxCost)), true
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if f != f { // NaN
			return 0, false
		}
		return int(max(min(f, maxCost), -1)), true
	}
	return 0, false
}

func addCost(a, b int) int { return min(a+b, maxCost) }

func mulCost(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > maxCost/b {
		return maxCost
	}
	return a * b
}

// rootType is the schema's type for an operation type, nil when the
// schema has none (the executor answers that).
func rootType(schema *ast.Schema, t ast.OperationType) ast.NamedType {
	switch t {
	case "QUERY":
		return schema.RootOperationTypes["query"]
	case "MUTATION":
		return schema.RootOperationTypes["mutation"]
	case "SUBSCRIPTION":
		return schema.RootOperationTypes["subscription"]
	}
	return nil
}

// lookupField finds a field of parent, the introspection fields
// included, as the validator does; nil when there is none.
func lookupField(schema *ast.Schema, parent ast.NamedType, name string) *ast.FieldDefinition {
	if parent == nil {
		return nil
	}
	switch name {
	case "__typename":
		return &ast.FieldDefinition{Name: name, Type: schema.Types["String"]}
	case "__schema":
		return &ast.FieldDefinition{Name: name, Type: schema.Types["__Schema"]}
	case "__type":
		return &ast.FieldDefinition{Name: name, Type: schema.Types["__Type"],
			Arguments: ast.ArgumentsDefinition{{Name: ast.Ident{Name: "name"}, Type: &ast.NonNull{OfType: schema.Types["String"]}}}}
	}
	switch t := parent.(type) {
	case *ast.ObjectTypeDefinition:
		return t.Fields.Get(name)
	case *ast.InterfaceTypeDefinition:
		return t.Fields.Get(name)
	}
	return nil
}

// unwrapNamed strips lists and non-nulls from a schema type.
func unwrapNamed(t ast.Type) ast.NamedType {
	for {
		switch tt := t.(type) {
		case *ast.List:
			t = tt.OfType
		case *ast.NonNull:
			t = tt.OfType
		case ast.NamedType:
			return tt
		default:
			return nil
		}
	}
}
