package plan

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	_ "unsafe" // go:linkname to the executor's document parser, as package graphql does

	gql "github.com/graph-gophers/graphql-go"
	"github.com/graph-gophers/graphql-go/ast"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

//go:linkname parseDocument github.com/graph-gophers/graphql-go/internal/query.Parse
func parseDocument(queryString string) (*ast.ExecutableDefinition, *gqlerrors.QueryError)

func parseSchema(sdl string) (*ast.Schema, error) {
	s, err := gql.ParseSchema(sdl, nil)
	if err != nil {
		return nil, err
	}
	return s.AST(), nil
}

// parse parses q with graph-gophers' own parser, as the server does.
func parse(t *testing.T, q string) *ast.ExecutableDefinition {
	t.Helper()
	def, err := parseDocument(q)
	if err != nil {
		t.Fatalf("parse %q: %v", q, err)
	}
	return def
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `"quoted" \ back`, "<b>&amp;</b>", "tab\tline\nret\rbell\a\b\f\x00\x1f\x7f",
		"茶 – 🍵", "\u2028\u2029", "bad \xff\xfe utf8 \xe2\x82", "\xed\xa0\x80 surrogate",
	} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, encoding/json %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("<a href=\"x\">\u2028\xff</a>")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, encoding/json %s", s, got, want)
		}
	})
}

// A small world: a shop with items, each with tags and a maybe-missing
// price, and a kind from an enum.
type shopT struct{ items []*itemT }

type itemT struct {
	name  string
	kind  string
	tags  []string
	price *priceT
}

type priceT struct{ amount string }

func testTable(rootErr error, items ...*itemT) *Table {
	t := NewTable()
	Root(t, "shop", func(ctx context.Context, a Args) (*shopT, error) {
		if rootErr != nil {
			return nil, rootErr
		}
		n := a.Int32("first")
		if all := a.Bool("all"); all != nil && *all {
			n = nil
		}
		s := &shopT{items: items}
		if n != nil && int(*n) < len(items) {
			s.items = items[:*n]
		}
		return s, nil
	})
	Object(t, "Shop", List("items", func(s *shopT) []*itemT { return s.items }))
	Object(t, "Item",
		String("name", func(i *itemT) string { return i.name }),
		Enum("kind", func(i *itemT) string { return i.kind }),
		Strings("tags", func(i *itemT) []string { return i.tags }),
		Obj("price", func(i *itemT) *priceT { return i.price }),
		Obj("mustPrice", func(i *itemT) *priceT { return i.price }),
	)
	Object(t, "Price", String("amount", func(p *priceT) string { return p.amount }))
	return t
}

const testSDL = `schema { query: Query }
type Query { shop(first: Int = 5, all: Boolean): Shop! other: Int node: Node }
interface Node { id: ID! }
type Shop { items: [Item!]! }
enum Kind { TEA CUP }
type Item { name: String! kind: Kind! tags: [String!]! price: Price mustPrice: Price! }
type Price { amount: String! }`

func testSchema(t *testing.T) *ast.Schema {
	t.Helper()
	s, err := parseSchema(testSDL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func execute(t *testing.T, table *Table, s *ast.Schema, q string, vars map[string]any) (string, bool, bool) {
	t.Helper()
	def := parse(t, q)
	p := Compile(table, s, def, def.Operations[0], 2000)
	if p == nil {
		return "", false, false
	}
	data, err := p.Execute(context.Background(), vars)
	return string(data), true, err == nil
}

func TestPlans(t *testing.T) {
	s := testSchema(t)
	items := []*itemT{
		{name: "Oolong <b>", kind: "TEA", tags: []string{"a&b"}, price: &priceT{"1.00"}},
		{name: "Mug", kind: "CUP"},
	}
	table := testTable(nil, items...)
	if err := table.Check(s); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, q  string
		vars     map[string]any
		compiled bool
		ran      bool
		want     string
	}{
		{"fields, null, nil list", `{ shop { items { name kind tags price { amount } } } }`, nil, true, true,
			`{"shop":{"items":[{"name":"Oolong \u003cb\u003e","kind":"TEA","tags":["a\u0026b"],"price":{"amount":"1.00"}},{"name":"Mug","kind":"CUP","tags":[],"price":null}]}}`},
		{"schema default", `{ shop { items { name } } }`, nil, true, true, `{"shop":{"items":[{"name":"Oolong \u003cb\u003e"},{"name":"Mug"}]}}`},
		{"argument from a variable", `query($n: Int) { shop(first: $n) { items { name } } }`, map[string]any{"n": float64(1)}, true, true,
			`{"shop":{"items":[{"name":"Oolong \u003cb\u003e"}]}}`},
		{"operation default", `query($n: Int = 1) { shop(first: $n) { items { name } } }`, nil, true, true,
			`{"shop":{"items":[{"name":"Oolong \u003cb\u003e"}]}}`},
		{"a variable left out is null", `query($n: Int) { shop(first: $n) { items { name } } }`, nil, true, true,
			`{"shop":{"items":[{"name":"Oolong \u003cb\u003e"},{"name":"Mug"}]}}`},
		{"a Boolean variable left out", `query($all: Boolean) { shop(first: 1, all: $all) { items { name } } }`, nil, true, true, `{"shop":{"items":[{"name":"Oolong \u003cb\u003e"}]}}`},
		{"a wrong variable type", `query($n: Int) { shop(first: $n) { items { name } } }`, map[string]any{"n": "one"}, true, false, ""},
		{"a Boolean default and a given one", `{ shop(first: 1, all: true) { items { name } } }`, nil, true, true,
			`{"shop":{"items":[{"name":"Oolong \u003cb\u003e"},{"name":"Mug"}]}}`},
		{"null for a Boolean", `{ shop(first: 1, all: null) { items { name } } }`, nil, true, true, `{"shop":{"items":[{"name":"Oolong \u003cb\u003e"}]}}`},
		{"a fraction", `query($n: Int) { shop(first: $n) { items { name } } }`, map[string]any{"n": 1.5}, true, false, ""},
		{"aliases, fragments, merge, typename", `{ a: shop(first: 1) { __typename items { ...F n: name } items { kind } } }
fragment F on Item { name ... on Item { tags } }`, nil, true, true,
			`{"a":{"__typename":"Shop","items":[{"name":"Oolong \u003cb\u003e","tags":["a\u0026b"],"n":"Oolong \u003cb\u003e","kind":"TEA"}]}}`},
		{"null for a non-null field gives up", `{ shop { items { mustPrice { amount } } } }`, nil, true, false, ""},
		{"a directive", `{ shop { items @include(if: true) { name } } }`, nil, false, false, ""},
		{"an operation directive", `query @foo { shop { items { name } } }`, nil, false, false, ""},
		{"introspection", `{ __schema { types { name } } }`, nil, false, false, ""},
		{"a root not in the table", `{ other }`, nil, false, false, ""},
		{"an interface", `{ node { id } }`, nil, false, false, ""},
		{"a field not in the table", `{ shop { items { name colour } } }`, nil, false, false, ""},
		{"a fragment on another type", `{ shop { items { ... on Price { amount } } } }`, nil, false, false, ""},
		{"a mutation", `mutation { shop { items { name } } }`, nil, false, false, ""},
		{"a leaf with a selection", `{ shop { items { name { x } } } }`, nil, false, false, ""},
		{"an object without one", `{ shop { items } }`, nil, false, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, compiled, ran := execute(t, table, s, c.q, c.vars)
			if compiled != c.compiled || ran != c.ran || got != c.want {
				t.Fatalf("compiled %v ran %v: %s; want compiled %v ran %v: %s", compiled, ran, got, c.compiled, c.ran, c.want)
			}
		})
	}

	t.Run("an enum name the schema lacks gives up", func(t *testing.T) {
		if _, _, ran := execute(t, testTable(nil, &itemT{name: "x", kind: "SPOON"}), s, `{ shop { items { kind } } }`, nil); ran {
			t.Fatal("ran")
		}
	})
	t.Run("a resolver error gives up", func(t *testing.T) {
		if _, _, ran := execute(t, testTable(errors.New("boom")), s, `{ shop { items { name } } }`, nil); ran {
			t.Fatal("ran")
		}
	})
	t.Run("a nil item gives up", func(t *testing.T) {
		if _, _, ran := execute(t, testTable(nil, nil), s, `{ shop { items { name } } }`, nil); ran {
			t.Fatal("ran")
		}
	})
	t.Run("a panic gives up and says so", func(t *testing.T) {
		tb := testTable(nil, &itemT{name: "x"})
		Object(tb, "Item", String("name", func(i *itemT) string { return i.price.amount }))
		def := parse(t, `{ shop { items { name } } }`)
		_, err := Compile(tb, s, def, def.Operations[0], 2000).Execute(context.Background(), nil)
		var pe *PanicError
		if !errors.As(err, &pe) || len(pe.Stack) == 0 {
			t.Fatalf("Execute: %v", err)
		}
	})
	t.Run("too many selections", func(t *testing.T) {
		q := "{ shop { items { " + strings.Repeat("name ", 30) + "} } }"
		def := parse(t, q)
		if Compile(table, s, def, def.Operations[0], 40) != nil {
			t.Fatal("compiled a document near the executor's bound")
		}
	})
	t.Run("selected field names", func(t *testing.T) {
		var names []string
		tb := NewTable()
		Root(tb, "shop", func(ctx context.Context, a Args) (*shopT, error) {
			names, _ = SelectedFieldNames(ctx)
			return &shopT{}, nil
		})
		Object(tb, "Shop", List("items", func(s *shopT) []*itemT { return s.items }))
		Object(tb, "Item", String("name", func(i *itemT) string { return i.name }), Obj("price", func(i *itemT) *priceT { return i.price }))
		Object(tb, "Price", String("amount", func(p *priceT) string { return p.amount }))
		if _, _, ran := execute(t, tb, s, `{ shop { __typename items { x: name ...P } items { name } } } fragment P on Item { price { amount } }`, nil); !ran {
			t.Fatal("did not run")
		}
		if got := strings.Join(names, " "); got != "items items.name items.price items.price.amount" {
			t.Fatalf("selected %q", got)
		}
		if _, ok := SelectedFieldNames(context.Background()); ok {
			t.Fatal("names outside a plan")
		}
	})
}

func TestCheckRefusesAWrongTable(t *testing.T) {
	s := testSchema(t)
	for name, build := range map[string]func(*Table){
		"unknown type":  func(t *Table) { Object(t, "Nope", String("x", func(*priceT) string { return "" })) },
		"unknown field": func(t *Table) { Object(t, "Price", String("cost", func(*priceT) string { return "" })) },
		"null for a non-null": func(t *Table) {
			Object(t, "Price", NullString("amount", func(*priceT) *string { return nil }))
		},
		"a child not in the table": func(t *Table) {
			Object(t, "Shop", List("items", func(s *shopT) []*itemT { return nil }))
		},
		"an Int written as a String": func(t *Table) {
			Object(t, "Price", Int("amount", func(*priceT) int32 { return 0 }))
		},
		"a list as a single value": func(t *Table) {
			Object(t, "Item", String("tags", func(*itemT) string { return "" }))
		},
		"a field with arguments": func(t *Table) {
			Object(t, "Query", String("shop", func(*shopT) string { return "" }))
		},
	} {
		tb := NewTable()
		build(tb)
		if err := tb.Check(s); err == nil {
			t.Errorf("%s: Check passed", name)
		}
	}
}
