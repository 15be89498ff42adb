package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/catalog"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/shipping"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/tax"
	"github.com/kassahq/kassa/core/worker"
)

// The cart's ports (ADR 0006, ADR 0008) are the other domains' unguarded
// readers, handed to the cart here and nowhere else; the compiler checks
// that each fits.
var (
	_ cart.Catalog   = (*catalog.CheckoutReader)(nil)
	_ cart.Rates     = (*shipping.Rates)(nil)
	_ cart.TaxRates  = (*tax.Rates)(nil)
	_ cart.Settings  = (*shop.Service)(nil)
	_ cart.Placer    = (*order.Service)(nil)
	_ cart.Customers = cartCustomers{}
)

// expiryInterval is how often the idempotency.expiry worker deletes the
// keys past their 24 hours; a key kept an hour longer harms nobody.
const expiryInterval = time.Hour

// purgeInterval is how often the cart.purge worker deletes expired carts.
// An expired cart is refused from the moment it expires, purged or not:
// the purge only gives its rows back, so an hour is plenty.
const purgeInterval = time.Hour

// Checkout is an instance's carts and checkout: the cart service and the
// idempotency keys that make checkout completion (and later staff bulk
// actions) happen once.
type Checkout struct {
	// Keys record idempotency keys and their results.
	Keys *idempotency.Keys
	// Carts holds guests' and buyers' carts and completes checkout.
	Carts *cart.Service
}

// CheckoutOptions are what NewCheckout needs besides the database.
type CheckoutOptions struct {
	// Authz is asked by every cart operation. Required.
	Authz authz.Authorizer
	// Settings give the cart the shop's settings, shipping rates and tax
	// rates. Required.
	Settings *Settings
	// Orders places the order at checkout: the order service
	// (*order.Service, built by NewOrders before the checkout). Without
	// it cart.Service.Complete answers CHECKOUT_UNAVAILABLE while every
	// other cart operation works.
	Orders cart.Placer
	// Accounts give a signed-in buyer's cart their email address. Nil
	// leaves buyers' carts without one until they enter it.
	Accounts *account.Service
	// GuestCartLifetime and BuyerCartLifetime are how long open carts
	// live after their last change (config.Config's settings); zero is
	// core/cart's default.
	GuestCartLifetime, BuyerCartLifetime time.Duration
}

// NewCheckout builds the idempotency keys and the cart service over db,
// with the catalog's checkout reader and the settings' rates as the
// cart's ports.
func NewCheckout(db *store.DB, opts CheckoutOptions) (*Checkout, error) {
	if opts.Settings == nil {
		return nil, errors.New("app: checkout needs the shop settings")
	}
	keys, err := idempotency.NewKeys(db, idempotency.Options{})
	if err != nil {
		return nil, err
	}
	var customers cart.Customers // an interface holding a nil port would not be nil
	if opts.Accounts != nil {
		customers = cartCustomers{accounts: opts.Accounts}
	}
	carts, err := cart.NewService(db, cart.Options{
		Authz:     opts.Authz,
		Catalog:   catalog.NewCheckoutReader(db, catalog.CheckoutReaderOptions{}),
		Rates:     opts.Settings.ShippingRates,
		TaxRates:  opts.Settings.TaxRates,
		Settings:  opts.Settings.Shop,
		Keys:      keys,
		Placer:    opts.Orders,
		Customers: customers,

		GuestLifetime: opts.GuestCartLifetime,
		BuyerLifetime: opts.BuyerCartLifetime,
	})
	if err != nil {
		return nil, err
	}
	return &Checkout{Keys: keys, Carts: carts}, nil
}

// cartCustomers is the cart's Customers port over the accounts.
type cartCustomers struct {
	accounts *account.Service
}

// Email reads the buyer's account as the buyer in ctx (customer
// read:own).
func (c cartCustomers) Email(ctx context.Context, customerID string) (string, error) {
	cu, err := c.accounts.Get(ctx, customerID)
	if err != nil {
		return "", err
	}
	return cu.Email, nil
}

// expiryWorker returns the worker that deletes expired idempotency keys.
// Every instance runs it: deleting a key twice deletes it once, so the
// instances need no claim or lease between them.
func (c *Checkout) expiryWorker() (*worker.Periodic, error) {
	return worker.NewPeriodic("idempotency.expiry", c.Keys.DeleteExpired,
		worker.PeriodicOptions{Interval: expiryInterval, Jitter: expiryInterval / 10})
}

// purgeWorker returns the worker that deletes expired carts with their
// lines. Every instance runs it: on PostgreSQL each batch takes only
// carts no other transaction holds, so the instances share the work
// without waiting for each other or deleting a cart twice.
func (c *Checkout) purgeWorker(log *slog.Logger) (*worker.Periodic, error) {
	return worker.NewPeriodic(cart.PurgeWorker, func(ctx context.Context) error {
		n, err := c.Carts.Purge(ctx)
		if n > 0 {
			log.InfoContext(ctx, "expired carts purged", "worker", cart.PurgeWorker, "carts", n)
		}
		return err
	}, worker.PeriodicOptions{Interval: purgeInterval, Jitter: purgeInterval / 10})
}
