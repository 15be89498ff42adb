package graphql

import (
	"fmt"
	"strings"

	"github.com/graph-gophers/graphql-go/ast"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

// document is what Kassa reads from a request before the executor runs
// it. It comes from the executor's own parse (parseDocument), so the
// operation Kassa judges is the operation that would run.
type document struct {
	query string
	vars  map[string]any
	// tooLong is set when the document is over MaxQueryBytes; it is then
	// not parsed at all.
	tooLong bool
	def     *ast.ExecutableDefinition
	// syntax is the parse error, the very one the executor would answer.
	syntax *gqlerrors.QueryError
	// op is the operation the executor would run; nil when it would run
	// none (no operation, or none by that name).
	op *ast.OperationDefinition
	// cost is the static cost of op (see cost.go).
	cost int
	// parsed is the server's knowledge of the text, shared by every
	// request that sends it; nil when the document did not parse.
	parsed *parsedDocument
	// clean reports that the document itself (its names and literal
	// values) passed documentProblems with names checked as
	// cleanNames says: only the variables remain.
	clean, cleanNames bool
}

// readDocument parses req with the executor's parser and prices the
// operation it would run. The parse of a text seen before comes from
// s.docs, and so does its cost unless the cost reads the variables.
func (s *Server) readDocument(req Request) *document {
	d := &document{query: req.Query, vars: req.Variables}
	if limit := s.opts.Limits.MaxQueryBytes; limit > 0 && len(req.Query) > limit {
		d.tooLong = true
		return d
	}
	pd := s.docs.get(req.Query)
	if pd == nil {
		def, syntax := parseDocument(req.Query)
		if syntax != nil {
			d.syntax = syntax
			return d
		}
		// The variables' own problems are left for each request: a
		// document judged without them is judged on its text alone.
		clean := len(documentProblems(s.schema.AST(), &document{def: def}, s.opts.Production)) == 0
		pd = newParsedDocument(def, clean)
		s.docs.put(req.Query, pd)
	}
	d.def, d.clean, d.cleanNames, d.parsed = pd.def, pd.clean, s.opts.Production, pd
	d.op = pickOperation(d.def, req.OperationName)
	if d.op != nil {
		d.cost = pd.operationCost(s.schema.AST(), d.op, req.Variables)
	}
	return d
}

// kind is the type of the operation that would run: "query",
// "mutation", "subscription", or "" when none would.
func (d *document) kind() string {
	if d.op == nil {
		return ""
	}
	switch d.op.Type {
	case "QUERY":
		return "query"
	case "MUTATION":
		return "mutation"
	case "SUBSCRIPTION":
		return "subscription"
	}
	return strings.ToLower(string(d.op.Type))
}

// pickOperation chooses the operation exactly as graph-gophers'
// getOperation does (graphql.go): the one named operationName (the first
// of that name), else the only one; nil when it would answer an error.
// TestPickOperationMatchesExecutor holds the two together.
func pickOperation(def *ast.ExecutableDefinition, operationName string) *ast.OperationDefinition {
	if len(def.Operations) == 0 {
		return nil
	}
	if operationName == "" {
		if len(def.Operations) > 1 {
			return nil
		}
		return def.Operations[0]
	}
	return def.Operations.Get(operationName)
}

// refuse answers a document that may not run, before the executor sees
// it: over the length limit, a syntax error, over the cost budget, or a
// problem of documentProblems. nil means the executor may have it.
func (s *Server) refuse(d *document) *Response {
	l := s.opts.Limits
	switch {
	case d.tooLong:
		return &Response{Errors: []*Error{limitError(
			fmt.Sprintf("query length %d exceeds the maximum allowed query length of %d bytes", len(d.query), l.MaxQueryBytes),
			map[string]any{"limit": l.MaxQueryBytes})}}
	case d.syntax != nil:
		return &Response{Errors: []*Error{documentError(d.syntax)}}
	case d.cost > l.MaxCost:
		return &Response{Errors: []*Error{costError(fmt.Sprintf("query cost %d exceeds the budget of %d", d.cost, l.MaxCost), d.cost, l.MaxCost)}}
	}
	if problems := documentProblems(s.schema.AST(), d, s.opts.Production); len(problems) > 0 {
		out := &Response{}
		for _, p := range problems {
			out.Errors = append(out.Errors, documentError(p))
		}
		return out
	}
	return nil
}

// documentError is a validation error of the document itself.
func documentError(qe *gqlerrors.QueryError) *Error {
	e := &Error{Message: qe.Message, Extensions: map[string]any{"code": CodeValidationFailed}}
	for _, l := range qe.Locations {
		e.Locations = append(e.Locations, Location{Line: l.Line, Column: l.Column})
	}
	return e
}

func limitError(msg string, ext map[string]any) *Error {
	ext["code"] = CodeTooComplex
	return &Error{Message: msg, Extensions: ext}
}

func costError(msg string, cost, budget int) *Error {
	return limitError(msg, map[string]any{"cost": cost, "budget": budget})
}
