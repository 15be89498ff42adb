package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// declined is a CreatePayment refusal as data.
func declined(code string, t text, locale, staff string) payment.CreateResult {
	return payment.CreateResult{Status: payment.StatusFailed, DeclineCode: code, BuyerMessage: t.in(locale), MerchantMessage: staff}
}

// maxFen is the largest txnAmt UnionPay's 12-digit field holds.
const maxFen = 999_999_999_999

// CreatePayment implements payment.Gateway. UnionPay's front consumption
// is a form the buyer's browser posts, so the action is a REDIRECT to the
// plugin's own page (HandleHTTP /pay/...), which signs the form when the
// buyer opens it and posts it to frontTransReq.do. Declines are
// remembered, so GetPayment answers FAILED for them rather than NOT_FOUND.
func (g *Gateway) CreatePayment(ctx context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	res, err := g.createPayment(req)
	if err == nil && res.Status == payment.StatusFailed && validKassaID(req.AttemptID) {
		err = g.update(req.AttemptID, func(a *attempt, exists bool) bool {
			if exists {
				return false
			}
			*a = attempt{Method: req.PaymentMethod, Amount: req.Amount.Amount, Created: g.now().UTC(), Declined: res.DeclineCode}
			return true
		})
	}
	return res, err
}

func (g *Gateway) createPayment(req payment.CreateRequest) (payment.CreateResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.CreateResult{}, err
	}
	if req.Amount.Currency != "CNY" {
		return declined(payment.DeclineCurrencyNotSupported, textCurrency, req.Locale,
			fmt.Sprintf("UnionPay's online gateway takes CNY only (currencyCode 156); the order is in %q", req.Amount.Currency)), nil
	}
	if req.Amount.Amount < 1 || req.Amount.Amount > maxFen {
		return declined(payment.DeclineInvalidAmount, textAmount, req.Locale,
			fmt.Sprintf("amount %d fen is outside UnionPay's txnAmt range", req.Amount.Amount)), nil
	}
	if !validKassaID(req.AttemptID) {
		return declined("invalid_request", textRefused, req.Locale, "the attempt id is empty, longer than 64 characters or holds spaces, &, =, {}, []"), nil
	}
	method := req.PaymentMethod
	switch method {
	case "", MethodWeb:
		method = MethodWeb
	case MethodWap:
	default:
		return declined("payment_method_not_supported", textMethod, req.Locale,
			fmt.Sprintf("unknown payment method %q (unionpay or unionpay_wap)", req.PaymentMethod)), nil
	}
	if req.PluginBaseURL == "" {
		return declined(payment.DeclineProcessingError, textRefused, req.Locale, "Kassa passed no plugin base URL for the UnionPay payment page"), nil
	}
	if prev, ok := g.journal.Get(req.AttemptID); ok && prev.Declined == "" {
		if prev.Method != method || prev.Amount != req.Amount.Amount {
			return declined("invalid_request", textRefused, req.Locale, "the attempt id was already used with another amount or method"), nil
		}
		// A retry: the same orderId, the same answer.
		return prev.result(req.AttemptID), nil
	}
	notify := c.s.NotifyURL
	if notify == "" {
		notify = req.NotifyURL
	}
	base := strings.TrimRight(req.PluginBaseURL, "/")
	a := attempt{
		OrderID: orderIDFor(req.AttemptID), TxnTime: g.now().In(chinaTime).Format(txnTimeLayout),
		Method: method, Amount: req.Amount.Amount, Created: g.now().UTC(), ExpiresAt: req.ExpiresAt.UTC(),
		Token: randomHex(16), BackURL: notify, ReturnURL: req.ReturnURL, Locale: req.Locale, IdemKey: req.IdempotencyKey,
		PayBase: base,
	}
	var out attempt
	err = g.update(req.AttemptID, func(cur *attempt, exists bool) bool {
		if exists && cur.Declined == "" {
			out = *cur // a concurrent retry won
			return false
		}
		*cur, out = a, a
		return true
	})
	if err != nil {
		return payment.CreateResult{}, err
	}
	return out.result(req.AttemptID), nil
}

// payURL is the plugin page that posts the order to UnionPay.
func (a attempt) payURL(id string) string {
	return a.PayBase + "/pay/" + url.PathEscape(id) + "?k=" + a.Token
}

// result is CreatePayment's answer for a started attempt.
func (a attempt) result(id string) payment.CreateResult {
	r := payment.CreateResult{Status: payment.StatusRequiresAction, GatewayRef: a.OrderID,
		Action: payment.Action{Type: payment.ActionRedirect, URL: a.payURL(id)}}
	if !a.ExpiresAt.IsZero() {
		r.Action.ExpiresAt = a.ExpiresAt
	}
	return r
}

// Transaction states of a query's origRespCode.
const (
	origPaid    = "paid"
	origPending = "pending"
	origFailed  = "failed"
	origNone    = "none" // UnionPay has no such order (34)
)

// orderState reads a query answer: what became of the order.
func orderState(a answer) (string, error) {
	switch a.Get("respCode") {
	case "34":
		return origNone, nil
	case "00":
	default:
		return "", fmt.Errorf("unionpay: query refused: %s %s", a.Get("respCode"), a.Get("respMsg"))
	}
	switch a.Get("origRespCode") {
	case "00", "A6":
		return origPaid, nil
	case "03", "04", "05":
		return origPending, nil
	case "":
		return "", fmt.Errorf("unionpay: query answer without origRespCode")
	}
	return origFailed, nil
}

// GetPayment implements payment.Gateway with queryTrans.do of the
// attempt's orderId and txnTime.
func (g *Gateway) GetPayment(ctx context.Context, req payment.GetRequest) (payment.PaymentState, error) {
	c, err := g.configured()
	if err != nil {
		return payment.PaymentState{}, err
	}
	a, known := g.journal.Get(req.AttemptID)
	switch {
	case !known:
		// Never created here: UnionPay cannot know an orderId this plugin
		// did not hand out.
		return payment.PaymentState{Status: payment.StatusNotFound}, nil
	case a.Declined != "":
		return payment.PaymentState{Status: payment.StatusFailed, DeclineCode: a.Declined, MerchantMessage: "refused before reaching UnionPay"}, nil
	}
	res, err := c.api.query(ctx, a.OrderID, a.TxnTime)
	if err != nil {
		return payment.PaymentState{}, err
	}
	state, err := orderState(res)
	if err != nil {
		return payment.PaymentState{}, err
	}
	st := payment.PaymentState{GatewayRef: a.OrderID, Amount: sdk.Money{Amount: a.Amount, Currency: "CNY"}}
	switch state {
	case origNone:
		if a.Canceled {
			st.Status, st.MerchantMessage = payment.StatusCanceled, "canceled before the buyer paid at UnionPay"
		} else {
			st.Status, st.Action = payment.StatusRequiresAction, a.result(req.AttemptID).Action
			st.MerchantMessage = "the buyer has not paid at UnionPay yet"
		}
		return st, nil
	case origPending:
		st.Status, st.MerchantMessage = payment.StatusPending, "UnionPay: "+res.Get("origRespCode")+" "+res.Get("origRespMsg")
		return st, nil
	case origFailed:
		st.Status, st.DeclineCode = payment.StatusFailed, declineCode(res.Get("origRespCode"))
		st.MerchantMessage = "UnionPay: " + res.Get("origRespCode") + " " + res.Get("origRespMsg")
		return st, nil
	}
	amount, err := parseFen(res.Get("txnAmt"))
	if err != nil {
		return payment.PaymentState{}, err
	}
	if qid := res.Get("queryId"); qid != "" && qid != a.QueryID {
		if err := g.update(req.AttemptID, func(cur *attempt, _ bool) bool { cur.QueryID = qid; return true }); err != nil {
			return payment.PaymentState{}, err
		}
	}
	st.Status, st.Amount.Amount, st.Authorized, st.Captured = payment.StatusSucceeded, amount, amount, amount
	st.MerchantMessage = "UnionPay queryId " + res.Get("queryId")
	for id := range a.Refunds {
		r, err := g.refundState(ctx, c, a, id)
		if err != nil {
			return payment.PaymentState{}, err
		}
		if r.Status == payment.RefundSucceeded {
			st.Refunded += r.Amount.Amount
		}
	}
	return st, nil
}

// CancelPayment implements payment.Gateway. UnionPay has no call that
// closes an unpaid front consumption: the plugin stops its pay page from
// posting the order, then asks UnionPay whether the buyer paid first. A
// buyer already on UnionPay's cashier can still pay until payTimeout (at
// most payWindow); that late payment is notified and reported by
// GetPayment as SUCCEEDED like any other.
func (g *Gateway) CancelPayment(ctx context.Context, req payment.CancelRequest) (payment.CancelResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.CancelResult{}, err
	}
	a, known := g.journal.Get(req.AttemptID)
	if !known || a.Declined != "" {
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled, MerchantMessage: "never sent to UnionPay"}, nil
	}
	if !a.Canceled {
		if err := g.update(req.AttemptID, func(cur *attempt, _ bool) bool { cur.Canceled = true; return true }); err != nil {
			return payment.CancelResult{}, err
		}
	}
	res, err := c.api.query(ctx, a.OrderID, a.TxnTime)
	if err != nil {
		return payment.CancelResult{}, err
	}
	state, err := orderState(res)
	if err != nil {
		return payment.CancelResult{}, err
	}
	switch state {
	case origPaid:
		return payment.CancelResult{Status: payment.CancelAlreadyPaid, PaymentStatus: payment.StatusSucceeded, MerchantMessage: "the buyer paid before the cancel"}, nil
	case origPending:
		return payment.CancelResult{Status: payment.CancelFailed, PaymentStatus: payment.StatusPending, Code: "payment_in_progress",
			MerchantMessage: "UnionPay is still processing the buyer's payment (" + res.Get("origRespCode") + "); try again later"}, nil
	}
	return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled}, nil
}

// settleDay is UnionPay's settlement date (MMDD) of a transaction made at
// t: the day changes at 23:00 Beijing time.
func settleDay(t time.Time) string { return t.In(chinaTime).Add(time.Hour).Format("0102") }

// refundOrderID is the orderId of a refund (txnType 04) or a void
// (txnType 31) of Kassa's refund id: different, so a refused void can be
// followed by a refund.
func refundOrderID(refundID, txnType string) string {
	if txnType == "31" {
		return orderIDFor(refundID + "/void")
	}
	return orderIDFor(refundID)
}

// Refund implements payment.Gateway with backTransReq.do. A refund of the
// whole amount on the day of payment (same settleDate) is a void, 消费撤销
// (txnType 31): no fee, and the card is never charged. Anything else is a
// refund, 退货 (txnType 04), which may be partial. The refund id's orderId
// makes a retry the same transaction at UnionPay.
func (g *Gateway) Refund(ctx context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.RefundResult{}, err
	}
	fail := func(code, msg string) (payment.RefundResult, error) {
		return payment.RefundResult{Status: payment.RefundFailed, FailureCode: code, Amount: req.Amount, MerchantMessage: msg}, nil
	}
	if req.Amount.Currency != "CNY" {
		return fail(payment.DeclineCurrencyNotSupported, "UnionPay refunds CNY only")
	}
	if req.Amount.Amount < 1 {
		return fail(payment.DeclineInvalidAmount, "the refund amount must be at least 0.01")
	}
	if !validKassaID(req.RefundID) {
		return fail("invalid_request", "the refund id is not a valid id")
	}
	a, known := g.journal.Get(req.AttemptID)
	if !known || a.Declined != "" {
		return fail(payment.FailurePaymentNotFound, "this plugin never sent the attempt to UnionPay")
	}
	if rec, ok := a.Refunds[req.RefundID]; ok {
		if rec.Failed != "" {
			return fail(rec.Failed, "UnionPay refused this refund")
		}
		// A retry: ask UnionPay about the transaction sent before; send
		// it again (same orderId and txnTime) only if UnionPay never got it.
		r, err := g.refundState(ctx, c, a, req.RefundID)
		if err != nil || r.Status != payment.RefundNotFound {
			return r, err
		}
		return g.sendRefund(ctx, c, req, a, rec)
	}
	orig, err := c.api.query(ctx, a.OrderID, a.TxnTime)
	if err != nil {
		return payment.RefundResult{}, err
	}
	state, err := orderState(orig)
	if err != nil {
		return payment.RefundResult{}, err
	}
	if state != origPaid {
		return fail(payment.FailurePaymentNotCaptured, "the UnionPay order is not paid")
	}
	total, err := parseFen(orig.Get("txnAmt"))
	if err != nil {
		return payment.RefundResult{}, err
	}
	var refunded int64
	for _, r := range a.Refunds {
		if r.Failed == "" {
			refunded += r.Amount
		}
	}
	if refunded+req.Amount.Amount > total {
		return fail(payment.FailureAmountExceedsCaptured, fmt.Sprintf("refunds would reach %d fen of %d paid", refunded+req.Amount.Amount, total))
	}
	txnType := "04"
	if refunded == 0 && req.Amount.Amount == total && orig.Get("settleDate") == settleDay(g.now()) {
		txnType = "31"
	}
	rec := refundRec{OrderID: refundOrderID(req.RefundID, txnType), TxnTime: g.now().In(chinaTime).Format(txnTimeLayout), TxnType: txnType, Amount: req.Amount.Amount}
	qid := orig.Get("queryId")
	err = g.update(req.AttemptID, func(cur *attempt, _ bool) bool {
		if cur.Refunds == nil {
			cur.Refunds = map[string]refundRec{}
		}
		cur.Refunds[req.RefundID] = rec
		cur.QueryID = qid
		return true
	})
	if err != nil {
		return payment.RefundResult{}, err
	}
	a.QueryID = qid
	return g.sendRefund(ctx, c, req, a, rec)
}

// sendRefund posts a recorded refund or void and reads the answer.
func (g *Gateway) sendRefund(ctx context.Context, c *configured, req payment.RefundRequest, a attempt, rec refundRec) (payment.RefundResult, error) {
	p := c.api.fields(rec.TxnType, "00", "000201", "07")
	p.Set("orderId", rec.OrderID)
	p.Set("txnTime", rec.TxnTime)
	p.Set("txnAmt", fmt.Sprint(rec.Amount))
	p.Set("currencyCode", "156")
	p.Set("origQryId", a.QueryID)
	p.Set("backUrl", a.BackURL)
	p.Set("reqReserved", req.RefundID)
	res, err := c.api.post(ctx, pathBack, p)
	if err != nil {
		return payment.RefundResult{}, err
	}
	code := res.Get("respCode")
	switch code {
	case "00", "03", "04", "05", "12":
		// Accepted (00, 05), outcome pending (03, 04), or already sent
		// (12, duplicate orderId): UnionPay's answer for the transaction
		// itself comes from the query.
		cur, _ := g.journal.Get(req.AttemptID)
		r, err := g.refundState(ctx, c, cur, req.RefundID)
		if err != nil {
			return payment.RefundResult{}, err
		}
		if r.Status == payment.RefundNotFound {
			r = payment.RefundResult{Status: payment.RefundPending, GatewayRefundRef: rec.OrderID, Amount: sdk.Money{Amount: rec.Amount, Currency: "CNY"}}
		}
		return r, nil
	case "06":
		// System busy: nothing is known; Kassa retries, which queries.
		return payment.RefundResult{}, fmt.Errorf("unionpay: backTransReq: %s %s", code, res.Get("respMsg"))
	}
	if rec.TxnType == "31" {
		// The void was refused (past the settlement cut-off, or not
		// allowed for this card): refund instead, under its own orderId.
		slog.Info("unionpay void refused, refunding instead", "refund", req.RefundID, "code", code, "msg", res.Get("respMsg"))
		next := refundRec{OrderID: refundOrderID(req.RefundID, "04"), TxnTime: g.now().In(chinaTime).Format(txnTimeLayout), TxnType: "04", Amount: rec.Amount}
		if err := g.update(req.AttemptID, func(cur *attempt, _ bool) bool { cur.Refunds[req.RefundID] = next; return true }); err != nil {
			return payment.RefundResult{}, err
		}
		return g.sendRefund(ctx, c, req, a, next)
	}
	failure := refundFailure(code)
	if err := g.update(req.AttemptID, func(cur *attempt, _ bool) bool {
		r := cur.Refunds[req.RefundID]
		r.Failed = failure
		cur.Refunds[req.RefundID] = r
		return true
	}); err != nil {
		return payment.RefundResult{}, err
	}
	return payment.RefundResult{Status: payment.RefundFailed, FailureCode: failure, GatewayRefundRef: rec.OrderID, Amount: req.Amount,
		MerchantMessage: "UnionPay: " + code + " " + res.Get("respMsg")}, nil
}

// refundFailure maps a refused refund's respCode.
func refundFailure(code string) string {
	switch code {
	case "33":
		return payment.FailureAmountExceedsCaptured
	case "34", "35":
		return payment.FailureInvalidState
	}
	return "gateway_refused"
}

// GetRefund implements payment.Gateway.
func (g *Gateway) GetRefund(ctx context.Context, req payment.GetRefundRequest) (payment.RefundResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.RefundResult{}, err
	}
	a, ok := g.journal.Get(req.AttemptID)
	if !ok {
		if aid, _, found := g.byRefundOrder(req.GatewayRefundRef); found {
			a, ok = g.journal.Get(aid)
		}
	}
	if !ok {
		return payment.RefundResult{Status: payment.RefundNotFound}, nil
	}
	return g.refundState(ctx, c, a, req.RefundID)
}

// refundState queries one recorded refund or void.
func (g *Gateway) refundState(ctx context.Context, c *configured, a attempt, refundID string) (payment.RefundResult, error) {
	rec, ok := a.Refunds[refundID]
	if !ok {
		return payment.RefundResult{Status: payment.RefundNotFound}, nil
	}
	out := payment.RefundResult{GatewayRefundRef: rec.OrderID, Amount: sdk.Money{Amount: rec.Amount, Currency: "CNY"}}
	if rec.Failed != "" {
		out.Status, out.FailureCode = payment.RefundFailed, rec.Failed
		return out, nil
	}
	res, err := c.api.query(ctx, rec.OrderID, rec.TxnTime)
	if err != nil {
		return payment.RefundResult{}, err
	}
	state, err := orderState(res)
	if err != nil {
		return payment.RefundResult{}, err
	}
	switch state {
	case origNone:
		out.Status = payment.RefundNotFound
	case origPending:
		out.Status = payment.RefundPending
	case origFailed:
		out.Status, out.FailureCode = payment.RefundFailed, refundFailure(res.Get("origRespCode"))
		out.MerchantMessage = "UnionPay: " + res.Get("origRespCode") + " " + res.Get("origRespMsg")
	default:
		out.Status = payment.RefundSucceeded
		if rec.TxnType == "31" {
			out.MerchantMessage = "voided (消费撤销) on the day of payment"
		}
	}
	return out, nil
}

// declineCode maps a failed consumption's respCode (UnionPay's answer code
// appendix) to Kassa's decline codes.
func declineCode(code string) string {
	switch code {
	case "64":
		return payment.DeclineInsufficientFunds
	case "65", "66", "67", "71":
		return payment.DeclineAuthenticationFailed
	case "73":
		return payment.DeclineExpiredCard
	case "33":
		return payment.DeclineInvalidAmount
	case "69":
		return payment.DeclineBuyerCanceled
	case "01", "60", "61", "62", "63", "68", "72", "77", "78", "38":
		return payment.DeclineCardDeclined
	}
	return payment.DeclineProcessingError
}
