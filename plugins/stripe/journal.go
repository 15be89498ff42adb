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

// stateFile keeps, in KASSA_PLUGIN_DATA_DIR, which Stripe object each
// attempt became (a PaymentIntent or a Checkout Session). Stripe replays
// an Idempotency-Key for 24 hours only, and its search API is eventually
// consistent, so the journal is what finds an attempt whose CreatePayment
// answer Kassa lost, and what keeps a retry after a day from creating a
// second PaymentIntent. It holds ids only, no personal data.
const stateFile = "stripe-attempts.json"

// keepAttempts is how long attempts are remembered.
const keepAttempts = 60 * 24 * time.Hour

// attempt is what the plugin remembers of one payment attempt.
type attempt struct {
	// PaymentIntent is the pi_... id, once there is one.
	PaymentIntent string `json:"pi,omitempty"`
	// Session is the cs_... id of a Checkout attempt.
	Session string    `json:"cs,omitempty"`
	Method  string    `json:"method"`
	Amount  int64     `json:"amount"`
	Created time.Time `json:"created"`
	// Declined is the decline code of an attempt refused before Stripe
	// saw it (currency, amount, method): it stays FAILED.
	Declined string `json:"declined,omitempty"`
}

// journal is the attempts by attempt id. Safe for concurrent use.
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
		return nil, fmt.Errorf("stripe: read %s: %w", stateFile, err)
	}
	if err := json.Unmarshal(b, &j.m); err != nil {
		return nil, fmt.Errorf("stripe: parse %s: %w", stateFile, err)
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
	if prev, ok := j.m[id]; ok && prev == a {
		return nil
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
		return fmt.Errorf("stripe: encode journal: %w", err)
	}
	tmp := filepath.Join(j.dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("stripe: write journal: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(j.dir, stateFile)); err != nil {
		return fmt.Errorf("stripe: write journal: %w", err)
	}
	return nil
}
