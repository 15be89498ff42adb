package app_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/testkit"
)

// A staff member cancels an order whose payment waits for the buyer on
// testpay's page (the real plugin, through the whole app): the trade is
// closed at testpay first, so the buyer paying on the page afterwards
// takes no money, and the order stays CANCELLED with nothing paid or
// flagged, and a new payment of it is refused.
func TestCancelClosesTheTradeAtTheGateway(t *testing.T) {
	for _, engine := range []struct {
		name string
		e    testkit.Engine
	}{{"sqlite", testkit.SQLite}, {"postgres", testkit.Postgres}} {
		t.Run(engine.name, func(t *testing.T) { cancelClosesTheTrade(t, newPayApp(t, engine.e)) })
	}
}

func cancelClosesTheTrade(t *testing.T, pa *payApp) {
	staff := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	o := pa.place(t)
	a := pa.pay(t, o)
	if _, err := pa.Orders.Cancel(staff, order.CancelInput{OrderID: o.id, Reason: "out of stock"}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.PostForm(a.ActionURL, url.Values{"action": {"pay"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// Anything testpay would notify arrives within its async delay.
	time.Sleep(300 * time.Millisecond)
	if ps := pa.paymentStatus(t, o.id); ps != order.PaymentPending {
		t.Fatalf("cancelled order after the buyer paid on the page: %s, want PENDING", ps)
	}
	if n := pa.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE order_id = ? AND kind = 'CAPTURE'", o.id); n != 0 {
		t.Fatalf("%d captures on the cancelled order", n)
	}
	if n := pa.count(t, "SELECT COUNT(*) FROM payment_attempts WHERE id = ? AND state = 'CANCELLED'", a.ID); n != 1 {
		t.Fatal("the attempt was not closed")
	}

	// A new payment of the cancelled order is refused.
	_, err = pa.Payments.Create(authz.WithSubject(context.Background(), authz.AnonymousSubject()), payment.CreateInput{
		AccessToken: o.token, GatewayID: testpayID, ReturnURL: pa.URL + "/return", PaymentMethod: redirectCard})
	if code := codeOf(err); code != payment.CodeOrderNotOpen {
		t.Fatalf("paying a cancelled order: %v, want ORDER_NOT_OPEN", err)
	}
}

// A buyer opens two payment pages of one order: the second closes the
// first at testpay before it opens (an outside review paid both pages at
// once and was charged twice), so paying the first takes nothing and
// paying the second pays the order once, nothing flagged.
func TestSecondPaymentPageClosesTheFirst(t *testing.T) {
	for _, engine := range []struct {
		name string
		e    testkit.Engine
	}{{"sqlite", testkit.SQLite}, {"postgres", testkit.Postgres}} {
		t.Run(engine.name, func(t *testing.T) {
			pa := newPayApp(t, engine.e)
			o := pa.place(t)
			first, second := pa.pay(t, o), pa.pay(t, o)
			if n := pa.count(t, "SELECT COUNT(*) FROM payment_attempts WHERE id = ? AND state = 'CANCELLED'", first.ID); n != 1 {
				t.Fatal("the first payment page is still open after the second opened")
			}
			noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			var wg sync.WaitGroup
			for _, a := range []*payment.Attempt{first, second} { // both at once, as the review did
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := noRedirect.PostForm(a.ActionURL, url.Values{"action": {"pay"}})
					if err != nil {
						t.Error(err)
						return
					}
					res.Body.Close()
				}()
			}
			wg.Wait()
			paid := func() bool { return pa.paymentStatus(t, o.id) == order.PaymentPaid }
			for deadline := time.Now().Add(10 * time.Second); !paid() && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond) // anything testpay would notify
			if n := pa.count(t, "SELECT COUNT(*) FROM payment_ledger WHERE order_id = ? AND kind = 'CAPTURE'", o.id); n != 1 {
				t.Fatalf("%d captures, want 1", n)
			}
			if n := pa.count(t, "SELECT COUNT(*) FROM payment_gateway_events WHERE order_id = ? AND flag_reason <> ''", o.id); n != 0 {
				t.Fatalf("%d flagged events", n)
			}
			if ps := pa.paymentStatus(t, o.id); ps != order.PaymentPaid {
				t.Fatalf("order %s, want PAID", ps)
			}
		})
	}
}
