package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/delivery"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/invoice"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/pricing"
	"github.com/kassahq/kassa/core/store"
)

// The invoice's ports (ADR 0006): the invoice rule plugins, and the
// orders and payments through invoiceOrders. The compiler checks that
// each fits.
var (
	_ invoice.Rules  = (*plugin.Service)(nil)
	_ invoice.Orders = invoiceOrders{}
)

// InvoicesOptions are what NewInvoices needs besides the database.
type InvoicesOptions struct {
	// Authz is asked by every read of documents. Required.
	Authz authz.Authorizer
	// Outbox receives kassa.invoice.issued. Required.
	Outbox *events.Outbox
	// Orders and Payments are what documents show of an order and its
	// refunds. Required.
	Orders   *order.Service
	Payments *payment.Service
	// Plugins give the invoice rule plugins. Required.
	Plugins *plugin.Service
	// StoreName names the seller on documents (the rule's own seller
	// settings may say more).
	StoreName string
	// Logger is the parent logger.
	Logger *slog.Logger
}

// NewInvoices builds the invoice service over db with its ports.
func NewInvoices(db *store.DB, opts InvoicesOptions) (*invoice.Service, error) {
	switch {
	case opts.Orders == nil:
		return nil, errors.New("app: invoices need the orders")
	case opts.Payments == nil:
		return nil, errors.New("app: invoices need the payments")
	case opts.Plugins == nil:
		return nil, errors.New("app: invoices need the plugins")
	}
	return invoice.NewService(db, invoice.Options{
		Authz: opts.Authz, Outbox: opts.Outbox, Rules: opts.Plugins,
		Orders: invoiceOrders{orders: opts.Orders, payments: opts.Payments},
		Seller: invoice.Party{Name: opts.StoreName}, Logger: opts.Logger,
	})
}

// invoiceOrders is the invoice's Orders port over the order and payment
// services. The invoice service checked its caller; the port reads as
// the platform.
type invoiceOrders struct {
	orders   *order.Service
	payments *payment.Service
}

func invoiceSubject(ctx context.Context) context.Context {
	if authz.SubjectFrom(ctx).IsSystem() {
		return ctx
	}
	return authz.WithSubject(ctx, authz.SystemSubject("invoice"))
}

// Order implements invoice.Orders: the order's snapshot, with what was
// captured and refunded as the ledger says.
func (p invoiceOrders) Order(ctx context.Context, orderID string) (*invoice.Order, error) {
	ctx = invoiceSubject(ctx)
	d, err := p.orders.Get(ctx, orderID)
	if err != nil {
		return nil, err
	}
	amounts, err := p.payments.AmountsOf(ctx, []string{orderID})
	if err != nil {
		return nil, err
	}
	return invoiceOrder(d, amounts[orderID]), nil
}

// invoiceOrder is an order as its documents show it.
func invoiceOrder(d *order.Detail, am payment.Amounts) *invoice.Order {
	o := d.Order
	cur := o.Currency
	amount := func(n int64) money.Money { return money.New(n, cur) }
	orZero := func(m money.Money) money.Money {
		if m.Currency().IsZero() {
			return money.Zero(cur)
		}
		return m
	}
	out := &invoice.Order{
		ID: o.ID, Number: o.Number, StoreID: authz.DefaultStore, Currency: cur, PlacedAt: o.CreatedAt,
		Totals: invoice.Totals{Subtotal: amount(o.SubtotalAmount), Discount: amount(o.DiscountAmount), Shipping: amount(o.ShippingAmount),
			Tax: amount(o.TaxAmount), Total: amount(o.TotalAmount), Paid: orZero(am.Captured), Refunded: orZero(am.Refunded)},
		Buyer:         invoiceBuyer(o),
		PaymentStatus: string(o.PaymentStatus), FulfillmentStatus: string(o.FulfillmentStatus),
	}
	out.TaxName, out.TaxRate = o.TaxName, pricing.Percent(o.TaxBasisPoints)
	out.Taxes = invoice.TaxSummary(out.Totals, out.TaxName, out.TaxRate)
	if o.CustomerID != nil {
		out.CustomerID = *o.CustomerID
	}
	for _, l := range d.Lines {
		name := l.ProductTitle
		if l.VariantTitle != "" && l.VariantTitle != l.ProductTitle {
			name += " – " + l.VariantTitle
		}
		out.Lines = append(out.Lines, invoice.Line{
			ID: l.ID, SKU: l.SKU, Name: name, Quantity: l.Quantity, UnitPrice: amount(l.UnitPriceAmount),
			Discount: amount(l.DiscountAmount), TaxRate: out.TaxRate, Tax: amount(l.TaxAmount), Total: amount(l.TotalAmount), PricesIncludeTax: o.TaxIncluded,
		})
	}
	return out
}

// invoiceBuyer is the party an order's documents are addressed to: the
// billing address (the shipping address when it has none), named by the
// email address when the address names no one.
func invoiceBuyer(o *order.Order) invoice.Party {
	a := o.BillingAddress
	if a.CountryCode == "" {
		a = o.ShippingAddress
	}
	p := invoice.Party{Name: a.Name(), Company: a.Company, Email: o.Email, Phone: a.Phone,
		Address: invoice.Address{City: a.City, PostalCode: a.PostalCode, Region: a.Province, Country: a.CountryCode}}
	for _, l := range []string{a.Line1, a.Line2} {
		if l = strings.TrimSpace(l); l != "" {
			p.Address.Lines = append(p.Address.Lines, l)
		}
	}
	if strings.TrimSpace(p.Name) == "" && p.Company == "" {
		p.Name = o.Email
	}
	return p
}

// Refund implements invoice.Orders.
func (p invoiceOrders) Refund(ctx context.Context, orderID, refundID string) (*invoice.Refund, error) {
	refs, err := p.payments.RefundsOf(invoiceSubject(ctx), []string{orderID})
	if err != nil {
		return nil, err
	}
	// The order's refunds come oldest first: those before r gave back
	// units of its lines before it.
	before := map[string]int64{}
	for _, r := range refs[orderID] {
		if r.ID == refundID {
			return creditedRefund(r, before), nil
		}
		if r.State != payment.RefundStateFailed {
			for _, l := range r.Lines {
				before[l.LineID] += l.Quantity
			}
		}
	}
	return nil, errs.NotFound(payment.CodeRefundNotFound, fmt.Sprintf("order %s has no refund %s", orderID, refundID))
}

// creditedRefund is refund r as its credit note shows it: the lines and
// shipping it gives back, or its amount alone; before counts the units
// of each line earlier refunds gave back. The first part of a
// refund split across payments (payment.Service.Refund) carries the
// refund's lines and shipping but gives back only its payment's share:
// its credit note credits the amount it gave back, so that the document
// adds up, and the parts' notes together credit the whole refund.
func creditedRefund(r *payment.Refund, before map[string]int64) *invoice.Refund {
	out := &invoice.Refund{ID: r.ID, Amount: r.Amount(), Shipping: money.New(r.ShippingMinor, r.Currency),
		ShippingTax: money.New(r.ShippingTaxMinor, r.Currency)}
	parts := r.ShippingMinor + r.ShippingTaxMinor
	for _, l := range r.Lines {
		out.Lines = append(out.Lines, invoice.RefundLine{LineID: l.LineID, Quantity: l.Quantity, Amount: money.New(l.Amount, r.Currency),
			Before: before[l.LineID]})
		parts += l.Amount
	}
	if parts > r.AmountMinor {
		out.Lines, out.Shipping, out.ShippingTax = nil, money.Zero(r.Currency), money.Zero(r.Currency)
	}
	return out
}

// Customer implements invoice.Orders.
func (p invoiceOrders) Customer(ctx context.Context, orderID string) (string, error) {
	d, err := p.orders.Get(invoiceSubject(ctx), orderID)
	if err != nil {
		return "", err
	}
	if d.Order.CustomerID == nil {
		return "", nil
	}
	return *d.Order.CustomerID, nil
}

// OrderIDByAccessToken implements invoice.Orders.
func (p invoiceOrders) OrderIDByAccessToken(ctx context.Context, token string) (string, error) {
	d, err := p.orders.GetByAccessToken(invoiceSubject(ctx), token)
	if err != nil {
		return "", err
	}
	return d.Order.ID, nil
}

// subscribeInvoices starts the invoice consumers: one durable consumer
// per subject (an order paid, a refund that succeeded), each delivery
// journaled. They start at the newest event, as the order emails do: an
// instance upgraded to issue documents does not issue them for last
// week's payments.
func (c *consumers) subscribeInvoices(ctx context.Context) error {
	a := c.a
	ctx = authz.WithSubject(context.WithoutCancel(ctx), authz.SystemSubject("invoices"))
	for i, subject := range invoice.Subjects() {
		durable := fmt.Sprintf("invoices-%d", i)
		sub, err := a.Bus.Subscribe(ctx, durable, subject,
			a.Deliveries.Wrap(durable, a.Invoices.Handle, events.DefaultMaxDeliver, delivery.OnlyWanted(a.Invoices.Wants)), events.WithDeliverNew())
		if err != nil {
			return fmt.Errorf("subscribe invoices to %s: %w", subject, err)
		}
		c.subs = append(c.subs, sub)
	}
	return nil
}
