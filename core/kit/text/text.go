// Package text decides whether text typed by a person may be stored:
// valid UTF-8 without control characters. A NUL byte, for one, makes
// PostgreSQL refuse the whole statement, and other control characters
// corrupt logs, CSV exports and e-mail headers (issue 7). The explicit
// bidirectional embeddings, overrides and isolates (U+202A to U+202E,
// U+2066 to U+2069) are refused in single-line text: a buyer's name
// holding U+202E reverses what staff read after it ("Trojan Source"),
// and a keyboard never types them. So are the line and paragraph
// separators (U+2028, U+2029), which are line breaks by Unicode's
// definition and JavaScript's. Noncharacters (U+FFFE, U+FFFF, U+FDD0 to
// U+FDEF and the last two code points of every plane) are refused
// everywhere: Unicode keeps them for a program's internal use, never
// for text a person typed.
//
//	if p, bad := text.Check(s, text.SingleLine); bad {
//		return fmt.Errorf("name contains %s", p)
//	}
package text

import (
	"fmt"
	"strings"
	"unicode"
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
	// Bidi is set when Rune is a bidirectional formatting character.
	Bidi bool
	// Offset is the byte offset of the character in the text.
	Offset int
}

// String names the problem for a message, e.g. "a control character
// (U+0000)".
func (p Problem) String() string {
	if p.Invalid {
		return "bytes that are not valid UTF-8"
	}
	switch {
	case p.Bidi:
		return fmt.Sprintf("a bidirectional control character (%U)", p.Rune)
	case p.Rune == lineSeparator || p.Rune == paragraphSeparator:
		return fmt.Sprintf("a line break (%U)", p.Rune)
	case IsNoncharacter(p.Rune):
		return fmt.Sprintf("a noncharacter (%U)", p.Rune)
	}
	return fmt.Sprintf("a control character (%U)", p.Rune)
}

// Check returns the first character of s that may not be stored, and
// whether there is one. Refused everywhere: C0 controls (U+0000 to
// U+001F), DEL (U+007F), C1 controls (U+0080 to U+009F) and bytes that are
// not UTF-8, noncharacters (IsNoncharacter); TAB, LF, CR and the line and
// paragraph separators are allowed in MultiLine text only, and so are
// the bidirectional controls of IsBidiControl: a description pasted
// from a word processor in Arabic or Hebrew carries them, and a text of
// several lines is shown as a block of its own, where they cannot reorder
// anything around it.
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
		if r >= 0x80 && r <= 0x9f || IsNoncharacter(r) {
			return Problem{Rune: r, Offset: i}, true
		}
		if lines == SingleLine {
			if IsBidiControl(r) {
				return Problem{Rune: r, Offset: i, Bidi: true}, true
			}
			if r == lineSeparator || r == paragraphSeparator {
				return Problem{Rune: r, Offset: i}, true
			}
		}
		i += size
	}
	return Problem{}, false
}

// The separators Unicode defines as line breaks beside LF and CR.
const (
	lineSeparator      = 0x2028
	paragraphSeparator = 0x2029
)

// IsNoncharacter reports whether r is one of Unicode's 66 noncharacters:
// U+FDD0 to U+FDEF, and U+nFFFE and U+nFFFF in every plane n.
func IsNoncharacter(r rune) bool {
	return (r >= 0xfdd0 && r <= 0xfdef) || r&0xfffe == 0xfffe
}

// IsBidiControl reports whether r opens or closes a bidirectional
// embedding, override or isolate: LRE, RLE, PDF, LRO, RLO (U+202A to
// U+202E) and LRI, RLI, FSI, PDI (U+2066 to U+2069). The marks LRM, RLM
// and ALM are not among them: they change the direction of no more than
// the characters beside them.
func IsBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// FullName writes a person's name as they write it: "First Last", or the
// family name first without a space when both parts are written in Han
// characters ("王小明"), as Chinese names are. Either part may be empty.
func FullName(first, last string) string {
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	switch {
	case first == "" || last == "":
		return first + last
	case isHan(first) && isHan(last):
		return last + first
	}
	return first + " " + last
}

// isHan reports whether s is written in Han characters only.
func isHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return s != ""
}
