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

// fakeOrders answers OrderEmail from a map.
type fakeOrders struct {
	m   map[string]*notify.OrderEmail
	err error
}

func (f fakeOrders) OrderEmail(_ context.Context, id string) (*notify.OrderEmail, error) {
	if f.err != nil {
		return nil, f.err
	}
	em, ok := f.m[id]
	if !ok {
		return nil, errs.NotFound("ORDER_NOT_FOUND", "no such order")
	}
	return em, nil
}

func TestHandleOrder(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)
	cny := func(n int64) notify.Amount { return notify.Amount{Amount: n, Currency: "CNY"} }
	unpaid := &notify.OrderEmail{
		Recipient: notify.Recipient{Email: "wang@example.com", Name: "王小明"},
		Order: notify.OrderData{Number: "#1042", PlacedAt: deadline.Add(-30 * time.Minute),
			Lines:    []notify.OrderLine{{Name: "Oolong Tea – 100 g", SKU: "TEA-1", Quantity: 2, Total: cny(2500)}},
			Subtotal: cny(2500), Discount: cny(0), Shipping: cny(1000), Tax: cny(141), Total: cny(3500),
			ShippingAddress: &notify.PostalAddress{Name: "王小明", Lines: []string{"西湖区文三路 1 号"}, City: "杭州", Country: "CN"},
			PaymentDeadline: &deadline},
	}
	cancelled := *unpaid
	cancelled.Order.PaymentDeadline = nil
	cancelled.Cancellation = &notify.Cancellation{Reason: "payment deadline passed", Code: notify.CancellationPaymentDeadline}
	orders := fakeOrders{m: map[string]*notify.OrderEmail{"ord_unpaid": unpaid, "ord_cancelled": &cancelled}}
	store := notify.Store{Name: "Teahouse", URL: "https://tea.example"}

	tests := []struct {
		name     string
		subject  string
		payload  map[string]any
		orders   notify.Orders
		template string
		// data holds the parts of the message's data checked, besides
		// the store and the order.
		data    map[string]any
		wantErr bool
	}{
		{name: "placed", subject: "kassa.order.placed", payload: map[string]any{"orderId": "ord_unpaid", "number": "#1042"},
			template: notify.TemplateOrderPlaced},
		{name: "shipped with its parcel", subject: "kassa.order.shipped",
			payload:  map[string]any{"orderId": "ord_unpaid", "shipmentId": "shp_1", "carrier": "SF Express", "trackingNumber": "SF123"},
			template: notify.TemplateOrderShipped, data: map[string]any{"shipment": map[string]any{"carrier": "SF Express", "tracking_number": "SF123"}}},
		{name: "cancelled at the deadline", subject: "kassa.order.cancelled", payload: map[string]any{"orderId": "ord_cancelled", "reason": "payment deadline passed"},
			template: notify.TemplateOrderCancelled, data: map[string]any{"cancellation": map[string]any{"reason": "payment deadline passed", "code": "payment_deadline"}}},
		{name: "payment reminder", subject: "kassa.order.payment_reminder", payload: map[string]any{"orderId": "ord_unpaid"},
			template: notify.TemplateOrderPaymentReminder},
		{name: "reminder of an order no longer unpaid", subject: "kassa.order.payment_reminder", payload: map[string]any{"orderId": "ord_cancelled"}},
		{name: "delivered", subject: "kassa.order.delivered", payload: map[string]any{"orderId": "ord_unpaid"}, template: notify.TemplateOrderDelivered},
		{name: "completed", subject: "kassa.order.completed", payload: map[string]any{"orderId": "ord_unpaid"}, template: notify.TemplateOrderCompleted},
		{name: "an event buyers get no email about", subject: "kassa.order.authorized", payload: map[string]any{"orderId": "ord_unpaid"}},
		{name: "an order that is gone", subject: "kassa.order.placed", payload: map[string]any{"orderId": "ord_gone"}},
		{name: "orders unreadable for now", subject: "kassa.order.placed", payload: map[string]any{"orderId": "ord_unpaid"},
			orders: fakeOrders{err: errors.New("database down")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			email := &fakeChannel{id: "notify.email", caps: []string{notify.CapPersonal}, reply: notify.Delivery{Status: notify.DeliverySent}}
			hook := &fakeChannel{id: "notify.webhook", caps: []string{notify.CapMerchantEvents}, reply: notify.Delivery{Status: notify.DeliverySent}}
			src := tt.orders
			if src == nil {
				src = orders
			}
			d := notify.NewDispatcher(source{email, hook}, store, nil, notify.WithOrders(src))
			e := events.MustNew(tt.subject, tt.payload)
			err := d.HandleOrder(context.Background(), e)
			if (err != nil) != tt.wantErr {
				t.Fatalf("HandleOrder error = %v, want error %v", err, tt.wantErr)
			}
			if len(hook.sent) != 0 {
				t.Errorf("the webhook channel got %d order emails", len(hook.sent))
			}
			if tt.template == "" {
				if len(email.sent) != 0 {
					t.Fatalf("sent %+v, want nothing", email.sent)
				}
				return
			}
			if len(email.sent) != 1 {
				t.Fatalf("sent %d messages, want 1", len(email.sent))
			}
			m := email.sent[0]
			if m.ID != e.ID+".notify.email" || m.TemplateID != tt.template || m.Recipient.Email != "wang@example.com" || m.SecretData != nil {
				t.Errorf("message %s template %s to %+v (secret %s)", m.ID, m.TemplateID, m.Recipient, m.SecretData)
			}
			var data map[string]any
			if err := json.Unmarshal(m.Data, &data); err != nil {
				t.Fatal(err)
			}
			order := data["order"].(map[string]any)
			if order["number"] != "#1042" || order["total"].(map[string]any)["amount"] != float64(3500) || data["store"].(map[string]any)["name"] != "Teahouse" {
				t.Errorf("data %s lacks the order or the store", m.Data)
			}
			for k, want := range tt.data {
				if diff := cmp.Diff(want, data[k]); diff != "" {
					t.Errorf("data.%s (-want +got):\n%s", k, diff)
				}
			}
			for _, k := range []string{"shipment", "cancellation"} {
				if _, ok := tt.data[k]; !ok && data[k] != nil {
					t.Errorf("data.%s = %v, want none", k, data[k])
				}
			}
		})
	}
}

func TestHandleOrderWithoutOrders(t *testing.T) {
	t.Parallel()
	email := &fakeChannel{id: "notify.email", caps: []string{notify.CapPersonal}, reply: notify.Delivery{Status: notify.DeliverySent}}
	d := notify.NewDispatcher(source{email}, notify.Store{}, nil)
	if got := d.OrderSubjects(); got != nil {
		t.Errorf("order subjects %v without an order source", got)
	}
	if err := d.HandleOrder(context.Background(), events.MustNew("kassa.order.placed", map[string]any{"orderId": "ord_1"})); err != nil || len(email.sent) != 0 {
		t.Errorf("HandleOrder: %v, %d sent; want nothing", err, len(email.sent))
	}
}

// countingOrders counts the orders read.
type countingOrders struct{ n int }

func (c *countingOrders) OrderEmail(context.Context, string) (*notify.OrderEmail, error) {
	c.n++
	return &notify.OrderEmail{Recipient: notify.Recipient{Email: "a@example.com"}, Order: notify.OrderData{Number: "#1"}}, nil
}

// TestHandleOrderWithoutEmailChannel: with no channel that delivers to
// people (only webhooks), order events read no order and send nothing.
func TestHandleOrderWithoutEmailChannel(t *testing.T) {
	t.Parallel()
	hook := &fakeChannel{id: "notify.webhook", caps: []string{notify.CapMerchantEvents}, reply: notify.Delivery{Status: notify.DeliverySent}}
	orders := &countingOrders{}
	d := notify.NewDispatcher(source{hook}, notify.Store{}, nil, notify.WithOrders(orders))
	if err := d.HandleOrder(context.Background(), events.MustNew("kassa.order.placed", map[string]any{"orderId": "ord_1"})); err != nil {
		t.Fatal(err)
	}
	if orders.n != 0 || len(hook.sent) != 0 {
		t.Errorf("%d orders read, %d sent; want none", orders.n, len(hook.sent))
	}
}
