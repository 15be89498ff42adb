package storefront

import (
	"fmt"
	"html/template"
	"strings"

	"rsc.io/qr"
)

// maxQRContent bounds what is drawn: a payment link or a wallet's
// payload is far shorter, and level M holds about 2,300 bytes at most.
const maxQRContent = 1024

// qrSVG draws content as a QR code (error correction level M) in an SVG
// with a quiet zone of four modules, one path of unit squares so that it
// scales crisply; the page shows it inline (no script, nothing fetched).
// It is empty when the content cannot be encoded.
func qrSVG(content string) template.HTML {
	if content == "" || len(content) > maxQRContent {
		return ""
	}
	code, err := qr.Encode(content, qr.M)
	if err != nil {
		return ""
	}
	const quiet = 4
	n := code.Size + 2*quiet
	var path strings.Builder
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; x++ {
			if code.Black(x, y) {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	// Nothing of content reaches the markup but the modules drawn.
	return template.HTML(fmt.Sprintf(`<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`, n, n, n, n, path.String()))
}
