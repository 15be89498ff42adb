package resolver

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strings"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/order"
)

// orderOperations lists the order's operations with the permission each
// needs (order.Service enforces them). A buyer reaches only their own
// orders: by their account, or as a guest by the order's access token.
// orderCancel serves staff (order write) and buyers (order write:own),
// told apart by the kind of caller (see OrderCancel).
var orderOperations = map[string]Permission{
	"Query.myOrders":     {authz.Order, authz.Own(authz.Read)},
	"Query.order":        {authz.Order, authz.Own(authz.Read)},
	"Query.orderByToken": {authz.Order, authz.Own(authz.Read)},
	"Query.orders":       {authz.Order, authz.Read},
	"Query.ordersCount":  {authz.Order, authz.Read},

	"Mutation.orderCancel":              {authz.Order, authz.Own(authz.Write)},
	"Mutation.customerClaimGuestOrders": {authz.Order, authz.Own(authz.Write)},
	"Mutation.orderShip":                {authz.Order, authz.Write},
	"Mutation.orderMarkDelivered":       {authz.Order, authz.Write},
	"Mutation.orderComplete":            {authz.Order, authz.Write},
	"Mutation.orderNoteAdd":             {authz.Order, authz.Write},
}

// orderRoot resolves the order's queries and mutations.
type orderRoot struct {
	svc *order.Service
	// az answers the two operations only a signed-in buyer uses
	// (myOrders, customerClaimGuestOrders) for other callers: it asks
	// their permission before they get an empty page or NOT_A_CUSTOMER,
	// as the service would for a buyer. Nil refuses them.
	az authz.Authorizer
	// pay loads what the orders show of their payments (payment_order.go).
	pay paymentReads
}

func newOrderRoot(svc Services) orderRoot {
	r := orderRoot{svc: svc.Orders, pay: paymentReads{svc: svc.Payments}}
	if svc.Access != nil {
		r.az = svc.Access
	}
	return r
}

// mayOwn checks act, or its own variant, on orders for a caller the
// service is not asked about.
func (r *orderRoot) mayOwn(ctx context.Context, act authz.Action) error {
	if r.az == nil {
		return authz.Denied(authz.SubjectFrom(ctx), authz.Order, act)
	}
	return authz.MayOwn(ctx, r.az, authz.Order, act)
}

// MyOrders resolves Query.myOrders. Only a signed-in buyer has orders of
// their own; everyone else holding the permission gets an empty page, as
// `me` is null for them.
func (r *orderRoot) MyOrders(ctx context.Context, args struct {
	First *int32
	After *string
}) (*orderConnection, error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	if authz.SubjectFrom(ctx).Kind != authz.KindCustomer {
		if err := r.mayOwn(ctx, authz.Read); err != nil {
			return nil, err
		}
		return &orderConnection{}, nil
	}
	p, err := r.svc.MyOrders(ctx, req)
	if err != nil {
		return nil, err
	}
	return r.newOrderConnection(ctx, p)
}

// Order resolves Query.order: null when there is no such order or it is
// not one the caller may see. The order's row alone is read unless the
// selection reads its lines, shipments, timeline or notes (readOrder).
func (r *orderRoot) Order(ctx context.Context, args struct{ ID gql.ID }) (*orderResolver, error) {
	o, err := r.readOrder(ctx, string(args.ID), "", "")
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return r.paidOrder(ctx, o, "", "")
}

// OrderByToken resolves Query.orderByToken: null for a token that opens
// no order. A buyer's status page polls it for the order's statuses and
// total, which the order's row holds: the lines, shipments and timeline
// are read only when the selection reads them (readOrder).
func (r *orderRoot) OrderByToken(ctx context.Context, args struct{ Token string }) (*orderResolver, error) {
	o, err := r.readOrder(ctx, "", args.Token, "")
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return r.paidOrder(ctx, o, args.Token, "")
}

// readOrder reads the order of a root query or of a payload (prefix
// "order."), as the caller may see it: by the access token when one is
// given, else by id. Order's fields are plain getters (orders also come
// in lists), so what they show is loaded here: the order's row alone (one
// query) when the selection under ctx reads none of the detail fields,
// else the order with its detail (the row, lines, shipments, timeline
// and, for staff, notes). Both reads answer the same callers; to anyone
// else the order is not found.
func (r *orderRoot) readOrder(ctx context.Context, id, token, prefix string) (*orderResolver, error) {
	if selectsDetail(ctx, prefix) {
		var (
			d   *order.Detail
			err error
		)
		if token != "" {
			d, err = r.svc.GetByAccessToken(ctx, token)
		} else {
			d, err = r.svc.Get(ctx, id)
		}
		if err != nil {
			return nil, err
		}
		return newOrderDetail(d), nil
	}
	var (
		o   *order.Order
		err error
	)
	if token != "" {
		o, err = r.svc.GetOrderByAccessToken(ctx, token)
	} else {
		o, err = r.svc.GetOrder(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return newOrder(o), nil
}

// orderFilterInput is the GraphQL OrderFilter.
type orderFilterInput struct {
	Status            *string
	PaymentStatus     *string
	FulfillmentStatus *string
	CreatedFrom       *catalogTime
	CreatedTo         *catalogTime
	CustomerID        *gql.ID
	PaymentMethod     *string
	Query             *string
}

// orderSortInput is the GraphQL OrderSort; the order service's defaults
// fill what the client leaves out or sends as null.
type orderSortInput struct {
	Key     *string
	Reverse *bool
}

// orderFilterOf converts the filter and sort arguments of Query.orders.
func orderFilterOf(in *orderFilterInput, sort *orderSortInput) order.Filter {
	var f order.Filter
	if in != nil {
		f = order.Filter{Status: order.Status(str(in.Status)), PaymentStatus: order.PaymentStatus(str(in.PaymentStatus)),
			FulfillmentStatus: order.FulfillmentStatus(str(in.FulfillmentStatus)), CustomerID: idStr(in.CustomerID),
			PaymentMethod: str(in.PaymentMethod), Query: str(in.Query)}
		if in.CreatedFrom != nil {
			f.CreatedFrom = in.CreatedFrom.t
		}
		if in.CreatedTo != nil {
			f.CreatedTo = in.CreatedTo.t
		}
	}
	if sort != nil {
		f.SortKey, f.Ascending = order.SortKey(str(sort.Key)), isTrue(sort.Reverse)
	}
	return f
}

// Orders resolves Query.orders.
func (r *orderRoot) Orders(ctx context.Context, args struct {
	First  *int32
	After  *string
	Filter *orderFilterInput
	Sort   *orderSortInput
}) (*orderConnection, error) {
	req, err := page.NewRequest(args.First, args.After)
	if err != nil {
		return nil, err
	}
	p, err := r.svc.List(ctx, orderFilterOf(args.Filter, args.Sort), req)
	if err != nil {
		return nil, filterPaths(err)
	}
	return r.newOrderConnection(ctx, p)
}

// OrdersCount resolves Query.ordersCount.
func (r *orderRoot) OrdersCount(ctx context.Context, args struct {
	Filter *orderFilterInput
	Limit  *int32
}) (*orderCountResolver, error) {
	limit := 0
	if args.Limit != nil {
		// 0 is no limit to the service: a client's 0 is out of range.
		if limit = int(*args.Limit); limit == 0 {
			limit = -1
		}
	}
	n, err := r.svc.Count(ctx, orderFilterOf(args.Filter, nil), limit)
	if err != nil {
		return nil, filterPaths(err)
	}
	return &orderCountResolver{n}, nil
}

// orderCountResolver resolves OrderCount.
type orderCountResolver struct{ c order.OrderCount }

func (x *orderCountResolver) Count() *int32 {
	if !x.c.Known {
		return nil
	}
	n := int32(x.c.N)
	return &n
}

func (x *orderCountResolver) HasMore() bool { return x.c.More }

// filterPaths puts the field paths of order.Filter under the arguments of
// Query.orders that carry them: the filter's fields under "filter", the
// sort key under "sort.key"; "after" is an argument of its own.
func filterPaths(err error) error {
	all := errs.All(err)
	if len(all) == 0 {
		return err
	}
	out := make(errs.List, len(all))
	for i, e := range all {
		switch {
		case len(e.Field) == 0 || e.Field[0] == "after" || e.Field[0] == "limit":
			out[i] = e
		case e.Field[0] == "sortKey":
			c := *e
			c.Field = []string{"sort", "key"}
			out[i] = &c
		default:
			out[i] = e.WithField("filter")
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

// detailFields are the fields of Order read from the order's detail
// (Service.Get) rather than from its row.
var detailFields = []string{"lines", "shipments", "timeline", "notes"}

// selectsDetail reports whether the selection under ctx reads a detail
// field of the orders at one of the paths ("" for the order itself,
// "nodes.", "edges.node."), directly or through the order of its payments
// (payments.order.lines): that order is the same one, built once.
func selectsDetail(ctx context.Context, prefixes ...string) bool {
	return detailIn(orderFieldPaths(ctx, prefixes))
}

// detailIn reports whether one of the order-relative paths reads a
// detail field.
func detailIn(paths iter.Seq[string]) bool {
	for rest := range paths {
		field, _, _ := strings.Cut(rest, ".")
		if slices.Contains(detailFields, field) {
			return true
		}
	}
	return false
}

// orderFieldPaths yields the selected field paths under ctx relative to
// the orders at one of the path prefixes, with any number of
// "payments.order." hops removed: a payment's order is the same order,
// built once, so its fields count as the order's own.
func orderFieldPaths(ctx context.Context, prefixes []string) iter.Seq[string] {
	return orderPathsOf(selectedFieldNames(ctx), prefixes)
}

// orderPathsOf is orderFieldPaths over the selected paths names (a
// subscription's, which its context does not hold).
func orderPathsOf(names, prefixes []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, name := range names {
			for _, p := range prefixes {
				rest, ok := strings.CutPrefix(name, p)
				if !ok {
					continue
				}
				for {
					r, nested := strings.CutPrefix(rest, "payments.order.")
					if !nested {
						break
					}
					rest = r
				}
				if !yield(rest) {
					return
				}
			}
		}
	}
}

// newOrderConnection resolves a page of orders. Order's fields are plain
// getters (the nodes are a list), so when the selection reads the lines,
// shipments, timeline or notes of the orders, their details are loaded
// here, before any field runs, in one batch for the whole page.
func (r *orderRoot) newOrderConnection(ctx context.Context, p page.Page[*order.Order]) (*orderConnection, error) {
	c := &orderConnection{p: p, nodes: make([]*orderResolver, len(p.Items))}
	if !selectsDetail(ctx, "nodes.", "edges.node.") {
		for i, o := range p.Items {
			c.nodes[i] = newOrder(o)
		}
		return r.paidConnection(ctx, c)
	}
	ds, err := r.svc.Details(ctx, p.Items)
	if err != nil {
		return nil, err
	}
	for i, d := range ds {
		c.nodes[i] = newOrderDetail(d)
	}
	return r.paidConnection(ctx, c)
}

// payloadOrder resolves the order field of a mutation's payload, as the
// caller sees it, read after the change when the selection asks for it:
// by the access token when the caller named the order by one (a guest),
// else by id.
func (r *orderRoot) payloadOrder(ctx context.Context, orderID, token string) (*orderResolver, error) {
	if !gql.HasSelectedField(ctx, "order") {
		return nil, nil
	}
	o, err := r.readOrder(ctx, orderID, token, "order.")
	if err != nil {
		return nil, err
	}
	return r.paidOrder(ctx, o, token, "order.")
}

// isCode reports whether err is a domain error with code.
func isCode(err error, code string) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Code == code
}
