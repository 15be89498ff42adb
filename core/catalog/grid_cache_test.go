package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// gridReads counts the grid statements a DB runs.
type gridReads struct{ n atomic.Int64 }

func (h *gridReads) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h *gridReads) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.Contains(e.Query, "FROM product_variants AS v") {
		h.n.Add(1)
	}
}

// take returns the statements counted since the last call.
func (h *gridReads) take() int64 { return h.n.Swap(0) }

// A buyer's product grid is answered from memory, under the checkout
// answers' rules: this instance's catalog changes drop it, its stock
// moves write their figures into it, another instance's changes arrive as
// events or within the time to live, a transaction that changed the
// catalog reads the database, and staff always read the database.
func TestVariantGridCache(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, shop, tea := seedTea(t, db)
		reads := &gridReads{}
		db.AddQueryHook(reads)
		clk := clock.NewFake(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
		catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{Clock: clk}) // turns the cache on
		res := catalog.NewReservations(db, catalog.ReservationsOptions{})
		ids := []string{shop.Tea.ID, shop.Shirt.ID, shop.Mug.ID}
		type seen struct {
			price, available int64
			statements       int64
		}
		read := func(step string, who context.Context) seen {
			t.Helper()
			reads.take()
			got, err := svc.VariantGrid(who, ids, money.CNY)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			var s seen
			for _, g := range got[shop.Tea.ID] {
				if g.ID == tea {
					s.price, s.available = g.Price.Amount.Amount(), g.Level.Available()
				}
			}
			s.statements = reads.take()
			// The DRAFT mug's variants are staff's alone, from memory too.
			if buyer := authz.SubjectFrom(who).Kind != authz.KindStaff; buyer == (len(got[shop.Mug.ID]) > 0) {
				t.Errorf("%s: %d variants of the DRAFT mug", step, len(got[shop.Mug.ID]))
			}
			return s
		}
		elsewhere := func(amount int64) {
			t.Helper()
			if _, err := db.ExecStmt(ctx, "UPDATE variant_prices SET amount = ? WHERE variant_id = ? AND currency = 'CNY'", amount, tea); err != nil {
				t.Fatal(err)
			}
		}
		check := func(step string, got, want seen) {
			t.Helper()
			if got != want {
				t.Errorf("%s: price %d, available %d, %d grid statements; want %d, %d, %d", step,
					got.price, got.available, got.statements, want.price, want.available, want.statements)
			}
		}

		check("first read", read("first", catalogtest.Anonymous()), seen{6800, 40, 1})
		check("again", read("again", catalogtest.Anonymous()), seen{6800, 40, 0})
		check("a signed-in buyer shares it", read("customer", catalogtest.Customer()), seen{6800, 40, 0})
		elsewhere(7000)
		check("another instance's price, within the time to live", read("cached", catalogtest.Anonymous()), seen{6800, 40, 0})
		check("staff read the database", read("staff", catalogtest.Staff()), seen{7000, 40, 1})
		clk.Advance(catalog.DefaultCheckoutCacheFor)
		check("after the time to live", read("expired", catalogtest.Anonymous()), seen{7000, 40, 1})

		if err := res.Reserve(ctx, "ord_1", []catalog.ReservationLine{{VariantID: tea, Quantity: 15}}); err != nil {
			t.Fatal(err)
		}
		check("a reservation writes its figures in", read("reserved", catalogtest.Anonymous()), seen{7000, 25, 0})
		if err := res.Release(ctx, "ord_1", []catalog.ReservationLine{{VariantID: tea, Quantity: 5}}); err != nil {
			t.Fatal(err)
		}
		check("and a release", read("released", catalogtest.Anonymous()), seen{7000, 30, 0})

		// A reservation rolled back changes nothing; what its transaction
		// read is the database's and is not kept.
		rollback := errors.New("rolled back")
		err := db.RunInTx(ctx, func(ctx context.Context) error {
			if err := res.Reserve(ctx, "ord_2", []catalog.ReservationLine{{VariantID: tea, Quantity: 5}}); err != nil {
				return err
			}
			buyer := authz.WithSubject(ctx, authz.AnonymousSubject())
			got, err := svc.VariantGrid(buyer, []string{shop.Tea.ID}, money.CNY)
			if err != nil {
				return err
			}
			for _, g := range got[shop.Tea.ID] {
				if g.ID == tea && g.Level.Available() != 25 {
					t.Errorf("inside the reserving transaction: available %d, want 25", g.Level.Available())
				}
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if got := read("rolled back", catalogtest.Anonymous()); got.available != 30 {
			t.Errorf("after the rollback: available %d, want 30", got.available)
		}
		clk.Advance(catalog.DefaultCheckoutCacheFor)
		check("read again", read("refill", catalogtest.Anonymous()), seen{7000, 30, 1})

		if _, err := svc.SetVariantPrices(catalogtest.Staff(), catalog.SetVariantPricesInput{VariantID: tea,
			Prices: []catalog.PriceInput{{Currency: "CNY", Amount: "72.00"}}}); err != nil {
			t.Fatal(err)
		}
		check("this instance's price change", read("price set", catalogtest.Anonymous()), seen{7200, 30, 1})

		// Another instance's stock move arrives as its event: the product
		// is read again.
		if _, err := db.ExecStmt(ctx, "UPDATE inventory_levels SET reserved = reserved + 3 WHERE variant_id = ?", tea); err != nil {
			t.Fatal(err)
		}
		moved, err := events.New(catalog.SubjectStockMoved, catalog.StockMovedEvent{Reference: "ord_9", Reason: catalog.ReasonReserved,
			Variants: []catalog.StockMove{{VariantID: tea, ReservedDelta: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.ForgetCheckoutAnswers(ctx, moved); err != nil {
			t.Fatal(err)
		}
		check("another instance's reservation", read("moved elsewhere", catalogtest.Anonymous()), seen{7200, 27, 1})

		// Off: every grid is read.
		catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{CacheFor: -1})
		check("cache off", read("off", catalogtest.Anonymous()), seen{7200, 27, 1})
		check("cache off, again", read("off again", catalogtest.Anonymous()), seen{7200, 27, 1})
	})
}

// Buyers reading the grid while reservations and releases commit, roll
// back and race each other end with the database's figures in memory:
// no read keeps what a move made stale, whatever the order of the moves'
// commit hooks.
func TestVariantGridCacheUnderMoves(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, shop, _ := seedTea(t, db)
		catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{CacheFor: time.Hour})
		res := catalog.NewReservations(db, catalog.ReservationsOptions{})
		ids := []string{shop.Tea.ID, shop.Shirt.ID}
		staffView, err := svc.VariantGrid(catalogtest.Staff(), ids, money.CNY)
		if err != nil {
			t.Fatal(err)
		}
		var variants []string
		for _, id := range ids {
			for _, g := range staffView[id] {
				if g.Level.Available() > 0 {
					variants = append(variants, g.ID)
				}
			}
		}
		const movers, moves = 4, 15
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := svc.VariantGrid(catalogtest.Anonymous(), ids, money.CNY); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		var movesWG sync.WaitGroup
		for m := range movers {
			movesWG.Add(1)
			go func() {
				defer movesWG.Done()
				for i := range moves {
					v := variants[(m+i)%len(variants)]
					order := fmt.Sprintf("ord_%d_%d", m, i)
					line := []catalog.ReservationLine{{VariantID: v, Quantity: 1}}
					err := db.RunInTx(ctx, func(ctx context.Context) error {
						if err := res.Reserve(ctx, order, line); err != nil {
							return err
						}
						if i%3 == 2 {
							return errRolledBack
						}
						return nil
					})
					var short *catalog.InsufficientStockError
					if errors.As(err, &short) {
						continue // sold out meanwhile: nothing moved
					}
					if err != nil && !errors.Is(err, errRolledBack) {
						t.Error(err)
						return
					}
					if err == nil && i%2 == 1 {
						if err := res.Release(ctx, order, line); err != nil {
							t.Error(err)
							return
						}
					}
				}
			}()
		}
		movesWG.Wait()
		close(stop)
		wg.Wait()

		want, err := svc.VariantGrid(catalogtest.Staff(), ids, money.CNY)
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.VariantGrid(catalogtest.Anonymous(), ids, money.CNY)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			for i, w := range want[id] {
				if i >= len(got[id]) || got[id][i].ID != w.ID || got[id][i].Level.Available() != w.Level.Available() {
					t.Errorf("product %s variant %s: the buyer's grid shows %+v, the database %d available", id, w.ID, got[id], w.Level.Available())
				}
			}
		}
	})
}

var errRolledBack = errors.New("rolled back")
