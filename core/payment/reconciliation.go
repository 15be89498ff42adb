package payment

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/money"
)

// Limits of the reconciliation report.
const (
	// ReconciliationPageSize is how many transactions one ListTransactions
	// call asks for.
	ReconciliationPageSize = 100
	// MaxReconciliationPages is the most pages asked of a gateway for one
	// day; a day with more is refused (RECONCILIATION_TOO_LARGE), never
	// reported on part of its transactions, which would show the rest as
	// missing.
	MaxReconciliationPages = 200
	// MaxReconciliationRows is the most gateway transactions, and the most
	// ledger rows, one report reads.
	MaxReconciliationRows = ReconciliationPageSize * MaxReconciliationPages
	// ReconciliationMargin is how far into the neighbouring days both
	// sides are read: a capture the gateway dates 23:59:59 and Kassa
	// books at 00:00:01 is matched, not reported missing on both days.
	// Rows inside the margin only serve to match the day's rows.
	ReconciliationMargin = time.Hour
	// maxGatewayID bounds a gateway id given by a caller.
	maxGatewayID = 200
)

// The reconciliation report's error codes.
const (
	// CodeReconciliationNotSupported: the gateway does not list its
	// settled transactions (no list_transactions capability).
	CodeReconciliationNotSupported = "RECONCILIATION_NOT_SUPPORTED"
	// CodeReconciliationTooLarge: the day has more transactions or ledger
	// rows than one report reads (MaxReconciliationRows).
	CodeReconciliationTooLarge = "RECONCILIATION_TOO_LARGE"
	// CodeInvalidDate: a day that is not a calendar date (YYYY-MM-DD), or
	// that has not begun yet.
	CodeInvalidDate = "INVALID_DATE"
)

// Transaction types of GatewayTransaction.Type that the report compares;
// the others (fee, payout, dispute, adjustment) are not booked by Kassa
// and only counted.
const (
	TransactionCharge = "charge"
	TransactionRefund = "refund"
)

// DiscrepancyKind says how the gateway's record and Kassa's disagree.
type DiscrepancyKind string

// The discrepancy kinds.
const (
	// DiscrepancyMissingInKassa: the gateway settled money Kassa has not
	// booked (an unknown payment, a capture whose notification was lost,
	// a refund made at the gateway, or one Kassa still waits for).
	DiscrepancyMissingInKassa DiscrepancyKind = "MISSING_IN_KASSA"
	// DiscrepancyMissingAtGateway: Kassa booked a capture or refund the
	// gateway does not list.
	DiscrepancyMissingAtGateway DiscrepancyKind = "MISSING_AT_GATEWAY"
	// DiscrepancyAmountMismatch: both know it, with other amounts.
	DiscrepancyAmountMismatch DiscrepancyKind = "AMOUNT_MISMATCH"
	// DiscrepancyCurrencyMismatch: both know it, in other currencies.
	DiscrepancyCurrencyMismatch DiscrepancyKind = "CURRENCY_MISMATCH"
)

// Discrepancy is one capture or refund the two sides disagree on.
type Discrepancy struct {
	Kind DiscrepancyKind
	// Type is LedgerCapture or LedgerRefund.
	Type LedgerKind
	// TransactionID is the gateway's transaction id; empty when the
	// gateway does not list it.
	TransactionID string
	// AttemptID, RefundID and OrderID are Kassa's, when Kassa knows them.
	AttemptID, RefundID, OrderID string
	// GatewayRef and GatewayRefundRef are the gateway's references.
	GatewayRef, GatewayRefundRef string
	// GatewayAmount is what the gateway settled (the zero Money when it
	// lists nothing); KassaAmount what Kassa booked (zero Money when
	// nothing). Both are positive: Type gives the direction.
	GatewayAmount, KassaAmount money.Money
	// OccurredAt is when the gateway dates it, or when Kassa booked it.
	OccurredAt time.Time
}

// ReconciliationTotal is what both sides agree on in one currency.
type ReconciliationTotal struct {
	Currency money.Currency
	// Captured and Refunded are the matched captures' and refunds' sums;
	// Captures and Refunds count them.
	Captured, Refunded money.Money
	Captures, Refunds  int
}

// ReconciliationReport compares one gateway's settled transactions of a
// day with Kassa's ledger.
type ReconciliationReport struct {
	GatewayID string
	// Day is the UTC calendar day reported: From (its midnight) to To
	// (the next midnight).
	Day, From, To time.Time
	// Matched counts the captures and refunds both sides agree on that
	// the gateway dates in the day; Totals sums them per currency,
	// ordered by currency code. A pair dated on both sides of a midnight
	// (the gateway's 23:59:59, Kassa's 00:00:01) counts on the gateway's
	// day only, as its settlement does: the days' totals add up to the
	// month's, nothing counted twice.
	Matched int
	Totals  []ReconciliationTotal
	// Discrepancies are what staff must look at, oldest first.
	Discrepancies []Discrepancy
	// GatewayTransactions counts the gateway's transactions of the day,
	// KassaMoves Kassa's captures and refunds of the day; Ignored counts
	// the gateway's transactions Kassa does not book (fees, payouts,
	// disputes, adjustments).
	GatewayTransactions, KassaMoves, Ignored int
}

// ParseDay reads a calendar date, YYYY-MM-DD, as the UTC day it names.
func ParseDay(s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, errs.Invalid("date", CodeInvalidDate, "a calendar date, YYYY-MM-DD")
	}
	return d, nil
}

// Reconciliation compares what the gateway settled on a day with the
// captures and refunds Kassa's ledger booked that day (staff, payment
// read). The day is the UTC calendar day holding day (Kassa keeps every
// time in UTC, and settlement reports are asked in UTC ranges). It reads
// only: discrepancies are reported, never applied; the reconciler and
// staff act on them.
//
// A gateway charge is matched with its attempt (by Kassa's attempt id,
// else the gateway's reference) when the amounts agree: the charge is the
// attempt's captured total, or what the ledger captured of it in the
// window. A gateway refund is matched with Kassa's refund by the gateway's
// refund reference, else by attempt and amount. Both sides are read
// ReconciliationMargin into the neighbouring days so that a move dated
// differently around midnight still matches.
//
// Codes: REQUIRED, TOO_LONG and INVALID_DATE for bad input;
// RECONCILIATION_NOT_SUPPORTED for a gateway that lists no
// transactions; RECONCILIATION_TOO_LARGE beyond MaxReconciliationRows;
// the gateway lookup's PLUGIN_NOT_FOUND, PLUGIN_DISABLED,
// PLUGIN_UNAVAILABLE.
func (s *Service) Reconciliation(ctx context.Context, gatewayID string, day time.Time) (*ReconciliationReport, error) {
	if err := s.authz.Can(ctx, authz.Payment, authz.Read); err != nil {
		return nil, err
	}
	gatewayID = strings.TrimSpace(gatewayID)
	start := time.Date(day.UTC().Year(), day.UTC().Month(), day.UTC().Day(), 0, 0, 0, 0, time.UTC)
	var v errs.Validator
	v.Check(gatewayID != "", "gatewayId", CodeRequired, "name the gateway")
	v.Check(len(gatewayID) <= maxGatewayID, "gatewayId", CodeTooLong, fmt.Sprintf("at most %d characters", maxGatewayID))
	v.Check(!day.IsZero() && start.Year() >= 1970, "date", CodeInvalidDate, "a calendar date, YYYY-MM-DD")
	v.Check(!start.After(s.clock.Now()), "date", CodeInvalidDate, "the day has not begun yet")
	if err := v.Err(); err != nil {
		return nil, err
	}
	gw, err := s.gateways.InstalledGateway(ctx, gatewayID)
	if err != nil {
		return nil, err
	}
	if !gw.Supports(CapListTransactions) {
		return nil, reconciliationNotSupported(gatewayID)
	}
	release, err := s.reports.take(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	end := start.Add(24 * time.Hour)
	from, to := start.Add(-ReconciliationMargin), end.Add(ReconciliationMargin)
	txns, err := listTransactions(ctx, gw, from, to)
	if err != nil {
		return nil, err
	}
	moves, err := s.store.LedgerMoves(ctx, gatewayID, from, to, MaxReconciliationRows+1)
	if err != nil {
		return nil, err
	}
	if len(moves) > MaxReconciliationRows {
		return nil, reconciliationTooLarge()
	}
	r := &reconciler{s: s, gatewayID: gatewayID, start: start, end: end,
		report: &ReconciliationReport{GatewayID: gatewayID, Day: start, From: start, To: end}, totals: map[string]*ReconciliationTotal{}}
	if err := r.run(ctx, txns, moves, from, to); err != nil {
		return nil, err
	}
	return r.report, nil
}

func reconciliationNotSupported(gatewayID string) *errs.Error {
	return errs.Invalid("gatewayId", CodeReconciliationNotSupported, fmt.Sprintf("gateway %s does not list its settled transactions", gatewayID))
}

func reconciliationTooLarge() *errs.Error {
	return errs.Limited(CodeReconciliationTooLarge, fmt.Sprintf("the day has more than %d transactions; ask the gateway's own settlement report", MaxReconciliationRows))
}

// listTransactions reads the gateway's transactions in [from, to), page
// by page, at most MaxReconciliationPages pages.
func listTransactions(ctx context.Context, gw Gateway, from, to time.Time) ([]GatewayTransaction, error) {
	var out []GatewayTransaction
	token := ""
	for page := 0; ; page++ {
		if page == MaxReconciliationPages {
			return nil, reconciliationTooLarge()
		}
		p, err := gw.ListTransactions(ctx, ListTransactionsRequest{From: from, To: to, PageToken: token, PageSize: ReconciliationPageSize})
		if errors.Is(err, ErrNotSupported) {
			return nil, reconciliationNotSupported(gw.ID())
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p.Transactions...)
		if len(out) > MaxReconciliationRows {
			return nil, reconciliationTooLarge()
		}
		if p.NextPageToken == "" {
			return out, nil
		}
		if p.NextPageToken == token {
			return nil, fmt.Errorf("payment: gateway %s answered the same page token %q twice", gw.ID(), token)
		}
		token = p.NextPageToken
	}
}

// gatewaySide is the gateway's charges of one attempt, or one refund, in
// one currency.
type gatewaySide struct {
	kind                        LedgerKind
	txnID                       string
	attemptID, gatewayRef, rref string
	amount                      int64
	currency                    money.Currency
	at                          time.Time
	inDay                       bool
	// attempt and refund are Kassa's, when it knows them.
	attempt *Attempt
	refund  *Refund
}

// kassaSide is the ledger's captures of one attempt, or one refund.
type kassaSide struct {
	kind                         LedgerKind
	attemptID, orderID, refundID string
	gatewayRef, rref             string
	amount                       int64
	currency                     money.Currency
	at                           time.Time
	inDay, matched               bool
}

// reconciler matches the two sides of one report.
type reconciler struct {
	s          *Service
	gatewayID  string
	start, end time.Time
	report     *ReconciliationReport
	totals     map[string]*ReconciliationTotal
}

func (r *reconciler) inDay(t time.Time) bool { return !t.Before(r.start) && t.Before(r.end) }

func (r *reconciler) run(ctx context.Context, txns []GatewayTransaction, moves []*ledgerMove, from, to time.Time) error {
	// The gateway's side, grouped: charges per attempt (a gateway may
	// list partial captures apart), refunds per refund.
	var charges, refunds []*gatewaySide
	groups := map[string]*gatewaySide{}
	for _, t := range txns {
		if t.OccurredAt.Before(from) || !t.OccurredAt.Before(to) {
			continue // outside what was asked: not the gateway's answer
		}
		day := r.inDay(t.OccurredAt)
		if day {
			r.report.GatewayTransactions++
		}
		var g gatewaySide
		switch strings.ToLower(strings.TrimSpace(t.Type)) {
		case TransactionCharge:
			g = gatewaySide{kind: LedgerCapture, attemptID: t.AttemptID, gatewayRef: t.GatewayRef, amount: t.Amount.Amount()}
		case TransactionRefund:
			g = gatewaySide{kind: LedgerRefund, attemptID: t.AttemptID, gatewayRef: t.GatewayRef, rref: t.GatewayRefundRef, amount: -t.Amount.Amount()}
		default:
			if day {
				r.report.Ignored++
			}
			continue
		}
		g.txnID, g.currency, g.at, g.inDay = t.ID, t.Amount.Currency(), t.OccurredAt, day
		key := string(g.kind) + "|" + g.currency.Code() + "|"
		switch {
		case g.kind == LedgerRefund && g.rref != "":
			key += "rr:" + g.rref
		case g.kind == LedgerCapture && g.attemptID != "":
			key += "id:" + g.attemptID
		case g.kind == LedgerCapture && g.gatewayRef != "":
			key += "ref:" + g.gatewayRef
		default:
			key += "txn:" + t.ID
		}
		if prev, ok := groups[key]; ok {
			prev.amount += g.amount
			prev.inDay = prev.inDay || g.inDay
			continue
		}
		gp := &g
		groups[key] = gp
		if g.kind == LedgerCapture {
			charges = append(charges, gp)
		} else {
			refunds = append(refunds, gp)
		}
	}

	// Kassa's side: the ledger's captures per attempt, refunds per refund.
	captures, kassaRefunds := map[string]*kassaSide{}, map[string]*kassaSide{}
	var kassaOrder []*kassaSide
	for _, m := range moves {
		day := r.inDay(m.CreatedAt)
		if day {
			r.report.KassaMoves++
		}
		set, key := captures, m.AttemptID
		if m.Kind == LedgerRefund {
			if m.RefundID == nil {
				continue
			}
			set, key = kassaRefunds, *m.RefundID
		}
		k, ok := set[key]
		if !ok {
			k = &kassaSide{kind: m.Kind, attemptID: m.AttemptID, orderID: m.OrderID, gatewayRef: m.GatewayRef,
				rref: m.GatewayRefundRef, currency: m.Currency, at: m.CreatedAt}
			if m.RefundID != nil {
				k.refundID = *m.RefundID
			}
			set[key] = k
			kassaOrder = append(kassaOrder, k)
		}
		k.amount += m.AmountMinor
		k.inDay = k.inDay || day
	}

	if err := r.resolve(ctx, charges, refunds); err != nil {
		return err
	}
	for _, g := range charges {
		r.matchCharge(g, captures)
	}
	for _, g := range refunds {
		r.matchRefund(g, kassaRefunds)
	}
	for _, k := range kassaOrder {
		if k.matched || !k.inDay {
			continue
		}
		r.flag(Discrepancy{Kind: DiscrepancyMissingAtGateway, Type: k.kind, AttemptID: k.attemptID, RefundID: k.refundID,
			OrderID: k.orderID, GatewayRef: k.gatewayRef, GatewayRefundRef: k.rref, KassaAmount: money.New(k.amount, k.currency), OccurredAt: k.at})
	}

	sort.SliceStable(r.report.Discrepancies, func(i, j int) bool {
		a, b := r.report.Discrepancies[i], r.report.Discrepancies[j]
		if !a.OccurredAt.Equal(b.OccurredAt) {
			return a.OccurredAt.Before(b.OccurredAt)
		}
		return a.TransactionID+a.AttemptID+a.RefundID < b.TransactionID+b.AttemptID+b.RefundID
	})
	codes := make([]string, 0, len(r.totals))
	for c := range r.totals {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		r.report.Totals = append(r.report.Totals, *r.totals[c])
	}
	return nil
}

// resolve finds Kassa's attempts and refunds the gateway's groups name.
func (r *reconciler) resolve(ctx context.Context, charges, refunds []*gatewaySide) error {
	var ids, refs, rrefs []string
	for _, g := range append(append([]*gatewaySide{}, charges...), refunds...) {
		if g.attemptID != "" {
			ids = append(ids, g.attemptID)
		} else if g.gatewayRef != "" {
			refs = append(refs, g.gatewayRef)
		}
		if g.rref != "" {
			rrefs = append(rrefs, g.rref)
		}
	}
	byID, byRef := map[string]*Attempt{}, map[string]*Attempt{}
	atts, err := r.s.store.AttemptsByIDs(ctx, r.gatewayID, dedupe(ids))
	if err != nil {
		return err
	}
	for _, a := range atts {
		byID[a.ID] = a
	}
	atts, err = r.s.store.AttemptsByRefs(ctx, r.gatewayID, dedupe(refs))
	if err != nil {
		return err
	}
	for _, a := range atts {
		byRef[a.GatewayRef] = a
	}
	rs, err := r.s.store.RefundsByRefs(ctx, r.gatewayID, dedupe(rrefs))
	if err != nil {
		return err
	}
	byRRef := make(map[string]*Refund, len(rs))
	for _, x := range rs {
		byRRef[x.GatewayRefundRef] = x
	}
	for _, g := range append(append([]*gatewaySide{}, charges...), refunds...) {
		if g.attemptID != "" {
			g.attempt = byID[g.attemptID]
		} else if g.gatewayRef != "" {
			g.attempt = byRef[g.gatewayRef]
		}
		if g.rref != "" {
			g.refund = byRRef[g.rref]
		}
	}
	return nil
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// matchCharge compares one gateway charge group with its attempt.
func (r *reconciler) matchCharge(g *gatewaySide, captures map[string]*kassaSide) {
	att := g.attempt
	var k *kassaSide
	if att != nil {
		k = captures[att.ID]
	}
	if k != nil {
		// Accounted for whatever the verdict: not missing at the gateway.
		k.matched = true
	}
	if !g.inDay && (k == nil || !k.inDay) {
		return // another day's
	}
	d := Discrepancy{Type: LedgerCapture, TransactionID: g.txnID, GatewayRef: g.gatewayRef,
		GatewayAmount: money.New(g.amount, g.currency), OccurredAt: g.at}
	if att != nil {
		d.AttemptID, d.OrderID, d.GatewayRef = att.ID, att.OrderID, firstOf(g.gatewayRef, att.GatewayRef)
	} else {
		d.AttemptID = g.attemptID
	}
	switch {
	case att == nil || att.Captured == 0:
		d.Kind = DiscrepancyMissingInKassa
	case g.currency != att.Currency:
		d.Kind, d.KassaAmount = DiscrepancyCurrencyMismatch, money.New(att.Captured, att.Currency)
	case g.amount == att.Captured || (k != nil && g.amount == k.amount):
		r.matched(g)
		return
	default:
		d.Kind, d.KassaAmount = DiscrepancyAmountMismatch, money.New(att.Captured, att.Currency)
	}
	r.flag(d)
}

// matchRefund compares one gateway refund with Kassa's refund.
func (r *reconciler) matchRefund(g *gatewaySide, refunds map[string]*kassaSide) {
	ref := g.refund
	var k *kassaSide
	if ref != nil {
		k = refunds[ref.ID]
	} else {
		// A refund Kassa booked without the gateway's reference: the
		// same attempt and amount.
		attemptID := g.attemptID
		if g.attempt != nil {
			attemptID = g.attempt.ID
		}
		for _, c := range refunds {
			if !c.matched && c.rref == "" && attemptID != "" && c.attemptID == attemptID && c.amount == g.amount && c.currency == g.currency {
				k = c
				break
			}
		}
	}
	if k != nil {
		k.matched = true
	}
	if !g.inDay && (k == nil || !k.inDay) {
		return
	}
	d := Discrepancy{Type: LedgerRefund, TransactionID: g.txnID, GatewayRef: g.gatewayRef, GatewayRefundRef: g.rref,
		GatewayAmount: money.New(g.amount, g.currency), OccurredAt: g.at, AttemptID: g.attemptID}
	if g.attempt != nil {
		d.AttemptID, d.OrderID = g.attempt.ID, g.attempt.OrderID
	}
	switch {
	case ref != nil:
		d.AttemptID, d.RefundID, d.OrderID = ref.AttemptID, ref.ID, ref.OrderID
		switch {
		case ref.State != RefundStateSucceeded:
			// Kassa knows the refund but not yet that it settled.
			d.Kind = DiscrepancyMissingInKassa
		case g.currency != ref.Currency:
			d.Kind, d.KassaAmount = DiscrepancyCurrencyMismatch, ref.Amount()
		case g.amount != ref.AmountMinor:
			d.Kind, d.KassaAmount = DiscrepancyAmountMismatch, ref.Amount()
		default:
			r.matched(g)
			return
		}
	case k != nil:
		r.matched(g)
		return
	default:
		d.Kind = DiscrepancyMissingInKassa
	}
	r.flag(d)
}

func (r *reconciler) matched(g *gatewaySide) {
	if !g.inDay {
		// Matched with one of the day's bookings, but the gateway's
		// neighbouring day counts it.
		return
	}
	r.report.Matched++
	t := r.totals[g.currency.Code()]
	if t == nil {
		t = &ReconciliationTotal{Currency: g.currency, Captured: money.Zero(g.currency), Refunded: money.Zero(g.currency)}
		r.totals[g.currency.Code()] = t
	}
	if g.kind == LedgerCapture {
		t.Captured = money.New(t.Captured.Amount()+g.amount, g.currency)
		t.Captures++
	} else {
		t.Refunded = money.New(t.Refunded.Amount()+g.amount, g.currency)
		t.Refunds++
	}
}

func (r *reconciler) flag(d Discrepancy) {
	r.report.Discrepancies = append(r.report.Discrepancies, d)
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
