package payment

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadPageToken is returned (wrapped) by [DayPager.List] for a page token
// it did not issue for the request's range.
var ErrBadPageToken = errors.New("bad page token")

// dayLayout is the day in a [DayPager] page token.
const dayLayout = "2006-01-02"

// Limit is the page size a plugin serves for r: r.PageSize when it is
// between 1 and maxSize, def otherwise (a PageSize of 0 lets the plugin
// choose).
func (r ListTransactionsRequest) Limit(def, maxSize int) int {
	if r.PageSize <= 0 || r.PageSize > maxSize {
		return def
	}
	return r.PageSize
}

// DayPager serves ListTransactions from a gateway's daily files (trade
// bills, settlement files: one per day, fetched whole). [DayPager.List]
// splits [From, To) into the gateway's days, reads each day's file, keeps
// the transactions inside [From, To) and pages through them with the
// token "yyyy-mm-dd/offset" (the day being read and how many of its
// transactions were served). A page never spans two days; days with
// nothing in range are skipped, so only the last page may be empty.
//
// Usage in a gateway whose bills are per China-time day:
//
//	var billDays = payment.DayPager{Location: chinaTime, PageSize: 200, MaxPageSize: 1000}
//
//	func (g *Gateway) ListTransactions(ctx context.Context, req payment.ListTransactionsRequest) (payment.TransactionPage, error) {
//		return billDays.List(ctx, req, func(ctx context.Context, day time.Time) ([]payment.Transaction, error) {
//			return g.bill(ctx, day.Format("2006-01-02"))
//		})
//	}
type DayPager struct {
	// Location is the time zone of the gateway's days (Asia/Shanghai for
	// the Chinese gateways). Nil means UTC.
	Location *time.Location
	// Cutoff is the time of day at which the gateway closes a day; zero
	// means midnight. UnionPay settles at 23:00: with a Cutoff of 23 hours
	// day D holds what happened from 23:00 of the day before to 23:00 of D.
	Cutoff time.Duration
	// PageSize is served when the request asks for none or for more than
	// MaxPageSize.
	PageSize int
	// MaxPageSize is the largest page size a request may ask for.
	MaxPageSize int
}

// DayStart returns midnight (in Location) of the date of the gateway's day
// that t falls in.
func (p DayPager) DayStart(t time.Time) time.Time {
	loc := p.location()
	if p.Cutoff > 0 && p.Cutoff < 24*time.Hour {
		// After the cut-off an instant belongs to the next day.
		t = t.Add(24*time.Hour - p.Cutoff)
	}
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

func (p DayPager) location() *time.Location {
	if p.Location == nil {
		return time.UTC
	}
	return p.Location
}

// List answers req with one page read from the days of [req.From,
// req.To). read returns every transaction of the file of day (midnight of
// its date in Location), or nil when the gateway has none (yet); List
// filters them to the range, so read may return a whole file. Errors of
// read are returned as they are.
func (p DayPager) List(ctx context.Context, req ListTransactionsRequest, read func(ctx context.Context, day time.Time) ([]Transaction, error)) (TransactionPage, error) {
	if !req.From.Before(req.To) {
		return TransactionPage{}, nil
	}
	size := req.Limit(p.PageSize, p.MaxPageSize)
	day, last := p.DayStart(req.From), p.DayStart(req.To.Add(-time.Nanosecond))
	offset := 0
	if req.PageToken != "" {
		d, o, ok := strings.Cut(req.PageToken, "/")
		t, err1 := time.ParseInLocation(dayLayout, d, p.location())
		n, err2 := strconv.Atoi(o)
		if !ok || err1 != nil || err2 != nil || n < 0 || t.Before(day) || t.After(last) {
			return TransactionPage{}, fmt.Errorf("list transactions: %w %q", ErrBadPageToken, req.PageToken)
		}
		day, offset = t, n
	}
	for ; !day.After(last); day, offset = day.AddDate(0, 0, 1), 0 {
		all, err := read(ctx, day)
		if err != nil {
			return TransactionPage{}, err
		}
		var rows []Transaction
		for _, tx := range all {
			if !tx.OccurredAt.Before(req.From) && tx.OccurredAt.Before(req.To) {
				rows = append(rows, tx)
			}
		}
		if offset >= len(rows) {
			continue
		}
		end := min(offset+size, len(rows))
		page := TransactionPage{Transactions: rows[offset:end]}
		switch {
		case end < len(rows):
			page.NextPageToken = day.Format(dayLayout) + "/" + strconv.Itoa(end)
		case day.Before(last):
			page.NextPageToken = day.AddDate(0, 0, 1).Format(dayLayout) + "/0"
		}
		return page, nil
	}
	return TransactionPage{}, nil
}
