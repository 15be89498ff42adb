package live

import (
	"context"
	"sync"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
)

// AccessSubjects are the account events after which a live connection
// checks its caller's credential again: the credential may have ended (a
// disabled member, a revoked key, an erased buyer, a changed password, a
// logout) or its roles changed. Each payload names whom it concerns
// (staffId, apiKeyId, customerId or sessionId).
var AccessSubjects = []string{
	account.SubjectStaffDisabled,
	account.SubjectStaffRolesChanged,
	account.SubjectStaffPasswordChanged,
	account.SubjectAPIKeyRevoked,
	account.SubjectCustomerErased,
	account.SubjectCustomerPasswordChanged,
	account.SubjectSessionEnded,
}

// rolesKey is the key of every caller whose roles come from the policy
// (staff and API keys): a policy load concerns them all.
const rolesKey = "roles"

// Access tells the live connections of this instance that their caller's
// access may have changed, so that they check it again at once instead
// of at their next periodic check. Its inputs are the AccessSubjects
// events, from the outbox as they commit here (HandleCommitted) and from
// the bus for every instance (HandleEvent), and the loads of the
// permission policy (PolicyChanged, from authz.Enforcer.OnReload). A
// notice is a hint, never a verdict: the connection asks the database.
// It is safe for concurrent use.
//
//	access := live.NewAccess()
//	for _, subject := range live.AccessSubjects {
//		err := outbox.OnCommit(subject, access.HandleCommitted)
//		sub, err := bus.Listen(ctx, subject, access.HandleEvent)
//	}
//	enforcer.OnReload(access.PolicyChanged)
//	w := access.Watch(subject, func() { /* check the credential again, soon */ })
//	defer w.Stop()
type Access struct {
	mu      sync.Mutex
	watches map[string]map[*AccessWatch]struct{}
}

// NewAccess returns an Access with no watches.
func NewAccess() *Access {
	return &Access{watches: map[string]map[*AccessWatch]struct{}{}}
}

// AccessWatch is one connection's interest in the notices about its
// caller.
type AccessWatch struct {
	a    *Access
	keys []string
	fn   func()
	// stopped is guarded by a.mu.
	stopped bool
}

// Watch calls fn after each notice that concerns sub: an event naming
// its session, or the staff member, buyer or API key it is, and, for
// staff and API keys, every load of the policy. fn runs in the notifier's
// goroutine: it must be quick and must not block. Stop the watch when the
// connection ends.
func (a *Access) Watch(sub authz.Subject, fn func()) *AccessWatch {
	w := &AccessWatch{a: a, keys: accessKeys(sub), fn: fn}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range w.keys {
		set := a.watches[k]
		if set == nil {
			set = map[*AccessWatch]struct{}{}
			a.watches[k] = set
		}
		set[w] = struct{}{}
	}
	return w
}

// accessKeys are the keys of the notices that concern sub.
func accessKeys(sub authz.Subject) []string {
	var keys []string
	if sub.Session != "" {
		keys = append(keys, "session:"+sub.Session)
	}
	switch sub.Kind {
	case authz.KindStaff, authz.KindAPIKey:
		keys = append(keys, string(sub.Kind)+":"+sub.ID, rolesKey)
	case authz.KindCustomer:
		keys = append(keys, string(sub.Kind)+":"+sub.ID)
	}
	return keys
}

// Stop ends the watch. It may be called more than once.
func (w *AccessWatch) Stop() {
	a := w.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.stopped {
		return
	}
	w.stopped = true
	for _, k := range w.keys {
		set := a.watches[k]
		delete(set, w)
		if len(set) == 0 {
			delete(a.watches, k)
		}
	}
}

// Watching reports how many watches a notice with key would reach
// ("staff:stf_…", "session:ses_…", "roles").
func (a *Access) Watching(key string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.watches[key])
}

// accessRef is what the AccessSubjects payloads say of whom they concern.
type accessRef struct {
	StaffID    string `json:"staffId"`
	APIKeyID   string `json:"apiKeyId"`
	CustomerID string `json:"customerId"`
	SessionID  string `json:"sessionId"`
}

// HandleEvent is the bus handler of AccessSubjects: it tells the
// watches of whom the event names.
func (a *Access) HandleEvent(_ context.Context, e events.Event) error {
	a.HandleCommitted(e)
	return nil
}

// HandleCommitted is the events.Outbox.OnCommit handler of
// AccessSubjects: a change made on this instance reaches its connections
// without waiting for the relay and the bus. The bus's copy tells them
// again, which only costs a check.
func (a *Access) HandleCommitted(e events.Event) {
	var ref accessRef
	if e.Decode(&ref) != nil {
		return
	}
	var keys []string
	for _, k := range []struct{ prefix, id string }{
		{string(authz.KindStaff) + ":", ref.StaffID},
		{string(authz.KindAPIKey) + ":", ref.APIKeyID},
		{string(authz.KindCustomer) + ":", ref.CustomerID},
		{"session:", ref.SessionID},
	} {
		if k.id != "" {
			keys = append(keys, k.prefix+k.id)
		}
	}
	a.notify(keys...)
}

// PolicyChanged tells every staff and API key connection that roles or
// their permissions may have changed. Register it with
// authz.Enforcer.OnReload: it runs after the policy is loaded, so the
// checks it causes see the new roles.
func (a *Access) PolicyChanged() { a.notify(rolesKey) }

// notify calls the watches of keys, each once.
func (a *Access) notify(keys ...string) {
	var fns []func()
	a.mu.Lock()
	seen := map[*AccessWatch]bool{}
	for _, k := range keys {
		for w := range a.watches[k] {
			if !seen[w] {
				seen[w] = true
				fns = append(fns, w.fn)
			}
		}
	}
	a.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}
