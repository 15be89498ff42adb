package resolver

import (
	"context"
	"fmt"
	"strings"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
)

// PaymentRoutes resolves Query.paymentRoutes.
func (r *paymentRoot) PaymentRoutes(ctx context.Context) ([]*paymentRouteResolver, error) {
	svc, err := r.service(ctx, "Query.paymentRoutes")
	if err != nil {
		return nil, err
	}
	routes, err := svc.Routes(ctx)
	if err != nil {
		return nil, err
	}
	return newRoutes(routes), nil
}

type paymentRouteInput struct {
	GatewayID string
	Currency  *string
	Country   *string
	MinAmount *string
	MaxAmount *string
}

// paymentRoutesPayload resolves PaymentRoutesSetPayload.
type paymentRoutesPayload struct {
	routes     *[]*paymentRouteResolver
	userErrors []*userError
}

func (p *paymentRoutesPayload) Routes() *[]*paymentRouteResolver { return p.routes }
func (p *paymentRoutesPayload) UserErrors() []*userError         { return p.userErrors }

// PaymentRoutesSet resolves Mutation.paymentRoutesSet. The amounts are
// decimals in the route's currency, turned into its minor units here;
// the service judges the rest.
func (r *paymentRoot) PaymentRoutesSet(ctx context.Context, args struct {
	Input struct {
		Method string
		Routes []paymentRouteInput
	}
}) (*paymentRoutesPayload, error) {
	const op = "Mutation.paymentRoutesSet"
	svc, err := r.service(ctx, op)
	if err != nil {
		return nil, err
	}
	// Judge nothing for a caller who may not set routes.
	if err := r.may(ctx, paymentOperations[op]); err != nil {
		return nil, err
	}
	in := payment.SetRoutesInput{Method: args.Input.Method}
	var v errs.Validator
	if len(args.Input.Routes) > payment.MaxRoutes {
		v.Add(errs.Invalid("routes", payment.CodeTooManyRoutes, fmt.Sprintf("at most %d routes per method", payment.MaxRoutes)))
	} else {
		for i, ri := range args.Input.Routes {
			route := payment.RouteInput{GatewayID: ri.GatewayID, Currency: str(ri.Currency), Country: str(ri.Country)}
			cur, curErr := money.ParseCurrency(strings.TrimSpace(route.Currency))
			for _, b := range []struct {
				field string
				in    *string
				out   **int64
			}{{"minAmount", ri.MinAmount, &route.MinAmount}, {"maxAmount", ri.MaxAmount, &route.MaxAmount}} {
				if b.in == nil {
					continue
				}
				if curErr != nil {
					// The service says the currency is missing or wrong.
					n := int64(0)
					*b.out = &n
					continue
				}
				m, err := money.Parse(strings.TrimSpace(*b.in), cur)
				if err != nil || len(*b.in) > 40 {
					v.Add(errs.Invalid(fmt.Sprintf("routes.%d.%s", i, b.field), payment.CodeInvalidAmountRange, fmt.Sprintf("a decimal amount in %s, like 100.00", cur.Code())))
					continue
				}
				n := m.Amount()
				*b.out = &n
			}
			in.Routes = append(in.Routes, route)
		}
	}
	if err := v.Err(); err != nil {
		ue, err := userErrors(err)
		return &paymentRoutesPayload{userErrors: ue}, err
	}
	routes, err := svc.SetRoutes(ctx, in)
	if ue, err := userErrors(err); err != nil || ue != nil {
		return &paymentRoutesPayload{userErrors: ue}, err
	}
	out := newRoutes(routes)
	return &paymentRoutesPayload{routes: &out, userErrors: []*userError{}}, nil
}

func newRoutes(routes []*payment.Route) []*paymentRouteResolver {
	out := make([]*paymentRouteResolver, len(routes))
	for i, rt := range routes {
		out[i] = &paymentRouteResolver{rt: rt}
	}
	return out
}

// paymentRouteResolver resolves PaymentRoute.
type paymentRouteResolver struct{ rt *payment.Route }

func (r *paymentRouteResolver) ID() gql.ID             { return gql.ID(r.rt.ID) }
func (r *paymentRouteResolver) Method() string         { return r.rt.Method }
func (r *paymentRouteResolver) Position() int32        { return int32(r.rt.Position) }
func (r *paymentRouteResolver) GatewayID() string      { return r.rt.GatewayID }
func (r *paymentRouteResolver) CreatedBy() string      { return r.rt.CreatedBy }
func (r *paymentRouteResolver) CreatedAt() catalogTime { return catalogTime{r.rt.CreatedAt} }
func (r *paymentRouteResolver) Currency() *string      { return nonEmpty(r.rt.Currency) }
func (r *paymentRouteResolver) Country() *string       { return nonEmpty(r.rt.Country) }
func (r *paymentRouteResolver) MinAmount() *moneyResolver {
	return r.amount(r.rt.MinAmount)
}
func (r *paymentRouteResolver) MaxAmount() *moneyResolver {
	return r.amount(r.rt.MaxAmount)
}

// amount is a bound in the route's currency; nil without one (or without
// a currency, which the service never stores with a bound).
func (r *paymentRouteResolver) amount(p *int64) *moneyResolver {
	cur, err := money.ParseCurrency(r.rt.Currency)
	if p == nil || err != nil {
		return nil
	}
	return newMoney(money.New(*p, cur))
}

// Method resolves Payment.method: the routed method the buyer chose;
// null when a gateway was named.
func (r *paymentResolver) Method() *string { return nonEmpty(r.a.Method) }

// FailoverOf resolves Payment.failoverOf: the payment this one followed
// because its gateway received nothing; null for the first.
func (r *paymentResolver) FailoverOf() *gql.ID { return optionalID(r.a.FailoverOf) }
