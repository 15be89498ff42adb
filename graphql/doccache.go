package graphql

import (
	"sync"
	"sync/atomic"

	"github.com/graph-gophers/graphql-go/ast"

	"github.com/kassahq/kassa/graphql/plan"
)

// maxParsedDocuments bounds each generation of parsedDocuments. A shop's
// clients send a few dozen distinct documents (the storefront's, the
// admin's, an app's); the bound only matters against a client sending
// endless new ones, which then costs two generations of memory at most.
const maxParsedDocuments = 512

// maxParsedDocumentBytes is the longest document text kept: longer ones
// are parsed every time, so the cache holds at most
// 2 × maxParsedDocuments × this many bytes of text.
const maxParsedDocumentBytes = 16 << 10

// parsedDocument is what the server knows of a document text apart from
// any request's variables: the executor's parse and whether the names
// and literal values in it passed documentProblems. Its AST is shared by
// every request with that text and must only be read.
type parsedDocument struct {
	def *ast.ExecutableDefinition
	// clean reports that documentProblems found nothing in the document
	// itself, so only the request's variables remain to be checked.
	clean bool
	// costs holds, index aligned with def.Operations, what each
	// operation's cost is known to be: 0 not priced yet, costDependsOnVars,
	// else the cost plus one. An operation is priced when a request first
	// runs it, not all at once: pricing every operation of a document
	// would let one request spend the walk of operations it never runs.
	costs []atomic.Int64
	// plans holds, index aligned with def.Operations, each operation's
	// query plan, compiled when a request first runs it; nil when the
	// plan table does not cover the operation.
	plans []compiledPlan
}

// compiledPlan is an operation's plan, compiled once.
type compiledPlan struct {
	once sync.Once
	p    *plan.Plan
}

// costDependsOnVars marks an operation whose page sizes come from
// variables: it is priced again for every request.
const costDependsOnVars = -1

func newParsedDocument(def *ast.ExecutableDefinition, clean bool) *parsedDocument {
	return &parsedDocument{def: def, clean: clean, costs: make([]atomic.Int64, len(def.Operations)),
		plans: make([]compiledPlan, len(def.Operations))}
}

// plan returns the plan of op, one of the document's operations, compiling
// it on first use; nil when the table does not cover it.
func (p *parsedDocument) plan(op *ast.OperationDefinition, compile func(*ast.ExecutableDefinition, *ast.OperationDefinition) *plan.Plan) *plan.Plan {
	i := p.index(op)
	if i < 0 {
		return nil
	}
	cp := &p.plans[i]
	cp.once.Do(func() { cp.p = compile(p.def, op) })
	return cp.p
}

// index is op's place among the document's operations; -1 when op is not
// one of them.
func (p *parsedDocument) index(op *ast.OperationDefinition) int {
	for i := range p.def.Operations {
		if p.def.Operations[i] == op {
			return i
		}
	}
	return -1
}

// operationCost is operationCost (cost.go) for op, one of the document's
// operations, with the request's variables; a cost that read none of them
// is computed once per document.
func (p *parsedDocument) operationCost(schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any) int {
	i := p.index(op)
	if i < 0 {
		return operationCost(schema, p.def, op, vars) // not ours: priced as it is
	}
	switch known := p.costs[i].Load(); {
	case known > 0:
		return int(known - 1)
	case known == costDependsOnVars:
		return operationCost(schema, p.def, op, vars)
	}
	cost, readVars := priceOperation(schema, p.def, op, vars)
	if readVars {
		p.costs[i].Store(costDependsOnVars)
	} else {
		p.costs[i].Store(int64(cost) + 1)
	}
	return cost
}

// parsedDocuments keeps the parse of the documents clients send again
// and again (every storefront and admin operation is a fixed text with
// variables), so a request parses and checks its document once per text,
// not once per request. Only documents that parsed are kept: a syntax
// error is answered from a fresh parse, with the very error the
// executor gives.
//
// It holds two generations: when the current one is full it becomes the
// previous one and a new one starts; a hit in the previous generation
// moves the entry forward. Documents in use stay, a flood of new ones
// evicts within two rounds, and memory stays bounded without an LRU list.
type parsedDocuments struct {
	mu        sync.Mutex
	cur, prev map[string]*parsedDocument
}

func newParsedDocuments() *parsedDocuments {
	return &parsedDocuments{cur: map[string]*parsedDocument{}}
}

// get returns the parse of text kept earlier, or nil.
func (p *parsedDocuments) get(text string) *parsedDocument {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d, ok := p.cur[text]; ok {
		return d
	}
	d, ok := p.prev[text]
	if !ok {
		return nil
	}
	delete(p.prev, text)
	p.putLocked(text, d)
	return d
}

// put keeps the parse of text, unless the text is too long to keep.
func (p *parsedDocuments) put(text string, d *parsedDocument) {
	if len(text) > maxParsedDocumentBytes {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.putLocked(text, d)
}

func (p *parsedDocuments) putLocked(text string, d *parsedDocument) {
	if len(p.cur) >= maxParsedDocuments {
		p.prev, p.cur = p.cur, make(map[string]*parsedDocument, maxParsedDocuments)
	}
	p.cur[text] = d
}
