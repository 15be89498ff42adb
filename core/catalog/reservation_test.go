package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// stockFixture is a product with two variants and the reservations a
// checkout would be handed by core/app.
type stockFixture struct {
	db           *store.DB
	svc          *catalog.Service
	reservations *catalog.Reservations
	// last has 5 on hand, spare 3.
	last, spare string
}

func newStockFixture(t *testing.T, db *store.DB) stockFixture {
	t.Helper()
	svc := catalogtest.NewService(db)
	p, err := svc.CreateProduct(catalogtest.Staff(), catalog.CreateProductInput{
		Title: "Last Pot", Status: catalog.StatusActive,
		Options: []catalog.Option{{Name: "Size", Values: []string{"S", "L"}}},
		Variants: []catalog.VariantInput{
			{SKU: "POT-S", SelectedOptions: []catalog.SelectedOption{{Name: "Size", Value: "S"}}, InventoryQuantity: 5},
			{SKU: "POT-L", SelectedOptions: []catalog.SelectedOption{{Name: "Size", Value: "L"}}, InventoryQuantity: 3},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := svc.VariantsByProductIDs(catalogtest.Staff(), []string{p.ID})
	if err != nil {
		t.Fatal(err)
	}
	return stockFixture{db: db, svc: svc, reservations: catalog.NewReservations(db, catalog.ReservationsOptions{}),
		last: vm[p.ID][0].ID, spare: vm[p.ID][1].ID}
}

// level is a variant's stock as [on hand, reserved].
func (f stockFixture) level(t *testing.T, variantID string) [2]int64 {
	t.Helper()
	var l catalog.InventoryLevel
	if err := f.db.NewSelect().Model(&l).Where("variant_id = ?", variantID).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return [2]int64{l.OnHand, l.Reserved}
}

// movement is a ledger row written by Reservations.
type movement struct {
	Reason        string `bun:"reason"`
	VariantID     string `bun:"variant_id"`
	Delta         int64  `bun:"delta"`
	ReservedDelta int64  `bun:"reserved_delta"`
	OnHandAfter   int64  `bun:"on_hand_after"`
	Actor         string `bun:"actor"`
}

func (f stockFixture) movements(t *testing.T, ref string) []movement {
	t.Helper()
	var ms []movement
	if err := f.db.NewSelect().Table("inventory_adjustments").
		Column("reason", "variant_id", "delta", "reserved_delta", "on_hand_after", "actor").
		Where("reference = ?", ref).OrderExpr("id").Scan(context.Background(), &ms); err != nil {
		t.Fatal(err)
	}
	return ms
}

func line(variantID string, q int64) []catalog.ReservationLine {
	return []catalog.ReservationLine{{VariantID: variantID, Quantity: q}}
}

// TestReserveNeverOversells: 200 buyers, none with inventory permission,
// each reserve 1 of the last 5 units inside their own checkout
// transaction. Exactly 5 win; the others get an InsufficientStockError
// naming the variant, and stock never goes negative.
func TestReserveNeverOversells(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newStockFixture(t, db)
		buyer := catalogtest.Customer()
		if err := f.svc.CanReadInventory(buyer); err == nil {
			t.Fatal("the buyer may read inventory; the test needs one who may not")
		}
		const buyers = 200
		var (
			wg       sync.WaitGroup
			start    = make(chan struct{})
			mu       sync.Mutex
			won      int
			problems []error
		)
		for i := range buyers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := db.RunInTx(buyer, func(ctx context.Context) error {
					return f.reservations.Reserve(ctx, fmt.Sprintf("ord_%03d", i), line(f.last, 1))
				})
				mu.Lock()
				defer mu.Unlock()
				var short *catalog.InsufficientStockError
				switch {
				case err == nil:
					won++
				case errors.As(err, &short) && short.VariantID == f.last && short.Available == 0 &&
					errors.Is(err, errs.ErrConflict) && codeOf(err) == catalog.CodeInsufficientStock:
				default:
					problems = append(problems, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(problems) > 0 {
			t.Fatalf("%d unexpected errors, first: %v", len(problems), problems[0])
		}
		if won != 5 {
			t.Fatalf("%d reservations won, want 5", won)
		}
		if got := f.level(t, f.last); got != [2]int64{5, 5} {
			t.Fatalf("level [on hand, reserved] = %v, want [5 5]", got)
		}
		var n int
		if err := db.NewSelect().Table("inventory_adjustments").ColumnExpr("COUNT(*)").
			Where("variant_id = ? AND reason = ?", f.last, catalog.ReasonReserved).Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Fatalf("%d RESERVED ledger rows, want 5", n)
		}
	})
}

// codeOf returns the code of a single catalog error.
func codeOf(err error) string {
	if all := errs.All(err); len(all) == 1 {
		return all[0].Code
	}
	return ""
}

// TestReserveSumsLinesOfOneVariant: two lines of one variant are one
// conditional update for their sum, and a request that fails on one
// variant reserves nothing of the others.
func TestReserveSumsLinesOfOneVariant(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newStockFixture(t, db)
		ctx := catalogtest.Customer()

		// 3 + 3 of 5: each line alone would fit, their sum does not.
		err := f.reservations.Reserve(ctx, "ord_a", []catalog.ReservationLine{
			{VariantID: f.spare, Quantity: 1}, {VariantID: f.last, Quantity: 3}, {VariantID: f.last, Quantity: 3}})
		var short *catalog.InsufficientStockError
		if !errors.As(err, &short) {
			t.Fatalf("err = %v, want InsufficientStockError", err)
		}
		want := catalog.InsufficientStockError{VariantID: f.last, Requested: 6, Available: 5, Field: "lines.1.quantity"}
		if diff := cmp.Diff(want, *short); diff != "" {
			t.Fatalf("error (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"lines.1.quantity INSUFFICIENT_STOCK"}, problems(err)); diff != "" {
			t.Fatalf("problems (-want +got):\n%s", diff)
		}
		if got := [2][2]int64{f.level(t, f.last), f.level(t, f.spare)}; got != [2][2]int64{{5, 0}, {3, 0}} {
			t.Fatalf("levels after a refused request = %v, want nothing reserved", got)
		}
		if ms := f.movements(t, "ord_a"); len(ms) != 0 {
			t.Fatalf("a refused request wrote ledger rows: %+v", ms)
		}

		// 2 + 3 of 5 fits exactly: one ledger row for the sum.
		if err := f.reservations.Reserve(ctx, "ord_b", []catalog.ReservationLine{
			{VariantID: f.last, Quantity: 2}, {VariantID: f.last, Quantity: 3}}); err != nil {
			t.Fatal(err)
		}
		if got := f.level(t, f.last); got != [2]int64{5, 5} {
			t.Fatalf("level = %v, want [5 5]", got)
		}
		wantRows := []movement{{Reason: "RESERVED", VariantID: f.last, ReservedDelta: 5, OnHandAfter: 5, Actor: "cus_buyer"}}
		if diff := cmp.Diff(wantRows, f.movements(t, "ord_b")); diff != "" {
			t.Fatalf("ledger (-want +got):\n%s", diff)
		}
	})
}

// TestRollbackOfTheOuterTransaction: Reserve and Release join the caller's
// transaction; when it rolls back, their stock and ledger rows go with it,
// and a reference is not used up by a rolled-back attempt. A committed
// release happens once.
func TestRollbackOfTheOuterTransaction(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newStockFixture(t, db)
		ctx := catalogtest.Customer()
		boom := errors.New("payment deadline could not be set")

		err := db.RunInTx(ctx, func(ctx context.Context) error {
			if err := f.reservations.Reserve(ctx, "ord_r", line(f.last, 3)); err != nil {
				return err
			}
			return boom // the order insert failed after the reservation
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the caller's error", err)
		}
		if got := f.level(t, f.last); got != [2]int64{5, 0} {
			t.Fatalf("level after rollback = %v, want [5 0]", got)
		}
		if err := f.reservations.Reserve(ctx, "ord_r", line(f.last, 3)); err != nil {
			t.Fatalf("reserve again after the rollback: %v", err)
		}

		// A cancel that rolls back releases nothing.
		err = db.RunInTx(ctx, func(ctx context.Context) error {
			if err := f.reservations.Release(ctx, "ord_r", line(f.last, 3)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want the caller's error", err)
		}
		if got := f.level(t, f.last); got != [2]int64{5, 3} {
			t.Fatalf("level after a rolled-back release = %v, want [5 3]", got)
		}
		// The committed release happens once.
		if err := f.reservations.Release(ctx, "ord_r", line(f.last, 3)); err != nil {
			t.Fatal(err)
		}
		err = f.reservations.Release(ctx, "ord_r", line(f.last, 3))
		if codeOf(err) != catalog.CodeNotReserved && codeOf(err) != catalog.CodeAlreadyApplied {
			t.Fatalf("second release: err = %v, want NOT_RESERVED or ALREADY_APPLIED", err)
		}
		if got := f.level(t, f.last); got != [2]int64{5, 0} {
			t.Fatalf("level = %v, want [5 0]", got)
		}
		wantRows := []movement{
			{Reason: "RESERVED", VariantID: f.last, ReservedDelta: 3, OnHandAfter: 5, Actor: "cus_buyer"},
			{Reason: "RELEASED", VariantID: f.last, ReservedDelta: -3, OnHandAfter: 5, Actor: "cus_buyer"},
		}
		if diff := cmp.Diff(wantRows, f.movements(t, "ord_r")); diff != "" {
			t.Fatalf("ledger (-want +got):\n%s", diff)
		}

		// With other stock reserved, releasing ord_r again would not
		// hit the reserved >= q guard: the ledger's unique row refuses it.
		if err := f.reservations.Reserve(ctx, "ord_s", line(f.last, 4)); err != nil {
			t.Fatal(err)
		}
		if err := f.reservations.Release(ctx, "ord_r", line(f.last, 3)); codeOf(err) != catalog.CodeAlreadyApplied {
			t.Fatalf("release of a released order: err = %v, want ALREADY_APPLIED", err)
		}
		if got := f.level(t, f.last); got != [2]int64{5, 4} {
			t.Fatalf("level = %v, want [5 4]", got)
		}
	})
}

// TestTwoCancelsRacing: two releases of one order at once; one wins and
// reserved never goes below zero.
func TestTwoCancelsRacing(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newStockFixture(t, db)
		ctx := catalogtest.Staff()
		if err := f.reservations.Reserve(ctx, "ord_c", line(f.last, 2)); err != nil {
			t.Fatal(err)
		}
		if err := f.reservations.Reserve(ctx, "ord_d", line(f.last, 2)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = f.reservations.Release(ctx, "ord_c", line(f.last, 2))
			}()
		}
		wg.Wait()
		if (results[0] == nil) == (results[1] == nil) {
			t.Fatalf("results = %v, want exactly one release", results)
		}
		if got := f.level(t, f.last); got != [2]int64{5, 2} {
			t.Fatalf("level = %v, want [5 2]", got)
		}
	})
}

// TestReleaseAndCommitBounds: neither release nor commit takes a figure
// below zero, and a refused one changes nothing.
func TestReleaseAndCommitBounds(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newStockFixture(t, db)
		ctx := catalogtest.Staff()
		if err := f.reservations.Reserve(ctx, "ord_1", line(f.last, 2)); err != nil {
			t.Fatal(err)
		}
		before := counts(t, db)
		refused := []struct {
			name string
			call func() error
			want []string
		}{
			{"release more than reserved", func() error { return f.reservations.Release(ctx, "ord_1", line(f.last, 3)) },
				[]string{"lines.0.quantity NOT_RESERVED"}},
			{"commit more than reserved", func() error { return f.reservations.Commit(ctx, "shp_1", line(f.last, 3)) },
				[]string{"lines.0.quantity NOT_RESERVED"}},
			{"release of nothing reserved", func() error { return f.reservations.Release(ctx, "ord_1", line(f.spare, 1)) },
				[]string{"lines.0.quantity NOT_RESERVED"}},
			{"unknown variant", func() error { return f.reservations.Release(ctx, "ord_1", line("var_nope", 1)) },
				[]string{"lines.0.variantId VARIANT_NOT_FOUND"}},
			{"zero quantity", func() error { return f.reservations.Reserve(ctx, "ord_2", line(f.last, 0)) },
				[]string{"lines.0.quantity INVALID_QUANTITY"}},
			{"no reference", func() error { return f.reservations.Reserve(ctx, "", line(f.last, 1)) },
				[]string{"reference REFERENCE_REQUIRED"}},
			{"no lines", func() error { return f.reservations.Commit(ctx, "shp_1", nil) },
				[]string{"lines REQUIRED"}},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, problems(tt.call())); diff != "" {
					t.Fatalf("problems (-want +got):\n%s", diff)
				}
			})
		}
		if diff := cmp.Diff(before, counts(t, db)); diff != "" {
			t.Fatalf("refused calls wrote rows (-before +after):\n%s", diff)
		}
		if got := f.level(t, f.last); got != [2]int64{5, 2} {
			t.Fatalf("level after refused calls = %v, want [5 2]", got)
		}

		// Shipping the reservation: on hand and reserved go down together.
		if err := f.reservations.Commit(ctx, "shp_1", line(f.last, 2)); err != nil {
			t.Fatal(err)
		}
		if got := f.level(t, f.last); got != [2]int64{3, 0} {
			t.Fatalf("level after commit = %v, want [3 0]", got)
		}
		wantRows := []movement{{Reason: "SHIPPED", VariantID: f.last, Delta: -2, ReservedDelta: -2, OnHandAfter: 3, Actor: "usr_owner"}}
		if diff := cmp.Diff(wantRows, f.movements(t, "shp_1")); diff != "" {
			t.Fatalf("ledger (-want +got):\n%s", diff)
		}
		if err := f.reservations.Commit(ctx, "shp_2", line(f.last, 1)); codeOf(err) != catalog.CodeNotReserved {
			t.Fatalf("commit with nothing reserved: err = %v, want NOT_RESERVED", err)
		}

		// Staff count stock down under a reservation: the commit cannot
		// ship what is not on hand.
		if err := f.reservations.Reserve(ctx, "ord_3", line(f.last, 3)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.AdjustInventory(ctx, catalog.AdjustInventoryInput{VariantID: f.last, Delta: -2, Reason: catalog.ReasonDamaged}); err != nil {
			t.Fatal(err)
		}
		err := f.reservations.Commit(ctx, "shp_3", line(f.last, 3))
		var short *catalog.InsufficientStockError
		if !errors.As(err, &short) || short.Available != 1 {
			t.Fatalf("commit past on hand: err = %v, want InsufficientStockError with 1 available", err)
		}
		if got := f.level(t, f.last); got != [2]int64{1, 3} {
			t.Fatalf("level = %v, want [1 3]", got)
		}
	})
}

// TestReserveSeveralVariantsAtOnce: orders drawing on both variants, the
// lines in either order, race for them. The one statement that reserves
// every variant of an order never oversells either, never deadlocks on
// PostgreSQL (its rows are locked in id order), and an order short of
// one variant keeps nothing of the other.
func TestReserveSeveralVariantsAtOnce(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newStockFixture(t, db) // last: 5 on hand, spare: 3
		const buyers = 40
		var (
			wg       sync.WaitGroup
			start    = make(chan struct{})
			mu       sync.Mutex
			won      int
			problems []error
		)
		for i := range buyers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				lines := []catalog.ReservationLine{{VariantID: f.last, Quantity: 1}, {VariantID: f.spare, Quantity: 1}}
				if i%2 == 1 {
					lines[0], lines[1] = lines[1], lines[0]
				}
				err := db.RunInTx(catalogtest.Customer(), func(ctx context.Context) error {
					return f.reservations.Reserve(ctx, fmt.Sprintf("ord_%03d", i), lines)
				})
				mu.Lock()
				defer mu.Unlock()
				var short *catalog.InsufficientStockError
				switch {
				case err == nil:
					won++
				case errors.As(err, &short) && codeOf(err) == catalog.CodeInsufficientStock:
				default:
					problems = append(problems, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(problems) > 0 {
			t.Fatalf("%d unexpected errors, first: %v", len(problems), problems[0])
		}
		if won != 3 {
			t.Fatalf("%d orders won, want 3 (the spare's stock)", won)
		}
		if got := f.level(t, f.last); got != [2]int64{5, 3} {
			t.Errorf("last [on hand, reserved] = %v, want [5 3]", got)
		}
		if got := f.level(t, f.spare); got != [2]int64{3, 3} {
			t.Errorf("spare [on hand, reserved] = %v, want [3 3]", got)
		}

		// Short of the second variant in id order: the first is not kept.
		ctx := catalogtest.Customer()
		err := db.RunInTx(ctx, func(ctx context.Context) error {
			return f.reservations.Reserve(ctx, "ord_short", []catalog.ReservationLine{{VariantID: f.last, Quantity: 1}, {VariantID: f.spare, Quantity: 1}})
		})
		var short *catalog.InsufficientStockError
		if !errors.As(err, &short) || short.VariantID != f.spare || short.Available != 0 {
			t.Fatalf("err = %v, want the spare short", err)
		}
		if got := f.level(t, f.last); got != [2]int64{5, 3} {
			t.Errorf("last after a refused order = %v, want [5 3]", got)
		}
		if ms := f.movements(t, "ord_short"); len(ms) != 0 {
			t.Errorf("ledger rows of a refused order: %v", ms)
		}
	})
}
