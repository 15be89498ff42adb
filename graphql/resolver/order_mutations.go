package resolver

import (
	"context"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/account"
	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/order"
)

// orderPayload is the payload of the mutations that change an order:
// OrderCancelPayload, OrderMarkDeliveredPayload, OrderCompletePayload.
type orderPayload struct {
	order      *orderResolver
	userErrors []*userError
}

func (p *orderPayload) Order() *orderResolver    { return p.order }
func (p *orderPayload) UserErrors() []*userError { return p.userErrors }

// orderMutation finishes a mutation of one order: a refused change
// becomes userErrors, a done one the payload's order, read as the caller
// sees it.
func (r *orderRoot) orderMutation(ctx context.Context, o *order.Order, err error, token string) (*orderPayload, error) {
	if ue, err := userErrors(err); err != nil || ue != nil {
		return &orderPayload{userErrors: ue}, err
	}
	res, err := r.payloadOrder(ctx, o.ID, token)
	if err != nil {
		return nil, err
	}
	return &orderPayload{order: res}, nil
}

type orderCancelInput struct {
	ID     *gql.ID
	Token  *string
	Reason *string
}

// actsForShop reports whether the caller works for the shop (staff, an
// API key, the platform) rather than buys from it.
func actsForShop(ctx context.Context) bool {
	switch authz.SubjectFrom(ctx).Kind {
	case authz.KindStaff, authz.KindAPIKey, authz.KindSystem:
		return true
	}
	return false
}

// OrderCancel resolves Mutation.orderCancel. Staff and API keys cancel as
// the shop (Service.Cancel, order write: any open order with nothing
// shipped and no money held, a reason required); buyers and guests cancel
// their own unpaid order (Service.CancelUnpaid, order write:own). One
// name serves both because the two never meet: a buyer cannot reach the
// shop's move and staff own no orders.
func (r *orderRoot) OrderCancel(ctx context.Context, args struct{ Input orderCancelInput }) (*orderPayload, error) {
	in := args.Input
	if actsForShop(ctx) {
		o, err := r.svc.Cancel(ctx, order.CancelInput{OrderID: idStr(in.ID), Reason: str(in.Reason)})
		return r.orderMutation(ctx, o, err, "")
	}
	o, err := r.svc.CancelUnpaid(ctx, order.CancelUnpaidInput{OrderID: idStr(in.ID), AccessToken: str(in.Token), Reason: str(in.Reason)})
	return r.orderMutation(ctx, o, renameField(err, "orderId", "id"), str(in.Token))
}

// renameField renames the first element of the field paths of err's
// domain errors from one input field name to the schema's.
func renameField(err error, from, to string) error {
	all := errs.All(err)
	if len(all) == 0 {
		return err
	}
	out := make(errs.List, len(all))
	for i, e := range all {
		out[i] = e
		if len(e.Field) > 0 && e.Field[0] == from {
			c := *e
			c.Field = append([]string{to}, e.Field[1:]...)
			out[i] = &c
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

// claimPayload resolves CustomerClaimGuestOrdersPayload.
type claimPayload struct {
	n          int
	userErrors []*userError
}

func (p *claimPayload) ClaimedCount() int32      { return clampInt32(int64(p.n)) }
func (p *claimPayload) UserErrors() []*userError { return p.userErrors }

// CustomerClaimGuestOrders resolves Mutation.customerClaimGuestOrders.
// Only a signed-in buyer has an account to attach orders to: anyone else
// holding the permission gets NOT_A_CUSTOMER, as the account's
// buyer-only mutations answer. An address not verified yet is the
// buyer's to fix, so EMAIL_NOT_VERIFIED is a userError too.
func (r *orderRoot) CustomerClaimGuestOrders(ctx context.Context) (*claimPayload, error) {
	if authz.SubjectFrom(ctx).Kind != authz.KindCustomer {
		if err := r.mayOwn(ctx, authz.Write); err != nil {
			return nil, err
		}
		return &claimPayload{userErrors: []*userError{{e: errs.Invalid("", account.CodeNotACustomer,
			"only a signed-in buyer claims the orders they placed as a guest")}}}, nil
	}
	n, err := r.svc.ClaimGuestOrders(ctx)
	if isCode(err, order.CodeEmailNotVerified) {
		return &claimPayload{userErrors: []*userError{{e: errs.All(err)[0]}}}, nil
	}
	if err != nil {
		return nil, err
	}
	return &claimPayload{n: n}, nil
}

type orderShipLineInput struct {
	LineID   gql.ID
	Quantity int32
}

type orderShipInput struct {
	OrderID        gql.ID
	Lines          []orderShipLineInput
	Carrier        *string
	TrackingNumber *string
}

// shipPayload resolves OrderShipPayload.
type shipPayload struct {
	shipment   *shipmentResolver
	order      *orderResolver
	userErrors []*userError
}

func (p *shipPayload) Shipment() *shipmentResolver { return p.shipment }
func (p *shipPayload) Order() *orderResolver       { return p.order }
func (p *shipPayload) UserErrors() []*userError    { return p.userErrors }

// OrderShip resolves Mutation.orderShip.
func (r *orderRoot) OrderShip(ctx context.Context, args struct{ Input orderShipInput }) (*shipPayload, error) {
	in := args.Input
	lines := make([]order.ShipLine, len(in.Lines))
	for i, l := range in.Lines {
		lines[i] = order.ShipLine{LineID: string(l.LineID), Quantity: int64(l.Quantity)}
	}
	sh, err := r.svc.Ship(ctx, order.ShipInput{OrderID: string(in.OrderID), Lines: lines,
		Carrier: str(in.Carrier), TrackingNumber: str(in.TrackingNumber)})
	if ue, err := userErrors(err); err != nil || ue != nil {
		return &shipPayload{userErrors: ue}, err
	}
	o, err := r.payloadOrder(ctx, sh.OrderID, "")
	if err != nil {
		return nil, err
	}
	return &shipPayload{shipment: newShipment(sh), order: o}, nil
}

// OrderMarkDelivered resolves Mutation.orderMarkDelivered.
func (r *orderRoot) OrderMarkDelivered(ctx context.Context, args struct{ Input struct{ ID gql.ID } }) (*orderPayload, error) {
	o, err := r.svc.MarkDelivered(ctx, string(args.Input.ID))
	return r.orderMutation(ctx, o, err, "")
}

// OrderComplete resolves Mutation.orderComplete.
func (r *orderRoot) OrderComplete(ctx context.Context, args struct{ Input struct{ ID gql.ID } }) (*orderPayload, error) {
	o, err := r.svc.Complete(ctx, string(args.Input.ID))
	return r.orderMutation(ctx, o, err, "")
}

type orderNoteAddInput struct {
	OrderID gql.ID
	Body    string
}

// noteAddPayload resolves OrderNoteAddPayload.
type noteAddPayload struct {
	note       *orderNoteResolver
	order      *orderResolver
	userErrors []*userError
}

func (p *noteAddPayload) Note() *orderNoteResolver { return p.note }
func (p *noteAddPayload) Order() *orderResolver    { return p.order }
func (p *noteAddPayload) UserErrors() []*userError { return p.userErrors }

// OrderNoteAdd resolves Mutation.orderNoteAdd.
func (r *orderRoot) OrderNoteAdd(ctx context.Context, args struct{ Input orderNoteAddInput }) (*noteAddPayload, error) {
	n, err := r.svc.AddNote(ctx, order.AddNoteInput{OrderID: string(args.Input.OrderID), Body: args.Input.Body})
	if ue, err := userErrors(err); err != nil || ue != nil {
		return &noteAddPayload{userErrors: ue}, err
	}
	o, err := r.payloadOrder(ctx, n.OrderID, "")
	if err != nil {
		return nil, err
	}
	return &noteAddPayload{note: &orderNoteResolver{n: n}, order: o}, nil
}
