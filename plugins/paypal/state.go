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

// stateFile keeps, in KASSA_PLUGIN_DATA_DIR, the orders this plugin
// created. Orders v2 cannot be looked up by the merchant's reference, so
// the journal maps Kassa's attempt id to PayPal's order id (GetPayment by
// attempt id alone, after a lost CreatePayment answer), and remembers
// closes: PayPal has no call that cancels an unapproved order, so a
// closed attempt is one this plugin will never capture or authorize.
const stateFile = "paypal-orders.json"

// keepAttempts is how long attempts are remembered.
const keepAttempts = 30 * 24 * time.Hour

// attempt is what the plugin remembers of one payment attempt.
type attempt struct {
	OrderID    string    `json:"order_id,omitempty"`
	ApproveURL string    `json:"approve_url,omitempty"`
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	Intent     string    `json:"intent"`
	Created    time.Time `json:"created"`
	Closed     bool      `json:"closed,omitempty"`
	// Declined is the decline code of an attempt refused before PayPal
	// saw it: it stays FAILED.
	Declined string `json:"declined,omitempty"`
	// Refunds maps Kassa refund ids to PayPal refund ids.
	Refunds map[string]string `json:"refunds,omitempty"`
}

// journal is the attempts by attempt id, in memory and on disk. Safe for
// concurrent use.
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
		return nil, fmt.Errorf("paypal: read %s: %w", stateFile, err)
	}
	if err := json.Unmarshal(b, &j.m); err != nil {
		return nil, fmt.Errorf("paypal: parse %s: %w", stateFile, err)
	}
	return j, nil
}

func (j *journal) get(id string) (attempt, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	a, ok := j.m[id]
	return a, ok
}

// update changes one attempt and saves the journal before returning, so
// an answer Kassa received is never forgotten by a restart.
func (j *journal) update(id string, fn func(a *attempt)) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	a := j.m[id]
	fn(&a)
	if a.Created.IsZero() {
		a.Created = time.Now().UTC()
	}
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
		return fmt.Errorf("paypal: encode journal: %w", err)
	}
	tmp := filepath.Join(j.dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("paypal: write journal: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(j.dir, stateFile)); err != nil {
		return fmt.Errorf("paypal: write journal: %w", err)
	}
	return nil
}

// attemptOf returns the attempt id of a PayPal order, or "".
func (j *journal) attemptOf(orderID string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	for id, a := range j.m {
		if a.OrderID == orderID {
			return id
		}
	}
	return ""
}
