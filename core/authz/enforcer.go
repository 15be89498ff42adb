package authz

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"

	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
)

// modelText is the Casbin model: RBAC with domains.
//
//go:embed model.conf
var modelText string

// ModelText returns the embedded Casbin model.
func ModelText() string { return modelText }

// Options tune NewEnforcer.
type Options struct {
	// Logger receives the enforcer's logs; nil means slog.Default().
	Logger *slog.Logger
	// Watcher tells the other instances that the policy changed and
	// reloads this one when they change it; nil for a single instance.
	Watcher persist.Watcher
	// ReloadEvery reloads the policy from the database periodically as a
	// safety net for a lost change notice; 0 means every 5 minutes, a
	// negative value never.
	ReloadEvery time.Duration
	// Clock reads the time; nil means the system clock.
	Clock clock.Clock
}

// Enforcer is the Casbin-backed Authorizer: the default policy seeded in
// the database, a decision cache, and the administration of roles.
type Enforcer struct {
	ce *casbin.SyncedCachedEnforcer
	// decisions answers the questions asked since the last policy load
	// without Casbin; nil asks Casbin every time.
	decisions atomic.Pointer[decisionCache]
	db        *store.DB
	adapter   *Adapter
	watcher   persist.Watcher
	clock     clock.Clock
	log       *slog.Logger

	stopOnce sync.Once
	stop     chan struct{}

	// reloaded are the OnReload listeners.
	reloadedMu sync.Mutex
	reloaded   []func()

	// roleNamedBy counts the open invitations naming a role (OnRoleNamed).
	roleNamedBy atomic.Pointer[func(ctx context.Context, storeID, role string) (int, error)]
}

var _ Authorizer = (*Enforcer)(nil)

// NewEnforcer seeds the default roles and policy into db where missing,
// loads the policy, and starts listening for changes made by other
// instances. Close stops it.
func NewEnforcer(ctx context.Context, db *store.DB, opts Options) (*Enforcer, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = clock.System
	}
	e := &Enforcer{db: db, adapter: NewAdapter(db), watcher: opts.Watcher, clock: opts.Clock,
		log: opts.Logger.With("component", "authz"), stop: make(chan struct{})}
	if err := e.seed(ctx); err != nil {
		return nil, err
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("parse casbin model: %w", err)
	}
	e.ce, err = casbin.NewSyncedCachedEnforcer(m, e.adapter)
	if err != nil {
		return nil, fmt.Errorf("load casbin policy: %w", err)
	}
	// Cached decisions live until the next policy load: every change goes
	// through Reload, which clears the cache.
	e.ce.SetExpireTime(0)
	e.decisions.Store(newDecisionCache())
	if e.watcher != nil {
		if err := e.watcher.SetUpdateCallback(func(string) {
			if err := e.reloadLocal(); err != nil {
				e.log.Error("reload policy after change notice", "err", err)
				return
			}
			e.log.Debug("policy reloaded after change notice")
		}); err != nil {
			return nil, fmt.Errorf("set policy watcher callback: %w", err)
		}
	}
	every := opts.ReloadEvery
	if every == 0 {
		every = 5 * time.Minute
	}
	if every > 0 {
		go e.reloadLoop(every)
	}
	return e, nil
}

func (e *Enforcer) reloadLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
			if err := e.reloadLocal(); err != nil {
				e.log.Warn("periodic policy reload", "err", err)
			}
		}
	}
}

// Close stops the periodic reload and the watcher.
func (e *Enforcer) Close() {
	e.stopOnce.Do(func() {
		close(e.stop)
		if e.watcher != nil {
			e.watcher.Close()
		}
	})
}

// reloadLocal reloads this instance's policy from the database and clears
// the decision cache.
func (e *Enforcer) reloadLocal() error {
	if err := e.ce.LoadPolicy(); err != nil {
		return fmt.Errorf("load casbin policy: %w", err)
	}
	// LoadPolicy clears the cache before it takes the lock: a decision
	// made meanwhile from the old policy could stay cached. Clear again.
	if err := e.ce.InvalidateCache(); err != nil {
		return fmt.Errorf("clear decision cache: %w", err)
	}
	// A fresh cache only after the load: a decision taken from the old
	// policy meanwhile lands in the old cache, which nobody reads again.
	e.decisions.Store(newDecisionCache())
	e.reloadedMu.Lock()
	fns := e.reloaded
	e.reloadedMu.Unlock()
	for _, fn := range fns {
		fn()
	}
	return nil
}

// OnReload calls fn after every load of the policy on this instance: a
// change made here, one another instance announced, and the periodic
// reload that makes up for a lost notice. Roles and their permissions
// may have changed; RolesOf answers from the new policy when fn runs.
// Live connections use it to check their callers again. fn must be
// quick and must not block.
func (e *Enforcer) OnReload(fn func()) {
	e.reloadedMu.Lock()
	defer e.reloadedMu.Unlock()
	e.reloaded = append(e.reloaded[:len(e.reloaded):len(e.reloaded)], fn)
}

// maxDecisions bounds the decision cache. The questions asked are the
// roles and stores in use times the objects and actions of the code: a
// few hundred; the bound only matters if role names were endless.
const maxDecisions = 4096

// decisionKey is one question to the policy.
type decisionKey struct {
	role, store string
	obj         Object
	act         Action
}

// decisionCache keeps the policy's answers per role, store, object and
// action. Casbin's own cache answers too, but builds a string key per
// question; every GraphQL operation asks one to three questions (a
// guest's cart mutation: MayOwn asks cart:write, then cart:write:own).
type decisionCache struct {
	mu sync.RWMutex
	m  map[decisionKey]bool
}

func newDecisionCache() *decisionCache {
	return &decisionCache{m: make(map[decisionKey]bool, 64)}
}

func (c *decisionCache) get(k decisionKey) (allowed, found bool) {
	c.mu.RLock()
	allowed, found = c.m[k]
	c.mu.RUnlock()
	return allowed, found
}

func (c *decisionCache) put(k decisionKey, allowed bool) {
	c.mu.Lock()
	if len(c.m) < maxDecisions {
		c.m[k] = allowed
	}
	c.mu.Unlock()
}

// Reload reloads the policy from the database on this instance and tells
// the others to do the same.
func (e *Enforcer) Reload() error {
	if err := e.reloadLocal(); err != nil {
		return err
	}
	if e.watcher != nil {
		if err := e.watcher.Update(); err != nil {
			return fmt.Errorf("notify policy change: %w", err)
		}
	}
	return nil
}

// reloadAfterCommit reloads once the transaction in ctx has committed, so
// a rolled-back change is never enforced and never announced.
func (e *Enforcer) reloadAfterCommit(ctx context.Context) {
	store.AfterCommit(ctx, func() {
		if err := e.Reload(); err != nil {
			e.log.Error("reload policy after change", "err", err)
		}
	})
}

// Can reports whether the subject in ctx may perform act on obj: nil when
// one of its roles allows it in its store, errs.ErrUnauthenticated for a
// denied anonymous caller and errs.ErrForbidden for anyone else. The
// system subject is always allowed.
func (e *Enforcer) Can(ctx context.Context, obj Object, act Action) error {
	s := SubjectFrom(ctx)
	if s.Kind == KindSystem {
		return nil
	}
	ok, err := e.allowed(s.Roles, s.Store, obj, act)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	return Denied(s, obj, act)
}

// RoleAllows reports whether role may perform act on obj in the store.
func (e *Enforcer) RoleAllows(role, storeID string, obj Object, act Action) (bool, error) {
	return e.allowed([]string{role}, storeID, obj, act)
}

func (e *Enforcer) allowed(roles []string, storeID string, obj Object, act Action) (bool, error) {
	if storeID == "" {
		storeID = DefaultStore
	}
	// Loaded before asking Casbin: see reloadLocal.
	cache := e.decisions.Load()
	for _, role := range roles {
		k := decisionKey{role: role, store: storeID, obj: obj, act: act}
		ok, found := false, false
		if cache != nil {
			ok, found = cache.get(k)
		}
		if !found {
			var err error
			ok, err = e.ce.Enforce(role, storeID, string(obj), string(act))
			if err != nil {
				return false, fmt.Errorf("enforce %s %s:%s: %w", role, obj, act, err)
			}
			if cache != nil {
				cache.put(k, ok)
			}
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// Denied returns the error for s being refused act on obj:
// UNAUTHENTICATED for an anonymous caller, FORBIDDEN otherwise.
func Denied(s Subject, obj Object, act Action) error {
	if s.Kind == KindAnonymous || s.Kind == "" {
		return errs.Unauthenticated(fmt.Sprintf("sign in to %s %s", Base(act), obj))
	}
	return errs.Forbidden("FORBIDDEN", fmt.Sprintf("not allowed to %s %s", act, obj))
}

// CanOwn is the ownership rule every domain reuses: the subject in ctx may
// perform act on a record of obj owned by ownerID when it holds act on obj
// (staff with the permission reach every record), or when it is ownerID
// itself and holds the own variant of act ("read:own"). A buyer thus
// reaches their own addresses, orders and returns and nobody else's.
// ownerID is a customer id (or a staff id for a staff member's own
// profile); "" means the record has no owner, so only the full permission
// passes.
func CanOwn(ctx context.Context, a Authorizer, obj Object, act Action, ownerID string) error {
	base := Base(act)
	s := SubjectFrom(ctx)
	if e, ok := a.(*Enforcer); ok && ownerID != "" && s.ID == ownerID && (s.Kind == KindCustomer || s.Kind == KindStaff) {
		// The owner: either permission passes, and no refusal is built
		// on the way (mayOwn).
		return e.mayOwn(ctx, obj, base)
	}
	err := a.Can(ctx, obj, base)
	if err == nil {
		return nil
	}
	if ownerID != "" && s.ID == ownerID && (s.Kind == KindCustomer || s.Kind == KindStaff) {
		if a.Can(ctx, obj, Own(base)) == nil {
			return nil
		}
	}
	return err
}

// MayOwn is the check before a record is loaded: it passes when the
// subject holds act on obj or its own variant, so a caller who could never
// succeed is refused before anything is looked up (and learns nothing
// about which records exist). Call CanOwn once the owner is known.
func MayOwn(ctx context.Context, a Authorizer, obj Object, act Action) error {
	base := Base(act)
	if e, ok := a.(*Enforcer); ok {
		return e.mayOwn(ctx, obj, base)
	}
	err := a.Can(ctx, obj, base)
	if err == nil {
		return nil
	}
	if a.Can(ctx, obj, Own(base)) == nil {
		return nil
	}
	return err
}

// mayOwn is MayOwn on the enforcer: it asks both questions before
// building any error, since a guest's cart operation is refused base
// and allowed its own variant on every request (Can would build the
// refusal, about eight allocations, only to drop it).
func (e *Enforcer) mayOwn(ctx context.Context, obj Object, base Action) error {
	s := SubjectFrom(ctx)
	if s.Kind == KindSystem {
		return nil
	}
	ok, err := e.allowed(s.Roles, s.Store, obj, base)
	if ok {
		return nil
	}
	if own, oerr := e.allowed(s.Roles, s.Store, obj, ownOf(base)); oerr == nil && own {
		return nil
	}
	if err != nil {
		return err
	}
	return Denied(s, obj, base)
}

// ownOf is Own(base) without building the string for the actions the
// code asks about.
func ownOf(base Action) Action {
	switch base {
	case Read:
		return readOwn
	case Write:
		return writeOwn
	}
	return Own(base)
}

// The own variants of Read and Write, as constants.
const (
	readOwn  = Read + OwnSuffix
	writeOwn = Write + OwnSuffix
)
