package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/state"
)

// stateFile keeps, in KASSA_PLUGIN_DATA_DIR, the attempts this plugin
// started. Alipay creates a page or wap trade only when the buyer opens the
// cashier, so until then trade.query answers ACQ.TRADE_NOT_EXIST for an
// attempt Kassa knows: the journal tells "not opened yet" (PENDING) from
// "never created" (NOT_FOUND), and remembers closes of unopened trades.
const stateFile = "alipay-attempts.jsonl"

// legacyStateFile is the whole-file journal of earlier versions, folded
// into stateFile once.
const legacyStateFile = "alipay-attempts.json"

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

// openJournal opens the attempts by attempt id (= out_trade_no) kept in
// dir ("" keeps them in memory only).
func openJournal(dir string) (*state.Store[attempt], error) {
	s, err := state.Open(state.Options[attempt]{
		Dir: dir, File: stateFile, Legacy: legacyStateFile,
		Expired: func(a attempt, now time.Time) bool { return now.Sub(a.Created) > keepAttempts },
		Clone:   func(a attempt) attempt { a.Refunds = slices.Clone(a.Refunds); return a },
	})
	if err != nil {
		return nil, fmt.Errorf("alipay: attempts journal: %w", err)
	}
	return s, nil
}

// refunds returns the refund ids (out_request_no) asked for an attempt.
func (g *Gateway) refunds(id string) []string {
	a, _ := g.journal.Get(id)
	return a.Refunds
}

// addRefund records a refund id of an attempt, once.
func (g *Gateway) addRefund(id, refundID string) error {
	return g.journal.Update(id, func(a *attempt, exists bool) bool {
		if !exists {
			*a = attempt{Created: g.now().UTC()}
		}
		if slices.Contains(a.Refunds, refundID) {
			return false
		}
		a.Refunds = append(a.Refunds, refundID)
		return true
	})
}
