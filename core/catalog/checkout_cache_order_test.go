package catalog

import (
	"context"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/kit/clock"
)

// The cache applies this process's stock moves in their commit order
// whatever order their hooks run in, and keeps no read that may predate a
// move whose hook has not run.
func TestCheckoutCacheAppliesMovesInOrder(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	c := &checkoutCache{clock: clk, entries: map[string]map[string]checkoutEntry{}}
	c.configure(time.Hour, clk)
	loads := 0
	db := CheckoutVariant{VariantID: "var_1", Available: 10}
	load := func(ids []string) (map[string]CheckoutVariant, error) {
		loads++
		return map[string]CheckoutVariant{"var_1": db}, nil
	}
	get := func(step string) int64 {
		t.Helper()
		got, err := c.get(ctx, []string{"var_1"}, "CNY", load)
		if err != nil {
			t.Fatal(err)
		}
		return got["var_1"].Available
	}
	level := func(onHand, reserved int64) map[string]InventoryLevel {
		return map[string]InventoryLevel{"var_1": {VariantID: "var_1", OnHand: onHand, Reserved: reserved}}
	}

	if got := get("first"); got != 10 || loads != 1 {
		t.Fatalf("first read: %d, %d loads", got, loads)
	}
	// Two reservations of the variant: the second's UPDATE returns after
	// the first committed, but the first's hook runs last.
	first, second := level(10, 2), level(10, 5)
	t1 := c.issue(first)
	t2 := c.issue(second)
	db.Available = 5 // both committed
	c.apply(t2, second)
	if got := get("after the second hook"); got != 5 || loads != 1 {
		t.Errorf("after the second move's hook: available %d with %d loads, want 5 from memory", got, loads)
	}
	c.apply(t1, first)
	if got := get("after the late first hook"); got != 5 || loads != 1 {
		t.Errorf("the first move's late hook replaced the newer figures: available %d, %d loads", got, loads)
	}

	// A move whose hook has not run: a read of the database meanwhile
	// (which may not see it) answers but is not kept.
	c.dropAll()
	t3 := c.issue(level(10, 6))
	if got := get("pending"); got != 5 || loads != 2 {
		t.Fatalf("read during a pending move: %d, %d loads", got, loads)
	}
	db.Available = 4
	if got := get("pending again"); got != 4 || loads != 3 {
		t.Errorf("a read made while a move was pending was kept: available %d, %d loads", got, loads)
	}
	c.apply(t3, level(10, 6))
	if got := get("after the hook"); got != 4 || loads != 4 {
		t.Errorf("after the pending move's hook: available %d, %d loads", got, loads)
	}
	if got := get("kept"); got != 4 || loads != 4 {
		t.Errorf("a read after every hook ran was not kept: available %d, %d loads", got, loads)
	}

	// A move that rolled back (no hook) stops keeping reads of its
	// variant for pendingFor only.
	c.dropAll()
	c.issue(level(10, 9))
	get("rolled back")
	get("rolled back")
	if loads != 6 {
		t.Fatalf("%d loads", loads)
	}
	clk.Advance(pendingFor)
	get("after pendingFor")
	get("kept after pendingFor")
	if loads != 7 {
		t.Errorf("a rolled-back move kept its variant out of memory past pendingFor: %d loads, want 7", loads)
	}
}
