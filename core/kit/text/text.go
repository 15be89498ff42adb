// Package text decides whether text typed by a person may be stored:
// valid UTF-8 without control characters. A NUL byte, for one, makes
// PostgreSQL refuse the whole statement, and other control characters
// corrupt logs, CSV exports and e-mail headers (issue 7).
//
//	if p, bad := text.Check(s, text.SingleLine); bad {
//		return fmt.Errorf("name contains %s", p)
//	}
package text

import (
	"fmt"
	"unicode/utf8"
)

// Lines says whether a text may span several lines.
type Lines bool

// The two kinds of text.
const (
	// SingleLine refuses TAB, LF and CR with the other control
	// characters: names, e-mail addresses, handles, SKUs, search queries.
	SingleLine Lines = false
	// MultiLine allows TAB, LF and CR: descriptions and notes.
	MultiLine Lines = true
)

// Problem is the first character of a text that may not be stored.
type Problem struct {
	// Rune is the refused character; utf8.RuneError when Invalid.
	Rune rune
	// Invalid is set when the bytes at Offset are not UTF-8.
	Invalid bool
	// Offset is the byte offset of the character in the text.
	Offset int
}

// String names the problem for a message, e.g. "a control character
// (U+0000)".
func (p Problem) String() string {
	if p.Invalid {
		return "bytes that are not valid UTF-8"
	}
	return fmt.Sprintf("a control character (%U)", p.Rune)
}

// Check returns the first character of s that may not be stored, and
// whether there is one. Refused everywhere: C0 controls (U+0000 to
// U+001F), DEL (U+007F), C1 controls (U+0080 to U+009F) and bytes that are
// not UTF-8; TAB, LF and CR are allowed in MultiLine text only.
func Check(s string, lines Lines) (Problem, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++ // printable ASCII, the common case
			continue
		}
		if c < utf8.RuneSelf {
			if lines == MultiLine && (c == '\t' || c == '\n' || c == '\r') {
				i++
				continue
			}
			return Problem{Rune: rune(c), Offset: i}, true
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return Problem{Rune: utf8.RuneError, Invalid: true, Offset: i}, true
		}
		if r >= 0x80 && r <= 0x9f {
			return Problem{Rune: r, Offset: i}, true
		}
		i += size
	}
	return Problem{}, false
}
