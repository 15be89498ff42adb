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
	"time"

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
      "title": "Issue invoices", "x-kassa-titles": {"zh-CN": "开具发票的时机"},
      "description": "When an invoice is issued: when the order is paid (on_paid), when it is shipped (on_fulfilled), or only when staff or the buyer ask for one (on_request). An explicit request always issues one.", "x-kassa-descriptions": {"zh-CN": "何时开具发票：订单付款时（on_paid）、发货时（on_fulfilled），或仅在员工或买家要求时（on_request）。明确要求时总会开具。"}
    },
    "number_prefix": {
      "type": "string", "pattern": "^[A-Za-z0-9_./-]{0,20}$", "default": "INV-",
      "title": "Invoice number prefix", "x-kassa-titles": {"zh-CN": "发票号前缀"},
      "description": "Text before the invoice number, e.g. INV- gives INV-000042. Letters, digits and _ . / - only. Changing it does not restart the numbering.", "x-kassa-descriptions": {"zh-CN": "发票号前面的文字，例如 INV- 得到 INV-000042。只能使用字母、数字和 _ . / -。修改它不会重新开始编号。"}
    },
    "credit_note_prefix": {
      "type": "string", "pattern": "^[A-Za-z0-9_./-]{1,20}$", "default": "CN-",
      "title": "Credit note number prefix", "x-kassa-titles": {"zh-CN": "红字发票号前缀"},
      "description": "Text before credit note numbers, e.g. CN-. Must differ from the invoice prefix so documents can be told apart.", "x-kassa-descriptions": {"zh-CN": "红字发票号前面的文字，例如 CN-。须与发票号前缀不同，以便区分单据。"}
    },
    "credit_note_numbering": {
      "type": "string", "enum": ["separate", "shared"], "default": "separate",
      "title": "Credit note numbering", "x-kassa-titles": {"zh-CN": "红字发票编号方式"},
      "description": "separate: credit notes have their own gapless sequence (CN-000001, CN-000002, ...). shared: invoices and credit notes share one gapless sequence (INV-000001, CN-000002, INV-000003); some tax authorities ask for this.", "x-kassa-descriptions": {"zh-CN": "separate：红字发票使用独立的连续编号（CN-000001、CN-000002……）。shared：发票与红字发票共用一个连续编号（INV-000001、CN-000002、INV-000003）；部分税务机关有此要求。"}
    },
    "credit_note_on_refund": {
      "type": "boolean", "default": true,
      "title": "Credit note on refund", "x-kassa-titles": {"zh-CN": "退款时开具红字发票"},
      "description": "Issue a credit note, referencing the invoice, when a refund of an invoiced order succeeds.", "x-kassa-descriptions": {"zh-CN": "已开票订单退款成功时，开具引用原发票的红字发票。"}
    },
    "yearly_numbering": {
      "type": "boolean", "default": false,
      "title": "Restart numbering every year", "x-kassa-titles": {"zh-CN": "每年重新编号"},
      "description": "Put the year in the number (INV-2026-000001) and restart the sequence at 1 each calendar year (UTC).", "x-kassa-descriptions": {"zh-CN": "在编号中加入年份（INV-2026-000001），并在每个日历年（UTC）从 1 重新编号。"}
    },
    "number_digits": {
      "type": "integer", "minimum": 1, "maximum": 12, "default": 6,
      "title": "Digits", "x-kassa-titles": {"zh-CN": "位数"},
      "description": "Minimum number of digits of the running number, padded with zeros (6 gives 000042).", "x-kassa-descriptions": {"zh-CN": "流水号的最少位数，不足时补零（6 得到 000042）。"}
    },
    "seller": {
      "type": "object", "additionalProperties": false,
      "title": "Seller details", "x-kassa-titles": {"zh-CN": "销售方信息"},
      "description": "Overrides the store's legal details on documents; fields left empty keep the store's values.", "x-kassa-descriptions": {"zh-CN": "替换单据上店铺的法定信息；留空的字段沿用店铺的信息。"},
      "properties": {
        "name": {"type": "string", "maxLength": 200, "title": "Name", "x-kassa-titles": {"zh-CN": "名称"}, "description": "Legal name of the business.", "x-kassa-descriptions": {"zh-CN": "企业的法定名称。"}},
        "company": {"type": "string", "maxLength": 200, "title": "Company", "x-kassa-titles": {"zh-CN": "公司"}, "description": "Company name when different from the name.", "x-kassa-descriptions": {"zh-CN": "与名称不同时的公司名称。"}},
        "tax_id": {"type": "string", "maxLength": 40, "title": "Tax id", "x-kassa-titles": {"zh-CN": "税号"}, "description": "VAT or tax registration number.", "x-kassa-descriptions": {"zh-CN": "增值税号或纳税登记号。"}},
        "email": {"type": "string", "maxLength": 200, "title": "Email", "x-kassa-titles": {"zh-CN": "邮箱"}, "description": "Contact email printed on documents.", "x-kassa-descriptions": {"zh-CN": "印在单据上的联系邮箱。"}},
        "phone": {"type": "string", "maxLength": 40, "title": "Phone", "x-kassa-titles": {"zh-CN": "电话"}, "description": "Contact phone printed on documents.", "x-kassa-descriptions": {"zh-CN": "印在单据上的联系电话。"}},
        "address_lines": {"type": "array", "maxItems": 4, "items": {"type": "string", "maxLength": 200}, "title": "Street", "x-kassa-titles": {"zh-CN": "街道地址"}, "description": "Street address lines.", "x-kassa-descriptions": {"zh-CN": "街道地址各行。"}},
        "postal_code": {"type": "string", "maxLength": 20, "title": "Postal code", "x-kassa-titles": {"zh-CN": "邮政编码"}, "description": "Postal code.", "x-kassa-descriptions": {"zh-CN": "邮政编码。"}},
        "city": {"type": "string", "maxLength": 100, "title": "City", "x-kassa-titles": {"zh-CN": "城市"}, "description": "City.", "x-kassa-descriptions": {"zh-CN": "城市。"}},
        "region": {"type": "string", "maxLength": 100, "title": "Region", "x-kassa-titles": {"zh-CN": "省/州"}, "description": "State or province.", "x-kassa-descriptions": {"zh-CN": "州或省。"}},
        "country": {"type": "string", "pattern": "^([A-Z]{2})?$", "title": "Country", "x-kassa-titles": {"zh-CN": "国家/地区"}, "description": "ISO 3166-1 alpha-2 country code, e.g. DE.", "x-kassa-descriptions": {"zh-CN": "ISO 3166-1 二字母国家/地区代码，例如 DE。"}}
      }
    },
    "footer_note": {
      "type": "string", "maxLength": 1000,
      "title": "Footer note", "x-kassa-titles": {"zh-CN": "页脚说明"},
      "description": "Text printed at the bottom of every document: payment terms, bank details, registration court, a thank-you.", "x-kassa-descriptions": {"zh-CN": "印在每份单据底部的文字：付款条件、银行信息、登记机关、致谢语。"}
    },
    "unicode_font": {
      "type": "string", "maxLength": 500,
      "title": "Unicode font file", "x-kassa-titles": {"zh-CN": "Unicode 字体文件"},
      "description": "Path to a TrueType (.ttf) font file on the Kassa server covering your customers' scripts (e.g. a Noto Sans SC or Droid Sans Fallback .ttf for Chinese), at most 50 MB; relative paths are inside the plugin's data directory. A path that is not such a file gets one answer whatever the reason; the server log says which. Without it documents use the PDF core font Helvetica, which covers Western European (Latin-1) text only: other characters print as '?' and the names as written are kept in the PDF's metadata.", "x-kassa-descriptions": {"zh-CN": "Kassa 服务器上覆盖您客户所用文字的 TrueType（.ttf）字体文件路径（中文可用 Noto Sans SC 或 Droid Sans Fallback 的 .ttf），最大 50 MB；相对路径位于插件的数据目录中。不是此类文件的路径无论原因如何都得到同一个答复，具体原因见服务器日志。未设置时单据使用 PDF 核心字体 Helvetica，它只覆盖西欧（Latin-1）文字：其他字符印为“?”，原文名称保留在 PDF 的元数据中。"}
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

	// lossy counts the documents printed with '?' for text outside
	// Latin-1 since the last warning, which goes out at most hourly: a
	// Chinese shop without unicode_font would otherwise log one for every
	// invoice.
	lossyMu     sync.Mutex
	lossyCount  int
	lossyWarned time.Time
}

// lossyWarnEvery is how often a shop without a Unicode font is told
// that its documents print '?'.
const lossyWarnEvery = time.Hour

// noteLossy records a document printed with '?' and warns when the last
// warning is older than lossyWarnEvery, with the number of such documents
// since.
func (r *Rule) noteLossy(number, orderID string) {
	r.lossyMu.Lock()
	defer r.lossyMu.Unlock()
	r.lossyCount++
	if !r.lossyWarned.IsZero() && time.Since(r.lossyWarned) < lossyWarnEvery {
		r.logger().Debug("text outside Latin-1 replaced with '?' in the PDF", "number", number, "order_id", orderID)
		return
	}
	r.logger().Warn("text outside Latin-1 replaced with '?' in the PDF (configure unicode_font); the original text is in the PDF metadata",
		"number", number, "order_id", orderID, "documents", r.lossyCount, "next_warning_in", lossyWarnEvery.String())
	r.lossyCount, r.lossyWarned = 0, time.Now()
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
