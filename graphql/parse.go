package graphql

import (
	_ "unsafe" // go:linkname to the executor's own document parser

	"github.com/graph-gophers/graphql-go/ast"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// parseDocument parses a GraphQL document with the very parser that
// graph-gophers' executor runs (internal/query.Parse). Every decision made
// before execution (the operation type of a GET, the cost of a document,
// the characters in its strings) reads this parse, so no document can look
// like one thing to Kassa and another to the executor: a second lexer let
// a mutation pass for a query on GET (issue 7). ADR 0005 records why a
// linkname and how an upgrade of graph-gophers is caught
// (TestParseDocumentMatchesExecutor).
//
//go:linkname parseDocument github.com/graph-gophers/graphql-go/internal/query.Parse
func parseDocument(queryString string) (*ast.ExecutableDefinition, *gqlerrors.QueryError)
