package plugin

import (
	"context"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/kit/clock"
)

// TestEnabledCache: the lists of enabled plugins come from memory; every
// change made through this Service is seen at once, even when made in a
// transaction (seen again after its commit), and a change made behind
// its back (another instance, the CLI) is seen once enabledCacheTTL has
// passed.
func TestEnabledCache(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	e := sqliteEnv(t)
	e.svc.enabled.now = clk.Now
	gateways := func(t *testing.T, want int) {
		t.Helper()
		gs, err := e.svc.Gateways(ctx())
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != want {
			t.Fatalf("%d gateways, want %d", len(gs), want)
		}
	}
	gateways(t, 0) // cached empty before the install
	e.installEnabled(t, "")
	gateways(t, 1)

	if _, err := e.svc.Disable(ctx(), testID); err != nil {
		t.Fatal(err)
	}
	gateways(t, 0)
	if _, err := e.svc.Enable(ctx(), testID); err != nil {
		t.Fatal(err)
	}
	gateways(t, 1)

	// Behind the Service's back, as another instance would: the cached
	// list holds until the TTL passes.
	if _, err := e.db.NewUpdate().Table("plugins").Set("enabled = ?", false).Where("id = ?", testID).Exec(ctx()); err != nil {
		t.Fatal(err)
	}
	gateways(t, 1)
	clk.Advance(enabledCacheTTL - time.Second)
	gateways(t, 1)
	clk.Advance(time.Second)
	gateways(t, 0)
	if _, err := e.db.NewUpdate().Table("plugins").Set("enabled = ?", true).Where("id = ?", testID).Exec(ctx()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(enabledCacheTTL)
	gateways(t, 1)

	// The supervisor's round, which follows the catalog, drops the lists
	// before the TTL would.
	if _, err := e.db.NewUpdate().Table("plugins").Set("enabled = ?", false).Where("id = ?", testID).Exec(ctx()); err != nil {
		t.Fatal(err)
	}
	gateways(t, 1)
	if err := e.svc.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	gateways(t, 0)
	if _, err := e.db.NewUpdate().Table("plugins").Set("enabled = ?", true).Where("id = ?", testID).Exec(ctx()); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	gateways(t, 1)

	// A disable inside a transaction: the transaction itself reads its
	// own change (no cache), and a list cached while it was open, the
	// old one, is dropped at its commit.
	err := e.db.RunInTx(ctx(), func(tx context.Context) error {
		if _, err := e.svc.Disable(tx, testID); err != nil {
			return err
		}
		gs, err := e.svc.Gateways(tx)
		if err != nil {
			return err
		}
		if len(gs) != 0 {
			t.Errorf("inside the transaction: %d gateways, want 0", len(gs))
		}
		// What a reader outside saw meanwhile, the committed list.
		e.svc.enabled.mu.Lock()
		e.svc.enabled.kinds = map[Kind]enabledEntry{KindPayment: {rows: []*row{{ID: testID}}, at: clk.Now()}}
		e.svc.enabled.mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	gateways(t, 0)

	// Settings, install and remove drop the lists too.
	for _, c := range []struct {
		name   string
		change func() error
	}{
		{"settings", func() error { _, err := e.svc.UpdateSettings(ctx(), testID, []byte(`{"mode":"sandbox"}`)); return err }},
		{"install", func() error { _, err := e.svc.Install(ctx(), gatewayBin, InstallOptions{Replace: true}); return err }},
		{"remove", func() error { return e.svc.Remove(ctx(), testID) }},
	} {
		name, change := c.name, c.change
		e.svc.enabled.mu.Lock()
		e.svc.enabled.kinds = map[Kind]enabledEntry{KindPayment: {rows: []*row{{ID: "payment.stale"}}, at: clk.Now()}}
		e.svc.enabled.mu.Unlock()
		if err := change(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e.svc.enabled.mu.Lock()
		_, cached := e.svc.enabled.kinds[KindPayment]
		e.svc.enabled.mu.Unlock()
		if cached {
			t.Errorf("%s left the cached list", name)
		}
	}
}
