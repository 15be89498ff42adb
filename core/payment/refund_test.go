package payment_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// paidOrder places an order of qty units (10.00 each, 10.00 shipping)
// and pays it through the fake, which then knows the capture.
func (f *fixture) paidOrder(t *testing.T, gw *fakeGateway, qty int64) placed {
	t.Helper()
	o := f.place(t, qty)
	a := f.start(t, o, "")
	f.webhook(t, succeeded(a, "evt_paid_"+a.ID))
	gw.truth(a.ID, payment.StatusSucceeded, a.Amount())
	return o
}

// taxedOrder places and pays an order whose prices exclude tax, as
// cart.ComputeTotals prices it: 3 units at 0.10 (0.30, 13 % tax 0.04
// rounded on the line: 0.34) and 10.00 shipping (tax 1.30), 11.64 in all.
func (f *fixture) taxedOrder(t *testing.T, gw *fakeGateway) placed {
	t.Helper()
	o := f.placeFor(t, 3, "", func(in *order.PlaceInput) {
		l := &in.Lines[0]
		l.UnitPrice, l.Subtotal, l.Tax, l.Total = cny(10), cny(30), cny(4), cny(34)
		in.Totals = pricing.Totals{Subtotal: cny(30), DiscountTotal: cny(0), Shipping: cny(1000),
			Tax: cny(134), TaxIncluded: false, Total: cny(1164)}
	})
	a := f.start(t, o, "")
	f.webhook(t, succeeded(a, "evt_paid_"+a.ID))
	gw.truth(a.ID, payment.StatusSucceeded, a.Amount())
	return o
}

// Refunding every unit of every line and the whole shipping, at once or
// a bit at a time, gives back the order's total to the minor unit: the
// last units carry what rounding left of the line, and where tax was
// added to the prices the shipping comes back with its tax.
func TestRefundsByLineAndShippingAddUpToTheTotal(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		refund := func(o placed, key string, qty, shipping int64) *payment.Refund {
			t.Helper()
			in := payment.RefundInput{OrderID: o.id, IdempotencyKey: key}
			if qty > 0 {
				in.Lines = []payment.RefundLineInput{{LineID: lineID(t, f, o.id), Quantity: qty}}
			}
			if shipping > 0 {
				sh := cny(shipping)
				in.Shipping = &sh
			}
			refs, err := f.svc.Refund(staff("finance"), in)
			if err != nil || len(refs) != 1 || refs[0].State != payment.RefundStateSucceeded {
				t.Fatalf("refund %s: %+v, %v", key, first(refs), err)
			}
			return refs[0]
		}
		refunded := func(o placed) (int64, string) {
			t.Helper()
			_, ps := f.orderStatus(t, o.id)
			return f.amounts(t, o.id).Refunded.Amount(), ps
		}

		// All at once.
		o := f.taxedOrder(t, gw)
		r := refund(o, "all", 3, 1000)
		if r.AmountMinor != 1164 || r.ShippingMinor != 1000 || r.ShippingTaxMinor != 130 {
			t.Fatalf("whole refund: amount %d, shipping %d, shipping tax %d; want 1164, 1000, 130", r.AmountMinor, r.ShippingMinor, r.ShippingTaxMinor)
		}
		if got, ps := refunded(o); got != 1164 || ps != "REFUNDED" {
			t.Fatalf("after the whole refund: %d refunded, %s", got, ps)
		}

		// A unit and 3.00 of the shipping at a time: 0.11, 0.11, then the
		// 0.12 rounding left; 3.39, 3.39, then the 4.52 left with its tax.
		o = f.taxedOrder(t, gw)
		var amounts []int64
		for i, sh := range []int64{300, 300, 400} {
			amounts = append(amounts, refund(o, fmt.Sprintf("part-%d", i), 1, sh).AmountMinor)
		}
		if want := []int64{11 + 339, 11 + 339, 12 + 452}; fmt.Sprint(amounts) != fmt.Sprint(want) {
			t.Fatalf("parts %v, want %v", amounts, want)
		}
		if got, ps := refunded(o); got != 1164 || ps != "REFUNDED" {
			t.Fatalf("after the parts: %d refunded, %s", got, ps)
		}
		// A retry of the first part, sent again after the others, is the
		// first part: its amount is not worked out again.
		if r := refund(o, "part-0", 1, 300); r.AmountMinor != 350 {
			t.Fatalf("retried part: %d", r.AmountMinor)
		}

		// Prices that include tax: the shipping's price holds its tax.
		o = f.paidOrder(t, gw, 1)
		if r := refund(o, "incl", 1, 1000); r.AmountMinor != 2000 || r.ShippingTaxMinor != 0 {
			t.Fatalf("tax-inclusive refund: %+v", r)
		}
	})
}

// first is a refund's first part; nil when it was refused.
func first(refs []*payment.Refund) *payment.Refund {
	if len(refs) == 0 {
		return nil
	}
	return refs[0]
}

// fieldOf is the field path of err's first domain error.
func fieldOf(err error) string {
	var e *errs.Error
	if errors.As(err, &e) {
		return fmt.Sprint(e.Field)
	}
	return ""
}

// A line's units and the shipping are refunded once: later refunds by
// line or shipping count what earlier ones (not FAILED) gave back, even
// when the captured money would still cover them.
func TestRefundsByLineAndShippingCountEarlierRefunds(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		o := f.paidOrder(t, gw, 2) // 30.00: 2 x 10.00 and 10.00 shipping
		line := lineID(t, f, o.id)
		refund := func(key string, qty int64, shipping *int64) (*payment.Refund, error) {
			in := payment.RefundInput{OrderID: o.id, IdempotencyKey: key}
			if qty > 0 {
				in.Lines = []payment.RefundLineInput{{LineID: line, Quantity: qty}}
			}
			if shipping != nil {
				s := cny(*shipping)
				in.Shipping = &s
			}
			refs, err := f.svc.Refund(staff("finance"), in)
			return first(refs), err
		}
		if r, err := refund("r1", 1, nil); err != nil || r.State != payment.RefundStateSucceeded || r.AmountMinor != 1000 {
			t.Fatalf("first unit: %+v, %v", r, err)
		}
		if _, err := refund("r2", 2, nil); codeOf(err) != payment.CodeLineAlreadyRefunded || fieldOf(err) != "[lines 0 quantity]" {
			t.Fatalf("both units after one: %v (field %s)", err, fieldOf(err))
		}
		// A repeat of the first is the first, not a refusal.
		if r, err := refund("r1", 1, nil); err != nil || r.AmountMinor != 1000 {
			t.Fatalf("repeat: %+v, %v", r, err)
		}
		if _, err := refund("r3", 1, nil); err != nil {
			t.Fatalf("second unit: %v", err)
		}
		// 10.00 of the capture is left: enough for a unit, but none is.
		if _, err := refund("r4", 1, nil); codeOf(err) != payment.CodeLineAlreadyRefunded {
			t.Fatalf("a third unit of two: %v", err)
		}

		o = f.paidOrder(t, gw, 2)
		line = lineID(t, f, o.id)
		six, five := int64(600), int64(500)
		if _, err := refund("s1", 0, &six); err != nil {
			t.Fatalf("6.00 of the shipping: %v", err)
		}
		if _, err := refund("s2", 0, &five); codeOf(err) != payment.CodeShippingAlreadyRefunded || fieldOf(err) != "[shipping]" {
			t.Fatalf("5.00 more of 10.00 shipping: %v", err)
		}
		four := int64(400)
		if _, err := refund("s3", 1, &four); err != nil {
			t.Fatalf("a unit and the rest of the shipping: %v", err)
		}
		if _, err := refund("s4", 0, &four); codeOf(err) != payment.CodeShippingAlreadyRefunded {
			t.Fatalf("shipping again: %v", err)
		}
		if am := f.amounts(t, o.id); am.Refunded.Amount() != 2000 {
			t.Fatalf("refunded %s", am.Refunded)
		}

		// A refund that failed gave nothing back: its unit may be refunded.
		o = f.paidOrder(t, gw, 1)
		line = lineID(t, f, o.id)
		gw.set(func(g *fakeGateway) { g.refundErr = errs.Unavailable("PLUGIN_UNAVAILABLE", "down") })
		if _, err := refund("f1", 1, nil); codeOf(err) != "PLUGIN_UNAVAILABLE" {
			t.Fatalf("refund with the gateway down: %v", err)
		}
		gw.set(func(g *fakeGateway) { g.refundErr = nil })
		if r, err := refund("f2", 1, nil); err != nil || r.State != payment.RefundStateSucceeded {
			t.Fatalf("after a failed refund: %+v, %v", r, err)
		}
	})
}

// Two staff members refunding the same unit at once give it back once,
// though the capture covers both.
func TestConcurrentRefundsOfOneUnit(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		for round := range 3 {
			o := f.paidOrder(t, gw, 1) // 20.00: one unit of 10.00 and 10.00 shipping
			line := lineID(t, f, o.id)
			var wg sync.WaitGroup
			got := make([]error, 2)
			for i := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, got[i] = f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id,
						Lines: []payment.RefundLineInput{{LineID: line, Quantity: 1}}, IdempotencyKey: fmt.Sprintf("u%d-%d", round, i)})
				}()
			}
			wg.Wait()
			ok, refused := 0, 0
			for _, err := range got {
				switch codeOf(err) {
				case "":
					ok++
				case payment.CodeLineAlreadyRefunded:
					refused++
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if ok != 1 || refused != 1 {
				t.Fatalf("round %d: %d refunded, %d refused", round, ok, refused)
			}
			if am := f.amounts(t, o.id); am.Refunded.Amount() != 1000 {
				t.Fatalf("round %d: refunded %s", round, am.Refunded)
			}
		}
	})
}

// paidTwice places an order of 30.00 (2 x 10.00 and 10.00 shipping) paid
// by two payments through the fake: staff captured 10.00 of the first,
// the buyer paid the rest, 20.00. The order is PAID.
func (f *fixture) paidTwice(t *testing.T, gw *fakeGateway) (o placed, earlier, latest *payment.Attempt) {
	t.Helper()
	gw.set(func(g *fakeGateway) { g.create = payment.StatusAuthorized })
	o = f.place(t, 2)
	earlier = f.partlyPaid(t, o, fakeID, "", 1000)
	gw.set(func(g *fakeGateway) { g.create = payment.StatusSucceeded })
	defer gw.set(func(g *fakeGateway) { g.create = "" })
	latest, err := f.payRest(o, fakeID, "", "")
	if err != nil || latest.Captured != 2000 {
		t.Fatalf("the rest: %+v, %v", latest, err)
	}
	if _, ps := f.orderStatus(t, o.id); ps != "PAID" {
		t.Fatalf("paid twice: %s", ps)
	}
	return o, earlier, latest
}

// part is a refund's part as the split tests compare it: which payment
// ("latest" or "earlier"), how much, and the lines and shipping it carries.
type part struct {
	Payment  string
	Amount   int64
	Units    int64
	Shipping int64
}

// A refund no single payment covers is split across the order's
// payments, latest first, each part a refund of its own sent to its
// gateway with its own key; the first part carries the lines and
// shipping, which stay refunded once. More than both payments together
// is refused, and nothing is reserved.
func TestRefundSplitAcrossPayments(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		for _, c := range []struct {
			name    string
			amount  int64 // an amount alone, or
			units   int64 // lines and
			ship    int64 // shipping
			role    string
			want    []part
			code    string
			status  string // the order's payment status after
			refunds [2]int64
		}{
			{name: "in full", amount: 3000, want: []part{{"latest", 2000, 0, 0}, {"earlier", 1000, 0, 0}},
				status: "REFUNDED", refunds: [2]int64{1000, 2000}},
			{name: "more than the latest", amount: 2500, want: []part{{"latest", 2000, 0, 0}, {"earlier", 500, 0, 0}},
				status: "PARTIALLY_REFUNDED", refunds: [2]int64{500, 2000}},
			{name: "the latest covers it", amount: 1500, want: []part{{"latest", 1500, 0, 0}},
				status: "PARTIALLY_REFUNDED", refunds: [2]int64{0, 1500}},
			{name: "lines and shipping", units: 2, ship: 1000, want: []part{{"latest", 2000, 2, 1000}, {"earlier", 1000, 0, 0}},
				status: "REFUNDED", refunds: [2]int64{1000, 2000}},
			{name: "more than both", amount: 3001, code: payment.CodeRefundExceedsCaptured, status: "PAID"},
			{name: "without refund write", amount: 3000, role: "support", code: "FORBIDDEN", status: "PAID"},
		} {
			t.Run(c.name, func(t *testing.T) {
				o, earlier, latest := f.paidTwice(t, gw)
				in := payment.RefundInput{OrderID: o.id, IdempotencyKey: "split-" + o.id}
				if c.amount > 0 {
					amt := cny(c.amount)
					in.Amount = &amt
				}
				if c.units > 0 {
					in.Lines = []payment.RefundLineInput{{LineID: lineID(t, f, o.id), Quantity: c.units}}
					ship := cny(c.ship)
					in.Shipping = &ship
				}
				role := c.role
				if role == "" {
					role = "finance"
				}
				gw.set(func(g *fakeGateway) { g.calls["refund"] = 0 })
				refs, err := f.svc.Refund(staff(role), in)
				if codeOf(err) != c.code {
					t.Fatalf("refund: %v, want %q", err, c.code)
				}
				var got []part
				for _, r := range refs {
					p := part{Payment: map[string]string{latest.ID: "latest", earlier.ID: "earlier"}[r.AttemptID], Amount: r.AmountMinor, Shipping: r.ShippingMinor}
					for _, l := range r.Lines {
						p.Units += l.Quantity
					}
					if r.State != payment.RefundStateSucceeded {
						t.Errorf("part %s: %s", r.ID, r.State)
					}
					got = append(got, p)
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Fatalf("parts (-want +got):\n%s", diff)
				}
				if n := gw.calls["refund"]; n != len(c.want) {
					t.Fatalf("%d gateway refunds, want %d", n, len(c.want))
				}
				if _, ps := f.orderStatus(t, o.id); ps != c.status {
					t.Fatalf("payment status %s, want %s", ps, c.status)
				}
				for i, a := range []*payment.Attempt{earlier, latest} {
					if cur := f.attempt(t, a.ID); cur.Refunded != c.refunds[i] || cur.RefundReserved != 0 {
						t.Fatalf("payment %d refunded %d (%d reserved), want %d", i, cur.Refunded, cur.RefundReserved, c.refunds[i])
					}
				}
				if c.units > 0 {
					// The units and the shipping went back with the first
					// part: not again, though the order has money left
					// for neither.
					unit := payment.RefundInput{OrderID: o.id, IdempotencyKey: "again-" + o.id,
						Lines: []payment.RefundLineInput{{LineID: lineID(t, f, o.id), Quantity: 1}}}
					if _, err := f.svc.Refund(staff("finance"), unit); codeOf(err) != payment.CodeLineAlreadyRefunded {
						t.Fatalf("a unit again: %v", err)
					}
					ship := cny(100)
					if _, err := f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Shipping: &ship,
						IdempotencyKey: "ship-" + o.id}); codeOf(err) != payment.CodeShippingAlreadyRefunded {
						t.Fatalf("shipping again: %v", err)
					}
				}
			})
		}
	})
}

// A retried split refund returns the same parts and asks no gateway
// again.
func TestSplitRefundRetried(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		o, _, _ := f.paidTwice(t, gw)
		all := cny(3000)
		in := payment.RefundInput{OrderID: o.id, Amount: &all, Reason: "the parcel never arrived", IdempotencyKey: "split-retry"}
		refs, err := f.svc.Refund(staff("finance"), in)
		if err != nil || len(refs) != 2 {
			t.Fatalf("refund: %+v, %v", refs, err)
		}
		calls := gw.calls["refund"]
		again, err := f.svc.Refund(staff("finance"), in)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(refundIDs(refs), refundIDs(again)); diff != "" {
			t.Fatalf("the retry's parts (-first +retry):\n%s", diff)
		}
		if gw.calls["refund"] != calls {
			t.Fatalf("the retry asked the gateway: %d refunds, then %d", calls, gw.calls["refund"])
		}
		if am := f.amounts(t, o.id); am.Refunded.Amount() != 3000 {
			t.Fatalf("refunded %s", am.Refunded)
		}
	})
}

// refundTogether has two finance staff members refund amount of the
// order at once, each with a key of its own, and returns what each got.
func (f *fixture) refundTogether(o placed, amount int64, key string) ([][]*payment.Refund, []error) {
	amt := cny(amount)
	var wg sync.WaitGroup
	got := make([][]*payment.Refund, 2)
	errList := make([]error, 2)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errList[i] = f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Amount: &amt,
				IdempotencyKey: fmt.Sprintf("%s-%d", key, i)})
		}()
	}
	wg.Wait()
	return got, errList
}

// allRefunded fails the test unless each attempt's capture was refunded
// whole, nothing reserved any more.
func (f *fixture) allRefunded(t *testing.T, atts ...*payment.Attempt) {
	t.Helper()
	for _, a := range atts {
		if cur := f.attempt(t, a.ID); cur.Refunded != cur.Captured || cur.RefundReserved != 0 {
			t.Fatalf("payment %s: refunded %d of %d, %d reserved", a.ID, cur.Refunded, cur.Captured, cur.RefundReserved)
		}
	}
}

// Two staff members refunding all of a two-payment order at once: one
// refund is reserved, split, and sent; the other is refused whole, with
// nothing of it reserved or sent.
func TestConcurrentSplitRefunds(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		for round := range 3 {
			o, earlier, latest := f.paidTwice(t, gw)
			gw.set(func(g *fakeGateway) { g.calls["refund"] = 0 })
			got, errList := f.refundTogether(o, 3000, fmt.Sprintf("all%d", round))
			ok, refused := 0, 0
			for i, err := range errList {
				switch codeOf(err) {
				case "":
					ok++
					if len(got[i]) != 2 {
						t.Fatalf("round %d: %d parts", round, len(got[i]))
					}
				case payment.CodeRefundExceedsCaptured:
					refused++
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if ok != 1 || refused != 1 || gw.calls["refund"] != 2 {
				t.Fatalf("round %d: %d refunded, %d refused, %d gateway refunds", round, ok, refused, gw.calls["refund"])
			}
			if am := f.amounts(t, o.id); am.Refunded.Amount() != 3000 {
				t.Fatalf("round %d: refunded %s", round, am.Refunded)
			}
			f.allRefunded(t, earlier, latest)
		}
	})
}

// Two staff members refunding 15.00 each of a two-payment order at once
// (30.00: 10.00 then 20.00): both fit. Each reads that the latest payment
// covers 15.00 alone; the one reserving second finds 5.00 left there and
// splits again, 5.00 from the latest and 10.00 from the earlier, rather
// than be refused (it was, on PostgreSQL, when the two reads raced).
func TestConcurrentRefundsSplitAgain(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		for round := range 4 {
			o, earlier, latest := f.paidTwice(t, gw)
			got, errList := f.refundTogether(o, 1500, fmt.Sprintf("half%d", round))
			parts := 0
			for i, err := range errList {
				if err != nil {
					t.Fatalf("round %d: refund %d: %v", round, i, err)
				}
				parts += len(got[i])
			}
			if parts != 3 {
				t.Fatalf("round %d: %d parts, want 3 (one refund whole, the other split)", round, parts)
			}
			f.allRefunded(t, earlier, latest)
		}
	})
}

// A part that fails stops the split: the parts after it are failed
// unsent and their reservations released, so nothing went back and the
// whole may be refunded again.
func TestSplitRefundStopsAtAFailedPart(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		gw := newFake(fakeID)
		f := newFixture(t, db, gw)
		o, _, _ := f.paidTwice(t, gw)
		gw.set(func(g *fakeGateway) {
			g.refundErr = errs.Unavailable("PLUGIN_UNAVAILABLE", "down")
			g.calls["refund"] = 0
		})
		all := cny(3000)
		if _, err := f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Amount: &all, IdempotencyKey: "down"}); codeOf(err) != "PLUGIN_UNAVAILABLE" {
			t.Fatalf("with the gateway down: %v", err)
		}
		refs, err := f.svc.RefundsOf(staff("finance"), []string{o.id})
		if err != nil {
			t.Fatal(err)
		}
		var states []payment.RefundState
		for _, r := range refs[o.id] {
			states = append(states, r.State)
		}
		if diff := cmp.Diff([]payment.RefundState{payment.RefundStateFailed, payment.RefundStateFailed}, states); diff != "" || gw.calls["refund"] != 1 {
			t.Fatalf("parts (-want +got), %d gateway refunds:\n%s", gw.calls["refund"], diff)
		}
		gw.set(func(g *fakeGateway) { g.refundErr = nil })
		if refs, err := f.svc.Refund(staff("finance"), payment.RefundInput{OrderID: o.id, Amount: &all, IdempotencyKey: "up"}); err != nil || len(refs) != 2 {
			t.Fatalf("once the gateway is back: %+v, %v", refs, err)
		}
		if _, ps := f.orderStatus(t, o.id); ps != "REFUNDED" {
			t.Fatalf("payment status %s", ps)
		}
	})
}

// refundIDs are the refunds' ids, in order.
func refundIDs(refs []*payment.Refund) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.ID)
	}
	return out
}
