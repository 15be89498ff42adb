package payment

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
)

// MaxResolutionNote is the longest note, in characters, staff keep with
// a resolved flag.
const MaxResolutionNote = 1000

// ResolveFlagInput names a flagged gateway event and what staff did
// about it.
type ResolveFlagInput struct {
	// EventID is the event (gev_).
	EventID string
	// Note says what was done (refunded by hand, the buyer paid the
	// rest, a duplicate); optional, kept with the event.
	Note string
}

// ResolveFlag takes a flagged event off the list waiting for staff
// (Flagged) and records who resolved it, when, and their note (payment
// write). The flag itself stays: it says what happened. It changes no
// money: staff act first (a refund, a capture) and resolve after. An
// event without a flag, or one resolved already, is refused and left as
// it is, also when two staff resolve it at once.
func (s *Service) ResolveFlag(ctx context.Context, in ResolveFlagInput) (*EventRecord, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Write); err != nil {
		return nil, err
	}
	in.Note = strings.TrimSpace(in.Note)
	if n := utf8.RuneCountInString(in.Note); n > MaxResolutionNote {
		return nil, errs.Invalid("note", CodeTooLong, fmt.Sprintf("at most %d characters, not %d", MaxResolutionNote, n))
	}
	e, changed, err := s.store.ResolveFlag(ctx, in.EventID, authz.SubjectFrom(ctx).ID, in.Note, s.now())
	switch {
	case err != nil:
		return nil, err
	case e == nil:
		return nil, errs.Invalid("id", CodeEventNotFound, "no such payment event")
	case changed:
		return e, nil
	case e.FlagReason == "":
		return nil, errs.Conflict("id", CodeEventNotFlagged, fmt.Sprintf("event %s has no flag to resolve", e.ID))
	default:
		return nil, errs.Conflict("id", CodeFlagAlreadyResolved, fmt.Sprintf("the flag of event %s was resolved at %s", e.ID, e.ResolvedAt.Format("2006-01-02 15:04 MST")))
	}
}
