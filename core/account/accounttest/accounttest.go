// Package accounttest helps tests that need buyers: an accounts service
// over the real permission system with cheap password hashing, callers of
// each kind, and a seeded set of buyers with addresses, tags and groups.
//
//	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
//		svc := accounttest.NewService(t, db)
//		buyers := accounttest.SeedBuyers(t, svc, 20)
//		as, err := svc.Addresses(accounttest.Buyer(buyers[0].ID), buyers[0].ID)
//	})
package accounttest

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/store"
)

// NewService returns an accounts service on db with the default
// permission policy, quiet logs, an outbox that records its events for
// nobody, and argon2id parameters cheap enough to register dozens of
// buyers in a test. Never use those parameters outside tests.
func NewService(t testing.TB, db *store.DB) *account.Service {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	svc, err := account.NewService(db, account.Options{Authz: enf, Outbox: &eventstest.Outbox{}, Logger: quiet,
		PasswordParams: account.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// System returns a context whose caller is the platform itself.
func System() context.Context {
	return authz.WithSubject(context.Background(), authz.SystemSubject("accounttest"))
}

// Staff returns a context whose caller is a staff member holding role
// (authz.RoleOwner, authz.RoleSupport, ...).
func Staff(role string) context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{
		Kind: authz.KindStaff, ID: "usr_" + role, Roles: []string{role}, Store: authz.DefaultStore,
	})
}

// Buyer returns a context whose caller is the signed-in buyer id.
func Buyer(id string) context.Context {
	return authz.WithSubject(context.Background(), authz.Subject{
		Kind: authz.KindCustomer, ID: id, Roles: []string{authz.RoleCustomer}, Store: authz.DefaultStore,
	})
}

// Anonymous returns a context whose caller nobody signed in as.
func Anonymous() context.Context {
	return authz.WithSubject(context.Background(), authz.AnonymousSubject())
}

// Seeded is a buyer SeedBuyers made, with what it gave them.
type Seeded struct {
	*account.Customer
	// Addresses are the address book, oldest first.
	Addresses []*account.Address
	// Tags are sorted.
	Tags []string
	// Groups are sorted by name.
	Groups []*account.Group
}

// SeedBuyers registers n buyers (buyer00@example.com, ...) and returns
// them oldest first. Buyer i has i%3 addresses (the first is both
// defaults; a second becomes the shipping default), the tags "all" and
// "tier-<i%3>", and belongs to the group "Even" when i is even and to
// "Triple" when i is a multiple of three.
func SeedBuyers(t testing.TB, svc *account.Service, n int) []Seeded {
	t.Helper()
	ctx := System()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	even, err := svc.CreateGroup(ctx, account.GroupInput{Name: ptr("Even")})
	must(err)
	triple, err := svc.CreateGroup(ctx, account.GroupInput{Name: ptr("Triple")})
	must(err)
	out := make([]Seeded, n)
	for i := range n {
		email := fmt.Sprintf("buyer%02d@example.com", i)
		must(svc.Register(ctx, account.Registration{Email: email, Password: "a test passphrase " + email, FirstName: fmt.Sprint("Buyer ", i)}))
		p, err := svc.List(ctx, account.CustomerFilter{Query: email}, page.Request{First: 1})
		must(err)
		if len(p.Items) != 1 {
			t.Fatalf("registered %s, found %d", email, len(p.Items))
		}
		b := Seeded{Customer: p.Items[0]}
		for j := range i % 3 {
			var d account.Defaults
			if j == 1 {
				d.Shipping = ptr(true)
			}
			a, c, err := svc.CreateAddress(ctx, b.ID, account.AddressInput{Line1: fmt.Sprintf("Street %d", j+1),
				City: fmt.Sprintf("City %d-%d", i, j), CountryCode: "DE"}, d)
			must(err)
			b.Addresses, b.Customer = append(b.Addresses, a), c
		}
		b.Tags = []string{"all", fmt.Sprint("tier-", i%3)}
		_, err = svc.AddTags(ctx, b.ID, b.Tags)
		must(err)
		if i%2 == 0 {
			_, err = svc.AddToGroup(ctx, even.ID, []string{b.ID})
			must(err)
			b.Groups = append(b.Groups, even)
		}
		if i%3 == 0 {
			_, err = svc.AddToGroup(ctx, triple.ID, []string{b.ID})
			must(err)
			b.Groups = append(b.Groups, triple)
		}
		out[i] = b
	}
	return out
}

func ptr[T any](v T) *T { return &v }
