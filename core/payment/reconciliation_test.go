package payment_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/store"
	"github.com/kassahq/kassa/core/store/storetest"
)

// discrepancyView is a Discrepancy as the tests write it.
type discrepancyView struct {
	Kind, Type, Transaction, Attempt, Refund, Gateway, Kassa string
}

func discrepancies(r *payment.ReconciliationReport) []discrepancyView {
	out := []discrepancyView{}
	for _, d := range r.Discrepancies {
		v := discrepancyView{Kind: string(d.Kind), Type: string(d.Type), Transaction: d.TransactionID, Attempt: d.AttemptID, Refund: d.RefundID}
		if !d.GatewayAmount.Currency().IsZero() {
			v.Gateway = d.GatewayAmount.String()
		}
		if !d.KassaAmount.Currency().IsZero() {
			v.Kassa = d.KassaAmount.String()
		}
		out = append(out, v)
	}
	return out
}

func totals(r *payment.ReconciliationReport) []string {
	out := []string{}
	for _, t := range r.Totals {
		out = append(out, fmt.Sprintf("%s captured %s (%d) refunded %s (%d)", t.Currency.Code(), t.Captured.Decimal(), t.Captures, t.Refunded.Decimal(), t.Refunds))
	}
	return out
}

// awayFromMidnight waits, near the end of a UTC day, for the next one:
// the real testpay process dates its transactions by the real clock, and
// a report is for one day.
func awayFromMidnight(t *testing.T) {
	t.Helper()
	now := time.Now().UTC()
	next := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	if d := next.Sub(now); d < 2*time.Minute {
		t.Logf("waiting %s for the next UTC day", d)
		time.Sleep(d + time.Second)
	}
}

// TestReconciliationWithTestpay runs the report against the real testpay
// process: a capture and a refund both sides know are matched; a payment
// testpay settled without telling Kassa (its never_notify scenario) is
// missing in Kassa until the reconciler finds it; a bank transfer staff
// confirmed for a testpay payment the buyer never completed is missing
// at the gateway.
func TestReconciliationWithTestpay(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		awayFromMidnight(t)
		e := newTestpay(t, db)
		e.clock.Set(time.Now().UTC())
		finance := staff("finance")

		known := e.pay(t, e.place(t, 1), "4242424242424242")
		if known.State != payment.StateCaptured {
			t.Fatalf("succeed: %s", known.State)
		}
		part := cny(500)
		refs, err := e.svc.Refund(finance, payment.RefundInput{OrderID: known.OrderID, Amount: &part, IdempotencyKey: "rc-refund"})
		r := first(refs)
		if err != nil || r.State != payment.RefundStateSucceeded {
			t.Fatalf("refund: %+v, %v", r, err)
		}
		silent := e.pay(t, e.place(t, 2), "4000000000000036")
		time.Sleep(200 * time.Millisecond) // testpay settles after async_delay_ms
		abandoned := e.pay(t, e.place(t, 3), "4000000000003220")
		if abandoned.State != payment.StatePending {
			t.Fatalf("redirect: %s", abandoned.State)
		}
		// Kassa books a capture testpay never made: a notification signed
		// with the shop's secret that testpay did not send.
		forged, _ := json.Marshal(map[string]any{"id": "evt_forged_" + abandoned.ID, "type": payment.EventPaymentSucceeded, "created": time.Now().Unix(),
			"data": map[string]any{"attempt_id": abandoned.ID, "payment": abandoned.GatewayRef, "amount": abandoned.AmountMinor, "currency": abandoned.Currency.Code()}})
		mac := hmac.New(sha256.New, []byte(testpaySecret))
		fmt.Fprintf(mac, "%d.", time.Now().Unix())
		mac.Write(forged)
		header := http.Header{"Content-Type": {"application/json"}, "Testpay-Signature": {fmt.Sprintf("t=%d,v1=%s", time.Now().Unix(), hex.EncodeToString(mac.Sum(nil)))}}
		if out, err := e.svc.ApplyWebhook(context.Background(), testpayID, payment.WebhookRequest{Method: "POST", Header: header, Body: forged, ReceivedAt: time.Now()}); err != nil || out.Rejected != "" {
			t.Fatalf("the capture testpay never made: %+v, %v", out, err)
		}

		rep, err := e.svc.Reconciliation(finance, testpayID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want := []discrepancyView{
			{Kind: "MISSING_IN_KASSA", Type: "CAPTURE", Transaction: "txn_" + attemptRef(t, e.fixture, silent.ID), Attempt: silent.ID, Gateway: "30.00 CNY"},
			{Kind: "MISSING_AT_GATEWAY", Type: "CAPTURE", Attempt: abandoned.ID, Kassa: "40.00 CNY"},
		}
		if diff := cmp.Diff(want, discrepancies(rep)); diff != "" {
			t.Errorf("discrepancies (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"CNY captured 20.00 (1) refunded 5.00 (1)"}, totals(rep)); diff != "" || rep.Matched != 2 {
			t.Errorf("matched %d, totals (-want +got):\n%s", rep.Matched, diff)
		}
		if rep.GatewayTransactions != 3 || rep.KassaMoves != 3 || rep.Ignored != 0 {
			t.Errorf("counted %d gateway transactions, %d Kassa moves, %d ignored; want 3, 3, 0", rep.GatewayTransactions, rep.KassaMoves, rep.Ignored)
		}

		// The reconciler learns of the silent payment: it matches.
		e.clock.Advance(2 * time.Minute)
		if _, err := e.svc.Reconcile(context.Background()); err != nil {
			t.Fatal(err)
		}
		rep, err = e.svc.Reconciliation(finance, testpayID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := discrepancies(rep); len(got) != 1 || got[0].Attempt != abandoned.ID || rep.Matched != 3 {
			t.Errorf("after reconciling: matched %d, %+v", rep.Matched, got)
		}

		// Read only, and for staff holding payment read.
		for name, ctx := range map[string]context.Context{"a guest": guest(), "a buyer": as(authz.KindCustomer, "cus_1", authz.RoleCustomer), "fulfillment": staff(authz.RoleFulfillment)} {
			if _, err := e.svc.Reconciliation(ctx, testpayID, time.Now()); !errors.Is(err, errs.ErrForbidden) && !errors.Is(err, errs.ErrUnauthenticated) {
				t.Errorf("%s: %v", name, err)
			}
		}
		for name, c := range map[string]struct {
			gateway string
			day     time.Time
			code    string
		}{
			"tomorrow":        {testpayID, time.Now().Add(48 * time.Hour), payment.CodeInvalidDate},
			"no gateway":      {" ", time.Now(), payment.CodeRequired},
			"a long gateway":  {strings.Repeat("g", 201), time.Now(), payment.CodeTooLong},
			"unknown gateway": {"payment.nope", time.Now(), "PLUGIN_NOT_FOUND"},
			"no day":          {testpayID, time.Time{}, payment.CodeInvalidDate},
		} {
			if _, err := e.svc.Reconciliation(finance, c.gateway, c.day); codeOf(err) != c.code {
				t.Errorf("%s: %v, want %s", name, err, c.code)
			}
		}
	})
}

// attemptRef reads an attempt's gateway reference as testpay gave it.
func attemptRef(t *testing.T, f *fixture, attemptID string) string {
	t.Helper()
	var ref string
	if err := f.db.NewRaw("SELECT gateway_ref FROM payment_attempts WHERE id = ?", attemptID).Scan(context.Background(), &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// listingGateway is a fake gateway that lists the transactions a test
// gives it, pageSize a page, with the page token as an index.
type listingGateway struct {
	*fakeGateway
	txns     []payment.GatewayTransaction
	pageSize int
	// stuck answers the same page token again and again.
	stuck bool
	calls int
}

func (g *listingGateway) ListTransactions(_ context.Context, req payment.ListTransactionsRequest) (payment.TransactionPage, error) {
	g.calls++
	var in []payment.GatewayTransaction
	for _, t := range g.txns {
		if !t.OccurredAt.Before(req.From) && t.OccurredAt.Before(req.To) {
			in = append(in, t)
		}
	}
	start, _ := strconv.Atoi(req.PageToken)
	size := g.pageSize
	if size == 0 {
		size = req.PageSize
	}
	end := min(start+size, len(in))
	page := payment.TransactionPage{Transactions: in[start:end]}
	if end < len(in) {
		page.NextPageToken = strconv.Itoa(end)
	}
	if g.stuck {
		page.NextPageToken = "again"
	}
	return page, nil
}

// TestReconciliationMatching: the report's rules on a gateway whose
// transactions the test writes, over attempts, refunds and ledger rows
// written directly: charges matched by attempt id or reference, partial
// captures listed apart, amount and currency mismatches, refunds matched
// by reference or by attempt and amount, a refund Kassa still waits for,
// a move dated across midnight, fees ignored, pages followed, limits.
func TestReconciliationMatching(t *testing.T) {
	day := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	at := func(hm string) time.Time {
		d, _ := time.Parse("15:04:05", hm)
		return day.Add(time.Duration(d.Hour())*time.Hour + time.Duration(d.Minute())*time.Minute + time.Duration(d.Second())*time.Second)
	}
	const gw = "payment.listing"
	usd := func(n int64) money.Money { return money.New(n, money.USD) }
	attempt := func(id string, amount int64, created time.Time) seeded {
		return seeded{id: id, gateway: gw, currency: "CNY", state: payment.StateCaptured, amount: amount, captured: amount, created: created}
	}
	attempts := []seeded{
		attempt("pay_match", 1000, at("09:00:00")),
		attempt("pay_byref", 2000, at("09:10:00")),
		attempt("pay_split", 3000, at("09:20:00")), // two partial captures at the gateway
		attempt("pay_amount", 4000, at("09:30:00")),
		attempt("pay_currency", 5000, at("09:40:00")),
		attempt("pay_refunds", 6000, at("10:00:00")),
		attempt("pay_midnight", 7000, at("00:00:00").Add(-10*time.Second)),
		attempt("pay_athome", 8000, at("11:00:00")), // the gateway does not list it
		{id: "pay_pending", gateway: gw, currency: "CNY", state: payment.StatePending, amount: 9000, created: at("12:00:00")},
	}
	ledger := []struct {
		attempt, refund string
		kind            payment.LedgerKind
		amount          int64
		at              time.Time
	}{
		{"pay_match", "", payment.LedgerCapture, 1000, at("09:00:01")},
		{"pay_byref", "", payment.LedgerCapture, 2000, at("09:10:01")},
		{"pay_split", "", payment.LedgerCapture, 3000, at("09:20:01")},
		{"pay_amount", "", payment.LedgerCapture, 4000, at("09:30:01")},
		{"pay_currency", "", payment.LedgerCapture, 5000, at("09:40:01")},
		{"pay_refunds", "", payment.LedgerCapture, 6000, at("10:00:01")},
		{"pay_refunds", "ref_byref", payment.LedgerRefund, 1000, at("10:10:00")},
		{"pay_refunds", "ref_noref", payment.LedgerRefund, 500, at("10:20:00")},
		{"pay_refunds", "ref_kassaonly", payment.LedgerRefund, 700, at("10:40:00")},
		{"pay_midnight", "", payment.LedgerCapture, 7000, at("00:00:05")},
		{"pay_athome", "", payment.LedgerCapture, 8000, at("11:00:01")},
	}
	refunds := []struct {
		id, ref string
		amount  int64
		state   payment.RefundState
	}{
		{"ref_byref", "rr_1", 1000, payment.RefundStateSucceeded},
		{"ref_noref", "", 500, payment.RefundStateSucceeded},
		{"ref_waiting", "rr_3", 300, payment.RefundStatePending},
		{"ref_kassaonly", "rr_4", 700, payment.RefundStateSucceeded},
	}
	txns := []payment.GatewayTransaction{
		{ID: "t_match", Type: "charge", AttemptID: "pay_match", Amount: cny(1000), OccurredAt: at("09:00:00")},
		{ID: "t_byref", Type: "charge", GatewayRef: "gref_pay_byref", Amount: cny(2000), OccurredAt: at("09:10:00")},
		{ID: "t_split1", Type: "charge", AttemptID: "pay_split", Amount: cny(1000), OccurredAt: at("09:20:00")},
		{ID: "t_split2", Type: "charge", AttemptID: "pay_split", Amount: cny(2000), OccurredAt: at("09:25:00")},
		{ID: "t_amount", Type: "charge", AttemptID: "pay_amount", Amount: cny(4100), OccurredAt: at("09:30:00")},
		{ID: "t_currency", Type: "charge", AttemptID: "pay_currency", Amount: usd(5000), OccurredAt: at("09:40:00")},
		{ID: "t_refunds", Type: "charge", AttemptID: "pay_refunds", Amount: cny(6000), OccurredAt: at("10:00:00")},
		{ID: "t_rbyref", Type: "refund", AttemptID: "pay_refunds", GatewayRefundRef: "rr_1", Amount: cny(-1000), OccurredAt: at("10:10:00")},
		{ID: "t_rnoref", Type: "refund", AttemptID: "pay_refunds", GatewayRefundRef: "rr_2", Amount: cny(-500), OccurredAt: at("10:20:00")},
		{ID: "t_rwaiting", Type: "refund", AttemptID: "pay_refunds", GatewayRefundRef: "rr_3", Amount: cny(-300), OccurredAt: at("10:30:00")},
		{ID: "t_fee", Type: "fee", Amount: cny(-30), OccurredAt: at("10:31:00")},
		{ID: "t_midnight", Type: "charge", AttemptID: "pay_midnight", Amount: cny(7000), OccurredAt: at("00:00:00").Add(-10 * time.Second)},
		{ID: "t_unknown", Type: "charge", AttemptID: "pay_nobody", Amount: cny(1234), OccurredAt: at("12:30:00")},
		{ID: "t_pending", Type: "charge", AttemptID: "pay_pending", Amount: cny(9000), OccurredAt: at("12:00:00")},
		{ID: "t_tomorrow", Type: "charge", AttemptID: "pay_tomorrow", Amount: cny(1), OccurredAt: day.Add(24*time.Hour + 30*time.Minute)},
	}
	storetest.ForEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := &listingGateway{fakeGateway: newFake(gw, payment.CapListTransactions), txns: txns, pageSize: 4}
		noList := newFake("payment.nolist")
		svc := reportService(t, db, day.AddDate(0, 0, 7), lg, noList)
		insertOrder(t, db, "ord_rc", 1)
		seedAttempts(t, db, "ord_rc", attempts)
		if _, err := db.NewRaw("UPDATE payment_attempts SET gateway_ref = 'gref_' || id").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for _, r := range refunds {
			row := &payment.Refund{ID: r.id, OrderID: "ord_rc", AttemptID: "pay_refunds", GatewayID: gw, AmountMinor: r.amount, Currency: money.CNY,
				State: r.state, GatewayRefundRef: r.ref, CreatedAt: at("10:00:00"), UpdatedAt: at("10:00:00")}
			if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for i, l := range ledger {
			row := &payment.LedgerEntry{ID: fmt.Sprintf("pld_%02d", i), OrderID: "ord_rc", AttemptID: l.attempt, Kind: l.kind, AmountMinor: l.amount,
				Currency: money.CNY, GatewayID: gw, GatewayRef: "gref_" + l.attempt, CreatedAt: l.at}
			if l.refund != "" {
				row.RefundID = &l.refund
			}
			if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}

		rep, err := svc.Reconciliation(staff("finance"), gw, at("15:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		want := []discrepancyView{
			{Kind: "AMOUNT_MISMATCH", Type: "CAPTURE", Transaction: "t_amount", Attempt: "pay_amount", Gateway: "41.00 CNY", Kassa: "40.00 CNY"},
			{Kind: "CURRENCY_MISMATCH", Type: "CAPTURE", Transaction: "t_currency", Attempt: "pay_currency", Gateway: "50.00 USD", Kassa: "50.00 CNY"},
			{Kind: "MISSING_IN_KASSA", Type: "REFUND", Transaction: "t_rwaiting", Attempt: "pay_refunds", Refund: "ref_waiting", Gateway: "3.00 CNY"},
			{Kind: "MISSING_AT_GATEWAY", Type: "REFUND", Attempt: "pay_refunds", Refund: "ref_kassaonly", Kassa: "7.00 CNY"},
			{Kind: "MISSING_AT_GATEWAY", Type: "CAPTURE", Attempt: "pay_athome", Kassa: "80.00 CNY"},
			{Kind: "MISSING_IN_KASSA", Type: "CAPTURE", Transaction: "t_pending", Attempt: "pay_pending", Gateway: "90.00 CNY"},
			{Kind: "MISSING_IN_KASSA", Type: "CAPTURE", Transaction: "t_unknown", Attempt: "pay_nobody", Gateway: "12.34 CNY"},
		}
		if diff := cmp.Diff(want, discrepancies(rep)); diff != "" {
			t.Errorf("discrepancies (-want +got):\n%s", diff)
		}
		// match, byref, split, refunds capture, and the refunds by
		// reference and by attempt and amount; not midnight, booked today
		// by Kassa but counted on the day before, the gateway's.
		if diff := cmp.Diff([]string{"CNY captured 120.00 (4) refunded 15.00 (2)"}, totals(rep)); diff != "" || rep.Matched != 6 {
			t.Errorf("matched %d, totals (-want +got):\n%s", rep.Matched, diff)
		}
		if rep.GatewayTransactions != 13 || rep.Ignored != 1 || rep.KassaMoves != 11 {
			t.Errorf("counts: %d gateway transactions, %d ignored, %d Kassa moves", rep.GatewayTransactions, rep.Ignored, rep.KassaMoves)
		}
		if lg.calls != 4 {
			t.Errorf("%d pages asked, want 4", lg.calls)
		}

		// The day before: the midnight charge is the gateway's, matched
		// with Kassa's booking just after midnight, so missing on
		// neither day.
		prev, err := svc.Reconciliation(staff("finance"), gw, day.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(prev.Discrepancies) != 0 || prev.Matched != 1 || prev.GatewayTransactions != 1 || prev.KassaMoves != 0 {
			t.Errorf("the day before: %d matched, %+v", prev.Matched, discrepancies(prev))
		}
		if diff := cmp.Diff([]string{"CNY captured 70.00 (1) refunded 0.00 (0)"}, totals(prev)); diff != "" {
			t.Errorf("the day before's totals (-want +got):\n%s", diff)
		}

		// Limits and refusals.
		if _, err := svc.Reconciliation(staff("finance"), "payment.nolist", day); codeOf(err) != payment.CodeReconciliationNotSupported {
			t.Errorf("a gateway without transaction lists: %v", err)
		}
		lg.stuck = true
		if _, err := svc.Reconciliation(staff("finance"), gw, day); err == nil {
			t.Error("a page token answered twice: no error")
		}
		lg.stuck, lg.pageSize, lg.calls = false, 0, 0
		many := make([]payment.GatewayTransaction, payment.MaxReconciliationRows+1)
		for i := range many {
			many[i] = payment.GatewayTransaction{ID: fmt.Sprint("t_", i), Type: "fee", Amount: cny(-1), OccurredAt: at("08:00:00")}
		}
		lg.txns = many
		if _, err := svc.Reconciliation(staff("finance"), gw, day); codeOf(err) != payment.CodeReconciliationTooLarge || lg.calls > payment.MaxReconciliationPages {
			t.Errorf("a day too large: %v after %d pages", err, lg.calls)
		}
	})
}

func TestParseDay(t *testing.T) {
	for in, want := range map[string]string{"2026-11-03": "2026-11-03T00:00:00Z", " 2026-02-28 ": "2026-02-28T00:00:00Z",
		"2026-02-30": "", "03/11/2026": "", "": "", "2026-11-03T10:00:00Z": "", "2026-11-03\x00": ""} {
		d, err := payment.ParseDay(in)
		switch {
		case want == "" && codeOf(err) != payment.CodeInvalidDate:
			t.Errorf("ParseDay(%q) = %v, %v; want INVALID_DATE", in, d, err)
		case want != "" && (err != nil || d.Format(time.RFC3339) != want):
			t.Errorf("ParseDay(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
}
