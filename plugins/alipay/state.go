package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// stateFile keeps, in KASSA_PLUGIN_DATA_DIR, the attempts this plugin
// started. Alipay creates a page or wap trade only when the buyer opens the
// cashier, so until then trade.query answers ACQ.TRADE_NOT_EXIST for an
// attempt Kassa knows: the journal tells "not opened yet" (PENDING) from
// "never created" (NOT_FOUND), and remembers closes of unopened trades.
const stateFile = "alipay-attempts.json"

// keepAttempts is how long started attempts are remembered.
const keepAttempts = 30 * 24 * time.Hour

// attempt is what the plugin remembers of one payment attempt.
type attempt struct {
	Method    string    `json:"method"`
	Amount    int64     `json:"amount"`
	Created   time.Time `json:"created"`
	Closed    bool      `json:"closed,omitempty"`
	ActionURL string    `json:"action_url,omitempty"`
	QRCode    string    `json:"qr_code,omitempty"`
	IdemKey   string    `json:"idempotency_key,omitempty"`
	Refunds   []string  `json:"refunds,omitempty"`
	// Declined is the decline code of an attempt refused before Alipay
	// saw it (currency, amount, method): it stays FAILED.
	Declined string `json:"declined,omitempty"`
}

// journal is the attempts by attempt id (= out_trade_no), in memory and on
// disk. Safe for concurrent use.
type journal struct {
	dir string
	mu  sync.Mutex
	m   map[string]attempt
}

func loadJournal(dir string) (*journal, error) {
	j := &journal{dir: dir, m: map[string]attempt{}}
	if dir == "" {
		return j, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alipay: read %s: %w", stateFile, err)
	}
	if err := json.Unmarshal(b, &j.m); err != nil {
		return nil, fmt.Errorf("alipay: parse %s: %w", stateFile, err)
	}
	return j, nil
}

func (j *journal) get(id string) (attempt, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	a, ok := j.m[id]
	return a, ok
}

// put records an attempt and saves the journal before returning, so an
// answer Kassa received is never forgotten by a restart.
func (j *journal) put(id string, a attempt) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.m[id] = a
	for k, v := range j.m {
		if time.Since(v.Created) > keepAttempts {
			delete(j.m, k)
		}
	}
	if j.dir == "" {
		return nil
	}
	b, err := json.Marshal(j.m)
	if err != nil {
		return fmt.Errorf("alipay: encode journal: %w", err)
	}
	tmp := filepath.Join(j.dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("alipay: write journal: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(j.dir, stateFile)); err != nil {
		return fmt.Errorf("alipay: write journal: %w", err)
	}
	return nil
}

// refunds returns the refund ids (out_request_no) asked for an attempt.
func (j *journal) refunds(id string) []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.m[id].Refunds...)
}

// addRefund records a refund id of an attempt, once.
func (j *journal) addRefund(id, refundID string) error {
	a, ok := j.get(id)
	if !ok {
		a = attempt{Created: time.Now().UTC()}
	}
	for _, r := range a.Refunds {
		if r == refundID {
			return nil
		}
	}
	a.Refunds = append(a.Refunds, refundID)
	return j.put(id, a)
}
