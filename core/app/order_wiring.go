package app

import (
	"context"
	"errors"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
)

// The order's ports (ADR 0006, ADR 0008): the catalog's stock
// reservations, which ask no permission and so are built here and handed
// to the order only, the shop settings, and the accounts behind
// orderCustomers. The compiler checks that each fits.
var (
	_ order.StockReserver = (*catalog.Reservations)(nil)
	_ order.Settings      = (*shop.Service)(nil)
	_ order.Customers     = orderCustomers{}
)

// OrdersOptions are what NewOrders needs besides the database.
type OrdersOptions struct {
	// Authz is asked by every order operation. Required.
	Authz authz.Authorizer
	// Outbox receives the order's events. Required.
	Outbox *events.Outbox
	// Settings give the order the shop's payment deadline, reminder lead
	// and order number prefix. Required.
	Settings *Settings
	// Accounts vouch for a buyer's verified email address when they
	// claim their guest orders. Required.
	Accounts *account.Service
}

// NewOrders builds the order service over db, with the catalog's stock
// reservations, the shop settings and the accounts as its ports.
func NewOrders(db *store.DB, opts OrdersOptions) (*order.Service, error) {
	switch {
	case opts.Outbox == nil:
		return nil, errors.New("app: orders need an outbox")
	case opts.Settings == nil:
		return nil, errors.New("app: orders need the shop settings")
	case opts.Accounts == nil:
		return nil, errors.New("app: orders need the accounts")
	}
	return order.NewService(db, order.Options{
		Authz:     opts.Authz,
		Outbox:    opts.Outbox,
		Stock:     catalog.NewReservations(db, catalog.ReservationsOptions{Outbox: opts.Outbox}),
		Settings:  opts.Settings.Shop,
		Customers: OrderCustomers(opts.Accounts),
	})
}

// OrderCustomers is the order's Customers port over the accounts, for
// NewOrders and for tests that build an order service of their own.
func OrderCustomers(accounts *account.Service) order.Customers {
	return orderCustomers{accounts: accounts}
}

// orderCustomers is the order's Customers port over the accounts: a
// buyer's email address counts as theirs once they verified it, and
// never after their account was erased.
type orderCustomers struct {
	accounts *account.Service
}

// VerifiedEmail reads the buyer's account as the buyer in ctx (customer
// read:own), so it answers for the signed-in buyer only.
func (c orderCustomers) VerifiedEmail(ctx context.Context, customerID string) (string, bool, error) {
	cu, err := c.accounts.Get(ctx, customerID)
	if err != nil {
		return "", false, err
	}
	return cu.Email, cu.EmailVerifiedAt != nil && !cu.Erased(), nil
}
