package app_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/testkit"
)

// The owner disables testpay (the real plugin, through the whole app)
// while two buyers are on its payment pages. No new payment starts on
// it, but what it took still settles through it, as a deactivated payment
// app does in Shopify: its notification of the first buyer's payment is
// applied, staff refund that order through it, and cancelling the second
// order closes that trade at testpay. Removing the plugin is refused
// while a payment of it is open, and allowed once none is.
func TestDisabledGatewaySettlesWhatItTook(t *testing.T) {
	for _, engine := range []struct {
		name string
		e    testkit.Engine
	}{{"sqlite", testkit.SQLite}, {"postgres", testkit.Postgres}} {
		t.Run(engine.name, func(t *testing.T) { disabledGatewaySettles(t, newPayApp(t, engine.e)) })
	}
}

func disabledGatewaySettles(t *testing.T, pa *payApp) {
	sys := authz.WithSubject(context.Background(), authz.SystemSubject("test"))
	buyer := authz.WithSubject(context.Background(), authz.AnonymousSubject())
	paid, cancelled, fresh := pa.place(t), pa.place(t), pa.place(t)
	// testpay's never_notify card: the money is taken after async_delay_ms
	// (10 ms), and the notification is the test's to send.
	paidAtt, err := pa.Payments.Create(buyer, payment.CreateInput{
		AccessToken: paid.token, GatewayID: testpayID, ReturnURL: pa.URL + "/return", PaymentMethod: "4000000000000036"})
	if err != nil || paidAtt.State != payment.StatePending {
		t.Fatalf("never_notify card: %v, %+v", err, paidAtt)
	}
	openAtt := pa.pay(t, cancelled)
	time.Sleep(200 * time.Millisecond)
	if _, err := pa.Plugins.Disable(sys, testpayID); err != nil {
		t.Fatal(err)
	}

	_, err = pa.Payments.Create(buyer, payment.CreateInput{
		AccessToken: fresh.token, GatewayID: testpayID, ReturnURL: pa.URL + "/return", PaymentMethod: redirectCard})
	if code := codeOf(err); code != plugin.CodeDisabled || !errors.Is(err, errs.ErrInvalid) || !slices.Equal(errs.All(err)[0].Field, []string{"gatewayId"}) {
		t.Fatalf("a new payment on the disabled gateway: %v, want %s on gatewayId, the buyer's choice to change", err, plugin.CodeDisabled)
	}
	err = pa.Plugins.Remove(sys, testpayID)
	if code := codeOf(err); code != plugin.CodeInUse {
		t.Fatalf("removing the gateway with two payments open: %v, want %s", err, plugin.CodeInUse)
	}

	// The gateway notifies the first buyer's payment: applied.
	body := notification("evt_"+paidAtt.GatewayRef+"_payment.succeeded", payment.EventPaymentSucceeded, paidAtt, "")
	if status, answer := pa.post(t, testpayID, signed(body, time.Now())); status != http.StatusOK {
		t.Fatalf("notification to the disabled gateway: %d %s, want 200", status, answer)
	}
	if ps := pa.paymentStatus(t, paid.id); ps != order.PaymentPaid {
		t.Fatalf("order after the notification: %s, want PAID", ps)
	}

	// Staff refund it through the disabled gateway.
	amt := money.New(1000, pa.Catalog.DefaultCurrency())
	refs, err := pa.Payments.Refund(sys, payment.RefundInput{OrderID: paid.id, Amount: &amt, Reason: "a tin arrived dented", IdempotencyKey: "refund-" + paid.id})
	if err != nil || len(refs) != 1 {
		t.Fatalf("refund through the disabled gateway: %+v, %v", refs, err)
	}
	if ref := refs[0]; ref.State != payment.RefundStateSucceeded {
		t.Fatalf("refund %s, want SUCCEEDED", ref.State)
	}

	// Cancelling the second order closes its trade at the gateway.
	if _, err := pa.Orders.Cancel(sys, order.CancelInput{OrderID: cancelled.id, Reason: "the buyer changed their mind"}); err != nil {
		t.Fatalf("cancel an order paying on the disabled gateway: %v", err)
	}
	if n := pa.count(t, "SELECT COUNT(*) FROM payment_attempts WHERE id = ? AND state = 'CANCELLED'", openAtt.ID); n != 1 {
		t.Fatal("the open payment of the cancelled order was not closed")
	}

	// Nothing of testpay is open now: it may go.
	if err := pa.Plugins.Remove(sys, testpayID); err != nil {
		t.Fatalf("remove the settled gateway: %v", err)
	}
}
