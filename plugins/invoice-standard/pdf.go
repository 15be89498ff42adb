package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"
	"golang.org/x/text/encoding/charmap"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/invoice"
)

// document is what goes on one invoice or credit note.
type document struct {
	Kind           invoice.DocumentKind
	Number         string
	IssuedAt       time.Time
	OrderNumber    string
	OrderDate      time.Time
	OriginalNumber string // the corrected invoice, for credit notes
	Seller, Buyer  invoice.Party
	Currency       string
	Lines          []invoice.OrderLine
	Taxes          []invoice.TaxLine
	Totals         invoice.Totals
	Footer         string
}

// title is the document's heading.
func (d *document) title() string {
	if d.Kind == invoice.DocumentCreditNote {
		return "Credit note"
	}
	return "Invoice"
}

// Page geometry in millimetres (A4 portrait).
const (
	pageW, pageH = 210.0, 297.0
	margin       = 18.0
	contentW     = pageW - 2*margin
	bottomMargin = 22.0
	lineH        = 4.6
)

// Lines table columns: description, quantity, unit price, tax rate, total.
var cols = [5]float64{80, 14, 28, 16, 36}

// Font families: the PDF core font for text Windows-1252 can encode, and
// the optional Unicode TrueType font for everything else.
const (
	coreFamily    = "Helvetica"
	unicodeFamily = "unicode"
	cellPad       = 1.0 // horizontal padding inside a cell, mm
)

// pdfWriter wraps fpdf with text that may mix scripts: each string is
// drawn in runs, Western text in Helvetica and other scripts in the
// Unicode font when one is configured (CJK fonts such as Droid Sans
// Fallback often have no Latin glyphs at all). Without a Unicode font,
// characters Helvetica cannot show become '?' (see toWinAnsi).
type pdfWriter struct {
	*fpdf.Fpdf
	unicode bool    // a Unicode font is loaded
	style   string  // current style: "" or "B"
	size    float64 // current size in points
	lossy   bool    // some text was replaced by '?'
}

// run is a piece of text drawn in one font: Windows-1252 bytes for the
// core font, or UTF-8 for the Unicode font.
type run struct {
	text string
	uni  bool
}

func (w *pdfWriter) font(style string, size float64) {
	w.style, w.size = style, size
	w.SetFont(coreFamily, style, size)
}

func (w *pdfWriter) runFont(uni bool) {
	if uni {
		w.SetFont(unicodeFamily, w.style, w.size)
		return
	}
	w.SetFont(coreFamily, w.style, w.size)
}

func encodable(r rune) bool {
	_, ok := charmap.Windows1252.EncodeRune(r)
	return ok
}

// runs splits UTF-8 text into runs by font.
func (w *pdfWriter) runs(s string) []run {
	if !w.unicode {
		enc, lossy := toWinAnsi(s)
		w.lossy = w.lossy || lossy
		return []run{{text: enc}}
	}
	var out []run
	var cur strings.Builder
	curUni := false
	flush := func() {
		if cur.Len() == 0 {
			return
		}
		t := cur.String()
		if !curUni {
			t, _ = toWinAnsi(t)
		}
		out = append(out, run{text: t, uni: curUni})
		cur.Reset()
	}
	for _, r := range s {
		uni := !encodable(r)
		if uni != curUni {
			flush()
			curUni = uni
		}
		cur.WriteRune(r)
	}
	flush()
	return out
}

// width is the width of UTF-8 text in the current style and size.
func (w *pdfWriter) width(s string) float64 {
	var total float64
	for _, r := range w.runs(s) {
		w.runFont(r.uni)
		total += w.GetStringWidth(r.text)
	}
	w.runFont(false)
	return total
}

// text draws one line of UTF-8 text in a cell of width cw at the current
// position, aligned "L", "R" or "C", and moves to the cell's right edge.
func (w *pdfWriter) text(cw, h float64, s, align string) {
	x0, y0 := w.GetXY()
	rs := w.runs(s)
	var tw float64
	widths := make([]float64, len(rs))
	for i, r := range rs {
		w.runFont(r.uni)
		widths[i] = w.GetStringWidth(r.text)
		tw += widths[i]
	}
	x := x0 + cellPad
	switch align {
	case "R":
		x = x0 + cw - cellPad - tw
	case "C":
		x = x0 + (cw-tw)/2
	}
	saved := w.GetCellMargin()
	w.SetCellMargin(0)
	for i, r := range rs {
		w.runFont(r.uni)
		w.SetXY(x, y0)
		w.CellFormat(widths[i], h, r.text, "", 0, "L", false, 0, "")
		x += widths[i]
	}
	w.SetCellMargin(saved)
	w.runFont(false)
	w.SetXY(x0+cw, y0)
}

// breaksAround reports whether a line may break before and after r
// (Chinese, Japanese and Korean text has no spaces between words).
func breaksAround(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}

// wrap breaks UTF-8 text into lines that fit width cw.
func (w *pdfWriter) wrap(s string, cw float64) []string {
	limit := cw - 2*cellPad
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		// Tokens end after a space or around a CJK character.
		var tokens []string
		var cur strings.Builder
		for _, r := range para {
			if breaksAround(r) {
				if cur.Len() > 0 {
					tokens = append(tokens, cur.String())
					cur.Reset()
				}
				tokens = append(tokens, string(r))
				continue
			}
			cur.WriteRune(r)
			if r == ' ' {
				tokens = append(tokens, cur.String())
				cur.Reset()
			}
		}
		if cur.Len() > 0 {
			tokens = append(tokens, cur.String())
		}
		line := ""
		for _, tok := range tokens {
			if w.width(strings.TrimRight(line+tok, " ")) <= limit {
				line += tok
				continue
			}
			if line != "" {
				lines = append(lines, strings.TrimRight(line, " "))
				line = ""
			}
			// A token longer than a line is cut by characters.
			for w.width(strings.TrimRight(tok, " ")) > limit {
				n := 1
				rs := []rune(tok)
				for n < len(rs) && w.width(string(rs[:n+1])) <= limit {
					n++
				}
				lines = append(lines, string(rs[:n]))
				tok = string(rs[n:])
			}
			line = tok
		}
		lines = append(lines, strings.TrimRight(line, " "))
	}
	return lines
}

// para draws wrapped text at x, line by line, starting a new page when
// the page is full.
func (w *pdfWriter) para(x, cw, h float64, s string) {
	for _, l := range w.wrap(s, cw) {
		if w.GetY()+h > pageH-bottomMargin {
			w.AddPage()
		}
		w.SetX(x)
		w.text(cw, h, l, "L")
		w.Ln(h)
	}
}

// probeFont checks that fpdf can embed the TrueType font.
func probeFont(font []byte) error {
	p := fpdf.New("P", "mm", "A4", "")
	p.AddUTF8FontFromBytes("probe", "", font)
	p.SetFont("probe", "", 10)
	p.AddPage()
	p.CellFormat(20, 5, "测试", "", 0, "L", false, 0, "")
	var buf bytes.Buffer
	return p.Output(&buf)
}

// render draws the document as a PDF. It reports whether some text had to
// be replaced because no configured font can show it.
func render(d *document, font []byte) ([]byte, bool, error) {
	w := &pdfWriter{Fpdf: fpdf.New("P", "mm", "A4", "")}
	if len(font) > 0 {
		w.AddUTF8FontFromBytes(unicodeFamily, "", font)
		w.AddUTF8FontFromBytes(unicodeFamily, "B", font)
		w.unicode = true
	}
	w.SetCompression(true)
	w.SetCatalogSort(true)
	w.SetCreationDate(d.IssuedAt)
	w.SetModificationDate(d.IssuedAt)
	w.SetMargins(margin, margin, margin)
	w.SetAutoPageBreak(false, bottomMargin)
	w.AliasNbPages("{nb}")
	w.SetTitle(d.title()+" "+d.Number, true)
	w.SetAuthor(displayName(d.Seller), true)
	w.SetCreator("Kassa "+ID+" "+Version, true)
	w.SetKeywords(strings.TrimSpace(d.Number+" "+d.OrderNumber+" "+d.OriginalNumber), true)
	// The metadata is UTF-8: it keeps the parties' names as written even
	// when no font can draw them.
	w.SetSubject(fmt.Sprintf("%s %s for order %s. Seller: %s. Buyer: %s", d.title(), d.Number, d.OrderNumber,
		partyText(d.Seller), partyText(d.Buyer)), true)
	w.SetFooterFunc(func() {
		w.SetXY(margin, pageH-14)
		w.font("", 7.5)
		w.SetTextColor(120, 120, 120)
		w.text(contentW-30, 4, d.title()+" "+d.Number, "L")
		// Left aligned: the width of "{nb}" is only known at the end.
		w.text(30, 4, fmt.Sprintf("Page %d of {nb}", w.PageNo()), "L")
	})
	w.SetHeaderFunc(func() {
		if w.PageNo() == 1 {
			return
		}
		w.font("", 8)
		w.SetTextColor(120, 120, 120)
		w.text(contentW, 5, fmt.Sprintf("%s %s (continued)", d.title(), d.Number), "R")
		w.SetXY(margin, margin+8)
	})
	w.AddPage()

	sign := int64(1)
	if d.Kind == invoice.DocumentCreditNote {
		sign = -1 // a credit note shows what is credited as negative amounts
	}
	money := func(m int64) string { return formatAmount(sign*m, d.Currency) }

	// Seller, top left.
	top := w.GetY()
	w.SetTextColor(20, 20, 20)
	w.font("B", 13)
	w.para(margin, 100, 6, displayName(d.Seller))
	w.font("", 8.5)
	for _, l := range partyLines(d.Seller) {
		w.para(margin, 100, 4, l)
	}
	sellerBottom := w.GetY()

	// Title and document facts, top right.
	right := 124.0
	w.SetXY(right, top)
	w.font("B", 20)
	w.SetTextColor(30, 60, 110)
	w.text(pageW-margin-right, 9, strings.ToUpper(d.title()), "R")
	w.Ln(12)
	facts := [][2]string{{d.title() + " no.", d.Number}, {"Date", d.IssuedAt.Format("2006-01-02")}}
	if d.OrderNumber != "" {
		facts = append(facts, [2]string{"Order", d.OrderNumber})
	}
	if !d.OrderDate.IsZero() {
		facts = append(facts, [2]string{"Order date", d.OrderDate.Format("2006-01-02")})
	}
	if d.OriginalNumber != "" {
		facts = append(facts, [2]string{"Corrects invoice", d.OriginalNumber})
	}
	facts = append(facts, [2]string{"Currency", d.Currency})
	for _, f := range facts {
		w.SetX(right)
		w.font("", 8.5)
		w.SetTextColor(110, 110, 110)
		w.text(28, 5, f[0], "L")
		w.font("B", 8.5)
		w.SetTextColor(20, 20, 20)
		w.text(pageW-margin-right-28, 5, f[1], "R")
		w.Ln(5)
	}
	y := max(sellerBottom, w.GetY()) + 8

	// Buyer.
	w.SetXY(margin, y)
	w.font("B", 7.5)
	w.SetTextColor(110, 110, 110)
	w.text(80, 4, "BILL TO", "L")
	w.Ln(5)
	w.SetTextColor(20, 20, 20)
	w.font("B", 10)
	w.para(margin, 100, 5, displayName(d.Buyer))
	w.font("", 8.5)
	for _, l := range partyLines(d.Buyer) {
		w.para(margin, 100, 4, l)
	}
	w.Ln(8)

	// Lines.
	tableHeader := func() {
		y := w.GetY()
		w.SetFillColor(232, 236, 242)
		w.Rect(margin, y, contentW, 7, "F")
		w.SetTextColor(40, 40, 40)
		w.font("B", 8.5)
		w.SetX(margin)
		for i, h := range []string{"Description", "Qty", "Unit price", "Tax", "Amount"} {
			align := "R"
			if i == 0 {
				align = "L"
			}
			w.text(cols[i], 7, h, align)
		}
		w.SetXY(margin, y+7)
	}
	ensure := func(h float64) {
		if w.GetY()+h > pageH-bottomMargin {
			w.AddPage()
			tableHeader()
		}
	}
	tableHeader()
	includesTax := false
	for _, l := range d.Lines {
		includesTax = includesTax || l.PricesIncludeTax
		w.font("", 9)
		name := w.wrap(l.Name, cols[0])
		var sub []string
		if l.SKU != "" {
			sub = append(sub, "SKU "+l.SKU)
		}
		if l.Discount.Amount != 0 {
			sub = append(sub, "Discount "+money(-l.Discount.Amount))
		}
		h := float64(len(name))*lineH + float64(len(sub))*3.8 + 2.5
		ensure(h)
		y := w.GetY() + 1.2
		w.font("", 9)
		w.SetTextColor(20, 20, 20)
		for i, s := range name {
			w.SetXY(margin, y+float64(i)*lineH)
			w.text(cols[0], lineH, s, "L")
		}
		w.font("", 7.5)
		w.SetTextColor(110, 110, 110)
		for i, s := range sub {
			w.SetXY(margin, y+float64(len(name))*lineH+float64(i)*3.8)
			w.text(cols[0], 3.8, s, "L")
		}
		w.SetTextColor(20, 20, 20)
		w.font("", 9)
		w.SetXY(margin+cols[0], y)
		// Where tax was added to the prices, the line's amount is net of
		// it, as the subtotal is: the tax has rows of its own below.
		amount := l.Total.Amount
		if !l.PricesIncludeTax {
			amount -= l.Tax.Amount
		}
		for i, v := range []string{fmt.Sprint(l.Quantity), money(l.UnitPrice.Amount), percent(l.TaxRate), money(amount)} {
			w.text(cols[i+1], lineH, v, "R")
		}
		w.SetXY(margin, y+h-1.2)
		w.SetDrawColor(220, 220, 220)
		w.Line(margin, w.GetY(), margin+contentW, w.GetY())
	}
	w.Ln(3)

	// Totals, right aligned.
	type row struct {
		label, value string
		bold         bool
	}
	var rows []row
	t := d.Totals
	rows = append(rows, row{"Subtotal", money(t.Subtotal.Amount), false})
	if t.Discount.Amount != 0 {
		rows = append(rows, row{"Discount", money(-t.Discount.Amount), false})
	}
	if t.Shipping.Amount != 0 {
		rows = append(rows, row{"Shipping", money(t.Shipping.Amount), false})
	}
	for _, tx := range taxBreakdown(d) {
		name := tx.Name
		if name == "" {
			name = "Tax"
		}
		label := fmt.Sprintf("%s %s of %s", name, percent(tx.Rate), money(tx.Base.Amount))
		if includesTax {
			label = "incl. " + label
		}
		rows = append(rows, row{label, money(tx.Amount.Amount), false})
	}
	total := "Total"
	if d.Kind == invoice.DocumentCreditNote {
		total = "Total credited"
	}
	rows = append(rows, row{total + " " + d.Currency, money(t.Total.Amount), true})
	if d.Kind == invoice.DocumentInvoice {
		if t.Paid.Amount != 0 {
			rows = append(rows, row{"Paid", money(-t.Paid.Amount), false})
		}
		if t.Refunded.Amount != 0 {
			rows = append(rows, row{"Refunded", money(t.Refunded.Amount), false})
		}
		if t.Paid.Amount != 0 || t.Refunded.Amount != 0 {
			rows = append(rows, row{"Amount due", money(t.Total.Amount - t.Paid.Amount + t.Refunded.Amount), true})
		}
	}
	labelW, valueW := 62.0, 32.0
	left := margin + contentW - labelW - valueW
	ensure(float64(len(rows))*6 + 4)
	for _, r := range rows {
		w.SetX(left)
		if r.bold {
			w.SetDrawColor(60, 60, 60)
			w.Line(left, w.GetY()+0.5, margin+contentW, w.GetY()+0.5)
			w.font("B", 10)
			w.text(labelW, 7, r.label, "L")
			w.text(valueW, 7, r.value, "R")
			w.Ln(7)
			continue
		}
		w.font("", 9)
		w.text(labelW, 5.5, r.label, "L")
		w.text(valueW, 5.5, r.value, "R")
		w.Ln(5.5)
	}
	w.Ln(6)

	// Notes.
	var notes []string
	if d.Kind == invoice.DocumentCreditNote && d.OriginalNumber != "" {
		notes = append(notes, fmt.Sprintf("This credit note corrects invoice %s of order %s.", d.OriginalNumber, d.OrderNumber))
	}
	if includesTax {
		notes = append(notes, "Prices include tax.")
	}
	if d.Footer != "" {
		notes = append(notes, d.Footer)
	}
	w.font("", 8.5)
	w.SetTextColor(60, 60, 60)
	for _, n := range notes {
		w.para(margin, contentW, 4.2, n)
		w.Ln(1.5)
	}

	var buf bytes.Buffer
	if err := w.Output(&buf); err != nil {
		return nil, false, fmt.Errorf("render pdf: %w", err)
	}
	return buf.Bytes(), w.lossy, nil
}

// taxBreakdown returns the tax per name and rate: Kassa's tax lines with
// equal name and rate merged (e.g. the goods' and the shipping's VAT at
// 19%), or, when Kassa sent none, sums computed from the lines.
func taxBreakdown(d *document) []invoice.TaxLine {
	src := d.Taxes
	if len(src) == 0 {
		for _, l := range d.Lines {
			if l.TaxRate == "" && l.Tax.Amount == 0 {
				continue
			}
			src = append(src, invoice.TaxLine{Name: "Tax", Rate: l.TaxRate,
				Base: sdk.Money{Amount: l.Total.Amount - l.Tax.Amount}, Amount: l.Tax})
		}
	}
	var out []invoice.TaxLine
	idx := map[[2]string]int{}
	for _, t := range src {
		k := [2]string{t.Name, t.Rate}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, invoice.TaxLine{Name: t.Name, Rate: t.Rate})
		}
		out[i].Base.Amount += t.Base.Amount
		out[i].Amount.Amount += t.Amount.Amount
	}
	return out
}

// percent shows a rate given in percent as a decimal string: "19" -> "19%".
func percent(rate string) string {
	if rate == "" {
		return ""
	}
	return rate + "%"
}

// displayName is the party's company, or its name.
func displayName(p invoice.Party) string {
	if p.Company != "" {
		return p.Company
	}
	return p.Name
}

// partyLines are the lines under a party's display name.
func partyLines(p invoice.Party) []string {
	var out []string
	if p.Company != "" && p.Name != "" && p.Name != p.Company {
		out = append(out, p.Name)
	}
	for _, l := range p.Address.Lines {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	if city := strings.TrimSpace(p.Address.PostalCode + " " + p.Address.City); city != "" {
		out = append(out, city)
	}
	if p.Address.Region != "" {
		out = append(out, p.Address.Region)
	}
	if p.Address.Country != "" {
		out = append(out, countryName(p.Address.Country))
	}
	if p.TaxID != "" {
		out = append(out, "Tax ID: "+p.TaxID)
	}
	if p.Email != "" {
		out = append(out, p.Email)
	}
	if p.Phone != "" {
		out = append(out, p.Phone)
	}
	return out
}

// partyText is a party on one line, for the metadata.
func partyText(p invoice.Party) string {
	parts := []string{displayName(p)}
	if p.Company != "" && p.Name != "" && p.Name != p.Company {
		parts = append(parts, p.Name)
	}
	if p.TaxID != "" {
		parts = append(parts, "tax id "+p.TaxID)
	}
	return strings.Join(parts, ", ")
}

// countryNames are the countries printed by name; others print as their
// ISO code, which postal services understand too.
var countryNames = map[string]string{
	"AT": "Austria", "BE": "Belgium", "CH": "Switzerland", "CN": "China", "CZ": "Czechia", "DE": "Germany",
	"DK": "Denmark", "ES": "Spain", "FI": "Finland", "FR": "France", "GB": "United Kingdom", "HK": "Hong Kong",
	"IE": "Ireland", "IT": "Italy", "JP": "Japan", "LU": "Luxembourg", "NL": "Netherlands", "NO": "Norway",
	"PL": "Poland", "PT": "Portugal", "SE": "Sweden", "SG": "Singapore", "TW": "Taiwan", "US": "United States",
}

func countryName(code string) string {
	if n, ok := countryNames[strings.ToUpper(code)]; ok {
		return n
	}
	return strings.ToUpper(code)
}
