package notify

import (
	"context"
	"encoding/json"
	"errors"
)

// ErrOutcomeUnknown means a Send may or may not have delivered: retry with
// the same message id, which the channel deduplicates.
var ErrOutcomeUnknown = errors.New("notify: delivery outcome unknown")

// Channel delivers notifications: email, merchant webhooks, SMS. core/plugin
// adapts notification plugins to it.
type Channel interface {
	// ID is the channel's plugin id, e.g. "notify.email".
	ID() string
	// Supports reports whether the channel declared a capability
	// (CapPersonal, CapMerchantEvents).
	Supports(capability string) bool
	// Send delivers one message, idempotently by Message.ID. A refused
	// delivery is data (DeliveryFailed), not an error.
	Send(ctx context.Context, msg Message) (Delivery, error)
}

// Channel capabilities.
const (
	// CapPersonal channels deliver to the person in Recipient; only they
	// receive account messages, whose SecretData holds sign-in links.
	CapPersonal = "personal"
	// CapMerchantEvents channels forward shop events to the merchant's own
	// systems.
	CapMerchantEvents = "merchant_events"
)

// Template ids the core sends.
const (
	TemplateOrderPlaced          = "order.placed"
	TemplateOrderPaid            = "order.paid"
	TemplateOrderShipped         = "order.shipped"
	TemplateOrderRefunded        = "order.refunded"
	TemplateAccountVerifyEmail   = "account.verify_email"
	TemplateAccountPasswordReset = "account.password_reset"
	TemplateStaffInvitation      = "staff.invitation"
)

// Recipient is who receives a message; each channel uses the fields it needs.
type Recipient struct {
	Email string
	Phone string // E.164
	URL   string // webhook endpoint
	Name  string
}

// Message is one notification.
type Message struct {
	// ID is unique and the idempotency key of the delivery.
	ID         string
	TemplateID string
	Locale     string
	Recipient  Recipient
	StoreID    string
	// Data is the template data, a JSON object.
	Data json.RawMessage
	// SecretData holds values never logged nor kept (a password-reset link).
	SecretData json.RawMessage
}

// DeliveryStatus is the state of a delivery.
type DeliveryStatus string

// The delivery states.
const (
	DeliveryUnknown DeliveryStatus = "UNKNOWN"
	DeliverySent    DeliveryStatus = "SENT"
	DeliveryQueued  DeliveryStatus = "QUEUED"
	DeliveryFailed  DeliveryStatus = "FAILED"
)

// Delivery is the outcome of Send.
type Delivery struct {
	ID           string // the channel's delivery id
	Status       DeliveryStatus
	Retryable    bool // a failed delivery may succeed later
	ErrorCode    string
	ErrorMessage string
}
