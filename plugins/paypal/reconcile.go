package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// searchWindow is the longest range one Transaction Search call may cover
// (PayPal refuses more than 31 days).
const searchWindow = 31 * 24 * time.Hour

// searchPageSize is the page size asked when Kassa lets the plugin choose.
const searchPageSize = 100

// maxSearchPageSize is the largest page PayPal serves.
const maxSearchPageSize = 500

// ppSearch is the answer of GET /v1/reporting/transactions.
type ppSearch struct {
	Details []struct {
		Info ppTxInfo `json:"transaction_info"`
	} `json:"transaction_details"`
	Page       int `json:"page"`
	TotalPages int `json:"total_pages"`
}

// ppTxInfo is the transaction_info of a Transaction Search row.
type ppTxInfo struct {
	ID          string   `json:"transaction_id"`
	EventCode   string   `json:"transaction_event_code"`
	Initiated   string   `json:"transaction_initiation_date"`
	Amount      ppMoney  `json:"transaction_amount"`
	Fee         *ppMoney `json:"fee_amount"`
	Status      string   `json:"transaction_status"`
	CustomField string   `json:"custom_field"`
}

// ListTransactions implements payment.Gateway with PayPal's Transaction
// Search (GET /v1/reporting/transactions), which needs the "Transaction
// Search" permission on the REST app. PayPal lists a transaction up to
// three hours after it happened, so a range ending now can miss the last
// ones: Kassa's reconciler reads each day again later. A range longer
// than 31 days is read in 31-day windows. The page token is
// "<window start, Unix nanoseconds>/<PayPal page>".
func (g *Gateway) ListTransactions(ctx context.Context, req payment.ListTransactionsRequest) (payment.TransactionPage, error) {
	c, err := g.configured()
	if err != nil {
		return payment.TransactionPage{}, err
	}
	if !req.From.Before(req.To) {
		return payment.TransactionPage{}, nil
	}
	size := req.Limit(searchPageSize, maxSearchPageSize)
	start, page := req.From, 1
	if req.PageToken != "" {
		w, p, ok := strings.Cut(req.PageToken, "/")
		ns, err1 := strconv.ParseInt(w, 10, 64)
		n, err2 := strconv.Atoi(p)
		start = time.Unix(0, ns)
		if !ok || err1 != nil || err2 != nil || n < 1 || start.Before(req.From) || !start.Before(req.To) {
			return payment.TransactionPage{}, fmt.Errorf("paypal: bad page token %q", req.PageToken)
		}
		page = n
	}
	for {
		end := start.Add(searchWindow)
		if end.After(req.To) {
			end = req.To
		}
		q := url.Values{
			"start_date": {start.UTC().Format(time.RFC3339)},
			"end_date":   {end.UTC().Format(time.RFC3339)},
			"fields":     {"transaction_info"},
			"page_size":  {strconv.Itoa(size)},
			"page":       {strconv.Itoa(page)},
		}
		var res ppSearch
		if err := c.api.do(ctx, http.MethodGet, "/v1/reporting/transactions?"+q.Encode(), nil, "", &res); err != nil {
			return payment.TransactionPage{}, fmt.Errorf("paypal: transaction search %s..%s: %s", q.Get("start_date"), q.Get("end_date"), describe(err))
		}
		var out payment.TransactionPage
		for _, d := range res.Details {
			tx, ok, err := g.transaction(d.Info)
			if err != nil {
				return payment.TransactionPage{}, err
			}
			if ok && !tx.OccurredAt.Before(req.From) && tx.OccurredAt.Before(req.To) {
				out.Transactions = append(out.Transactions, tx)
			}
		}
		switch {
		case page < res.TotalPages:
			out.NextPageToken = fmt.Sprintf("%d/%d", start.UnixNano(), page+1)
		case end.Before(req.To):
			out.NextPageToken = fmt.Sprintf("%d/1", end.UnixNano())
		}
		// An empty window goes on to the next one rather than answering
		// an empty page that is not the last.
		if len(out.Transactions) > 0 || out.NextPageToken == "" || page < res.TotalPages {
			return out, nil
		}
		start, page = end, 1
	}
}

// transaction converts one Transaction Search row; ok is false for rows
// that moved no money (yet): pending (P) and denied (D) ones. Reversed
// (V) rows are kept: the money moved, and the reversal is its own row.
func (g *Gateway) transaction(info ppTxInfo) (payment.Transaction, bool, error) {
	if info.Status != "S" && info.Status != "V" {
		return payment.Transaction{}, false, nil
	}
	amount, err := signedValue(info.Amount)
	if err != nil {
		return payment.Transaction{}, false, fmt.Errorf("paypal: transaction %s: %w", info.ID, err)
	}
	// PayPal signs the fee from the merchant's side (a fee taken is
	// negative, a fee given back with a refund positive); Kassa counts
	// fees taken as positive.
	fee := sdk.Money{Currency: amount.Currency}
	if info.Fee != nil && info.Fee.Value != "" {
		f, err := signedValue(*info.Fee)
		if err != nil {
			return payment.Transaction{}, false, fmt.Errorf("paypal: transaction %s fee: %w", info.ID, err)
		}
		fee = sdk.Money{Amount: -f.Amount, Currency: f.Currency}
	}
	at, err := parseSearchTime(info.Initiated)
	if err != nil {
		return payment.Transaction{}, false, fmt.Errorf("paypal: transaction %s: %w", info.ID, err)
	}
	tx := payment.Transaction{ID: info.ID, Type: eventType(info.EventCode), Amount: amount, Fee: fee, OccurredAt: at}
	switch tx.Type {
	case "charge":
		// custom_id of a capture is Kassa's attempt id; the journal knows
		// its order, which is the attempt's gateway reference.
		tx.AttemptID = info.CustomField
		if a, ok := g.journal.Get(info.CustomField); ok {
			tx.GatewayRef = a.OrderID
		}
	case "refund":
		// custom_id of a refund is Kassa's refund id.
		tx.GatewayRefundRef = info.ID
		g.journal.Range(func(id string, a attempt) bool {
			if _, ok := a.Refunds[info.CustomField]; ok {
				tx.AttemptID, tx.GatewayRef = id, a.OrderID
				return false
			}
			return true
		})
	}
	return tx, true, nil
}

// eventType maps PayPal's transaction event codes (T-codes) to Kassa's
// transaction types: T00xx payments received, T01xx fees, T04xx
// withdrawals, T1107 a refund the merchant made, T1106 and T12xx
// reversals and chargebacks, T1110/T1111 dispute holds.
func eventType(code string) string {
	switch {
	case strings.HasPrefix(code, "T00"):
		return "charge"
	case code == "T1107":
		return "refund"
	case code == "T1106" || code == "T1110" || code == "T1111" || strings.HasPrefix(code, "T12"):
		return "dispute"
	case strings.HasPrefix(code, "T01"):
		return "fee"
	case strings.HasPrefix(code, "T04"):
		return "payout"
	default:
		return "adjustment"
	}
}

// signedValue reads a money object whose value may be negative.
func signedValue(m ppMoney) (sdk.Money, error) {
	v, neg := strings.CutPrefix(m.Value, "-")
	out, err := parseValue(m.Currency, v)
	if neg {
		out.Amount = -out.Amount
	}
	return out, err
}

// parseSearchTime reads Transaction Search dates, which PayPal writes
// with a numeric zone without colon ("2014-07-11T04:03:52+0000") and
// elsewhere as RFC 3339.
func parseSearchTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("malformed date %q", s)
}
