package payment_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/idempotency"
	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/shop"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// reportOrders is an Orders port for the read-only reports, which never
// read or move an order.
type reportOrders struct{}

func (reportOrders) Order(context.Context, string) (*payment.OrderInfo, error) {
	return nil, errs.NotFound("ORDER_NOT_FOUND", "no orders here")
}

func (reportOrders) OrderLines(context.Context, string) ([]payment.OrderLine, error) {
	return nil, errs.NotFound("ORDER_NOT_FOUND", "no orders here")
}

func (reportOrders) OrderByAccessToken(context.Context, string) (*payment.OrderInfo, error) {
	return nil, errs.NotFound("ORDER_NOT_FOUND", "no orders here")
}

func (reportOrders) MovePayment(context.Context, *payment.OrderInfo, payment.OrderPaymentStatus, string) error {
	return errors.New("reports move no order")
}

func (reportOrders) SetPaymentMethod(context.Context, *payment.OrderInfo, string) error {
	return errors.New("reports change no order")
}

type reportSettings struct{}

func (reportSettings) Settings(context.Context) (*shop.Settings, error) { return &shop.Settings{}, nil }

// reportService is a payment service over db with the real Casbin policy,
// for the reports (no orders, no gateways unless given).
func reportService(tb testing.TB, db *store.DB, now time.Time, gws ...payment.Gateway) *payment.Service {
	tb.Helper()
	ctx := context.Background()
	enf, err := authz.NewEnforcer(ctx, db, authz.Options{ReloadEvery: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(enf.Close)
	keys, err := idempotency.NewKeys(db, idempotency.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	set := &gatewaySet{m: map[string]payment.Gateway{}}
	for _, g := range gws {
		set.m[g.ID()] = g
	}
	svc, err := payment.NewService(db, payment.Options{Authz: enf, Outbox: events.NewOutbox(db), Orders: reportOrders{},
		Gateways: set, Settings: reportSettings{}, Keys: keys, Clock: clock.NewFake(now), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

// insertOrder writes a bare order row for seeded attempts to belong to.
func insertOrder(tb testing.TB, db *store.DB, id string, seq int) {
	tb.Helper()
	now := time.Now().UTC()
	_, err := db.NewRaw(`INSERT INTO orders (id, seq, number, email, currency, status, payment_status, fulfillment_status,
		shipping_address, billing_address, subtotal_amount, total_amount, payment_deadline, remind_at, cart_id, created_at, updated_at)
		VALUES (?, ?, ?, 'seed@example.com', 'CNY', 'OPEN', 'PENDING', 'UNFULFILLED', '{}', '{}', 1000, 1000, ?, ?, ?, ?, ?)`,
		id, seq, fmt.Sprintf("#%d", 1000+seq), now, now, "crt_"+id, now, now).Exec(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
}

// seeded is an attempt to write directly: the reports read rows, however
// they came to be.
type seeded struct {
	id, gateway, currency, action string
	state                         payment.State
	amount, captured, authorized  int64
	created                       time.Time
	// paidAfter, when set, writes the move to CAPTURED (or AUTHORIZED
	// when nothing was captured) that long after creation.
	paidAfter time.Duration
}

// timelineRow is a row of payment_attempt_timeline.
type timelineRow struct {
	bun.BaseModel `bun:"table:payment_attempt_timeline"`
	ID            string    `bun:"id,pk"`
	AttemptID     string    `bun:"attempt_id"`
	Machine       string    `bun:"machine"`
	FromState     string    `bun:"from_state"`
	ToState       string    `bun:"to_state"`
	ActorKind     string    `bun:"actor_kind"`
	EventID       string    `bun:"event_id"`
	CreatedAt     time.Time `bun:"created_at"`
}

// seedAttempts writes attempts of orderID and their paid moves, in
// multi-row inserts.
func seedAttempts(tb testing.TB, db *store.DB, orderID string, in []seeded) {
	tb.Helper()
	ctx := context.Background()
	const chunk = 2000
	for len(in) > 0 {
		part := in[:min(chunk, len(in))]
		in = in[len(part):]
		atts := make([]*payment.Attempt, 0, len(part))
		var moves []*timelineRow
		for _, s := range part {
			cur, err := money.ParseCurrency(s.currency)
			if err != nil {
				tb.Fatal(err)
			}
			atts = append(atts, &payment.Attempt{ID: s.id, OrderID: orderID, GatewayID: s.gateway, AmountMinor: s.amount, Currency: cur,
				CaptureMethod: payment.CaptureAutomatic, State: s.state, ActionType: payment.ActionType(s.action),
				Captured: s.captured, Authorized: s.authorized, CreatedAt: s.created, UpdatedAt: s.created})
			if m := paidMove(s); m != nil {
				moves = append(moves, m)
			}
		}
		if _, err := db.NewInsert().Model(&atts).Exec(ctx); err != nil {
			tb.Fatal(err)
		}
		insertMoves(tb, db, moves)
	}
}

// seedMoves writes the paid moves of attempts already written.
func seedMoves(tb testing.TB, db *store.DB, in []seeded) {
	tb.Helper()
	var moves []*timelineRow
	for _, s := range in {
		if m := paidMove(s); m != nil {
			moves = append(moves, m)
		}
	}
	insertMoves(tb, db, moves)
}

func insertMoves(tb testing.TB, db *store.DB, moves []*timelineRow) {
	tb.Helper()
	if len(moves) == 0 {
		return
	}
	if _, err := db.NewInsert().Model(&moves).Exec(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// paidMove is the move to CAPTURED (or AUTHORIZED when nothing was
// captured) paidAfter after creation; nil without paidAfter.
func paidMove(s seeded) *timelineRow {
	if s.paidAfter <= 0 {
		return nil
	}
	to := payment.StateCaptured
	if s.captured == 0 {
		to = payment.StateAuthorized
	}
	return &timelineRow{ID: "tl_" + s.id + "_" + string(to), AttemptID: s.id, Machine: payment.MachineAttempt,
		FromState: string(payment.StatePending), ToState: string(to), ActorKind: "system", EventID: "evt_" + s.id,
		CreatedAt: s.created.Add(s.paidAfter)}
}

// reference answers q from the seeded attempts, as the analytics define
// it, for comparison.
func reference(in []seeded, q payment.AnalyticsQuery) []analyticsView {
	type acc struct {
		row      payment.AnalyticsRow
		captured map[string]int64
		paid     []time.Duration
	}
	groups := map[string]*acc{}
	loc := time.UTC
	if q.TimeZone != "" {
		loc, _ = time.LoadLocation(q.TimeZone)
	}
	for _, s := range in {
		if s.created.Before(q.From) || !s.created.Before(q.To) {
			continue
		}
		var bucket time.Time
		switch q.Interval {
		case payment.IntervalHour:
			bucket = s.created.Truncate(time.Hour)
		case payment.IntervalDay:
			// The midnight, in loc, that starts the attempt's day.
			y, m, d := s.created.In(loc).Date()
			bucket = time.Date(y, m, d, 0, 0, 0, 0, loc).UTC()
		}
		key := map[payment.AnalyticsGroup]string{payment.GroupByGateway: s.gateway, payment.GroupByCurrency: s.currency,
			payment.GroupByMethod: map[bool]string{true: "NONE", false: s.action}[s.action == ""]}[q.GroupBy]
		id := bucket.String() + "|" + key
		g := groups[id]
		if g == nil {
			g = &acc{row: payment.AnalyticsRow{BucketStart: bucket, Key: key}, captured: map[string]int64{}}
			groups[id] = g
		}
		g.row.Attempts++
		switch {
		case s.captured > 0 || s.authorized > 0:
			g.row.Succeeded++
			if s.paidAfter > 0 {
				g.paid = append(g.paid, s.paidAfter)
			}
		case s.state == payment.StateFailed:
			g.row.Failed++
		case s.state.Open():
			g.row.Open++
		}
		g.captured[s.currency] += s.captured
	}
	var rows []*payment.AnalyticsRow
	for _, g := range groups {
		r := g.row
		r.SuccessRate, r.FailureRate = float64(r.Succeeded)/float64(r.Attempts), float64(r.Failed)/float64(r.Attempts)
		var codes []string
		for c := range g.captured {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			cur, _ := money.ParseCurrency(c)
			r.Captured = append(r.Captured, money.New(g.captured[c], cur))
		}
		if n := len(g.paid); n > 0 {
			slices.Sort(g.paid)
			m := g.paid[(n-1)/2]
			if n%2 == 0 {
				m = (g.paid[n/2-1] + g.paid[n/2]) / 2
			}
			r.MedianTimeToPaid = &m
		}
		rows = append(rows, &r)
	}
	slices.SortFunc(rows, func(a, b *payment.AnalyticsRow) int {
		if c := a.BucketStart.Compare(b.BucketStart); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return view(rows)
}

// analyticsView is an AnalyticsRow as the table below writes it.
type analyticsView struct {
	Bucket, Key                       string
	Attempts, Succeeded, Failed, Open int64
	Rates, Captured, Median           string
}

func view(rows []*payment.AnalyticsRow) []analyticsView {
	out := []analyticsView{}
	for _, r := range rows {
		v := analyticsView{Key: r.Key, Attempts: r.Attempts, Succeeded: r.Succeeded, Failed: r.Failed, Open: r.Open,
			Rates: fmt.Sprintf("%.3f/%.3f", r.SuccessRate, r.FailureRate), Median: "-"}
		if !r.BucketStart.IsZero() {
			v.Bucket = r.BucketStart.Format("01-02 15h")
		}
		var caps []string
		for _, m := range r.Captured {
			caps = append(caps, m.String())
		}
		v.Captured = strings.Join(caps, " ")
		if r.MedianTimeToPaid != nil {
			v.Median = r.MedianTimeToPaid.String()
		}
		out = append(out, v)
	}
	return out
}

// TestAnalytics: counts, rates, captured amounts and median time to paid
// per gateway, method and currency, per hour, day or range, on both
// engines; bad questions refused with their codes, buyers and guests
// refused.
func TestAnalytics(t *testing.T) {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(day int, hm string) time.Time {
		d, _ := time.Parse("15:04", hm)
		return base.AddDate(0, 0, day).Add(time.Duration(d.Hour())*time.Hour + time.Duration(d.Minute())*time.Minute)
	}
	attempts := []seeded{
		{id: "pay_a1", gateway: "payment.testpay", currency: "CNY", action: "REDIRECT", state: payment.StateCaptured, amount: 1000, captured: 1000, created: at(0, "10:05"), paidAfter: 30 * time.Second},
		{id: "pay_a2", gateway: "payment.testpay", currency: "CNY", action: "REDIRECT", state: payment.StateFailed, amount: 1000, created: at(0, "10:20")},
		{id: "pay_a3", gateway: "payment.testpay", currency: "USD", action: "", state: payment.StateCaptured, amount: 500, captured: 500, created: at(0, "11:00"), paidAfter: 10 * time.Second},
		{id: "pay_a4", gateway: "payment.banktransfer", currency: "CNY", action: "INSTRUCTIONS", state: payment.StatePending, amount: 2000, created: at(0, "10:30")},
		{id: "pay_a5", gateway: "payment.banktransfer", currency: "CNY", action: "INSTRUCTIONS", state: payment.StateCaptured, amount: 2000, captured: 2000, created: at(1, "09:00"), paidAfter: 2 * time.Hour},
		// Authorized, then voided: the payment went through.
		{id: "pay_a6", gateway: "payment.testpay", currency: "CNY", action: "NONE", state: payment.StateCancelled, amount: 1000, authorized: 1000, created: at(1, "09:30"), paidAfter: 20 * time.Second},
		{id: "pay_a7", gateway: "payment.testpay", currency: "CNY", action: "REDIRECT", state: payment.StateCaptured, amount: 3000, captured: 3000, created: at(1, "10:00"), paidAfter: 50 * time.Second},
		{id: "pay_a8", gateway: "payment.testpay", currency: "CNY", action: "REDIRECT", state: payment.StateCaptured, amount: 9000, captured: 9000, created: base.Add(-time.Hour), paidAfter: time.Second},
		{id: "pay_a9", gateway: "payment.testpay", currency: "CNY", action: "REDIRECT", state: payment.StateUnknown, amount: 1000, created: at(1, "10:15")},
		{id: "pay_b1", gateway: "payment.testpay", currency: "CNY", action: "REDIRECT", state: payment.StateCaptured, amount: 1000, captured: 1000, created: at(2, "00:00"), paidAfter: time.Second},
	}
	two := [2]time.Time{base, base.AddDate(0, 0, 2)}
	cases := []struct {
		name     string
		q        payment.AnalyticsQuery
		want     []analyticsView
		wantCode string
	}{
		{name: "per gateway over the range", q: payment.AnalyticsQuery{From: two[0], To: two[1], GroupBy: payment.GroupByGateway}, want: []analyticsView{
			{Key: "payment.banktransfer", Attempts: 2, Succeeded: 1, Open: 1, Rates: "0.500/0.000", Captured: "20.00 CNY", Median: "2h0m0s"},
			{Key: "payment.testpay", Attempts: 6, Succeeded: 4, Failed: 1, Open: 1, Rates: "0.667/0.167", Captured: "40.00 CNY 5.00 USD", Median: "25s"},
		}},
		{name: "per currency and day", q: payment.AnalyticsQuery{From: two[0], To: two[1], GroupBy: payment.GroupByCurrency, Interval: payment.IntervalDay}, want: []analyticsView{
			{Bucket: "11-01 00h", Key: "CNY", Attempts: 3, Succeeded: 1, Failed: 1, Open: 1, Rates: "0.333/0.333", Captured: "10.00 CNY", Median: "30s"},
			{Bucket: "11-01 00h", Key: "USD", Attempts: 1, Succeeded: 1, Rates: "1.000/0.000", Captured: "5.00 USD", Median: "10s"},
			{Bucket: "11-02 00h", Key: "CNY", Attempts: 4, Succeeded: 3, Open: 1, Rates: "0.750/0.000", Captured: "50.00 CNY", Median: "50s"},
		}},
		// Shanghai's days start at 16:00 UTC the day before.
		{name: "per currency and Shanghai day", q: payment.AnalyticsQuery{From: two[0], To: two[1], GroupBy: payment.GroupByCurrency, Interval: payment.IntervalDay, TimeZone: "Asia/Shanghai"}, want: []analyticsView{
			{Bucket: "10-31 16h", Key: "CNY", Attempts: 3, Succeeded: 1, Failed: 1, Open: 1, Rates: "0.333/0.333", Captured: "10.00 CNY", Median: "30s"},
			{Bucket: "10-31 16h", Key: "USD", Attempts: 1, Succeeded: 1, Rates: "1.000/0.000", Captured: "5.00 USD", Median: "10s"},
			{Bucket: "11-01 16h", Key: "CNY", Attempts: 4, Succeeded: 3, Open: 1, Rates: "0.750/0.000", Captured: "50.00 CNY", Median: "50s"},
		}},
		{name: "per method and hour", q: payment.AnalyticsQuery{From: base, To: base.AddDate(0, 0, 1), GroupBy: payment.GroupByMethod, Interval: payment.IntervalHour}, want: []analyticsView{
			{Bucket: "11-01 10h", Key: "INSTRUCTIONS", Attempts: 1, Open: 1, Rates: "0.000/0.000", Captured: "0.00 CNY", Median: "-"},
			{Bucket: "11-01 10h", Key: "REDIRECT", Attempts: 2, Succeeded: 1, Failed: 1, Rates: "0.500/0.500", Captured: "10.00 CNY", Median: "30s"},
			{Bucket: "11-01 11h", Key: "NONE", Attempts: 1, Succeeded: 1, Rates: "1.000/0.000", Captured: "5.00 USD", Median: "10s"},
		}},
		{name: "a range without attempts", q: payment.AnalyticsQuery{From: base.AddDate(0, 1, 0), To: base.AddDate(0, 2, 0), GroupBy: payment.GroupByGateway, Interval: payment.IntervalDay}, want: []analyticsView{}},
		{name: "an empty range", q: payment.AnalyticsQuery{From: base, To: base, GroupBy: payment.GroupByGateway}, wantCode: payment.CodeInvalidRange},
		{name: "a reversed range", q: payment.AnalyticsQuery{From: two[1], To: two[0], GroupBy: payment.GroupByGateway}, wantCode: payment.CodeInvalidRange},
		{name: "more than a year", q: payment.AnalyticsQuery{From: base, To: base.AddDate(1, 0, 2), GroupBy: payment.GroupByGateway}, wantCode: payment.CodeRangeTooLong},
		{name: "hours over two months", q: payment.AnalyticsQuery{From: base, To: base.AddDate(0, 2, 0), GroupBy: payment.GroupByGateway, Interval: payment.IntervalHour}, wantCode: payment.CodeTooManyBuckets},
		{name: "no grouping", q: payment.AnalyticsQuery{From: two[0], To: two[1]}, wantCode: payment.CodeRequired},
		{name: "an unknown grouping", q: payment.AnalyticsQuery{From: two[0], To: two[1], GroupBy: "ORDER"}, wantCode: payment.CodeInvalidGroup},
		{name: "an unknown interval", q: payment.AnalyticsQuery{From: two[0], To: two[1], GroupBy: payment.GroupByGateway, Interval: "WEEK"}, wantCode: payment.CodeInvalidInterval},
		{name: "no start", q: payment.AnalyticsQuery{To: two[1], GroupBy: payment.GroupByGateway}, wantCode: payment.CodeRequired},
		{name: "a time zone that is none", q: payment.AnalyticsQuery{From: two[0], To: two[1], GroupBy: payment.GroupByGateway, Interval: payment.IntervalDay, TimeZone: "Mars/Olympus_Mons"}, wantCode: payment.CodeInvalidTimeZone},
		{name: "the server's zone", q: payment.AnalyticsQuery{From: two[0], To: two[1], GroupBy: payment.GroupByGateway, Interval: payment.IntervalDay, TimeZone: "Local"}, wantCode: payment.CodeInvalidTimeZone},
		{name: "a path for a zone", q: payment.AnalyticsQuery{From: two[0], To: two[1], GroupBy: payment.GroupByGateway, Interval: payment.IntervalDay, TimeZone: "../../etc/passwd"}, wantCode: payment.CodeInvalidTimeZone},
		{name: "a huge zone name", q: payment.AnalyticsQuery{From: two[0], To: two[1], GroupBy: payment.GroupByGateway, Interval: payment.IntervalDay, TimeZone: strings.Repeat("Asia/", 20000)}, wantCode: payment.CodeInvalidTimeZone},
	}
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		svc := reportService(t, db, base.AddDate(0, 1, 0))
		insertOrder(t, db, "ord_analytics", 1)
		seedAttempts(t, db, "ord_analytics", attempts)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				rows, err := svc.Analytics(staff("finance"), c.q)
				if c.wantCode != "" {
					if codeOf(err) != c.wantCode {
						t.Fatalf("code %q (%v), want %s", codeOf(err), err, c.wantCode)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(c.want, view(rows)); diff != "" {
					t.Errorf("rows (-want +got):\n%s", diff)
				}
			})
		}
		// Attempts on either side of the midnights of zones whose offset
		// is not whole hours (Kolkata +5:30: 18:30 UTC; Kathmandu +5:45:
		// 18:15 UTC; St. John's -3:30: 03:30 UTC), written after the
		// days above were summarized, as a late change would be.
		near := []seeded{
			{id: "pay_m1", gateway: "payment.testpay", currency: "CNY", action: "REDIRECT", state: payment.StateCaptured, amount: 700, captured: 700, created: at(0, "18:29"), paidAfter: 3 * time.Second},
			{id: "pay_m2", gateway: "payment.testpay", currency: "CNY", action: "REDIRECT", state: payment.StateFailed, amount: 700, created: at(0, "18:31")},
			{id: "pay_m3", gateway: "payment.banktransfer", currency: "CNY", action: "INSTRUCTIONS", state: payment.StatePending, amount: 800, created: at(1, "18:14")},
			{id: "pay_m4", gateway: "payment.testpay", currency: "USD", action: "", state: payment.StateCaptured, amount: 900, captured: 900, created: at(1, "18:16"), paidAfter: 7 * time.Second},
			{id: "pay_m5", gateway: "payment.testpay", currency: "CNY", action: "REDIRECT", state: payment.StateCaptured, amount: 600, captured: 600, created: at(1, "03:29"), paidAfter: 9 * time.Second},
			{id: "pay_m6", gateway: "payment.testpay", currency: "CNY", action: "REDIRECT", state: payment.StateUnknown, amount: 600, created: at(1, "03:31")},
		}
		seedAttempts(t, db, "ord_analytics", near)
		if _, err := db.NewRaw("UPDATE payment_attempts SET updated_at = ? WHERE id LIKE 'pay_m%'", base.AddDate(0, 1, 0)).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		all := append(slices.Clip(attempts), near...)
		// The answers agree with the attempts themselves over any range,
		// summarized days or not, in any time zone, and follow a change to
		// an attempt of a summarized day.
		zones := []string{"", "UTC", "Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Australia/Lord_Howe", "Europe/Berlin"}
		compare := func(t *testing.T, seed []seeded, rng *rand.Rand) {
			t.Helper()
			for range 60 {
				from := base.Add(time.Duration(rng.IntN(3*24*60)) * time.Minute)
				if rng.IntN(3) == 0 {
					from = from.Truncate(24 * time.Hour)
				}
				q := payment.AnalyticsQuery{From: from, To: from.Add(time.Duration(1+rng.IntN(3*24*60)) * time.Minute),
					GroupBy:  []payment.AnalyticsGroup{payment.GroupByGateway, payment.GroupByMethod, payment.GroupByCurrency}[rng.IntN(3)],
					Interval: []payment.AnalyticsInterval{payment.IntervalHour, payment.IntervalDay, payment.IntervalNone}[rng.IntN(3)],
					TimeZone: zones[rng.IntN(len(zones))]}
				rows, err := svc.Analytics(staff("finance"), q)
				if err != nil {
					t.Fatalf("%+v: %v", q, err)
				}
				if diff := cmp.Diff(reference(seed, q), view(rows)); diff != "" {
					t.Fatalf("%s %s %q %s..%s (-attempts +answer):\n%s", q.GroupBy, q.Interval, q.TimeZone, q.From.Format(time.DateTime), q.To.Format(time.DateTime), diff)
				}
			}
		}
		compare(t, all, rand.New(rand.NewPCG(1, 2)))
		// pay_a4, a pending transfer of the first day, is paid an hour
		// later; pay_a2's decline turns out to have taken money.
		changed := append([]seeded(nil), all...)
		changed[3].state, changed[3].captured, changed[3].paidAfter = payment.StateCaptured, 2000, time.Hour
		changed[1].state, changed[1].captured, changed[1].paidAfter = payment.StateCaptured, 1000, 5*time.Minute
		now := base.AddDate(0, 1, 0)
		for _, c := range []seeded{changed[3], changed[1]} {
			if _, err := db.NewRaw("UPDATE payment_attempts SET state = ?, captured_amount = ?, updated_at = ? WHERE id = ?",
				c.state, c.captured, now, c.id).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			seedMoves(t, db, []seeded{c})
		}
		compare(t, changed, rand.New(rand.NewPCG(3, 4)))

		q := payment.AnalyticsQuery{From: two[0], To: two[1], GroupBy: payment.GroupByGateway}
		for name, ctx := range map[string]context.Context{"a buyer": as(authz.KindCustomer, "cus_1", authz.RoleCustomer), "a guest": guest(), "fulfillment staff": staff(authz.RoleFulfillment)} {
			if _, err := svc.Analytics(ctx, q); !errors.Is(err, errs.ErrForbidden) && !errors.Is(err, errs.ErrUnauthenticated) {
				t.Errorf("%s asked: %v", name, err)
			}
		}
	})
}

// BenchmarkPaymentAnalyticsYear answers the staff's questions over a year
// of 200,000 attempts (150,000 of them paid, with their moves) on each
// engine: per gateway and day, per currency for the whole year, per
// method and hour over the last month. The clock stands at the end of the
// year: every day has ended and is answered from its summary.
//
//	go test ./core/payment -run '^$' -bench PaymentAnalyticsYear -benchtime 20x
func BenchmarkPaymentAnalyticsYear(b *testing.B) {
	const n = 200_000
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	start := end.AddDate(-1, 0, 0)
	gateways := []string{"payment.testpay", "payment.banktransfer", "payment.stripe"}
	actions := []string{"REDIRECT", "QR_CODE", "INSTRUCTIONS", "CLIENT_SECRET", ""}
	seed := make([]seeded, n)
	step := end.Sub(start) / n
	for i := range seed {
		s := seeded{id: fmt.Sprintf("pay_bench%07d", i), gateway: gateways[i%len(gateways)], currency: []string{"CNY", "USD"}[i%7%2],
			action: actions[i%len(actions)], amount: int64(1000 + i%5000), created: start.Add(time.Duration(i) * step).Truncate(time.Microsecond)}
		switch r := i % 20; {
		case r < 15:
			s.state, s.captured, s.paidAfter = payment.StateCaptured, s.amount, time.Duration(1+i%600)*time.Second
		case r < 18:
			s.state = payment.StateFailed
		case r < 19:
			s.state = payment.StateCancelled
		default:
			s.state = payment.StatePending
		}
		seed[i] = s
	}
	questions := []struct {
		name string
		q    payment.AnalyticsQuery
	}{
		{"gateway-day-year", payment.AnalyticsQuery{From: start, To: end, GroupBy: payment.GroupByGateway, Interval: payment.IntervalDay}},
		// Days of other zones: of hours; Kolkata's also split at :30.
		{"gateway-shanghai-day-month", payment.AnalyticsQuery{From: end.AddDate(0, 0, -30), To: end, GroupBy: payment.GroupByGateway, Interval: payment.IntervalDay, TimeZone: "Asia/Shanghai"}},
		{"gateway-kolkata-day-month", payment.AnalyticsQuery{From: end.AddDate(0, 0, -30), To: end, GroupBy: payment.GroupByGateway, Interval: payment.IntervalDay, TimeZone: "Asia/Kolkata"}},
		{"gateway-kolkata-day-year", payment.AnalyticsQuery{From: start, To: end, GroupBy: payment.GroupByGateway, Interval: payment.IntervalDay, TimeZone: "Asia/Kolkata"}},
		{"currency-year", payment.AnalyticsQuery{From: start, To: end, GroupBy: payment.GroupByCurrency}},
		{"method-hour-month", payment.AnalyticsQuery{From: end.AddDate(0, 0, -30), To: end, GroupBy: payment.GroupByMethod, Interval: payment.IntervalHour}},
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			var db *store.DB
			if engine == "sqlite" {
				db = storetest.NewSQLite(b)
			} else {
				db = storetest.NewPostgres(b)
			}
			svc := reportService(b, db, end.Add(time.Hour))
			insertOrder(b, db, "ord_bench", 1)
			seedAttempts(b, db, "ord_bench", seed)
			if db.Dialect == store.Postgres {
				if _, err := db.ExecContext(context.Background(), "ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			for _, q := range questions {
				b.Run(q.name, func(b *testing.B) {
					// The first question summarizes the days it covers
					// (reported as cold-ms); the loop measures the answers
					// after it, as a shop gets them.
					began := time.Now()
					if _, err := svc.Analytics(staff("finance"), q.q); err != nil {
						b.Fatal(err)
					}
					cold := time.Since(began)
					for b.Loop() {
						rows, err := svc.Analytics(staff("finance"), q.q)
						if err != nil || len(rows) == 0 {
							b.Fatalf("%d rows, %v", len(rows), err)
						}
					}
					b.ReportMetric(float64(cold.Milliseconds()), "cold-ms")
				})
			}
		})
	}
}
