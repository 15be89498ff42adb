package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// record is a sandbox payment. Statuses are stored by name so the file is
// readable.
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

// state is everything testpay remembers; it is saved to
// $KASSA_PLUGIN_DATA_DIR/testpay-state.json after every change.
type state struct {
	Payments map[string]*record       `json:"payments"` // by attempt id
	Refunds  map[string]*refundRecord `json:"refunds"`  // by Kassa refund id
	Keys     map[string]string        `json:"keys"`     // CreatePayment idempotency key -> attempt id
}

func newState() *state {
	return &state{Payments: map[string]*record{}, Refunds: map[string]*refundRecord{}, Keys: map[string]string{}}
}

func (s *state) byRef(ref string) *record {
	for _, p := range s.Payments {
		if p.Ref == ref {
			return p
		}
	}
	return nil
}

const stateFile = "testpay-state.json"

// load reads the state file in dir; a missing file is an empty state.
func load(dir string) (*state, error) {
	s := newState()
	if dir == "" {
		return s, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("testpay: corrupt state file: %w", err)
	}
	if s.Payments == nil {
		s.Payments = map[string]*record{}
	}
	if s.Refunds == nil {
		s.Refunds = map[string]*refundRecord{}
	}
	if s.Keys == nil {
		s.Keys = map[string]string{}
	}
	return s, nil
}

// save writes the state atomically (temp file + rename).
func (s *state) save(dir string) error {
	if dir == "" {
		return nil
	}
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, stateFile+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, stateFile))
}
