package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/payment"
	sdkstate "github.com/kassahq/kassa/plugins/sdk/state"
)

// record is a sandbox payment. Statuses are stored by name so the journal
// is readable.
type record struct {
	Ref           string `json:"ref"`
	AttemptID     string `json:"attempt_id"`
	OrderNumber   string `json:"order_number"`
	Scenario      string `json:"scenario"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	Status        string `json:"status"`
	CaptureManual bool   `json:"capture_manual"`
	Authorized    int64  `json:"authorized"`
	Captured      int64  `json:"captured"`
	Refunded      int64  `json:"refunded"`
	DeclineCode   string `json:"decline_code,omitempty"`
	NotifyURL     string `json:"notify_url,omitempty"`
	ReturnURL     string `json:"return_url,omitempty"`
	// Locale is the buyer's language, which the payment page speaks.
	Locale    string    `json:"locale,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	SettleAt  time.Time `json:"settle_at,omitzero"`
	// ExpiresAt is when the page stops taking the payment (the order's
	// payment deadline, CreateRequest.ExpiresAt); zero for never.
	ExpiresAt time.Time             `json:"expires_at,omitzero"`
	SettleTo  string                `json:"settle_to,omitempty"`
	Notify    bool                  `json:"notify"`
	Created   payment.CreateResult  `json:"created"`
	Captures  map[string]captureRes `json:"captures,omitempty"`
}

type captureRes struct {
	Status      string `json:"status"`
	Captured    int64  `json:"captured"`
	DeclineCode string `json:"decline_code,omitempty"`
}

// refundRecord is a sandbox refund.
type refundRecord struct {
	ID          string    `json:"id"`
	Ref         string    `json:"ref"`
	AttemptID   string    `json:"attempt_id"`
	Amount      int64     `json:"amount"`
	Currency    string    `json:"currency"`
	Status      string    `json:"status"`
	FailureCode string    `json:"failure_code,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// state is everything testpay remembers, in memory; the journal in
// $KASSA_PLUGIN_DATA_DIR/testpay-records.jsonl makes it survive restarts.
type state struct {
	Payments map[string]*record       `json:"payments"` // by attempt id
	Refunds  map[string]*refundRecord `json:"refunds"`  // by Kassa refund id
	Keys     map[string]string        `json:"keys"`     // CreatePayment idempotency key -> attempt id
	refs     map[string]string        // payment ref -> attempt id: the page and GetPayment by ref look up by it
}

func newState() *state {
	return &state{Payments: map[string]*record{}, Refunds: map[string]*refundRecord{}, Keys: map[string]string{},
		refs: map[string]string{}}
}

func (s *state) byRef(ref string) *record {
	if id, ok := s.refs[ref]; ok {
		return s.Payments[id]
	}
	return nil
}

// putPayment stores p (a new payment or the latest version of one).
func (s *state) putPayment(p *record) {
	s.Payments[p.AttemptID] = p
	s.refs[p.Ref] = p.AttemptID
}

// entry is one change: the whole payment or refund as it is after it,
// and/or an idempotency key of CreatePayment. Whole records rather than
// deltas keep replay trivial; a record is a few hundred bytes. It was the
// line format of the journal before 1.2 (testpay-journal.jsonl).
type entry struct {
	Payment *record       `json:"payment,omitempty"`
	Refund  *refundRecord `json:"refund,omitempty"`
	// Key is a CreatePayment idempotency key for KeyAttempt, or for
	// Payment's attempt when KeyAttempt is empty.
	Key        string `json:"key,omitempty"`
	KeyAttempt string `json:"key_attempt,omitempty"`
}

func (s *state) apply(e entry) error {
	switch {
	case e.Payment != nil:
		if e.Payment.AttemptID == "" || e.Payment.Ref == "" {
			return errors.New("payment without attempt id or ref")
		}
		s.putPayment(e.Payment)
	case e.Refund != nil:
		if e.Refund.ID == "" {
			return errors.New("refund without id")
		}
		s.Refunds[e.Refund.ID] = e.Refund
	case e.Key == "":
		return errors.New("empty entry")
	}
	if e.Key != "" {
		id := e.KeyAttempt
		if id == "" && e.Payment != nil {
			id = e.Payment.AttemptID
		}
		if id == "" {
			return errors.New("key without attempt")
		}
		s.Keys[e.Key] = id
	}
	return nil
}

const (
	// recordsFile is the journal (plugins/sdk/state) of testpay's records.
	recordsFile = "testpay-records.jsonl"
	// oldJournalFile is the journal of testpay 1.1, one entry a line:
	// read once and folded into recordsFile.
	oldJournalFile = "testpay-journal.jsonl"
	// legacyStateFile is the whole-state file of testpay before 1.1,
	// rewritten on every change: read once and folded into recordsFile.
	legacyStateFile = "testpay-state.json"
)

// item is one record of the journal, under the key "p:<attempt id>",
// "r:<refund id>" or "k:<idempotency key>".
type item struct {
	Payment *record       `json:"payment,omitempty"`
	Refund  *refundRecord `json:"refund,omitempty"`
	Attempt string        `json:"attempt,omitempty"` // of an idempotency key
}

// changes are the journal changes of e.
func (e entry) changes() []sdkstate.Change[item] {
	var out []sdkstate.Change[item]
	if e.Payment != nil {
		out = append(out, sdkstate.Change[item]{Key: "p:" + e.Payment.AttemptID, Record: &item{Payment: e.Payment}})
	}
	if e.Refund != nil {
		out = append(out, sdkstate.Change[item]{Key: "r:" + e.Refund.ID, Record: &item{Refund: e.Refund}})
	}
	if e.Key != "" {
		id := e.KeyAttempt
		if id == "" && e.Payment != nil {
			id = e.Payment.AttemptID
		}
		out = append(out, sdkstate.Change[item]{Key: "k:" + e.Key, Record: &item{Attempt: id}})
	}
	return out
}

// open loads the state from dir ("" keeps everything in memory: a nil
// journal) and opens its journal. The records are shared with the
// journal: they are changed under the gateway's mutex only, which also
// covers every journal write.
func open(dir string) (*state, *sdkstate.Store[item], error) {
	s := newState()
	if dir == "" {
		return s, nil, nil
	}
	j, err := sdkstate.Open(sdkstate.Options[item]{Dir: dir, File: recordsFile})
	if err != nil {
		return nil, nil, fmt.Errorf("testpay: %w", err)
	}
	var bad error
	j.Range(func(k string, it item) bool {
		switch {
		case it.Payment != nil && it.Payment.AttemptID != "" && it.Payment.Ref != "":
			s.putPayment(it.Payment)
		case it.Refund != nil && it.Refund.ID != "":
			s.Refunds[it.Refund.ID] = it.Refund
		case it.Attempt != "" && strings.HasPrefix(k, "k:"):
			s.Keys[k[len("k:"):]] = it.Attempt
		default:
			bad = fmt.Errorf("testpay: %s: record %q is empty or incomplete", recordsFile, k)
			return false
		}
		return true
	})
	if bad != nil {
		j.Close()
		return nil, nil, bad
	}
	if err := foldOld(dir, s, j); err != nil {
		j.Close()
		return nil, nil, err
	}
	return s, j, nil
}

// foldOld moves the state files of earlier versions (the whole-state file
// before 1.1, the entry journal of 1.1) into the journal, then removes
// them: the journal holds it all before they go.
func foldOld(dir string, s *state, j *sdkstate.Store[item]) error {
	legacy, err := loadLegacy(dir, s)
	if err != nil {
		return err
	}
	old, err := replayOld(filepath.Join(dir, oldJournalFile), s)
	if err != nil {
		return err
	}
	if !legacy && !old {
		return nil
	}
	var cs []sdkstate.Change[item]
	for _, p := range s.Payments {
		cs = append(cs, entry{Payment: p}.changes()...)
	}
	for _, r := range s.Refunds {
		cs = append(cs, entry{Refund: r}.changes()...)
	}
	for k, id := range s.Keys {
		cs = append(cs, entry{Key: k, KeyAttempt: id}.changes()...)
	}
	if err := j.Append(cs...); err != nil {
		return fmt.Errorf("testpay: fold old state: %w", err)
	}
	if err := j.Compact(); err != nil { // fsyncs the journal
		return fmt.Errorf("testpay: fold old state: %w", err)
	}
	for _, name := range []string{legacyStateFile, oldJournalFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("testpay: remove %s: %w", name, err)
		}
	}
	return nil
}

func loadLegacy(dir string, s *state) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, legacyStateFile))
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("testpay: read %s: %w", legacyStateFile, err)
	}
	var old state
	if err := json.Unmarshal(b, &old); err != nil {
		return false, fmt.Errorf("testpay: corrupt state file %s: %w", legacyStateFile, err)
	}
	for _, p := range old.Payments {
		s.putPayment(p)
	}
	for id, r := range old.Refunds {
		s.Refunds[id] = r
	}
	for k, id := range old.Keys {
		s.Keys[k] = id
	}
	return true, nil
}

// replayOld applies the 1.1 journal at path to s. Its text after the last
// newline is a write cut short by a crash, never acknowledged: dropped.
func replayOld(path string, s *state) (bool, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("testpay: read %s: %w", oldJournalFile, err)
	}
	lines := bytes.Split(b, []byte("\n"))
	for n, line := range lines[:len(lines)-1] {
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			return false, fmt.Errorf("testpay: corrupt journal %s line %d: %w", oldJournalFile, n+1, err)
		}
		if err := s.apply(e); err != nil {
			return false, fmt.Errorf("testpay: corrupt journal %s line %d: %w", oldJournalFile, n+1, err)
		}
	}
	return true, nil
}
