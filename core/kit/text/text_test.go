package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		lines   Lines
		bad     bool
		r       rune
		invalid bool
		bidi    bool
		offset  int
	}{
		{name: "plain", in: "Oolong tea 250 g", lines: SingleLine},
		{name: "empty", in: "", lines: SingleLine},
		{name: "unicode", in: "Tee – 乌龙茶 🍵 Ü", lines: SingleLine},
		{name: "NUL", in: "a\x00", lines: MultiLine, bad: true, r: 0, offset: 1},
		{name: "NUL first", in: "\x00abc", lines: SingleLine, bad: true, r: 0, offset: 0},
		{name: "ESC", in: "red\x1b[31m", lines: MultiLine, bad: true, r: 0x1b, offset: 3},
		{name: "DEL", in: "a\x7f", lines: MultiLine, bad: true, r: 0x7f, offset: 1},
		{name: "C1 NEL", in: "x\u0085y", lines: MultiLine, bad: true, r: 0x85, offset: 1},
		{name: "C1 last", in: "\u009f", lines: SingleLine, bad: true, r: 0x9f},
		{name: "U+00A0 is text", in: "a\u00a0b", lines: SingleLine},
		{name: "invalid UTF-8", in: "ab\xff", lines: MultiLine, bad: true, r: utf8.RuneError, invalid: true, offset: 2},
		{name: "truncated UTF-8", in: "\xe4\xb9", lines: MultiLine, bad: true, r: utf8.RuneError, invalid: true},
		{name: "encoded U+FFFD is text", in: "a\uFFFDb", lines: SingleLine},
		{name: "LF in a single line", in: "a\nb", lines: SingleLine, bad: true, r: '\n', offset: 1},
		{name: "TAB in a single line", in: "\tb", lines: SingleLine, bad: true, r: '\t'},
		{name: "CR in a single line", in: "a\r", lines: SingleLine, bad: true, r: '\r', offset: 1},
		{name: "lines", in: "one\r\ntwo\n\tthree", lines: MultiLine},
		{name: "RLO in a name", in: "Bob\u202egnp.exe", lines: SingleLine, bad: true, r: 0x202e, bidi: true, offset: 3},
		{name: "LRE first", in: "\u202aabc", lines: SingleLine, bad: true, r: 0x202a, bidi: true},
		{name: "PDI", in: "a\u2069", lines: SingleLine, bad: true, r: 0x2069, bidi: true, offset: 1},
		{name: "RLE in a description", in: "\u202bשלום\u202c", lines: MultiLine},
		{name: "RLM is a mark", in: "שלום\u200f 1", lines: SingleLine},
		{name: "U+2065 is not a control", in: "a\u2065", lines: SingleLine},
		{name: "Hebrew and Arabic", in: "שלום مرحبا", lines: SingleLine},
		{name: "LINE SEPARATOR in a single line", in: "ab\u2028cd", lines: SingleLine, bad: true, r: 0x2028, offset: 2},
		{name: "PARAGRAPH SEPARATOR in a single line", in: "\u2029", lines: SingleLine, bad: true, r: 0x2029},
		{name: "separators in lines", in: "one\u2028two\u2029three", lines: MultiLine},
		{name: "U+FFFF", in: "a\uffff", lines: MultiLine, bad: true, r: 0xffff, offset: 1},
		{name: "U+FFFE", in: "\ufffe", lines: SingleLine, bad: true, r: 0xfffe},
		{name: "U+FDD0", in: "\ufdd0x", lines: MultiLine, bad: true, r: 0xfdd0},
		{name: "U+FDEF", in: "\ufdef", lines: MultiLine, bad: true, r: 0xfdef},
		{name: "U+10FFFF", in: "x\U0010ffff", lines: MultiLine, bad: true, r: 0x10ffff, offset: 1},
		{name: "U+1FFFE", in: "\U0001fffe", lines: MultiLine, bad: true, r: 0x1fffe},
		{name: "U+FDCF and U+FDF0 are characters", in: "\ufdcf\ufdf0", lines: SingleLine},
		{name: "U+1FFFD is a character", in: "\U0001fffd", lines: SingleLine},
		{name: "zero-width joiner in an emoji", in: "👩\u200d💻", lines: SingleLine},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, bad := Check(c.in, c.lines)
			if bad != c.bad {
				t.Fatalf("Check(%q) bad = %v, want %v", c.in, bad, c.bad)
			}
			if bad && (p.Rune != c.r || p.Invalid != c.invalid || p.Bidi != c.bidi || p.Offset != c.offset) {
				t.Fatalf("Check(%q) = %+v, want rune %U invalid %v bidi %v offset %d", c.in, p, c.r, c.invalid, c.bidi, c.offset)
			}
		})
	}
}

func TestProblemString(t *testing.T) {
	if got := (Problem{Rune: 0}).String(); got != "a control character (U+0000)" {
		t.Errorf("NUL: %q", got)
	}
	if got := (Problem{Invalid: true}).String(); !strings.Contains(got, "UTF-8") {
		t.Errorf("invalid: %q", got)
	}
	if got := (Problem{Rune: 0x202e, Bidi: true}).String(); got != "a bidirectional control character (U+202E)" {
		t.Errorf("bidi: %q", got)
	}
	if got := (Problem{Rune: 0x2028}).String(); got != "a line break (U+2028)" {
		t.Errorf("line separator: %q", got)
	}
	if got := (Problem{Rune: 0xffff}).String(); got != "a noncharacter (U+FFFF)" {
		t.Errorf("noncharacter: %q", got)
	}
}

// FuzzCheck holds Check to its definition, rune by rune.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "abc", "a\x00", "\xff", "\u0085", "line\nline", "乌龙", "a\u202eb", "a\u2028b", "\uffff", "\U0001fffe"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, multi bool) {
		lines := Lines(multi)
		p, bad := Check(s, lines)
		want, wantBad := Problem{}, false
		for i, r := range s {
			_, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				want, wantBad = Problem{Rune: r, Invalid: true, Offset: i}, true
			case lines == MultiLine && (r == '\t' || r == '\n' || r == '\r'):
				continue
			case r < 0x20 || (r >= 0x7f && r <= 0x9f):
				want, wantBad = Problem{Rune: r, Offset: i}, true
			case (r >= 0xfdd0 && r <= 0xfdef) || r%0x10000 == 0xfffe || r%0x10000 == 0xffff:
				want, wantBad = Problem{Rune: r, Offset: i}, true
			case lines == SingleLine && (r == 0x2028 || r == 0x2029):
				want, wantBad = Problem{Rune: r, Offset: i}, true
			case lines == SingleLine && ((r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)):
				want, wantBad = Problem{Rune: r, Offset: i, Bidi: true}, true
			default:
				continue
			}
			break
		}
		if bad != wantBad || p != want {
			t.Fatalf("Check(%q, %v) = %+v %v, want %+v %v", s, multi, p, bad, want, wantBad)
		}
	})
}

func TestFullName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ first, last, want string }{
		{"小明", "王", "王小明"},
		{"Ada", "Lovelace", "Ada Lovelace"},
		{"Fang", "王", "Fang 王"},
		{" 芳 ", "", "芳"},
		{"", "Wang", "Wang"},
	} {
		if got := FullName(tc.first, tc.last); got != tc.want {
			t.Errorf("FullName(%q, %q) = %q, want %q", tc.first, tc.last, got, tc.want)
		}
	}
}
