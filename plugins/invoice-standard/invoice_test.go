package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/invoice"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
)

// binary is the plugin built once for all tests, started like Kassa starts it.
var binary string

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

const testConfig = `{"issue_on":"on_paid","number_prefix":"INV-","footer_note":"Payable within 14 days. Kassa Demo GmbH, Amtsgericht Berlin HRB 12345."}`

func eur(a int64) sdk.Money { return sdk.Money{Amount: a, Currency: "EUR"} }

// sampleOrder is a paid order with two VAT rates and a discount.
func sampleOrder() invoice.Order {
	return invoice.Order{
		ID: "ord_01", Number: "#1001", StoreID: "sto_1", Currency: "EUR",
		PlacedAt: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC),
		Lines: []invoice.OrderLine{
			{ID: "li_1", SKU: "TEA-SENCHA-250", Name: "Sencha green tea, 250 g tin", Quantity: 2, UnitPrice: eur(1290),
				TaxRate: "7", Tax: eur(169), Total: eur(2580), PricesIncludeTax: true},
			{ID: "li_2", SKU: "POT-CAST-08", Name: "Cast iron teapot \"Tetsubin\" 0.8 l with a long name that has to wrap onto a second line", Quantity: 1,
				UnitPrice: eur(5900), Discount: eur(590), TaxRate: "19", Tax: eur(848), Total: eur(5310), PricesIncludeTax: true},
		},
		Taxes: []invoice.TaxLine{
			{Name: "VAT", Rate: "7", Base: eur(2411), Amount: eur(169)},
			{Name: "VAT", Rate: "19", Base: eur(4462), Amount: eur(848)},
			{Name: "VAT", Rate: "19", Base: eur(412), Amount: eur(78)}, // shipping
		},
		Totals: invoice.Totals{Subtotal: eur(8480), Discount: eur(590), Shipping: eur(490), Tax: eur(1095), Total: eur(8380), Paid: eur(8380)},
		Seller: invoice.Party{Name: "Kassa Demo GmbH", TaxID: "DE 123 456 789", Email: "billing@kassa.example",
			Address: invoice.Address{Lines: []string{"Friedrichstraße 12"}, PostalCode: "10117", City: "Berlin", Country: "DE"}},
		Buyer: invoice.Party{Name: "Jürgen Müller", Company: "Müller & Söhne KG", TaxID: "ATU12345678", Email: "j.mueller@example.at",
			Address: invoice.Address{Lines: []string{"Mariahilfer Straße 1"}, PostalCode: "1060", City: "Wien", Country: "AT"}},
		PaymentStatus: "PAID", FulfillmentStatus: "UNFULFILLED", Locale: "de-AT",
	}
}

func issueRequest(o invoice.Order) invoice.IssueRequest {
	return invoice.IssueRequest{Order: o, Seller: o.Seller, Buyer: o.Buyer, Locale: o.Locale,
		IssuedAt: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)}
}

func creditRequest() invoice.IssueRequest {
	o := sampleOrder()
	o.Lines = o.Lines[:1]
	o.Lines[0].Quantity = 1
	o.Lines[0].Total, o.Lines[0].Tax = eur(1290), eur(84)
	o.Taxes = []invoice.TaxLine{{Name: "VAT", Rate: "7", Base: eur(1206), Amount: eur(84)}}
	o.Totals = invoice.Totals{Subtotal: eur(1290), Tax: eur(84), Total: eur(1290)}
	req := issueRequest(o)
	req.Kind = invoice.DocumentCreditNote
	return req
}

func event(typ string, numbers ...string) invoice.Event {
	return invoice.Event{Type: typ, ID: "evt_" + typ, Order: sampleOrder(), InvoiceNumbers: numbers, Refund: eur(1290)}
}

func TestConformance(t *testing.T) {
	credit := creditRequest()
	plugintest.RunRule(t, plugintest.RuleConfig{
		Binary: binary,
		Config: json.RawMessage(testConfig),
		Cases: []plugintest.RuleCase{
			{Name: "paid_issues", Event: event(EventOrderPaid), WantIssue: true, WantKind: invoice.DocumentInvoice},
			{Name: "paid_twice_does_not", Event: event(EventOrderPaid, "INV-000007")},
			{Name: "fulfilled_does_not_on_paid", Event: event(EventOrderFulfilled)},
			{Name: "request_issues", Event: event(EventInvoiceRequested), WantIssue: true, WantKind: invoice.DocumentInvoice},
			{Name: "refund_credit_note", Event: event(EventRefundSucceeded, "INV-000007"), WantIssue: true, WantKind: invoice.DocumentCreditNote},
			{Name: "refund_after_credit_note_still_credits", Event: event(EventRefundSucceeded, "INV-000007", "CN-000001"), WantIssue: true, WantKind: invoice.DocumentCreditNote},
			{Name: "refund_without_invoice", Event: event(EventRefundSucceeded)},
			{Name: "other_event", Event: event("order.placed")},
		},
		Issue:      issueRequest(sampleOrder()),
		CreditNote: &credit,
	})
}

// testSequence is a host sequence like Kassa's: gapless per name,
// idempotent per key, and it can be told to fail.
type testSequence struct {
	mu    sync.Mutex
	next  map[string]int64
	byKey map[string]int64
	fail  error
}

func newSequence() *testSequence {
	return &testSequence{next: map[string]int64{}, byKey: map[string]int64{}}
}

func (s *testSequence) Next(_ context.Context, name, key string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, s.fail
	}
	if v, ok := s.byKey[name+"\x00"+key]; ok {
		return v, nil
	}
	s.next[name]++
	s.byKey[name+"\x00"+key] = s.next[name]
	return s.next[name], nil
}

func (s *testSequence) value(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next[name]
}

func startRule(t *testing.T, config, dataDir string) invoice.Rule {
	t.Helper()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID, DataDir: dataDir})
	res, err := p.Plugin().Configure(context.Background(), json.RawMessage(config))
	if err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res.Errors, err)
	}
	rule, err := p.Rule()
	if err != nil {
		t.Fatal(err)
	}
	return rule
}

func issue(t *testing.T, rule invoice.Rule, seq invoice.Sequence, req invoice.IssueRequest, key string) invoice.Document {
	t.Helper()
	req.IdempotencyKey = key
	doc, err := rule.IssueInvoice(context.Background(), req, seq)
	if err != nil {
		t.Fatalf("IssueInvoice(%s): %v", key, err)
	}
	return doc
}

// TestNumbersHaveNoGaps issues invoices and credit notes interleaved with
// refused documents, retries and a failing host sequence: the numbers are
// consecutive and refused documents consume none.
func TestNumbersHaveNoGaps(t *testing.T) {
	t.Parallel()
	rule := startRule(t, testConfig, "")
	seq := newSequence()
	var got []string
	ok := func(key string, req invoice.IssueRequest) invoice.Document {
		doc := issue(t, rule, seq, req, key)
		if len(doc.Problems) > 0 {
			t.Fatalf("%s refused: %+v", key, doc.Problems)
		}
		checkPDF(t, doc.Content)
		got = append(got, doc.Number)
		return doc
	}
	refusedWith := func(key string, req invoice.IssueRequest, code string) {
		t.Helper()
		doc := issue(t, rule, seq, req, key)
		if len(doc.Problems) == 0 || doc.Problems[0].Code != code || doc.Number != "" || doc.Content != nil {
			t.Errorf("%s: %+v, want refused with %s", key, doc, code)
		}
	}

	first := ok("k1", issueRequest(sampleOrder()))
	badTax := sampleOrder()
	badTax.Buyer.TaxID = "not a tax id!"
	refusedWith("k2", issueRequest(badTax), CodeInvalidTaxID)
	ok("k3", issueRequest(sampleOrder()))
	mixed := sampleOrder()
	mixed.Lines[0].Total.Currency = "USD"
	refusedWith("k4", issueRequest(mixed), CodeCurrencyMismatch)
	noLines := sampleOrder()
	noLines.Lines = nil
	refusedWith("k5", issueRequest(noLines), CodeNoLines)
	refusedWith("k6", issueRequest(invoice.Order{Currency: "EUR", Lines: sampleOrder().Lines}), CodeSellerIncomplete)

	// The host's sequence fails: an error (outcome unknown), no number.
	seq.fail = fmt.Errorf("database is locked")
	if _, err := rule.IssueInvoice(context.Background(), withKey(issueRequest(sampleOrder()), "k7"), seq); err == nil {
		t.Errorf("IssueInvoice with a failing sequence: no error")
	}
	seq.fail = nil
	retried := ok("k7", issueRequest(sampleOrder())) // Kassa's retry
	again := issue(t, rule, seq, issueRequest(sampleOrder()), "k7")
	if again.Number != retried.Number || !bytes.Equal(again.Content, retried.Content) {
		t.Errorf("retry k7: %s (%d bytes), first %s (%d bytes): want the same document", again.Number, len(again.Content), retried.Number, len(retried.Content))
	}

	cn := creditRequest()
	cn.OriginalInvoiceNumber = first.Number
	credit := ok("c1", cn)
	noOriginal := creditRequest()
	refusedWith("c2", noOriginal, CodeOriginalInvoiceRequired)
	amountOnly := creditRequest()
	amountOnly.OriginalInvoiceNumber = first.Number
	amountOnly.Order.Lines, amountOnly.Order.Taxes = nil, nil
	ok("c3", amountOnly)
	ok("k8", issueRequest(sampleOrder()))

	want := []string{"INV-000001", "INV-000002", "INV-000003", "CN-000001", "CN-000002", "INV-000004"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("numbers (-want +got):\n%s", d)
	}
	if seq.value("invoice") != 4 || seq.value("credit_note") != 2 {
		t.Errorf("sequences at invoice=%d credit_note=%d, want 4 and 2: a refused document consumed a number", seq.value("invoice"), seq.value("credit_note"))
	}
	if credit.FileName != "CN-000001.pdf" || credit.MimeType != "application/pdf" {
		t.Errorf("credit note file %q type %q", credit.FileName, credit.MimeType)
	}
}

func withKey(req invoice.IssueRequest, key string) invoice.IssueRequest {
	req.IdempotencyKey = key
	return req
}

func TestNumberFormats(t *testing.T) {
	t.Parallel()
	rule := startRule(t, `{"issue_on":"on_request","number_prefix":"RE/","credit_note_prefix":"GS/","credit_note_numbering":"shared","yearly_numbering":true,"number_digits":4}`, "")
	seq := newSequence()
	var got []string
	for i, kind := range []invoice.DocumentKind{invoice.DocumentInvoice, invoice.DocumentCreditNote, invoice.DocumentInvoice} {
		req := issueRequest(sampleOrder())
		if kind == invoice.DocumentCreditNote {
			req = creditRequest()
			req.OriginalInvoiceNumber = got[0]
		}
		doc := issue(t, rule, seq, req, fmt.Sprint("f", i))
		if len(doc.Problems) > 0 {
			t.Fatalf("refused: %+v", doc.Problems)
		}
		got = append(got, doc.Number)
		if i == 0 && doc.FileName != "RE-2026-0001.pdf" {
			t.Errorf("file name %q", doc.FileName)
		}
	}
	// Shared numbering: one gapless sequence across both kinds.
	if d := cmp.Diff([]string{"RE/2026-0001", "GS/2026-0002", "RE/2026-0003"}, got); d != "" {
		t.Errorf("numbers (-want +got):\n%s", d)
	}
}

// TestRetryAfterRestart: the register in the data directory pins the date
// of a document Kassa sent without one, so a retry after a restart renders
// the same PDF under the same number.
func TestRetryAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seq := newSequence()
	req := issueRequest(sampleOrder())
	req.IssuedAt = time.Time{}
	first := issue(t, startRule(t, testConfig, dir), seq, req, "r1")
	time.Sleep(1100 * time.Millisecond) // the clock moves on
	again := issue(t, startRule(t, testConfig, dir), seq, req, "r1")
	if again.Number != first.Number || !again.IssuedAt.Equal(first.IssuedAt) || !bytes.Equal(again.Content, first.Content) {
		t.Errorf("retry after restart: %s %s, first %s %s", again.Number, again.IssuedAt, first.Number, first.IssuedAt)
	}
}

func TestVoid(t *testing.T) {
	t.Parallel()
	rule := startRule(t, testConfig, t.TempDir())
	seq := newSequence()
	ctx := context.Background()
	unpaid := sampleOrder()
	unpaid.PaymentStatus, unpaid.Totals.Paid = "PENDING", sdk.Money{}
	inv := issue(t, rule, seq, issueRequest(unpaid), "v1")
	paid := issue(t, rule, seq, issueRequest(sampleOrder()), "v2")
	cn := creditRequest()
	cn.OriginalInvoiceNumber = paid.Number
	credit := issue(t, rule, seq, cn, "v3")

	tests := []struct {
		name     string
		req      invoice.VoidRequest
		wantVoid bool
		wantCode string
	}{
		{"unpaid order", invoice.VoidRequest{Number: inv.Number, IdempotencyKey: "x1", Order: unpaid, Reason: "order cancelled"}, true, ""},
		{"retry", invoice.VoidRequest{Number: inv.Number, IdempotencyKey: "x1", Order: unpaid}, true, ""},
		{"again with a new key", invoice.VoidRequest{Number: inv.Number, IdempotencyKey: "x2", Order: sampleOrder()}, true, ""},
		{"paid order", invoice.VoidRequest{Number: paid.Number, IdempotencyKey: "x3", Order: sampleOrder()}, false, CodeCreditNoteRequired},
		{"corrected by a credit note", invoice.VoidRequest{Number: paid.Number, IdempotencyKey: "x4", Order: unpaid}, false, CodeCreditNoteRequired},
		{"credit note", invoice.VoidRequest{Number: credit.Number, IdempotencyKey: "x5", Order: unpaid}, false, CodeCreditNoteNotVoidable},
		{"no number", invoice.VoidRequest{IdempotencyKey: "x6"}, false, CodeNumberRequired},
	}
	for _, tc := range tests {
		res, err := rule.VoidInvoice(ctx, tc.req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var code string
		if len(res.Problems) > 0 {
			code = res.Problems[0].Code
		}
		if res.Voided != tc.wantVoid || code != tc.wantCode {
			t.Errorf("%s: voided %v %+v, want %v %q", tc.name, res.Voided, res.Problems, tc.wantVoid, tc.wantCode)
		}
	}
}

func TestEvaluateModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		config string
		ev     invoice.Event
		want   bool
	}{
		{`{"issue_on":"on_fulfilled"}`, event(EventOrderPaid), false},
		{`{"issue_on":"on_fulfilled"}`, event(EventOrderFulfilled), true},
		{`{"issue_on":"on_fulfilled"}`, event(EventOrderShipped), true},
		{`{"issue_on":"on_request"}`, event(EventOrderPaid), false},
		{`{"issue_on":"on_request"}`, event(EventInvoiceRequested), true},
		{`{"issue_on":"on_request"}`, event(EventInvoiceRequested, "INV-000001"), false},
		{`{"issue_on":"on_request","credit_note_on_refund":false}`, event(EventRefundSucceeded, "INV-000001"), false},
		{`{"issue_on":"on_paid","number_prefix":""}`, event(EventOrderPaid, "CN-000001"), true},
		{`{"issue_on":"on_paid","number_prefix":""}`, event(EventOrderPaid, "000001"), false},
	}
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID})
	rule, _ := p.Rule()
	for _, tc := range tests {
		if res, err := p.Plugin().Configure(context.Background(), json.RawMessage(tc.config)); err != nil || !res.OK() {
			t.Fatalf("Configure(%s): %+v %v", tc.config, res.Errors, err)
		}
		d, err := rule.Evaluate(context.Background(), tc.ev)
		if err != nil {
			t.Fatal(err)
		}
		if d.Issue != tc.want || d.Reason == "" {
			t.Errorf("%s with %s %v: issue %v (%s), want %v", tc.ev.Type, tc.config, tc.ev.InvoiceNumbers, d.Issue, d.Reason, tc.want)
		}
	}
}

func TestSettingsRefused(t *testing.T) {
	t.Parallel()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID})
	tests := []struct{ config, field, code string }{
		{`{}`, "/issue_on", "required"},
		{`{"issue_on":"on_paid","credit_note_prefix":"INV"}`, "/credit_note_prefix", "ambiguous_prefix"},
		{`{"issue_on":"on_paid","number_prefix":"A","credit_note_prefix":"A1"}`, "/credit_note_prefix", "ambiguous_prefix"},
		{`{"issue_on":"sometimes"}`, "/issue_on", "enum"},
		{`{"issue_on":"on_paid","number_prefix":"INV #"}`, "/number_prefix", "pattern"},
		{`{"issue_on":"on_paid","seller":{"nickname":"x"}}`, "/seller/nickname", "unknown_field"},
	}
	for _, tc := range tests {
		res, err := p.Plugin().Configure(context.Background(), json.RawMessage(tc.config))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Errors) != 1 || res.Errors[0].Field != tc.field || res.Errors[0].Code != tc.code {
			t.Errorf("%s: %+v, want %s on %s", tc.config, res.Errors, tc.code, tc.field)
		}
	}
}

// TestUnicodeFontRefusedAlike: staff choose the font path and the plugin
// reads it, so every file it cannot use gets the same answer (no oracle
// for which files exist), and FIFOs, devices and huge files are refused
// without reading them (they would hang Configure or exhaust memory).
func TestUnicodeFontRefusedAlike(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "font.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	devLink := filepath.Join(dir, "zero.ttf")
	if err := os.Symlink("/dev/zero", devLink); err != nil {
		t.Fatal(err)
	}
	// Sparse: a TrueType header followed by a hole past the size limit.
	huge := filepath.Join(dir, "huge.ttf")
	if err := os.WriteFile(huge, []byte("\x00\x01\x00\x00\x00\x10\x00\x80\x00\x03\x00\x70"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, maxFontSize+1); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "font.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID})
	for _, tc := range []struct{ name, path string }{
		{"missing", "/nonexistent/font.ttf"},
		{"not a font", binary},
		{"directory", dir},
		{"FIFO", fifo},
		{"device", "/dev/zero"},
		{"link to a device", devLink},
		{"socket", sock},
		{"too large", huge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A Configure that reads the FIFO or /dev/zero never answers.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			raw, _ := json.Marshal(map[string]string{"issue_on": "on_paid", "unicode_font": tc.path})
			res, err := p.Plugin().Configure(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			want := []sdk.ConfigError{{Field: "/unicode_font", Code: "font_unusable", Message: fontUnusable}}
			if diff := cmp.Diff(want, res.Errors); diff != "" {
				t.Errorf("unicode_font %s (-want +got):\n%s", tc.path, diff)
			}
		})
	}
}

func TestFormatAmount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{123456, "EUR", "1,234.56"}, {5, "EUR", "0.05"}, {-5, "EUR", "-0.05"}, {0, "USD", "0.00"},
		{1234567, "JPY", "1,234,567"}, {1234, "KWD", "1.234"}, {100000000, "CNY", "1,000,000.00"},
	} {
		if got := formatAmount(tc.minor, tc.currency); got != tc.want {
			t.Errorf("formatAmount(%d, %s) = %q, want %q", tc.minor, tc.currency, got, tc.want)
		}
	}
}

// checkPDF checks that b is a complete PDF: header, cross-reference,
// trailer and end marker.
func checkPDF(t *testing.T, b []byte) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("%PDF-1.")) {
		t.Fatalf("no PDF header: %q", b[:min(len(b), 16)])
	}
	tail := b[max(0, len(b)-1024):]
	for _, s := range []string{"trailer", "startxref", "%%EOF"} {
		if !bytes.Contains(tail, []byte(s)) {
			t.Errorf("PDF has no %q near its end", s)
		}
	}
	if !bytes.Contains(b, []byte("/Type /Catalog")) || !bytes.Contains(b, []byte("xref")) {
		t.Errorf("PDF lacks a catalog or a cross-reference table")
	}
}

// poppler returns the path of a poppler tool, skipping the test when it
// is missing outside CI (apt-get install poppler-utils).
func poppler(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (apt-get install poppler-utils)", tool)
		}
		t.Skipf("%s not installed (apt-get install poppler-utils)", tool)
	}
	return path
}

func writePDF(t *testing.T, doc invoice.Document) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), doc.FileName)
	if err := os.WriteFile(path, doc.Content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}

// TestPDFContent reads the invoice back with poppler's pdftotext: every
// fact an invoice needs is on the page, amounts in the currency's digits.
// Set KASSA_INVOICE_PNG=path to also get the first page as a PNG.
func TestPDFContent(t *testing.T) {
	t.Parallel()
	pdftotext := poppler(t, "pdftotext")
	rule := startRule(t, testConfig, "")
	seq := newSequence()
	doc := issue(t, rule, seq, issueRequest(sampleOrder()), "p1")
	checkPDF(t, doc.Content)
	path := writePDF(t, doc)
	text := runTool(t, pdftotext, "-layout", path, "-")
	for _, want := range []string{
		"INVOICE", "INV-000001", "2026-03-14", "#1001",
		"Kassa Demo GmbH", "Friedrichstraße 12", "10117 Berlin", "Tax ID: DE 123 456 789",
		"BILL TO", "Müller & Söhne KG", "Jürgen Müller", "Tax ID: ATU12345678", "Austria",
		"Sencha green tea", "SKU TEA-SENCHA-250", "12.90", "25.80", "7%", "Discount -5.90", "53.10", "19%",
		"Subtotal", "84.80", "Shipping", "4.90", "incl. VAT 7% of 24.11", "1.69", "incl. VAT 19% of 48.74", "9.26",
		"Total EUR", "83.80", "Paid", "-83.80", "Amount due", "0.00",
		"Payable within 14 days", "Page 1 of 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("invoice text lacks %q:\n%s", want, text)
		}
	}
	if png := os.Getenv("KASSA_INVOICE_PNG"); png != "" {
		runTool(t, poppler(t, "pdftoppm"), "-png", "-r", "80", "-singlefile", path, strings.TrimSuffix(png, ".png"))
	}

	// Tax added to the prices: a line's amount is net, as the subtotal
	// is, so the lines, the shipping and the tax add up to the total.
	ex := sampleOrder()
	ex.Lines = []invoice.OrderLine{{Name: "Oolong", Quantity: 2, UnitPrice: eur(1000), TaxRate: "19", Tax: eur(380), Total: eur(2380)}}
	ex.Taxes = []invoice.TaxLine{{Name: "VAT", Rate: "19", Base: eur(2500), Amount: eur(475)}}
	ex.Totals = invoice.Totals{Subtotal: eur(2000), Shipping: eur(500), Tax: eur(475), Total: eur(2975)}
	text = runTool(t, pdftotext, "-layout", writePDF(t, issue(t, rule, seq, issueRequest(ex), "p-ex")), "-")
	for _, want := range []string{"Oolong", "20.00", "VAT 19% of 25.00", "4.75", "Total EUR", "29.75"} {
		if !strings.Contains(text, want) {
			t.Errorf("tax-exclusive invoice text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "23.80") {
		t.Errorf("tax-exclusive invoice shows a line with its tax:\n%s", text)
	}

	// A credit note in yen: no decimals, negative amounts, the reference.
	jpy := func(a int64) sdk.Money { return sdk.Money{Amount: a, Currency: "JPY"} }
	cn := creditRequest()
	cn.OriginalInvoiceNumber = doc.Number
	cn.Order.Currency = "JPY"
	cn.Order.Lines = []invoice.OrderLine{{Name: "Matcha", Quantity: 3, UnitPrice: jpy(1200), TaxRate: "10", Tax: jpy(327), Total: jpy(3600), PricesIncludeTax: true}}
	cn.Order.Taxes = nil
	cn.Order.Totals = invoice.Totals{Subtotal: jpy(3600), Tax: jpy(327), Total: jpy(3600)}
	credit := issue(t, rule, seq, cn, "p2")
	if len(credit.Problems) > 0 {
		t.Fatalf("credit note refused: %+v", credit.Problems)
	}
	text = runTool(t, pdftotext, "-layout", writePDF(t, credit), "-")
	for _, want := range []string{"CREDIT NOTE", "CN-000001", "Corrects invoice", "INV-000001", "-1,200", "-3,600", "Total credited JPY",
		"Tax 10% of -3,273", "-327", "This credit note corrects invoice INV-000001 of order #1001."} {
		if !strings.Contains(text, want) {
			t.Errorf("credit note text lacks %q:\n%s", want, text)
		}
	}

	// A refund of an amount: one line, the tax Kassa credits with it
	// inside it, so the note adds up.
	am := creditRequest()
	am.OriginalInvoiceNumber = doc.Number
	am.Order.Lines = nil
	am.Order.Taxes = []invoice.TaxLine{{Name: "Tax", Base: eur(885), Amount: eur(115)}}
	am.Order.Totals = invoice.Totals{Tax: eur(115), Total: eur(1000)}
	text = runTool(t, pdftotext, "-layout", writePDF(t, issue(t, rule, seq, am, "p3")), "-")
	for _, want := range []string{"Refund for order #1001", "Subtotal", "-10.00", "incl. Tax of -8.85", "-1.15", "Total credited EUR",
		"Prices include tax."} {
		if !strings.Contains(text, want) {
			t.Errorf("credit note of an amount lacks %q:\n%s", want, text)
		}
	}
}

// chineseOrder has a buyer who writes in Chinese.
func chineseOrder() invoice.Order {
	o := sampleOrder()
	o.Buyer = invoice.Party{Name: "王小明", Company: "北京茶叶有限公司", TaxID: "91110000600037341L",
		Address: invoice.Address{Lines: []string{"朝阳区建国路88号"}, City: "北京", PostalCode: "100022", Country: "CN"}}
	o.Lines[0].Name = "龙井茶 Longjing tea"
	return o
}

// TestNonLatinWithCoreFont: without a Unicode font, Chinese text prints as
// '?' and the names as written are in the PDF's metadata.
func TestNonLatinWithCoreFont(t *testing.T) {
	t.Parallel()
	pdftotext, pdfinfo := poppler(t, "pdftotext"), poppler(t, "pdfinfo")
	rule := startRule(t, testConfig, "")
	doc := issue(t, rule, newSequence(), issueRequest(chineseOrder()), "z1")
	if len(doc.Problems) > 0 {
		t.Fatalf("refused: %+v", doc.Problems)
	}
	path := writePDF(t, doc)
	text := runTool(t, pdftotext, "-layout", path, "-")
	for _, want := range []string{"????????", "??? Longjing tea", "Tax ID: 91110000600037341L", "China"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	info := strings.Join(strings.Fields(runTool(t, pdfinfo, path)), " ")
	for _, want := range []string{"Buyer: 北京茶叶有限公司, 王小明, tax id 91110000600037341L", "Seller: Kassa Demo GmbH", "Title: Invoice INV-000001"} {
		if !strings.Contains(info, want) {
			t.Errorf("metadata lacks %q:\n%s", want, info)
		}
	}
}

// TestUnicodeFont: with a CJK TrueType font configured, Chinese text is
// drawn as written.
func TestUnicodeFont(t *testing.T) {
	t.Parallel()
	font := os.Getenv("KASSA_TEST_CJK_FONT")
	if font == "" {
		font = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"
	}
	if _, err := os.Stat(font); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs a CJK TrueType font at %s (.ci/run installs fonts-droid-fallback)", font)
		}
		t.Skipf("no CJK TrueType font at %s (apt-get install fonts-droid-fallback, or set KASSA_TEST_CJK_FONT)", font)
	}
	pdftotext := poppler(t, "pdftotext")
	rule := startRule(t, `{"issue_on":"on_paid","unicode_font":"`+font+`"}`, "")
	doc := issue(t, rule, newSequence(), issueRequest(chineseOrder()), "u1")
	if len(doc.Problems) > 0 {
		t.Fatalf("refused: %+v", doc.Problems)
	}
	checkPDF(t, doc.Content)
	path := writePDF(t, doc)
	if png := os.Getenv("KASSA_INVOICE_PNG"); png != "" {
		runTool(t, poppler(t, "pdftoppm"), "-png", "-r", "80", "-singlefile", path, strings.TrimSuffix(png, ".png")+"-cjk")
	}
	text := runTool(t, pdftotext, "-layout", path, "-")
	for _, want := range []string{"北京茶叶有限公司", "王小明", "朝阳区建国路88号", "龙井茶 Longjing tea", "Friedrichstraße 12"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	t.Logf("invoice with a CJK font subset: %d bytes", len(doc.Content))
	if len(doc.Content) > 256<<10 {
		t.Errorf("document is %d bytes: the font should be subset", len(doc.Content))
	}
}

func TestToWinAnsi(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Müller € „Tee“": "M\xfcller \x80 \x84Tee\x93", "Łódź": "?\xf3dz", "Ștefan": "Stefan", "王": "?", "a\u2212b": "a-b",
	} {
		got, _ := toWinAnsi(in)
		if got != want {
			t.Errorf("toWinAnsi(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestManyLines: a long order flows onto further pages with the table
// header repeated.
func TestManyLines(t *testing.T) {
	t.Parallel()
	pdftotext := poppler(t, "pdftotext")
	o := sampleOrder()
	for i := range 60 {
		l := o.Lines[0]
		l.Name = fmt.Sprintf("Sample tea no. %d", i+1)
		o.Lines = append(o.Lines, l)
	}
	doc := issue(t, startRule(t, testConfig, ""), newSequence(), issueRequest(o), "m1")
	if len(doc.Problems) > 0 {
		t.Fatalf("refused: %+v", doc.Problems)
	}
	path := writePDF(t, doc)
	if png := os.Getenv("KASSA_INVOICE_PNG"); png != "" {
		runTool(t, poppler(t, "pdftoppm"), "-png", "-r", "60", "-f", "2", "-l", "2", "-singlefile", path, strings.TrimSuffix(png, ".png")+"-page2")
	}
	text := runTool(t, pdftotext, "-layout", path, "-")
	for _, want := range []string{"Sample tea no. 60", "Invoice INV-000001 (continued)", "Page 2 of 4", "Page 4 of 4", "Total EUR"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if n := strings.Count(text, "Description"); n != 4 {
		t.Errorf("table header printed %d times, want once per page (4)", n)
	}
}

// TestRelativeFontJudgedWithTheDataDirectory: a relative unicode_font is
// read in the plugin's data directory. The process Kassa starts only to
// ask about new settings has none, so it leaves the font to the process
// that has it, which refuses a font that is not there.
func TestRelativeFontJudgedWithTheDataDirectory(t *testing.T) {
	t.Parallel()
	s := settings{IssueOn: "on_paid", UnicodeFont: "fonts/missing.ttf"}
	if errs := s.check("", slog.New(slog.DiscardHandler)); errs != nil {
		t.Fatalf("without a data directory: %v, want the font left to the working process", errs)
	}
	if errs := s.check(t.TempDir(), slog.New(slog.DiscardHandler)); len(errs) != 1 || errs[0].Code != "font_unusable" {
		t.Fatalf("with the data directory: %v, want font_unusable", errs)
	}
}

// TestNonLatinWarnedOnce: a shop without a Unicode font is warned once
// that its documents print '?', not once per document.
func TestNonLatinWarnedOnce(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		buf bytes.Buffer
	)
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID, Logger: log})
	if res, err := p.Plugin().Configure(context.Background(), json.RawMessage(testConfig)); err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res.Errors, err)
	}
	rule, err := p.Rule()
	if err != nil {
		t.Fatal(err)
	}
	seq := newSequence()
	for i := range 3 {
		issue(t, rule, seq, issueRequest(chineseOrder()), fmt.Sprintf("w%d", i))
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(buf.String(), "text outside Latin-1"); n != 1 {
		t.Fatalf("%d warnings for 3 documents:\n%s", n, buf.String())
	}
}

// lockedWriter serializes writes from the plugin's log forwarding.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestSettingsInChinese: the admin in Chinese shows every setting's title
// and description in Chinese, none in English.
func TestSettingsInChinese(t *testing.T) { plugintest.CheckTranslated(t, schema.String(), "zh-CN") }
