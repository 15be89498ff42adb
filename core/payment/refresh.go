package payment

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
)

// RefreshEvery is the least time between two questions Refresh asks a
// gateway about one attempt on one instance: a status page polling, or a
// buyer pressing reload, costs the gateway at most one GetPayment a
// second per attempt and instance.
const RefreshEvery = time.Second

// maxRefreshTurns bounds the memory of the refresh limiter: the attempts
// refreshed within the last RefreshEvery. Past it, Refresh answers from
// the books without asking the gateway until older turns expire.
const maxRefreshTurns = 100_000

// Refresh asks the gateway now about one attempt whose outcome is open,
// for the buyer back from the gateway's page (whose return is never proof
// of payment): what the reconciler does for the attempt, GetPayment and
// its answer applied through the path of every gateway fact, under the
// reconciler's event id, so a notification or a reconciler round racing
// it changes the books once. Needs payment write (staff) or payment
// write:own (the order's buyer; a guest with the order's access token);
// any other attempt is PAYMENT_NOT_FOUND.
//
// An attempt already final (captured, failed, cancelled, authorized) is
// returned as it is, without calling the plugin. Calls are spaced by an
// in-memory limiter per instance (RefreshEvery per attempt): a refresh
// within that time of the previous one returns the attempt as the books
// have it. A gateway that cannot answer gives its error
// (PLUGIN_UNAVAILABLE, PLUGIN_DISABLED) or PAYMENT_OUTCOME_UNKNOWN; the
// attempt is unchanged and the reconciler asks again later.
func (s *Service) Refresh(ctx context.Context, attemptID, accessToken string) (*Attempt, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Payment, authz.Write); err != nil {
		return nil, err
	}
	att, err := s.store.Attempt(ctx, attemptID)
	if err != nil {
		return nil, err
	}
	if s.authz.Can(ctx, authz.Payment, authz.Write) != nil {
		o, err := s.ownOrder(ctx, att.OrderID, accessToken, authz.Write)
		switch {
		case errors.Is(err, errsNotFound):
			return nil, attemptNotFound()
		case err != nil:
			return nil, err
		case o.ID != att.OrderID:
			return nil, attemptNotFound()
		}
	}
	if !att.State.Open() || !s.refreshes.take(att.ID, s.clock.Now()) {
		return att, nil
	}
	if _, err := s.reconcileAttempt(ctx, att.ID); err != nil {
		if errors.Is(err, ErrOutcomeUnknown) {
			return nil, errs.Unavailable(CodeOutcomeUnknown, "the gateway did not answer; the payment's status will be known after reconciliation")
		}
		return nil, err
	}
	return s.store.Attempt(ctx, att.ID)
}

// refreshTurns remembers when Refresh last asked a gateway about each
// attempt. Its zero value is ready.
type refreshTurns struct {
	mu   sync.Mutex
	last map[string]time.Time
	// pruneAt is the size at which expired turns are dropped; it doubles
	// with what survives, so pruning costs O(1) per turn on average.
	pruneAt int
}

// take reports whether the attempt may be asked about at now, and if so
// records the turn.
func (t *refreshTurns) take(attemptID string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if prev, ok := t.last[attemptID]; ok && now.Before(prev.Add(RefreshEvery)) {
		return false
	}
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	if len(t.last) >= max(t.pruneAt, 1024) {
		for id, at := range t.last {
			if !now.Before(at.Add(RefreshEvery)) {
				delete(t.last, id)
			}
		}
		t.pruneAt = 2 * len(t.last)
		if len(t.last) >= maxRefreshTurns {
			return false
		}
	}
	t.last[attemptID] = now
	return true
}
