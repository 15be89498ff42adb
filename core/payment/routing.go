package payment

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/country"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/id"
	"github.com/kassahq/kassa/core/money"
)

// Routing (Stripe's and Adyen's payment routing rules, kept simple): the
// owner lists, per payment method the buyer chooses ("card", "alipay",
// "wechat"), the gateways that may take it, in order, each optionally
// narrowed to a currency, a buyer country and an amount range. A payment
// started with a method goes to the first gateway whose route matches the
// order; when that gateway provably received nothing (its plugin was
// down before the call, or it refused the request itself), the attempt is
// FAILED and the next gateway is tried. Never after an UNKNOWN outcome, a
// pending answer or a buyer's decline: the money may move, or the buyer
// said no.

// Limits of routing.
const (
	// MaxRoutes is the most routes one method has.
	MaxRoutes = 20
	// MaxRoutedMethods is the most methods the shop routes.
	MaxRoutedMethods = 30
	// MaxRouteAmount bounds an amount range, in minor units (10^14, as
	// the payment inputs of the API).
	MaxRouteAmount = 100_000_000_000_000
)

// The codes of routing's refusals.
const (
	// CodeInvalidMethod: a method name that is not 1 to 32 lower case
	// letters, digits and '_', starting with a letter.
	CodeInvalidMethod = "INVALID_METHOD"
	// CodeTooManyRoutes: more than MaxRoutes routes for a method, or more
	// than MaxRoutedMethods methods.
	CodeTooManyRoutes = "TOO_MANY_ROUTES"
	// CodeUnknownGateway: a route to a gateway that is not an installed
	// payment plugin.
	CodeUnknownGateway = "UNKNOWN_GATEWAY"
	// CodeGatewayDisabled: a route to a disabled gateway.
	CodeGatewayDisabled = "GATEWAY_DISABLED"
	// CodeInvalidCurrency: a currency that is not an ISO 4217 code.
	CodeInvalidCurrency = "INVALID_CURRENCY"
	// CodeInvalidCountry: a country that is not an ISO 3166-1 alpha-2 code.
	CodeInvalidCountry = "INVALID_COUNTRY"
	// CodeInvalidAmountRange: a bound below zero or above MaxRouteAmount,
	// or a minimum above the maximum.
	CodeInvalidAmountRange = "INVALID_AMOUNT_RANGE"
	// CodeDuplicateRoute: the same gateway twice under the same conditions.
	CodeDuplicateRoute = "DUPLICATE_ROUTE"
	// CodeNoRoute: a payment by a method no route of which matches the
	// order (or whose gateways are all disabled).
	CodeNoRoute = "NO_ROUTE"
	// CodeGatewayAndMethod: a payment naming both a gateway and a method.
	CodeGatewayAndMethod = "GATEWAY_AND_METHOD"
)

// methodPattern is what a method name looks like.
var methodPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// gatewayPattern is a plugin id as the plugin host accepts them.
var gatewayPattern = regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z0-9][a-z0-9_-]{0,62}$`)

// failoverDeclines are the decline codes by which a gateway says it
// refused the request itself (it cannot take this currency or amount, or
// failed before handling it): no buyer was asked and no money moved, so
// another gateway may be asked. A buyer's decline (card_declined,
// insufficient_funds, authentication_failed, buyer_canceled) is not one:
// asking another gateway would charge a card its owner or issuer refused.
var failoverDeclines = []string{
	"currency_not_supported", "invalid_amount", "processing_error", "invalid_request", "gateway_unavailable",
}

// Route sends a payment method to a gateway when an order matches it.
type Route struct {
	bun.BaseModel `bun:"table:payment_routes,alias:prt"`

	// ID is "prt_" followed by a sortable id.
	ID string `bun:"id,pk"`
	// Method is the payment method the buyer chooses ("card").
	Method string `bun:"method"`
	// Position orders the routes of a method, from 0.
	Position int `bun:"position"`
	// GatewayID is the gateway plugin that takes the payment.
	GatewayID string `bun:"gateway_id"`
	// Currency narrows the route to orders in this ISO 4217 currency;
	// "" for any.
	Currency string `bun:"currency"`
	// Country narrows the route to buyers shipping to this ISO 3166-1
	// alpha-2 country; "" for any.
	Country string `bun:"country"`
	// MinAmount and MaxAmount bound the order's total in minor units of
	// Currency (required with a bound), inclusive; nil for no bound.
	MinAmount *int64 `bun:"min_amount"`
	MaxAmount *int64 `bun:"max_amount"`
	// CreatedBy is the subject who set the method's routes.
	CreatedBy string    `bun:"created_by"`
	CreatedAt time.Time `bun:"created_at"`
}

// Matches reports whether an order in currency to country for amount
// (minor units) fits the route's conditions.
func (r *Route) Matches(amount money.Money, to string) bool {
	switch {
	case r.Currency != "" && r.Currency != amount.Currency().Code():
		return false
	case r.Country != "" && !strings.EqualFold(r.Country, to):
		return false
	case r.MinAmount != nil && amount.Amount() < *r.MinAmount:
		return false
	case r.MaxAmount != nil && amount.Amount() > *r.MaxAmount:
		return false
	}
	return true
}

// RouteInput is one route of SetRoutes.
type RouteInput struct {
	GatewayID string
	Currency  string
	Country   string
	MinAmount *int64
	MaxAmount *int64
}

// SetRoutesInput replaces the routes of one method.
type SetRoutesInput struct {
	// Method is the payment method ("card", "alipay", "wechat").
	Method string
	// Routes are tried in this order; none removes the method's routing.
	Routes []RouteInput
}

// Routes lists every route, by method then position. Needs payment read.
func (s *Service) Routes(ctx context.Context) ([]*Route, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Read); err != nil {
		return nil, err
	}
	return s.store.Routes(ctx, "")
}

// SetRoutes replaces the routes of a method with in.Routes, in that order,
// and returns the method's routes as stored. Needs payment write (the
// owner, finance). Every gateway must be an installed, enabled payment
// plugin. Refused, changing nothing: INVALID_METHOD, TOO_MANY_ROUTES,
// REQUIRED (a gateway, the currency of an amount range), UNKNOWN_GATEWAY, GATEWAY_DISABLED, INVALID_CURRENCY,
// INVALID_COUNTRY, INVALID_AMOUNT_RANGE, DUPLICATE_ROUTE, with field paths
// relative to in (routes.1.currency).
func (s *Service) SetRoutes(ctx context.Context, in SetRoutesInput) ([]*Route, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Write); err != nil {
		return nil, err
	}
	var v errs.Validator
	v.Check(methodPattern.MatchString(in.Method), "method", CodeInvalidMethod, "a method is 1 to 32 lower case letters, digits and '_', starting with a letter (card, alipay, wechat)")
	if len(in.Routes) > MaxRoutes {
		v.Add(errs.Invalid("routes", CodeTooManyRoutes, fmt.Sprintf("at most %d routes per method", MaxRoutes)))
		return nil, v.Err()
	}
	now := s.now()
	routes := make([]*Route, 0, len(in.Routes))
	seen := map[string]int{}
	for i, ri := range in.Routes {
		path := func(f string) string { return fmt.Sprintf("routes.%d.%s", i, f) }
		r := &Route{ID: id.New("prt"), Method: in.Method, Position: i, GatewayID: strings.TrimSpace(ri.GatewayID),
			Currency: strings.ToUpper(strings.TrimSpace(ri.Currency)), Country: strings.ToUpper(strings.TrimSpace(ri.Country)),
			MinAmount: ri.MinAmount, MaxAmount: ri.MaxAmount, CreatedBy: authz.SubjectFrom(ctx).ID, CreatedAt: now}
		switch {
		case r.GatewayID == "":
			v.Add(errs.Invalid(path("gatewayId"), CodeRequired, "name the gateway plugin"))
		case !gatewayPattern.MatchString(r.GatewayID):
			v.Add(errs.Invalid(path("gatewayId"), CodeUnknownGateway, "not a plugin id like payment.testpay"))
		default:
			if err := s.checkGateway(ctx, path("gatewayId"), r.GatewayID); err != nil {
				v.Add(err)
			}
		}
		if r.Currency != "" {
			if _, err := money.ParseCurrency(r.Currency); err != nil {
				v.Add(errs.Invalid(path("currency"), CodeInvalidCurrency, "not an ISO 4217 currency code (CNY, EUR)"))
			}
		}
		v.Check(r.Country == "" || country.Valid(r.Country), path("country"), CodeInvalidCountry, "not an ISO 3166-1 alpha-2 country code (CN, DE)")
		// Minor units mean nothing across currencies.
		v.Check((r.MinAmount == nil && r.MaxAmount == nil) || r.Currency != "", path("currency"), CodeRequired, "an amount range is in a currency: name it")
		inRange := func(p *int64) bool { return p == nil || (*p >= 0 && *p <= MaxRouteAmount) }
		switch {
		case !inRange(r.MinAmount):
			v.Add(errs.Invalid(path("minAmount"), CodeInvalidAmountRange, fmt.Sprintf("between 0 and %d minor units", int64(MaxRouteAmount))))
		case !inRange(r.MaxAmount):
			v.Add(errs.Invalid(path("maxAmount"), CodeInvalidAmountRange, fmt.Sprintf("between 0 and %d minor units", int64(MaxRouteAmount))))
		case r.MinAmount != nil && r.MaxAmount != nil && *r.MinAmount > *r.MaxAmount:
			v.Add(errs.Invalid(path("minAmount"), CodeInvalidAmountRange, "the minimum is above the maximum"))
		}
		key := fmt.Sprint(r.GatewayID, "\x00", r.Currency, "\x00", r.Country, "\x00", bound(r.MinAmount), "\x00", bound(r.MaxAmount))
		if j, dup := seen[key]; dup {
			v.Add(errs.Invalid(path("gatewayId"), CodeDuplicateRoute, fmt.Sprintf("the same gateway under the same conditions as routes.%d", j)))
		}
		seen[key] = i
		routes = append(routes, r)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := s.db.RunInTx(ctx, func(ctx context.Context) error {
		if len(routes) > 0 {
			methods, err := s.store.RoutedMethods(ctx)
			if err != nil {
				return err
			}
			if !slices.Contains(methods, in.Method) && len(methods) >= MaxRoutedMethods {
				return errs.Invalid("method", CodeTooManyRoutes, fmt.Sprintf("at most %d methods are routed", MaxRoutedMethods))
			}
		}
		if err := s.store.DeleteRoutes(ctx, in.Method); err != nil {
			return err
		}
		return s.store.InsertRoutes(ctx, routes)
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "payment routes set", "method", in.Method, "routes", len(routes), "by", authz.SubjectFrom(ctx).ID)
	return s.store.Routes(ctx, in.Method)
}

func bound(p *int64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// checkGateway says why gatewayID, given at field (a dotted path like the
// other route errors), cannot be routed to, or nil.
func (s *Service) checkGateway(ctx context.Context, field, gatewayID string) *errs.Error {
	_, err := s.gateways.Gateway(ctx, gatewayID)
	var e *errs.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errs.ErrNotFound):
		return errs.Invalid(field, CodeUnknownGateway, fmt.Sprintf("no payment plugin %s is installed", gatewayID))
	case errors.As(err, &e) && e.Code == "PLUGIN_DISABLED":
		return errs.Invalid(field, CodeGatewayDisabled, fmt.Sprintf("the plugin %s is disabled; enable it first", gatewayID))
	case errors.Is(err, errs.ErrInvalid), errors.Is(err, errs.ErrConflict):
		return errs.Invalid(field, CodeUnknownGateway, fmt.Sprintf("%s is not a payment plugin", gatewayID))
	}
	// Down right now (unavailable): it may be routed to, failover covers it.
	return nil
}

// routedGateways lists the enabled gateways a payment of o by method goes
// to, in the order to try them: the matching routes' gateways, each once.
func (s *Service) routedGateways(ctx context.Context, method string, o *OrderInfo) ([]Gateway, error) {
	enabled, err := s.enabledGateways(ctx)
	if err != nil {
		return nil, err
	}
	return s.routedAmong(ctx, method, o, enabled)
}

// routedAmong is routedGateways among the enabled gateways given (by id),
// for a caller that looked them up before its transaction.
func (s *Service) routedAmong(ctx context.Context, method string, o *OrderInfo, enabled map[string]Gateway) ([]Gateway, error) {
	routes, err := s.store.Routes(ctx, method)
	if err != nil {
		return nil, err
	}
	var out []Gateway
	for _, r := range routes {
		gw, ok := enabled[r.GatewayID]
		if !ok || !r.Matches(o.Total, o.ShippingCountry) || slices.ContainsFunc(out, func(g Gateway) bool { return g.ID() == r.GatewayID }) {
			continue
		}
		out = append(out, gw)
	}
	return out, nil
}

// enabledGateways are the enabled gateways by id.
func (s *Service) enabledGateways(ctx context.Context) (map[string]Gateway, error) {
	gws, err := s.gateways.Gateways(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Gateway, len(gws))
	for _, g := range gws {
		out[g.ID()] = g
	}
	return out, nil
}

// failoverAllowed reports whether the attempt just made proves that its
// gateway received nothing it could act on, so the next gateway may be
// asked: FAILED with a decline code by which the gateway (or the plugin
// host, "gateway_unavailable") refused the request itself.
func failoverAllowed(a *Attempt) bool {
	return a != nil && a.State == StateFailed && slices.Contains(failoverDeclines, a.DeclineCode)
}
