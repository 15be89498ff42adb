package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/invoice"
)

// RuleConfig configures [RunRule].
type RuleConfig struct {
	// Binary is the plugin executable.
	Binary string
	// SHA256 pins the binary; empty means its current checksum.
	SHA256 string
	// Config is a valid settings object.
	Config json.RawMessage
	// Env are extra environment variables.
	Env []string
	// AllowPrivateNetworks configures the plugin as a shop whose owner
	// allows private networks (KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS): set it
	// when Config points at a test server on loopback.
	AllowPrivateNetworks bool
	// Logger receives the plugin's log lines; nil logs them with t.Log.
	Logger *slog.Logger
	// Cases are order events with the decision the rule must take.
	Cases []RuleCase
	// Issue is an invoice request IssueInvoice must fulfil; the kit sets
	// IdempotencyKey. Required.
	Issue invoice.IssueRequest
	// CreditNote is a credit note request; required with
	// invoice.CapCreditNote. The kit sets Kind, IdempotencyKey and
	// OriginalInvoiceNumber (the number issued for Issue).
	CreditNote *invoice.IssueRequest
	// WantMimeType is the documents' type; default "application/pdf".
	WantMimeType string
}

// RuleCase is one Evaluate case.
type RuleCase struct {
	// Name identifies the case.
	Name string
	// Event to evaluate.
	Event invoice.Event
	// WantIssue is the expected decision.
	WantIssue bool
	// WantKind is the expected document kind when WantIssue.
	WantKind invoice.DocumentKind
}

// kitSequence is the host sequence the kit serves: it counts values and
// honours idempotency keys like Kassa's.
type kitSequence struct {
	mu    sync.Mutex
	next  map[string]int64
	byKey map[string]int64
	calls int
}

func (s *kitSequence) Next(_ context.Context, name, key string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if v, ok := s.byKey[name+"\x00"+key]; ok && key != "" {
		return v, nil
	}
	s.next[name]++
	v := s.next[name]
	if key != "" {
		s.byKey[name+"\x00"+key] = v
	}
	return v, nil
}

func (s *kitSequence) consumed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, v := range s.next {
		n += v
	}
	return n
}

// RunRule starts an invoice plugin as Kassa does and checks its contract:
// describe, configure, health, Evaluate decisions, IssueInvoice numbering
// through the host sequence (idempotent, no burned numbers), credit notes
// and VoidInvoice when declared. It logs a summary report.
func RunRule(t *testing.T, cfg RuleConfig) {
	t.Helper()
	s := newSuite(t)
	defer s.report("invoice rule")
	if cfg.WantMimeType == "" {
		cfg.WantMimeType = "application/pdf"
	}
	p := Start(t, StartConfig{Binary: cfg.Binary, SHA256: cfg.SHA256, Env: cfg.Env, Logger: cfg.Logger})
	rule, err := p.Rule()
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	info, configured := commonChecks(s, p, sdk.KindInvoice, []string{invoice.CapCreditNote, invoice.CapVoid}, cfg.Config, cfg.AllowPrivateNetworks)
	if !configured {
		return
	}
	for _, c := range cfg.Cases {
		s.check("evaluate/"+c.Name, func(t *testing.T) {
			d, err := rule.Evaluate(ctxT(t, 10*time.Second), c.Event)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if d.Issue != c.WantIssue || (c.WantIssue && d.Kind != c.WantKind) {
				t.Errorf("Evaluate(%s) = issue %v %s, want issue %v %s (reason %q)", c.Event.Type, d.Issue, d.Kind, c.WantIssue, c.WantKind, d.Reason)
			}
			if d.Reason == "" {
				t.Errorf("Evaluate gave no Reason for the order timeline")
			}
		})
	}
	seq := &kitSequence{next: map[string]int64{}, byKey: map[string]int64{}}
	var first invoice.Document
	issued := s.check("issue/invoice", func(t *testing.T) {
		req := cfg.Issue
		req.Kind, req.IdempotencyKey = invoice.DocumentInvoice, "plugintest_inv_1"
		doc, err := rule.IssueInvoice(ctxT(t, 30*time.Second), req, seq)
		if err != nil {
			t.Fatalf("IssueInvoice: %v", err)
		}
		checkDocument(t, doc, cfg.WantMimeType)
		if seq.consumed() != 1 {
			t.Errorf("issuing one invoice consumed %d sequence values, want 1 (numbers come from the host sequence)", seq.consumed())
		}
		first = doc
	})
	s.check("issue/idempotent_retry", func(t *testing.T) {
		if !issued {
			s.skipf(t, "needs issue/invoice")
		}
		req := cfg.Issue
		req.Kind, req.IdempotencyKey = invoice.DocumentInvoice, "plugintest_inv_1"
		doc, err := rule.IssueInvoice(ctxT(t, 30*time.Second), req, seq)
		if err != nil {
			t.Fatalf("retried IssueInvoice: %v", err)
		}
		if doc.Number != first.Number {
			t.Errorf("a retry with the same idempotency key got number %q, want %q", doc.Number, first.Number)
		}
		if seq.consumed() != 1 {
			t.Errorf("a retry burned a number: %d values consumed, want 1 (pass IdempotencyKey to Sequence.Next)", seq.consumed())
		}
	})
	s.check("issue/next_number", func(t *testing.T) {
		if !issued {
			s.skipf(t, "needs issue/invoice")
		}
		req := cfg.Issue
		req.Kind, req.IdempotencyKey = invoice.DocumentInvoice, "plugintest_inv_2"
		doc, err := rule.IssueInvoice(ctxT(t, 30*time.Second), req, seq)
		if err != nil {
			t.Fatalf("IssueInvoice: %v", err)
		}
		checkDocument(t, doc, cfg.WantMimeType)
		if doc.Number == first.Number {
			t.Errorf("two invoices got the same number %q", doc.Number)
		}
		if seq.consumed() != 2 {
			t.Errorf("two invoices consumed %d sequence values, want 2 (no gaps)", seq.consumed())
		}
	})
	if info.Has(invoice.CapCreditNote) {
		s.check("issue/credit_note", func(t *testing.T) {
			if cfg.CreditNote == nil {
				t.Fatalf("the plugin declares %q: set RuleConfig.CreditNote", invoice.CapCreditNote)
			}
			if !issued {
				s.skipf(t, "needs issue/invoice")
			}
			req := *cfg.CreditNote
			req.Kind, req.IdempotencyKey, req.OriginalInvoiceNumber = invoice.DocumentCreditNote, "plugintest_cn_1", first.Number
			doc, err := rule.IssueInvoice(ctxT(t, 30*time.Second), req, seq)
			if err != nil {
				t.Fatalf("IssueInvoice(credit note): %v", err)
			}
			checkDocument(t, doc, cfg.WantMimeType)
			if doc.Number == first.Number {
				t.Errorf("the credit note got the invoice's number %q", doc.Number)
			}
		})
	}
	if info.Has(invoice.CapVoid) {
		s.check("void", func(t *testing.T) {
			if !issued {
				s.skipf(t, "needs issue/invoice")
			}
			res, err := rule.VoidInvoice(ctxT(t, 10*time.Second), invoice.VoidRequest{Number: first.Number, Reason: "plugintest", IdempotencyKey: "plugintest_void_1", Order: cfg.Issue.Order})
			if err != nil {
				t.Fatalf("VoidInvoice: %v", err)
			}
			if !res.Voided && len(res.Problems) == 0 {
				t.Errorf("VoidInvoice neither voided nor explained why (Problems)")
			}
		})
	} else {
		s.check("void/undeclared_is_unimplemented", func(t *testing.T) {
			_, err := rule.VoidInvoice(ctxT(t, 10*time.Second), invoice.VoidRequest{Number: "X", IdempotencyKey: "plugintest_void_x"})
			if err != nil && !errors.Is(err, sdk.ErrUnimplemented) {
				t.Errorf("VoidInvoice without capability %q: %v, want ErrUnimplemented", invoice.CapVoid, err)
			}
		})
	}
}

func checkDocument(t *testing.T, doc invoice.Document, mime string) {
	t.Helper()
	if len(doc.Problems) > 0 {
		t.Fatalf("IssueInvoice refused: %+v", doc.Problems)
	}
	if doc.Number == "" {
		t.Errorf("document has no number")
	}
	if len(doc.Content) == 0 {
		t.Errorf("document has no content")
	}
	if doc.MimeType != mime {
		t.Errorf("document type %q, want %q", doc.MimeType, mime)
	}
	if mime == "application/pdf" && len(doc.Content) > 4 && string(doc.Content[:5]) != "%PDF-" {
		t.Errorf("document does not start with %%PDF-: %q", fmt.Sprintf("%.20q", doc.Content))
	}
	if doc.FileName == "" {
		t.Errorf("document has no file name")
	}
}
