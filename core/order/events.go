package order

import (
	"context"
	"time"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/money"
)

// The order's event subjects. Payloads name the order (not a copy of it,
// and no personal data: consumers read what they need through the
// service); moves of a status dimension carry the move (Moved).
const (
	// SubjectPlaced: checkout placed an order, its stock is reserved
	// and it waits for payment until its deadline (Placed).
	SubjectPlaced = "kassa.order.placed"
	// SubjectCancelled: the order was cancelled and its reserved stock
	// released (Moved).
	SubjectCancelled = "kassa.order.cancelled"
	// SubjectShipped: a shipment left with some or all of the order's
	// units (Shipped).
	SubjectShipped = "kassa.order.shipped"
	// SubjectDelivered: every shipment of the order arrived (Moved).
	SubjectDelivered = "kassa.order.delivered"
	// SubjectCompleted: staff closed a fulfilled order (Moved).
	SubjectCompleted = "kassa.order.completed"
	// SubjectPaymentReminder: the buyer of an unpaid order is due a
	// reminder before its deadline (Reminder). Emitted by the reminder
	// scheduler.
	SubjectPaymentReminder = "kassa.order.payment_reminder"

	// The moves of the payment status, made by the payment domain's
	// callers (Moved).
	SubjectAuthorized        = "kassa.order.authorized"
	SubjectPaid              = "kassa.order.paid"
	SubjectPartiallyPaid     = "kassa.order.partially_paid"
	SubjectPaymentFailed     = "kassa.order.payment_failed"
	SubjectVoided            = "kassa.order.voided"
	SubjectPartiallyRefunded = "kassa.order.partially_refunded"
	SubjectRefunded          = "kassa.order.refunded"
)

// Outbox records events in the caller's transaction; they leave for the
// bus once it committed. core/events' Outbox implements it.
type Outbox interface {
	Add(ctx context.Context, e events.Event) error
}

// PlacedEvent is the payload of kassa.order.placed.
type PlacedEvent struct {
	OrderID string `json:"orderId"`
	Number  string `json:"number"`
	// CustomerID is empty for a guest's order.
	CustomerID      string      `json:"customerId,omitempty"`
	Total           money.Money `json:"total"`
	PaymentDeadline time.Time   `json:"paymentDeadline"`
}

// Moved is the payload of the events of a status move: which order, which
// dimension (the machine, "order.status"), from and to which state, and
// why. The timeline row written with the move names the event (its
// event_id), not the other way round.
type Moved struct {
	OrderID    string `json:"orderId"`
	Number     string `json:"number"`
	CustomerID string `json:"customerId,omitempty"`
	Machine    string `json:"machine"`
	From       string `json:"from"`
	To         string `json:"to"`
	Reason     string `json:"reason,omitempty"`
}

// ShippedEvent is the payload of kassa.order.shipped. From and To are
// equal when a further partial shipment left the fulfillment status as it
// was.
type ShippedEvent struct {
	Moved
	ShipmentID     string `json:"shipmentId"`
	Carrier        string `json:"carrier,omitempty"`
	TrackingNumber string `json:"trackingNumber,omitempty"`
}

// Reminder is the payload of kassa.order.payment_reminder.
type Reminder struct {
	OrderID         string    `json:"orderId"`
	Number          string    `json:"number"`
	CustomerID      string    `json:"customerId,omitempty"`
	PaymentDeadline time.Time `json:"paymentDeadline"`
}

// moved builds the payload of a move of o.
func moved(o *Order, machine, from, to, reason string) Moved {
	m := Moved{OrderID: o.ID, Number: o.Number, Machine: machine, From: from, To: to, Reason: reason}
	if o.CustomerID != nil {
		m.CustomerID = *o.CustomerID
	}
	return m
}
