package payment

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/kassahq/kassa/core/store"
)

// cell is what the attempts of one bucket, gateway, method and currency
// did: the unit the analytics compute, store (per day) and fold.
type cell struct {
	bucket                                      time.Time
	gateway, method, currency                   string
	attempts, succeeded, failed, open, captured int64
	// paid are the milliseconds each succeeded attempt took to be paid.
	paid []int64
}

// rawCount is one row of rawCells' aggregate query.
type rawCount struct {
	Bucket    string `bun:"bucket"`
	Gateway   string `bun:"gateway_id"`
	Method    string `bun:"method"`
	Currency  string `bun:"currency"`
	Attempts  int64  `bun:"attempts"`
	Succeeded int64  `bun:"succeeded"`
	Failed    int64  `bun:"failed"`
	Open      int64  `bun:"open"`
	Captured  int64  `bun:"captured"`
}

// rawPaid is one succeeded attempt of rawCells' second query.
type rawPaid struct {
	Bucket   string   `bun:"bucket"`
	Gateway  string   `bun:"gateway_id"`
	Method   string   `bun:"method"`
	Currency string   `bun:"currency"`
	Millis   *float64 `bun:"ms"`
}

// bucketExpr is the SQL of an attempt's bucket key (hourKey or dayKey as
// text; ” for one bucket) on the engine. Both keep TIMESTAMP columns in
// UTC: SQLite as text "2006-01-02 15:04:05.999999+00:00" written by bun
// (a prefix is the bucket), PostgreSQL as timestamp without time zone.
func bucketExpr(d store.Dialect, width time.Duration) string {
	switch {
	case width == time.Hour && d == store.Postgres:
		return `to_char(a.created_at, 'YYYY-MM-DD HH24')`
	case width == time.Hour:
		return `substr(a.created_at, 1, 13)`
	case width > 0 && d == store.Postgres:
		return `to_char(a.created_at, 'YYYY-MM-DD')`
	case width > 0:
		return `substr(a.created_at, 1, 10)`
	}
	return `''`
}

// methodExpr is an attempt's method: the buyer action, NONE for none.
const methodExpr = `CASE WHEN a.action_type = '' THEN 'NONE' ELSE a.action_type END`

// paidMillisExpr is the SQL of the milliseconds from an attempt's
// creation to its first move to AUTHORIZED or CAPTURED (the index
// payment_attempt_timeline_paid covers the lookup).
func paidMillisExpr(d store.Dialect) string {
	const paidAt = `(SELECT MIN(t.created_at) FROM payment_attempt_timeline t
		WHERE t.attempt_id = a.id AND t.to_state IN ('AUTHORIZED', 'CAPTURED'))`
	if d == store.Postgres {
		return `EXTRACT(EPOCH FROM (` + paidAt + ` - a.created_at)) * 1000`
	}
	return `(julianday(` + paidAt + `) - julianday(a.created_at)) * 86400000.0`
}

// RawCells computes the cells of the attempts created in [from, to), in
// buckets of width (an hour, a day, or 0 for one), from the attempts
// themselves: an aggregate query and a narrow one over the succeeded
// attempts, both on the index payment_attempts_analytics.
func (s *paymentStore) RawCells(ctx context.Context, from, to time.Time, width time.Duration) ([]*cell, error) {
	return s.RawCellsIn(ctx, [][2]time.Time{{from, to}}, width)
}

// RawCellsIn is RawCells over several ranges [from, to) at once, each
// range's attempts in their own hour or day bucket (with no width, the
// one bucket starts at the first range's start).
func (s *paymentStore) RawCellsIn(ctx context.Context, ranges [][2]time.Time, width time.Duration) ([]*cell, error) {
	if len(ranges) == 0 {
		return nil, nil
	}
	b := bucketExpr(s.db.Dialect, width)
	args := make([]any, 0, 2*len(ranges))
	for _, r := range ranges {
		args = append(args, r[0], r[1])
	}
	var counts []rawCount
	var paid []rawPaid
	read := func(ctx context.Context) error {
		err := s.conn(ctx).NewRaw(`SELECT `+b+` AS bucket, a.gateway_id, `+methodExpr+` AS method, a.currency,
			COUNT(*) AS attempts,
			CAST(SUM(CASE WHEN a.captured_amount > 0 OR a.authorized_amount > 0 THEN 1 ELSE 0 END) AS BIGINT) AS succeeded,
			CAST(SUM(CASE WHEN a.state = 'FAILED' THEN 1 ELSE 0 END) AS BIGINT) AS failed,
			CAST(SUM(CASE WHEN a.state IN ('PENDING', 'UNKNOWN') THEN 1 ELSE 0 END) AS BIGINT) AS open,
			CAST(SUM(a.captured_amount) AS BIGINT) AS captured
			`+attemptsIn(s.db.Dialect, len(ranges), "")+`
			GROUP BY 1, 2, 3, 4`, args...).Scan(ctx, &counts)
		if err != nil {
			return fmt.Errorf("payment: count attempts: %w", err)
		}
		err = s.conn(ctx).NewRaw(`SELECT `+b+` AS bucket, a.gateway_id, `+methodExpr+` AS method, a.currency,
			`+paidMillisExpr(s.db.Dialect)+` AS ms
			`+attemptsIn(s.db.Dialect, len(ranges), "a.captured_amount > 0 OR a.authorized_amount > 0"), args...).Scan(ctx, &paid)
		if err != nil {
			return fmt.Errorf("payment: read the time to paid: %w", err)
		}
		return nil
	}
	var err error
	if len(ranges) > 1 && s.db.Dialect == store.Postgres {
		err = s.db.RunInTx(ctx, func(ctx context.Context) error {
			// The planner cannot tell how few attempts each range holds,
			// prices the join at millions of rows and turns on JIT
			// compilation: a month of Kolkata's days took 405 ms with it,
			// 33 ms without (BENCHMARKS.md).
			if _, err := s.conn(ctx).ExecContext(ctx, "SET LOCAL jit = off"); err != nil {
				return fmt.Errorf("payment: analytics without JIT: %w", err)
			}
			return read(ctx)
		})
	} else {
		err = read(ctx)
	}
	if err != nil {
		return nil, err
	}
	type key struct{ bucket, gateway, method, currency string }
	byKey := make(map[key]*cell, len(counts))
	out := make([]*cell, 0, len(counts))
	for _, c := range counts {
		start, err := parseBucket(c.Bucket, width, ranges[0][0])
		if err != nil {
			return nil, err
		}
		x := &cell{bucket: start, gateway: c.Gateway, method: c.Method, currency: c.Currency, attempts: c.Attempts,
			succeeded: c.Succeeded, failed: c.Failed, open: c.Open, captured: c.Captured}
		byKey[key{c.Bucket, c.Gateway, c.Method, c.Currency}] = x
		out = append(out, x)
	}
	for _, p := range paid {
		// An attempt paid without a recorded move (none so far) has no
		// time to paid.
		if x := byKey[key{p.Bucket, p.Gateway, p.Method, p.Currency}]; x != nil && p.Millis != nil && *p.Millis >= 0 {
			x.paid = append(x.paid, int64(*p.Millis+0.5))
		}
	}
	return out, nil
}

// attemptsIn is the FROM and WHERE of the attempts (aliased a) created in
// any of n ranges (two arguments each) and meeting cond when not "". One
// range is a range of the creation index. Several (the hours holding a
// zone's midnights, up to 366) are a list the attempts are joined to, one
// index range each: as as many ORs, they made PostgreSQL gather a bitmap
// of them all and SQLite walk the index once per OR. On PostgreSQL the
// join is fenced off (OFFSET 0): the planner, which cannot tell how few
// attempts a range holds, would otherwise sort the whole table to group
// it and filter the join afterwards.
func attemptsIn(d store.Dialect, n int, cond string) string {
	if cond != "" {
		cond = " AND (" + cond + ")"
	}
	if n == 1 {
		return "FROM payment_attempts a WHERE a.created_at >= ? AND a.created_at < ?" + cond
	}
	// PostgreSQL reads the arguments as text; SQLite keeps timestamps as
	// text already.
	bound, fence := "?", ""
	if d == store.Postgres {
		bound, fence = "CAST(? AS TIMESTAMP)", " OFFSET 0"
	}
	rows := make([]string, n)
	for i := range rows {
		rows[i] = "(" + bound + ", " + bound + ")"
	}
	// Both engines name a VALUES list's columns column1, column2.
	return "FROM (SELECT a.* FROM (VALUES " + strings.Join(rows, ", ") + ") AS r, payment_attempts a" +
		" WHERE a.created_at >= r.column1 AND a.created_at < r.column2" + cond + fence + ") AS a"
}

// parseBucket reads a bucket key back; with no width the bucket is from.
func parseBucket(s string, width time.Duration, from time.Time) (time.Time, error) {
	layout := dayKey
	switch {
	case width == 0:
		return from, nil
	case width == time.Hour:
		layout = hourKey
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("payment: analytics bucket %q: %w", s, err)
	}
	return t, nil
}

// ---- day summaries (payment_analytics_days, _watermark) ----

// Watermark returns the time before which every change to an attempt is
// in the day summaries; ok is false when none was ever set.
func (s *paymentStore) Watermark(ctx context.Context) (w time.Time, ok bool, err error) {
	var rows []time.Time
	err = s.conn(ctx).NewRaw(`SELECT valid_as_of FROM payment_analytics_watermark WHERE id = 1`).Scan(ctx, &rows)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("payment: read the analytics watermark: %w", err)
	}
	if len(rows) == 0 {
		return time.Time{}, false, nil
	}
	return rows[0].UTC(), true, nil
}

// AdvanceWatermark moves the watermark forward to w (never back).
func (s *paymentStore) AdvanceWatermark(ctx context.Context, w time.Time) error {
	_, err := s.conn(ctx).NewRaw(`INSERT INTO payment_analytics_watermark (id, valid_as_of) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET valid_as_of = excluded.valid_as_of
		WHERE payment_analytics_watermark.valid_as_of < excluded.valid_as_of`, w).Exec(ctx)
	if err != nil {
		return fmt.Errorf("payment: advance the analytics watermark: %w", err)
	}
	return nil
}

// ChangedDays returns the creation days (dayKey) of the attempts changed
// since since, on the index payment_attempts_updated.
func (s *paymentStore) ChangedDays(ctx context.Context, since time.Time) ([]time.Time, error) {
	var keys []string
	err := s.conn(ctx).NewRaw(`SELECT DISTINCT `+bucketExpr(s.db.Dialect, 24*time.Hour)+` FROM payment_attempts a
		WHERE a.updated_at >= ?`, since).Scan(ctx, &keys)
	if err != nil {
		return nil, fmt.Errorf("payment: read the changed days: %w", err)
	}
	out := make([]time.Time, 0, len(keys))
	for _, k := range keys {
		d, err := time.Parse(dayKey, k)
		if err != nil {
			return nil, fmt.Errorf("payment: changed day %q: %w", k, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// ForgetDays drops the summaries of the days (all of them with all).
func (s *paymentStore) ForgetDays(ctx context.Context, days []time.Time, all bool) error {
	q := s.conn(ctx).NewDelete().TableExpr("payment_analytics_days")
	switch {
	case all:
		q = q.Where("1 = 1")
	case len(days) == 0:
		return nil
	default:
		q = q.Where("day IN (?)", bun.In(days))
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("payment: forget analytics days: %w", err)
	}
	return nil
}

// analyticsDay is a row of payment_analytics_days.
type analyticsDay struct {
	bun.BaseModel `bun:"table:payment_analytics_days"`
	Day           time.Time `bun:"day,pk"`
	Cells         string    `bun:"cells"`
	Hours         string    `bun:"hours"`
}

// SaveDays stores the summaries of the days from their daily and hourly
// cells, replacing what was there.
func (s *paymentStore) SaveDays(ctx context.Context, days []time.Time, daily, hourly []*cell) error {
	if len(days) == 0 {
		return nil
	}
	byDay := make(map[time.Time][]*cell, len(days))
	for _, c := range daily {
		byDay[c.bucket] = append(byDay[c.bucket], c)
	}
	hoursOf := make(map[time.Time][]*cell, len(days))
	for _, c := range hourly {
		d := c.bucket.Truncate(24 * time.Hour)
		hoursOf[d] = append(hoursOf[d], c)
	}
	rows := make([]*analyticsDay, len(days))
	for i, d := range days {
		rows[i] = &analyticsDay{Day: d, Cells: encodeCells(byDay[d], d), Hours: encodeCells(hoursOf[d], d)}
	}
	for len(rows) > 0 {
		part := rows[:min(len(rows), 50)]
		rows = rows[len(part):]
		// Another instance may have summarized the same day meanwhile:
		// both are true when written, the later one stays.
		_, err := s.conn(ctx).NewInsert().Model(&part).On("CONFLICT (day) DO UPDATE").
			Set("cells = EXCLUDED.cells, hours = EXCLUDED.hours").Exec(ctx)
		if err != nil {
			return fmt.Errorf("payment: store analytics days: %w", err)
		}
	}
	return nil
}

// StoredDays reads the summaries of the days in [from, to), daily cells
// or hourly ones, and which days have a summary.
func (s *paymentStore) StoredDays(ctx context.Context, from, to time.Time, hourly bool) ([]*cell, map[time.Time]bool, error) {
	var rows []*analyticsDay
	col := "cells"
	if hourly {
		col = "hours"
	}
	err := s.conn(ctx).NewSelect().Model(&rows).Column("day", col).Where("day >= ? AND day < ?", from, to).Scan(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("payment: read analytics days: %w", err)
	}
	var out []*cell
	have := make(map[time.Time]bool, len(rows))
	for _, r := range rows {
		day := r.Day.UTC()
		text := r.Cells
		if hourly {
			text = r.Hours
		}
		cells, err := decodeCells(day, text)
		if err != nil {
			return nil, nil, err
		}
		have[day] = true
		out = append(out, cells...)
	}
	return out, have, nil
}

// encodeCells writes a day's cells one per line, tab-separated: the hour
// of the bucket in the day, gateway, method, currency, attempts,
// succeeded, failed, open, captured, paid milliseconds (sorted, as
// comma-separated differences). Gateway ids, methods and currency codes
// hold no tab or line break.
func encodeCells(cells []*cell, day time.Time) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strconv.Itoa(int(c.bucket.Sub(day)/time.Hour)) + "\t" + c.gateway + "\t" + c.method + "\t" + c.currency)
		for _, n := range []int64{c.attempts, c.succeeded, c.failed, c.open, c.captured} {
			b.WriteByte('\t')
			b.WriteString(strconv.FormatInt(n, 10))
		}
		b.WriteByte('\t')
		sorted := append([]int64(nil), c.paid...)
		sortInt64s(sorted)
		prev := int64(0)
		for j, v := range sorted {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(v-prev, 10))
			prev = v
		}
	}
	return b.String()
}

func decodeCells(day time.Time, s string) ([]*cell, error) {
	if s == "" {
		return nil, nil
	}
	bad := func(line string) error {
		return fmt.Errorf("payment: analytics summary of %s: bad cell %q", day.Format(dayKey), line)
	}
	var out []*cell
	for line := range strings.SplitSeq(s, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 10 {
			return nil, bad(line)
		}
		hour, err := strconv.Atoi(f[0])
		if err != nil || hour < 0 || hour > 23 {
			return nil, bad(line)
		}
		c := &cell{bucket: day.Add(time.Duration(hour) * time.Hour), gateway: f[1], method: f[2], currency: f[3]}
		for i, dst := range []*int64{&c.attempts, &c.succeeded, &c.failed, &c.open, &c.captured} {
			n, err := strconv.ParseInt(f[4+i], 10, 64)
			if err != nil {
				return nil, bad(line)
			}
			*dst = n
		}
		if f[9] != "" {
			c.paid = make([]int64, 0, strings.Count(f[9], ",")+1)
			prev := int64(0)
			for part := range strings.SplitSeq(f[9], ",") {
				d, err := strconv.ParseInt(part, 10, 64)
				if err != nil {
					return nil, bad(line)
				}
				prev += d
				c.paid = append(c.paid, prev)
			}
		}
		out = append(out, c)
	}
	return out, nil
}
