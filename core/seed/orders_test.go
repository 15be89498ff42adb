package seed_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/kassahq/kassa/core/account/accounttest"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/catalog/catalogtest"
	"github.com/kassahq/kassa/core/events/eventstest"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/seed"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
	"github.com/kassahq/kassa/core/tax"
	"github.com/kassahq/kassa/core/testkit/invariant"
)

// noCustomers is the order's Customers port; seeding never claims orders.
type noCustomers struct{}

func (noCustomers) VerifiedEmail(context.Context, string) (string, bool, error) {
	return "", false, nil
}

// orderServices builds what seed.Orders writes through over db, with the
// real permission policy, a shop selling in CNY and USD, 13 % tax in
// China, and the demo catalog.
func orderServices(t *testing.T, db *store.DB) seed.OrderServices {
	t.Helper()
	ctx := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	enf, err := authz.NewEnforcer(ctx, db, authz.Options{ReloadEvery: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enf.Close)
	cat := catalogtest.NewService(db)
	if _, err := seed.Demo(ctx, db, cat, seed.Options{}); err != nil {
		t.Fatal(err)
	}
	sh, err := shop.NewService(db, shop.Options{Authz: enf, Outbox: &eventstest.Outbox{}, CacheFor: -1, DefaultCurrency: money.CNY})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sh.Update(ctx, shop.UpdateSettingsInput{Currencies: &[]string{"CNY", "USD"}}); err != nil {
		t.Fatal(err)
	}
	taxes, err := tax.NewService(db, tax.Options{Authz: enf})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := taxes.CreateRate(ctx, tax.RateInput{Country: "CN", Name: "VAT", BasisPoints: 1300}); err != nil {
		t.Fatal(err)
	}
	orders, err := order.NewService(db, order.Options{Authz: enf, Outbox: &eventstest.Outbox{},
		Stock: catalog.NewReservations(db, catalog.ReservationsOptions{}), Settings: sh, Customers: noCustomers{}})
	if err != nil {
		t.Fatal(err)
	}
	return seed.OrderServices{DB: db, Catalog: cat, Orders: orders, Accounts: accounttest.NewService(t, db),
		Shop: sh, TaxRates: tax.NewRates(db, tax.RatesOptions{})}
}

// listAll walks the staff's order list with filter, 100 at a time.
func listAll(t *testing.T, svc *order.Service, filter order.Filter) []*order.Order {
	t.Helper()
	ctx := accounttest.Staff(authz.RoleOwner)
	var out []*order.Order
	req := page.Request{First: 100}
	for {
		p, err := svc.List(ctx, filter, req)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Items...)
		if !p.HasNext {
			return out
		}
		req.After = &p.Cursors[len(p.Cursors)-1]
	}
}

// TestOrders: 500 seeded orders are in the staff's list, newest first,
// with unique numbers, a timeline that tells how each reached its state,
// every state of the list's filters, buyers and guests at home and
// abroad, and stock reserved for exactly the units open orders have not
// shipped. A second run adds orders and registers nobody.
func TestOrders(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := orderServices(t, db)
		ctx := context.Background()
		var progress bytes.Buffer
		res, err := seed.Orders(ctx, svc, seed.OrderOptions{Count: 500, Customers: 12, Batch: 150, Seed: 7, Progress: &progress})
		if err != nil {
			t.Fatal(err)
		}
		if res.Orders != 500 || res.Customers != 12 || res.First != "#1001" || res.Last != "#1500" {
			t.Errorf("result %+v, want 500 orders #1001 to #1500 and 12 buyers registered", res)
		}
		if !strings.Contains(progress.String(), "seeded 500 orders in ") || strings.Contains(progress.String(), "\r") {
			t.Errorf("progress without a terminal = %q, want plain lines ending with the total", progress.String())
		}

		all := listAll(t, svc.Orders, order.Filter{})
		if len(all) != 500 {
			t.Fatalf("staff list has %d orders, want 500", len(all))
		}
		staff := accounttest.Staff(authz.RoleOwner)
		numbers := map[string]bool{}
		count := map[string]int{}
		for i, o := range all {
			if numbers[o.Number] {
				t.Errorf("number %s twice", o.Number)
			}
			numbers[o.Number] = true
			if i > 0 && (o.CreatedAt.After(all[i-1].CreatedAt) || o.Seq > all[i-1].Seq) {
				t.Errorf("%s (%s) listed after %s (%s): not newest first, or numbers out of time order",
					o.Number, o.CreatedAt, all[i-1].Number, all[i-1].CreatedAt)
			}
			d, err := svc.Orders.Get(staff, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkTimeline(t, d)
			count[string(o.Status)]++
			count[string(o.PaymentStatus)]++
			count[string(o.FulfillmentStatus)]++
			if o.CustomerID == nil {
				count["guest"]++
			} else {
				count["customer"]++
			}
			count[o.ShippingAddress.CountryCode+" "+o.Currency.Code()]++
			if strings.ContainsFunc(o.ShippingAddress.LastName, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
				count["chinese name"]++
			}
			if !strings.Contains(o.Email, "@example.") {
				t.Errorf("%s: email %s is not on an example domain", o.Number, o.Email)
			}
		}
		for _, k := range []string{"OPEN", "COMPLETED", "CANCELLED", "PENDING", "PAID", "UNFULFILLED", "FULFILLED", "DELIVERED",
			"guest", "customer", "CN CNY", "chinese name"} {
			if count[k] == 0 {
				t.Errorf("no %s order among 500: %v", k, count)
			}
		}
		if count["CN CNY"]+count["US USD"]+count["GB USD"]+count["DE USD"]+count["SG USD"]+count["CA USD"]+count["AU USD"] != 500 {
			t.Errorf("orders by country and currency: %v; want CNY in China, USD abroad", count)
		}
		// The filters find what the seeder made.
		for _, f := range []order.Filter{{Status: order.Cancelled}, {PaymentStatus: order.PaymentPaid}, {FulfillmentStatus: order.Delivered}} {
			got := listAll(t, svc.Orders, f)
			want := count[string(f.Status)+string(f.PaymentStatus)+string(f.FulfillmentStatus)]
			if len(got) != want {
				t.Errorf("filter %+v lists %d orders, want %d", f, len(got), want)
			}
		}
		checkReservations(t, db, res.Reserved)

		res2, err := seed.Orders(ctx, svc, seed.OrderOptions{Count: 20, Customers: 12, Seed: 8})
		if err != nil {
			t.Fatal(err)
		}
		if res2.Customers != 0 || res2.First != "#1501" || res2.Last != "#1520" {
			t.Errorf("second run %+v, want #1501 to #1520 and nobody registered", res2)
		}
		checkReservations(t, db, res.Reserved+res2.Reserved)
		invariant.Require(t, db)
	})
}

// checkTimeline checks that an order's timeline starts with its placement,
// runs forward in time, and ends each dimension in the order's state.
func checkTimeline(t *testing.T, d *order.Detail) {
	t.Helper()
	o := d.Order
	if len(d.Timeline) == 0 || d.Timeline[0].Machine != order.MachineStatus || d.Timeline[0].ToState != string(order.Open) {
		t.Errorf("%s: timeline does not start with the placement: %+v", o.Number, d.Timeline)
		return
	}
	last := map[string]string{order.MachineStatus: "OPEN", order.MachinePayment: "PENDING", order.MachineFulfillment: "UNFULFILLED"}
	for i, e := range d.Timeline {
		if i > 0 && e.CreatedAt.Before(d.Timeline[i-1].CreatedAt) {
			t.Errorf("%s: timeline goes back in time at %d", o.Number, i)
		}
		if i > 0 && e.FromState != last[e.Machine] {
			t.Errorf("%s: %s moves from %s, but it was %s", o.Number, e.Machine, e.FromState, last[e.Machine])
		}
		last[e.Machine] = e.ToState
	}
	if last[order.MachineStatus] != string(o.Status) || last[order.MachinePayment] != string(o.PaymentStatus) ||
		last[order.MachineFulfillment] != string(o.FulfillmentStatus) {
		t.Errorf("%s: timeline ends in %v, order is %s/%s/%s", o.Number, last, o.Status, o.PaymentStatus, o.FulfillmentStatus)
	}
	var units, shipped int64
	for _, l := range d.Lines {
		units += l.Quantity
		shipped += l.QuantityShipped
	}
	if len(d.Lines) < 1 || len(d.Lines) > 4 {
		t.Errorf("%s: %d lines, want 1 to 4", o.Number, len(d.Lines))
	}
	if (shipped > 0) != (len(d.Shipments) == 1) {
		t.Errorf("%s: %d of %d units shipped in %d shipments", o.Number, shipped, units, len(d.Shipments))
	}
	if o.PaymentStatus == order.PaymentPaid && o.PaymentMethod == "" {
		t.Errorf("%s: paid without a payment method", o.Number)
	}
}

// checkReservations checks the stock: every variant's reserved figure is
// the units open orders have not shipped, and no stock figure is
// negative or below what is reserved.
func checkReservations(t *testing.T, db *store.DB, openOrders int) {
	t.Helper()
	ctx := context.Background()
	var rows []struct {
		VariantID string `bun:"variant_id"`
		OnHand    int64  `bun:"on_hand"`
		Reserved  int64  `bun:"reserved"`
		Owed      int64  `bun:"owed"`
	}
	err := db.NewRaw(`SELECT il.variant_id, il.on_hand, il.reserved,
		COALESCE((SELECT SUM(l.quantity - l.quantity_shipped) FROM order_lines l JOIN orders o ON o.id = l.order_id
		          WHERE l.variant_id = il.variant_id AND o.status = 'OPEN'), 0) AS owed
		FROM inventory_levels il`).Scan(ctx, &rows)
	if err != nil {
		t.Fatal(err)
	}
	var reserved int64
	for _, r := range rows {
		if r.Reserved != r.Owed || r.OnHand < r.Reserved {
			t.Errorf("variant %s: on hand %d, reserved %d, open orders owe %d", r.VariantID, r.OnHand, r.Reserved, r.Owed)
		}
		reserved += r.Reserved
	}
	var open int
	if err := db.NewRaw(`SELECT COUNT(*) FROM orders WHERE status = 'OPEN' AND fulfillment_status IN ('UNFULFILLED', 'PARTIALLY_FULFILLED')`).Scan(ctx, &open); err != nil {
		t.Fatal(err)
	}
	if open != openOrders || (open > 0 && reserved == 0) {
		t.Errorf("%d open orders with units to ship, seeder reported %d; %d units reserved", open, openOrders, reserved)
	}
}

// TestOrdersLeavePricesPastTheMaximum: a price saved before prices were
// bounded (money.MaxPrice) could overflow an order's total; the seed
// buys at the other prices and does not abort.
func TestOrdersLeavePricesPastTheMaximum(t *testing.T) {
	db := storetest.NewSQLite(t)
	svc := orderServices(t, db)
	ctx := context.Background()
	if _, err := db.NewRaw("UPDATE variant_prices SET amount = ? WHERE currency = 'CNY' AND variant_id IN (SELECT variant_id FROM variant_prices WHERE currency = 'CNY' LIMIT 5)",
		int64(9_000_000_000_000_000_000)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := seed.Orders(ctx, svc, seed.OrderOptions{Count: 200, Customers: 3, Batch: 100, Seed: 11, Progress: io.Discard})
	if err != nil || res.Orders != 200 {
		t.Fatalf("seeding over prices past the maximum: %+v, %v", res, err)
	}
	for _, o := range listAll(t, svc.Orders, order.Filter{}) {
		if total := o.Totals().Total; total.Amount() > money.MaxPrice*100 {
			t.Fatalf("order %s totals %s", o.Number, total)
		}
	}
}
