package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/kit/id"
)

// IDPrefix is the prefix of every event id ("evt_01J...").
const IDPrefix = "evt"

// Root is the first token of every event subject.
const Root = "kassa"

// MaxPayloadBytes caps the encoded payload of one event. NATS refuses
// messages above its max_payload (1 MiB by default); an event this large is
// a design smell anyway: carry ids and let consumers read the rest.
const MaxPayloadBytes = 512 << 10

// ErrInvalidEvent is returned for an event that cannot be published: a
// malformed subject or id, a payload that is not JSON or is too large, a
// reserved header name.
var ErrInvalidEvent = errors.New("events: invalid event")

// Event is a fact that happened in the shop, published after the
// transaction that caused it committed.
type Event struct {
	// ID identifies the event ("evt_" + ULID). It doubles as the
	// Nats-Msg-Id, so publishing the same event twice stores it once, and
	// consumers may use it as an idempotency key.
	ID string
	// Subject names what happened: "kassa.<domain>.<event>", for example
	// "kassa.order.placed".
	Subject string
	// OccurredAt is when the change happened, in UTC.
	OccurredAt time.Time
	// Actor is the id of who caused the change (a user, a customer,
	// "system"), or empty when unknown.
	Actor string
	// Headers carry metadata that is not part of the payload, such as a
	// request id for log correlation. Names may not start with "Nats-" or
	// "Kassa-".
	Headers map[string]string
	// Payload is the event body as JSON.
	Payload json.RawMessage
}

// New returns an event with a fresh id, the given subject and payload
// encoded as JSON, occurring now.
func New(subject string, payload any) (Event, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return Event{}, fmt.Errorf("%w: encode %s payload: %v", ErrInvalidEvent, subject, err)
	}
	e := Event{
		ID:         id.New(IDPrefix),
		Subject:    subject,
		OccurredAt: now(),
		Payload:    b,
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// MustNew is New for subjects and payloads fixed at compile time; it panics
// on error.
func MustNew(subject string, payload any) Event {
	e, err := New(subject, payload)
	if err != nil {
		panic(err)
	}
	return e
}

// Decode unmarshals the payload into v.
func (e Event) Decode(v any) error {
	if err := json.Unmarshal(e.Payload, v); err != nil {
		return fmt.Errorf("decode %s %s: %w", e.Subject, e.ID, err)
	}
	return nil
}

// Validate reports whether e can be published; the error wraps
// ErrInvalidEvent.
func (e Event) Validate() error {
	if !id.Valid(e.ID, IDPrefix) {
		return fmt.Errorf("%w: id %q is not an %s_ id", ErrInvalidEvent, e.ID, IDPrefix)
	}
	if err := ValidateSubject(e.Subject); err != nil {
		return err
	}
	if e.OccurredAt.IsZero() {
		return fmt.Errorf("%w: %s has no occurrence time", ErrInvalidEvent, e.ID)
	}
	if len(e.Payload) > MaxPayloadBytes {
		return fmt.Errorf("%w: %s payload is %d bytes, above %d", ErrInvalidEvent, e.ID, len(e.Payload), MaxPayloadBytes)
	}
	if !json.Valid(e.Payload) {
		return fmt.Errorf("%w: %s payload is not JSON", ErrInvalidEvent, e.ID)
	}
	if strings.ContainsAny(e.Actor, "\r\n") {
		return fmt.Errorf("%w: %s actor contains a line break", ErrInvalidEvent, e.ID)
	}
	for k, v := range e.Headers {
		if !validHeaderName(k) {
			return fmt.Errorf("%w: %s header name %q", ErrInvalidEvent, e.ID, k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("%w: %s header %s contains a line break", ErrInvalidEvent, e.ID, k)
		}
	}
	return nil
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	l := strings.ToLower(k)
	return !strings.HasPrefix(l, "nats-") && !strings.HasPrefix(l, "kassa-")
}

// ValidateSubject checks that s is an event subject:
// "kassa.<domain>.<event>", lower-case tokens of letters, digits and
// underscores starting with a letter, at least two after "kassa". The
// error wraps ErrInvalidEvent.
func ValidateSubject(s string) error {
	toks := strings.Split(s, ".")
	if len(toks) < 3 || toks[0] != Root {
		return fmt.Errorf("%w: subject %q is not %s.<domain>.<event>", ErrInvalidEvent, s, Root)
	}
	for _, t := range toks[1:] {
		if !validToken(t) {
			return fmt.Errorf("%w: subject %q has an invalid token %q", ErrInvalidEvent, s, t)
		}
	}
	return nil
}

// ValidateFilter checks that f is a subject filter for Subscribe and
// Listen: "kassa." followed by tokens, where a token may be "*" (any one
// token) and the last may be ">" (one or more tokens), e.g. "kassa.>",
// "kassa.order.*", "kassa.*.placed".
func ValidateFilter(f string) error {
	toks := strings.Split(f, ".")
	if len(toks) < 2 || toks[0] != Root {
		return fmt.Errorf("%w: filter %q does not start with %s.", ErrInvalidEvent, f, Root)
	}
	for i, t := range toks[1:] {
		switch {
		case t == "*":
		case t == ">" && i == len(toks)-2:
		case validToken(t):
		default:
			return fmt.Errorf("%w: filter %q has an invalid token %q", ErrInvalidEvent, f, t)
		}
	}
	return nil
}

func validToken(t string) bool {
	if t == "" || t[0] < 'a' || t[0] > 'z' {
		return false
	}
	for i := 1; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// SubjectMatches reports whether subject matches a NATS-style filter
// ("kassa.order.*", "kassa.>"), as the bus delivers it.
func SubjectMatches(filter, subject string) bool {
	return subjectMatches(filter, subject)
}

// subjectMatches reports whether subject matches a NATS-style filter.
func subjectMatches(filter, subject string) bool {
	f := strings.Split(filter, ".")
	s := strings.Split(subject, ".")
	for i, t := range f {
		if t == ">" {
			return len(s) > i
		}
		if i >= len(s) || (t != "*" && t != s[i]) {
			return false
		}
	}
	return len(f) == len(s)
}

// filtersOverlap reports whether some subject matches both filters.
func filtersOverlap(a, b string) bool {
	x, y := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(x) && i < len(y); i++ {
		switch {
		case x[i] == ">" || y[i] == ">":
			return true
		case x[i] != "*" && y[i] != "*" && x[i] != y[i]:
			return false
		}
	}
	return len(x) == len(y)
}

// matchesAny reports whether subject matches one of filters.
func matchesAny(filters []string, subject string) bool {
	for _, f := range filters {
		if subjectMatches(f, subject) {
			return true
		}
	}
	return false
}

// now is the event clock: UTC, truncated to microseconds so the time
// survives a round trip through either database unchanged.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// permanentError marks a handler error that redelivery cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent wraps a handler error to say that retrying will not help (a
// payload that does not decode, a reference to something that can never
// exist). The event is not redelivered; it is logged and dropped.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
