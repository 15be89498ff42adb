package app

import (
	"context"
	"strings"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/notify"
	"github.com/kassahq/kassa/core/order"
)

// The notification dispatcher reads orders through orderEmails.
var _ notify.Orders = orderEmails{}

// OrderEmails is the notification dispatcher's Orders port over the
// order service, as the app's event consumers use it.
func OrderEmails(orders *order.Service) notify.Orders { return orderEmails{orders: orders} }

// orderEmails is the dispatcher's Orders port over the order service:
// what an email about an order tells its buyer. It reads as the
// consumer's system subject.
type orderEmails struct {
	orders *order.Service
}

// OrderEmail implements notify.Orders.
func (o orderEmails) OrderEmail(ctx context.Context, orderID string) (*notify.OrderEmail, error) {
	d, err := o.orders.Get(ctx, orderID)
	if err != nil {
		return nil, err
	}
	ord := d.Order
	cur := ord.Currency.Code()
	amount := func(minor int64) notify.Amount { return notify.Amount{Amount: minor, Currency: cur} }
	data := notify.OrderData{
		Number: ord.Number, PlacedAt: ord.CreatedAt,
		Subtotal: amount(ord.SubtotalAmount), Discount: amount(ord.DiscountAmount), Shipping: amount(ord.ShippingAmount),
		Tax: amount(ord.TaxAmount), Total: amount(ord.TotalAmount),
	}
	for _, l := range d.Lines {
		name := l.ProductTitle
		if l.VariantTitle != "" && l.VariantTitle != l.ProductTitle {
			name += " – " + l.VariantTitle
		}
		data.Lines = append(data.Lines, notify.OrderLine{Name: name, SKU: l.SKU, Quantity: l.Quantity, Total: amount(l.TotalAmount)})
	}
	if a := ord.ShippingAddress; a.CountryCode != "" {
		pa := &notify.PostalAddress{Name: a.Name(), PostalCode: a.PostalCode, City: a.City, Region: a.Province, Country: a.CountryCode}
		for _, line := range []string{a.Company, a.Line1, a.Line2} {
			if line = strings.TrimSpace(line); line != "" {
				pa.Lines = append(pa.Lines, line)
			}
		}
		data.ShippingAddress = pa
	}
	if ord.Status == order.Open && ord.PaymentStatus == order.PaymentPending {
		deadline := ord.PaymentDeadline
		data.PaymentDeadline = &deadline
	}
	em := &notify.OrderEmail{Recipient: notify.Recipient{Email: ord.Email, Name: ord.BillingAddress.Name()}, Order: data}
	if em.Recipient.Name == "" {
		em.Recipient.Name = ord.ShippingAddress.Name()
	}
	if ord.Status == order.Cancelled {
		em.Cancellation = cancellation(d.Timeline)
	}
	return em, nil
}

// cancellation is why the order of timeline was cancelled: the reason of
// its move to CANCELLED, and whether the deadline closer made it.
func cancellation(timeline []*order.TimelineEntry) *notify.Cancellation {
	for i := len(timeline) - 1; i >= 0; i-- {
		e := timeline[i]
		if e.Machine != order.MachineStatus || e.ToState != string(order.Cancelled) {
			continue
		}
		c := &notify.Cancellation{}
		if e.Reason != nil {
			c.Reason = *e.Reason
		}
		if e.Actor != nil && *e.Actor == authz.SystemSubject(order.CloserWorker).ID {
			c.Code = notify.CancellationPaymentDeadline
		}
		return c
	}
	return nil
}
