package payment_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/payment"
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
			return f.svc.Refund(staff("finance"), in)
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
