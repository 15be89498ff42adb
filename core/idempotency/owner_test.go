package idempotency_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

func TestOwnerOf(t *testing.T) {
	t.Parallel()
	as := func(kind authz.SubjectKind, id string) context.Context {
		return authz.WithSubject(context.Background(), authz.Subject{Kind: kind, ID: id})
	}
	guest := authz.WithSubject(context.Background(), authz.AnonymousSubject())
	tokenA, tokenB := idempotency.OwnerOf(guest, "token-a"), idempotency.OwnerOf(guest, "token-b")
	for _, c := range []struct {
		name string
		got  string
		want string
	}{
		{"a signed-in buyer, whatever they name", idempotency.OwnerOf(as(authz.KindCustomer, "cus_1"), "token-a"), "customer:cus_1"},
		{"staff share the shop's keys", idempotency.OwnerOf(as(authz.KindStaff, "stf_1"), "token-a"), ""},
		{"API keys share the shop's keys", idempotency.OwnerOf(as(authz.KindAPIKey, "key_1"), ""), ""},
		{"the platform", idempotency.OwnerOf(authz.WithSubject(context.Background(), authz.SystemSubject("test")), ""), ""},
		{"a guest naming nothing", idempotency.OwnerOf(guest, ""), "guest"},
		{"no subject is a guest", idempotency.OwnerOf(context.Background(), ""), "guest"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
	if tokenA == tokenB || !strings.HasPrefix(tokenA, "guest:") || strings.Contains(tokenA, "token-a") || len(tokenA) != len("guest:")+64 {
		t.Errorf("guests' owners %q and %q: want distinct hashes of their tokens", tokenA, tokenB)
	}
}

// Keys of two owners of a scope never meet, nor meet the shop's keys of
// the scope; one owner's keys behave as keys always do.
func TestOwnedKeys(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		keys := newKeys(t, db, clock.NewFake(t0), 0)
		var runs atomic.Int64
		alice, bob := idempotency.Owned("checkout", "customer:cus_alice"), idempotency.Owned("checkout", "customer:cus_bob")
		if idempotency.Owned("checkout", "") != "checkout" {
			t.Fatal("no owner is the scope itself")
		}
		steps := []struct {
			name, scope, request, result, want, code string
		}{
			{"alice's first use", alice, "cart_a", "alice", "alice", ""},
			{"bob, the same key for his own cart", bob, "cart_b", "bob", "bob", ""},
			{"the shop's key of the same text", "checkout", "cart_s", "shop", "shop", ""},
			{"alice's retry", alice, "cart_a", "x", "alice", ""},
			{"bob's retry", bob, "cart_b", "x", "bob", ""},
			{"alice, another request", alice, "cart_c", "x", "", idempotency.CodeKeyReused},
		}
		for _, s := range steps {
			got, err := keys.Do(ctx, s.scope, "same-key", []byte(s.request), counted(&runs, s.result))
			switch {
			case s.code != "":
				if code(err) != s.code {
					t.Fatalf("%s: %v, want %s", s.name, err, s.code)
				}
			case err != nil || string(got) != s.want:
				t.Fatalf("%s: %q, %v; want %q", s.name, got, err, s.want)
			}
		}
		if runs.Load() != 3 {
			t.Fatalf("work ran %d times, want once per owner", runs.Load())
		}
		for _, bad := range []string{idempotency.Owned("checkout", strings.Repeat("o", 200)), idempotency.Owned("checkout", "a\nb"),
			idempotency.Owned("", "customer:cus_1"), "/customer:cus_1"} {
			if _, err := keys.Do(ctx, bad, "k", nil, counted(&runs, "")); err == nil {
				t.Errorf("scope %q: want an error", bad)
			}
		}
	})
}
