package resolver

import (
	"context"
	"fmt"
	"strings"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/graphql/live"
)

// orderSubscriptionOperations lists the order's subscriptions with the
// permission each needs, as the order query does (order.Service enforces
// it on every read the subscription makes).
var orderSubscriptionOperations = map[string]Permission{
	"Subscription.orderUpdated": {authz.Order, authz.Own(authz.Read)},
}

// liveRoot resolves the subscriptions.
type liveRoot struct {
	svc *order.Service
	// pay loads the order's payments with every read, so a payment that
	// changes without moving the order (a decline) is sent too.
	pay paymentReads
	// hub tells a subscription that its order changed; nil refuses
	// subscriptions (UNAVAILABLE) after the caller's permission was
	// checked.
	hub *live.Hub
}

func newLiveRoot(svc Services) liveRoot {
	return liveRoot{svc: svc.Orders, pay: paymentReads{svc: svc.Payments}, hub: svc.Live}
}

// subscriptionFieldsKey carries the field paths a subscription's results
// select (WithSubscriptionFields).
type subscriptionFieldsKey struct{}

// WithSubscriptionFields returns ctx telling the subscription resolver
// started in it which fields its results select, as paths relative to
// the subscription's field ("status", "payments.state"), the form
// graph-gophers' SelectedFieldNames gives a query's resolvers (which it
// does not for a subscription's). graphql.Server.Subscribe computes them
// once per subscription from the parsed document; a superset is
// harmless (more is read), a missing path is not. A subscription started
// without them reads everything the caller may see.
func WithSubscriptionFields(ctx context.Context, fields []string) context.Context {
	return context.WithValue(ctx, subscriptionFieldsKey{}, fields)
}

// liveSelection is what a subscription's reads load besides the order's
// row: its detail (lines, shipments, timeline, notes) and which of its
// payment fields.
type liveSelection struct {
	detail bool
	pay    paySelection
}

// liveSelectionOf reads the selection WithSubscriptionFields put in ctx;
// without one, everything.
func liveSelectionOf(ctx context.Context) liveSelection {
	fields, ok := ctx.Value(subscriptionFieldsKey{}).([]string)
	if !ok {
		return liveSelection{detail: true, pay: everyPaymentField}
	}
	paths := orderPathsOf(fields, []string{""})
	return liveSelection{detail: detailIn(paths), pay: paymentsIn(paths)}
}

// OrderUpdated resolves Subscription.orderUpdated: the order at once, then
// again after every change this instance hears of, each read as the
// caller may see it (staff with order read any order, a signed-in buyer
// their own, a guest by the order's access token), until the order is
// completed or cancelled, the caller stops, or the instance shuts down.
// Each read loads what the results select (WithSubscriptionFields): the
// order's row alone for its statuses and amounts (one query), its detail
// and payments only when selected, as the order query does. A selection
// with payments, refunds or amounts reads them with every change (what
// of them the caller may see), so a payment attempt that changes without
// moving the order, a decline the buyer may retry after, is sent too;
// one without payment fields and detail is told of the order's own
// events only, since a payment that moves the order moves it with an
// order event. An order the caller may not see is ORDER_NOT_FOUND before
// anything is sent.
//
// Each read acts as the caller is at that moment: a live connection
// puts its caller into ctx as an authz.SubjectSource, whose credential
// it checks again while it is open. When the caller's roles (or what
// they allow) change, the order is read again at once: a caller who may
// no longer see it ends the subscription, one who still may is sent
// nothing new unless the order changed.
func (r *liveRoot) OrderUpdated(ctx context.Context, args struct {
	ID    gql.ID
	Token *string
}) (<-chan *orderResolver, error) {
	sel := liveSelectionOf(ctx)
	read := func(ctx context.Context) (*orderResolver, error) {
		return r.read(ctx, string(args.ID), str(args.Token), sel)
	}
	if r.hub == nil {
		if _, err := read(ctx); err != nil {
			return nil, err
		}
		return nil, errs.Unavailable("LIVE_UPDATES_UNAVAILABLE", "live updates are not available on this server")
	}
	var subjects []string // every event of the order
	if !sel.detail && sel.pay == (paySelection{}) {
		subjects = []string{live.OrderSubjects}
	}
	// Watch before the first read: a change committed between the two is
	// then seen by the read, or signalled, or both, never lost. The same
	// for a change of the caller's access.
	w, err := r.hub.Watch(string(args.ID), subjects...)
	if err != nil {
		return nil, errs.Unavailable("LIVE_UPDATES_UNAVAILABLE", "the server is shutting down; subscribe again")
	}
	access := authz.SubjectChanged(ctx)
	d, err := read(ctx)
	if err != nil {
		w.Stop()
		return nil, err
	}
	out := make(chan *orderResolver)
	go func() {
		defer close(out)
		defer w.Stop()
		for {
			select {
			case out <- d:
			case <-ctx.Done():
				return
			}
			if final(d.o) {
				return
			}
			sent := versionOf(d)
			for versionOf(d) == sent {
				select {
				case _, ok := <-w.Changed():
					if !ok {
						return
					}
				case <-access:
					// The caller's roles changed: read as they are now.
				case <-ctx.Done():
					return
				}
				access = authz.SubjectChanged(ctx)
				next, err := read(ctx)
				if err != nil {
					// The order went out of the caller's reach (a
					// guest order claimed by a buyer, a revoked
					// permission or role) or the database failed:
					// the subscription ends, and the client
					// subscribes again to learn which.
					return
				}
				d = next
			}
		}
	}()
	return out, nil
}

// read reads the order as the caller may see it, with what sel loads: by
// the access token when one is given (which must open the order named by
// id), else by id.
func (r *liveRoot) read(ctx context.Context, id, token string, sel liveSelection) (*orderResolver, error) {
	var (
		o   *orderResolver
		row *order.Order
		err error
	)
	if sel.detail {
		var d *order.Detail
		if token == "" {
			d, err = r.svc.Get(ctx, id)
		} else {
			d, err = r.svc.GetByAccessToken(ctx, token)
		}
		if err == nil {
			row, o = d.Order, newOrderDetail(d)
		}
	} else {
		if token == "" {
			row, err = r.svc.GetOrder(ctx, id)
		} else {
			row, err = r.svc.GetOrderByAccessToken(ctx, token)
		}
		if err == nil {
			o = newOrder(row)
		}
	}
	if err == nil && row.ID != id {
		err = errs.NotFound(order.CodeOrderNotFound, "no such order") // as for a token that opens no order
	}
	if err != nil {
		return nil, err
	}
	if err := r.pay.load(ctx, []*orderResolver{o}, token, sel.pay, true); err != nil {
		return nil, err
	}
	return o, nil
}

// orderVersion tells two reads of an order apart: an event that arrives
// after the first read already saw its change (the order's placement,
// published a moment after checkout) sends nothing again. The counts and
// payments are those the reads loaded (zero and empty when the selection
// reads none).
type orderVersion struct {
	updated                     int64
	status, payment, fulfilment string
	timeline, shipments, notes  int
	// payments tells the payments' states and money apart.
	payments string
}

func versionOf(r *orderResolver) orderVersion {
	o := r.o
	return orderVersion{updated: o.UpdatedAt.UnixMicro(), status: string(o.Status), payment: string(o.PaymentStatus),
		fulfilment: string(o.FulfillmentStatus), timeline: len(r.timeline), shipments: len(r.shipments), notes: len(r.notes),
		payments: paymentsVersion(r.pay)}
}

// paymentsVersion fingerprints what an order shows of its payments: each
// attempt's state, money, action and events, each refund's state. The
// updated times are left out: the reconciler touches them on every
// question it asks, and a subscriber waits for changes, not questions.
func paymentsVersion(p *orderPayments) string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	for _, x := range p.payments {
		a := x.a
		fmt.Fprintf(&b, "%s:%s:%d:%d:%d:%s:%d;", a.ID, a.State, a.Authorized, a.Captured, a.Refunded, a.ActionType, len(x.events))
	}
	for _, x := range p.refunds {
		fmt.Fprintf(&b, "%s:%s;", x.r.ID, x.r.State)
	}
	if a := p.amounts; a != nil {
		fmt.Fprintf(&b, "%d:%d:%d", a.Captured.Amount(), a.Refunded.Amount(), a.Authorized.Amount())
	}
	return b.String()
}

// final reports whether nothing more will happen to o that a subscriber
// waits for: it is completed or cancelled.
func final(o *order.Order) bool {
	return o.Status == order.Completed || o.Status == order.Cancelled
}
