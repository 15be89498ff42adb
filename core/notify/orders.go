package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/errs"
)

// The order emails' template ids beyond the SDK's: Kassa's order event
// names, which notify.email renders.
const (
	TemplateOrderCancelled       = "order.cancelled"
	TemplateOrderDelivered       = "order.delivered"
	TemplateOrderCompleted       = "order.completed"
	TemplateOrderPaymentReminder = "order.payment_reminder"
)

// CancellationPaymentDeadline is the Cancellation code of an order the
// shop cancelled because it was not paid in time: each locale's template
// words it in its own language.
const CancellationPaymentDeadline = "payment_deadline"

// orderMessages are the order event subjects the dispatcher emails the
// buyer about, with their template.
var orderMessages = map[string]string{
	"kassa.order.placed":           TemplateOrderPlaced,
	"kassa.order.paid":             TemplateOrderPaid,
	"kassa.order.shipped":          TemplateOrderShipped,
	"kassa.order.delivered":        TemplateOrderDelivered,
	"kassa.order.completed":        TemplateOrderCompleted,
	"kassa.order.cancelled":        TemplateOrderCancelled,
	"kassa.order.payment_reminder": TemplateOrderPaymentReminder,
}

// Orders tells the dispatcher what an email about an order says: order
// events name the order and carry no personal data, so the dispatcher
// reads the rest through this port. core/app adapts the order service.
type Orders interface {
	// OrderEmail returns who is told about the order and what they are
	// told, or an error unwrapping to errs.ErrNotFound for no such order.
	OrderEmail(ctx context.Context, orderID string) (*OrderEmail, error)
}

// OrderEmail is the recipient and the data of an email about an order.
type OrderEmail struct {
	Recipient Recipient
	// Locale is the buyer's language (BCP 47); empty is the channel's
	// default.
	Locale string
	Order  OrderData
	// Cancellation is set once the order is cancelled.
	Cancellation *Cancellation
}

// Amount is money as the email templates read it: minor units and an ISO
// 4217 code.
type Amount struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// OrderLine is a line of an order email.
type OrderLine struct {
	Name     string `json:"name"`
	SKU      string `json:"sku,omitempty"`
	Quantity int64  `json:"quantity"`
	Total    Amount `json:"total"`
}

// PostalAddress is an address of an order email.
type PostalAddress struct {
	Name       string   `json:"name,omitempty"`
	Lines      []string `json:"lines"`
	PostalCode string   `json:"postal_code,omitempty"`
	City       string   `json:"city,omitempty"`
	Region     string   `json:"region,omitempty"`
	Country    string   `json:"country"`
}

// OrderData is the order part of an order email's data ("order"), the
// shape notify.email's templates read.
type OrderData struct {
	Number   string      `json:"number"`
	URL      string      `json:"url,omitempty"`
	PlacedAt time.Time   `json:"placed_at"`
	Lines    []OrderLine `json:"lines"`
	Subtotal Amount      `json:"subtotal"`
	Discount Amount      `json:"discount"`
	Shipping Amount      `json:"shipping"`
	Tax      Amount      `json:"tax"`
	Total    Amount      `json:"total"`
	// ShippingAddress is nil for an order that ships nowhere.
	ShippingAddress *PostalAddress `json:"shipping_address,omitempty"`
	// PaymentMethod is shown as what the order was paid with: empty
	// until it is paid.
	PaymentMethod string `json:"payment_method,omitempty"`
	// PaymentDeadline is when an unpaid order is cancelled; nil once it
	// no longer waits for payment.
	PaymentDeadline *time.Time `json:"payment_deadline,omitempty"`
	PaymentURL      string     `json:"payment_url,omitempty"`
}

// Cancellation is why an order was cancelled.
type Cancellation struct {
	Reason string `json:"reason,omitempty"`
	// Code is CancellationPaymentDeadline for an order the shop cancelled
	// at its payment deadline; empty otherwise.
	Code string `json:"code,omitempty"`
}

// WithOrders makes the dispatcher email buyers about their orders
// (HandleOrder), reading the orders through src.
func WithOrders(src Orders) DispatcherOption { return func(d *Dispatcher) { d.orders = src } }

// OrderSubjects are the event filters HandleOrder consumes, one group
// (see Subjects): the order events buyers are emailed about, so the
// consumer is not delivered the others. None without WithOrders.
func (d *Dispatcher) OrderSubjects() [][]string {
	if d.orders == nil {
		return nil
	}
	fs := make([]string, 0, len(orderMessages))
	for s := range orderMessages {
		fs = append(fs, s)
	}
	slices.Sort(fs)
	return [][]string{fs}
}

// WantsOrder reports whether HandleOrder may act on e: an order event
// buyers are emailed about, while a channel delivers to people. For
// delivery.OnlyWanted: no order is read, no row written, for an email
// nobody would send.
func (d *Dispatcher) WantsOrder(ctx context.Context, e events.Event) bool {
	_, ok := orderMessages[e.Subject]
	return ok && d.orders != nil && d.hasChannel(ctx, CapPersonal)
}

// orderEvent is the part of an order event's payload an email needs: the
// order, and for a shipment its parcel.
type orderEvent struct {
	OrderID        string `json:"orderId"`
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"trackingNumber"`
}

// HandleOrder emails the buyer about an order event (placed, paid,
// shipped, delivered, completed, cancelled, payment reminder) through the
// channels that deliver to people, once per event and channel (the
// message id derives from the event id). Other order events are ignored,
// and so is an order that no longer exists. Errors mean "retry later", as
// for Handle.
func (d *Dispatcher) HandleOrder(ctx context.Context, e events.Event) error {
	template, ok := orderMessages[e.Subject]
	if !ok || d.orders == nil {
		return nil
	}
	var ev orderEvent
	if err := e.Decode(&ev); err != nil {
		return events.Permanent(fmt.Errorf("decode %s: %w", e.Subject, err))
	}
	if ev.OrderID == "" {
		return events.Permanent(fmt.Errorf("%s %s names no order", e.Subject, e.ID))
	}
	// Most shops run without an email channel for a while: no order is
	// read for an email nobody would send.
	channels, err := d.channels.Channels(ctx)
	if err != nil {
		return fmt.Errorf("list notification channels: %w", err)
	}
	if !slices.ContainsFunc(channels, func(ch Channel) bool { return ch.Supports(CapPersonal) }) {
		d.log.DebugContext(ctx, "no channel delivers order emails; enable notify.email", "template", template, "event", e.ID)
		return nil
	}
	em, err := d.orders.OrderEmail(ctx, ev.OrderID)
	if errors.Is(err, errs.ErrNotFound) {
		d.log.WarnContext(ctx, "order email about an order that does not exist", "template", template, "event", e.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read order %s for its email: %w", ev.OrderID, err)
	}
	if em.Recipient.Email == "" {
		return nil
	}
	data := map[string]any{"store": d.store, "order": em.Order}
	if template == TemplateOrderShipped && (ev.Carrier != "" || ev.TrackingNumber != "") {
		data["shipment"] = map[string]string{"carrier": ev.Carrier, "tracking_number": ev.TrackingNumber}
	}
	if template == TemplateOrderCancelled && em.Cancellation != nil {
		data["cancellation"] = em.Cancellation
	}
	if template == TemplateOrderPaymentReminder && em.Order.PaymentDeadline == nil {
		// Paid or cancelled since the reminder was due: nothing to remind.
		return nil
	}
	dataJSON, err := json.Marshal(data)
	if err != nil {
		return events.Permanent(fmt.Errorf("encode the data of %s: %w", e.ID, err))
	}
	sent, err := d.deliver(ctx, e, CapPersonal, func(ch Channel) Message {
		return Message{ID: e.ID + "." + ch.ID(), TemplateID: template, Locale: em.Locale, Recipient: em.Recipient, Data: dataJSON}
	})
	if err == nil && sent == 0 {
		d.log.DebugContext(ctx, "no channel took the order email", "template", template, "event", e.ID)
	}
	return err
}
