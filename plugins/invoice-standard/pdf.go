package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

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

// pdfWriter wraps fpdf with the text encoding of the chosen font.
type pdfWriter struct {
	*fpdf.Fpdf
	family  string
	unicode bool // a UTF-8 TrueType font is in use
	lossy   bool // some text was not representable and was replaced
}

// enc prepares UTF-8 text for the current font.
func (w *pdfWriter) enc(s string) string {
	if w.unicode {
		return s
	}
	out, lossy := toWinAnsi(s)
	w.lossy = w.lossy || lossy
	return out
}

func (w *pdfWriter) font(style string, size float64) { w.SetFont(w.family, style, size) }

// split wraps already encoded text to width.
func (w *pdfWriter) split(s string, width float64) []string {
	if s == "" {
		return []string{""}
	}
	if w.unicode {
		return w.SplitText(s, width)
	}
	var out []string
	for _, l := range w.SplitLines([]byte(s), width) {
		out = append(out, string(l))
	}
	return out
}

// text writes a cell of encoded text; align is "L", "R" or "C".
func (w *pdfWriter) text(width, h float64, s, align string) {
	w.CellFormat(width, h, w.enc(s), "", 0, align, false, 0, "")
}

// probeFont checks that fpdf can embed the TrueType font.
func probeFont(font []byte) error {
	p := fpdf.New("P", "mm", "A4", "")
	p.AddUTF8FontFromBytes("probe", "", font)
	p.SetFont("probe", "", 10)
	p.AddPage()
	p.CellFormat(20, 5, "Probe 测试", "", 0, "L", false, 0, "")
	var buf bytes.Buffer
	return p.Output(&buf)
}

// render draws the document as a PDF. It reports whether some text had to
// be replaced because the core font cannot show it.
func render(d *document, font []byte) ([]byte, bool, error) {
	w := &pdfWriter{Fpdf: fpdf.New("P", "mm", "A4", ""), family: "Helvetica"}
	if len(font) > 0 {
		w.AddUTF8FontFromBytes("unicode", "", font)
		w.AddUTF8FontFromBytes("unicode", "B", font)
		w.family, w.unicode = "unicode", true
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
	// when the core font cannot draw them.
	w.SetSubject(fmt.Sprintf("%s %s for order %s. Seller: %s. Buyer: %s", d.title(), d.Number, d.OrderNumber,
		partyText(d.Seller), partyText(d.Buyer)), true)
	w.SetFooterFunc(func() {
		w.SetY(pageH - 14)
		w.font("", 7.5)
		w.SetTextColor(120, 120, 120)
		w.text(contentW/2, 4, d.title()+" "+d.Number, "L")
		w.text(contentW/2, 4, fmt.Sprintf("Page %d of {nb}", w.PageNo()), "R")
	})
	w.SetHeaderFunc(func() {
		if w.PageNo() == 1 {
			return
		}
		w.font("", 8)
		w.SetTextColor(120, 120, 120)
		w.text(contentW, 5, fmt.Sprintf("%s %s (continued)", d.title(), d.Number), "R")
		w.Ln(8)
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
	w.MultiCell(100, 6, w.enc(displayName(d.Seller)), "", "L", false)
	w.font("", 8.5)
	for _, l := range partyLines(d.Seller) {
		w.SetX(margin)
		w.MultiCell(100, 4, w.enc(l), "", "L", false)
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
	w.MultiCell(100, 5, w.enc(displayName(d.Buyer)), "", "L", false)
	w.font("", 8.5)
	for _, l := range partyLines(d.Buyer) {
		w.SetX(margin)
		w.MultiCell(100, 4, w.enc(l), "", "L", false)
	}
	w.Ln(8)

	// Lines.
	tableHeader := func() {
		w.SetX(margin)
		w.SetFillColor(232, 236, 242)
		w.SetTextColor(40, 40, 40)
		w.font("B", 8.5)
		for i, h := range []string{"Description", "Qty", "Unit price", "Tax", "Amount"} {
			align := "R"
			if i == 0 {
				align = "L"
			}
			w.CellFormat(cols[i], 7, w.enc(h), "", 0, align, true, 0, "")
		}
		w.Ln(7)
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
		name := w.split(w.enc(l.Name), cols[0])
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
		w.SetXY(margin, y)
		for _, s := range name {
			w.SetX(margin)
			w.CellFormat(cols[0], lineH, s, "", 2, "L", false, 0, "")
		}
		w.font("", 7.5)
		w.SetTextColor(110, 110, 110)
		for _, s := range sub {
			w.SetX(margin)
			w.CellFormat(cols[0], 3.8, w.enc(s), "", 2, "L", false, 0, "")
		}
		w.SetTextColor(20, 20, 20)
		w.font("", 9)
		x := margin + cols[0]
		for i, v := range []string{fmt.Sprint(l.Quantity), money(l.UnitPrice.Amount), percent(l.TaxRate), money(l.Total.Amount)} {
			w.SetXY(x, y)
			w.text(cols[i+1], lineH, v, "R")
			x += cols[i+1]
		}
		w.SetY(y + h - 1.2)
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
	ensure(float64(len(rows))*6 + 4)
	for _, r := range rows {
		w.SetX(margin + contentW - labelW - valueW)
		if r.bold {
			w.SetDrawColor(60, 60, 60)
			w.Line(margin+contentW-labelW-valueW, w.GetY()+0.5, margin+contentW, w.GetY()+0.5)
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
	if includesTax && len(d.Taxes)+len(d.Lines) > 0 {
		notes = append(notes, "Prices include tax.")
	}
	if d.Footer != "" {
		notes = append(notes, d.Footer)
	}
	w.font("", 8.5)
	w.SetTextColor(60, 60, 60)
	for _, n := range notes {
		for _, para := range strings.Split(n, "\n") {
			lines := w.split(w.enc(para), contentW)
			for _, l := range lines {
				if w.GetY()+4.2 > pageH-bottomMargin {
					w.AddPage()
				}
				w.SetX(margin)
				w.CellFormat(contentW, 4.2, l, "", 2, "L", false, 0, "")
			}
		}
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
