package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/invoice"
)

// registerFile is the plugin's journal in KASSA_PLUGIN_DATA_DIR: one JSON
// object per line, appended, never rewritten. It holds no document
// content and no personal data, only numbers, keys, order ids and dates.
const registerFile = "invoice-standard-register.jsonl"

// issuedDoc is an issued document as the register remembers it.
type issuedDoc struct {
	Key      string    `json:"key"`
	Number   string    `json:"number"`
	Kind     string    `json:"kind"`
	OrderID  string    `json:"order_id,omitempty"`
	IssuedAt time.Time `json:"issued_at"`
	Original string    `json:"original,omitempty"`
}

// voidRecord is the answer to a VoidInvoice call.
type voidRecord struct {
	Key      string            `json:"key"`
	Number   string            `json:"number"`
	Voided   bool              `json:"voided"`
	Problems []invoice.Problem `json:"problems,omitempty"`
}

func (v *voidRecord) result() invoice.VoidResult {
	return invoice.VoidResult{Voided: v.Voided, Problems: v.Problems}
}

// entry is one journal line.
type entry struct {
	Issued *issuedDoc  `json:"issued,omitempty"`
	Void   *voidRecord `json:"void,omitempty"`
}

// register is what the plugin remembers about the documents it issued:
// the date of each (so a retry renders the same document) and voids (so
// they are idempotent). Kassa's database stays the source of truth.
type register struct {
	path   string // empty: memory only
	issued map[string]*issuedDoc
	voids  map[string]*voidRecord
	voided map[string]bool
	// credits maps an invoice number to the credit note correcting it.
	credits map[string]string
}

func loadRegister(dir string) (*register, error) {
	r := &register{issued: map[string]*issuedDoc{}, voids: map[string]*voidRecord{}, voided: map[string]bool{}, credits: map[string]string{}}
	if dir == "" {
		return r, nil
	}
	r.path = filepath.Join(dir, registerFile)
	f, err := os.Open(r.path)
	if os.IsNotExist(err) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// A torn last line after a crash: the call it recorded was not
			// answered, so Kassa retries it.
			fmt.Fprintf(os.Stderr, "invoice.standard: skipping unreadable line %d of %s: %v\n", line, r.path, err)
			continue
		}
		r.apply(e)
	}
	return r, sc.Err()
}

func (r *register) apply(e entry) {
	if d := e.Issued; d != nil {
		r.issued[d.Key] = d
		if d.Original != "" {
			r.credits[d.Original] = d.Number
		}
	}
	if v := e.Void; v != nil {
		if v.Key != "" {
			r.voids[v.Key] = v
		}
		if v.Voided {
			r.voided[v.Number] = true
		}
	}
}

func (r *register) creditNoteFor(number string) string { return r.credits[number] }

func (r *register) addIssued(d *issuedDoc) error { return r.append(entry{Issued: d}) }

func (r *register) addVoid(v *voidRecord) error { return r.append(entry{Void: v}) }

// append applies e and writes it to the journal (synced).
func (r *register) append(e entry) error {
	r.apply(e)
	if r.path == "" {
		return nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(r.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
