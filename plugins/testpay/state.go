package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// record is a sandbox payment. Statuses are stored by name so the journal
// is readable.
type record struct {
	Ref           string                `json:"ref"`
	AttemptID     string                `json:"attempt_id"`
	OrderNumber   string                `json:"order_number"`
	Scenario      string                `json:"scenario"`
	Amount        int64                 `json:"amount"`
	Currency      string                `json:"currency"`
	Status        string                `json:"status"`
	CaptureManual bool                  `json:"capture_manual"`
	Authorized    int64                 `json:"authorized"`
	Captured      int64                 `json:"captured"`
	Refunded      int64                 `json:"refunded"`
	DeclineCode   string                `json:"decline_code,omitempty"`
	NotifyURL     string                `json:"notify_url,omitempty"`
	ReturnURL     string                `json:"return_url,omitempty"`
	CreatedAt     time.Time             `json:"created_at"`
	SettleAt      time.Time             `json:"settle_at,omitzero"`
	SettleTo      string                `json:"settle_to,omitempty"`
	Notify        bool                  `json:"notify"`
	Created       payment.CreateResult  `json:"created"`
	Captures      map[string]captureRes `json:"captures,omitempty"`
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
// $KASSA_PLUGIN_DATA_DIR/testpay-journal.jsonl makes it survive restarts.
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

// entry is one line of the journal: the whole payment or refund as it is
// after a change (the last line about an attempt or refund wins), and/or
// an idempotency key of CreatePayment. Whole records rather than deltas
// keep replay trivial; a record is a few hundred bytes.
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
	journalFile = "testpay-journal.jsonl"
	// legacyStateFile is the whole-state file of testpay before 1.1,
	// rewritten on every change: read once and folded into the journal.
	legacyStateFile = "testpay-state.json"
	// compactMin is the number of journal lines below which the journal
	// is never compacted; above it, it is when it holds more than twice
	// as many lines as live records (each payment is written two or three
	// times: created, settled, refunded), so compaction costs O(1) per
	// change amortized.
	compactMin = 4096
)

// journal appends one JSON line per change to the state: a change costs
// its own size, not the size of everything testpay remembers (the old
// whole-file rewrite made each change O(all payments)). Callers of add
// hold the gateway's mutex; sync is called without it, so the fsyncs of
// concurrent calls are shared (group commit) instead of serializing
// every call behind a disk flush.
type journal struct {
	dir   string
	f     *os.File
	lines int // lines in the file

	mu      sync.Mutex // guards f across compaction and sync, written, synced
	written uint64     // entries written to f
	synced  uint64     // entries known to be on disk
	buf     bytes.Buffer
}

// open loads the state from dir ("" keeps everything in memory: a nil
// journal) and opens the journal for appending. A torn last line (a crash
// in the middle of a write) is dropped; any other unreadable line is an
// error, never silently lost state.
func open(dir string) (*state, *journal, error) {
	s := newState()
	if dir == "" {
		return s, nil, nil
	}
	legacy, err := loadLegacy(dir, s)
	if err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, journalFile)
	lines, err := replay(path, s)
	if err != nil {
		return nil, nil, err
	}
	j := &journal{dir: dir, lines: lines}
	if legacy || lines > compactMin {
		// The legacy file's content goes into a fresh journal before the
		// file is removed; a long journal starts short.
		if err := j.compact(s); err != nil {
			return nil, nil, err
		}
		if legacy {
			if err := os.Remove(filepath.Join(dir, legacyStateFile)); err != nil {
				return nil, nil, err
			}
		}
		return s, j, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	j.f = f
	return s, j, nil
}

func loadLegacy(dir string, s *state) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, legacyStateFile))
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
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

// replay applies the journal at path to s and returns its line count.
func replay(path string, s *state) (int, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	n := 0
	for {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			// Unterminated: a write cut short by a crash. It was never
			// fsync'd, so no answer depended on it.
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n++
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			return 0, fmt.Errorf("testpay: corrupt journal %s line %d: %w", journalFile, n, err)
		}
		if err := s.apply(e); err != nil {
			return 0, fmt.Errorf("testpay: corrupt journal %s line %d: %w", journalFile, n, err)
		}
	}
}

// add appends the entries as lines in one write (a process that dies
// after it loses nothing: the data is in the kernel). Callers hold the
// gateway's mutex, then call sync before answering when the change must
// survive a machine crash. When the journal has grown past its bound it
// is compacted to the live records of s.
func (j *journal) add(s *state, es ...entry) error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf.Reset()
	enc := json.NewEncoder(&j.buf)
	for _, e := range es {
		if err := enc.Encode(e); err != nil { // Encode ends each with '\n'
			return err
		}
	}
	if _, err := j.f.Write(j.buf.Bytes()); err != nil {
		return err
	}
	j.lines += len(es)
	j.written++
	if live := len(s.Payments) + len(s.Refunds) + len(s.Keys); j.lines > compactMin && j.lines > 2*live {
		return j.compactLocked(s)
	}
	return nil
}

// sync makes every entry added so far durable. Concurrent callers share
// one fsync: whoever flushes covers the entries written before it.
func (j *journal) sync() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	target := j.written
	if j.synced >= target {
		j.mu.Unlock()
		return nil
	}
	f := j.f
	j.mu.Unlock()
	// Outside the lock so that adds go on during the flush. A compaction
	// meanwhile closes f after fsyncing the new file, which covers target.
	err := f.Sync()
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil && j.f == f {
		return err
	}
	j.synced = max(j.synced, target)
	return nil
}

func (j *journal) compact(s *state) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.compactLocked(s)
}

// compactLocked writes the live records to a new journal, fsyncs it and
// renames it over the old one: at every moment one complete journal is
// on disk.
func (j *journal) compactLocked(s *state) error {
	tmp, err := os.CreateTemp(j.dir, journalFile+".*")
	if err != nil {
		return err
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	w := bufio.NewWriterSize(tmp, 64<<10)
	enc := json.NewEncoder(w)
	n := 0
	for _, p := range s.Payments {
		if err := enc.Encode(entry{Payment: p}); err != nil {
			return fail(err)
		}
		n++
	}
	for _, r := range s.Refunds {
		if err := enc.Encode(entry{Refund: r}); err != nil {
			return fail(err)
		}
		n++
	}
	for k, id := range s.Keys {
		if err := enc.Encode(entry{Key: k, KeyAttempt: id}); err != nil {
			return fail(err)
		}
		n++
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(j.dir, journalFile)); err != nil {
		return fail(err)
	}
	if d, err := os.Open(j.dir); err == nil {
		_ = d.Sync() // the rename itself survives a crash
		d.Close()
	}
	tmp.Close()
	f, err := os.OpenFile(filepath.Join(j.dir, journalFile), os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if j.f != nil {
		j.f.Close()
	}
	j.f, j.lines = f, n
	j.synced = j.written
	return nil
}
