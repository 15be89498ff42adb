package graphql

import "errors"

// errNoOperation means the document names no operation that could run.
var errNoOperation = errors.New("no operation to run")

// operationKind returns the type ("query", "mutation", "subscription") of
// the operation a request would run: the one named operationName, or the
// only one in the document. It reads the document with a small lexer
// (comments, strings and block strings skipped, nesting counted), so a
// mutation cannot pass for a query behind a comment or as the second
// operation of a document. Documents it cannot place get an error; the
// caller refuses them where the type matters (GET).
func operationKind(doc, operationName string) (string, error) {
	type op struct{ kind, name string }
	var (
		ops   []op
		depth int
		// header is "operation" or "fragment" between a definition's
		// keyword and its selection set.
		header string
		// named is true once the operation in the header has its name.
		named bool
	)
	i, n := 0, len(doc)
	for i < n {
		c := doc[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == 0xEF || c == 0xBB || c == 0xBF:
			i++
		case c == '#':
			for i < n && doc[i] != '\n' && doc[i] != '\r' {
				i++
			}
		case c == '"':
			if i+2 < n && doc[i+1] == '"' && doc[i+2] == '"' {
				i += 3
				for i < n && !(doc[i] == '"' && i+2 < n && doc[i+1] == '"' && doc[i+2] == '"') {
					if doc[i] == '\\' && i+3 < n && doc[i+1] == '"' && doc[i+2] == '"' && doc[i+3] == '"' {
						i += 4
						continue
					}
					i++
				}
				i += 3
				continue
			}
			i++
			for i < n && doc[i] != '"' && doc[i] != '\n' {
				if doc[i] == '\\' {
					i++
				}
				i++
			}
			i++
		case c == '{' || c == '(' || c == '[':
			if depth == 0 && c == '{' {
				if header == "" {
					// A shorthand query: "{ ... }".
					ops = append(ops, op{kind: "query"})
				}
				header = ""
			}
			depth++
			i++
		case c == '}' || c == ')' || c == ']':
			depth--
			if depth < 0 {
				return "", errNoOperation
			}
			i++
		case isNameStart(c):
			j := i + 1
			for j < n && isNameContinue(doc[j]) {
				j++
			}
			word := doc[i:j]
			i = j
			if depth != 0 {
				continue
			}
			switch {
			case header == "operation" && !named && (i-len(word) == 0 || doc[i-len(word)-1] != '@'):
				// The operation's name, right after its keyword.
				ops[len(ops)-1].name = word
				named = true
			case header != "":
				// Directive names, type conditions, fragment names.
			case word == "query" || word == "mutation" || word == "subscription":
				ops = append(ops, op{kind: word})
				header, named = "operation", false
			case word == "fragment":
				header = "fragment"
			default:
				return "", errNoOperation
			}
		default:
			// Punctuators and values ($, @, :, =, !, numbers...).
			if depth == 0 && c != '$' && c != '@' && c != ':' && c != '=' && c != '!' && c != '.' {
				if !(c >= '0' && c <= '9') && c != '-' {
					return "", errNoOperation
				}
			}
			i++
		}
	}
	if depth != 0 {
		return "", errNoOperation
	}
	switch {
	case operationName != "":
		for _, o := range ops {
			if o.name == operationName {
				return o.kind, nil
			}
		}
	case len(ops) == 1:
		return ops[0].kind, nil
	}
	return "", errNoOperation
}

func isNameStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isNameContinue(c byte) bool { return isNameStart(c) || (c >= '0' && c <= '9') }
