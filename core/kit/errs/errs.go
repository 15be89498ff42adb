// Package errs holds the typed domain errors of Kassa. Every service
// returns either a plain wrapped error (a bug or an outage) or an *Error
// carrying a stable code that clients can rely on, a field path that
// points at the bad input, and a sentinel kind that transports map once to
// their own vocabulary (GraphQL userErrors, HTTP status, CLI exit codes).
//
//	if qty <= 0 {
//		return errs.Invalid("quantity", "INVALID_QUANTITY", "quantity must be positive")
//	}
//	...
//	if errors.Is(err, errs.ErrNotFound) { ... }
package errs

import (
	"errors"
	"strings"
)

// Sentinel kinds. Every *Error unwraps to exactly one of them.
var (
	// ErrInvalid means the input was rejected; nothing changed.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound means the addressed record does not exist (or the caller
	// may not know that it exists).
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request clashes with the current state: a
	// duplicate handle, a stale transition, stock already taken.
	ErrConflict = errors.New("conflict")
	// ErrForbidden means the caller is known but lacks the permission.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated means the operation needs a signed-in caller.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrUnavailable means a dependency (a plugin, the bus) cannot be
	// reached right now; retrying later may succeed.
	ErrUnavailable = errors.New("unavailable")
	// ErrLimited means a rate or size limit was hit.
	ErrLimited = errors.New("limit exceeded")
)

// Error is a domain error with a stable code.
type Error struct {
	// Kind is one of the sentinels above.
	Kind error
	// Code is stable and upper snake case, e.g. "PRODUCT_NOT_FOUND".
	// Clients switch on it and translate it; never change a released one.
	Code string
	// Field is the path of the offending value relative to the service's
	// input, e.g. ["variants", "0", "sku"]; empty when no single field is
	// at fault. Transports add their envelope (GraphQL: "input").
	Field []string
	// Message is an English explanation for developers and logs.
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	if len(e.Field) > 0 {
		return strings.Join(e.Field, ".") + ": " + e.Message
	}
	return e.Message
}

// Unwrap returns the sentinel kind so errors.Is works.
func (e *Error) Unwrap() error { return e.Kind }

// WithField returns a copy of e whose field path is prefixed with path.
func (e *Error) WithField(path ...string) *Error {
	c := *e
	c.Field = append(append([]string{}, path...), e.Field...)
	return &c
}

func newError(kind error, field, code, msg string) *Error {
	e := &Error{Kind: kind, Code: code, Message: msg}
	if field != "" {
		e.Field = strings.Split(field, ".")
	}
	return e
}

// Invalid returns an ErrInvalid error for a field (a dotted path relative
// to the service's input, "handle" or "variants.0.sku", or "" for the
// whole input).
func Invalid(field, code, msg string) *Error { return newError(ErrInvalid, field, code, msg) }

// NotFound returns an ErrNotFound error.
func NotFound(code, msg string) *Error { return newError(ErrNotFound, "", code, msg) }

// Conflict returns an ErrConflict error for a field (may be "").
func Conflict(field, code, msg string) *Error { return newError(ErrConflict, field, code, msg) }

// Forbidden returns an ErrForbidden error.
func Forbidden(code, msg string) *Error { return newError(ErrForbidden, "", code, msg) }

// Unauthenticated returns an ErrUnauthenticated error.
func Unauthenticated(msg string) *Error {
	return newError(ErrUnauthenticated, "", "UNAUTHENTICATED", msg)
}

// Unavailable returns an ErrUnavailable error.
func Unavailable(code, msg string) *Error { return newError(ErrUnavailable, "", code, msg) }

// Limited returns an ErrLimited error.
func Limited(code, msg string) *Error { return newError(ErrLimited, "", code, msg) }

// List is several domain errors at once, typically every problem found
// while validating one input, so the client can show them all.
type List []*Error

// Error implements error.
func (l List) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap lets errors.Is and errors.As see each element.
func (l List) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Validator collects validation problems.
//
//	var v errs.Validator
//	v.Check(name != "", "title", "REQUIRED", "title is required")
//	if err := v.Err(); err != nil { return err }
type Validator struct {
	list List
}

// Check records an ErrInvalid error when ok is false.
func (v *Validator) Check(ok bool, field, code, msg string) {
	if !ok {
		v.list = append(v.list, Invalid(field, code, msg))
	}
}

// Add records e (nil is ignored).
func (v *Validator) Add(e *Error) {
	if e != nil {
		v.list = append(v.list, e)
	}
}

// Err returns nil when nothing was recorded, the single error when one
// was, or a List.
func (v *Validator) Err() error {
	switch len(v.list) {
	case 0:
		return nil
	case 1:
		return v.list[0]
	}
	return v.list
}

// All flattens err into the domain errors it carries: a List, an *Error
// somewhere in the chain, or nothing (nil) when err is not a domain error.
func All(err error) []*Error {
	var l List
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return nil
}
