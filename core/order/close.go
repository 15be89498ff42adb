package order

import (
	"context"
)

// PaymentCloser is the payment domain as every cancellation needs it
// (staff, bulk, the buyer, the deadline closer): an open order may have
// payment attempts still waiting at their gateways (a redirect page, a QR
// code), and the buyer could pay one after the order was cancelled and
// its stock released. Before a cancellation the closer closes them there;
// the order is cancelled only when all are closed unpaid. core/app hands
// the payment service to Service.UsePaymentCloser; an order service
// without one cancels without asking (a shop without payments, tests).
type PaymentCloser interface {
	// ClosePayments closes the open payment attempts of o at their
	// gateways, and keeps new ones from starting until the cancellation's
	// transaction ends (or a short lease lapses). It runs outside any
	// transaction (it calls gateways), why being the payment domain's
	// name of the cause (expire, cancel). ExpireNow: o may be cancelled;
	// KeepPaid: a gateway said o was paid and its payment was applied;
	// KeepPending: an attempt could not be closed (its gateway did not
	// answer) or a payment is being started.
	ClosePayments(ctx context.Context, o *Order, why string) (ExpiryVerdict, error)
	// PaymentsClosed is asked in the cancellation's transaction, before
	// the order moves, after ClosePayments answered ExpireNow: false when
	// a payment of o started since (the close's lease ran out), and the
	// order must not be cancelled now.
	PaymentsClosed(ctx context.Context, o *Order) (bool, error)
}

// The causes a PaymentCloser is given.
const (
	closeExpired   = "expire"
	closeCancelled = "cancel"
)

// UsePaymentCloser sets the payment domain every cancellation asks
// first. It is called once, while the application is wired (the payment
// service needs the order service, so it comes after it), before the
// service is used.
func (s *Service) UsePaymentCloser(c PaymentCloser) { s.closer = c }

// closePayments asks the payment closer, if any, to close o's payments
// before it is cancelled, and says why not when it must not be:
// ORDER_PAYMENT_NOT_PENDING when a gateway said it was paid (the payment
// was applied), ORDER_PAYMENT_OPEN (retryable) when an attempt could not
// be closed. A gateway that cannot be reached refuses the cancellation
// rather than cancelling with money possibly on its way, as Stripe
// refuses to cancel a PaymentIntent that is processing.
func (s *Service) closePayments(ctx context.Context, o *Order, why string) error {
	if s.closer == nil {
		return nil
	}
	v, err := s.closer.ClosePayments(ctx, o, why)
	switch {
	case err != nil:
		return err
	case v == KeepPaid:
		return paidMeanwhile(o)
	case v == KeepPending:
		return paymentOpen(o)
	}
	return nil
}

// paymentsClosed checks, in the cancellation's transaction, that no
// payment of o started since closePayments: ORDER_PAYMENT_OPEN if one did.
func (s *Service) paymentsClosed(ctx context.Context, o *Order) error {
	if s.closer == nil {
		return nil
	}
	ok, err := s.closer.PaymentsClosed(ctx, o)
	if err != nil {
		return err
	}
	if !ok {
		return paymentOpen(o)
	}
	return nil
}
