package order

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/kit/page"
	"github.com/kassahq/kassa/core/kit/text"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/pricing"
)

// DefaultExportBatch is how many orders Export reads at a time when
// ExportOptions.BatchSize is zero.
const DefaultExportBatch = 500

// ExportColumns are the columns of Export, in order: what a shop owner's
// bookkeeping needs of each order. Amounts are decimals in the order's
// currency ("12.34", "1200" for JPY), without the currency, which has a
// column of its own; Discounts is zero or negative. "Tax included" is
// true when Subtotal and Shipping hold the tax (Total is then Subtotal +
// Shipping + Discounts), false when it was added to them (Total adds
// Tax). "Tax rate (%)" is the rate the lines and the shipping were taxed
// at ("13", "6.5"), empty for orders placed before Kassa kept it. Captured is what the buyer's payments took,
// Refunded what went back to them, Net paid the difference, as the
// payment ledger says; the three are empty for staff who may not read
// payments (ExportOptions.Payments).
var ExportColumns = []string{
	"Order number", "Created at", "Status", "Payment status", "Fulfillment status",
	"Customer email", "Customer name",
	"Shipping name", "Shipping address", "Shipping country",
	"Currency", "Subtotal", "Shipping", "Tax", "Tax rate (%)", "Tax included", "Discounts", "Total",
	"Captured", "Refunded", "Net paid",
	"Payment method", "Lines", "Items", "Tracking numbers",
}

// ExportPayment is what an order's payments took and gave back, minor
// units of the order's currency.
type ExportPayment struct {
	Captured, Refunded int64
}

// ExportPayments reads the payments of orders for Export: the orders'
// ids in, what each took and gave back out (an order without payments
// may be missing). The caller's permission applies: errs.ErrForbidden
// leaves the columns empty.
type ExportPayments func(ctx context.Context, orderIDs []string) (map[string]ExportPayment, error)

// ExportOptions tune Export.
type ExportOptions struct {
	// Location is the time zone of the "Created at" column (ISO 8601
	// with the zone's offset); nil is UTC.
	Location *time.Location
	// BatchSize is how many orders are read at a time; zero is
	// DefaultExportBatch. Memory stays bounded by it, whatever the
	// number of orders.
	BatchSize int
	// Payments fills the Captured, Refunded and Net paid columns, a
	// batch at a time; nil leaves them empty. The payments are another
	// domain's, so the caller hands them in.
	Payments ExportPayments
}

// Flusher is implemented by writers that want every batch of an export
// pushed out as soon as it is written: an HTTP response, so the download
// starts at once and a slow export keeps its connection alive.
type Flusher interface {
	Flush() error
}

// bom is the UTF-8 byte order mark. Spreadsheet programs read a CSV file
// without it in the system's legacy code page, which garbles Chinese (and
// every other non-ASCII) names.
const bom = "\uFEFF"

// Export writes every order matching f (the staff list's filter, in its
// order) to w as CSV and returns how many orders it wrote: a UTF-8 byte
// order mark, a header of ExportColumns, then one row per order, fields
// quoted as RFC 4180 says and rows ended by CRLF. Orders are read in keyset
// batches, so memory stays constant and orders placed meanwhile neither
// shift nor repeat rows. Needs order read.
//
// Text that came from buyers or staff and starts with =, +, -, @, a tab or
// a carriage return gets a leading apostrophe, so a spreadsheet shows it
// instead of running it as a formula (CSV injection).
//
// The permission and the filter are checked before anything is written:
// an error with nothing written means the request was refused; an error
// after the first byte means the file is incomplete. When w is a Flusher,
// it is flushed after every batch.
func (s *Service) Export(ctx context.Context, w io.Writer, f Filter, opt ExportOptions) (int, error) {
	if err := s.authz.Can(ctx, authz.Order, authz.Read); err != nil {
		return 0, err
	}
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	batch := opt.BatchSize
	if batch <= 0 {
		batch = DefaultExportBatch
	}
	// The first batch validates the filter before the first byte.
	p, err := s.List(ctx, f, page.Request{First: batch})
	if err != nil {
		return 0, err
	}
	if _, err := io.WriteString(w, bom); err != nil {
		return 0, fmt.Errorf("order: export: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(ExportColumns); err != nil {
		return 0, fmt.Errorf("order: export: %w", err)
	}
	n := 0
	for {
		if err := s.exportBatch(ctx, cw, p.Items, loc, &opt); err != nil {
			return n, err
		}
		n += len(p.Items)
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, fmt.Errorf("order: export: %w", err)
		}
		if fl, ok := w.(Flusher); ok {
			if err := fl.Flush(); err != nil {
				return n, fmt.Errorf("order: export: %w", err)
			}
		}
		if !p.HasNext || len(p.Cursors) == 0 {
			return n, nil
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		last := p.Cursors[len(p.Cursors)-1]
		if p, err = s.List(ctx, f, page.Request{First: batch, After: &last}); err != nil {
			return n, err
		}
	}
}

// exportBatch writes the rows of one batch of orders.
func (s *Service) exportBatch(ctx context.Context, cw *csv.Writer, orders []*Order, loc *time.Location, opt *ExportOptions) error {
	if len(orders) == 0 {
		return nil
	}
	ids := make([]string, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	counts, err := s.store.LineCounts(ctx, ids)
	if err != nil {
		return err
	}
	tracking, err := s.store.TrackingNumbers(ctx, ids)
	if err != nil {
		return err
	}
	var paid map[string]ExportPayment
	if opt.Payments != nil {
		paid, err = opt.Payments(ctx, ids)
		if errors.Is(err, errs.ErrForbidden) {
			// Staff who may read orders but not payments: the columns
			// stay empty, in this batch and the next.
			opt.Payments, paid, err = nil, nil, nil
		}
		if err != nil {
			return err
		}
	}
	row := make([]string, len(ExportColumns))
	for _, o := range orders {
		amount := func(minor int64) string { return money.New(minor, o.Currency).Decimal() }
		c := counts[o.ID]
		captured, refunded, net := "", "", ""
		if paid != nil {
			p := paid[o.ID]
			captured, refunded, net = amount(p.Captured), amount(p.Refunded), amount(p.Captured-p.Refunded)
		}
		buyer := o.BillingAddress
		if fullName(buyer) == "" {
			buyer = o.ShippingAddress
		}
		row = append(row[:0],
			cell(o.Number),
			o.CreatedAt.In(loc).Format(time.RFC3339),
			string(o.Status), string(o.PaymentStatus), string(o.FulfillmentStatus),
			cell(o.Email),
			cell(fullName(buyer)),
			cell(fullName(o.ShippingAddress)),
			cell(postalAddress(o.ShippingAddress)),
			cell(o.ShippingAddress.CountryCode),
			o.Currency.Code(),
			amount(o.SubtotalAmount), amount(o.ShippingAmount), amount(o.TaxAmount), pricing.Percent(o.TaxBasisPoints), strconv.FormatBool(o.TaxIncluded),
			amount(o.DiscountAmount), amount(o.TotalAmount),
			captured, refunded, net,
			cell(o.PaymentMethod),
			strconv.FormatInt(c.Lines, 10), strconv.FormatInt(c.Units, 10),
			cell(strings.Join(tracking[o.ID], "; ")),
		)
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("order: export: %w", err)
		}
	}
	return nil
}

// cell neutralizes text for a spreadsheet: a value starting with a
// character that makes a formula (=, +, -, @) or that some programs skip
// before looking for one (tab, carriage return) gets a leading
// apostrophe, which spreadsheets show as text and do not display. Numbers
// Export writes itself are not passed through it: "-1.00" must stay a
// number.
func cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Name is the name on the address: "First Last", or the family name
// first without a space when both parts are written in Han characters
// ("王小明").
func (a Address) Name() string { return fullName(a) }

// fullName is Address.Name.
func fullName(a Address) string { return text.FullName(a.FirstName, a.LastName) }

// postalAddress is an address on one line, without the name and the
// country (which have columns of their own): company, street lines,
// postal code and city, province. The phone number stays out: a
// bookkeeping file has no use for it.
func postalAddress(a Address) string {
	var parts []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	add(a.Company)
	add(a.Line1)
	add(a.Line2)
	add(strings.TrimSpace(a.PostalCode + " " + a.City))
	add(a.Province)
	return strings.Join(parts, ", ")
}
