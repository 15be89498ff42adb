package order_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

func TestNewServiceNeedsCollaborators(t *testing.T) {
	db := storetest.NewSQLite(t)
	f := newFixture(t, db)
	full := func() order.Options {
		return order.Options{Authz: authz.AllowAll{}, Outbox: &eventstest.Outbox{}, Stock: catalog.NewReservations(db, catalog.ReservationsOptions{}),
			Settings: f.shop, Customers: f.customers}
	}
	tests := []struct {
		name   string
		change func(*order.Options)
	}{
		{"no authorizer", func(o *order.Options) { o.Authz = nil }},
		{"no outbox", func(o *order.Options) { o.Outbox = nil }},
		{"no stock", func(o *order.Options) { o.Stock = nil }},
		{"no settings", func(o *order.Options) { o.Settings = nil }},
		{"no customers", func(o *order.Options) { o.Customers = nil }},
	}
	for _, tc := range tests {
		opts := full()
		tc.change(&opts)
		if _, err := order.NewService(db, opts); err == nil {
			t.Errorf("%s: want an error", tc.name)
		}
	}
	if _, err := order.NewService(db, full()); err != nil {
		t.Errorf("every option: %v", err)
	}
}

// TestPlace: numbers follow the sequence with the shop's current prefix,
// the order keeps a snapshot of the cart, stock is reserved per variant,
// the deadline and the reminder follow the shop's settings, a guest gets
// an access token stored hashed, and placement writes one timeline row
// and kassa.order.placed.
func TestPlace(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.addCustomer(t, "cus_a", "a@example.com", true)
		tests := []struct {
			name       string
			ctx        context.Context
			prefix     string
			in         order.PlaceInput
			wantNumber string
			wantEmail  string
			// stock after, [on hand, reserved]
			wantTea, wantCup [2]int64
		}{
			{name: "guest, two lines", ctx: guest(),
				in:         f.input("cart_1", "", " Guest@Example.COM ", line{f.tea, 2, 6800}, line{f.cup, 1, 1200}),
				wantNumber: "#1001", wantEmail: "guest@example.com", wantTea: [2]int64{10, 2}, wantCup: [2]int64{5, 1}},
			{name: "customer, one variant on two lines", ctx: buyer("cus_a"),
				in:         f.input("cart_2", "cus_a", "a@example.com", line{f.tea, 3, 6800}, line{f.tea, 1, 6500}),
				wantNumber: "#1002", wantEmail: "a@example.com", wantTea: [2]int64{10, 6}, wantCup: [2]int64{5, 1}},
			{name: "after staff changed the prefix", ctx: guest(), prefix: "KS-",
				in:         f.input("cart_3", "", "c@example.com", line{f.cup, 4, 1200}),
				wantNumber: "KS-1003", wantEmail: "c@example.com", wantTea: [2]int64{10, 6}, wantCup: [2]int64{5, 5}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if tc.prefix != "" {
					if _, err := f.shop.Update(staff("owner"), shop.UpdateSettingsInput{OrderNumberPrefix: &tc.prefix}); err != nil {
						t.Fatal(err)
					}
				}
				f.out.Take()
				p := f.place(t, tc.ctx, tc.in)
				now := f.clock.Now()
				o := p.Order
				if o.Number != tc.wantNumber {
					t.Errorf("number %q, want %q", o.Number, tc.wantNumber)
				}
				if want := now.Add(shop.DefaultPaymentDeadline); !o.PaymentDeadline.Equal(want) {
					t.Errorf("deadline %v, want %v", o.PaymentDeadline, want)
				}
				if want := o.PaymentDeadline.Add(-shop.DefaultReminderLead); !o.RemindAt.Equal(want) {
					t.Errorf("remind at %v, want %v", o.RemindAt, want)
				}
				if got := f.level(t, f.tea); got != tc.wantTea {
					t.Errorf("tea stock %v, want %v", got, tc.wantTea)
				}
				if got := f.level(t, f.cup); got != tc.wantCup {
					t.Errorf("cup stock %v, want %v", got, tc.wantCup)
				}

				// The snapshot, as staff read it back.
				d, err := f.svc.Get(staff("support"), o.ID)
				if err != nil {
					t.Fatal(err)
				}
				got := d.Order
				if got.Email != tc.wantEmail || got.Currency != money.CNY || got.Status != order.Open ||
					got.PaymentStatus != order.PaymentPending || got.FulfillmentStatus != order.Unfulfilled {
					t.Errorf("order %+v", got)
				}
				if diff := cmp.Diff(testAddress, got.ShippingAddress); diff != "" {
					t.Errorf("shipping address (-want +got):\n%s", diff)
				}
				if !got.PaymentDeadline.Equal(o.PaymentDeadline) || !got.CreatedAt.Equal(now) {
					t.Errorf("stored deadline %v, created %v; want %v, %v", got.PaymentDeadline, got.CreatedAt, o.PaymentDeadline, now)
				}
				tt := got.Totals()
				if tt.Total != tc.in.Totals.Total || tt.Tax != tc.in.Totals.Tax || tt.Subtotal != tc.in.Totals.Subtotal ||
					tt.Shipping != tc.in.Totals.Shipping || !tt.TaxIncluded || len(tt.Discounts) != 0 ||
					tt.TaxName != tc.in.Totals.TaxName || tt.TaxBasisPoints != tc.in.Totals.TaxBasisPoints {
					t.Errorf("totals %+v, want %+v", tt, tc.in.Totals)
				}
				var lines []string
				for _, l := range d.Lines {
					lines = append(lines, l.VariantID+" "+l.SKU+" "+l.ProductTitle+" "+
						money.New(l.UnitPriceAmount, money.CNY).String()+" x"+itoa(l.Quantity)+" tax "+itoa(l.TaxAmount))
				}
				var want []string
				for _, l := range tc.in.Lines {
					want = append(want, l.VariantID+" "+l.SKU+" "+l.ProductTitle+" "+l.UnitPrice.String()+" x"+itoa(l.Quantity)+" tax "+itoa(l.Tax.Amount()))
				}
				if diff := cmp.Diff(want, lines); diff != "" {
					t.Errorf("lines (-want +got):\n%s", diff)
				}

				// The guest's token opens the order; only its hash is kept.
				if tc.in.CustomerID == "" {
					if p.AccessToken == "" || got.AccessTokenHash == "" || got.AccessTokenHash == p.AccessToken {
						t.Fatalf("token %q, stored %q", p.AccessToken, got.AccessTokenHash)
					}
					g, err := f.svc.GetByAccessToken(guest(), p.AccessToken)
					if err != nil || g.Order.ID != o.ID {
						t.Fatalf("by token: %v", err)
					}
				} else if p.AccessToken != "" || got.AccessTokenHash != "" || got.CustomerID == nil || *got.CustomerID != tc.in.CustomerID {
					t.Errorf("customer order: token %q, hash %q, customer %v", p.AccessToken, got.AccessTokenHash, got.CustomerID)
				}

				evs := f.out.Take()
				if len(evs) != 1 || evs[0].Subject != order.SubjectPlaced {
					t.Fatalf("events %v", evs)
				}
				var pe order.PlacedEvent
				if err := evs[0].Decode(&pe); err != nil || pe.OrderID != o.ID || pe.Number != tc.wantNumber || pe.Total != tc.in.Totals.Total {
					t.Errorf("payload %+v, %v", pe, err)
				}
				if len(d.Timeline) != 1 {
					t.Fatalf("timeline %d rows, want 1", len(d.Timeline))
				}
				e := d.Timeline[0]
				if e.Machine != order.MachineStatus || e.FromState != "" || e.ToState != string(order.Open) ||
					e.EventID != evs[0].ID || e.Visibility != order.VisibleToBuyer {
					t.Errorf("timeline %+v", e)
				}
			})
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPlaceOutOfStockKeepsNothing: a variant short of stock fails the
// placement with the catalog's typed error and the path of the line, and
// nothing is kept, not even when the caller carries on in its
// transaction and commits: no order, no number, no reservation, no event.
func TestPlaceOutOfStockKeepsNothing(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		tests := []struct {
			name string
			run  func(in order.PlaceInput) error
		}{
			{"alone", func(in order.PlaceInput) error {
				_, err := f.svc.Place(guest(), in)
				return err
			}},
			{"in a caller's transaction that commits anyway", func(in order.PlaceInput) error {
				var placeErr error
				err := db.RunInTx(guest(), func(ctx context.Context) error {
					_, placeErr = f.svc.Place(ctx, in)
					// The transaction is still usable on PostgreSQL.
					_, err := db.Conn(ctx).NewSelect().Table("orders").Count(ctx)
					return err
				})
				if err != nil {
					t.Fatalf("the caller's transaction: %v", err)
				}
				return placeErr
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := counts(t, f)
				err := tc.run(f.input("cart_short", "", "g@example.com", line{f.tea, 2, 6800}, line{f.cup, 6, 1200}))
				var short *catalog.InsufficientStockError
				if !errors.As(err, &short) || short.VariantID != f.cup.id || short.Available != 5 ||
					!errors.Is(err, errs.ErrConflict) {
					t.Fatalf("err = %v, want the cup short", err)
				}
				if diff := cmp.Diff([]string{"lines.1.quantity " + catalog.CodeInsufficientStock}, problems(err)); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(before, counts(t, f)); diff != "" {
					t.Errorf("changed (-before +after):\n%s", diff)
				}
			})
		}
		// The next order takes the first number: a refused reservation
		// comes before the number, even on PostgreSQL.
		if p := f.place(t, guest(), f.input("cart_ok", "", "g@example.com", line{f.cup, 5, 1200})); p.Order.Number != "#1001" {
			t.Errorf("number %s, want #1001", p.Order.Number)
		}
	})
}

// counts is what a refused placement must leave as it was.
func counts(t *testing.T, f *fixture) map[string]any {
	t.Helper()
	c := map[string]any{
		"orders": f.count(t, "orders", ""), "lines": f.count(t, "order_lines", ""), "timeline": f.count(t, "order_timeline", ""),
		"stock ledger": f.count(t, "inventory_adjustments", "reference IS NOT NULL"),
		"tea":          f.level(t, f.tea), "cup": f.level(t, f.cup), "events": len(f.out.Events()),
	}
	// The counter row on SQLite, the sequence on PostgreSQL (ADR 0010).
	next := f.db.NewSelect().Table("order_sequences").Column("next")
	if f.db.Dialect == store.Postgres {
		next = f.db.NewSelect().ColumnExpr("CASE WHEN is_called THEN last_value + 1 ELSE last_value END").Table("order_numbers")
	}
	var seq int64
	if err := next.Scan(context.Background(), &seq); err != nil {
		t.Fatal(err)
	}
	c["next number"] = seq
	return c
}

// TestCartPlacesOnce: a second placement of one cart is refused and keeps
// nothing, and the caller's transaction stays usable. On PostgreSQL the
// number it took is a gap (ADR 0010): the refusal is the order's insert.
func TestCartPlacesOnce(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.place(t, guest(), f.input("cart_1", "", "g@example.com", line{f.tea, 1, 6800}))
		before := counts(t, f)
		err := db.RunInTx(guest(), func(ctx context.Context) error {
			_, err := f.svc.Place(ctx, f.input("cart_1", "", "g@example.com", line{f.tea, 1, 6800}))
			if codeOf(err) != order.CodeCartAlreadyPlaced {
				t.Errorf("second placement: %v, want %s", err, order.CodeCartAlreadyPlaced)
			}
			_, err = db.Conn(ctx).NewSelect().Table("orders").Count(ctx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if db.Dialect == store.Postgres {
			before["next number"] = before["next number"].(int64) + 1
		}
		if diff := cmp.Diff(before, counts(t, f)); diff != "" {
			t.Errorf("changed (-before +after):\n%s", diff)
		}
	})
}

// TestPlaceRefusesBadInput: input no cart could build is refused with
// every problem and its path, and nothing is written.
func TestPlaceRefusesBadInput(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		good := func() order.PlaceInput {
			return f.input("cart_1", "", "g@example.com", line{f.tea, 1, 6800}, line{f.cup, 1, 1200})
		}
		tests := []struct {
			name   string
			change func(*order.PlaceInput)
			want   []string
		}{
			{"no cart, no email", func(in *order.PlaceInput) { in.CartID, in.Email = "", "  " },
				[]string{"cartId REQUIRED", "email REQUIRED"}},
			{"no lines", func(in *order.PlaceInput) { in.Lines = nil }, []string{"lines REQUIRED"}},
			{"no currency", func(in *order.PlaceInput) { in.Currency = money.Currency{} }, []string{"currency INVALID_CURRENCY"}},
			{"bad line", func(in *order.PlaceInput) {
				in.Lines[1].Quantity, in.Lines[1].VariantID = 0, ""
				in.Lines[1].Tax = money.New(1, money.USD)
			}, []string{"lines.1.quantity INVALID_QUANTITY", "lines.1.tax INVALID_CURRENCY", "lines.1.variantId REQUIRED"}},
			{"totals in another currency", func(in *order.PlaceInput) { in.Totals.Total = money.New(1, money.USD) },
				[]string{"totals.total INVALID_CURRENCY"}},
			{"negative total", func(in *order.PlaceInput) { in.Totals.Total = money.New(-1, money.CNY) },
				[]string{"totals.total INVALID_AMOUNT"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := counts(t, f)
				in := good()
				tc.change(&in)
				_, err := f.svc.Place(guest(), in)
				if !errors.Is(err, errs.ErrInvalid) {
					t.Fatalf("err = %v, want invalid", err)
				}
				if diff := cmp.Diff(tc.want, problems(err)); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(before, counts(t, f)); diff != "" {
					t.Errorf("changed (-before +after):\n%s", diff)
				}
			})
		}
	})
}
