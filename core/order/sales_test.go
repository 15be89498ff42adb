package order_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// salesDay is a SalesDay in comparable words.
type salesDay struct {
	Date               string
	Orders, PaidOrders int64
	Revenue            []string
}

func moneyStrings(ms []money.Money) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.String())
	}
	return out
}

func days(s *order.SalesSummary) []salesDay {
	out := make([]salesDay, len(s.Days))
	for i, d := range s.Days {
		out[i] = salesDay{d.Date, d.Orders, d.PaidOrders, moneyStrings(d.Revenue)}
	}
	return out
}

// TestSales places orders around the midnights of three time zones (one
// with a quarter-hour offset, one leaving daylight saving time) in two
// currencies and checks that each lands in its local day, that revenue
// counts the orders whose money was taken (refunded ones too: revenue is
// gross) and only those, and the counts of orders waiting to ship or to
// be paid, on both engines.
func TestSales(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		at := func(ts string, cart, payment, fulfillment, currency string) string {
			t.Helper()
			tm, err := time.Parse(time.RFC3339, ts)
			if err != nil {
				t.Fatal(err)
			}
			f.clock.Set(tm)
			p, err := f.svc.Place(guest(), f.input(cart, "", "s@example.com", line{f.tea, 1, 5000}))
			if err != nil {
				t.Fatal(err)
			}
			f.setState(t, p.Order.ID, "payment_status", payment)
			f.setState(t, p.Order.ID, "fulfillment_status", fulfillment)
			if currency != "CNY" {
				if _, err := db.NewRaw("UPDATE orders SET currency = ? WHERE id = ?", currency, p.Order.ID).Exec(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			return p.Order.ID
		}
		// Totals are 50.00 + 10.00 shipping = 60.00.
		at("2026-11-01T03:59:00Z", "c1", "PAID", "UNFULFILLED", "CNY")                 // NY Oct 31 23:59 EDT; Shanghai Nov 1
		at("2026-11-02T04:30:00Z", "c2", "PAID", "FULFILLED", "CNY")                   // NY Nov 1 23:30 EST (a 25-hour day); Shanghai Nov 2
		at("2026-11-02T05:00:00Z", "c3", "PARTIALLY_REFUNDED", "UNFULFILLED", "USD")   // NY Nov 2 00:00; Shanghai Nov 2
		at("2026-11-02T15:59:59Z", "c4", "AUTHORIZED", "PARTIALLY_FULFILLED", "CNY")   // Shanghai Nov 2 23:59:59
		at("2026-11-02T16:00:00Z", "c5", "REFUNDED", "UNFULFILLED", "CNY")             // Shanghai Nov 3 00:00
		cancelled := at("2026-11-02T18:14:00Z", "c6", "PENDING", "UNFULFILLED", "CNY") // Kathmandu Nov 2 23:59; Shanghai Nov 3
		f.setState(t, cancelled, "status", "CANCELLED")
		at("2026-11-02T18:15:00Z", "c7", "PENDING", "UNFULFILLED", "CNY") // Kathmandu Nov 3 00:00
		f.clock.Set(time.Date(2026, 11, 2, 18, 36, 0, 0, time.UTC))       // c7's deadline (18:45) is 9 minutes away
		at("2026-11-02T18:36:00Z", "c8", "PENDING", "UNFULFILLED", "CNY") // due at 19:06: not near yet

		staffCtx := staff(authz.RoleManager)
		cases := []struct {
			tz, from, to string
			want         []salesDay
			orders       int64
			revenue      []string
		}{
			{"Asia/Shanghai", "2026-11-01", "2026-11-03", []salesDay{
				{"2026-11-01", 1, 1, []string{"60.00 CNY"}},
				{"2026-11-02", 3, 2, []string{"60.00 CNY", "60.00 USD"}},
				{"2026-11-03", 4, 1, []string{"60.00 CNY"}},
			}, 8, []string{"180.00 CNY", "60.00 USD"}},
			{"America/New_York", "2026-10-31", "2026-11-02", []salesDay{
				{"2026-10-31", 1, 1, []string{"60.00 CNY"}},
				{"2026-11-01", 1, 1, []string{"60.00 CNY"}},
				{"2026-11-02", 6, 2, []string{"60.00 CNY", "60.00 USD"}},
			}, 8, []string{"180.00 CNY", "60.00 USD"}},
			{"Asia/Kathmandu", "2026-11-02", "2026-11-03", []salesDay{
				{"2026-11-02", 5, 3, []string{"120.00 CNY", "60.00 USD"}},
				{"2026-11-03", 2, 0, []string{}},
			}, 7, []string{"120.00 CNY", "60.00 USD"}},
			{"UTC", "2026-11-04", "2026-11-04", []salesDay{{"2026-11-04", 0, 0, []string{}}}, 0, []string{}},
		}
		for _, c := range cases {
			got, err := f.svc.Sales(staffCtx, order.SalesQuery{TimeZone: c.tz, From: c.from, To: c.to})
			if err != nil {
				t.Fatalf("%s: %v", c.tz, err)
			}
			if diff := cmp.Diff(c.want, days(got)); diff != "" {
				t.Errorf("%s days (-want +got):\n%s", c.tz, diff)
			}
			if got.Orders != c.orders || !cmp.Equal(moneyStrings(got.Revenue), c.revenue) {
				t.Errorf("%s totals: %d orders, %v", c.tz, got.Orders, moneyStrings(got.Revenue))
			}
			// c1 (PAID), c3 (PARTIALLY_REFUNDED), c4 (AUTHORIZED, part
			// shipped) wait to ship; c7 and c8 wait for payment, c7 near
			// its deadline.
			if got.AwaitingShipment != 3 || got.Unpaid != 2 || got.NearDeadline != 1 || got.NearDeadlineWithin != 10*time.Minute {
				t.Errorf("%s counts: %+v", c.tz, got)
			}
		}
		if d, _ := f.svc.Sales(staffCtx, order.SalesQuery{TimeZone: "America/New_York", From: "2026-11-01", To: "2026-11-01"}); d == nil ||
			!d.Days[0].Start.Equal(time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC)) {
			t.Errorf("New York's Nov 1 starts at 04:00 UTC: %+v", d)
		}

		refused := []struct {
			name string
			ctx  context.Context
			q    order.SalesQuery
			want string
		}{
			{"fulfillment may not read reports", staff(authz.RoleFulfillment), order.SalesQuery{TimeZone: "UTC", From: "2026-11-01", To: "2026-11-02"}, "FORBIDDEN"},
			{"a buyer may not", buyer("cus_1"), order.SalesQuery{TimeZone: "UTC", From: "2026-11-01", To: "2026-11-02"}, "FORBIDDEN"},
			{"an unknown zone", staffCtx, order.SalesQuery{TimeZone: "Mars/Olympus", From: "2026-11-01", To: "2026-11-02"}, order.CodeInvalidTimeZone},
			{"the server's local zone", staffCtx, order.SalesQuery{TimeZone: "Local", From: "2026-11-01", To: "2026-11-02"}, order.CodeInvalidTimeZone},
			{"a path as zone", staffCtx, order.SalesQuery{TimeZone: "../../etc/passwd", From: "2026-11-01", To: "2026-11-02"}, order.CodeInvalidTimeZone},
			{"no zone", staffCtx, order.SalesQuery{From: "2026-11-01", To: "2026-11-02"}, order.CodeRequired},
			{"a date that is none", staffCtx, order.SalesQuery{TimeZone: "UTC", From: "2026-02-30", To: "2026-03-02"}, order.CodeInvalidDate},
			{"reversed", staffCtx, order.SalesQuery{TimeZone: "UTC", From: "2026-11-02", To: "2026-11-01"}, order.CodeInvalidRange},
			{"367 days", staffCtx, order.SalesQuery{TimeZone: "UTC", From: "2026-01-01", To: "2027-01-02"}, order.CodeRangeTooLong},
			{"ten thousand years", staffCtx, order.SalesQuery{TimeZone: "UTC", From: "0001-01-01", To: "9999-12-31"}, order.CodeRangeTooLong},
		}
		for _, r := range refused {
			_, err := f.svc.Sales(r.ctx, r.q)
			if got := codeOf(err); got != r.want {
				t.Errorf("%s: %v, want %s", r.name, err, r.want)
			}
		}
		// A whole year in Shanghai: 366 days, every one present.
		y, err := f.svc.Sales(staffCtx, order.SalesQuery{TimeZone: "Asia/Shanghai", From: "2026-01-01", To: "2027-01-01"})
		if err != nil || len(y.Days) != 366 || y.Orders != 8 || y.Days[365].Date != "2027-01-01" {
			t.Fatalf("a year: %v %+v", err, y)
		}
	})
}
