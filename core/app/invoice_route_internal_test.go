package app

import (
	"testing"

	"github.com/kassahq/kassa/core/invoice"
)

// TestDownloadName: the file name sent in Content-Disposition is the
// rule's, reduced to characters safe in a quoted header parameter, or
// the number's (or the id's) when the rule's is unusable: never a quote,
// a path, a control character or a header injection.
func TestDownloadName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ file, number, want string }{
		{"INV-000042.pdf", "INV-000042", "INV-000042.pdf"},
		{"INV 2026/42.pdf", "INV 2026/42", "INV_2026_42.pdf"},
		{`a"; filename*=UTF-8''evil.html.pdf`, "INV-1", "a___filename__UTF-8__evil.html.pdf"},
		{"../../etc/passwd.pdf", "INV-1", "etc_passwd.pdf"},
		{"invoice.html", "INV-7", "INV-7.pdf"},
		{"发票.pdf", "INV-8", "INV-8.pdf"},
		{"x\r\nSet-Cookie: a=b.pdf", "INV-9", "x__Set-Cookie__a_b.pdf"},
		{"", "发票", "inv_1.pdf"},
		{"", "../..", "inv_1.pdf"},
	} {
		got := downloadName(&invoice.Invoice{ID: "inv_1", FileName: tc.file, Number: tc.number})
		if got != tc.want {
			t.Errorf("downloadName(%q, %q) = %q, want %q", tc.file, tc.number, got, tc.want)
		}
	}
}
