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

// The payment emails' template ids, which notify.email renders.
const (
	// TemplatePaymentFailed tells the buyer a payment was declined while
	// the order still waits for one: they may try again.
	TemplatePaymentFailed = "payment.failed"
	// TemplatePaymentInstructions gives the buyer what they need to pay
	// offline (bank transfer details), with the amount and reference.
	TemplatePaymentInstructions = "payment.instructions"
	// TemplateStaffOrderPaid tells staff who handle orders that one was
	// paid and can be prepared.
	TemplateStaffOrderPaid = "staff.order_paid"
)

// The payment events the dispatcher emails about (HandlePayment). The buyer's
// own email about an order paid is an order email (HandleOrder); the staff's
// is sent here, on the same event.
const (
	subjectPaymentFailed   = "kassa.payment.failed"
	subjectPaymentPending  = "kassa.payment.pending"
	subjectRefundSucceeded = "kassa.payment.refund_succeeded"
	subjectOrderPaid       = "kassa.order.paid"
)

// actionInstructions is the payment action that is text for the buyer to
// follow (core/payment's ActionInstructions).
const actionInstructions = "INSTRUCTIONS"

// Payments tells the dispatcher what an email about a payment says:
// payment events name the attempt or refund and carry no personal data,
// so the dispatcher reads the rest through this port. core/app adapts
// the order, payment and account services.
type Payments interface {
	// AttemptEmail returns the email about a payment attempt to the
	// order's buyer; errs.ErrNotFound when there is no such attempt.
	AttemptEmail(ctx context.Context, attemptID string) (*PaymentEmail, error)
	// RefundEmail returns the email about a refund of an order to its
	// buyer; errs.ErrNotFound when there is no such refund.
	RefundEmail(ctx context.Context, orderID, refundID string) (*PaymentEmail, error)
	// StaffRecipients are the active staff members told when an order is
	// paid: those whose roles may work on orders (order write).
	StaffRecipients(ctx context.Context) ([]StaffRecipient, error)
}

// PaymentEmail is the recipient and the data of an email about a payment
// or a refund: the order email's, with the payment or the refund.
type PaymentEmail struct {
	OrderEmail
	Payment *PaymentData
	Refund  *RefundData
}

// PaymentData is the payment part of a payment email's data ("payment"),
// the shape notify.email's templates read.
type PaymentData struct {
	// State is the attempt's state (FAILED, PENDING, ...).
	State  string `json:"state"`
	Amount Amount `json:"amount"`
	// DeclineCode and Message are the gateway's reason for a decline, the
	// message meant for the buyer.
	DeclineCode string `json:"decline_code,omitempty"`
	Message     string `json:"message,omitempty"`
	// Action is the buyer's next step (REDIRECT, INSTRUCTIONS, ...);
	// Instructions its text for INSTRUCTIONS (bank details, reference).
	Action       string `json:"action,omitempty"`
	Instructions string `json:"instructions,omitempty"`
	// Reference is what the buyer quotes with an offline payment: the
	// order number.
	Reference string `json:"reference,omitempty"`
	// ExpiresAt is when the action stops working, if it does.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// RefundData is the refund part of a refund email's data ("refund").
type RefundData struct {
	Amount Amount `json:"amount"`
}

// StaffRecipient is a staff member told about paid orders.
type StaffRecipient struct {
	// ID is the staff member's id: part of the message id, so each gets
	// their own message.
	ID        string
	Recipient Recipient
}

// WithPayments makes the dispatcher email buyers about their payments
// and staff about paid orders (HandlePayment), reading them through src.
func WithPayments(src Payments) DispatcherOption { return func(d *Dispatcher) { d.payments = src } }

// PaymentSubjects are the event filters HandlePayment consumes, in
// groups (see Subjects): the payment events it emails about (the first
// group, which took kassa.payment.> in existing streams), and the order
// paid. None without WithPayments and WithOrders.
func (d *Dispatcher) PaymentSubjects() [][]string {
	if d.payments == nil || d.orders == nil {
		return nil
	}
	return [][]string{{subjectPaymentFailed, subjectPaymentPending, subjectRefundSucceeded}, {subjectOrderPaid}}
}

// WantsPayment reports whether HandlePayment may act on e: one of the
// payment events it emails about, while a channel delivers to people.
// For delivery.OnlyWanted.
func (d *Dispatcher) WantsPayment(ctx context.Context, e events.Event) bool {
	switch e.Subject {
	case subjectPaymentFailed, subjectPaymentPending, subjectRefundSucceeded, subjectOrderPaid:
	default:
		return false
	}
	return d.payments != nil && d.orders != nil && d.hasChannel(ctx, CapPersonal)
}

// paymentEvent is the part of a payment event's payload an email needs.
type paymentEvent struct {
	AttemptID string `json:"attemptId"`
	RefundID  string `json:"refundId"`
	OrderID   string `json:"orderId"`
}

// HandlePayment emails about payments, once per event, recipient and
// channel (the message id derives from them), through the channels that
// deliver to people:
//   - a declined payment (kassa.payment.failed) tells the buyer, while the
//     order still waits for payment, that they may try again;
//   - a payment that waits for the buyer with instructions to follow
//     (kassa.payment.pending, a bank transfer whose creation had no
//     answer at first) gives the buyer the instructions and the amount;
//   - a refund that succeeded (kassa.payment.refund_succeeded) tells the
//     buyer how much comes back;
//   - an order paid (kassa.order.paid) tells the staff who work on orders.
//
// Other events are ignored, and so is an attempt, refund or order that
// no longer exists. Errors mean "retry later", as for Handle.
func (d *Dispatcher) HandlePayment(ctx context.Context, e events.Event) error {
	switch e.Subject {
	case subjectPaymentFailed, subjectPaymentPending, subjectRefundSucceeded, subjectOrderPaid:
	default:
		return nil
	}
	if d.payments == nil || d.orders == nil {
		return nil
	}
	var ev paymentEvent
	if err := e.Decode(&ev); err != nil {
		return events.Permanent(fmt.Errorf("decode %s: %w", e.Subject, err))
	}
	channels, err := d.channels.Channels(ctx)
	if err != nil {
		return fmt.Errorf("list notification channels: %w", err)
	}
	if !slices.ContainsFunc(channels, func(ch Channel) bool { return ch.Supports(CapPersonal) }) {
		d.log.DebugContext(ctx, "no channel delivers payment emails; enable notify.email", "event", e.ID)
		return nil
	}
	if e.Subject == subjectOrderPaid {
		return d.staffOrderPaid(ctx, e, ev.OrderID)
	}
	var (
		em       *PaymentEmail
		template string
	)
	switch e.Subject {
	case subjectRefundSucceeded:
		if ev.OrderID == "" || ev.RefundID == "" {
			return events.Permanent(fmt.Errorf("%s %s names no refund", e.Subject, e.ID))
		}
		template = TemplateOrderRefunded
		em, err = d.payments.RefundEmail(ctx, ev.OrderID, ev.RefundID)
	default:
		if ev.AttemptID == "" {
			return events.Permanent(fmt.Errorf("%s %s names no payment", e.Subject, e.ID))
		}
		em, err = d.payments.AttemptEmail(ctx, ev.AttemptID)
	}
	if errors.Is(err, errs.ErrNotFound) {
		d.log.WarnContext(ctx, "payment email about a payment that does not exist", "event", e.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the payment of %s for its email: %w", e.ID, err)
	}
	data := map[string]any{"store": d.store, "order": em.Order}
	switch e.Subject {
	case subjectPaymentFailed:
		// Paid by another attempt, or cancelled, since: nothing to retry.
		if em.Order.PaymentDeadline == nil || em.Payment == nil || em.Payment.State != "FAILED" {
			return nil
		}
		template = TemplatePaymentFailed
		data["payment"] = em.Payment
	case subjectPaymentPending:
		// Only instructions are worth an email: a redirect or a QR code
		// is shown while the buyer is on the page.
		if em.Order.PaymentDeadline == nil || em.Payment == nil || em.Payment.Action != actionInstructions || em.Payment.Instructions == "" {
			return nil
		}
		template = TemplatePaymentInstructions
		data["payment"] = em.Payment
	case subjectRefundSucceeded:
		if em.Refund == nil {
			return nil
		}
		data["refund"] = em.Refund
	}
	if em.Recipient.Email == "" {
		return nil
	}
	dataJSON, err := json.Marshal(data)
	if err != nil {
		return events.Permanent(fmt.Errorf("encode the data of %s: %w", e.ID, err))
	}
	sent, err := d.deliver(ctx, e, CapPersonal, func(ch Channel) Message {
		// The event id and the channel: a redelivered event is the same
		// message. No other consumer sends about these events to the
		// buyer, so the ids do not meet the order emails'.
		return Message{ID: e.ID + "." + ch.ID(), TemplateID: template, Locale: em.Locale, Recipient: em.Recipient, Data: dataJSON}
	})
	if err == nil && sent == 0 {
		d.log.DebugContext(ctx, "no channel took the payment email", "template", template, "event", e.ID)
	}
	return err
}

// staffOrderPaid tells every staff member who works on orders that one
// was paid, each in a message of their own.
func (d *Dispatcher) staffOrderPaid(ctx context.Context, e events.Event, orderID string) error {
	if orderID == "" {
		return events.Permanent(fmt.Errorf("%s %s names no order", e.Subject, e.ID))
	}
	staff, err := d.payments.StaffRecipients(ctx)
	if err != nil {
		return fmt.Errorf("list the staff to tell about %s: %w", e.ID, err)
	}
	if len(staff) == 0 {
		return nil
	}
	em, err := d.orders.OrderEmail(ctx, orderID)
	if errors.Is(err, errs.ErrNotFound) {
		d.log.WarnContext(ctx, "staff email about an order that does not exist", "event", e.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read order %s for the staff's email: %w", orderID, err)
	}
	data := map[string]any{"store": d.store, "order": em.Order, "customer": map[string]string{"email": em.Recipient.Email, "name": em.Recipient.Name}}
	dataJSON, err := json.Marshal(data)
	if err != nil {
		return events.Permanent(fmt.Errorf("encode the data of %s: %w", e.ID, err))
	}
	var retry []error
	for _, st := range staff {
		if st.Recipient.Email == "" {
			continue
		}
		// One message per staff member: its id names them, and differs
		// from the buyer's order email about the same event.
		if _, err := d.deliver(ctx, e, CapPersonal, func(ch Channel) Message {
			return Message{ID: e.ID + ".staff." + st.ID + "." + ch.ID(), TemplateID: TemplateStaffOrderPaid, Recipient: st.Recipient, Data: dataJSON}
		}); err != nil {
			retry = append(retry, err)
		}
	}
	return errors.Join(retry...)
}
