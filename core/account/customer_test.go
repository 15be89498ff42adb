package account_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

func newService(t *testing.T, db *store.DB) (*account.Service, *clock.Fake) {
	t.Helper()
	enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	fake := clock.NewFake(time.Now())
	return build(t, db, enf, account.Options{Clock: fake}), fake
}

// build returns an accounts service on db asking enf with opts, as the
// app builds it; without an outbox in opts, its events are recorded for
// nobody.
func build(t testing.TB, db *store.DB, enf *authz.Enforcer, opts account.Options) *account.Service {
	t.Helper()
	opts.Authz = enf
	if opts.Outbox == nil {
		opts.Outbox = &eventstest.Outbox{}
	}
	svc, err := account.NewService(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestLoginFailureIsRecorded(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc, _ := newService(t, db)
		_, _, err := svc.Login(context.Background(), "nobody@example.com", "whatever it is")
		if err == nil || err.Error() != "email or password is wrong" {
			t.Fatalf("login: %v", err)
		}
	})
}

// TestTokenRedeemedOnce races two redemptions of one reset token: exactly
// one wins.
func TestTokenRedeemedOnce(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		var sent []account.TokenMessage
		enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(enf.Close)
		svc := build(t, db, enf, account.Options{Tokens: account.TokenSinkFunc(func(_ context.Context, m account.TokenMessage) {
			sent = append(sent, m)
		})})
		ctx := context.Background()
		if err := svc.Register(ctx, account.Registration{Email: "race@example.com", Password: "racing passphrase"}); err != nil {
			t.Fatal(err)
		}
		if err := svc.RequestPasswordReset(ctx, "race@example.com"); err != nil {
			t.Fatal(err)
		}
		token := sent[len(sent)-1].Token
		errc := make(chan error, 2)
		for i := 0; i < 2; i++ {
			go func(i int) { errc <- svc.ResetPassword(ctx, token, fmt.Sprintf("new passphrase %d!", i)) }(i)
		}
		var ok, refused int
		for i := 0; i < 2; i++ {
			if err := <-errc; err == nil {
				ok++
			} else if len(errs.All(err)) == 1 && errs.All(err)[0].Code == "INVALID_TOKEN" {
				refused++
			} else {
				t.Errorf("redeem: %v", err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("%d redemptions succeeded, %d refused", ok, refused)
		}
	})
}

// TestAccountEmailsAreLimited: reset links to one address stop after the
// per-address budget (quietly, as for an unknown address), and a client
// asking for too many is refused, for known and unknown addresses alike.
func TestAccountEmailsAreLimited(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		var sent []account.TokenMessage
		enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(enf.Close)
		svc := build(t, db, enf, account.Options{
			Mail: account.MailPolicy{PerAddress: 2, PerIP: 4, Window: time.Hour},
			Tokens: account.TokenSinkFunc(func(_ context.Context, m account.TokenMessage) {
				sent = append(sent, m)
			}),
		})
		ctx := account.WithClient(context.Background(), account.Client{IP: "198.51.100.7"})
		if err := svc.Register(context.Background(), account.Registration{Email: "inbox@example.com", Password: "a long enough passphrase"}); err != nil {
			t.Fatal(err)
		}
		sent = nil
		for i := 0; i < 3; i++ {
			if err := svc.RequestPasswordReset(ctx, "inbox@example.com"); err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
		}
		if len(sent) != 2 {
			t.Fatalf("%d reset emails for 3 requests, want the budget of 2", len(sent))
		}
		// The fourth request from this client is its last allowed; the
		// fifth is refused whatever the address.
		if err := svc.RequestPasswordReset(ctx, "unknown@example.com"); err != nil {
			t.Fatalf("request 4: %v", err)
		}
		if err := svc.RequestPasswordReset(ctx, "unknown@example.com"); !errors.Is(err, errs.ErrLimited) {
			t.Fatalf("request 5 from one client: %v, want ErrLimited", err)
		}
		other := account.WithClient(context.Background(), account.Client{IP: "203.0.113.1"})
		if err := svc.RequestEmailVerification(other, "someone@example.com"); err != nil {
			t.Fatalf("another client is not limited: %v", err)
		}
	})
}
