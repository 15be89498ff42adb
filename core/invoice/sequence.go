package invoice

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
)

// Limits of a sequence call.
const (
	maxSequenceName = 100
	maxSequenceKey  = 255
)

// Codes of refused sequence calls.
const (
	// CodeInvalidSequence: a sequence name or idempotency key that is
	// empty, too long or not text.
	CodeInvalidSequence = "INVALID_SEQUENCE"
)

// errKeyTaken rolls back a transaction that lost the race to record a
// value for a key: the winner's value is read instead.
var errKeyTaken = errors.New("invoice: sequence key recorded meanwhile")

// Sequence returns the gapless sequences of one rule, handed to it while
// it issues a document. Names are the rule's own ("invoice",
// "credit_note/2026"), scoped here to the rule and the store, so two
// rules never share a sequence.
func (s *Service) Sequence(ruleID string) Sequence { return ruleSequence{s: s, ruleID: ruleID} }

type ruleSequence struct {
	s      *Service
	ruleID string
}

// Next implements Sequence: the next value of the named sequence,
// starting at 1, or the value already handed out for idempotencyKey. The
// increment and the key's record commit together in one transaction, so
// a crash leaves neither and a retry with the key takes no second value:
// the values handed out have no gaps.
func (q ruleSequence) Next(ctx context.Context, name, idempotencyKey string) (int64, error) {
	var v errs.Validator
	v.Check(name != "" && len(name) <= maxSequenceName && utf8.ValidString(name), "name", CodeInvalidSequence,
		fmt.Sprintf("a sequence name of 1 to %d bytes of text", maxSequenceName))
	v.Check(idempotencyKey != "" && len(idempotencyKey) <= maxSequenceKey && utf8.ValidString(idempotencyKey), "idempotencyKey", CodeInvalidSequence,
		fmt.Sprintf("an idempotency key of 1 to %d bytes of text", maxSequenceKey))
	if err := v.Err(); err != nil {
		return 0, err
	}
	st, storeID := q.s.store, q.s.opt.Store
	for {
		var value int64
		err := q.s.db.RunInTx(ctx, func(ctx context.Context) error {
			got, found, err := st.SequenceValue(ctx, storeID, q.ruleID, name, idempotencyKey)
			if err != nil || found {
				value = got
				return err
			}
			if value, err = st.IncrementSequence(ctx, storeID, q.ruleID, name); err != nil {
				return err
			}
			recorded, err := st.InsertSequenceValue(ctx, storeID, q.ruleID, name, idempotencyKey, value, q.s.now())
			if err != nil {
				return err
			}
			if !recorded {
				return errKeyTaken
			}
			return nil
		})
		if errors.Is(err, errKeyTaken) && !store.InTx(ctx) {
			continue // rolled back; the winner's value is read next
		}
		if err != nil {
			return 0, fmt.Errorf("invoice: next value of %s %s: %w", q.ruleID, name, err)
		}
		return value, nil
	}
}
