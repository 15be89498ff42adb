package main

import (
	"fmt"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/state"
)

// stateFile keeps, in KASSA_PLUGIN_DATA_DIR, which Stripe object each
// attempt became (a PaymentIntent or a Checkout Session). Stripe replays
// an Idempotency-Key for 24 hours only, and its search API is eventually
// consistent, so the journal is what finds an attempt whose CreatePayment
// answer Kassa lost, and what keeps a retry after a day from creating a
// second PaymentIntent. It holds ids only, no personal data.
const stateFile = "stripe-attempts.jsonl"

// legacyStateFile is the whole-file journal of earlier versions, folded
// into stateFile once.
const legacyStateFile = "stripe-attempts.json"

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

// openJournal opens the attempts by attempt id kept in dir ("" keeps
// them in memory only).
func openJournal(dir string) (*state.Store[attempt], error) {
	s, err := state.Open(state.Options[attempt]{
		Dir: dir, File: stateFile, Legacy: legacyStateFile,
		Expired: func(a attempt, now time.Time) bool { return now.Sub(a.Created) > keepAttempts },
	})
	if err != nil {
		return nil, fmt.Errorf("stripe: attempts journal: %w", err)
	}
	return s, nil
}

// remember records what an attempt became. An unchanged record is not
// written again: a repeated CreatePayment costs no disk write.
func (g *Gateway) remember(id string, a attempt) error {
	return g.journal.Update(id, func(cur *attempt, exists bool) bool {
		if exists && *cur == a {
			return false
		}
		*cur = a
		return true
	})
}
