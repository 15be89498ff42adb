package resolver

import (
	"context"
	"time"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
)

// paymentReportOperations lists the payment reports with the permission
// each needs (payment.Service enforces it).
var paymentReportOperations = map[string]Permission{
	"Query.paymentReconciliation": {authz.Payment, authz.Read},
	"Query.paymentAnalytics":      {authz.Payment, authz.Read},
}

// reportRoot resolves the payment reports.
type reportRoot struct {
	svc *payment.Service
	// az refuses a caller before their input is judged; nil refuses
	// everyone.
	az authz.Authorizer
}

func newReportRoot(svc Services) reportRoot {
	r := reportRoot{svc: svc.Payments}
	if svc.Access != nil {
		r.az = svc.Access
	}
	return r
}

// service checks payment read first (a caller without it learns nothing
// from their input's problems), then returns the payment service, or
// PAYMENTS_UNAVAILABLE on a server built without one.
func (r *reportRoot) service(ctx context.Context) (*payment.Service, error) {
	if r.az == nil {
		return nil, authz.Denied(authz.SubjectFrom(ctx), authz.Payment, authz.Read)
	}
	if err := r.az.Can(ctx, authz.Payment, authz.Read); err != nil {
		return nil, err
	}
	if r.svc == nil {
		return nil, errs.Unavailable(CodePaymentsUnavailable, "this server takes no payments")
	}
	return r.svc, nil
}

// PaymentReconciliation resolves Query.paymentReconciliation.
func (r *reportRoot) PaymentReconciliation(ctx context.Context, args struct {
	GatewayID string
	Date      string
}) (*reconciliationResolver, error) {
	svc, err := r.service(ctx)
	if err != nil {
		return nil, err
	}
	day, err := payment.ParseDay(args.Date)
	if err != nil {
		return nil, err
	}
	rep, err := svc.Reconciliation(ctx, args.GatewayID, day)
	if err != nil {
		return nil, err
	}
	return &reconciliationResolver{r: rep}, nil
}

// PaymentAnalytics resolves Query.paymentAnalytics.
func (r *reportRoot) PaymentAnalytics(ctx context.Context, args struct {
	From    catalogTime
	To      catalogTime
	GroupBy string
	// Interval is nullable, no default in the schema: graph-gophers
	// hands an omitted variable ($i) to the resolver as null, not as the
	// argument's default, so nil means NONE here.
	Interval *string
	TimeZone *string
}) ([]*analyticsRowResolver, error) {
	svc, err := r.service(ctx)
	if err != nil {
		return nil, err
	}
	interval := payment.IntervalNone
	if args.Interval != nil {
		interval = payment.AnalyticsInterval(*args.Interval)
	}
	q := payment.AnalyticsQuery{From: args.From.t, To: args.To.t, GroupBy: payment.AnalyticsGroup(args.GroupBy), Interval: interval}
	if args.TimeZone != nil {
		q.TimeZone = *args.TimeZone
	}
	rows, err := svc.Analytics(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]*analyticsRowResolver, len(rows))
	for i, row := range rows {
		out[i] = &analyticsRowResolver{r: row}
	}
	return out, nil
}

// reconciliationResolver resolves PaymentReconciliation: plain getters.
type reconciliationResolver struct{ r *payment.ReconciliationReport }

func (x *reconciliationResolver) GatewayID() string { return x.r.GatewayID }
func (x *reconciliationResolver) Date() string      { return x.r.Day.Format(time.DateOnly) }
func (x *reconciliationResolver) From() catalogTime { return catalogTime{x.r.From} }
func (x *reconciliationResolver) To() catalogTime   { return catalogTime{x.r.To} }
func (x *reconciliationResolver) Matched() int32    { return clampInt32(int64(x.r.Matched)) }
func (x *reconciliationResolver) GatewayTransactions() int32 {
	return clampInt32(int64(x.r.GatewayTransactions))
}
func (x *reconciliationResolver) KassaMoves() int32          { return clampInt32(int64(x.r.KassaMoves)) }
func (x *reconciliationResolver) IgnoredTransactions() int32 { return clampInt32(int64(x.r.Ignored)) }

func (x *reconciliationResolver) Totals() []*reconciliationTotalResolver {
	out := make([]*reconciliationTotalResolver, len(x.r.Totals))
	for i := range x.r.Totals {
		out[i] = &reconciliationTotalResolver{t: &x.r.Totals[i]}
	}
	return out
}

func (x *reconciliationResolver) Discrepancies() []*discrepancyResolver {
	out := make([]*discrepancyResolver, len(x.r.Discrepancies))
	for i := range x.r.Discrepancies {
		out[i] = &discrepancyResolver{d: &x.r.Discrepancies[i]}
	}
	return out
}

// reconciliationTotalResolver resolves PaymentReconciliationTotal.
type reconciliationTotalResolver struct{ t *payment.ReconciliationTotal }

func (x *reconciliationTotalResolver) CurrencyCode() string     { return x.t.Currency.Code() }
func (x *reconciliationTotalResolver) Captured() *moneyResolver { return newMoney(x.t.Captured) }
func (x *reconciliationTotalResolver) Refunded() *moneyResolver { return newMoney(x.t.Refunded) }
func (x *reconciliationTotalResolver) Captures() int32          { return clampInt32(int64(x.t.Captures)) }
func (x *reconciliationTotalResolver) Refunds() int32           { return clampInt32(int64(x.t.Refunds)) }

// discrepancyResolver resolves PaymentDiscrepancy.
type discrepancyResolver struct{ d *payment.Discrepancy }

func (x *discrepancyResolver) Kind() string              { return string(x.d.Kind) }
func (x *discrepancyResolver) Type() string              { return string(x.d.Type) }
func (x *discrepancyResolver) TransactionID() *string    { return nonEmpty(x.d.TransactionID) }
func (x *discrepancyResolver) AttemptID() *gql.ID        { return reportID(x.d.AttemptID) }
func (x *discrepancyResolver) RefundID() *gql.ID         { return reportID(x.d.RefundID) }
func (x *discrepancyResolver) OrderID() *gql.ID          { return reportID(x.d.OrderID) }
func (x *discrepancyResolver) GatewayRef() *string       { return nonEmpty(x.d.GatewayRef) }
func (x *discrepancyResolver) GatewayRefundRef() *string { return nonEmpty(x.d.GatewayRefundRef) }
func (x *discrepancyResolver) GatewayAmount() *moneyResolver {
	return reportMoney(x.d.GatewayAmount)
}
func (x *discrepancyResolver) KassaAmount() *moneyResolver { return reportMoney(x.d.KassaAmount) }
func (x *discrepancyResolver) OccurredAt() catalogTime     { return catalogTime{x.d.OccurredAt} }

// reportMoney is null for the zero Money (no currency: nothing known).
func reportMoney(m money.Money) *moneyResolver {
	if m.Currency().IsZero() {
		return nil
	}
	return newMoney(m)
}

// reportID is null for an id Kassa does not know.
func reportID(s string) *gql.ID {
	if s == "" {
		return nil
	}
	id := gql.ID(s)
	return &id
}

// analyticsRowResolver resolves PaymentAnalyticsRow.
type analyticsRowResolver struct{ r *payment.AnalyticsRow }

func (x *analyticsRowResolver) BucketStart() *catalogTime {
	if x.r.BucketStart.IsZero() {
		return nil
	}
	return &catalogTime{x.r.BucketStart}
}
func (x *analyticsRowResolver) Key() string          { return x.r.Key }
func (x *analyticsRowResolver) Attempts() int32      { return clampInt32(x.r.Attempts) }
func (x *analyticsRowResolver) Succeeded() int32     { return clampInt32(x.r.Succeeded) }
func (x *analyticsRowResolver) Failed() int32        { return clampInt32(x.r.Failed) }
func (x *analyticsRowResolver) Open() int32          { return clampInt32(x.r.Open) }
func (x *analyticsRowResolver) SuccessRate() float64 { return x.r.SuccessRate }
func (x *analyticsRowResolver) FailureRate() float64 { return x.r.FailureRate }

func (x *analyticsRowResolver) Captured() []*moneyResolver {
	out := make([]*moneyResolver, len(x.r.Captured))
	for i, m := range x.r.Captured {
		out[i] = newMoney(m)
	}
	return out
}

func (x *analyticsRowResolver) MedianTimeToPaidSeconds() *float64 {
	if x.r.MedianTimeToPaid == nil {
		return nil
	}
	s := x.r.MedianTimeToPaid.Seconds()
	return &s
}
