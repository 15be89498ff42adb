package app

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/delivery"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/notify"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/storefront"
)

// The notification dispatcher reads payments through paymentEmails.
var _ notify.Payments = paymentEmails{}

// PaymentEmails is the notification dispatcher's Payments port over the
// order, payment and account services, as the app's event consumers use
// it; storeURL is the shop's public URL, the only origin payment links in
// emails may point to.
func PaymentEmails(orders *order.Service, payments *payment.Service, accounts *account.Service, az authz.Authorizer, storeURL string) notify.Payments {
	return paymentEmails{orders: orderEmails{orders: orders}, payments: payments, accounts: accounts, authz: az, storeURL: storeURL}
}

// paymentEmails is the dispatcher's Payments port: what an email about a
// payment tells its buyer, and which staff hear of paid orders. It reads
// as the consumer's system subject.
type paymentEmails struct {
	orders   orderEmails
	payments *payment.Service
	accounts *account.Service
	authz    authz.Authorizer
	storeURL string
}

func notifySubject(ctx context.Context) context.Context {
	if authz.SubjectFrom(ctx).IsSystem() {
		return ctx
	}
	return authz.WithSubject(ctx, authz.SystemSubject("notify"))
}

// AttemptEmail implements notify.Payments.
func (p paymentEmails) AttemptEmail(ctx context.Context, attemptID string) (*notify.PaymentEmail, error) {
	ctx = notifySubject(ctx)
	att, err := p.payments.Attempt(ctx, attemptID, "")
	if err != nil {
		return nil, err
	}
	d, err := p.orders.orders.Get(ctx, att.OrderID)
	if err != nil {
		return nil, err
	}
	em, err := p.orders.OrderEmail(ctx, att.OrderID)
	if err != nil {
		return nil, err
	}
	data := &notify.PaymentData{State: string(att.State), Amount: notify.Amount{Amount: att.AmountMinor, Currency: att.Currency.Code()},
		DeclineCode: att.DeclineCode, Message: att.BuyerMessage, Action: string(att.ActionType), Reference: em.Order.Number,
		ExpiresAt: att.ActionExpiresAt}
	if att.ActionType == payment.ActionInstructions {
		data.Instructions = att.ActionText
	}
	em.Order.PaymentURL = p.paymentURL(att, d.Order)
	return &notify.PaymentEmail{OrderEmail: *em, Payment: data}, nil
}

// paymentURL is where the buyer goes to pay again: the page they paid
// from when it is the shop's own (a return URL elsewhere is the client's
// to give, and an email from the shop never links to another site), else
// a signed-in buyer's order page in the storefront. A guest's order page
// needs their access token, which Kassa does not keep: no link then.
func (p paymentEmails) paymentURL(att *payment.Attempt, o *order.Order) string {
	shop, err := url.Parse(p.storeURL)
	if err != nil || shop.Host == "" {
		return ""
	}
	if u, err := url.Parse(att.ReturnURL); err == nil && att.ReturnURL != "" && u.Scheme == shop.Scheme && strings.EqualFold(u.Host, shop.Host) {
		return att.ReturnURL
	}
	if o.CustomerID != nil {
		return strings.TrimRight(p.storeURL, "/") + storefront.OrderStatusPath(o.ID)
	}
	return ""
}

// RefundEmail implements notify.Payments: the email about a refund that
// succeeded; a refund still under way or failed has none (Refund nil).
func (p paymentEmails) RefundEmail(ctx context.Context, orderID, refundID string) (*notify.PaymentEmail, error) {
	ctx = notifySubject(ctx)
	refs, err := p.payments.RefundsOf(ctx, []string{orderID})
	if err != nil {
		return nil, err
	}
	var ref *payment.Refund
	for _, r := range refs[orderID] {
		if r.ID == refundID {
			ref = r
		}
	}
	if ref == nil {
		return nil, errs.NotFound(payment.CodeRefundNotFound, fmt.Sprintf("order %s has no refund %s", orderID, refundID))
	}
	em, err := p.orders.OrderEmail(ctx, orderID)
	if err != nil {
		return nil, err
	}
	out := &notify.PaymentEmail{OrderEmail: *em}
	if ref.State == payment.RefundStateSucceeded {
		out.Refund = &notify.RefundData{Amount: notify.Amount{Amount: ref.AmountMinor, Currency: ref.Currency.Code()}}
	}
	return out, nil
}

// StaffRecipients implements notify.Payments: the active staff members
// whose roles may work on orders (order write), as the shop's policy
// says today.
func (p paymentEmails) StaffRecipients(ctx context.Context) ([]notify.StaffRecipient, error) {
	ctx = notifySubject(ctx)
	var out []notify.StaffRecipient
	req := page.Request{First: page.MaxFirst}
	for {
		pg, err := p.accounts.StaffMembers(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, m := range pg.Items {
			if m.Status != account.StaffActive {
				continue
			}
			as := authz.WithSubject(ctx, authz.Subject{Kind: authz.KindStaff, ID: m.ID, Roles: m.Roles, Store: authz.DefaultStore})
			if p.authz.Can(as, authz.Order, authz.Write) != nil {
				continue
			}
			out = append(out, notify.StaffRecipient{ID: m.ID, Recipient: notify.Recipient{Email: m.Email, Name: m.Name}})
		}
		if !pg.HasNext || len(pg.Cursors) == 0 {
			return out, nil
		}
		last := pg.Cursors[len(pg.Cursors)-1]
		req.After = &last
	}
}

// subscribePayments starts the payment emails' consumers, one durable
// consumer per group of filters, each delivery journaled. They start at the newest
// event, as the order emails do.
func (c *consumers) subscribePayments(ctx context.Context, dispatcher *notify.Dispatcher) error {
	a := c.a
	for i, filters := range dispatcher.PaymentSubjects() {
		durable := fmt.Sprintf("notify-payments-%d", i)
		sub, err := subscribeFilters(ctx, a.Bus, durable, filters,
			a.Deliveries.Wrap(durable, dispatcher.HandlePayment, events.DefaultMaxDeliver, delivery.OnlyWanted(dispatcher.WantsPayment)), events.WithDeliverNew())
		if err != nil {
			return fmt.Errorf("subscribe payment emails to %v: %w", filters, err)
		}
		c.subs = append(c.subs, sub)
	}
	return nil
}
