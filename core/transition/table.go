package transition

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/errs"
)

// Reason says whether a move must say why it happens.
type Reason int

const (
	// ReasonOptional moves may carry a reason; most moves made by the
	// platform itself (a verified payment notification) need none.
	ReasonOptional Reason = iota
	// ReasonRequired moves are refused without a reason: a cancellation
	// or a manual refund by staff must leave an explanation in the
	// timeline.
	ReasonRequired
)

// String returns "optional" or "required".
func (r Reason) String() string {
	if r == ReasonRequired {
		return "required"
	}
	return "optional"
}

// Who says who may make a move: holders of a permission, callers of some
// kinds, or both (then both must hold). The domain service checks the
// caller's access to the record itself (a buyer's own order) before it
// applies a move; Who is the rule of the machine, checked again at the
// point where the state changes so that no service can forget it.
type Who struct {
	// Object and Action name the permission a caller needs, e.g. order
	// write; empty when only Kinds count.
	Object authz.Object
	Action authz.Action
	// Kinds lists the kinds of subject that may move, e.g. system only;
	// empty when any kind holding the permission may.
	Kinds []authz.SubjectKind
}

// Permission returns a Who satisfied by callers holding act on obj.
func Permission(obj authz.Object, act authz.Action) Who {
	return Who{Object: obj, Action: act}
}

// Kinds returns a Who satisfied by callers of one of the given kinds.
func Kinds(kinds ...authz.SubjectKind) Who {
	return Who{Kinds: kinds}
}

var (
	// System is satisfied only by the platform's own background work
	// (verified gateway notifications, the deadline closer, the
	// reconciler).
	System = Kinds(authz.KindSystem)
	// Buyer is satisfied by a signed-in or guest buyer. Whether the
	// record is the buyer's own is for the service to check.
	Buyer = Kinds(authz.KindCustomer, authz.KindAnonymous)
)

// String renders w for tables: "order:write", "system", "order:write
// (staff)".
func (w Who) String() string {
	var kinds []string
	for _, k := range w.Kinds {
		kinds = append(kinds, string(k))
	}
	switch {
	case w.Object != "" && len(kinds) > 0:
		return fmt.Sprintf("%s:%s (%s)", w.Object, w.Action, strings.Join(kinds, ", "))
	case w.Object != "":
		return fmt.Sprintf("%s:%s", w.Object, w.Action)
	}
	return strings.Join(kinds, ", ")
}

// allowsKind reports whether k is one of w's kinds, or w names none.
func (w Who) allowsKind(k authz.SubjectKind) bool {
	if len(w.Kinds) == 0 {
		return true
	}
	for _, x := range w.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Rule is one allowed move of a Table.
type Rule[S ~string] struct {
	// From and To are the states before and after the move.
	From, To S
	// By says who may make the move.
	By Who
	// Reason says whether the move must carry a reason.
	Reason Reason
	// Subject is the event emitted when the move is applied, e.g.
	// "kassa.order.paid".
	Subject string
}

// Table is the transition table of one state machine: the moves it allows,
// who may make each, whether each must say why, and the event each emits.
// A move absent from the table is refused. Tables are built once, as
// package variables of the domain that owns the state, and are safe for
// concurrent use once built.
type Table[S ~string] struct {
	name string
	// words name the machine in messages people read (Called).
	words string
	rules []Rule[S]
	index map[[2]S]int
}

var machineName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// New returns an empty table for the machine called name, e.g.
// "order.payment_status". The name appears in errors, the timeline and
// the default event payload. New panics on a malformed name: tables are
// written in code, so a bad one is a programming error found at start.
func New[S ~string](name string) *Table[S] {
	if !machineName.MatchString(name) {
		panic(fmt.Sprintf("transition: machine name %q is not lower.dotted_snake_case", name))
	}
	return &Table[S]{name: name, index: map[[2]S]int{}}
}

// Called sets how messages people read name the machine, in the shop's
// words ("the order's fulfillment"), instead of its name
// ("order.fulfillment_status"), and returns t.
func (t *Table[S]) Called(words string) *Table[S] {
	t.words = words
	return t
}

// Words returns what messages call the machine: the words given to
// Called, else its name.
func (t *Table[S]) Words() string {
	if t.words != "" {
		return t.words
	}
	return t.name
}

// Allow adds the move from -> to, made by by, with or without a reason,
// emitting subject, and returns t so that a table reads as a list of rows.
// It panics on an empty state, a move to the same state, a move listed
// twice, a Who that names nobody or an invalid event subject.
func (t *Table[S]) Allow(from, to S, by Who, reason Reason, subject string) *Table[S] {
	switch {
	case from == "" || to == "":
		panic(fmt.Sprintf("transition: %s: empty state in %q -> %q", t.name, from, to))
	case from == to:
		panic(fmt.Sprintf("transition: %s: %s -> %s does not change the state", t.name, from, to))
	case by.Object == "" && len(by.Kinds) == 0:
		panic(fmt.Sprintf("transition: %s: %s -> %s says nobody may make it", t.name, from, to))
	case (by.Object == "") != (by.Action == ""):
		panic(fmt.Sprintf("transition: %s: %s -> %s names half a permission", t.name, from, to))
	}
	if err := events.ValidateSubject(subject); err != nil {
		panic(fmt.Sprintf("transition: %s: %s -> %s: %v", t.name, from, to, err))
	}
	k := [2]S{from, to}
	if _, dup := t.index[k]; dup {
		panic(fmt.Sprintf("transition: %s: %s -> %s listed twice", t.name, from, to))
	}
	t.index[k] = len(t.rules)
	t.rules = append(t.rules, Rule[S]{From: from, To: to, By: by, Reason: reason, Subject: subject})
	return t
}

// Name returns the machine's name.
func (t *Table[S]) Name() string { return t.name }

// Rules returns the allowed moves in the order they were added.
func (t *Table[S]) Rules() []Rule[S] { return append([]Rule[S](nil), t.rules...) }

// Rule returns the rule for from -> to, or the error of Check.
func (t *Table[S]) Rule(from, to S) (Rule[S], error) {
	i, ok := t.index[[2]S{from, to}]
	if !ok {
		return Rule[S]{}, &Error{
			Machine: t.name, From: string(from), To: string(to),
			err: errs.Conflict("", CodeInvalidTransition,
				fmt.Sprintf("%s cannot move from %s to %s", t.Words(), from, to)),
		}
	}
	return t.rules[i], nil
}

// Check returns nil when the table allows from -> to, and otherwise an
// *Error with code INVALID_TRANSITION that unwraps to errs.ErrConflict: the
// request clashes with the state the record is in.
func (t *Table[S]) Check(from, to S) error {
	_, err := t.Rule(from, to)
	return err
}

// Next returns the states reachable from from in one move, in table order:
// what an admin screen offers as buttons.
func (t *Table[S]) Next(from S) []S {
	var out []S
	for _, r := range t.rules {
		if r.From == from {
			out = append(out, r.To)
		}
	}
	return out
}

// Markdown renders the table for documentation, one row per move in table
// order, so the docs show each domain's machine exactly as the code
// enforces it. The caller writes the heading (the machine's Name).
func (t *Table[S]) Markdown() string {
	var b strings.Builder
	b.WriteString("| from | to | who may | reason | event |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, r := range t.rules {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | `%s` |\n", r.From, r.To, r.By, r.Reason, r.Subject)
	}
	return b.String()
}
