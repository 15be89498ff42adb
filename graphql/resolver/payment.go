package resolver

import (
	"context"
	"errors"
	"fmt"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
)

// paymentOperations lists the payment operations with the permission each
// needs (payment.Service enforces them). A buyer reaches only the
// payments of their own orders: by their account, or as a guest by the
// order's access token. availablePaymentMethods needs what paymentCreate
// needs, since it answers for the order about to be paid.
var paymentOperations = map[string]Permission{
	"Query.availablePaymentMethods": {authz.Payment, authz.Own(authz.Write)},
	"Query.payment":                 {authz.Payment, authz.Own(authz.Read)},
	"Query.flaggedPaymentEvents":    {authz.Payment, authz.Read},

	"Mutation.paymentCreate":              {authz.Payment, authz.Own(authz.Write)},
	"Mutation.paymentRefresh":             {authz.Payment, authz.Own(authz.Write)},
	"Mutation.paymentCapture":             {authz.Payment, authz.Write},
	"Mutation.paymentVoid":                {authz.Payment, authz.Write},
	"Mutation.orderRefund":                {authz.Refund, authz.Write},
	"Mutation.paymentConfirmBankTransfer": {authz.Payment, authz.Write},
	"Mutation.paymentEventResolve":        {authz.Payment, authz.Write},
	// Routing (payment_routing.go): the shop's payment settings.
	"Query.paymentRoutes":       {authz.Payment, authz.Read},
	"Mutation.paymentRoutesSet": {authz.Payment, authz.Write},
}

// Codes of the payment resolvers, besides core/payment's.
const (
	// CodePaymentsUnavailable: the server was built without payments.
	CodePaymentsUnavailable = "PAYMENTS_UNAVAILABLE"
	// CodeAmountTooLarge: a money input beyond MaxMoneyInput.
	CodeAmountTooLarge = "AMOUNT_TOO_LARGE"
	// CodeTooManyLines: a refund of more than MaxRefundLines lines.
	CodeTooManyLines = "TOO_MANY_LINES"
)

// Bounds of the payment inputs, checked before any service runs.
const (
	// MaxMoneyInput is the largest amount, in minor units, a payment
	// input takes (10^14: a trillion in a currency of cents): far above
	// any order, and far below what sums of amounts could overflow.
	MaxMoneyInput = 100_000_000_000_000
	// MaxRefundLines is the most lines one refund names.
	MaxRefundLines = 200
)

// paymentRoot resolves the payment queries and mutations.
type paymentRoot struct {
	svc *payment.Service
	// orders read a payment's order when the selection shows it.
	orders *order.Service
	// plugins name the payment methods.
	plugins *plugin.Service
	// az decides whether a caller sees a payment as staff (its merchant
	// message and gateway events), and refuses a caller before their
	// input is judged; nil refuses everything.
	az authz.Authorizer
	// reads load the payment fields of a payment's order.
	reads paymentReads
}

func newPaymentRoot(svc Services) paymentRoot {
	r := paymentRoot{svc: svc.Payments, orders: svc.Orders, plugins: svc.Plugins, reads: paymentReads{svc: svc.Payments}}
	if svc.Access != nil {
		r.az = svc.Access
	}
	return r
}

// may checks p for a caller before the service does: bad input is
// judged only for callers who may run the operation, so a caller without
// the permission learns nothing from its input's problems.
func (r *paymentRoot) may(ctx context.Context, p Permission) error {
	if r.az == nil {
		return authz.Denied(authz.SubjectFrom(ctx), p.Object, p.Action)
	}
	if authz.IsOwn(p.Action) {
		return authz.MayOwn(ctx, r.az, p.Object, p.Action)
	}
	return r.az.Can(ctx, p.Object, p.Action)
}

// service returns the payment service; on a server built without one,
// the caller's refusal or PAYMENTS_UNAVAILABLE.
func (r *paymentRoot) service(ctx context.Context, op string) (*payment.Service, error) {
	if r.svc != nil {
		return r.svc, nil
	}
	if err := r.may(ctx, paymentOperations[op]); err != nil {
		return nil, err
	}
	return nil, errs.Unavailable(CodePaymentsUnavailable, "this server takes no payments")
}

// staffView reports whether the caller sees payments as staff: working
// for the shop and holding payment read.
func (r *paymentRoot) staffView(ctx context.Context) bool {
	return actsForShop(ctx) && r.az != nil && r.az.Can(ctx, authz.Payment, authz.Read) == nil
}

// AvailablePaymentMethods resolves Query.availablePaymentMethods.
func (r *paymentRoot) AvailablePaymentMethods(ctx context.Context, args struct {
	OrderID gql.ID
	Token   *string
}) ([]*paymentMethodResolver, error) {
	svc, err := r.service(ctx, "Query.availablePaymentMethods")
	if err != nil {
		return nil, err
	}
	ms, err := svc.AvailableMethods(ctx, string(args.OrderID), str(args.Token))
	if err != nil {
		return nil, err
	}
	names := r.methodNames(ctx)
	out := make([]*paymentMethodResolver, len(ms))
	for i, m := range ms {
		p, ok := names[m.GatewayID]
		if !ok || p.DisplayName == "" {
			p = plugin.Plugin{DisplayName: m.GatewayID}
		}
		out[i] = &paymentMethodResolver{m: m, plugin: p}
	}
	return out, nil
}

// methodNames are the display names and descriptions of the installed
// plugins, by id. The plugin catalog needs plugin read, which buyers do
// not hold; a gateway's name and description are what the checkout shows
// every buyer, so they are read as the platform, and nothing else of the
// catalog (settings, capabilities, versions, paths) leaves here. Without a
// catalog, or when it cannot be read, methods are named by their id.
func (r *paymentRoot) methodNames(ctx context.Context) map[string]plugin.Plugin {
	if r.plugins == nil {
		return nil
	}
	list, err := r.plugins.List(authz.WithSubject(ctx, authz.SystemSubject("graphql.payment-methods")))
	if err != nil {
		return nil
	}
	out := make(map[string]plugin.Plugin, len(list))
	for _, p := range list {
		// Only the names and descriptions leave here.
		out[p.ID] = plugin.Plugin{ID: p.ID, DisplayName: p.DisplayName, DisplayNames: p.DisplayNames,
			Description: p.Description, Descriptions: p.Descriptions}
	}
	return out
}

// Payment resolves Query.payment: null when there is no such payment or
// it is not one the caller may see.
func (r *paymentRoot) Payment(ctx context.Context, args struct {
	ID    gql.ID
	Token *string
}) (*paymentResolver, error) {
	svc, err := r.service(ctx, "Query.payment")
	if err != nil {
		return nil, err
	}
	a, err := svc.Attempt(ctx, string(args.ID), str(args.Token))
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return r.onePayment(ctx, a, str(args.Token), "")
}

// onePayment resolves a payment shown on its own (a query, a payload):
// its gateway events for staff and its order, when the selection at
// prefix reads them, read as the caller may see them (token: a guest's
// access token).
func (r *paymentRoot) onePayment(ctx context.Context, a *payment.Attempt, token, prefix string) (*paymentResolver, error) {
	p := newPayment(a, r.staffView(ctx))
	if p.staff && gql.HasSelectedField(ctx, prefix+"events") {
		evs, err := r.svc.EventsOf(ctx, []string{a.OrderID})
		if err != nil {
			return nil, err
		}
		p.events = paymentsOf([]*payment.Attempt{a}, true, evs[a.OrderID], nil)[0].events
	}
	if r.orders == nil || !gql.HasSelectedField(ctx, prefix+"order") {
		return p, nil
	}
	var (
		d   *order.Detail
		err error
	)
	if token != "" {
		d, err = r.orders.GetByAccessToken(ctx, token)
		if err == nil && d.Order.ID != a.OrderID {
			err = errs.NotFound(order.CodeOrderNotFound, "no such order") // as for a token that opens no order
		}
	} else {
		d, err = r.orders.Get(ctx, a.OrderID)
	}
	switch {
	case isNotFound(err) || isDenied(err):
		return p, nil // the order went out of the caller's reach
	case err != nil:
		return nil, err
	}
	o := newOrderDetail(d)
	if err := r.reads.load(ctx, []*orderResolver{o}, token, selectedPayments(ctx, prefix+"order."), false); err != nil {
		return nil, err
	}
	p.order = o
	return p, nil
}

// FlaggedPaymentEvents resolves Query.flaggedPaymentEvents.
func (r *paymentRoot) FlaggedPaymentEvents(ctx context.Context, args struct {
	First    *int32
	Resolved *bool
}) ([]*paymentEventResolver, error) {
	svc, err := r.service(ctx, "Query.flaggedPaymentEvents")
	if err != nil {
		return nil, err
	}
	n := page.DefaultFirst
	if args.First != nil {
		if *args.First < 1 || *args.First > page.MaxFirst {
			if err := r.may(ctx, paymentOperations["Query.flaggedPaymentEvents"]); err != nil {
				return nil, err
			}
			return nil, errs.Invalid("first", "INVALID_PAGE_SIZE", fmt.Sprintf("first must be between 1 and %d", page.MaxFirst))
		}
		n = int(*args.First)
	}
	evs, err := svc.Flagged(ctx, n, args.Resolved != nil && *args.Resolved)
	if err != nil {
		return nil, err
	}
	out := make([]*paymentEventResolver, len(evs))
	for i, e := range evs {
		out[i] = &paymentEventResolver{e: e}
	}
	return out, nil
}

// idempotencyKeyOf is a mutation's idempotency key: the input's, or the
// Idempotency-Key header's when the input names none. Given in both, the
// two must be equal (IDEMPOTENCY_KEY_MISMATCH), as for checkoutComplete.
func idempotencyKeyOf(ctx context.Context, input *string) (string, error) {
	header, ok := idempotencyKeyFrom(ctx)
	switch {
	case !ok:
		return str(input), nil
	case input == nil:
		return header, nil
	case *input != header:
		return "", errs.Invalid(idempotency.Field, CodeIdempotencyKeyMismatch,
			"the idempotency key of the input and of the Idempotency-Key header differ")
	}
	return *input, nil
}

// paymentMoney converts a money input of a payment operation at field,
// refusing amounts beyond MaxMoneyInput.
func paymentMoney(in *MoneyInput, field string) (*money.Money, error) {
	if in == nil {
		return nil, nil
	}
	m, err := parseMoney(*in, field)
	if err != nil {
		return nil, err
	}
	if m.Amount() > MaxMoneyInput || m.Amount() < -MaxMoneyInput {
		return nil, errs.Invalid(field+".amount", CodeAmountTooLarge, fmt.Sprintf("at most %s", money.New(MaxMoneyInput, m.Currency())))
	}
	return &m, nil
}

// isDenied reports whether err refuses the caller.
func isDenied(err error) bool {
	return errors.Is(err, errs.ErrForbidden) || errors.Is(err, errs.ErrUnauthenticated)
}
