package sandbox

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Transaction Search (GET /v1/reporting/transactions), written from
// PayPal's public reference for the Transaction Search API as remembered:
// start_date and end_date (RFC 3339, at most 31 days apart) are required;
// page_size is 1 to 500 (default 100) and page counts from 1. Rows carry
// transaction_info with the T-code (T0006 for a checkout capture, T1107
// for a refund the merchant made), a status (S success, P pending), the
// amount signed from the merchant's side (a refund is negative) and the
// fee likewise (a fee taken is negative). The sandbox lists captures and
// refunds at once; PayPal lists them up to three hours late.

// searchMaxRange is the longest range PayPal accepts.
const searchMaxRange = 31 * 24 * time.Hour

// Fee is what the sandbox charges on a capture of amount minor units:
// 3.49% rounded half up plus a fixed 49 minor units (40 for currencies
// without decimals), in the manner of PayPal's standard rates. Refunds
// give no fee back.
func Fee(currency string, amount int64) int64 {
	fixed := int64(49)
	if d, ok := decimals[currency]; ok && d == 0 {
		fixed = 40
	}
	return (amount*349+5000)/10000 + fixed
}

type searchRow struct {
	at   time.Time
	info map[string]any
}

// search answers a Transaction Search; the caller holds s.mu.
func (s *Server) search(q url.Values) (any, *apiError) {
	from, err1 := time.Parse(time.RFC3339, q.Get("start_date"))
	to, err2 := time.Parse(time.RFC3339, q.Get("end_date"))
	switch {
	case err1 != nil:
		return nil, invalid("start_date", "MISSING_OR_INVALID_DATE")
	case err2 != nil:
		return nil, invalid("end_date", "MISSING_OR_INVALID_DATE")
	case to.Before(from):
		return nil, invalid("end_date", "END_DATE_BEFORE_START_DATE")
	case to.Sub(from) > searchMaxRange:
		return nil, invalid("end_date", "Date range is greater than 31 days")
	}
	size, page := 100, 1
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return nil, invalid("page_size", "INVALID_PAGE_SIZE")
		}
		size = n
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, invalid("page", "INVALID_PAGE")
		}
		page = n
	}
	var rows []searchRow
	in := func(t time.Time) bool { return !t.Before(from) && !t.After(to) }
	for _, c := range s.captures {
		if !in(c.created) {
			continue
		}
		st := "S"
		if c.status == "PENDING" || c.status == "DECLINED" {
			st = map[string]string{"PENDING": "P", "DECLINED": "D"}[c.status]
		}
		n, _ := toMinor(c.amount)
		rows = append(rows, searchRow{c.created, map[string]any{
			"transaction_id": c.id, "transaction_event_code": "T0006", "transaction_status": st,
			"transaction_initiation_date": c.created.Format("2006-01-02T15:04:05-0700"),
			"transaction_updated_date":    c.created.Format("2006-01-02T15:04:05-0700"),
			"transaction_amount":          c.amount,
			"fee_amount":                  negative(fromMinor(c.amount.Currency, Fee(c.amount.Currency, n))),
			"custom_field":                c.customID, "invoice_id": c.invoiceID,
		}})
	}
	for _, r := range s.refunds {
		if !in(r.created) {
			continue
		}
		n, _ := toMinor(r.amount)
		rows = append(rows, searchRow{r.created, map[string]any{
			"transaction_id": r.id, "transaction_event_code": "T1107", "transaction_status": "S",
			"paypal_reference_id": r.captureID, "paypal_reference_id_type": "TXN",
			"transaction_initiation_date": r.created.Format("2006-01-02T15:04:05-0700"),
			"transaction_updated_date":    r.created.Format("2006-01-02T15:04:05-0700"),
			"transaction_amount":          negative(fromMinor(r.amount.Currency, n)),
			"custom_field":                r.customID, "invoice_id": r.invoiceID,
		}})
	}
	slices.SortFunc(rows, func(a, b searchRow) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.info["transaction_id"].(string), b.info["transaction_id"].(string))
	})
	total := len(rows)
	pages := max(1, (total+size-1)/size)
	lo, hi := min((page-1)*size, total), min(page*size, total)
	details := make([]map[string]any, 0, hi-lo)
	for _, r := range rows[lo:hi] {
		details = append(details, map[string]any{"transaction_info": r.info})
	}
	return map[string]any{
		"transaction_details": details, "account_number": "SANDBOXMERCHANT",
		"start_date": from.Format(time.RFC3339), "end_date": to.Format(time.RFC3339),
		"last_refreshed_datetime": time.Now().UTC().Format(time.RFC3339),
		"page":                    page, "total_items": total, "total_pages": pages,
	}, nil
}

// negative is m taken from the merchant, as Transaction Search writes it.
func negative(m money) money {
	m.Value = "-" + m.Value
	return m
}
