package payment

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
)

// AnalyticsGroup is what Analytics groups attempts by.
type AnalyticsGroup string

// The groupings.
const (
	// GroupByGateway groups by gateway plugin id (the payment method the
	// buyer chose, as orders name it).
	GroupByGateway AnalyticsGroup = "GATEWAY"
	// GroupByMethod groups by how the buyer was asked to pay: the
	// gateway's action (REDIRECT, QR_CODE, CLIENT_SECRET, INSTRUCTIONS),
	// NONE when none was asked (a card charged at once, or a gateway that
	// never answered).
	GroupByMethod AnalyticsGroup = "METHOD"
	// GroupByCurrency groups by the attempts' currency.
	GroupByCurrency AnalyticsGroup = "CURRENCY"
)

// AnalyticsInterval is the width of Analytics' time buckets.
type AnalyticsInterval string

// The intervals. Hours are UTC hours; days are the days of the query's
// time zone, UTC by default.
const (
	IntervalHour AnalyticsInterval = "HOUR"
	IntervalDay  AnalyticsInterval = "DAY"
	// IntervalNone is one bucket for the whole range.
	IntervalNone AnalyticsInterval = "NONE"
)

// Limits of Analytics.
const (
	// MaxAnalyticsRange is the longest range one question covers.
	MaxAnalyticsRange = 366 * 24 * time.Hour
	// MaxAnalyticsBuckets is the most time buckets one question makes:
	// hourly buckets over 31 days, daily ones over a year.
	MaxAnalyticsBuckets = 31 * 24
	// MaxAnalyticsRows is the most rows one answer holds (buckets times
	// gateways, methods or currencies).
	MaxAnalyticsRows = 20000
)

// The analytics' error codes.
const (
	// CodeInvalidRange: from is not before to.
	CodeInvalidRange = "INVALID_RANGE"
	// CodeRangeTooLong: more than MaxAnalyticsRange.
	CodeRangeTooLong = "RANGE_TOO_LONG"
	// CodeTooManyBuckets: the interval cuts the range into more than
	// MaxAnalyticsBuckets buckets.
	CodeTooManyBuckets = "TOO_MANY_BUCKETS"
	// CodeInvalidGroup: an unknown grouping.
	CodeInvalidGroup = "INVALID_GROUP"
	// CodeInvalidInterval: an unknown interval.
	CodeInvalidInterval = "INVALID_INTERVAL"
	// CodeAnalyticsTooLarge: the answer would exceed MaxAnalyticsRows.
	CodeAnalyticsTooLarge = "ANALYTICS_TOO_LARGE"
	// CodeInvalidTimeZone: a time zone the IANA database does not know.
	CodeInvalidTimeZone = "INVALID_TIME_ZONE"
)

// AnalyticsQuery asks for payment analytics.
type AnalyticsQuery struct {
	// From and To bound the attempts' creation times, [From, To).
	From, To time.Time
	// GroupBy is required.
	GroupBy AnalyticsGroup
	// Interval is the bucket width; "" is IntervalNone.
	Interval AnalyticsInterval
	// TimeZone is the IANA time zone (Asia/Shanghai) whose midnights cut
	// IntervalDay's days; "" is UTC. Hours stay UTC hours: in a zone
	// whose offset is not whole hours (Asia/Kolkata) they start at :30 or
	// :45 local time.
	TimeZone string
}

// AnalyticsRow is what the attempts of one bucket and one group did.
type AnalyticsRow struct {
	// BucketStart is the start of the UTC hour, or the midnight starting
	// the day in the query's time zone; the zero time with IntervalNone.
	// Buckets without attempts are left out.
	BucketStart time.Time
	// Key is the gateway id, the method or the currency code.
	Key string
	// Attempts counts the attempts created in the bucket; Succeeded those
	// the gateway authorized or captured (voided and refunded ones
	// included: the payment went through); Failed those declined; Open
	// those still PENDING or UNKNOWN. The rest were closed unpaid.
	Attempts, Succeeded, Failed, Open int64
	// SuccessRate and FailureRate are Succeeded and Failed over Attempts.
	SuccessRate, FailureRate float64
	// Captured is the money captured, one amount per currency, ordered by
	// currency code.
	Captured []money.Money
	// MedianTimeToPaid is the median time from an attempt's creation to
	// its authorization or capture, over the succeeded attempts; nil when
	// none succeeded.
	MedianTimeToPaid *time.Duration
}

// Analytics answers how payments went between q.From and q.To (staff,
// payment read): counts, success and failure rates, captured amounts and
// the median time to paid, per gateway, method or currency, per UTC hour,
// day (of q.TimeZone) or for the whole range. The whole days that ended are read from day
// summaries kept in the database (daily and hourly cells), which a change
// to one of a day's attempts drops (daySummaries): a year is 365 summary
// rows, and the medians stay exact. The partial days at the ends of the
// range and the days under way are read from payment_attempts, on the
// indexes of migration 0014.
//
// Days of another time zone than UTC are made of hourly cells, each in
// the day its hour starts in; where a midnight falls within a UTC hour
// (offsets of :30 and :45), that hour is read again from the attempts in
// its two parts (splitAtMidnights).
//
// Codes: REQUIRED, INVALID_RANGE, RANGE_TOO_LONG, TOO_MANY_BUCKETS,
// INVALID_GROUP, INVALID_INTERVAL, INVALID_TIME_ZONE, ANALYTICS_TOO_LARGE.
func (s *Service) Analytics(ctx context.Context, q AnalyticsQuery) ([]*AnalyticsRow, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Read); err != nil {
		return nil, err
	}
	if q.Interval == "" {
		q.Interval = IntervalNone
	}
	q.From, q.To = q.From.UTC(), q.To.UTC()
	var v errs.Validator
	v.Check(!q.From.IsZero(), "from", CodeRequired, "the start of the range")
	v.Check(!q.To.IsZero(), "to", CodeRequired, "the end of the range")
	switch q.GroupBy {
	case GroupByGateway, GroupByMethod, GroupByCurrency:
	case "":
		v.Add(errs.Invalid("groupBy", CodeRequired, "GATEWAY, METHOD or CURRENCY"))
	default:
		v.Add(errs.Invalid("groupBy", CodeInvalidGroup, "GATEWAY, METHOD or CURRENCY"))
	}
	loc := time.UTC
	if q.TimeZone != "" {
		l, ok := clock.Zone(q.TimeZone)
		if ok {
			loc = l
		} else {
			v.Add(errs.Invalid("timeZone", CodeInvalidTimeZone, "an IANA time zone, such as Asia/Shanghai"))
		}
	}
	var width time.Duration
	switch q.Interval {
	case IntervalHour:
		width = time.Hour
	case IntervalDay:
		width = 24 * time.Hour
	case IntervalNone:
	default:
		v.Add(errs.Invalid("interval", CodeInvalidInterval, "HOUR, DAY or NONE"))
	}
	if !q.From.IsZero() && !q.To.IsZero() {
		switch {
		case !q.From.Before(q.To):
			v.Add(errs.Invalid("to", CodeInvalidRange, "the end of the range comes after its start"))
		case q.To.Sub(q.From) > MaxAnalyticsRange:
			v.Add(errs.Invalid("to", CodeRangeTooLong, fmt.Sprintf("at most %d days", MaxAnalyticsRange/(24*time.Hour))))
		case width > 0 && buckets(q.From, q.To, width) > MaxAnalyticsBuckets:
			v.Add(errs.Invalid("interval", CodeTooManyBuckets, fmt.Sprintf("at most %d buckets: a shorter range or a wider interval", MaxAnalyticsBuckets)))
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	release, err := s.reports.take(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	// Days of UTC are read whole; another zone's days are made of hours.
	zoned := q.Interval == IntervalDay && loc != time.UTC
	cells, err := s.analyticsCells(ctx, q, q.Interval == IntervalHour || zoned)
	if err != nil {
		return nil, err
	}
	if zoned {
		if cells, err = s.splitAtMidnights(ctx, cells, q.From, q.To, loc); err != nil {
			return nil, err
		}
		// The cells of the hour the range starts in hold what came from
		// q.From on: a midnight between the hour's start and q.From is
		// behind them.
		for _, c := range cells {
			if c.bucket.Before(q.From) {
				c.bucket = q.From
			}
		}
	}
	return fold(cells, q, loc)
}

// splitAtMidnights makes hourly cells exact at the midnights of loc that
// fall within a UTC hour (zones whose offset is not whole hours, such as
// Asia/Kolkata, Asia/Kathmandu or Australia/Adelaide): such an hour's
// cells are replaced by those of its two parts, read from the attempts,
// the second one starting at the midnight. Two pairs of queries answer
// every such hour of the range at once.
func (s *Service) splitAtMidnights(ctx context.Context, cells []*cell, from, to time.Time, loc *time.Location) ([]*cell, error) {
	var before, after [][2]time.Time
	midnightIn := map[int64]time.Time{} // a UTC hour's start (Unix) -> the midnight within it
	for _, m := range midnights(from, to, loc) {
		h := m.Truncate(time.Hour)
		if h.Equal(m) {
			continue
		}
		before = append(before, [2]time.Time{later(h, from), m})
		after = append(after, [2]time.Time{m, earlier(h.Add(time.Hour), to)})
		midnightIn[h.Unix()] = m
	}
	if len(midnightIn) == 0 {
		return cells, nil
	}
	kept := make([]*cell, 0, len(cells))
	for _, c := range cells {
		if _, split := midnightIn[c.bucket.Unix()]; !split {
			kept = append(kept, c)
		}
	}
	first, err := s.store.RawCellsIn(ctx, before, time.Hour)
	if err != nil {
		return nil, err
	}
	second, err := s.store.RawCellsIn(ctx, after, time.Hour)
	if err != nil {
		return nil, err
	}
	for _, c := range second {
		c.bucket = midnightIn[c.bucket.Unix()]
	}
	return append(append(kept, first...), second...), nil
}

// midnights returns the midnights of loc after from and before to, in UTC.
func midnights(from, to time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	y, m, d := from.In(loc).Date()
	for i := 1; ; i++ {
		mid := time.Date(y, m, d+i, 0, 0, 0, 0, loc).UTC()
		if !mid.Before(to) {
			return out
		}
		if mid.After(from) {
			out = append(out, mid)
		}
	}
}

// localDay is the midnight of loc starting the day t falls in, in UTC.
func localDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc).UTC()
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// MaxConcurrentReports is how many reports (analytics, reconciliations)
// one service computes at once; more wait their turn. A GraphQL document
// may ask for hundreds of them under aliases, each costing a field of
// the budget: they then queue here instead of loading the database all
// at once.
const MaxConcurrentReports = 2

// reportSlots are the turns of MaxConcurrentReports; the zero value is
// ready.
type reportSlots struct {
	once sync.Once
	ch   chan struct{}
}

// take waits for a turn (or for ctx to end) and returns its release.
func (r *reportSlots) take(ctx context.Context) (func(), error) {
	r.once.Do(func() { r.ch = make(chan struct{}, MaxConcurrentReports) })
	select {
	case r.ch <- struct{}{}:
		return func() { <-r.ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// AnalyticsSettle is how long after its end a day is summarized, and how
// far back the summaries' watermark stays from the time they were
// checked: a transaction still running when they were read (none lasts
// this long) is seen at the next check.
const AnalyticsSettle = 5 * time.Minute

// analyticsCells returns the cells of the question, hourly or daily (UTC
// days): from the day summaries for the whole days that ended more than
// AnalyticsSettle ago, from the attempts for the partial days at the ends
// of the range and the days still under way.
func (s *Service) analyticsCells(ctx context.Context, q AnalyticsQuery, hourly bool) ([]*cell, error) {
	const day = 24 * time.Hour
	width := day
	if hourly {
		width = time.Hour
	}
	now := s.clock.Now().UTC()
	first := q.From.Truncate(day)
	if first.Before(q.From) {
		first = first.Add(day)
	}
	last := q.To.Truncate(day)
	if settled := now.Add(-AnalyticsSettle).Truncate(day); settled.Before(last) {
		last = settled
	}
	if !first.Before(last) {
		return s.store.RawCells(ctx, q.From, q.To, width)
	}
	var out []*cell
	for _, r := range [][2]time.Time{{q.From, first}, {last, q.To}} {
		if r[0].Before(r[1]) {
			cells, err := s.store.RawCells(ctx, r[0], r[1], width)
			if err != nil {
				return nil, err
			}
			out = append(out, cells...)
		}
	}
	summarized, err := s.daySummaries(ctx, first, last, width == time.Hour, now)
	if err != nil {
		return nil, err
	}
	return append(out, summarized...), nil
}

// daySummaries returns the cells of the whole days in [from, to), hourly
// or daily, from payment_analytics_days, first dropping the summaries of
// days whose attempts changed since the watermark and summarizing the
// days missing. Storing is best effort: a summary that cannot be stored
// (another instance storing the same day) is still used for this answer.
func (s *Service) daySummaries(ctx context.Context, from, to time.Time, hourly bool, now time.Time) ([]*cell, error) {
	const day = 24 * time.Hour
	w, ok, err := s.store.Watermark(ctx)
	if err != nil {
		return nil, err
	}
	if ok {
		changed, err := s.store.ChangedDays(ctx, w)
		if err != nil {
			return nil, err
		}
		err = s.store.ForgetDays(ctx, changed, false)
	} else {
		err = s.store.ForgetDays(ctx, nil, true)
	}
	if err != nil {
		return nil, err
	}
	out, summarized, err := s.store.StoredDays(ctx, from, to, hourly)
	if err != nil {
		return nil, err
	}
	// The missing days, by runs of consecutive days: one pair of queries
	// per run.
	for d := from; d.Before(to); {
		if summarized[d] {
			d = d.Add(day)
			continue
		}
		end := d
		var runDays []time.Time
		for end.Before(to) && !summarized[end] {
			runDays = append(runDays, end)
			end = end.Add(day)
		}
		began := time.Now()
		hours, err := s.store.RawCells(ctx, d, end, time.Hour)
		if err != nil {
			return nil, err
		}
		days := dayCells(hours)
		if hourly {
			out = append(out, hours...)
		} else {
			out = append(out, days...)
		}
		// A summary computed over more than the settle time could miss a
		// change the watermark then skips: use it, do not keep it.
		if time.Since(began) < AnalyticsSettle/2 {
			if err := s.store.SaveDays(ctx, runDays, days, hours); err != nil {
				s.log.WarnContext(ctx, "analytics day summaries not stored", "from", d, "to", end, "error", err)
			}
		}
		d = end
	}
	if mark := now.Add(-AnalyticsSettle); !ok || mark.Sub(w) > time.Minute {
		if err := s.store.AdvanceWatermark(ctx, mark); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dayCells merges hourly cells into daily ones.
func dayCells(hours []*cell) []*cell {
	type key struct {
		day                       time.Time
		gateway, method, currency string
	}
	byKey := map[key]*cell{}
	var out []*cell
	for _, h := range hours {
		k := key{h.bucket.Truncate(24 * time.Hour), h.gateway, h.method, h.currency}
		c := byKey[k]
		if c == nil {
			c = &cell{bucket: k.day, gateway: h.gateway, method: h.method, currency: h.currency}
			byKey[k] = c
			out = append(out, c)
		}
		c.attempts += h.attempts
		c.succeeded += h.succeeded
		c.failed += h.failed
		c.open += h.open
		c.captured += h.captured
		c.paid = append(c.paid, h.paid...)
	}
	return out
}

// fold groups cells into the rows of the question, days cut at the
// midnights of loc.
func fold(cells []*cell, q AnalyticsQuery, loc *time.Location) ([]*AnalyticsRow, error) {
	type key struct {
		bucket time.Time
		key    string
	}
	type acc struct {
		row      *AnalyticsRow
		captured map[string]int64
		paid     []int64
	}
	groups := map[key]*acc{}
	var order []*acc
	for _, c := range cells {
		var k key
		switch q.Interval {
		case IntervalHour:
			k.bucket = c.bucket.Truncate(time.Hour)
		case IntervalDay:
			k.bucket = localDay(c.bucket, loc)
		}
		switch q.GroupBy {
		case GroupByGateway:
			k.key = c.gateway
		case GroupByMethod:
			k.key = c.method
		default:
			k.key = c.currency
		}
		g := groups[k]
		if g == nil {
			g = &acc{row: &AnalyticsRow{BucketStart: k.bucket, Key: k.key}, captured: map[string]int64{}}
			groups[k] = g
			order = append(order, g)
		}
		g.row.Attempts += c.attempts
		g.row.Succeeded += c.succeeded
		g.row.Failed += c.failed
		g.row.Open += c.open
		g.captured[c.currency] += c.captured
		g.paid = append(g.paid, c.paid...)
	}
	if len(order) > MaxAnalyticsRows {
		return nil, errs.Limited(CodeAnalyticsTooLarge, fmt.Sprintf("more than %d rows: a shorter range or a wider interval", MaxAnalyticsRows))
	}
	out := make([]*AnalyticsRow, 0, len(order))
	for _, g := range order {
		r := g.row
		if r.Attempts > 0 {
			r.SuccessRate = float64(r.Succeeded) / float64(r.Attempts)
			r.FailureRate = float64(r.Failed) / float64(r.Attempts)
		}
		codes := make([]string, 0, len(g.captured))
		for c := range g.captured {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for _, code := range codes {
			cur, err := money.ParseCurrency(code)
			if err != nil {
				return nil, fmt.Errorf("payment: analytics: %w", err)
			}
			r.Captured = append(r.Captured, money.New(g.captured[code], cur))
		}
		if n := len(g.paid); n > 0 {
			sortInt64s(g.paid)
			ms := g.paid[(n-1)/2]
			if n%2 == 0 {
				ms = (g.paid[n/2-1] + g.paid[n/2]) / 2
			}
			d := time.Duration(ms) * time.Millisecond
			r.MedianTimeToPaid = &d
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].BucketStart.Equal(out[j].BucketStart) {
			return out[i].BucketStart.Before(out[j].BucketStart)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

func sortInt64s(s []int64) { slices.Sort(s) }

// buckets counts the buckets of width that [from, to) touches.
func buckets(from, to time.Time, width time.Duration) int64 {
	first := from.Truncate(width)
	return int64((to.Sub(first) + width - 1) / width)
}

// Bucket keys as both engines write them (analytics_store.go).
const (
	hourKey = "2006-01-02 15"
	dayKey  = "2006-01-02"
)
