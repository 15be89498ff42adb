package main

import (
	"fmt"
	"maps"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/state"
)

// stateFile keeps, in KASSA_PLUGIN_DATA_DIR, the attempts and refunds this
// plugin started. UnionPay's query needs the orderId and the txnTime the
// order was sent with, and UnionPay learns of an order only when the
// buyer's browser posts it: the journal remembers both, tells "not posted
// yet" (REQUIRES_ACTION) from "never created" (NOT_FOUND), and remembers
// cancels, which UnionPay has no call for. No personal data.
const stateFile = "unionpay-attempts.jsonl"

// legacyStateFile is the whole-file journal of earlier versions, folded
// into stateFile once.
const legacyStateFile = "unionpay-attempts.json"

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

// openJournal opens the attempts by attempt id kept in dir ("" keeps
// them in memory only).
func openJournal(dir string) (*state.Store[attempt], error) {
	s, err := state.Open(state.Options[attempt]{
		Dir: dir, File: stateFile, Legacy: legacyStateFile,
		Expired: func(a attempt, now time.Time) bool { return now.Sub(a.Touched) > keepAttempts },
		Clone:   func(a attempt) attempt { a.Refunds = maps.Clone(a.Refunds); return a },
	})
	if err != nil {
		return nil, fmt.Errorf("unionpay: attempts journal: %w", err)
	}
	return s, nil
}

// update changes an attempt and returns once the change is durable, so an
// answer Kassa received is never forgotten by a restart. f returns false
// to leave the attempt as it was.
func (g *Gateway) update(id string, f func(a *attempt, exists bool) bool) error {
	return g.journal.Update(id, func(a *attempt, exists bool) bool {
		if !f(a, exists) {
			return false
		}
		a.Touched = time.Now().UTC()
		return true
	})
}

// byRefundOrder finds the attempt and refund id of a refund's orderId.
func (g *Gateway) byRefundOrder(orderID string) (attemptID, refundID string, ok bool) {
	g.journal.Range(func(aid string, a attempt) bool {
		for rid, r := range a.Refunds {
			if r.OrderID == orderID {
				attemptID, refundID, ok = aid, rid, true
				return false
			}
		}
		return true
	})
	return attemptID, refundID, ok
}

// attemptByOrder finds the attempt whose orderId is orderID.
func (g *Gateway) attemptByOrder(orderID string) (id string, a attempt, ok bool) {
	g.journal.Range(func(k string, cur attempt) bool {
		if cur.OrderID == orderID {
			id, a, ok = k, cur, true
			return false
		}
		return true
	})
	return id, a, ok
}
