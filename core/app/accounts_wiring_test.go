package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestPolicyChangeReachesEveryInstance runs two instances' accounts on one
// database and one bus: a role change made on the first is enforced by the
// second once the notice arrives, without a restart.
func TestPolicyChangeReachesEveryInstance(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	// Two instances share one bus in memory, or each has its own
	// connection to the external NATS server, as separate processes do.
	buses := map[string]func(t *testing.T) (events.Bus, events.Bus){
		"memory": func(t *testing.T) (events.Bus, events.Bus) {
			bus := events.NewMemoryBus(quiet)
			t.Cleanup(func() { _ = bus.Close() })
			return bus, bus
		},
		"external nats": func(t *testing.T) (events.Bus, events.Bus) {
			opt := eventstest.ExternalNATSOptions(t)
			return eventstest.OpenNATS(t, *opt), eventstest.OpenNATS(t, *opt)
		},
	}
	for name, makeBuses := range buses {
		t.Run(name, func(t *testing.T) {
			policyChangeReachesEveryInstance(t, quiet, makeBuses)
		})
	}
}

func policyChangeReachesEveryInstance(t *testing.T, quiet *slog.Logger, makeBuses func(t *testing.T) (events.Bus, events.Bus)) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		busOne, busTwo := makeBuses(t)
		one, err := NewAccounts(ctx, db, AccountsOptions{Bus: busOne, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer one.Close()
		two, err := NewAccounts(ctx, db, AccountsOptions{Bus: busTwo, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer two.Close()

		support := authz.WithSubject(ctx, authz.Subject{Kind: authz.KindStaff, ID: "stf_1", Roles: []string{authz.RoleSupport}})
		if err := two.Enforcer.Can(support, authz.Order, authz.Write); err != nil {
			t.Fatal(err) // warms instance two's decision cache
		}
		owner := authz.WithSubject(ctx, authz.Subject{Kind: authz.KindStaff, ID: "stf_0", Roles: []string{authz.RoleOwner}})
		perms := []authz.Permission{{Object: authz.Order, Action: authz.Read}}
		if _, err := one.Enforcer.UpdateRole(owner, authz.RoleSupport, authz.RoleUpdate{Permissions: &perms}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for two.Enforcer.Can(support, authz.Order, authz.Write) == nil {
			if time.Now().After(deadline) {
				t.Fatal("instance two still allows the removed permission")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
