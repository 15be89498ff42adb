package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	// The export's time zone parameter must work on hosts without a zone
	// database (minimal containers): the binary carries its own.
	_ "time/tzdata"

	"github.com/kassahq/kassa/core/kit/clock"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/order"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/httpauth"
)

// ExportOrdersPath is where staff download orders as a CSV file for their
// bookkeeping: GET, with the staff list's filter as query parameters
// (status, paymentStatus, fulfillmentStatus, createdFrom, createdTo,
// customerId, paymentMethod, query, sortKey, ascending) and tz, the IANA
// time zone of the dates (UTC when absent). createdFrom and createdTo are
// RFC 3339 times or dates (2026-12-01, midnight in tz). Needs order read;
// authenticated like /graphql (session cookie, bearer token, API key).
const ExportOrdersPath = "/admin/export/orders.csv"

// exportWriteWindow is how long the export may take to write one batch:
// the deadline moves on after every batch, so a large export outlives the
// server's WriteTimeout while a stalled client does not hold it forever.
const exportWriteWindow = time.Minute

// orderExporter writes orders as CSV: *order.Service.
type orderExporter interface {
	Export(ctx context.Context, w io.Writer, f order.Filter, opt order.ExportOptions) (int, error)
}

// exportParams are the query parameters ExportOrdersPath accepts.
var exportParams = map[string]bool{
	"status": true, "paymentStatus": true, "fulfillmentStatus": true, "createdFrom": true, "createdTo": true,
	"customerId": true, "paymentMethod": true, "query": true, "sortKey": true, "ascending": true, "tz": true,
}

// Codes of the export's own refusals; the order service's (INVALID_STATUS,
// FORBIDDEN, ...) pass through.
const (
	codeUnknownParameter = "UNKNOWN_PARAMETER"
	codeInvalidParameter = "INVALID_PARAMETER"
)

// exportOrders serves ExportOrdersPath: the caller is in the request's
// context (httpauth.Authenticate), the service checks order read and the
// filter before the first byte, so a refusal is a JSON error with its
// status; from the first byte on the file streams, batch by batch. A
// failure in the middle aborts the response, so the client sees a broken
// download rather than a file that looks complete.
func exportOrders(orders orderExporter, payments order.ExportPayments, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, loc, err := exportFilter(r.URL.Query())
		if err != nil {
			refuseExport(w, r, log, err)
			return
		}
		out := &csvDownload{w: w, rc: http.NewResponseController(w),
			name: "orders-" + time.Now().UTC().Format("20060102-150405") + ".csv"}
		n, err := orders.Export(r.Context(), out, f, order.ExportOptions{Location: loc, Payments: payments})
		switch {
		case err == nil && !out.started:
			// Export writes the header whenever it succeeds; an empty
			// answer would be a bug, not an empty shop.
			refuseExport(w, r, log, errors.New("the export wrote nothing"))
		case err == nil:
			log.InfoContext(r.Context(), "orders exported", "orders", n)
		case !out.started:
			refuseExport(w, r, log, err)
		default:
			log.ErrorContext(r.Context(), "order export failed midway; aborting the download", "orders", n, "err", err)
			panic(http.ErrAbortHandler)
		}
	})
}

// exportPayments fills an export's payment columns from the ledger,
// for callers with payment read (payment.Service.AmountsOf).
func exportPayments(p *payment.Service) order.ExportPayments {
	return func(ctx context.Context, orderIDs []string) (map[string]order.ExportPayment, error) {
		am, err := p.AmountsOf(ctx, orderIDs)
		if err != nil {
			return nil, err
		}
		out := make(map[string]order.ExportPayment, len(am))
		for id, a := range am {
			out[id] = order.ExportPayment{Captured: a.Captured.Amount(), Refunded: a.Refunded.Amount()}
		}
		return out, nil
	}
}

// csvDownload is the response of an export: headers go out with the first
// byte, and every flush pushes a batch to the client and moves the write
// deadline on.
type csvDownload struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	name    string
	started bool
}

// Write implements io.Writer.
func (d *csvDownload) Write(p []byte) (int, error) {
	if !d.started {
		d.started = true
		h := d.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+d.name+`"`)
		// Orders hold personal data: no cache keeps a copy.
		h.Set("Cache-Control", "no-store")
		d.extend()
		d.w.WriteHeader(http.StatusOK)
	}
	return d.w.Write(p)
}

// Flush implements order.Flusher.
func (d *csvDownload) Flush() error {
	d.extend()
	if err := d.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// extend moves the write deadline exportWriteWindow ahead, where the
// server supports it.
func (d *csvDownload) extend() {
	_ = d.rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
}

// exportFilter reads the filter and the time zone from the query. Values
// the order service validates (statuses, sort key, date order) pass
// through to it; unknown parameters are refused, so a misspelt one never
// exports every order instead of a few.
func exportFilter(q url.Values) (order.Filter, *time.Location, error) {
	var (
		f   order.Filter
		v   errs.Validator
		loc = time.UTC
	)
	for name, vals := range q {
		switch {
		case !exportParams[name]:
			v.Add(errs.Invalid(name, codeUnknownParameter, "unknown parameter "+strconv.Quote(name)))
		case len(vals) > 1:
			v.Add(errs.Invalid(name, codeInvalidParameter, "give "+name+" once"))
		}
	}
	if tz := q.Get("tz"); tz != "" {
		if l, ok := clock.Zone(tz); ok {
			loc = l
		} else {
			v.Add(errs.Invalid("tz", codeInvalidParameter, "an IANA time zone, such as Asia/Shanghai"))
		}
	}
	f.Status = order.Status(q.Get("status"))
	f.PaymentStatus = order.PaymentStatus(q.Get("paymentStatus"))
	f.FulfillmentStatus = order.FulfillmentStatus(q.Get("fulfillmentStatus"))
	f.CustomerID = q.Get("customerId")
	f.PaymentMethod = q.Get("paymentMethod")
	f.Query = q.Get("query")
	f.SortKey = order.SortKey(q.Get("sortKey"))
	if s := q.Get("ascending"); s != "" {
		b, err := strconv.ParseBool(s)
		v.Check(err == nil, "ascending", codeInvalidParameter, "true or false")
		f.Ascending = b
	}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"createdFrom", &f.CreatedFrom}, {"createdTo", &f.CreatedTo}} {
		s := q.Get(p.name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t, err = time.ParseInLocation(time.DateOnly, s, loc)
		}
		if err != nil {
			v.Add(errs.Invalid(p.name, codeInvalidParameter, "an RFC 3339 time or a date (2026-12-01)"))
			continue
		}
		*p.to = t
	}
	if err := v.Err(); err != nil {
		return order.Filter{}, nil, err
	}
	return f, loc, nil
}

// refuseExport answers an export that was refused before its first byte.
func refuseExport(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	refuseRoute(w, r, log, "the order export", err)
}

// refuseRoute answers a request to a route outside GraphQL (what names
// it) with the API's JSON error envelope: the status of the error's kind
// and its code, the field named in the message. Anything but a domain
// error is a server error, logged and not explained.
func refuseRoute(w http.ResponseWriter, r *http.Request, log *slog.Logger, what string, err error) {
	all := errs.All(err)
	if len(all) == 0 {
		log.ErrorContext(r.Context(), what+" failed", "err", err)
		httpauth.JSON{}.Refuse(w, r, &httpauth.Refusal{Status: http.StatusInternalServerError, Code: "INTERNAL", Message: what + " failed"})
		return
	}
	e := all[0]
	status := http.StatusBadRequest
	switch {
	case errors.Is(e, errs.ErrUnauthenticated):
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="kassa"`)
	case errors.Is(e, errs.ErrForbidden):
		status = http.StatusForbidden
	case errors.Is(e, errs.ErrUnavailable):
		status = http.StatusServiceUnavailable
	case errors.Is(e, errs.ErrLimited):
		status = http.StatusTooManyRequests
	}
	msg := e.Message
	if len(e.Field) > 0 {
		msg = fmt.Sprintf("%s: %s", strings.Join(e.Field, "."), e.Message)
	}
	httpauth.JSON{}.Refuse(w, r, &httpauth.Refusal{Status: status, Code: e.Code, Message: msg})
}
