package order

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
)

// MaxSalesDays is the most days one sales summary covers: a year, leap
// day included. Each day is a branch of the bucketing expression, so the
// bound keeps the query small.
const MaxSalesDays = 366

// The sales summary's error codes.
const (
	// CodeInvalidTimeZone: not an IANA time zone name.
	CodeInvalidTimeZone = "INVALID_TIME_ZONE"
	// CodeInvalidDate: a day that is not YYYY-MM-DD.
	CodeInvalidDate = "INVALID_DATE"
	// CodeInvalidRange: the last day comes before the first.
	CodeInvalidRange = "INVALID_RANGE"
	// CodeRangeTooLong: more than MaxSalesDays days.
	CodeRangeTooLong = "RANGE_TOO_LONG"
)

// SalesQuery asks for the sales of a run of calendar days in a time zone.
type SalesQuery struct {
	// TimeZone is an IANA name (Asia/Shanghai, Europe/Berlin): a day runs
	// from one of its midnights to the next, 23 or 25 hours around a
	// daylight saving change. Required.
	TimeZone string
	// From and To are the first and the last day, YYYY-MM-DD, inclusive.
	From, To string
}

// SalesDay is what the orders placed on one day of the zone came to.
type SalesDay struct {
	// Date is the day, YYYY-MM-DD in the zone.
	Date string
	// Start is its midnight.
	Start time.Time
	// Orders counts every order placed that day, cancelled ones included;
	// PaidOrders those whose money was taken (PAID, PARTIALLY_REFUNDED,
	// REFUNDED).
	Orders, PaidOrders int64
	// Revenue is the total of the paid orders, one amount per currency
	// ordered by code, refunds not deducted; empty without paid orders.
	Revenue []money.Money
}

// SalesSummary is the dashboard's figures: the days asked for, and where
// the open orders stand now.
type SalesSummary struct {
	// TimeZone is the zone the days are cut in.
	TimeZone string
	// Days holds every day of the range in order, those without orders
	// too.
	Days []*SalesDay
	// Orders, PaidOrders and Revenue are the sums of the days.
	Orders, PaidOrders int64
	Revenue            []money.Money
	// AwaitingShipment counts the open orders whose money was taken or
	// authorized (AUTHORIZED, PAID, PARTIALLY_REFUNDED) with goods still to
	// ship (UNFULFILLED, PARTIALLY_FULFILLED).
	AwaitingShipment int64
	// Unpaid counts the open orders waiting for payment; NearDeadline
	// those of them whose payment deadline falls within NearDeadlineWithin
	// from AsOf (or passed, while the deadline closer has not cancelled
	// them yet).
	Unpaid, NearDeadline int64
	// NearDeadlineWithin is the shop's reminder lead: from then on the
	// buyer is reminded to pay, and the order counts as near its deadline.
	NearDeadlineWithin time.Duration
	// AsOf is when the counts were taken.
	AsOf time.Time
}

// paidStatuses are the payment statuses whose order counts as revenue:
// its total was taken, whatever went back since (revenue is gross, refunds
// not deducted). A REFUNDED order counts as a PARTIALLY_REFUNDED one does,
// or the last minor unit of a refund would take the whole order's total
// off a past day. A PARTIALLY_PAID order does not: its total was not
// taken.
var paidStatuses = []PaymentStatus{PaymentPaid, PaymentPartiallyRefunded, PaymentRefunded}

// shippableStatuses are the payment statuses of an order waiting to ship.
var shippableStatuses = []PaymentStatus{PaymentAuthorized, PaymentPaid, PaymentPartiallyPaid, PaymentPartiallyRefunded}

// Sales summarizes the orders placed on the days of q and counts the open
// orders waiting to ship or to be paid (staff, report read). The figures
// are SQL aggregates over the orders, one query for the days (each order
// falls in its day by a search over the days' midnights, so any offset,
// half hours and daylight saving included, is cut exactly) and one for the
// counts; nothing is read row by row.
//
// Codes: REQUIRED, INVALID_TIME_ZONE, INVALID_DATE, INVALID_RANGE,
// RANGE_TOO_LONG.
func (s *Service) Sales(ctx context.Context, q SalesQuery) (*SalesSummary, error) {
	if err := s.authz.Can(ctx, authz.Report, authz.Read); err != nil {
		return nil, err
	}
	var v errs.Validator
	var loc *time.Location
	switch tz := strings.TrimSpace(q.TimeZone); {
	case tz == "":
		v.Add(errs.Invalid("timeZone", CodeRequired, "an IANA time zone, such as Asia/Shanghai"))
	default:
		l, ok := clock.Zone(tz)
		if !ok {
			v.Add(errs.Invalid("timeZone", CodeInvalidTimeZone, "an IANA time zone, such as Asia/Shanghai"))
		}
		loc = l
	}
	// ok stays true while both days parse; the zero time is a valid day
	// (0001-01-01 in UTC), so it cannot mark a missing one.
	ok := loc != nil
	day := func(field, s string) time.Time {
		if s == "" {
			v.Add(errs.Invalid(field, CodeRequired, "a day, YYYY-MM-DD"))
			ok = false
			return time.Time{}
		}
		if loc == nil {
			return time.Time{}
		}
		d, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			v.Add(errs.Invalid(field, CodeInvalidDate, "a day, YYYY-MM-DD"))
			ok = false
		}
		return d
	}
	from, to := day("from", q.From), day("to", q.To)
	var n int
	if ok {
		// Calendar days between the two, counted on their dates so that a
		// 23-hour day does not shorten the count (and in Unix days, since a
		// Duration ends after 292 years).
		civil := func(t time.Time) int64 {
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
		}
		if d := civil(to) - civil(from) + 1; d > MaxSalesDays {
			n = MaxSalesDays + 1
		} else {
			n = int(d)
		}
		switch {
		case n < 1:
			v.Add(errs.Invalid("to", CodeInvalidRange, "the last day comes on or after the first"))
		case n > MaxSalesDays:
			v.Add(errs.Invalid("to", CodeRangeTooLong, fmt.Sprintf("at most %d days", MaxSalesDays)))
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}

	// bounds[i] is the midnight that starts day i; bounds[n] ends the
	// last one.
	bounds := make([]time.Time, n+1)
	sum := &SalesSummary{TimeZone: loc.String(), Days: make([]*SalesDay, n)}
	for i := range bounds {
		bounds[i] = time.Date(from.Year(), from.Month(), from.Day()+i, 0, 0, 0, 0, loc).UTC()
		if i < n {
			sum.Days[i] = &SalesDay{Date: bounds[i].In(loc).Format(time.DateOnly), Start: bounds[i]}
		}
	}
	set, err := s.settings.Settings(ctx)
	if err != nil {
		return nil, err
	}
	sum.AsOf = s.now()
	sum.NearDeadlineWithin = set.ReminderLead

	rows, err := s.store.SalesByDay(ctx, bounds, paidStatuses)
	if err != nil {
		return nil, err
	}
	dayRevenue := make([]map[string]int64, n)
	total := map[string]int64{}
	for _, r := range rows {
		if r.Bucket < 0 || r.Bucket >= n {
			return nil, fmt.Errorf("order: sales: day %d out of %d", r.Bucket, n)
		}
		d := sum.Days[r.Bucket]
		d.Orders += r.Orders
		d.PaidOrders += r.PaidOrders
		sum.Orders += r.Orders
		sum.PaidOrders += r.PaidOrders
		if r.PaidOrders > 0 {
			if dayRevenue[r.Bucket] == nil {
				dayRevenue[r.Bucket] = map[string]int64{}
			}
			dayRevenue[r.Bucket][r.Currency] += r.Revenue
			total[r.Currency] += r.Revenue
		}
	}
	for i, m := range dayRevenue {
		if sum.Days[i].Revenue, err = amounts(m); err != nil {
			return nil, err
		}
	}
	if sum.Revenue, err = amounts(total); err != nil {
		return nil, err
	}
	c, err := s.store.OpenCounts(ctx, shippableStatuses, sum.AsOf.Add(set.ReminderLead))
	if err != nil {
		return nil, err
	}
	sum.AwaitingShipment, sum.Unpaid, sum.NearDeadline = c.AwaitingShipment, c.Unpaid, c.NearDeadline
	return sum, nil
}

// amounts turns minor units by currency code into Money ordered by code.
func amounts(m map[string]int64) ([]money.Money, error) {
	codes := make([]string, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	out := make([]money.Money, 0, len(codes))
	for _, code := range codes {
		cur, err := money.ParseCurrency(code)
		if err != nil {
			return nil, fmt.Errorf("order: sales: %w", err)
		}
		out = append(out, money.New(m[code], cur))
	}
	return out, nil
}
