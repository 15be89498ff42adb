package resolver

import (
	"context"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/order"
)

// orderBulkOperations lists the staff's bulk actions on orders with the
// permission each needs (order.Service enforces it).
var orderBulkOperations = map[string]Permission{
	"Mutation.ordersBulkShip":    {authz.Order, authz.Write},
	"Mutation.ordersBulkCancel":  {authz.Order, authz.Write},
	"Mutation.ordersBulkNoteAdd": {authz.Order, authz.Write},
}

// ordersBulkSelection is the part every bulk input shares: the orders by
// id or by filter (and sort).
type ordersBulkSelection struct {
	IDs    *[]gql.ID
	Filter *orderFilterInput
	Sort   *orderSortInput
}

// selection converts the orders of a bulk input. A sort alone selects
// nothing: the filter carries the selection.
func (in ordersBulkSelection) selection() order.BulkSelection {
	var sel order.BulkSelection
	if in.IDs != nil {
		sel.IDs = make([]string, len(*in.IDs))
		for i, id := range *in.IDs {
			sel.IDs[i] = string(id)
		}
	}
	if in.Filter != nil {
		f := orderFilterOf(in.Filter, in.Sort)
		sel.Filter = &f
	}
	return sel
}

// The bulk inputs, field for field as the schema has them.
type (
	ordersBulkShipInput struct {
		IDs            *[]gql.ID
		Filter         *orderFilterInput
		Sort           *orderSortInput
		Carrier        *string
		IdempotencyKey string
	}
	ordersBulkCancelInput struct {
		IDs            *[]gql.ID
		Filter         *orderFilterInput
		Sort           *orderSortInput
		Reason         string
		IdempotencyKey string
	}
	ordersBulkNoteAddInput struct {
		IDs            *[]gql.ID
		Filter         *orderFilterInput
		Sort           *orderSortInput
		Body           string
		IdempotencyKey string
	}
)

// OrdersBulkShip resolves Mutation.ordersBulkShip.
func (r *orderRoot) OrdersBulkShip(ctx context.Context, args struct{ Input ordersBulkShipInput }) (*ordersBulkPayload, error) {
	in := args.Input
	sel := ordersBulkSelection{IDs: in.IDs, Filter: in.Filter, Sort: in.Sort}.selection()
	res, err := r.svc.BulkShip(ctx, order.BulkShipInput{Orders: sel, Carrier: str(in.Carrier), IdempotencyKey: in.IdempotencyKey})
	return bulkPayload(res, err)
}

// OrdersBulkCancel resolves Mutation.ordersBulkCancel.
func (r *orderRoot) OrdersBulkCancel(ctx context.Context, args struct{ Input ordersBulkCancelInput }) (*ordersBulkPayload, error) {
	in := args.Input
	sel := ordersBulkSelection{IDs: in.IDs, Filter: in.Filter, Sort: in.Sort}.selection()
	res, err := r.svc.BulkCancel(ctx, order.BulkCancelInput{Orders: sel, Reason: in.Reason, IdempotencyKey: in.IdempotencyKey})
	return bulkPayload(res, err)
}

// OrdersBulkNoteAdd resolves Mutation.ordersBulkNoteAdd.
func (r *orderRoot) OrdersBulkNoteAdd(ctx context.Context, args struct{ Input ordersBulkNoteAddInput }) (*ordersBulkPayload, error) {
	in := args.Input
	sel := ordersBulkSelection{IDs: in.IDs, Filter: in.Filter, Sort: in.Sort}.selection()
	res, err := r.svc.BulkAddNote(ctx, order.BulkNoteInput{Orders: sel, Body: in.Body, IdempotencyKey: in.IdempotencyKey})
	return bulkPayload(res, err)
}

// bulkPayload finishes a bulk action: a refused call becomes userErrors
// (with the service's paths put under the input's fields), a done one its
// result.
func bulkPayload(res *order.BulkResult, err error) (*ordersBulkPayload, error) {
	if ue, err := userErrors(bulkPaths(err)); err != nil || ue != nil {
		return &ordersBulkPayload{userErrors: ue}, err
	}
	return &ordersBulkPayload{result: res}, nil
}

// bulkPaths maps the field paths of the service's BulkSelection to the
// input's: orders.ids to ids, orders.filter.sortKey to sort.key,
// orders.filter.* to filter.*; a problem with the selection as a whole
// (neither or both given) names the input itself.
func bulkPaths(err error) error {
	all := errs.All(err)
	if len(all) == 0 {
		return err
	}
	out := make(errs.List, len(all))
	for i, e := range all {
		c := *e
		switch f := e.Field; {
		case len(f) == 0 || f[0] != "orders":
		case len(f) == 1:
			c.Field = nil
		case len(f) == 3 && f[1] == "filter" && f[2] == "sortKey":
			c.Field = []string{"sort", "key"}
		default:
			c.Field = append([]string(nil), f[1:]...)
		}
		out[i] = &c
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

// ordersBulkPayload is OrdersBulkPayload.
type ordersBulkPayload struct {
	result     *order.BulkResult
	userErrors []*userError
}

func (p *ordersBulkPayload) Result() *ordersBulkResult {
	if p.result == nil {
		return nil
	}
	return &ordersBulkResult{r: p.result}
}
func (p *ordersBulkPayload) UserErrors() []*userError { return p.userErrors }

// ordersBulkResult is OrdersBulkResult.
type ordersBulkResult struct{ r *order.BulkResult }

func (r *ordersBulkResult) Action() string   { return string(r.r.Action) }
func (r *ordersBulkResult) Succeeded() int32 { return clampInt32(int64(r.r.Succeeded)) }
func (r *ordersBulkResult) Failed() int32    { return clampInt32(int64(r.r.Failed)) }
func (r *ordersBulkResult) Replayed() bool   { return r.r.Replayed }

func (r *ordersBulkResult) Outcomes() []*ordersBulkOutcome {
	out := make([]*ordersBulkOutcome, len(r.r.Outcomes))
	for i := range r.r.Outcomes {
		out[i] = &ordersBulkOutcome{o: &r.r.Outcomes[i]}
	}
	return out
}

// ordersBulkOutcome is OrdersBulkOutcome.
type ordersBulkOutcome struct{ o *order.BulkOutcome }

func (o *ordersBulkOutcome) OrderID() gql.ID { return gql.ID(o.o.OrderID) }
func (o *ordersBulkOutcome) OK() bool        { return o.o.OK() }
func (o *ordersBulkOutcome) Number() *string { return nonEmpty(o.o.Number) }
func (o *ordersBulkOutcome) Code() *string   { return nonEmpty(o.o.Code) }
func (o *ordersBulkOutcome) Message() *string {
	if o.o.OK() {
		return nil
	}
	return &o.o.Message
}
