package main

import (
	"fmt"
	"maps"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/state"
)

// stateFile keeps, in KASSA_PLUGIN_DATA_DIR, the orders this plugin
// created. Orders v2 cannot be looked up by the merchant's reference, so
// the journal maps Kassa's attempt id to PayPal's order id (GetPayment by
// attempt id alone, after a lost CreatePayment answer), and remembers
// closes: PayPal has no call that cancels an unapproved order, so a
// closed attempt is one this plugin will never capture or authorize.
const stateFile = "paypal-orders.jsonl"

// legacyStateFile is the whole-file journal of earlier versions, folded
// into stateFile once.
const legacyStateFile = "paypal-orders.json"

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

// openJournal opens the attempts by attempt id kept in dir ("" keeps
// them in memory only).
func openJournal(dir string) (*state.Store[attempt], error) {
	s, err := state.Open(state.Options[attempt]{
		Dir: dir, File: stateFile, Legacy: legacyStateFile,
		Expired: func(a attempt, now time.Time) bool { return now.Sub(a.Created) > keepAttempts },
		Clone:   func(a attempt) attempt { a.Refunds = maps.Clone(a.Refunds); return a },
	})
	if err != nil {
		return nil, fmt.Errorf("paypal: attempts journal: %w", err)
	}
	return s, nil
}

// update changes one attempt and returns once the change is durable, so
// an answer Kassa received is never forgotten by a restart.
func (g *Gateway) update(id string, fn func(a *attempt)) error {
	return g.journal.Update(id, func(a *attempt, _ bool) bool {
		fn(a)
		if a.Created.IsZero() {
			a.Created = g.now().UTC()
		}
		return true
	})
}

// attemptOf returns the attempt id of a PayPal order, or "".
func (g *Gateway) attemptOf(orderID string) string {
	found := ""
	g.journal.Range(func(id string, a attempt) bool {
		if a.OrderID == orderID {
			found = id
		}
		return found == ""
	})
	return found
}
