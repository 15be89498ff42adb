package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestNewServiceValidatesOptions: the constructor refuses a missing
// database, authorizer or outbox, and defaults the rest.
func TestNewServiceValidatesOptions(t *testing.T) {
	db := storetest.NewSQLite(t)
	enf, err := authz.NewEnforcer(context.Background(), db, authz.Options{ReloadEvery: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	for _, tc := range []struct {
		name string
		db   *store.DB
		opts account.Options
		want string // "" for success
	}{
		{"complete", db, account.Options{Authz: enf, Outbox: &eventstest.Outbox{}}, ""},
		{"no database", nil, account.Options{Authz: enf, Outbox: &eventstest.Outbox{}}, "no database"},
		{"no authorizer", db, account.Options{Outbox: &eventstest.Outbox{}}, "Options.Authz is required"},
		{"no outbox", db, account.Options{Authz: enf}, "Options.Outbox is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, err := account.NewService(tc.db, tc.opts)
			if tc.want == "" {
				if err != nil || svc == nil {
					t.Fatalf("NewService: %v", err)
				}
				if svc.Hasher() == nil {
					t.Fatal("no default password hasher")
				}
				return
			}
			if err == nil || svc != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewService = %v, %v; want an error saying %q", svc, err, tc.want)
			}
		})
	}
}

// TestAbsentIsAnError: a lookup that misses answers an error, never
// nil, nil (ADR 0007): a not-found error where the caller may know the
// record is absent, and the usual refusal where a credential is checked,
// the same for a credential that never existed as for a used one.
func TestAbsentIsAnError(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc, _ := newService(t, db)
		sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
		owner, err := svc.CreateOwner(sys, account.NewStaff{Email: "own@shop.example", Password: "owner secret phrase"})
		if err != nil {
			t.Fatal(err)
		}
		ownerCtx := authz.WithSubject(context.Background(), authz.Subject{Kind: authz.KindStaff, ID: owner.ID,
			Roles: []string{authz.RoleOwner}, Store: authz.DefaultStore})
		anon := authz.WithSubject(context.Background(), authz.AnonymousSubject())
		unknownToken := "ktok_" + strings.Repeat("A", 43)
		for _, tc := range []struct {
			name string
			call func() error
			kind error
			code string
		}{
			{"me as a guest", func() error { _, err := svc.Me(anon); return err }, errs.ErrNotFound, account.CodeCustomerNotFound},
			{"me as staff", func() error { _, err := svc.Me(ownerCtx); return err }, errs.ErrNotFound, account.CodeCustomerNotFound},
			{"unknown staff member", func() error { _, err := svc.StaffMember(ownerCtx, "stf_nobody"); return err },
				errs.ErrNotFound, account.CodeStaffNotFound},
			{"unknown invitation", func() error { _, err := svc.RevokeInvitation(ownerCtx, "inv_nobody"); return err },
				errs.ErrNotFound, account.CodeInvitationNotFound},
			{"unknown API key", func() error { _, err := svc.RevokeAPIKey(ownerCtx, "key_nobody"); return err },
				errs.ErrNotFound, account.CodeAPIKeyNotFound},
			{"unknown session", func() error {
				_, err := svc.Authenticate(context.Background(), account.SessionTokenPrefix+strings.Repeat("A", 43))
				return err
			}, errs.ErrUnauthenticated, "UNAUTHENTICATED"},
			{"unknown API key secret", func() error {
				_, err := svc.AuthenticateAPIKey(context.Background(), account.APIKeyPrefix+strings.Repeat("A", 43))
				return err
			}, errs.ErrUnauthenticated, "UNAUTHENTICATED"},
			{"unknown invitation token", func() error {
				_, _, err := svc.AcceptInvitation(anon, unknownToken, "Ana", "a long enough passphrase")
				return err
			}, errs.ErrInvalid, account.CodeInvalidToken},
			{"unknown setup token", func() error {
				_, _, err := svc.SetupOwner(anon, unknownToken, account.NewStaff{Email: "two@shop.example", Password: "a long enough passphrase"})
				return err
			}, errs.ErrInvalid, account.CodeInvalidToken},
			{"unknown reset token", func() error { return svc.ResetPassword(anon, unknownToken, "a long enough passphrase") },
				errs.ErrInvalid, account.CodeInvalidToken},
			{"unknown staff reset token", func() error { return svc.ResetStaffPassword(anon, unknownToken, "a long enough passphrase") },
				errs.ErrInvalid, account.CodeInvalidToken},
			{"unknown verification token", func() error { _, err := svc.VerifyEmail(anon, unknownToken); return err },
				errs.ErrInvalid, account.CodeInvalidToken},
			{"staff sign-in, unknown email", func() error {
				_, _, err := svc.StaffLogin(anon, "nobody@shop.example", "a long enough passphrase")
				return err
			}, errs.ErrInvalid, account.CodeInvalidCredentials},
			{"invitation of a staff member's email", func() error {
				_, err := svc.Invite(ownerCtx, "own@shop.example", "Again", []string{authz.RoleSupport})
				return err
			}, errs.ErrConflict, account.CodeStaffExists},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.call()
				if !errors.Is(err, tc.kind) {
					t.Fatalf("err = %v, want %v", err, tc.kind)
				}
				if all := errs.All(err); len(all) != 1 || all[0].Code != tc.code {
					t.Fatalf("err = %v, want code %s", err, tc.code)
				}
			})
		}
		// Known and unknown addresses get the same quiet answer.
		for _, email := range []string{"own@shop.example", "nobody@shop.example"} {
			if err := svc.RequestStaffPasswordReset(anon, email); err != nil {
				t.Errorf("reset for %s: %v", email, err)
			}
		}
	})
}
