package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// tradeQuery is the part of alipay.trade.query's answer the plugin uses.
type tradeQuery struct {
	TradeNo     string `json:"trade_no"`
	OutTradeNo  string `json:"out_trade_no"`
	TradeStatus string `json:"trade_status"`
	TotalAmount string `json:"total_amount"`
}

func (g *Gateway) configured() (*configured, error) {
	c := g.cfg.Load()
	if c == nil {
		return nil, errors.New("alipay: not configured")
	}
	return c, nil
}

// query asks Alipay for a trade; nil without error when it does not exist.
func (g *Gateway) query(ctx context.Context, c *configured, outTradeNo string) (*tradeQuery, error) {
	res, err := c.api.call(ctx, "alipay.trade.query", map[string]string{"out_trade_no": outTradeNo}, nil)
	if err != nil {
		return nil, err
	}
	if res.SubCode == "ACQ.TRADE_NOT_EXIST" {
		return nil, nil
	}
	if !res.ok() {
		return nil, fmt.Errorf("alipay: trade.query %s: %s", outTradeNo, res)
	}
	var q tradeQuery
	if err := json.Unmarshal(res.Raw, &q); err != nil {
		return nil, fmt.Errorf("alipay: trade.query answer: %w", err)
	}
	return &q, nil
}

// GetPayment implements payment.Gateway with alipay.trade.query by
// out_trade_no, which is the attempt id.
func (g *Gateway) GetPayment(ctx context.Context, req payment.GetRequest) (payment.PaymentState, error) {
	c, err := g.configured()
	if err != nil {
		return payment.PaymentState{}, err
	}
	q, err := g.query(ctx, c, req.AttemptID)
	if err != nil {
		return payment.PaymentState{}, err
	}
	a, known := g.journal.Get(req.AttemptID)
	if q == nil {
		switch {
		case !known:
			return payment.PaymentState{Status: payment.StatusNotFound}, nil
		case a.Declined != "":
			return payment.PaymentState{Status: payment.StatusFailed, GatewayRef: req.AttemptID, DeclineCode: a.Declined,
				MerchantMessage: "refused before reaching Alipay"}, nil
		case a.Closed:
			return payment.PaymentState{Status: payment.StatusCanceled, GatewayRef: req.AttemptID,
				Amount: sdk.Money{Amount: a.Amount, Currency: "CNY"}, MerchantMessage: "closed before the buyer opened Alipay"}, nil
		}
		// The buyer has not opened the cashier yet: Alipay creates the
		// trade only then.
		r := a.result(req.AttemptID, "")
		return payment.PaymentState{Status: payment.StatusRequiresAction, GatewayRef: req.AttemptID,
			Amount: sdk.Money{Amount: a.Amount, Currency: "CNY"}, Action: r.Action}, nil
	}
	total, err := parseYuan(q.TotalAmount)
	if err != nil {
		return payment.PaymentState{}, err
	}
	st := payment.PaymentState{GatewayRef: q.TradeNo, Amount: sdk.Money{Amount: total, Currency: "CNY"}, MerchantMessage: "Alipay trade_status " + q.TradeStatus}
	switch q.TradeStatus {
	case "WAIT_BUYER_PAY":
		st.Status = payment.StatusRequiresAction
		if known {
			st.Action = a.result(req.AttemptID, "").Action
		}
	case "TRADE_SUCCESS", "TRADE_FINISHED":
		st.Status, st.Authorized, st.Captured = payment.StatusSucceeded, total, total
	case "TRADE_CLOSED":
		// Closed unpaid, or closed because it was refunded in full.
		if refunded, err := g.refundedTotal(ctx, c, req.AttemptID); err != nil {
			return payment.PaymentState{}, err
		} else if refunded > 0 {
			st.Status, st.Authorized, st.Captured, st.Refunded = payment.StatusSucceeded, total, total, refunded
		} else {
			st.Status = payment.StatusCanceled
		}
	default:
		return payment.PaymentState{}, fmt.Errorf("alipay: unknown trade_status %q", q.TradeStatus)
	}
	if st.Status == payment.StatusSucceeded && st.Refunded == 0 {
		if st.Refunded, err = g.refundedTotal(ctx, c, req.AttemptID); err != nil {
			return payment.PaymentState{}, err
		}
	}
	return st, nil
}

// refundedTotal adds up the refunds the plugin made of a trade. Alipay's
// trade.query has no refunded total, so each refund Kassa asked for is
// queried (alipay.trade.fastpay.refund.query).
func (g *Gateway) refundedTotal(ctx context.Context, c *configured, outTradeNo string) (int64, error) {
	var sum int64
	for _, id := range g.refunds(outTradeNo) {
		r, err := g.refundQuery(ctx, c, outTradeNo, id)
		if err != nil {
			return 0, err
		}
		if r.Status == payment.RefundSucceeded {
			sum += r.Amount.Amount
		}
	}
	return sum, nil
}

// CancelPayment implements payment.Gateway with alipay.trade.close. A trade
// the buyer paid first is ALREADY_PAID, never closed.
func (g *Gateway) CancelPayment(ctx context.Context, req payment.CancelRequest) (payment.CancelResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.CancelResult{}, err
	}
	res, err := c.api.call(ctx, "alipay.trade.close", map[string]string{"out_trade_no": req.AttemptID}, nil)
	if err != nil {
		return payment.CancelResult{}, err
	}
	switch {
	case res.ok():
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled}, nil
	case res.SubCode == "ACQ.TRADE_NOT_EXIST":
		// Never opened: remember the close so GetPayment says CANCELED.
		// The page URL carries time_expire, so a late buyer is refused.
		if a, ok := g.journal.Get(req.AttemptID); ok {
			a.Closed = true
			if err := g.journal.Put(req.AttemptID, a); err != nil {
				return payment.CancelResult{}, err
			}
		}
		return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled, MerchantMessage: "Alipay has no such trade"}, nil
	case res.SubCode == "ACQ.TRADE_STATUS_ERROR":
		// Paid, or closed already: ask which.
		q, err := g.query(ctx, c, req.AttemptID)
		if err != nil {
			return payment.CancelResult{}, err
		}
		if q != nil && (q.TradeStatus == "TRADE_SUCCESS" || q.TradeStatus == "TRADE_FINISHED") {
			return payment.CancelResult{Status: payment.CancelAlreadyPaid, PaymentStatus: payment.StatusSucceeded, MerchantMessage: "the buyer paid before the close"}, nil
		}
		if q != nil && q.TradeStatus == "TRADE_CLOSED" {
			st, err := g.GetPayment(ctx, payment.GetRequest{AttemptID: req.AttemptID})
			if err != nil {
				return payment.CancelResult{}, err
			}
			if st.Status == payment.StatusSucceeded {
				return payment.CancelResult{Status: payment.CancelAlreadyPaid, PaymentStatus: st.Status, MerchantMessage: "paid, then refunded in full"}, nil
			}
			return payment.CancelResult{Status: payment.CancelCanceled, PaymentStatus: payment.StatusCanceled}, nil
		}
	}
	return payment.CancelResult{Status: payment.CancelFailed, Code: "gateway_refused", MerchantMessage: "Alipay: " + res.String()}, nil
}

// Refund implements payment.Gateway with alipay.trade.refund; the refund
// id is out_request_no, so a retry is the same refund at Alipay.
func (g *Gateway) Refund(ctx context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.RefundResult{}, err
	}
	fail := func(code, msg string) (payment.RefundResult, error) {
		return payment.RefundResult{Status: payment.RefundFailed, FailureCode: code, Amount: req.Amount, MerchantMessage: msg}, nil
	}
	if req.Amount.Currency != "CNY" {
		return fail(payment.DeclineCurrencyNotSupported, "Alipay refunds CNY only")
	}
	if req.Amount.Amount < 1 {
		return fail(payment.DeclineInvalidAmount, "the refund amount must be at least 0.01")
	}
	if !validTradeNo(req.RefundID) {
		return fail("invalid_request", "the refund id is not a valid out_request_no")
	}
	// Remember the refund before asking, so GetPayment counts it even if
	// the answer is lost.
	if err := g.addRefund(req.AttemptID, req.RefundID); err != nil {
		return payment.RefundResult{}, err
	}
	res, err := c.api.call(ctx, "alipay.trade.refund", map[string]any{
		"out_trade_no": req.AttemptID, "refund_amount": formatYuan(req.Amount.Amount),
		"out_request_no": req.RefundID, "refund_reason": req.Reason,
	}, nil)
	if err != nil {
		return payment.RefundResult{}, err
	}
	if res.ok() {
		return payment.RefundResult{Status: payment.RefundSucceeded, GatewayRefundRef: req.RefundID, Amount: req.Amount}, nil
	}
	switch res.SubCode {
	case "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL":
		return fail(payment.FailureAmountExceedsCaptured, "Alipay: "+res.String())
	case "ACQ.TRADE_NOT_EXIST":
		return fail(payment.FailurePaymentNotFound, "Alipay: "+res.String())
	case "ACQ.TRADE_STATUS_ERROR", "ACQ.TRADE_NOT_ALLOW_REFUND":
		return fail(payment.FailureInvalidState, "Alipay: "+res.String())
	case "ACQ.SYSTEM_ERROR":
		// Alipay asks to retry with the same out_request_no: unknown.
		return payment.RefundResult{}, fmt.Errorf("alipay: trade.refund: %s", res)
	}
	return fail("gateway_refused", "Alipay: "+res.String())
}

// GetRefund implements payment.Gateway.
func (g *Gateway) GetRefund(ctx context.Context, req payment.GetRefundRequest) (payment.RefundResult, error) {
	c, err := g.configured()
	if err != nil {
		return payment.RefundResult{}, err
	}
	return g.refundQuery(ctx, c, req.AttemptID, req.RefundID)
}

// refundQuery is alipay.trade.fastpay.refund.query of one out_request_no.
// Alipay answers 10000 without refund_amount for a refund it does not know.
func (g *Gateway) refundQuery(ctx context.Context, c *configured, outTradeNo, refundID string) (payment.RefundResult, error) {
	res, err := c.api.call(ctx, "alipay.trade.fastpay.refund.query", map[string]any{
		"out_trade_no": outTradeNo, "out_request_no": refundID, "query_options": []string{"gmt_refund_pay"},
	}, nil)
	if err != nil {
		return payment.RefundResult{}, err
	}
	if res.SubCode == "ACQ.TRADE_NOT_EXIST" {
		return payment.RefundResult{Status: payment.RefundNotFound}, nil
	}
	if !res.ok() {
		return payment.RefundResult{}, fmt.Errorf("alipay: refund query: %s", res)
	}
	var out struct {
		RefundAmount string `json:"refund_amount"`
		RefundStatus string `json:"refund_status"`
	}
	if err := json.Unmarshal(res.Raw, &out); err != nil {
		return payment.RefundResult{}, fmt.Errorf("alipay: refund query answer: %w", err)
	}
	if out.RefundAmount == "" {
		return payment.RefundResult{Status: payment.RefundNotFound}, nil
	}
	amt, err := parseYuan(out.RefundAmount)
	if err != nil {
		return payment.RefundResult{}, err
	}
	st := payment.RefundSucceeded
	// refund_status is only sent when asked for; absent means success.
	if out.RefundStatus != "" && out.RefundStatus != "REFUND_SUCCESS" {
		st = payment.RefundPending
	}
	return payment.RefundResult{Status: st, GatewayRefundRef: refundID, Amount: sdk.Money{Amount: amt, Currency: "CNY"}}, nil
}
