package live_test

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/graphql/live"
)

// TestAccess: each account event and each policy load reaches the
// connections of whom it names, and only those; a stopped watch hears
// nothing; every AccessSubjects event names somebody.
func TestAccess(t *testing.T) {
	callers := map[string]authz.Subject{
		"staff":      {Kind: authz.KindStaff, ID: "stf_1", Session: "ses_staff"},
		"staff2":     {Kind: authz.KindStaff, ID: "stf_2", Session: "ses_staff2"},
		"key":        {Kind: authz.KindAPIKey, ID: "key_1"},
		"buyer":      {Kind: authz.KindCustomer, ID: "cus_1", Session: "ses_buyer"},
		"buyerPhone": {Kind: authz.KindCustomer, ID: "cus_1", Session: "ses_phone"},
		"guest":      authz.AnonymousSubject(),
	}
	for _, c := range []struct {
		name   string
		notice func(a *live.Access)
		want   []string
	}{
		{"staff disabled", event(account.SubjectStaffDisabled, account.StaffEvent{StaffID: "stf_1"}), []string{"staff"}},
		{"staff roles changed", event(account.SubjectStaffRolesChanged, account.StaffEvent{StaffID: "stf_2", Roles: []string{"support"}}), []string{"staff2"}},
		{"staff password changed", event(account.SubjectStaffPasswordChanged, account.StaffEvent{StaffID: "stf_1"}), []string{"staff"}},
		{"key revoked", event(account.SubjectAPIKeyRevoked, account.APIKeyEvent{APIKeyID: "key_1"}), []string{"key"}},
		{"buyer erased", event(account.SubjectCustomerErased, account.CustomerEvent{CustomerID: "cus_1"}), []string{"buyer", "buyerPhone"}},
		{"buyer erased, redacted", event(account.SubjectCustomerErased, account.RedactedCustomerEvent{CustomerID: "cus_1", Redacted: "erased"}), []string{"buyer", "buyerPhone"}},
		{"buyer password changed", event(account.SubjectCustomerPasswordChanged, account.CustomerEvent{CustomerID: "cus_1"}), []string{"buyer", "buyerPhone"}},
		{"one session ended", event(account.SubjectSessionEnded, account.SessionEvent{SessionID: "ses_phone"}), []string{"buyerPhone"}},
		{"another's session ended", event(account.SubjectSessionEnded, account.SessionEvent{SessionID: "ses_other"}), nil},
		{"a malformed payload", event(account.SubjectSessionEnded, "not an object"), nil},
		{"the policy loaded", func(a *live.Access) { a.PolicyChanged() }, []string{"key", "staff", "staff2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := live.NewAccess()
			var told []string
			for name, sub := range callers {
				a.Watch(sub, func() { told = append(told, name) })
			}
			c.notice(a)
			sort.Strings(told)
			if diff := cmp.Diff(c.want, told); diff != "" {
				t.Errorf("told (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("stop", func(t *testing.T) {
		a := live.NewAccess()
		n := 0
		w := a.Watch(callers["staff"], func() { n++ })
		if got := a.Watching("staff:stf_1"); got != 1 {
			t.Errorf("watching: %d", got)
		}
		w.Stop()
		w.Stop()
		a.PolicyChanged()
		if n != 0 || a.Watching("staff:stf_1") != 0 || a.Watching("roles") != 0 {
			t.Errorf("a stopped watch: told %d times, %d watching", n, a.Watching("staff:stf_1"))
		}
	})

	t.Run("every subject names somebody", func(t *testing.T) {
		for _, s := range []string{account.SubjectStaffDisabled, account.SubjectAPIKeyRevoked, account.SubjectCustomerErased,
			account.SubjectSessionEnded, account.SubjectStaffPasswordChanged} {
			if !slices.Contains(live.AccessSubjects, s) {
				t.Errorf("%s is not listened to", s)
			}
		}
	})
}

// event returns a notice of the event subject with payload, delivered
// as the bus does.
func event(subject string, payload any) func(a *live.Access) {
	return func(a *live.Access) {
		if err := a.HandleEvent(context.Background(), events.MustNew(subject, payload)); err != nil {
			panic(err)
		}
	}
}
