package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/notify"
)

// fakePayments answers the Payments port from maps.
type fakePayments struct {
	attempts map[string]*notify.PaymentEmail
	refunds  map[string]*notify.PaymentEmail
	staff    []notify.StaffRecipient
	err      error
}

func (f fakePayments) AttemptEmail(_ context.Context, id string) (*notify.PaymentEmail, error) {
	if f.err != nil {
		return nil, f.err
	}
	em, ok := f.attempts[id]
	if !ok {
		return nil, errs.NotFound("PAYMENT_NOT_FOUND", "no such payment")
	}
	return em, nil
}

func (f fakePayments) RefundEmail(_ context.Context, orderID, refundID string) (*notify.PaymentEmail, error) {
	if f.err != nil {
		return nil, f.err
	}
	em, ok := f.refunds[orderID+"/"+refundID]
	if !ok {
		return nil, errs.NotFound("REFUND_NOT_FOUND", "no such refund")
	}
	return em, nil
}

func (f fakePayments) StaffRecipients(context.Context) ([]notify.StaffRecipient, error) {
	return f.staff, f.err
}

// TestHandlePayment: the buyer hears of a decline while the order waits
// for payment, of instructions to follow (a bank transfer), of a refund
// that succeeded; the staff who work on orders each hear of an order
// paid, in a message of their own; nothing is sent about an order that
// no longer waits, an action that is no text, a payment that is gone.
func TestHandlePayment(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)
	eur := func(n int64) notify.Amount { return notify.Amount{Amount: n, Currency: "EUR"} }
	order := func(waiting bool) notify.OrderEmail {
		em := notify.OrderEmail{Recipient: notify.Recipient{Email: "ada@example.com", Name: "Ada"}, Locale: "en",
			Order: notify.OrderData{Number: "#1042", Total: eur(7500), PaymentURL: "https://tea.example/orders/ord_1/status"}}
		if waiting {
			em.Order.PaymentDeadline = &deadline
		}
		return em
	}
	declined := &notify.PaymentEmail{OrderEmail: order(true), Payment: &notify.PaymentData{State: "FAILED", Amount: eur(7500), DeclineCode: "card_declined", Message: "Your card was declined."}}
	declinedPaid := &notify.PaymentEmail{OrderEmail: order(false), Payment: declined.Payment}
	transfer := &notify.PaymentEmail{OrderEmail: order(true), Payment: &notify.PaymentData{State: "PENDING", Amount: eur(7500), Action: "INSTRUCTIONS",
		Instructions: "IBAN DE89 3704 0044 0532 0130 00, reference #1042", Reference: "#1042"}}
	redirect := &notify.PaymentEmail{OrderEmail: order(true), Payment: &notify.PaymentData{State: "PENDING", Amount: eur(7500), Action: "REDIRECT"}}
	refunded := &notify.PaymentEmail{OrderEmail: order(false), Refund: &notify.RefundData{Amount: eur(2500)}}
	refundUnderWay := &notify.PaymentEmail{OrderEmail: order(false)}
	pays := fakePayments{
		attempts: map[string]*notify.PaymentEmail{"pay_declined": declined, "pay_paid_since": declinedPaid, "pay_transfer": transfer, "pay_redirect": redirect},
		refunds:  map[string]*notify.PaymentEmail{"ord_1/ref_1": refunded, "ord_1/ref_pending": refundUnderWay},
		staff: []notify.StaffRecipient{{ID: "stf_owner", Recipient: notify.Recipient{Email: "owner@tea.example", Name: "Olga"}},
			{ID: "stf_packer", Recipient: notify.Recipient{Email: "packer@tea.example"}}},
	}
	paidOrder := order(false)
	orders := fakeOrders{m: map[string]*notify.OrderEmail{"ord_1": &paidOrder}}

	type sent struct{ id, template, to string }
	tests := []struct {
		name     string
		subject  string
		payload  map[string]any
		payments notify.Payments
		want     func(e events.Event) []sent
		// data are parts of the first message's data.
		data    map[string]any
		wantErr bool
	}{
		{name: "a decline", subject: "kassa.payment.failed", payload: map[string]any{"attemptId": "pay_declined", "orderId": "ord_1"},
			want: func(e events.Event) []sent {
				return []sent{{e.ID + ".notify.email", notify.TemplatePaymentFailed, "ada@example.com"}}
			},
			data: map[string]any{"payment": map[string]any{"state": "FAILED", "amount": map[string]any{"amount": 7500.0, "currency": "EUR"},
				"decline_code": "card_declined", "message": "Your card was declined."}}},
		{name: "a decline of an order paid since", subject: "kassa.payment.failed", payload: map[string]any{"attemptId": "pay_paid_since"}},
		{name: "bank transfer instructions", subject: "kassa.payment.pending", payload: map[string]any{"attemptId": "pay_transfer"},
			want: func(e events.Event) []sent {
				return []sent{{e.ID + ".notify.email", notify.TemplatePaymentInstructions, "ada@example.com"}}
			},
			data: map[string]any{"payment": map[string]any{"state": "PENDING", "amount": map[string]any{"amount": 7500.0, "currency": "EUR"},
				"action": "INSTRUCTIONS", "instructions": "IBAN DE89 3704 0044 0532 0130 00, reference #1042", "reference": "#1042"}}},
		{name: "a pending redirect", subject: "kassa.payment.pending", payload: map[string]any{"attemptId": "pay_redirect"}},
		{name: "a refund", subject: "kassa.payment.refund_succeeded", payload: map[string]any{"refundId": "ref_1", "orderId": "ord_1", "attemptId": "pay_x"},
			want: func(e events.Event) []sent {
				return []sent{{e.ID + ".notify.email", notify.TemplateOrderRefunded, "ada@example.com"}}
			},
			data: map[string]any{"refund": map[string]any{"amount": map[string]any{"amount": 2500.0, "currency": "EUR"}}}},
		{name: "a refund not settled", subject: "kassa.payment.refund_succeeded", payload: map[string]any{"refundId": "ref_pending", "orderId": "ord_1"}},
		{name: "an order paid, to staff", subject: "kassa.order.paid", payload: map[string]any{"orderId": "ord_1"},
			want: func(e events.Event) []sent {
				return []sent{{e.ID + ".staff.stf_owner.notify.email", notify.TemplateStaffOrderPaid, "owner@tea.example"},
					{e.ID + ".staff.stf_packer.notify.email", notify.TemplateStaffOrderPaid, "packer@tea.example"}}
			},
			data: map[string]any{"customer": map[string]any{"email": "ada@example.com", "name": "Ada"}}},
		{name: "an order paid, no staff", subject: "kassa.order.paid", payload: map[string]any{"orderId": "ord_1"},
			payments: fakePayments{}},
		{name: "a payment that is gone", subject: "kassa.payment.failed", payload: map[string]any{"attemptId": "pay_gone"}},
		{name: "an event no one is emailed about", subject: "kassa.payment.succeeded", payload: map[string]any{"attemptId": "pay_declined"}},
		{name: "an event naming nothing", subject: "kassa.payment.failed", payload: map[string]any{}, wantErr: true},
		{name: "payments unreadable for now", subject: "kassa.payment.failed", payload: map[string]any{"attemptId": "pay_declined"},
			payments: fakePayments{err: errors.New("database down")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			email := &fakeChannel{id: "notify.email", caps: []string{notify.CapPersonal}, reply: notify.Delivery{Status: notify.DeliverySent}}
			hook := &fakeChannel{id: "notify.webhook", caps: []string{notify.CapMerchantEvents}, reply: notify.Delivery{Status: notify.DeliverySent}}
			src := tt.payments
			if src == nil {
				src = pays
			}
			d := notify.NewDispatcher(source{email, hook}, notify.Store{Name: "Tea House"}, nil, notify.WithOrders(orders), notify.WithPayments(src))
			e := events.MustNew(tt.subject, tt.payload)
			err := d.HandlePayment(context.Background(), e)
			if (err != nil) != tt.wantErr {
				t.Fatalf("HandlePayment error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && tt.payments == nil && !events.IsPermanent(err) {
				t.Errorf("a malformed event is retried: %v", err)
			}
			if len(hook.sent) != 0 {
				t.Errorf("the webhook channel got %d payment emails", len(hook.sent))
			}
			var want []sent
			if tt.want != nil {
				want = tt.want(e)
			}
			var got []sent
			for _, m := range email.sent {
				got = append(got, sent{m.ID, m.TemplateID, m.Recipient.Email})
				if m.SecretData != nil {
					t.Errorf("%s carries secret data", m.ID)
				}
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(sent{})); diff != "" {
				t.Fatalf("sent (-want +got):\n%s", diff)
			}
			if len(email.sent) == 0 {
				return
			}
			var data map[string]any
			if err := json.Unmarshal(email.sent[0].Data, &data); err != nil {
				t.Fatal(err)
			}
			if data["order"].(map[string]any)["number"] != "#1042" || data["store"].(map[string]any)["name"] != "Tea House" {
				t.Errorf("data %s lacks the order or the store", email.sent[0].Data)
			}
			for k, v := range tt.data {
				if diff := cmp.Diff(v, data[k]); diff != "" {
					t.Errorf("data.%s (-want +got):\n%s", k, diff)
				}
			}
		})
	}

	// Without the ports the dispatcher consumes no payment events.
	if s := notify.NewDispatcher(source{}, notify.Store{}, nil, notify.WithOrders(orders)).PaymentSubjects(); s != nil {
		t.Errorf("subjects without WithPayments: %v", s)
	}
}
