package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"net/url"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// UnionPay's back notification wants HTTP 200 (the body is not read; "ok"
// by convention); anything else makes it send the notification again.
var (
	answerOK   = sdk.HTTPResponse{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte("ok")}
	answerFail = sdk.HTTPResponse{Status: http.StatusBadRequest, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte("fail")}
)

func rejected(reason payment.RejectionReason, msg string) payment.WebhookResult {
	return payment.WebhookResult{Rejection: &payment.Rejection{Reason: reason, Message: msg}, Response: answerFail}
}

// HandleWebhook implements payment.Gateway for UnionPay's back
// notifications (backUrl): a form, signed with signMethod 01 by the
// signPubKeyCert it carries, which must chain to the configured root and
// middle certificates and name UnionPay.
//
// UnionPay's notifications carry no id of their own: the event id is
// derived from the transaction (merId, orderId, txnTime, txnType) and its
// respCode, the same on every retry.
func (g *Gateway) HandleWebhook(ctx context.Context, req payment.WebhookRequest) (payment.WebhookResult, error) {
	c := g.cfg.Load()
	if c == nil {
		return rejected(payment.RejectNotConfigured, "unionpay is not configured"), nil
	}
	if ct := req.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-www-form-urlencoded" {
			return rejected(payment.RejectBadSignature, "not a form-encoded UnionPay notification"), nil
		}
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil || form.Get("orderId") == "" || form.Get("txnType") == "" {
		return rejected(payment.RejectMalformed, "not a UnionPay notification"), nil
	}
	for k, v := range form {
		if len(v) != 1 {
			return rejected(payment.RejectMalformed, "field "+k+" appears more than once"), nil
		}
	}
	at := req.ReceivedAt
	if at.IsZero() {
		at = g.now()
	}
	content := canonical(form)
	if err := c.api.cred.verifyMessage(form, content, at); err != nil {
		return rejected(payment.RejectBadSignature, err.Error()), nil
	}
	if form.Get("merId") != c.s.MerID {
		return rejected(payment.RejectBadSignature, "notification for merId "+form.Get("merId")+", not this shop's"), nil
	}
	ev, ok, msg := g.normalize(form)
	if msg != "" {
		return rejected(payment.RejectMalformed, msg), nil
	}
	// Replays are keyed on what UnionPay signed, not on the body's bytes:
	// the same message re-encoded (field order, percent-encoding, the
	// base64 of signature) is the same notification.
	sum := sha256.Sum256([]byte(content))
	if !g.replay.Add(hex.EncodeToString(sum[:]), at.Add(replayWindow), at) {
		return rejected(payment.RejectReplay, "the same notification was accepted less than "+replayWindow.String()+" ago"), nil
	}
	out := payment.WebhookResult{Response: answerOK}
	if ok {
		out.Events = []payment.Event{ev}
	}
	return out, nil
}

// normalize turns a verified notification into an event; ok false means
// nothing Kassa cares about. A non-empty msg means it is malformed.
func (g *Gateway) normalize(f url.Values) (ev payment.Event, ok bool, msg string) {
	txnTime := parseTxnTime(f.Get("txnTime"))
	if txnTime.IsZero() {
		return ev, false, "txnTime missing or malformed"
	}
	amount, err := parseFen(f.Get("txnAmt"))
	if err != nil {
		return ev, false, "txnAmt missing or malformed"
	}
	if cc := f.Get("currencyCode"); cc != "" && cc != "156" {
		return ev, false, "currencyCode " + cc + " is not CNY (156)"
	}
	code := f.Get("respCode")
	if code == "" {
		return ev, false, "respCode missing"
	}
	ev.ID = "unionpay:" + f.Get("merId") + ":" + f.Get("orderId") + ":" + f.Get("txnTime") + ":" + f.Get("txnType") + ":" + code
	ev.Amount = sdk.Money{Amount: amount, Currency: "CNY"}
	ev.OccurredAt = traceTimeNear(f.Get("traceTime"), txnTime)
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = txnTime
	}
	ev.OccurredAt = ev.OccurredAt.UTC()
	ev.MerchantMessage = "UnionPay " + code + " " + f.Get("respMsg")
	if qid := f.Get("queryId"); qid != "" {
		ev.MerchantMessage += " queryId " + qid
	}
	switch f.Get("txnType") {
	case "01":
		// reqReserved echoes Kassa's attempt id; it must map to the
		// notification's orderId, or it is not this plugin's order.
		id := f.Get("reqReserved")
		if id == "" || orderIDFor(id) != f.Get("orderId") {
			if a, _, found := g.attemptByOrder(f.Get("orderId")); found {
				id = a
			} else {
				return ev, false, "orderId " + f.Get("orderId") + " is not an order of this shop"
			}
		}
		ev.AttemptID, ev.GatewayRef = id, f.Get("orderId")
		if code == "00" || code == "A6" {
			ev.Type = payment.EventPaymentSucceeded
			if qid := f.Get("queryId"); qid != "" {
				_ = g.update(id, func(a *attempt, exists bool) bool {
					if !exists || a.QueryID == qid {
						return false
					}
					a.QueryID = qid
					return true
				})
			}
		} else {
			ev.Type, ev.DeclineCode = payment.EventPaymentFailed, declineCode(code)
		}
		return ev, true, ""
	case "04", "31":
		refundID := f.Get("reqReserved")
		if refundID == "" || refundOrderID(refundID, f.Get("txnType")) != f.Get("orderId") {
			return ev, false, "refund orderId " + f.Get("orderId") + " does not match reqReserved"
		}
		ev.RefundID, ev.GatewayRefundRef = refundID, f.Get("orderId")
		if aid, _, found := g.byRefundOrder(f.Get("orderId")); found {
			ev.AttemptID = aid
			if a, ok := g.journal.Get(aid); ok {
				ev.GatewayRef = a.OrderID
			}
		}
		if code == "00" || code == "A6" {
			ev.Type = payment.EventRefundSucceeded
		} else {
			ev.Type, ev.DeclineCode = payment.EventRefundFailed, refundFailure(code)
		}
		return ev, true, ""
	}
	// Other transaction types (pre-authorizations and so on) are not
	// started by this plugin: acknowledged, nothing to apply.
	return ev, false, ""
}
