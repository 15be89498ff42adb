package resolver

import (
	"context"
	"errors"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
)

// nodeOperations are public: the object's own query decides who sees it.
var nodeOperations = map[string]Permission{
	"Query.node":  public,
	"Query.nodes": public,
}

// nodeResolver resolves the Node interface: it holds one of the concrete
// resolvers.
type nodeResolver struct {
	id gql.ID
	v  any
}

func (n *nodeResolver) ID() gql.ID { return n.id }

func (n *nodeResolver) ToProduct() (*productResolver, bool) {
	r, ok := n.v.(*productResolver)
	return r, ok
}

func (n *nodeResolver) ToProductVariant() (*variantResolver, bool) {
	r, ok := n.v.(*variantResolver)
	return r, ok
}

func (n *nodeResolver) ToCollection() (*collectionResolver, bool) {
	r, ok := n.v.(*collectionResolver)
	return r, ok
}

func (n *nodeResolver) ToCustomer() (*customerResolver, bool) {
	r, ok := n.v.(*customerResolver)
	return r, ok
}

func (n *nodeResolver) ToCustomerAddress() (*addressResolver, bool) {
	r, ok := n.v.(*addressResolver)
	return r, ok
}

func (n *nodeResolver) ToCustomerGroup() (*groupResolver, bool) {
	r, ok := n.v.(*groupResolver)
	return r, ok
}

func (n *nodeResolver) ToStaffMember() (*staffResolver, bool) {
	r, ok := n.v.(*staffResolver)
	return r, ok
}

func (n *nodeResolver) ToStaffInvitation() (*invitationResolver, bool) {
	r, ok := n.v.(*invitationResolver)
	return r, ok
}

func (n *nodeResolver) ToApiKey() (*apiKeyResolver, bool) {
	r, ok := n.v.(*apiKeyResolver)
	return r, ok
}

func (n *nodeResolver) ToOrder() (*orderResolver, bool) {
	r, ok := n.v.(*orderResolver)
	return r, ok
}

func (n *nodeResolver) ToPayment() (*paymentResolver, bool) {
	r, ok := n.v.(*paymentResolver)
	return r, ok
}

// Node resolves Query.node by the id's prefix, through the object's own
// query so its permission applies.
func (r *Resolver) Node(ctx context.Context, args struct{ ID gql.ID }) (*nodeResolver, error) {
	var (
		v   any
		err error
	)
	oid := args.ID
	switch id.Prefix(string(oid)) {
	case "prd":
		var p *productResolver
		if p, err = r.catalogRoot.Product(ctx, byIDOrHandle{ID: &oid}); p != nil {
			v = p
		}
	case "var":
		var vr *variantResolver
		if vr, err = r.catalogRoot.variantByID(ctx, string(oid)); vr != nil {
			v = vr
		}
	case "col":
		var c *collectionResolver
		if c, err = r.catalogRoot.Collection(ctx, byIDOrHandle{ID: &oid}); c != nil {
			v = c
		}
	case "cus":
		var c *customerResolver
		if c, err = r.customerRoot.Customer(ctx, struct{ ID gql.ID }{oid}); c != nil {
			v = c
		}
	case "cgr":
		var g *groupResolver
		if g, err = r.customerRoot.CustomerGroup(ctx, struct{ ID gql.ID }{oid}); g != nil {
			v = g
		}
	case "stf":
		var m *staffResolver
		if m, err = r.staffRoot.StaffMember(ctx, struct{ ID gql.ID }{oid}); m != nil {
			v = m
		}
	case "ord":
		// Query.order's ownership applies: another buyer's order, or any
		// order for a guest, is null.
		var o *orderResolver
		if o, err = r.orderRoot.Order(ctx, struct{ ID gql.ID }{oid}); o != nil {
			v = o
		}
	case "pay":
		// Query.payment's ownership applies: another buyer's payment,
		// or any payment for a guest (who names it with a token), is null.
		var p *paymentResolver
		if p, err = r.paymentRoot.Payment(ctx, struct {
			ID    gql.ID
			Token *string
		}{ID: oid}); p != nil {
			v = p
		}
	}
	if err != nil || v == nil {
		return nil, err
	}
	return &nodeResolver{id: oid, v: v}, nil
}

// Nodes resolves Query.nodes.
func (r *Resolver) Nodes(ctx context.Context, args struct{ IDs []gql.ID }) ([]*nodeResolver, error) {
	if len(args.IDs) > 100 {
		return nil, errs.Invalid("ids", "TOO_MANY_IDS", "ask for at most 100 ids at once")
	}
	out := make([]*nodeResolver, len(args.IDs))
	for i, oid := range args.IDs {
		n, err := r.Node(ctx, struct{ ID gql.ID }{oid})
		if err != nil && !errors.Is(err, errs.ErrForbidden) && !errors.Is(err, errs.ErrUnauthenticated) {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}
