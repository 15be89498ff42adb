package resolver

import (
	"context"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/order"
)

// salesOperations lists the dashboard's figures with the permission they
// need (order.Service.Sales enforces it).
var salesOperations = map[string]Permission{
	"Query.salesSummary": {authz.Report, authz.Read},
}

// salesRoot resolves the sales summary.
type salesRoot struct{ svc *order.Service }

// SalesSummary resolves Query.salesSummary.
func (r *salesRoot) SalesSummary(ctx context.Context, args struct {
	TimeZone string
	From     string
	To       string
}) (*salesSummaryResolver, error) {
	if r.svc == nil {
		return nil, authz.Denied(authz.SubjectFrom(ctx), authz.Report, authz.Read)
	}
	s, err := r.svc.Sales(ctx, order.SalesQuery{TimeZone: args.TimeZone, From: args.From, To: args.To})
	if err != nil {
		return nil, err
	}
	return &salesSummaryResolver{s: s}, nil
}

// salesSummaryResolver resolves SalesSummary: plain getters.
type salesSummaryResolver struct{ s *order.SalesSummary }

func (x *salesSummaryResolver) TimeZone() string          { return x.s.TimeZone }
func (x *salesSummaryResolver) Orders() int32             { return clampInt32(x.s.Orders) }
func (x *salesSummaryResolver) PaidOrders() int32         { return clampInt32(x.s.PaidOrders) }
func (x *salesSummaryResolver) Revenue() []*moneyResolver { return moneyList(x.s.Revenue) }
func (x *salesSummaryResolver) AwaitingShipment() int32   { return clampInt32(x.s.AwaitingShipment) }
func (x *salesSummaryResolver) Unpaid() int32             { return clampInt32(x.s.Unpaid) }
func (x *salesSummaryResolver) UnpaidNearDeadline() int32 {
	return clampInt32(x.s.NearDeadline)
}
func (x *salesSummaryResolver) NearDeadlineSeconds() int32 {
	return clampInt32(int64(x.s.NearDeadlineWithin.Seconds()))
}
func (x *salesSummaryResolver) AsOf() catalogTime { return catalogTime{x.s.AsOf} }

func (x *salesSummaryResolver) Days() []*salesDayResolver {
	out := make([]*salesDayResolver, len(x.s.Days))
	for i, d := range x.s.Days {
		out[i] = &salesDayResolver{d: d}
	}
	return out
}

// salesDayResolver resolves SalesDay.
type salesDayResolver struct{ d *order.SalesDay }

func (x *salesDayResolver) Date() string              { return x.d.Date }
func (x *salesDayResolver) Start() catalogTime        { return catalogTime{x.d.Start} }
func (x *salesDayResolver) Orders() int32             { return clampInt32(x.d.Orders) }
func (x *salesDayResolver) PaidOrders() int32         { return clampInt32(x.d.PaidOrders) }
func (x *salesDayResolver) Revenue() []*moneyResolver { return moneyList(x.d.Revenue) }

func moneyList(ms []money.Money) []*moneyResolver {
	out := make([]*moneyResolver, len(ms))
	for i, m := range ms {
		out[i] = newMoney(m)
	}
	return out
}
