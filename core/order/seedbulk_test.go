package order_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// TestInsertSeedOrders: seeded histories come out in the states, rows and
// stock a run of the real operations would leave; histories no sequence
// of operations could produce are refused, and a refused batch writes
// nothing (no number, order or reservation).
func TestInsertSeedOrders(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ago := func(d time.Duration) time.Time { return start.Add(-d) }
		day := 24 * time.Hour
		seedOrder := func(cart string, lines ...line) order.SeedOrder {
			return order.SeedOrder{Place: f.input(cart, "", "guest@example.com", lines...), PlacedAt: ago(30 * day)}
		}
		type want struct {
			status, payment, fulfillment string
			timeline                     []string // machine:from>to
			shipped                      []int64
			shipments                    int
		}
		ok := []struct {
			name string
			in   func() order.SeedOrder
			want want
		}{
			{"open unpaid within its deadline", func() order.SeedOrder {
				o := seedOrder("c1", line{f.tea, 2, 500})
				o.PlacedAt = ago(5 * time.Minute)
				return o
			}, want{"OPEN", "PENDING", "UNFULFILLED", []string{"order.status:>OPEN"}, []int64{0}, 0}},
			{"paid and partly shipped", func() order.SeedOrder {
				o := seedOrder("c2", line{f.tea, 2, 500}, line{f.cup, 1, 300})
				o.PaidAt, o.PaymentMethod = ago(29*day), "payment.testpay"
				o.Shipped, o.ShippedAt, o.Carrier = []int64{1, 1}, ago(28*day), "SF Express"
				return o
			}, want{"OPEN", "PAID", "PARTIALLY_FULFILLED", []string{"order.status:>OPEN", "order.payment_status:PENDING>PAID",
				"order.fulfillment_status:UNFULFILLED>PARTIALLY_FULFILLED"}, []int64{1, 1}, 1}},
			{"delivered and completed", func() order.SeedOrder {
				o := seedOrder("c3", line{f.cup, 2, 300})
				o.PaidAt, o.PaymentMethod = ago(29*day), "payment.banktransfer"
				o.Shipped, o.ShippedAt, o.DeliveredAt, o.CompletedAt = []int64{2}, ago(28*day), ago(26*day), ago(25*day)
				return o
			}, want{"COMPLETED", "PAID", "DELIVERED", []string{"order.status:>OPEN", "order.payment_status:PENDING>PAID",
				"order.fulfillment_status:UNFULFILLED>FULFILLED", "order.fulfillment_status:FULFILLED>DELIVERED",
				"order.status:OPEN>COMPLETED"}, []int64{2}, 1}},
			{"cancelled unpaid", func() order.SeedOrder {
				o := seedOrder("c4", line{f.tea, 1, 500})
				o.CancelledAt, o.CancelReason = ago(30*day-30*time.Minute), "payment deadline passed"
				return o
			}, want{"CANCELLED", "PENDING", "UNFULFILLED", []string{"order.status:>OPEN", "order.status:OPEN>CANCELLED"}, []int64{0}, 0}},
		}
		batch := make([]order.SeedOrder, len(ok))
		for i, c := range ok {
			batch[i] = c.in()
		}
		before := f.stock(t)
		if _, err := f.svc.TakeSeedNumbers(staff("owner"), 1); codeOf(err) != "TRANSITION_FORBIDDEN" {
			t.Errorf("staff take numbers: %v, want TRANSITION_FORBIDDEN", err)
		}
		first, err := f.svc.TakeSeedNumbers(system(), len(batch))
		if err != nil || first != 1001 {
			t.Fatalf("take numbers: %d, %v; want 1001", first, err)
		}
		got, err := f.svc.InsertSeedOrders(system(), first, batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range ok {
			o := got[i]
			d, err := f.svc.Get(staff("owner"), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			var tl []string
			for _, e := range d.Timeline {
				tl = append(tl, e.Machine+":"+e.FromState+">"+e.ToState)
			}
			var shipped []int64
			for _, l := range d.Lines {
				shipped = append(shipped, l.QuantityShipped)
			}
			g := want{string(d.Order.Status), string(d.Order.PaymentStatus), string(d.Order.FulfillmentStatus), tl, shipped, len(d.Shipments)}
			if diff := cmp.Diff(c.want, g, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s (-want +got):\n%s", c.name, diff)
			}
			if want := "#" + itoa(int64(1001+i)); o.Number != want {
				t.Errorf("%s: number %s, want %s", c.name, o.Number, want)
			}
			if !d.Order.CreatedAt.Equal(batch[i].PlacedAt) || d.Order.UpdatedAt.Before(d.Order.CreatedAt) {
				t.Errorf("%s: created %s updated %s, placed %s", c.name, d.Order.CreatedAt, d.Order.UpdatedAt, batch[i].PlacedAt)
			}
		}
		// Only the open orders' unshipped units are reserved: 2 tea of
		// the first, 1 tea of the second; shipped units draw no stock.
		wantStock := map[string][2]int64{"TEA-1": {before["TEA-1"][0], 3}, "CUP-1": {before["CUP-1"][0], 0}}
		if diff := cmp.Diff(wantStock, f.stock(t)); diff != "" {
			t.Errorf("stock (-want +got):\n%s", diff)
		}
		if n := len(f.out.Events()); n != 0 {
			t.Errorf("%d events written, want none", n)
		}
		// Staff can cancel a seeded open order: its reservation is there
		// to release.
		if _, err := f.svc.Cancel(staff("owner"), order.CancelInput{OrderID: got[0].ID, Reason: "test"}); err != nil {
			t.Fatalf("cancel a seeded order: %v", err)
		}
		if l := f.level(t, f.tea); l[1] != 1 {
			t.Errorf("tea reserved %d after the cancel, want 1", l[1])
		}

		spare, err := f.svc.TakeSeedNumbers(system(), 1)
		if err != nil {
			t.Fatal(err)
		}
		bad := []struct {
			name  string
			ctx   context.Context
			first int64
			edit  func(*order.SeedOrder)
			want  []string
		}{
			{"not the platform", staff("owner"), spare, func(*order.SeedOrder) {}, []string{" TRANSITION_FORBIDDEN"}},
			{"unpaid open past its deadline", system(), spare, func(*order.SeedOrder) {}, []string{"0.placedAt INVALID_DATE_RANGE"}},
			{"in the future", system(), spare, func(o *order.SeedOrder) { o.PlacedAt = start.Add(time.Hour) }, []string{"0.placedAt INVALID_DATE_RANGE"}},
			{"paid before placed, no gateway", system(), spare, func(o *order.SeedOrder) { o.PaidAt = ago(31 * day) },
				[]string{"0.paidAt INVALID_DATE_RANGE", "0.paymentMethod REQUIRED"}},
			{"completed with units to ship", system(), spare, func(o *order.SeedOrder) {
				o.PaidAt, o.PaymentMethod = ago(29*day), "payment.testpay"
				o.Shipped, o.ShippedAt, o.CompletedAt = []int64{1}, ago(28*day), ago(27*day)
			}, []string{"0.completedAt ORDER_NOT_FULFILLED"}},
			{"cancelled after shipping and paying", system(), spare, func(o *order.SeedOrder) {
				o.PaidAt, o.PaymentMethod = ago(29*day), "payment.testpay"
				o.Shipped, o.ShippedAt, o.CancelledAt = []int64{2}, ago(28*day), ago(27*day)
			}, []string{"0.cancelReason REASON_REQUIRED", "0.cancelledAt ORDER_ALREADY_SHIPPED", "0.cancelledAt ORDER_PAYMENT_NOT_PENDING"}},
			{"delivered before all shipped, shipped too much", system(), spare, func(o *order.SeedOrder) {
				o.PaidAt, o.PaymentMethod = ago(29*day), "payment.testpay"
				o.Shipped, o.ShippedAt, o.DeliveredAt = []int64{3}, ago(28*day), ago(27*day)
			}, []string{"0.deliveredAt ORDER_NOT_FULFILLED", "0.shipped.0 INVALID_QUANTITY"}},
			{"a parcel without a time", system(), spare, func(o *order.SeedOrder) {
				o.PaidAt, o.PaymentMethod = ago(29*day), "payment.testpay"
				o.Shipped = []int64{1}
			}, []string{"0.shippedAt REQUIRED"}},
			{"the placement is checked as Place checks it", system(), spare, func(o *order.SeedOrder) { o.Place.Email = " " },
				[]string{"0.place.email REQUIRED"}},
			{"a number not handed out", system(), spare + 1, func(o *order.SeedOrder) { o.PlacedAt = ago(time.Minute) },
				[]string{"firstSeq INVALID_QUANTITY"}},
			{"a number already used", system(), first, func(o *order.SeedOrder) { o.PlacedAt = ago(time.Minute) },
				[]string{}},
		}
		for _, c := range bad {
			t.Run(c.name, func(t *testing.T) {
				o := seedOrder("bad", line{f.tea, 2, 500})
				c.edit(&o)
				before := f.state(t, got[1].ID)
				orders := f.count(t, "orders", "")
				_, err := f.svc.InsertSeedOrders(c.ctx, c.first, []order.SeedOrder{o})
				if err == nil {
					t.Fatal("accepted")
				}
				if diff := cmp.Diff(c.want, problems(err), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(before, f.state(t, got[1].ID)); diff != "" {
					t.Errorf("refused batch changed things (-before +after):\n%s", diff)
				}
				if n := f.count(t, "orders", ""); n != orders {
					t.Errorf("%d orders, want %d", n, orders)
				}
			})
		}

		// A batch whose open order is short of stock fails whole.
		short := seedOrder("short", line{f.cup, 6, 300})
		short.PlacedAt = ago(time.Minute)
		fine := seedOrder("fine", line{f.tea, 1, 500})
		fine.CancelledAt, fine.CancelReason = ago(30*day-time.Hour), "payment deadline passed"
		two, err := f.svc.TakeSeedNumbers(system(), 2)
		if err != nil {
			t.Fatal(err)
		}
		beforeState := f.state(t, got[1].ID)
		_, err = f.svc.InsertSeedOrders(system(), two, []order.SeedOrder{fine, short})
		var ise *catalog.InsufficientStockError
		if !errors.As(err, &ise) {
			t.Fatalf("short of stock: %v, want an InsufficientStockError", err)
		}
		if diff := cmp.Diff(beforeState, f.state(t, got[1].ID)); diff != "" {
			t.Errorf("failed batch changed things (-before +after):\n%s", diff)
		}
		p, err := f.svc.List(staff("owner"), order.Filter{}, page.Request{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != len(ok) {
			t.Errorf("staff list has %d orders, want %d", len(p.Items), len(ok))
		}
	})
}
