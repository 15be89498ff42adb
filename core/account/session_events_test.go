package account_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestSessionEndsAreAnnounced: every way a session ends writes an event
// naming it or its holder, so that the live connections signed in with it
// end on every instance (graphql/live.Access); and a session's subject
// says when it expires.
func TestSessionEndsAreAnnounced(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(enf.Close)
		out := &eventstest.Outbox{}
		var resets []string
		svc := build(t, db, enf, account.Options{Outbox: out, Logger: quiet,
			Tokens: account.TokenSinkFunc(func(_ context.Context, m account.TokenMessage) { resets = append(resets, m.Token) })})
		anon := authz.WithSubject(context.Background(), authz.AnonymousSubject())
		sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
		const email, password = "sam@shop.example", "sam's first passphrase"
		m, err := svc.CreateOwner(sys, account.NewStaff{Email: email, Password: password})
		if err != nil {
			t.Fatal(err)
		}
		signIn := func(ctx context.Context, password string) authz.Subject {
			t.Helper()
			_, sess, err := svc.StaffLogin(ctx, email, password)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := svc.Authenticate(context.Background(), sess.Token)
			if err != nil {
				t.Fatal(err)
			}
			if !sub.Expires.Equal(sess.Session.ExpiresAt) || sub.Expires.IsZero() {
				t.Errorf("subject expires %v, session %v", sub.Expires, sess.Session.ExpiresAt)
			}
			return sub
		}
		type event struct {
			Subject string
			Payload string
		}
		for _, c := range []struct {
			name string
			end  func() string // ends a session, returning the payload to expect
			want string
		}{
			{"logout", func() string {
				sub := signIn(anon, password)
				if err := svc.Logout(authz.WithSubject(context.Background(), sub)); err != nil {
					t.Fatal(err)
				}
				return `{"sessionId":"` + sub.Session + `"}`
			}, account.SubjectSessionEnded},
			{"signing in again replaces the session", func() string {
				sub := signIn(anon, password)
				signIn(authz.WithSubject(context.Background(), sub), password)
				return `{"sessionId":"` + sub.Session + `"}`
			}, account.SubjectSessionEnded},
			{"password changed", func() string {
				sub := signIn(anon, password)
				if err := svc.ChangeStaffPassword(authz.WithSubject(context.Background(), sub), password, "sam's second passphrase"); err != nil {
					t.Fatal(err)
				}
				return `{"staffId":"` + m.ID + `"}`
			}, account.SubjectStaffPasswordChanged},
			{"password reset", func() string {
				if err := svc.RequestStaffPasswordReset(anon, email); err != nil || len(resets) == 0 {
					t.Fatalf("no reset token: %v", err)
				}
				if err := svc.ResetStaffPassword(anon, resets[len(resets)-1], password); err != nil {
					t.Fatal(err)
				}
				return `{"staffId":"` + m.ID + `"}`
			}, account.SubjectStaffPasswordChanged},
		} {
			t.Run(c.name, func(t *testing.T) {
				out.Take()
				payload := c.end()
				var got []event
				for _, e := range out.Take() {
					if e.Subject == c.want {
						got = append(got, event{e.Subject, string(e.Payload)})
					}
				}
				if diff := cmp.Diff([]event{{c.want, payload}}, got); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
			})
		}
	})
}
