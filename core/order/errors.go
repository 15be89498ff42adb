package order

import (
	"fmt"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/transition"
)

// The stable error codes of the order domain. Clients switch on them;
// never change a released one. Moves refused by a transition table carry
// the codes of core/transition (INVALID_TRANSITION, TRANSITION_FORBIDDEN,
// REASON_REQUIRED).
const (
	// CodeOrderNotFound: no such order, or not one the caller may reach
	// (another buyer's order does not exist for a buyer).
	CodeOrderNotFound = "ORDER_NOT_FOUND"
	// CodeStaleState: the order changed between the moment it was read
	// and the moment the change was applied (another staff member, a
	// payment notification); nothing was written. The same code as
	// core/transition's, since it means the same thing to a client.
	CodeStaleState = transition.CodeStaleState
	// CodeReasonRequired: a cancellation without a reason, one order's
	// or many's (core/transition's code for a move that needs a reason).
	CodeReasonRequired = transition.CodeReasonRequired
	// CodeNotOpen: the order is completed or cancelled.
	CodeNotOpen = "ORDER_NOT_OPEN"
	// CodeAlreadyShipped: a cancellation of an order of which something
	// has shipped.
	CodeAlreadyShipped = "ORDER_ALREADY_SHIPPED"
	// CodePaymentNotPending: a cancellation of an order whose money moved
	// (authorized, paid, refunded): it needs a void or a refund first.
	CodePaymentNotPending = "ORDER_PAYMENT_NOT_PENDING"
	// CodePaymentOpen: a cancellation refused because a payment of the
	// order is still open at its gateway: the gateway could not be
	// reached to close it, or a payment was being started. Nothing was
	// cancelled; retry in a moment.
	CodePaymentOpen = "ORDER_PAYMENT_OPEN"
	// CodeNotFulfilled: completion of an order with units still to ship.
	CodeNotFulfilled = "ORDER_NOT_FULFILLED"
	// CodeNothingToShip: a shipment of an order whose every unit shipped.
	CodeNothingToShip = "ORDER_NOTHING_TO_SHIP"
	// CodeTooManyUnpaidOrders: the buyer, or their network, already holds
	// as many orders awaiting payment as the shop allows
	// (shop.Settings.UnpaidOrdersPerBuyer).
	CodeTooManyUnpaidOrders = "TOO_MANY_UNPAID_ORDERS"
	// CodeCartAlreadyPlaced: the cart already placed an order.
	CodeCartAlreadyPlaced = "CART_ALREADY_PLACED"
	// CodeEmailNotVerified: guest orders are claimed by a buyer whose
	// email address is verified only.
	CodeEmailNotVerified = "EMAIL_NOT_VERIFIED"

	CodeRequired         = "REQUIRED"
	CodeTooLong          = "TOO_LONG"
	CodeTooMany          = "TOO_MANY"
	CodeInvalidQuantity  = "INVALID_QUANTITY"
	CodeInvalidCurrency  = "INVALID_CURRENCY"
	CodeInvalidAmount    = "INVALID_AMOUNT"
	CodeUnknownLine      = "UNKNOWN_LINE"
	CodeDuplicateLine    = "DUPLICATE_LINE"
	CodeInvalidStatus    = "INVALID_STATUS"
	CodeInvalidDateRange = "INVALID_DATE_RANGE"
	CodeInvalidSortKey   = "INVALID_SORT_KEY"
	CodeInvalidCursor    = "INVALID_CURSOR"
	CodeInvalidLimit     = "INVALID_LIMIT"
)

func orderNotFound() *errs.Error { return errs.NotFound(CodeOrderNotFound, "no such order") }

// stale is the error of a caller whose view of the order is out of date.
func stale(orderID string) *errs.Error {
	return errs.Conflict("", CodeStaleState, fmt.Sprintf("order %s changed meanwhile; read it again", orderID))
}

func notOpen(o *Order) *errs.Error {
	return errs.Conflict("", CodeNotOpen, fmt.Sprintf("order %s is %s", o.Number, o.Status))
}

func paymentOpen(o *Order) *errs.Error {
	return errs.Conflict("", CodePaymentOpen, fmt.Sprintf("a payment of order %s is still open at its gateway (it could not be closed, or one is being started); nothing was cancelled: try again in a moment", o.Number))
}

func paidMeanwhile(o *Order) *errs.Error {
	return errs.Conflict("", CodePaymentNotPending, fmt.Sprintf("order %s was paid at its gateway meanwhile: its payment must be voided or refunded first", o.Number))
}
