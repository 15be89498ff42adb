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

// stateFile keeps, in KASSA_PLUGIN_DATA_DIR, the attempts and refunds this
// plugin started. UnionPay's query needs the orderId and the txnTime the
// order was sent with, and UnionPay learns of an order only when the
// buyer's browser posts it: the journal remembers both, tells "not posted
// yet" (REQUIRES_ACTION) from "never created" (NOT_FOUND), and remembers
// cancels, which UnionPay has no call for. No personal data.
const stateFile = "unionpay-attempts.json"

// keepAttempts is how long attempts are remembered (UnionPay refunds up to
// a year after payment: refunds extend an attempt's life).
const keepAttempts = 400 * 24 * time.Hour

// attempt is what the plugin remembers of one payment attempt.
type attempt struct {
	OrderID   string    `json:"order_id"`
	TxnTime   string    `json:"txn_time"`
	Method    string    `json:"method"`
	Amount    int64     `json:"amount"`
	Created   time.Time `json:"created"`
	Touched   time.Time `json:"touched"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Token     string    `json:"token,omitempty"`
	PayBase   string    `json:"pay_base,omitempty"` // PluginBaseURL at creation
	BackURL   string    `json:"back_url,omitempty"`
	ReturnURL string    `json:"return_url,omitempty"`
	Locale    string    `json:"locale,omitempty"`
	IdemKey   string    `json:"idempotency_key,omitempty"`
	// Canceled: Kassa canceled the attempt; the pay page refuses to post
	// the order to UnionPay any more.
	Canceled bool `json:"canceled,omitempty"`
	// Declined is the decline code of an attempt refused before UnionPay
	// saw it (currency, amount, method): it stays FAILED.
	Declined string `json:"declined,omitempty"`
	// QueryID is UnionPay's id of the paid consumption (refunds name it).
	QueryID string `json:"query_id,omitempty"`
	// Refunds by Kassa refund id.
	Refunds map[string]refundRec `json:"refunds,omitempty"`
}

// refundRec is one refund or void sent to UnionPay.
type refundRec struct {
	OrderID string `json:"order_id"`
	TxnTime string `json:"txn_time"`
	TxnType string `json:"txn_type"` // 04 refund, 31 void (消费撤销)
	Amount  int64  `json:"amount"`
	// Failed is set when UnionPay refused it (nothing moved).
	Failed string `json:"failed,omitempty"`
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
		return nil, fmt.Errorf("unionpay: read %s: %w", stateFile, err)
	}
	if err := json.Unmarshal(b, &j.m); err != nil {
		return nil, fmt.Errorf("unionpay: parse %s: %w", stateFile, err)
	}
	return j, nil
}

func (j *journal) get(id string) (attempt, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	a, ok := j.m[id]
	if ok {
		a.Refunds = cloneRefunds(a.Refunds)
	}
	return a, ok
}

func cloneRefunds(m map[string]refundRec) map[string]refundRec {
	if m == nil {
		return nil
	}
	out := make(map[string]refundRec, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// update changes an attempt under the lock and saves the journal before
// returning, so an answer Kassa received is never forgotten by a restart.
// f returns false to leave the journal as it was.
func (j *journal) update(id string, f func(a *attempt, exists bool) bool) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	a, ok := j.m[id]
	a.Refunds = cloneRefunds(a.Refunds)
	if !f(&a, ok) {
		return nil
	}
	a.Touched = time.Now().UTC()
	j.m[id] = a
	for k, v := range j.m {
		if time.Since(v.Touched) > keepAttempts {
			delete(j.m, k)
		}
	}
	if j.dir == "" {
		return nil
	}
	b, err := json.Marshal(j.m)
	if err != nil {
		return fmt.Errorf("unionpay: encode journal: %w", err)
	}
	tmp := filepath.Join(j.dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("unionpay: write journal: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(j.dir, stateFile)); err != nil {
		return fmt.Errorf("unionpay: write journal: %w", err)
	}
	return nil
}

// byRefundOrder finds the attempt and refund id of a refund's orderId.
func (j *journal) byRefundOrder(orderID string) (attemptID, refundID string, ok bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for aid, a := range j.m {
		for rid, r := range a.Refunds {
			if r.OrderID == orderID {
				return aid, rid, true
			}
		}
	}
	return "", "", false
}
