package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/invoice"
)

// ID is the plugin's id.
const ID = "invoice.standard"

// Version is the plugin's version.
const Version = "1.0.0"

// When to issue invoices: the values of the issue_on setting.
const (
	// IssueOnPaid issues the invoice when the order is paid.
	IssueOnPaid = "on_paid"
	// IssueOnFulfilled issues the invoice when the order is shipped.
	IssueOnFulfilled = "on_fulfilled"
	// IssueOnRequest issues invoices only when staff or the buyer ask.
	IssueOnRequest = "on_request"
)

// How credit notes are numbered: the values of credit_note_numbering.
const (
	// NumberingSeparate gives credit notes their own sequence.
	NumberingSeparate = "separate"
	// NumberingShared numbers credit notes in the invoices' sequence.
	NumberingShared = "shared"
)

var schema = sdk.MustCompileSchema(`{
  "type": "object",
  "additionalProperties": false,
  "required": ["issue_on"],
  "properties": {
    "issue_on": {
      "type": "string", "enum": ["on_paid", "on_fulfilled", "on_request"],
      "title": "Issue invoices",
      "description": "When an invoice is issued: when the order is paid (on_paid), when it is shipped (on_fulfilled), or only when staff or the buyer ask for one (on_request). An explicit request always issues one."
    },
    "number_prefix": {
      "type": "string", "pattern": "^[A-Za-z0-9_./-]{0,20}$", "default": "INV-",
      "title": "Invoice number prefix",
      "description": "Text before the invoice number, e.g. INV- gives INV-000042. Letters, digits and _ . / - only. Changing it does not restart the numbering."
    },
    "credit_note_prefix": {
      "type": "string", "pattern": "^[A-Za-z0-9_./-]{1,20}$", "default": "CN-",
      "title": "Credit note number prefix",
      "description": "Text before credit note numbers, e.g. CN-. Must differ from the invoice prefix so documents can be told apart."
    },
    "credit_note_numbering": {
      "type": "string", "enum": ["separate", "shared"], "default": "separate",
      "title": "Credit note numbering",
      "description": "separate: credit notes have their own gapless sequence (CN-000001, CN-000002, ...). shared: invoices and credit notes share one gapless sequence (INV-000001, CN-000002, INV-000003); some tax authorities ask for this."
    },
    "credit_note_on_refund": {
      "type": "boolean", "default": true,
      "title": "Credit note on refund",
      "description": "Issue a credit note, referencing the invoice, when a refund of an invoiced order succeeds."
    },
    "yearly_numbering": {
      "type": "boolean", "default": false,
      "title": "Restart numbering every year",
      "description": "Put the year in the number (INV-2026-000001) and restart the sequence at 1 each calendar year (UTC)."
    },
    "number_digits": {
      "type": "integer", "minimum": 1, "maximum": 12, "default": 6,
      "title": "Digits",
      "description": "Minimum number of digits of the running number, padded with zeros (6 gives 000042)."
    },
    "seller": {
      "type": "object", "additionalProperties": false,
      "title": "Seller details",
      "description": "Overrides the store's legal details on documents; fields left empty keep the store's values.",
      "properties": {
        "name": {"type": "string", "maxLength": 200, "title": "Name", "description": "Legal name of the business."},
        "company": {"type": "string", "maxLength": 200, "title": "Company", "description": "Company name when different from the name."},
        "tax_id": {"type": "string", "maxLength": 40, "title": "Tax id", "description": "VAT or tax registration number."},
        "email": {"type": "string", "maxLength": 200, "title": "Email", "description": "Contact email printed on documents."},
        "phone": {"type": "string", "maxLength": 40, "title": "Phone", "description": "Contact phone printed on documents."},
        "address_lines": {"type": "array", "maxItems": 4, "items": {"type": "string", "maxLength": 200}, "title": "Street", "description": "Street address lines."},
        "postal_code": {"type": "string", "maxLength": 20, "title": "Postal code", "description": "Postal code."},
        "city": {"type": "string", "maxLength": 100, "title": "City", "description": "City."},
        "region": {"type": "string", "maxLength": 100, "title": "Region", "description": "State or province."},
        "country": {"type": "string", "pattern": "^([A-Z]{2})?$", "title": "Country", "description": "ISO 3166-1 alpha-2 country code, e.g. DE."}
      }
    },
    "footer_note": {
      "type": "string", "maxLength": 1000,
      "title": "Footer note",
      "description": "Text printed at the bottom of every document: payment terms, bank details, registration court, a thank-you."
    },
    "unicode_font": {
      "type": "string", "maxLength": 500,
      "title": "Unicode font file",
      "description": "Path to a TrueType (.ttf) font file on the Kassa server covering your customers' scripts (e.g. a Noto Sans SC or Droid Sans Fallback .ttf for Chinese), at most 50 MB; relative paths are inside the plugin's data directory. A path that is not such a file gets one answer whatever the reason; the server log says which. Without it documents use the PDF core font Helvetica, which covers Western European (Latin-1) text only: other characters print as '?' and the names as written are kept in the PDF's metadata."
    }
  }
}`)

// settings are the plugin's settings; see the schema for their meaning.
type settings struct {
	IssueOn             string      `json:"issue_on"`
	NumberPrefix        *string     `json:"number_prefix"`
	CreditNotePrefix    string      `json:"credit_note_prefix"`
	CreditNoteNumbering string      `json:"credit_note_numbering"`
	CreditNoteOnRefund  *bool       `json:"credit_note_on_refund"`
	YearlyNumbering     bool        `json:"yearly_numbering"`
	NumberDigits        int         `json:"number_digits"`
	Seller              *sellerInfo `json:"seller"`
	FooterNote          string      `json:"footer_note"`
	UnicodeFont         string      `json:"unicode_font"`

	// font holds the Unicode font's bytes, loaded by Configure.
	font []byte
}

// sellerInfo is the seller override of the settings.
type sellerInfo struct {
	Name         string   `json:"name"`
	Company      string   `json:"company"`
	TaxID        string   `json:"tax_id"`
	Email        string   `json:"email"`
	Phone        string   `json:"phone"`
	AddressLines []string `json:"address_lines"`
	PostalCode   string   `json:"postal_code"`
	City         string   `json:"city"`
	Region       string   `json:"region"`
	Country      string   `json:"country"`
}

// invoicePrefix returns the invoice number prefix (default "INV-").
func (s *settings) invoicePrefix() string {
	if s.NumberPrefix == nil {
		return "INV-"
	}
	return *s.NumberPrefix
}

// creditPrefix returns the credit note number prefix (default "CN-").
func (s *settings) creditPrefix() string {
	if s.CreditNotePrefix == "" {
		return "CN-"
	}
	return s.CreditNotePrefix
}

func (s *settings) digits() int {
	if s.NumberDigits == 0 {
		return 6
	}
	return s.NumberDigits
}

func (s *settings) creditNoteOnRefund() bool {
	return s.CreditNoteOnRefund == nil || *s.CreditNoteOnRefund
}

// isCreditNote tells a credit note number from an invoice number by its
// prefix; Configure makes sure the prefixes cannot be confused.
func (s *settings) isCreditNote(number string) bool {
	return strings.HasPrefix(number, s.creditPrefix())
}

// check refuses settings the schema cannot express.
func (s *settings) check(dataDir string, log *slog.Logger) []sdk.ConfigError {
	inv, cn := s.invoicePrefix(), s.creditPrefix()
	if strings.HasPrefix(inv, cn) {
		return []sdk.ConfigError{{Field: "/credit_note_prefix", Code: "ambiguous_prefix",
			Message: fmt.Sprintf("credit note prefix %q would also match invoice numbers (prefix %q); choose prefixes that differ at the start, e.g. INV- and CN-", cn, inv)}}
	}
	if rest, ok := strings.CutPrefix(cn, inv); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		return []sdk.ConfigError{{Field: "/credit_note_prefix", Code: "ambiguous_prefix",
			Message: fmt.Sprintf("credit note prefix %q looks like an invoice number with prefix %q", cn, inv)}}
	}
	if s.UnicodeFont != "" {
		path := s.UnicodeFont
		if !filepath.IsAbs(path) {
			if dataDir == "" {
				// Kassa gives every working process its data directory;
				// only the process it starts to ask about new settings
				// runs without one, so as not to open the plugin's files
				// beside the real process. That one reads the font, and
				// refuses it then.
				return nil
			}
			path = filepath.Join(dataDir, path)
		}
		b, err := loadFont(path)
		if err != nil {
			// Staff choose the path and the plugin reads it with its own
			// rights: one answer for every failure, or the message would
			// tell them which files exist on the server. The owner finds
			// the reason in the log.
			log.Warn("unicode_font refused", "path", path, "err", err)
			return []sdk.ConfigError{{Field: "/unicode_font", Code: "font_unusable", Message: fontUnusable}}
		}
		s.font = b
	}
	return nil
}

// maxFontSize bounds the unicode_font file; the largest CJK TrueType fonts
// are about 30 MB.
const maxFontSize = 50 << 20

// fontUnusable is the one message for a unicode_font the plugin cannot use.
const fontUnusable = "not a TrueType (.ttf) font file the plugin can read; font collections (.ttc) and OpenType CFF (.otf) fonts are not supported"

// loadFont reads the TrueType font at path and checks that it can be drawn
// with. Only a regular file of at most maxFontSize bytes is read: a FIFO
// would block Configure and /dev/zero would never end.
func loadFont(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%v)", fi.Mode().Type())
	}
	if fi.Size() > maxFontSize {
		return nil, fmt.Errorf("%d bytes, more than %d", fi.Size(), maxFontSize)
	}
	// O_NONBLOCK: were the path swapped for a FIFO after Stat, opening it
	// would not wait for a writer, and SameFile below refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	if !os.SameFile(fi, opened) {
		return nil, errors.New("the file changed while it was opened")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFontSize+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(b) > maxFontSize {
		return nil, fmt.Errorf("grew to more than %d bytes", maxFontSize)
	}
	if len(b) < 12 || (string(b[:4]) != "\x00\x01\x00\x00" && string(b[:4]) != "true") {
		return nil, errors.New("not a TrueType font")
	}
	if err := probeFont(b); err != nil {
		return nil, fmt.Errorf("cannot draw with it: %w", err)
	}
	return b, nil
}

// Rule is the invoice.standard plugin.
type Rule struct {
	invoice.UnimplementedRule

	dataDir string
	cfg     atomic.Pointer[settings]

	mu  sync.Mutex
	reg *register
}

// New returns the rule with the register of issued documents found in
// dataDir ("" keeps it in memory only).
func New(dataDir string) (*Rule, error) {
	reg, err := loadRegister(dataDir)
	if err != nil {
		return nil, err
	}
	return &Rule{dataDir: dataDir, reg: reg}, nil
}

// logger is the plugin's logger; Serve installs slog's default after New.
func (r *Rule) logger() *slog.Logger { return slog.Default().With("component", "invoice") }

// Describe returns the plugin's identity card.
func (r *Rule) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		ID: ID, Kind: sdk.KindInvoice, Version: Version,
		Capabilities: []string{invoice.CapCreditNote, invoice.CapVoid},
		ConfigSchema: schema.String(),
		DisplayName:  "Standard invoices",
		Description:  "PDF invoices and credit notes with gapless numbers per store, issued when an order is paid, shipped or on request.",
	}, nil
}

// Configure applies new settings.
func (r *Rule) Configure(_ context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	var cfg settings
	if errs := schema.Decode(raw, &cfg); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	if errs := cfg.check(r.dataDir, r.logger()); errs != nil {
		return sdk.ConfigureResult{Errors: errs}, nil
	}
	r.cfg.Store(&cfg)
	return sdk.ConfigureResult{}, nil
}

// Health reports SERVING once settings are in effect.
func (r *Rule) Health(context.Context) (sdk.Health, error) {
	if r.cfg.Load() == nil {
		return sdk.Health{Status: sdk.HealthNotServing, Message: "not configured yet"}, nil
	}
	return sdk.Health{Status: sdk.HealthServing}, nil
}

func main() {
	r, err := New(os.Getenv(sdk.EnvDataDir))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	invoice.Serve(r)
}
