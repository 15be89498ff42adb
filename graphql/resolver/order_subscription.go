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

// OrderUpdated resolves Subscription.orderUpdated: the order at once, then
// again after every change this instance hears of, each read as the
// caller may see it (staff with order read any order, a signed-in buyer
// their own, a guest by the order's access token), until the order is
// completed or cancelled, the caller stops, or the instance shuts down.
// The order's payments, refunds and amounts are read with it (what of
// them the caller may see; a subscription cannot tell what its results
// select), so a payment attempt that changes without moving the order,
// a decline the buyer may retry after, is sent too. An order the caller
// may not see is ORDER_NOT_FOUND before anything is sent.
func (r *liveRoot) OrderUpdated(ctx context.Context, args struct {
	ID    gql.ID
	Token *string
}) (<-chan *orderResolver, error) {
	read := func(ctx context.Context) (*orderResolver, error) {
		return r.read(ctx, string(args.ID), str(args.Token))
	}
	if r.hub == nil {
		if _, err := read(ctx); err != nil {
			return nil, err
		}
		return nil, errs.Unavailable("LIVE_UPDATES_UNAVAILABLE", "live updates are not available on this server")
	}
	// Watch before the first read: a change committed between the two is
	// then seen by the read, or signalled, or both, never lost.
	w, err := r.hub.Watch(string(args.ID))
	if err != nil {
		return nil, errs.Unavailable("LIVE_UPDATES_UNAVAILABLE", "the server is shutting down; subscribe again")
	}
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
				case <-ctx.Done():
					return
				}
				next, err := read(ctx)
				if err != nil {
					// The order went out of the caller's reach (a
					// guest order claimed by a buyer, a revoked
					// permission) or the database failed: the
					// subscription ends, and the client subscribes
					// again to learn which.
					return
				}
				d = next
			}
		}
	}()
	return out, nil
}

// read reads the order as the caller may see it, with its payments: by
// the access token when one is given (which must open the order named by
// id), else by id.
func (r *liveRoot) read(ctx context.Context, id, token string) (*orderResolver, error) {
	var (
		d   *order.Detail
		err error
	)
	if token == "" {
		d, err = r.svc.Get(ctx, id)
	} else if d, err = r.svc.GetByAccessToken(ctx, token); err == nil && d.Order.ID != id {
		err = errs.NotFound(order.CodeOrderNotFound, "order not found")
	}
	if err != nil {
		return nil, err
	}
	o := newOrderDetail(d)
	if err := r.pay.load(ctx, []*orderResolver{o}, token, everyPaymentField, true); err != nil {
		return nil, err
	}
	return o, nil
}

// orderVersion tells two reads of an order apart: an event that arrives
// after the first read already saw its change (the order's placement,
// published a moment after checkout) sends nothing again.
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
