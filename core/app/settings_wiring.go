package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/tax"
)

// Settings are an instance's shop settings, shipping and tax (ADR 0008):
// the services staff manage them through, and the lookups the cart
// prices a buyer's cart with, which ask no permission and so are handed
// only to the cart.
type Settings struct {
	// Shop holds the currencies, payment deadline, order numbering and
	// the other shop-wide settings; it is also the cart's and the order's
	// reader of them.
	Shop *shop.Service
	// Shipping is the staff's side of shipping zones and methods.
	Shipping *shipping.Service
	// ShippingRates prices a parcel: the cart's shipping port.
	ShippingRates *shipping.Rates
	// Tax is the staff's side of tax rates.
	Tax *tax.Service
	// TaxRates looks up the rate of an address: the cart's tax port.
	TaxRates *tax.Rates
}

// SettingsOptions are what NewSettings needs besides the database.
type SettingsOptions struct {
	// Authz is asked by every staff operation. Required.
	Authz authz.Authorizer
	// Outbox receives kassa.shop.settings_updated. Required.
	Outbox *events.Outbox
	// DefaultCurrency is the only currency of a shop whose staff never
	// chose its currencies: the catalog's default currency.
	DefaultCurrency money.Currency
}

// NewSettings builds the shop settings, shipping and tax services over db.
func NewSettings(db *store.DB, opts SettingsOptions) (*Settings, error) {
	if opts.Outbox == nil {
		return nil, errors.New("app: settings need an outbox")
	}
	s := &Settings{
		ShippingRates: shipping.NewRates(db, shipping.RatesOptions{}),
		TaxRates:      tax.NewRates(db, tax.RatesOptions{}),
	}
	var err error
	if s.Shop, err = shop.NewService(db, shop.Options{Authz: opts.Authz, Outbox: opts.Outbox, DefaultCurrency: opts.DefaultCurrency}); err != nil {
		return nil, err
	}
	if s.Shipping, err = shipping.NewService(db, shipping.Options{Authz: opts.Authz, Rates: s.ShippingRates}); err != nil {
		return nil, err
	}
	if s.Tax, err = tax.NewService(db, tax.Options{Authz: opts.Authz, Rates: s.TaxRates}); err != nil {
		return nil, err
	}
	return s, nil
}

// listenSettings subscribes this instance to the settings saved on any
// instance: it forgets the settings its shop service keeps in memory, and
// then the public answers built from them. The response cache listens to
// the shop's subjects on its own too (resolver.Cache), but in no order
// with this listener: an answer cached between the two from the old
// settings is dropped here, after the shop service forgot them.
func (a *App) listenSettings(ctx context.Context) (events.Subscription, error) {
	sub, err := a.Bus.Listen(ctx, shop.SubjectSettingsUpdated, func(context.Context, events.Event) error {
		a.Settings.Shop.Invalidate()
		a.GraphQL.InvalidateCache()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listen to %s: %w", shop.SubjectSettingsUpdated, err)
	}
	return sub, nil
}
