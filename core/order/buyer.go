package order

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
)

// buyerCancellablePayments: a buyer cancels only an order nothing was paid
// for yet (a declined payment took nothing).
var buyerCancellablePayments = []PaymentStatus{PaymentPending, PaymentFailed}

// CancelUnpaid lets a buyer cancel their own order while it waits for
// payment and nothing shipped: a signed-in buyer names it by id, a guest
// by the access token returned at checkout. Needs order write:own; another
// buyer's order, or a wrong token, is not found. The order's stock is
// released and kassa.order.cancelled emitted in the same transaction.
// Refused with ORDER_PAYMENT_NOT_PENDING once a payment was authorized,
// taken or failed, and ORDER_ALREADY_SHIPPED once something shipped. As
// Cancel, it first closes the order's open payments at their gateways:
// ORDER_PAYMENT_NOT_PENDING when the buyer paid meanwhile,
// ORDER_PAYMENT_OPEN (retryable) when one could not be closed.
func (s *Service) CancelUnpaid(ctx context.Context, in CancelUnpaidInput) (*Order, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Order, authz.Write); err != nil {
		return nil, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	var v errs.Validator
	v.Check(in.OrderID != "" || in.AccessToken != "", "orderId", CodeRequired, "name the order")
	v.Check(utf8.RuneCountInString(in.Reason) <= MaxReason, "reason", CodeTooLong, fmt.Sprintf("at most %d characters", MaxReason))
	if err := v.Err(); err != nil {
		return nil, err
	}
	o, err := s.ownOrder(ctx, in.OrderID, in.AccessToken)
	if err != nil {
		return nil, err
	}
	if err := cancellable(BuyerStatuses, o, buyerCancellablePayments); err != nil {
		return nil, err
	}
	if err := s.closePayments(ctx, o, closeCancelled); err != nil {
		return nil, err
	}
	var out *Order
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		o, err := s.ownOrder(ctx, in.OrderID, in.AccessToken)
		if err != nil {
			return err
		}
		if err := cancellable(BuyerStatuses, o, buyerCancellablePayments); err != nil {
			return err
		}
		if err := s.paymentsClosed(ctx, o); err != nil {
			return err
		}
		out, err = s.cancel(ctx, o, s.buyerStatuses, in.Reason, buyerCancellablePayments)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ownOrder finds the order a buyer names: by its access token (a guest, or
// a buyer holding the token), or by id when it is the signed-in buyer's.
// Anything else is not found, so a buyer learns nothing of others' orders.
func (s *Service) ownOrder(ctx context.Context, orderID, token string) (*Order, error) {
	if token != "" {
		o, err := s.store.OrderByTokenHash(ctx, hashToken(token))
		if err != nil {
			return nil, err
		}
		if orderID != "" && orderID != o.ID {
			return nil, orderNotFound()
		}
		return o, nil
	}
	o, err := s.store.OrderByID(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if !ownedByCaller(ctx, o) {
		return nil, orderNotFound()
	}
	return o, nil
}

// ClaimGuestOrders attaches to the signed-in buyer every order placed as a
// guest with the email address of their account, once they proved they
// own it (a verified address, as Options.Customers says; nothing else
// counts as proof). Each claimed order gets a timeline entry, and its
// guest access token stops working: the order is the account's now, and
// the token has travelled in links, emails and gateways' return URLs,
// where it must no longer read or cancel it. It returns
// how many orders were claimed; calling it again claims only orders
// placed as a guest since. Needs order write:own and a signed-in buyer;
// EMAIL_NOT_VERIFIED until the address is verified.
func (s *Service) ClaimGuestOrders(ctx context.Context) (int, error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Own(authz.Write)); err != nil {
		return 0, err
	}
	sub := authz.SubjectFrom(ctx)
	if sub.Kind != authz.KindCustomer || sub.ID == "" {
		return 0, errs.Unauthenticated("sign in to claim your orders")
	}
	email, verified, err := s.customers.VerifiedEmail(ctx, sub.ID)
	if err != nil {
		return 0, err
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if !verified || email == "" {
		return 0, errs.Forbidden(CodeEmailNotVerified, "verify your email address to see the orders you placed as a guest")
	}
	var n int
	err = s.db.RunInTx(ctx, func(ctx context.Context) error {
		claimed, err := s.store.ClaimGuestOrders(ctx, sub.ID, email, s.now())
		if err != nil {
			return err
		}
		for _, c := range claimed {
			if err := s.note(ctx, c.ID, MachineClaim, "", "", VisibleToBuyer, "", nil); err != nil {
				return err
			}
		}
		n = len(claimed)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
