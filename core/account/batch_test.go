package account_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/account/accounttest"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// outcome describes err for comparing a batch call with the single one:
// kind, code and message of each domain error; "ok" for nil.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	all := errs.All(err)
	if len(all) == 0 {
		return "error: " + err.Error()
	}
	s := ""
	for _, e := range all {
		s += fmt.Sprintf("%v %s %q; ", e.Kind, e.Code, e.Error())
	}
	return s
}

// singles answers what the single getters give for each id, under the
// caller of ctx, keyed like the batch getters' maps.
type singles struct {
	addresses map[string][]*account.Address
	tags      map[string][]string
	groups    map[string][]*account.Group
	// errors of the first refused id, per getter
	addressesErr, tagsErr, groupsErr error
}

func askOneByOne(ctx context.Context, svc *account.Service, ids []string) singles {
	s := singles{addresses: map[string][]*account.Address{}, tags: map[string][]string{}, groups: map[string][]*account.Group{}}
	for _, id := range ids {
		if as, err := svc.Addresses(ctx, id); err != nil {
			if s.addressesErr == nil {
				s.addressesErr = err
			}
		} else if len(as) > 0 {
			s.addresses[id] = as
		}
		if ts, err := svc.Tags(ctx, id); err != nil {
			if s.tagsErr == nil {
				s.tagsErr = err
			}
		} else if len(ts) > 0 {
			s.tags[id] = ts
		}
		if gs, err := svc.GroupsOf(ctx, id); err != nil {
			if s.groupsErr == nil {
				s.groupsErr = err
			}
		} else if len(gs) > 0 {
			s.groups[id] = gs
		}
	}
	return s
}

// TestBatchGettersKeepTheSingleRules asks the batch getters and the
// single ones the same questions as each kind of caller: where the single
// calls answer, the batch gives the same data in one call; where a single
// call refuses one id, the batch refuses the whole call with the same
// error and shows nothing.
func TestBatchGettersKeepTheSingleRules(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := accounttest.NewService(t, db)
		buyers := accounttest.SeedBuyers(t, svc, 6)
		ana, ben := buyers[2].ID, buyers[5].ID // two addresses each
		all := make([]string, len(buyers))
		for i, b := range buyers {
			all[i] = b.ID
		}
		tests := []struct {
			name string
			ctx  context.Context
			ids  []string
			// want are the outcomes of addresses, tags and groups.
			want [3]string
		}{
			{"staff with customer read, every buyer and an unknown id", accounttest.Staff(authz.RoleSupport),
				append(all, "cus_nobody"), [3]string{ok, ok, ok}},
			{"owner, no ids", accounttest.Staff(authz.RoleOwner), nil, [3]string{ok, ok, ok}},
			{"buyer, themselves", accounttest.Buyer(ana), []string{ana},
				[3]string{ok, forbidden, forbidden}},
			{"buyer, no ids", accounttest.Buyer(ana), nil,
				[3]string{ok, forbidden, forbidden}},
			{"buyer, another buyer", accounttest.Buyer(ana), []string{ben},
				[3]string{notFound, forbidden, forbidden}},
			{"buyer, themselves and another buyer", accounttest.Buyer(ana), []string{ana, ben},
				[3]string{notFound, forbidden, forbidden}},
			{"buyer, another buyer and themselves", accounttest.Buyer(ana), []string{ben, ana},
				[3]string{notFound, forbidden, forbidden}},
			{"buyer, an unknown id", accounttest.Buyer(ana), []string{"cus_nobody"},
				[3]string{notFound, forbidden, forbidden}},
			{"staff without customer read", accounttest.Staff(authz.RoleDeveloper), []string{ana},
				[3]string{forbidden, forbidden, forbidden}},
			{"staff without customer read, no ids", accounttest.Staff(authz.RoleDeveloper), nil,
				[3]string{forbidden, forbidden, forbidden}},
			{"anonymous", accounttest.Anonymous(), []string{ana},
				[3]string{unauthenticated, unauthenticated, unauthenticated}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				addrs, aerr := svc.AddressesByCustomerIDs(tt.ctx, tt.ids)
				tags, terr := svc.TagsByCustomerIDs(tt.ctx, tt.ids)
				groups, gerr := svc.GroupsByCustomerIDs(tt.ctx, tt.ids)
				got := [3]error{aerr, terr, gerr}
				for i, err := range got {
					if kind := kindOf(err); kind != tt.want[i] {
						t.Errorf("getter %d: %s, want %s", i, kind, tt.want[i])
					}
				}
				if len(tt.ids) == 0 {
					return // no single call to compare with
				}
				// Exactly the single getters' answers, data and errors.
				one := askOneByOne(tt.ctx, svc, tt.ids)
				if outcome(aerr) != outcome(one.addressesErr) {
					t.Errorf("AddressesByCustomerIDs: %s, Addresses one by one: %s", outcome(aerr), outcome(one.addressesErr))
				}
				if outcome(terr) != outcome(one.tagsErr) {
					t.Errorf("TagsByCustomerIDs: %s, Tags one by one: %s", outcome(terr), outcome(one.tagsErr))
				}
				if outcome(gerr) != outcome(one.groupsErr) {
					t.Errorf("GroupsByCustomerIDs: %s, GroupsOf one by one: %s", outcome(gerr), outcome(one.groupsErr))
				}
				if aerr != nil && addrs != nil || terr != nil && tags != nil || gerr != nil && groups != nil {
					t.Errorf("a refused batch returned data: %v %v %v", addrs, tags, groups)
				}
				if aerr == nil {
					if diff := cmp.Diff(one.addresses, addrs); diff != "" {
						t.Errorf("addresses (-one by one +batch):\n%s", diff)
					}
				}
				if terr == nil {
					if diff := cmp.Diff(one.tags, tags); diff != "" {
						t.Errorf("tags (-one by one +batch):\n%s", diff)
					}
				}
				if gerr == nil {
					if diff := cmp.Diff(one.groups, groups); diff != "" {
						t.Errorf("groups (-one by one +batch):\n%s", diff)
					}
				}
			})
		}
		// The seed is what the batch read: a spot check that the data is
		// not empty on both sides.
		addrs, err := svc.AddressesByCustomerIDs(accounttest.Staff(authz.RoleSupport), []string{ana, ben})
		if err != nil || len(addrs[ana]) != 2 || len(addrs[ben]) != 2 || addrs[ana][0].City != "City 2-0" || addrs[ben][1].City != "City 5-1" {
			t.Fatalf("addresses of two buyers: %v, %v", addrs, err)
		}
	})
}

// The kinds of answer in the table: kindOf(err).
const (
	ok              = "ok"
	notFound        = "not found"
	forbidden       = "forbidden"
	unauthenticated = "unauthenticated"
)

// kindOf names the sentinel err unwraps to.
func kindOf(err error) string {
	if err == nil {
		return ok
	}
	for _, k := range []error{errs.ErrNotFound, errs.ErrForbidden, errs.ErrUnauthenticated} {
		if errors.Is(err, k) {
			return k.Error()
		}
	}
	return "unexpected: " + err.Error()
}
