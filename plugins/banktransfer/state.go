package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kassahq/kassa/plugins/sdk/state"
)

const (
	// transfersFile is the journal (plugins/sdk/state) of the expected
	// transfers, by attempt id, in KASSA_PLUGIN_DATA_DIR.
	transfersFile = "banktransfer-transfers.jsonl"
	// refundsFile is the journal of the manual refunds, by refund id.
	refundsFile = "banktransfer-refunds.jsonl"
	// legacyStateFile is the whole-state file of earlier builds, rewritten
	// on every change: folded into the journals once, then removed.
	legacyStateFile = "banktransfer-state.json"
)

// legacyState is the content of legacyStateFile. It holds three maps in
// one object rather than one key → record object, so state's
// Options.Legacy cannot read it: foldLegacy does.
type legacyState struct {
	Transfers map[string]*transfer     `json:"transfers"` // by attempt id
	Keys      map[string]string        `json:"keys"`      // idempotency key -> attempt id
	Refunds   map[string]*manualRefund `json:"refunds"`   // by refund id
}

// openState opens the journals of transfers and refunds in dir ("" keeps
// them in memory only), folding in the state file of earlier builds.
func openState(dir string) (*state.Store[transfer], *state.Store[manualRefund], error) {
	transfers, err := state.Open(state.Options[transfer]{Dir: dir, File: transfersFile})
	if err != nil {
		return nil, nil, fmt.Errorf("banktransfer: transfers journal: %w", err)
	}
	refunds, err := state.Open(state.Options[manualRefund]{Dir: dir, File: refundsFile})
	if err != nil {
		transfers.Close()
		return nil, nil, fmt.Errorf("banktransfer: refunds journal: %w", err)
	}
	if dir != "" {
		if err := foldLegacy(dir, transfers, refunds); err != nil {
			transfers.Close()
			refunds.Close()
			return nil, nil, err
		}
	}
	return transfers, refunds, nil
}

// foldLegacy moves the records of legacyStateFile into the journals and
// removes it once both are on disk. A crash before the removal folds the
// same records again at the next start: nothing was served in between.
func foldLegacy(dir string, transfers *state.Store[transfer], refunds *state.Store[manualRefund]) error {
	path := filepath.Join(dir, legacyStateFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("banktransfer: read %s: %w", legacyStateFile, err)
	}
	var old legacyState
	if err := json.Unmarshal(b, &old); err != nil {
		return fmt.Errorf("banktransfer: corrupt state file %s: %w", legacyStateFile, err)
	}
	// Earlier builds kept the idempotency keys apart; now each transfer carries the
	// key that created it.
	keyOf := map[string]string{}
	for k, id := range old.Keys {
		if cur, ok := keyOf[id]; !ok || k < cur { // one key per attempt; the smallest if ever two
			keyOf[id] = k
		}
	}
	var ts []state.Change[transfer]
	for id, t := range old.Transfers {
		if t == nil {
			continue
		}
		t.AttemptID, t.Key = id, keyOf[id]
		ts = append(ts, state.Change[transfer]{Key: id, Record: t})
	}
	var rs []state.Change[manualRefund]
	for id, r := range old.Refunds {
		if r != nil {
			rs = append(rs, state.Change[manualRefund]{Key: id, Record: r})
		}
	}
	if err := transfers.Append(ts...); err != nil {
		return fmt.Errorf("banktransfer: fold %s: %w", legacyStateFile, err)
	}
	if err := refunds.Append(rs...); err != nil {
		return fmt.Errorf("banktransfer: fold %s: %w", legacyStateFile, err)
	}
	// Compact writes each journal afresh and fsyncs it.
	if err := transfers.Compact(); err != nil {
		return fmt.Errorf("banktransfer: fold %s: %w", legacyStateFile, err)
	}
	if err := refunds.Compact(); err != nil {
		return fmt.Errorf("banktransfer: fold %s: %w", legacyStateFile, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("banktransfer: remove %s: %w", legacyStateFile, err)
	}
	return nil
}
