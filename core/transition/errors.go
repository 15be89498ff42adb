package transition

import (
	"errors"

	"github.com/kassahq/kassa/core/kit/errs"
)

// Stable error codes of the transition kit. Clients switch on them.
const (
	// CodeInvalidTransition: the table does not allow the move
	// (errs.ErrConflict).
	CodeInvalidTransition = "INVALID_TRANSITION"
	// CodeStaleState: the record was no longer in the from-state when the
	// move was applied; someone else moved it first (errs.ErrConflict).
	CodeStaleState = "STALE_STATE"
	// CodeForbidden: the caller is not of a kind the move allows
	// (errs.ErrForbidden).
	CodeForbidden = "TRANSITION_FORBIDDEN"
	// CodeReasonRequired: the move must say why and no reason was given
	// (errs.ErrInvalid).
	CodeReasonRequired = "REASON_REQUIRED"
	// CodeNotFound: no record has the key the move names
	// (errs.ErrNotFound).
	CodeNotFound = "TRANSITION_TARGET_NOT_FOUND"
)

// Error is a move that was refused or lost. It names the machine and both
// states, and unwraps to an *errs.Error (and through it to one of the
// errs sentinels), so transports map it like every other domain error.
type Error struct {
	// Machine is the table's name, e.g. "order.status".
	Machine string
	// From and To are the move that was asked for.
	From, To string
	// Current is the state the record was found in when a move lost a
	// race (CodeStaleState); empty otherwise.
	Current string
	err     *errs.Error
}

// Error implements error.
func (e *Error) Error() string { return e.err.Error() }

// Unwrap returns the domain error, so errors.Is(err, errs.ErrConflict) and
// errs.All work.
func (e *Error) Unwrap() error { return e.err }

// Code returns the stable code, e.g. INVALID_TRANSITION.
func (e *Error) Code() string { return e.err.Code }

// IsStale reports whether err is a move that lost its race: the record had
// already left the from-state, and nothing was written. A caller applying
// an idempotent fact (a duplicate gateway notification) may treat it as
// done; a caller acting for a person reports it as a conflict.
func IsStale(err error) bool { return hasCode(err, CodeStaleState) }

// IsInvalid reports whether err is a move the table does not allow.
func IsInvalid(err error) bool { return hasCode(err, CodeInvalidTransition) }

func hasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code() == code
}
