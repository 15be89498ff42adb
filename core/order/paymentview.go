package order

import (
	"context"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/money"
)

// PaymentView is an order as the payments read it: its statuses, what
// the buyer owes, the deadline and the buyer, from the order's row
// alone. Paying an order reads it several times (creating the attempt,
// applying the capture, moving the order's status), and none of those
// needs the lines, shipments, notes or timeline that Get loads.
type PaymentView struct {
	ID     string
	Number string
	// CustomerID is the buyer's account; nil for a guest.
	CustomerID    *string
	Email         string
	Status        Status
	PaymentStatus PaymentStatus
	// PaymentMethod is the gateway plugin the buyer chose or paid with
	// (Order.PaymentMethod); MovePaymentOf writes it with the status.
	PaymentMethod string
	// Total is what the buyer owes; Shipping the shipping part of it.
	Total    money.Money
	Shipping money.Money
	// Tax is the order's tax, part of Total; TaxIncluded says whether
	// it is also part of the lines' and the shipping's prices, or was
	// added to them. A refund of the shipping needs both to give back
	// the shipping's tax as well.
	Tax             money.Money
	TaxIncluded     bool
	PaymentDeadline time.Time
	// BillingCountry and ShippingCountry are the addresses' ISO 3166-1
	// alpha-2 codes; ShippingCountry is empty when nothing is shipped.
	BillingCountry  string
	ShippingCountry string
}

func paymentView(o *Order) *PaymentView {
	return &PaymentView{
		ID: o.ID, Number: o.Number, CustomerID: o.CustomerID, Email: o.Email,
		Status: o.Status, PaymentStatus: o.PaymentStatus, PaymentMethod: o.PaymentMethod,
		Total: money.New(o.TotalAmount, o.Currency), Shipping: money.New(o.ShippingAmount, o.Currency),
		Tax: money.New(o.TaxAmount, o.Currency), TaxIncluded: o.TaxIncluded, PaymentDeadline: o.PaymentDeadline,
		BillingCountry: o.BillingAddress.CountryCode, ShippingCountry: o.ShippingAddress.CountryCode,
	}
}

// PaymentView returns the payment's view of an order in one query, to
// the callers Get answers: staff with order read, or the order's buyer
// (order read:own); to anyone else the order does not exist. It reads
// in the transaction carried by ctx, if any.
func (s *Service) PaymentView(ctx context.Context, orderID string) (*PaymentView, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Order, authz.Read); err != nil {
		return nil, err
	}
	o, err := s.store.PaymentViewByID(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if !s.isStaff(ctx) && !ownedByCaller(ctx, o) {
		return nil, orderNotFound()
	}
	return paymentView(o), nil
}

// PaymentViewByAccessToken is PaymentView for the order a guest's access
// token opens, to the callers GetByAccessToken answers; a wrong token is
// not found.
func (s *Service) PaymentViewByAccessToken(ctx context.Context, token string) (*PaymentView, error) {
	if err := authz.MayOwn(ctx, s.authz, authz.Order, authz.Read); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, orderNotFound()
	}
	o, err := s.store.PaymentViewByTokenHash(ctx, hashToken(token))
	if err != nil {
		return nil, err
	}
	return paymentView(o), nil
}
