// Package resolver holds the thin GraphQL resolvers of Kassa: each one
// decodes its input, calls one core service method and converts the result.
// No business rule lives here.
//
// The root Resolver embeds one struct per domain (catalogRoot, ...), each in
// its own file next to the domain's schema file in graphql/schema.
package resolver

import (
	"context"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/delivery"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/tax"
	"github.com/kassahq/kassa/graphql/live"
)

// Services are the core services the resolvers call.
type Services struct {
	Catalog *catalog.Service
	// Accounts are buyers, staff, sessions and API keys.
	Accounts *account.Service
	// Access is the permission system: roles and their permissions.
	Access *authz.Enforcer
	// Plugins is the plugin host: catalog, settings, health.
	Plugins *plugin.Service
	// Deliveries is the journal of event consumers and their dead
	// letters.
	Deliveries *delivery.Journal
	// Shop is the shop's settings.
	Shop *shop.Service
	// Shipping is the staff's side of shipping zones and methods.
	Shipping *shipping.Service
	// Tax is the staff's side of tax rates.
	Tax *tax.Service
	// Carts holds guests' and buyers' carts and completes checkout.
	Carts *cart.Service
	// RunInTx runs fn in one database transaction (store.DB.RunInTx):
	// cartCreate creates a cart and adds its first lines in one. Required
	// with Carts.
	RunInTx func(ctx context.Context, fn func(ctx context.Context) error) error
	// Orders holds placed orders: the staff's work on them and the
	// buyers' reads of their own.
	Orders *order.Service
	// Payments pays orders through the gateway plugins and keeps the
	// money's record; nil refuses the payment operations.
	Payments *payment.Service
	// Live tells order subscriptions that their order changed; nil
	// refuses subscriptions.
	Live *live.Hub
}

// Resolver is the root resolver of the schema.
type Resolver struct {
	version string
	catalogRoot
	customerRoot
	staffRoot
	accessRoot
	pluginRoot
	settingsRoot
	cartRoot
	orderRoot
	liveRoot
	deliveryRoot
	paymentRoot
	reportRoot
	salesRoot
}

// New returns the root resolver over svc.
func New(version string, svc Services) *Resolver {
	return &Resolver{
		version:      version,
		catalogRoot:  catalogRoot{svc: svc.Catalog, shop: svc.Shop},
		customerRoot: customerRoot{svc: svc.Accounts, carts: svc.Carts},
		staffRoot:    staffRoot{svc: svc.Accounts, access: svc.Access},
		accessRoot:   accessRoot{e: svc.Access},
		pluginRoot:   newPluginRoot(svc),
		settingsRoot: settingsRoot{shop: svc.Shop, shipping: svc.Shipping, tax: svc.Tax},
		cartRoot:     newCartRoot(svc),
		orderRoot:    newOrderRoot(svc),
		liveRoot:     newLiveRoot(svc),
		deliveryRoot: deliveryRoot{j: svc.Deliveries, az: svc.Access},
		paymentRoot:  newPaymentRoot(svc),
		reportRoot:   newReportRoot(svc),
		salesRoot:    salesRoot{svc: svc.Orders},
	}
}

// ServerVersion resolves Query.serverVersion.
func (r *Resolver) ServerVersion() string { return r.version }

// Ping resolves Mutation.ping.
func (r *Resolver) Ping() bool { return true }
