package authz_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// source is a SubjectSource whose roles a test changes.
type source struct {
	mu      sync.Mutex
	sub     authz.Subject
	changed chan struct{}
}

func (s *source) Subject() authz.Subject {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sub
}

func (s *source) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *source) setRoles(roles ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sub.Roles = roles
	close(s.changed)
	s.changed = make(chan struct{})
}

// TestSubjectSource: a context carrying a SubjectSource is checked with
// the source's roles of the moment, and tells of their change; a plain
// subject never changes.
func TestSubjectSource(t *testing.T) {
	db := storetest.NewSQLite(t)
	e := newEnforcer(t, db, nil)
	src := &source{sub: authz.Subject{Kind: authz.KindStaff, ID: "stf_1", Roles: []string{authz.RoleDeveloper}}, changed: make(chan struct{})}
	ctx := authz.WithSubjectSource(context.Background(), src)
	if got := authz.SubjectFrom(ctx); got.ID != "stf_1" || got.Store != authz.DefaultStore {
		t.Errorf("SubjectFrom: %+v", got)
	}
	if err := e.Can(ctx, authz.Order, authz.Read); err != nil {
		t.Fatalf("a developer reads orders: %v", err)
	}
	changed := authz.SubjectChanged(ctx)
	src.setRoles("support")
	select {
	case <-changed:
	default:
		t.Error("the change was not told")
	}
	if got := code(e.Can(ctx, authz.Plugin, authz.Write)); got != "FORBIDDEN" {
		t.Errorf("after the roles changed, plugin write: %q, want FORBIDDEN", got)
	}
	if authz.SubjectChanged(authz.WithSubject(context.Background(), src.Subject())) != nil {
		t.Error("a fixed subject says it may change")
	}
}

// TestOnReloadHearsEveryLoad: OnReload runs after a change made on this
// instance and after one announced by another, once the new policy is
// loaded.
func TestOnReloadHearsEveryLoad(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		bus := authz.NewLocalBroadcaster()
		w1, err := authz.NewWatcher(bus, nil)
		if err != nil {
			t.Fatal(err)
		}
		w2, err := authz.NewWatcher(bus, nil)
		if err != nil {
			t.Fatal(err)
		}
		one := newEnforcer(t, db, w1)
		two := newEnforcer(t, db, w2)
		var ones, twos atomic.Int32
		var sawNewRoles atomic.Bool
		one.OnReload(func() { ones.Add(1) })
		two.OnReload(func() {
			twos.Add(1)
			sawNewRoles.Store(len(two.RolesOf("stf_9", authz.DefaultStore)) == 1)
		})
		owner := as(authz.KindStaff, "stf_0", authz.RoleOwner)
		if err := one.SetPrincipalRoles(owner, "stf_9", []string{authz.RoleSupport}); err != nil {
			t.Fatal(err)
		}
		if ones.Load() == 0 || twos.Load() == 0 {
			t.Errorf("reloads heard: here %d, on the other instance %d", ones.Load(), twos.Load())
		}
		if !sawNewRoles.Load() {
			t.Error("OnReload ran before the new roles were loaded")
		}
	})
}
