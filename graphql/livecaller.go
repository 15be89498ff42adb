package graphql

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/graphql/live"
	"github.com/kassahq/kassa/httpauth"
)

// checkTimeout bounds one check of a live caller's credential.
const checkTimeout = 10 * time.Second

// minRecheck is the shortest wait between two timed checks of a
// credential, so that a session the database still honours a moment past
// its expiry (clocks differ) is not checked in a loop.
const minRecheck = time.Second

// liveCaller is the caller of a live connection (a WebSocket, an event
// stream): the credential it signed in with and the subject that
// credential signs in now. Its subscriptions run with it as their
// authz.SubjectSource, so each read acts with the caller's roles of the
// moment. The credential is checked again on every new subscription
// (WebSocket), at once after a notice that concerns the caller
// (live.Access), when its session expires, and every RecheckInterval in
// case a notice was lost; when it signs nobody in any more, or cannot be
// checked, the connection ends.
type liveCaller struct {
	cred httpauth.Credential
	// end ends the connection; err unwraps to errs.ErrUnauthenticated
	// when the credential signs nobody in any more.
	end   func(err error)
	every time.Duration

	sub atomic.Pointer[authz.Subject]
	// checking serializes checks, so that an older answer never
	// replaces a newer one.
	checking sync.Mutex
	mu       sync.Mutex
	// changed is closed at the next change of the subject's roles, or
	// after a notice (the permissions of the roles may have changed);
	// guarded by mu.
	changed chan struct{}
	// nudge holds one pending notice.
	nudge chan struct{}
	watch *live.AccessWatch
}

var _ authz.SubjectSource = (*liveCaller)(nil)

// newLiveCaller returns the caller of a connection signed in with cred
// as sub (the zero credential: a guest, never checked). It listens for
// notices on access (nil: none) at once; run acts on them and stops
// listening when the connection ends.
func newLiveCaller(cred httpauth.Credential, sub authz.Subject, access *live.Access, every time.Duration, end func(error)) *liveCaller {
	c := &liveCaller{cred: cred, end: end, every: every, changed: make(chan struct{}), nudge: make(chan struct{}, 1)}
	c.sub.Store(&sub)
	if !cred.IsZero() && access != nil {
		c.watch = access.Watch(sub, c.notice)
	}
	return c
}

// Subject returns the caller as its credential signed in at the last
// check.
func (c *liveCaller) Subject() authz.Subject { return *c.sub.Load() }

// Changed returns a channel closed at the next change (SubjectSource).
func (c *liveCaller) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// stop stops listening for notices, for a connection that ends before
// run started. It may be called more than once.
func (c *liveCaller) stop() {
	if c.watch != nil {
		c.watch.Stop()
	}
}

// notice is the live.Access callback: check soon, in watch's goroutine.
func (c *liveCaller) notice() {
	select {
	case c.nudge <- struct{}{}:
	default: // one is pending already
	}
}

// check authenticates the credential again and keeps the subject it
// signs in now. The subscriptions are told (Changed) when its roles
// changed, or in any case when tell is set (after a notice: what the
// roles allow may have changed). An error unwrapping to
// errs.ErrUnauthenticated means the credential signs nobody in any more;
// any other, that it could not be checked.
func (c *liveCaller) check(ctx context.Context, tell bool) error {
	if c.cred.IsZero() {
		return nil
	}
	c.checking.Lock()
	defer c.checking.Unlock()
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	sub, err := c.cred.Authenticate(ctx)
	if err != nil {
		return err
	}
	old := c.sub.Swap(&sub)
	if tell || !slices.Equal(old.Roles, sub.Roles) || old.ID != sub.ID {
		c.mu.Lock()
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
	}
	return nil
}

// run checks the credential after each notice, at its session's expiry
// and every c.every, until ctx ends or a check fails, which ends the
// connection; then it stops listening for notices. A guest's connection
// has nothing to check.
func (c *liveCaller) run(ctx context.Context) {
	defer c.stop()
	if c.cred.IsZero() {
		return
	}
	t := time.NewTimer(c.wait())
	defer t.Stop()
	for {
		tell := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.nudge:
			tell = true
		}
		if err := c.check(ctx, tell); err != nil {
			if ctx.Err() == nil {
				c.end(err)
			}
			return
		}
		t.Reset(c.wait())
	}
}

// wait is the time until the next timed check: the interval, spread by
// up to a tenth so that connections opened together are not checked
// together, or less when the session expires sooner.
func (c *liveCaller) wait() time.Duration {
	d := c.every - time.Duration(rand.Int64N(int64(c.every)/10+1))
	if exp := c.Subject().Expires; !exp.IsZero() {
		d = min(d, max(time.Until(exp), minRecheck))
	}
	return d
}

// unauthenticated reports whether err says the credential signs nobody
// in any more, rather than that it could not be checked.
func unauthenticated(err error) bool { return errors.Is(err, errs.ErrUnauthenticated) }
