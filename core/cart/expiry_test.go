package cart_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/tax"
)

// stored counts the rows of carts and of cart_lines.
func (f *fixture) stored(t *testing.T) (carts, lines int64) {
	t.Helper()
	ctx := context.Background()
	c, err := f.db.NewSelect().Table("carts").Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l, err := f.db.NewSelect().Table("cart_lines").Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c, l
}

// purge runs one purge and returns how many carts it deleted.
func (f *fixture) purge(t *testing.T) int {
	t.Helper()
	n, err := f.svc.Purge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// purger is a cart service on db, as another kassa instance on the same
// database builds it (its ports on db too), on the fixture's clock,
// deleting batch carts per statement.
func (f *fixture) purger(t *testing.T, db *store.DB, batch int) *cart.Service {
	t.Helper()
	settings, err := shop.NewService(db, shop.Options{Authz: authz.AllowAll{}, Outbox: &eventstest.Outbox{}, DefaultCurrency: money.CNY, CacheFor: -1})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := idempotency.NewKeys(db, idempotency.Options{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := cart.NewService(db, cart.Options{Authz: authz.AllowAll{}, Catalog: catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{}),
		Rates: shipping.NewRates(db, shipping.RatesOptions{Clock: f.clock}), TaxRates: tax.NewRates(db, tax.RatesOptions{Clock: f.clock}),
		Settings: settings, Keys: keys, Clock: f.clock, PurgeBatch: batch})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// buyerCart creates the buyer's cart with lines.
func (f *fixture) buyerCart(t *testing.T, customerID string, lines ...cart.LineInput) *cart.Cart {
	t.Helper()
	if _, err := f.svc.Create(buyer(customerID), ""); err != nil {
		t.Fatal(err)
	}
	return mustCart(t)(f.svc.AddLines(buyer(customerID), cart.Ref{}, lines))
}

// codeOf is the code of a domain error, or its text.
func codeOf(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return fmt.Sprint(err)
}

// refused checks that every way to reach the cart answers CART_NOT_FOUND.
func (f *fixture) refused(t *testing.T, ctx context.Context, ref cart.Ref) {
	t.Helper()
	_, get := f.svc.Get(ctx, ref)
	_, add := f.svc.AddLines(ctx, ref, []cart.LineInput{{VariantID: f.tea100, Quantity: 1}})
	_, email := f.svc.SetEmail(ctx, ref, "late@example.com")
	_, methods := f.svc.ShippingMethods(ctx, ref)
	_, complete := f.svc.Complete(ctx, ref, "key-late")
	got := []string{codeOf(get), codeOf(add), codeOf(email), codeOf(methods), codeOf(complete)}
	want := []string{cart.CodeCartNotFound, cart.CodeCartNotFound, cart.CodeCartNotFound, cart.CodeCartNotFound, cart.CodeCartNotFound}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("an expired cart: get, add, email, methods, complete (-want +got):\n%s", diff)
	}
}

// TestCartsExpireByAge: an open cart not changed for its lifetime (10
// days for a guest's, 30 for a buyer's) is not found by any operation,
// although it is still stored; Purge then deletes it with its lines.
// Every change renews the life of a cart, to the hour: a change within
// the hour after the last renewal does not move it.
func TestCartsExpireByAge(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		line := []cart.LineInput{{VariantID: f.tea100, Quantity: 2}}

		// A guest's cart, not changed since it got its line.
		g := f.newGuestCart(t, "CNY")
		mustCart(t)(f.svc.AddLines(guest(), g, line))
		// A buyer's cart, the same.
		mine := f.buyerCart(t, "cus_alice", line...)
		// A guest's cart changed nine days later.
		touched := f.newGuestCart(t, "CNY")
		mustCart(t)(f.svc.AddLines(guest(), touched, line))
		// A guest's cart changed again half an hour after it was made:
		// its life still counts from its creation.
		early := f.newGuestCart(t, "CNY")
		f.clock.Advance(30 * time.Minute)
		mustCart(t)(f.svc.AddLines(guest(), early, line))

		f.clock.Advance(9*24*time.Hour - 30*time.Minute)
		mustCart(t)(f.svc.SetEmail(guest(), touched, "later@example.com"))

		// A minute short of ten days: every cart lives, none is purged.
		f.clock.Advance(cart.DefaultGuestLifetime - 9*24*time.Hour - time.Minute)
		for _, ref := range []cart.Ref{g, touched, early} {
			mustCart(t)(f.svc.Get(guest(), ref))
		}
		if n := f.purge(t); n != 0 {
			t.Fatalf("purged %d carts before any expired", n)
		}

		// Ten days: the guest carts not changed since have expired; the
		// buyer's and the one changed later live on. They are still
		// stored until Purge.
		f.clock.Advance(time.Minute)
		f.refused(t, guest(), g)
		f.refused(t, guest(), early)
		mustCart(t)(f.svc.Get(guest(), touched))
		mustCart(t)(f.svc.Get(buyer("cus_alice"), cart.Ref{}))
		if carts, lines := f.stored(t); carts != 4 || lines != 4 {
			t.Fatalf("before the purge: %d carts, %d lines stored; want 4, 4", carts, lines)
		}
		if n := f.purge(t); n != 2 {
			t.Fatalf("purged %d carts, want the 2 expired ones", n)
		}
		if carts, lines := f.stored(t); carts != 2 || lines != 2 {
			t.Fatalf("after the purge: %d carts, %d lines; want 2, 2 (the expired carts' lines go with them)", carts, lines)
		}

		// The cart changed nine days in expires ten days after that change.
		f.clock.Advance(9*24*time.Hour - time.Minute)
		mustCart(t)(f.svc.Get(guest(), touched))
		f.clock.Advance(time.Minute)
		f.refused(t, guest(), touched)

		// The buyer's cart lives 30 days, as long as the buyer does not
		// change it: a read renews nothing.
		f.clock.Set(mine.TouchedAt.Add(cart.DefaultBuyerLifetime - time.Minute))
		mustCart(t)(f.svc.Get(buyer("cus_alice"), cart.Ref{}))
		f.clock.Advance(time.Minute)
		f.refused(t, buyer("cus_alice"), cart.Ref{})
		f.refused(t, buyer("cus_alice"), cart.Ref{ID: mine.ID})
		if n := f.purge(t); n != 2 {
			t.Fatalf("purged %d carts, want 2 (the buyer's and the guest's changed later)", n)
		}
		if carts, lines := f.stored(t); carts != 0 || lines != 0 {
			t.Fatalf("after the last purge: %d carts, %d lines; want none", carts, lines)
		}
	})
}

// TestExpiredBuyerCartMakesWay: a buyer whose open cart expired, before
// any purge, gets a new cart from Create and takes a guest cart at
// sign-in (Merge), rather than CART_EXISTS: the expired cart gives way,
// with its lines.
func TestExpiredBuyerCartMakesWay(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		line := []cart.LineInput{{VariantID: f.tea100, Quantity: 1}}
		old := map[string]string{}
		for _, c := range []string{"cus_alice", "cus_bob"} {
			old[c] = f.buyerCart(t, c, line...).ID
		}
		f.clock.Advance(cart.DefaultBuyerLifetime)

		created, err := f.svc.Create(buyer("cus_alice"), "")
		if err != nil {
			t.Fatalf("create after the cart expired: %v", err)
		}
		if created.Cart.ID == old["cus_alice"] || len(created.Cart.Lines) != 0 {
			t.Fatalf("alice's new cart is %s with %d lines, want a new empty one", created.Cart.ID, len(created.Cart.Lines))
		}

		g := f.newGuestCart(t, "")
		gc := mustCart(t)(f.svc.AddLines(guest(), g, []cart.LineInput{{VariantID: f.tea250, Quantity: 2}}))
		merged, err := f.svc.Merge(buyer("cus_bob"), g.Token)
		if err != nil {
			t.Fatalf("merge after the cart expired: %v", err)
		}
		if merged.ID != gc.ID || quantities(merged)[f.tea100] != 0 || quantities(merged)[f.tea250] != 2 {
			t.Fatalf("bob's cart after sign-in %s %v, want the guest cart %s as it was", merged.ID, quantities(merged), gc.ID)
		}
		if carts, lines := f.stored(t); carts != 2 || lines != 1 {
			t.Fatalf("%d carts, %d lines stored; want the 2 new ones and the guest cart's line", carts, lines)
		}
	})
}

// TestCompletedCartKeptForReplays: a completed cart is kept, and
// reached, while checkout's idempotency keys are (24 h): a retry with
// the key gets the order back, a checkout sent with another key hears
// CART_COMPLETED (not CART_NOT_FOUND, after which a client would start
// another cart), and Purge leaves it. Once the keys have expired the cart
// is not found and Purge deletes it with its lines. A guest cart merged
// into a buyer's at sign-in is kept and purged the same way.
func TestCompletedCartKeptForReplays(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ref := f.newGuestCart(t, "")
		f.ready(t, guest(), ref, f.standard, cart.LineInput{VariantID: f.tea100, Quantity: 2}, cart.LineInput{VariantID: f.tea250, Quantity: 1})
		f.clock.Advance(3 * time.Hour) // the cart's last change was a while before checkout
		placed, err := f.svc.Complete(guest(), ref, "key-1")
		if err != nil {
			t.Fatal(err)
		}
		merging := f.newGuestCart(t, "")
		mustCart(t)(f.svc.AddLines(guest(), merging, []cart.LineInput{{VariantID: f.tea100, Quantity: 1}}))
		f.buyerCart(t, "cus_bob", cart.LineInput{VariantID: f.tea250, Quantity: 1})
		if _, err := f.svc.Merge(buyer("cus_bob"), merging.Token); err != nil {
			t.Fatal(err)
		}

		f.clock.Advance(idempotency.DefaultTTL - time.Minute)
		c, err := f.svc.Get(guest(), ref)
		if err != nil || !c.Completed() || len(c.Lines) != 2 {
			t.Fatalf("the completed cart a minute before its keys expire: %v, %v", c, err)
		}
		again, err := f.svc.Complete(guest(), ref, "key-1")
		if err != nil || !again.Replayed || again.Order.ID != placed.Order.ID || again.AccessToken != placed.AccessToken {
			t.Fatalf("a retry with the key: %+v, %v; want order %s replayed with its token", again, err, placed.Order.ID)
		}
		if _, err := f.svc.Complete(guest(), ref, "key-2"); codeOf(err) != cart.CodeCartCompleted {
			t.Fatalf("a checkout with another key: %v, want %s", err, cart.CodeCartCompleted)
		}
		if n := f.purge(t); n != 0 {
			t.Fatalf("purged %d carts while the checkout's key lives", n)
		}

		f.clock.Advance(time.Minute)
		if _, err := f.svc.Get(guest(), ref); codeOf(err) != cart.CodeCartNotFound {
			t.Fatalf("the completed cart once its keys expired: %v, want %s", err, cart.CodeCartNotFound)
		}
		if n := f.purge(t); n != 2 {
			t.Fatalf("purged %d carts, want the completed and the merged one", n)
		}
		if carts, lines := f.stored(t); carts != 1 || lines != 2 {
			t.Fatalf("%d carts, %d lines stored; want bob's cart and its 2 lines", carts, lines)
		}
		mustCart(t)(f.svc.Get(buyer("cus_bob"), cart.Ref{}))
	})
}

// TestPurgeInBatches: Purge deletes every expired cart, a batch per
// statement, and only those.
func TestPurgeInBatches(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for range 23 {
			f.newGuestCart(t, "")
		}
		f.clock.Advance(cart.DefaultGuestLifetime)
		live := f.newGuestCart(t, "")
		n, err := f.purger(t, db, 5).Purge(context.Background())
		if err != nil || n != 23 {
			t.Fatalf("purged %d, %v; want 23", n, err)
		}
		if carts, _ := f.stored(t); carts != 1 {
			t.Fatalf("%d carts left, want 1", carts)
		}
		mustCart(t)(f.svc.Get(guest(), live))
	})
}

// TestPurgesAtOnce: two instances on one database purge at the same time,
// in small batches: every expired cart is deleted once (the counts add
// up), neither fails, and the carts that live stay.
func TestPurgesAtOnce(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		other := openAgain(t, db)
		const expired, live = 150, 10
		for i := range expired {
			ref := f.newGuestCart(t, "")
			if i%3 == 0 {
				mustCart(t)(f.svc.AddLines(guest(), ref, []cart.LineInput{{VariantID: f.tea100, Quantity: 1}, {VariantID: f.tea250, Quantity: 1}}))
			}
		}
		f.clock.Advance(cart.DefaultGuestLifetime)
		for range live {
			mustCart(t)(f.svc.AddLines(guest(), f.newGuestCart(t, ""), []cart.LineInput{{VariantID: f.tea100, Quantity: 1}}))
		}
		purgers := []*cart.Service{f.purger(t, db, 7), f.purger(t, other, 7), f.purger(t, db, 7), f.purger(t, other, 7)}
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			got   = make([]int, len(purgers))
			fails = make([]error, len(purgers))
		)
		for i, p := range purgers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got[i], fails[i] = p.Purge(context.Background())
			}()
		}
		close(start)
		wg.Wait()
		sum := 0
		for i := range purgers {
			if fails[i] != nil {
				t.Errorf("purger %d: %v", i, fails[i])
			}
			sum += got[i]
		}
		if sum != expired {
			t.Errorf("the purgers deleted %v carts, %d in all; want %d", got, sum, expired)
		}
		if carts, lines := f.stored(t); carts != live || lines != live {
			t.Errorf("%d carts, %d lines left; want %d, %d", carts, lines, live, live)
		}
		t.Logf("carts deleted by each purger: %v", got)
	})
}

// openAgain opens the database of db a second time, as a second kassa
// instance would.
func openAgain(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	ctx := context.Background()
	dsn := ""
	if db.Dialect == store.Postgres {
		dsn = storetest.DSNOf(t, db)
	} else if err := db.NewRaw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(ctx, &dsn); err != nil {
		t.Fatal(err)
	}
	other, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return other
}

// TestLifetimeOptions: lifetimes shorter than a day are refused.
func TestLifetimeOptions(t *testing.T) {
	db := storetest.NewSQLite(t)
	keys, err := idempotency.NewKeys(db, idempotency.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := cart.Options{Authz: authz.AllowAll{}, Catalog: catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{}),
		Rates: shipping.NewRates(db, shipping.RatesOptions{}), TaxRates: tax.NewRates(db, tax.RatesOptions{}),
		Settings: &shop.Service{}, Keys: keys}
	for _, tc := range []struct {
		name         string
		guest, buyer time.Duration
		ok           bool
	}{
		{"defaults", 0, 0, true},
		{"a day each", 24 * time.Hour, 24 * time.Hour, true},
		{"a guest's shorter than a day", time.Hour, 0, false},
		{"a buyer's shorter than a day", 0, 23 * time.Hour, false},
		{"negative", -24 * time.Hour, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := base
			opts.GuestLifetime, opts.BuyerLifetime = tc.guest, tc.buyer
			if _, err := cart.NewService(db, opts); (err == nil) != tc.ok {
				t.Fatalf("NewService: %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// statements records the text of every statement a database runs.
type statements struct {
	mu   sync.Mutex
	sqls []string
}

func (l *statements) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (l *statements) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	l.mu.Lock()
	l.sqls = append(l.sqls, e.Query)
	l.mu.Unlock()
}

// TestCartStatementsUseTheirKeys: on a new shop, whose tables have no
// statistics yet, no statement of the carts but the purge's own reads one
// of the expiry's indexes (carts_*_touched) nor scans carts: each finds
// its cart by its key, in the plan PostgreSQL makes then and keeps for a
// prepared statement (its generic plan). A lookup whose condition implied
// an index's condition could walk that whole index on every call until
// the first ANALYZE.
func TestCartStatementsUseTheirKeys(t *testing.T) {
	db := storetest.NewPostgres(t)
	log := &statements{}
	db.AddQueryHook(log)
	f := newFixture(t, db)
	line := func(v string, q int64) cart.LineInput { return cart.LineInput{VariantID: v, Quantity: q} }

	// Every way a cart is reached and changed: a guest's checkout, a
	// buyer's cart by itself and by id, sign-in taking a guest cart whole
	// and into a buyer's cart, line changes, a buyer's checkout.
	g := f.newGuestCart(t, "")
	f.ready(t, guest(), g, f.standard, line(f.tea100, 1))
	mustCart(t)(f.svc.Get(guest(), g))
	if _, err := f.svc.ShippingMethods(guest(), g); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Complete(guest(), g, "key-guest"); err != nil {
		t.Fatal(err)
	}
	adopted := f.newGuestCart(t, "")
	mustCart(t)(f.svc.AddLines(guest(), adopted, []cart.LineInput{line(f.tea100, 1)}))
	if _, err := f.svc.Merge(buyer("cus_alice"), adopted.Token); err != nil {
		t.Fatal(err)
	}
	bob := f.buyerCart(t, "cus_bob", line(f.tea100, 2))
	mustCart(t)(f.svc.Get(buyer("cus_bob"), cart.Ref{ID: bob.ID}))
	merging := f.newGuestCart(t, "")
	mustCart(t)(f.svc.AddLines(guest(), merging, []cart.LineInput{line(f.tea100, 1), line(f.tea250, 1)}))
	mustCart(t)(f.svc.SetShippingAddress(guest(), merging, cnAddress(), nil))
	merged, err := f.svc.Merge(buyer("cus_bob"), merging.Token)
	if err != nil {
		t.Fatal(err)
	}
	mustCart(t)(f.svc.UpdateLines(buyer("cus_bob"), cart.Ref{}, []cart.LineUpdate{{LineID: merged.Lines[0].ID, Quantity: 3}}))
	mustCart(t)(f.svc.RemoveLines(buyer("cus_bob"), cart.Ref{}, []string{merged.Lines[1].ID}))
	mustCart(t)(f.svc.SetEmail(buyer("cus_bob"), cart.Ref{}, "bob@example.com"))
	mustCart(t)(f.svc.SetShippingMethod(buyer("cus_bob"), cart.Ref{}, f.standard))
	if _, err := f.svc.Complete(buyer("cus_bob"), cart.Ref{}, "key-bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(buyer("cus_bob"), ""); err != nil {
		t.Fatal(err)
	}
	f.purge(t)

	log.mu.Lock()
	sqls := log.sqls
	log.mu.Unlock()
	seen := map[string]bool{}
	checked := 0
	for _, q := range sqls {
		purge := strings.Contains(q, "ORDER BY touched_at")
		if seen[q] || purge || !strings.Contains(q, "carts") || strings.HasPrefix(q, "INSERT") {
			continue
		}
		seen[q] = true
		checked++
		plan := storetest.GenericPlan(t, db, q)
		if strings.Contains(plan, "_touched") || strings.Contains(plan, "Seq Scan on carts") {
			t.Errorf("a cart statement reads the wrong way:\n%s\n%s", q, plan)
		}
	}
	if checked < 10 {
		t.Errorf("%d cart statements checked", checked)
	}
}
