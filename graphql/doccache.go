package graphql

import (
	"sync"

	"github.com/graph-gophers/graphql-go/ast"
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
