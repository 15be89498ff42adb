package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
)

// The payment's ports (ADR 0006): the orders through paymentOrders, the
// gateway plugins and the shop settings. The compiler checks that each
// fits.
var (
	_ payment.Orders   = PaymentOrders{}
	_ payment.Gateways = (*plugin.Service)(nil)
	_ payment.Settings = (*shop.Service)(nil)
)

// PaymentsOptions are what NewPayments needs besides the database.
type PaymentsOptions struct {
	// Authz is asked by every payment operation. Required.
	Authz authz.Authorizer
	// Outbox receives the payment's events. Required.
	Outbox *events.Outbox
	// Orders are the orders payments pay. Required.
	Orders *order.Service
	// Plugins give the gateway plugins. Required.
	Plugins *plugin.Service
	// Settings give the shop's settings. Required.
	Settings *Settings
	// Keys record idempotency keys (the checkout's). Required.
	Keys *idempotency.Keys
	// PublicURL is the shop's public base URL (config's BaseURL): the
	// origin return URLs may be on besides the shop's storefront origins.
	PublicURL string
	// Logger is the parent logger.
	Logger *slog.Logger
	// ReconcileInterval and RecheckAfter tune the reconciler (see
	// payment.Options); zero takes the defaults.
	ReconcileInterval, RecheckAfter time.Duration
	// Observer counts the payments' outcomes (payment_metrics.go); nil
	// counts nothing.
	Observer payment.Observer
}

// NewPayments builds the payment service over db with its ports, and
// hands it to the orders as their PaymentCloser.
func NewPayments(db *store.DB, opts PaymentsOptions) (*payment.Service, error) {
	switch {
	case opts.Orders == nil:
		return nil, errors.New("app: payments need the orders")
	case opts.Plugins == nil:
		return nil, errors.New("app: payments need the plugins")
	case opts.Settings == nil:
		return nil, errors.New("app: payments need the shop settings")
	}
	p, err := payment.NewService(db, payment.Options{
		Authz: opts.Authz, Outbox: opts.Outbox, Orders: PaymentOrders{Orders: opts.Orders},
		Gateways: opts.Plugins, Settings: opts.Settings.Shop, Keys: opts.Keys, PublicURL: opts.PublicURL, Logger: opts.Logger,
		ReconcileInterval: opts.ReconcileInterval, RecheckAfter: opts.RecheckAfter,
		Observer: opts.Observer,
	})
	if err != nil {
		return nil, err
	}
	// The orders close an order's payments before cancelling it; they
	// are built first, the payments needing them.
	opts.Orders.UsePaymentCloser(PaymentCloser(p))
	return p, nil
}

// PaymentOrders is the payment's Orders port over the order service, for
// NewPayments and for tests that build a payment service of their own.
// The payment service checked its caller; the port reads and moves
// orders as the platform (the order's payment status is the platform's
// to move).
type PaymentOrders struct {
	Orders *order.Service
}

func paymentSubject(ctx context.Context) context.Context {
	if authz.SubjectFrom(ctx).IsSystem() {
		return ctx
	}
	return authz.WithSubject(ctx, authz.SystemSubject("payment"))
}

// Order implements payment.Orders with the order's row alone
// (order.PaymentView, one query): a paid order is read about three times.
func (p PaymentOrders) Order(ctx context.Context, orderID string) (*payment.OrderInfo, error) {
	v, err := p.Orders.PaymentView(paymentSubject(ctx), orderID)
	if err != nil {
		return nil, err
	}
	return orderInfo(v), nil
}

// OrderByAccessToken implements payment.Orders, as Order does.
func (p PaymentOrders) OrderByAccessToken(ctx context.Context, token string) (*payment.OrderInfo, error) {
	v, err := p.Orders.PaymentViewByAccessToken(paymentSubject(ctx), token)
	if err != nil {
		return nil, err
	}
	return orderInfo(v), nil
}

// OrderLines implements payment.Orders: the lines refunds by line need.
func (p PaymentOrders) OrderLines(ctx context.Context, orderID string) ([]payment.OrderLine, error) {
	d, err := p.Orders.Get(paymentSubject(ctx), orderID)
	if err != nil {
		return nil, err
	}
	out := make([]payment.OrderLine, len(d.Lines))
	for i, l := range d.Lines {
		out[i] = payment.OrderLine{ID: l.ID, SKU: l.SKU, Quantity: l.Quantity, Total: l.TotalAmount, Tax: l.TaxAmount}
	}
	return out, nil
}

// MovePayment implements payment.Orders: the shortest way from
// o.PaymentStatus to to in order.PaymentStatuses, one MovePaymentOf per
// step, over the order as the payment read it.
func (p PaymentOrders) MovePayment(ctx context.Context, o *payment.OrderInfo, to payment.OrderPaymentStatus, reason string) error {
	path, err := paymentPath(order.PaymentStatus(o.PaymentStatus), order.PaymentStatus(to))
	if err != nil {
		return err
	}
	ctx = paymentSubject(ctx)
	v := &order.PaymentView{ID: o.ID, Number: o.Number, PaymentStatus: order.PaymentStatus(o.PaymentStatus), PaymentMethod: o.PaymentMethod}
	if o.CustomerID != "" {
		v.CustomerID = &o.CustomerID
	}
	for _, next := range path {
		if err := p.Orders.MovePaymentOf(ctx, v, next, reason); err != nil {
			return err
		}
		o.PaymentStatus = payment.OrderPaymentStatus(next)
	}
	return nil
}

// SetPaymentMethod implements payment.Orders.
func (p PaymentOrders) SetPaymentMethod(ctx context.Context, o *payment.OrderInfo, gatewayID string) error {
	v := &order.PaymentView{ID: o.ID, PaymentMethod: o.PaymentMethod}
	if err := p.Orders.SetPaymentMethod(paymentSubject(ctx), v, gatewayID); err != nil {
		return err
	}
	o.PaymentMethod = gatewayID
	return nil
}

// paymentPath finds the shortest sequence of moves from from to to in
// the order's payment table (breadth first); the table's own
// INVALID_TRANSITION error when there is none.
func paymentPath(from, to order.PaymentStatus) ([]order.PaymentStatus, error) {
	if from == to {
		return nil, nil
	}
	prev := map[order.PaymentStatus]order.PaymentStatus{from: from}
	queue := []order.PaymentStatus{from}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, n := range order.PaymentStatuses.Next(s) {
			if _, seen := prev[n]; seen {
				continue
			}
			prev[n] = s
			if n == to {
				var path []order.PaymentStatus
				for c := to; c != from; c = prev[c] {
					path = append([]order.PaymentStatus{c}, path...)
				}
				return path, nil
			}
			queue = append(queue, n)
		}
	}
	if err := order.PaymentStatuses.Check(from, to); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("app: no way from %s to %s", from, to)
}

func orderInfo(v *order.PaymentView) *payment.OrderInfo {
	info := &payment.OrderInfo{
		ID: v.ID, Number: v.Number, Status: string(v.Status), PaymentStatus: payment.OrderPaymentStatus(v.PaymentStatus),
		PaymentMethod: v.PaymentMethod, Total: v.Total, Shipping: v.Shipping, Tax: v.Tax, TaxIncluded: v.TaxIncluded, PaymentDeadline: v.PaymentDeadline, Email: v.Email,
		Country: v.BillingCountry, ShippingCountry: v.ShippingCountry,
	}
	if v.CustomerID != nil {
		info.CustomerID = *v.CustomerID
	}
	return info
}

// PaymentCloser is the order's PaymentCloser over the payments: every
// cancellation (staff, bulk, the buyer, the deadline closer) first closes
// the order's open attempts at their gateways (payment.ClosePayments).
// NewPayments hands it to the orders; tests that build a payment service
// of their own hand it themselves.
func PaymentCloser(p *payment.Service) order.PaymentCloser { return paymentCloser{p: p} }

type paymentCloser struct{ p *payment.Service }

// ClosePayments implements order.PaymentCloser.
func (c paymentCloser) ClosePayments(ctx context.Context, o *order.Order, why string) (order.ExpiryVerdict, error) {
	v, err := c.p.ClosePayments(ctx, o.ID, why)
	switch {
	case err != nil:
		return order.KeepPending, err
	case v == payment.VerdictPaid:
		return order.KeepPaid, nil
	case v == payment.VerdictPending:
		return order.KeepPending, nil
	}
	return order.ExpireNow, nil
}

// PaymentsClosed implements order.PaymentCloser.
func (c paymentCloser) PaymentsClosed(ctx context.Context, o *order.Order) (bool, error) {
	return c.p.PaymentsClosed(ctx, o.ID)
}

// subscribeSuperseded closes the other open payments of an order once
// one of its attempts took or holds its money (payment.HandleSuperseded),
// so that a buyer with two payment pages open cannot pay twice. A durable
// consumer: each capture is handled once across instances, and delivered
// again while a gateway cannot be reached. Not journaled: most orders
// have one attempt, and a row per paid order would record nothing done
// (the journal's filters must answer from memory, which cannot tell).
func (c *consumers) subscribeSuperseded(ctx context.Context) error {
	a := c.a
	ctx = authz.WithSubject(context.WithoutCancel(ctx), authz.SystemSubject("payment.supersede"))
	const durable = "payment-superseded"
	sub, err := subscribeFilters(ctx, a.Bus, durable, payment.SupersededSubjects, a.Payments.HandleSuperseded,
		events.WithMaxDeliver(events.DefaultMaxDeliver), events.WithDeliverNew())
	if err != nil {
		return fmt.Errorf("subscribe superseded payments: %w", err)
	}
	c.subs = append(c.subs, sub)
	return nil
}
