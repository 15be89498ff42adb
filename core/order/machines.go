package order

import (
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/transition"
)

// The names of the order's machines, as the timeline's machine column and
// the Moved payload carry them, and of the timeline rows core/order writes
// itself.
const (
	MachineStatus      = "order.status"
	MachinePayment     = "order.payment_status"
	MachineFulfillment = "order.fulfillment_status"
	// MachineShipment marks a shipment that left the fulfillment status
	// as it was (a second partial shipment).
	MachineShipment = "order.shipment"
	// MachineNote marks a staff note (staff-only).
	MachineNote = "order.note"
	// MachineClaim marks a guest order attached to the buyer who proved
	// its email address.
	MachineClaim = "order.claim"
)

// staffWrite is the permission of staff moves. The system subject (the
// deadline closer) holds every permission.
var staffWrite = transition.Permission(authz.Order, authz.Write)

// Statuses is the order's life, moved by staff (and by the platform's
// schedulers, which hold every permission). The service adds the rules
// that span dimensions: completion needs every unit shipped, cancellation
// nothing shipped and no money moved.
var Statuses = transition.New[Status](MachineStatus).Called("the order").
	Allow(Open, Completed, staffWrite, transition.ReasonOptional, SubjectCompleted).
	Allow(Open, Cancelled, staffWrite, transition.ReasonRequired, SubjectCancelled)

// BuyerStatuses is the one move a buyer makes on the order's life:
// cancelling their own unpaid order (order:write:own). It shares the
// status column and the machine name with Statuses; it is a table of its
// own because its rule names another permission and other callers.
var BuyerStatuses = transition.New[Status](MachineStatus).Called("the order").
	Allow(Open, Cancelled, transition.Who{Object: authz.Order, Action: authz.Own(authz.Write),
		Kinds: []authz.SubjectKind{authz.KindCustomer, authz.KindAnonymous}}, transition.ReasonOptional, SubjectCancelled)

// PaymentStatuses is where the order's money stands. Only the platform
// moves it (verified gateway notifications, the reconciler): the payment
// domain adds its callers. A later attempt may succeed after a failed one.
// PARTIALLY_PAID is money taken short of the total (a partial capture of
// an authorization, or a gateway that took less): a later fact may bring
// it up to PAID, and refunds go from it as from PAID.
var PaymentStatuses = transition.New[PaymentStatus](MachinePayment).Called("the order's payment").
	Allow(PaymentPending, PaymentAuthorized, transition.System, transition.ReasonOptional, SubjectAuthorized).
	Allow(PaymentPending, PaymentPaid, transition.System, transition.ReasonOptional, SubjectPaid).
	Allow(PaymentPending, PaymentPartiallyPaid, transition.System, transition.ReasonOptional, SubjectPartiallyPaid).
	Allow(PaymentPending, PaymentFailed, transition.System, transition.ReasonOptional, SubjectPaymentFailed).
	Allow(PaymentFailed, PaymentAuthorized, transition.System, transition.ReasonOptional, SubjectAuthorized).
	Allow(PaymentFailed, PaymentPaid, transition.System, transition.ReasonOptional, SubjectPaid).
	Allow(PaymentFailed, PaymentPartiallyPaid, transition.System, transition.ReasonOptional, SubjectPartiallyPaid).
	Allow(PaymentAuthorized, PaymentPaid, transition.System, transition.ReasonOptional, SubjectPaid).
	Allow(PaymentAuthorized, PaymentPartiallyPaid, transition.System, transition.ReasonOptional, SubjectPartiallyPaid).
	Allow(PaymentAuthorized, PaymentVoided, transition.System, transition.ReasonOptional, SubjectVoided).
	Allow(PaymentPartiallyPaid, PaymentPaid, transition.System, transition.ReasonOptional, SubjectPaid).
	Allow(PaymentPartiallyPaid, PaymentPartiallyRefunded, transition.System, transition.ReasonOptional, SubjectPartiallyRefunded).
	Allow(PaymentPartiallyPaid, PaymentRefunded, transition.System, transition.ReasonOptional, SubjectRefunded).
	Allow(PaymentPaid, PaymentPartiallyRefunded, transition.System, transition.ReasonOptional, SubjectPartiallyRefunded).
	Allow(PaymentPaid, PaymentRefunded, transition.System, transition.ReasonOptional, SubjectRefunded).
	Allow(PaymentPartiallyRefunded, PaymentRefunded, transition.System, transition.ReasonOptional, SubjectRefunded)

// FulfillmentStatuses is where the order's goods stand, moved by staff
// shipping (Ship) and confirming delivery (MarkDelivered). RETURNED is
// reached by after-sales, which adds its moves.
var FulfillmentStatuses = transition.New[FulfillmentStatus](MachineFulfillment).Called("the order's fulfillment").
	Allow(Unfulfilled, PartiallyFulfilled, staffWrite, transition.ReasonOptional, SubjectShipped).
	Allow(Unfulfilled, Fulfilled, staffWrite, transition.ReasonOptional, SubjectShipped).
	Allow(PartiallyFulfilled, Fulfilled, staffWrite, transition.ReasonOptional, SubjectShipped).
	Allow(Fulfilled, Delivered, staffWrite, transition.ReasonOptional, SubjectDelivered)

// storage binds a machine to its column of orders.
func storage(column string) transition.Storage {
	return transition.Storage{Table: "orders", Key: "id", State: column, Timeline: "order_timeline", TimelineKey: "order_id"}
}
