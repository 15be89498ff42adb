package main

import (
	"strings"
	"unicode"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// Text in the PDF core fonts (Helvetica) is limited to the Windows-1252
// code page, a superset of Latin-1. toWinAnsi encodes UTF-8 text for them:
//
//   - characters of Windows-1252 are kept (é, ß, €, „ ");
//   - other letters lose their diacritics (ő -> o, ș -> s); letters that
//     do not decompose (Ł) become '?';
//   - a few typographic characters map to close equivalents;
//   - everything else (Chinese, Cyrillic, Arabic, emoji) becomes '?'.
//
// It reports whether anything was replaced, so the caller can keep the
// original text in the PDF metadata and warn. Shops that sell to buyers
// writing in other scripts configure a Unicode TrueType font instead.
func toWinAnsi(s string) (string, bool) {
	var b strings.Builder
	lossy := false
	for _, r := range s {
		if c, ok := charmap.Windows1252.EncodeRune(r); ok {
			b.WriteByte(c)
			continue
		}
		if alt, ok := typographic[r]; ok {
			b.WriteString(alt)
			continue
		}
		if base, ok := stripMarks(r); ok {
			b.WriteByte(base)
			continue
		}
		if unicode.IsSpace(r) {
			b.WriteByte(' ')
			continue
		}
		b.WriteByte('?')
		lossy = true
	}
	return b.String(), lossy
}

// typographic maps characters outside Windows-1252 to ASCII look-alikes.
var typographic = map[rune]string{
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2212': "-", // hyphens, minus
	'\u2032': "'", '\u2033': "\"", '\u00a0': " ", '\u202f': " ", '\u2009': " ",
	'\u3000': " ", // ideographic space
}

// stripMarks decomposes r (NFD) and keeps its base letter when that base
// is representable and everything else is a combining mark: ș -> s.
func stripMarks(r rune) (byte, bool) {
	d := norm.NFD.String(string(r))
	var base rune = -1
	for _, c := range d {
		if unicode.Is(unicode.Mn, c) {
			continue
		}
		if base != -1 {
			return 0, false
		}
		base = c
	}
	if base == -1 {
		return 0, false
	}
	c, ok := charmap.Windows1252.EncodeRune(base)
	return c, ok
}
