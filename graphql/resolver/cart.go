package resolver

import (
	"context"
	"errors"
	"slices"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/cart"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/order"
)

// cartOperations lists the cart's operations with the permission each
// needs (cart.Service enforces them, and reaches a cart only as its
// owner: by its token or as the signed-in buyer it belongs to).
var cartOperations = map[string]Permission{
	"Query.cart": {authz.Cart, authz.Own(authz.Read)},

	"Mutation.cartCreate":                {authz.Cart, authz.Own(authz.Write)},
	"Mutation.cartLinesAdd":              {authz.Cart, authz.Own(authz.Write)},
	"Mutation.cartLinesUpdate":           {authz.Cart, authz.Own(authz.Write)},
	"Mutation.cartLinesRemove":           {authz.Cart, authz.Own(authz.Write)},
	"Mutation.cartEmailUpdate":           {authz.Cart, authz.Own(authz.Write)},
	"Mutation.cartShippingAddressUpdate": {authz.Cart, authz.Own(authz.Write)},
	"Mutation.cartBillingAddressUpdate":  {authz.Cart, authz.Own(authz.Write)},
	"Mutation.cartShippingMethodSelect":  {authz.Cart, authz.Own(authz.Write)},
	"Mutation.checkoutComplete":          {authz.Cart, authz.Own(authz.Write)},
}

// CodeIdempotencyKeyMismatch: checkoutComplete got one idempotency key in
// its input and another in the Idempotency-Key header. Refused rather
// than choosing one: the two come from different layers of the client
// (its code and, say, an HTTP library or proxy), and a retry made with
// either would otherwise place a second order.
const CodeIdempotencyKeyMismatch = "IDEMPOTENCY_KEY_MISMATCH"

type idempotencyKeyKey struct{}

// WithIdempotencyKey returns ctx carrying the value of a request's
// Idempotency-Key HTTP header, which checkoutComplete takes when its
// input names no key. The GraphQL handler puts it there; in-process
// callers pass the key in the input.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKeyKey{}, key)
}

// idempotencyKeyFrom returns the header's key in ctx, if any.
func idempotencyKeyFrom(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(idempotencyKeyKey{}).(string)
	return k, ok
}

// cartRoot resolves the cart's queries and mutations.
type cartRoot struct {
	svc *cart.Service
	// inTx runs cartCreate's two service calls in one transaction.
	inTx func(ctx context.Context, fn func(ctx context.Context) error) error
	// orders read the order checkoutComplete placed, for its payload.
	orders *order.Service
}

// newCartRoot returns the cart's resolvers over svc.
func newCartRoot(svc Services) cartRoot {
	return cartRoot{svc: svc.Carts, inTx: svc.RunInTx, orders: svc.Orders}
}

// cartRefInput is the part of every cart mutation's input that names the
// cart.
type cartRefInput struct {
	Token  *string
	CartID *gql.ID
}

func (in cartRefInput) ref() cart.Ref {
	return cart.Ref{ID: idStr(in.CartID), Token: str(in.Token)}
}

// Cart resolves Query.cart: null when no cart the caller may reach
// answers to the arguments.
func (r *cartRoot) Cart(ctx context.Context, args struct {
	Token *string
	ID    *gql.ID
}) (*cartResolver, error) {
	ref := cart.Ref{ID: idStr(args.ID), Token: str(args.Token)}
	c, err := r.svc.Get(ctx, ref)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cr := newCart(r.svc, c, ref)
	// The shipping quote is read here, where the context is, so that
	// Cart.shippingMethods is a plain getter and the cart's fields run
	// without a goroutine each (DESIGN.md, GraphQL conventions). Get
	// priced the cart, quote included, under the same read permission,
	// so ShippingMethodsOf fails only on a failing policy store; that
	// error is the cart's when the selection shows its methods, and
	// ignored when it does not.
	if cr.rates, err = quoteOf(ctx, r.svc, c); err != nil {
		if slices.Contains(selectedFieldNames(ctx), "shippingMethods") {
			return nil, err
		}
		cr.rates = []*shippingRate{}
	}
	return cr, nil
}

type cartLineInput struct {
	VariantID gql.ID
	Quantity  int32
}

func cartLines(in []cartLineInput) []cart.LineInput {
	out := make([]cart.LineInput, len(in))
	for i, l := range in {
		out[i] = cart.LineInput{VariantID: string(l.VariantID), Quantity: int64(l.Quantity)}
	}
	return out
}

// CartCreate resolves Mutation.cartCreate. The cart and its first lines
// are written in one transaction, so refused lines leave no cart behind
// (a buyer's empty cart would otherwise answer CART_EXISTS to the retry).
func (r *cartRoot) CartCreate(ctx context.Context, args struct {
	Input struct {
		Currency *string
		Lines    *[]cartLineInput
	}
}) (*cartCreatePayload, error) {
	in := args.Input
	var (
		created *cart.Created
		ref     cart.Ref
	)
	// With lines the cart and its lines commit together; without, the
	// cart is one row and needs no transaction.
	run := r.inTx
	if in.Lines == nil {
		run = func(ctx context.Context, fn func(ctx context.Context) error) error { return fn(ctx) }
	}
	err := run(ctx, func(ctx context.Context) error {
		var err error
		if created, err = r.svc.Create(ctx, str(in.Currency)); err != nil {
			return err
		}
		ref = cart.Ref{ID: created.Cart.ID, Token: created.Token}
		if in.Lines == nil {
			return nil
		}
		created.Cart, err = r.svc.AddLines(ctx, ref, cartLines(*in.Lines))
		return err
	})
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &cartCreatePayload{userErrors: ue}, err
	}
	p := &cartCreatePayload{cart: payloadCartOf(newCart(r.svc, created.Cart, ref))}
	if created.Token != "" {
		p.token = &created.Token
	}
	return p, nil
}

// cartPayload converts the answer of a cart mutation on ref.
func (r *cartRoot) cartPayload(c *cart.Cart, ref cart.Ref, err error) (*cartPayload, error) {
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &cartPayload{userErrors: ue}, err
	}
	return &cartPayload{cart: payloadCartOf(newCart(r.svc, c, ref))}, nil
}

// CartLinesAdd resolves Mutation.cartLinesAdd.
func (r *cartRoot) CartLinesAdd(ctx context.Context, args struct {
	Input struct {
		cartRefInput
		Lines []cartLineInput
	}
}) (*cartPayload, error) {
	ref := args.Input.ref()
	c, err := r.svc.AddLines(ctx, ref, cartLines(args.Input.Lines))
	return r.cartPayload(c, ref, err)
}

type cartLineUpdateInput struct {
	LineID   gql.ID
	Quantity int32
}

// CartLinesUpdate resolves Mutation.cartLinesUpdate.
func (r *cartRoot) CartLinesUpdate(ctx context.Context, args struct {
	Input struct {
		cartRefInput
		Lines []cartLineUpdateInput
	}
}) (*cartPayload, error) {
	ref := args.Input.ref()
	ups := make([]cart.LineUpdate, len(args.Input.Lines))
	for i, l := range args.Input.Lines {
		ups[i] = cart.LineUpdate{LineID: string(l.LineID), Quantity: int64(l.Quantity)}
	}
	c, err := r.svc.UpdateLines(ctx, ref, ups)
	return r.cartPayload(c, ref, err)
}

// CartLinesRemove resolves Mutation.cartLinesRemove.
func (r *cartRoot) CartLinesRemove(ctx context.Context, args struct {
	Input struct {
		cartRefInput
		LineIDs []gql.ID
	}
}) (*cartPayload, error) {
	ref := args.Input.ref()
	ids := make([]string, len(args.Input.LineIDs))
	for i, id := range args.Input.LineIDs {
		ids[i] = string(id)
	}
	c, err := r.svc.RemoveLines(ctx, ref, ids)
	return r.cartPayload(c, ref, err)
}

// CartEmailUpdate resolves Mutation.cartEmailUpdate.
func (r *cartRoot) CartEmailUpdate(ctx context.Context, args struct {
	Input struct {
		cartRefInput
		Email string
	}
}) (*cartPayload, error) {
	ref := args.Input.ref()
	c, err := r.svc.SetEmail(ctx, ref, args.Input.Email)
	return r.cartPayload(c, ref, err)
}

// cartAddressUpdateInput is CartAddressUpdateInput: an address and, when
// given, the email set with it.
type cartAddressUpdateInput struct {
	cartRefInput
	Address addressInput
	Email   *string
}

// CartShippingAddressUpdate resolves Mutation.cartShippingAddressUpdate.
func (r *cartRoot) CartShippingAddressUpdate(ctx context.Context, args struct{ Input cartAddressUpdateInput }) (*cartPayload, error) {
	ref := args.Input.ref()
	c, err := r.svc.SetShippingAddress(ctx, ref, cartAddressOf(args.Input.Address), args.Input.Email)
	return r.cartPayload(c, ref, err)
}

// CartBillingAddressUpdate resolves Mutation.cartBillingAddressUpdate.
func (r *cartRoot) CartBillingAddressUpdate(ctx context.Context, args struct{ Input cartAddressUpdateInput }) (*cartPayload, error) {
	ref := args.Input.ref()
	c, err := r.svc.SetBillingAddress(ctx, ref, cartAddressOf(args.Input.Address), args.Input.Email)
	return r.cartPayload(c, ref, err)
}

// CartShippingMethodSelect resolves Mutation.cartShippingMethodSelect.
func (r *cartRoot) CartShippingMethodSelect(ctx context.Context, args struct {
	Input struct {
		cartRefInput
		MethodID gql.ID
	}
}) (*cartPayload, error) {
	ref := args.Input.ref()
	c, err := r.svc.SetShippingMethod(ctx, ref, string(args.Input.MethodID))
	return r.cartPayload(c, ref, err)
}

// CheckoutComplete resolves Mutation.checkoutComplete. The idempotency
// key comes from the input or from the Idempotency-Key header; given in
// both, the two must be equal.
func (r *cartRoot) CheckoutComplete(ctx context.Context, args struct {
	Input struct {
		cartRefInput
		IdempotencyKey *string
	}
}) (*checkoutCompletePayload, error) {
	key := str(args.Input.IdempotencyKey)
	if header, ok := idempotencyKeyFrom(ctx); ok {
		switch {
		case args.Input.IdempotencyKey == nil:
			key = header
		case header != key:
			ue, err := userErrors(errs.Invalid(idempotency.Field, CodeIdempotencyKeyMismatch,
				"the idempotency key of the input and of the Idempotency-Key header differ"))
			return &checkoutCompletePayload{userErrors: ue}, err
		}
	}
	placed, err := r.svc.Complete(ctx, args.Input.ref(), key)
	ue, err := userErrors(err)
	if err != nil || ue != nil {
		return &checkoutCompletePayload{userErrors: ue}, err
	}
	out := &checkoutCompletePayload{}
	if placed.AccessToken != "" {
		out.accessToken = &placed.AccessToken
	}
	// A retry reads the order as the caller may read it now (it may
	// have moved on), through the order service's own ownership check: a
	// guest by the access token, a buyer as its owner. An order the
	// caller no longer reads (a buyer claimed the guest's order, which
	// ended its access token) is null: the cart's token and the key must
	// not open what the access token no longer does.
	if !placed.Replayed {
		// Placed now, in this request: the order is as checkout wrote
		// it, nothing shipped yet, its one timeline entry the buyer's.
		out.order = newOrderDetail(&order.Detail{Order: placed.Order, Lines: placed.Lines,
			Shipments: []*order.Shipment{}, Timeline: placed.Timeline})
		return out, nil
	}
	o := &orderRoot{svc: r.orders}
	out.order, err = o.payloadOrder(ctx, placed.Order.ID, placed.AccessToken)
	var domain *errs.Error
	if errors.As(err, &domain) {
		return out, nil
	}
	return out, err
}
