package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"net/url"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// Alipay's expected answers: the literal "success" stops its retries,
// anything else ("failure") makes it retry on its schedule.
var (
	answerSuccess = sdk.HTTPResponse{Status: http.StatusOK, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte("success")}
	answerFailure = sdk.HTTPResponse{Status: http.StatusBadRequest, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: []byte("failure")}
)

func rejected(reason payment.RejectionReason, msg string) payment.WebhookResult {
	return payment.WebhookResult{Rejection: &payment.Rejection{Reason: reason, Message: msg}, Response: answerFailure}
}

// HandleWebhook implements payment.Gateway for Alipay's asynchronous
// notifications (form-encoded, RSA2-signed over the sorted parameters
// without sign and sign_type).
func (g *Gateway) HandleWebhook(ctx context.Context, req payment.WebhookRequest) (payment.WebhookResult, error) {
	c := g.cfg.Load()
	if c == nil {
		return rejected(payment.RejectNotConfigured, "alipay is not configured"), nil
	}
	// Alipay posts forms; the signature is in the body, so any other
	// content is unsigned as far as this plugin can tell.
	if ct := req.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-www-form-urlencoded" {
			return rejected(payment.RejectBadSignature, "not a form-encoded Alipay notification"), nil
		}
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil || form.Get("notify_id") == "" || form.Get("out_trade_no") == "" {
		return rejected(payment.RejectMalformed, "not an Alipay notification"), nil
	}
	sign := form.Get("sign")
	if sign == "" {
		return rejected(payment.RejectBadSignature, "notification without sign"), nil
	}
	if st := form.Get("sign_type"); st != "" && st != "RSA2" {
		return rejected(payment.RejectBadSignature, "sign_type "+st+" is not accepted, only RSA2"), nil
	}
	content := signContent(form, false)
	if err := verifyRSA2(c.api.alipayKey, []byte(content), sign); err != nil {
		return rejected(payment.RejectBadSignature, "signature does not verify with the Alipay public key"), nil
	}
	// A notification for another app, signed by Alipay all the same (one
	// Alipay key serves several apps of a merchant), is not ours.
	if form.Get("app_id") != c.s.AppID {
		return rejected(payment.RejectBadSignature, "notification for app_id "+form.Get("app_id")+", not this shop's APPID"), nil
	}
	ev, ok, msg, err := g.normalize(ctx, c, form)
	if err != nil {
		// Alipay could not be asked about the refund: Kassa answers 5xx
		// and Alipay retries.
		return payment.WebhookResult{}, err
	}
	if msg != "" {
		return rejected(payment.RejectMalformed, msg), nil
	}
	// Replays are keyed on what Alipay signed (notify_id and notify_time
	// among it), not on the spelling of the form or of sign (base64
	// decoding skips newlines and padding bits): a copy sent back is
	// refused however it is re-encoded, Alipay's own retries (signed anew)
	// pass; see replayWindow.
	sum := sha256.Sum256([]byte(content))
	at := req.ReceivedAt
	if at.IsZero() {
		at = g.now()
	}
	if !g.replay.Add(hex.EncodeToString(sum[:]), at.Add(replayWindow), at) {
		return rejected(payment.RejectReplay, "notification "+form.Get("notify_id")+" was already accepted"), nil
	}
	out := payment.WebhookResult{Response: answerSuccess}
	if ok {
		out.Events = []payment.Event{ev}
	}
	return out, nil
}

// normalize turns a verified notification into an event; ok false means
// nothing happened that Kassa cares about (WAIT_BUYER_PAY). A non-empty msg
// means the notification is malformed; an error that Alipay could not be
// asked about a refund.
func (g *Gateway) normalize(ctx context.Context, c *configured, f url.Values) (ev payment.Event, ok bool, msg string, err error) {
	ev = payment.Event{ID: f.Get("notify_id"), AttemptID: f.Get("out_trade_no"), GatewayRef: f.Get("trade_no")}
	ev.OccurredAt = parseChinaTime(f.Get("notify_time"))
	if ev.OccurredAt.IsZero() {
		return ev, false, "notify_time missing or malformed", nil
	}
	if f.Get("gmt_refund") != "" || f.Get("refund_fee") != "" {
		// refund_fee is the trade's refunded total, not this refund's
		// amount: Alipay tells which refund by out_biz_no, and the
		// refund's own amount comes from the refund query.
		refundID := f.Get("out_biz_no")
		if refundID == "" {
			return ev, false, "refund notification without out_biz_no", nil
		}
		r, err := g.refundQuery(ctx, c, ev.AttemptID, refundID)
		if err != nil {
			return ev, false, "", fmt.Errorf("alipay: confirm refund %s: %w", refundID, err)
		}
		if r.Status == payment.RefundNotFound {
			return ev, false, "refund " + refundID + " is unknown to Alipay", nil
		}
		ev.Type, ev.RefundID, ev.GatewayRefundRef, ev.Amount = payment.EventRefundSucceeded, refundID, refundID, r.Amount
		if t := parseChinaTime(f.Get("gmt_refund")); !t.IsZero() {
			ev.OccurredAt = t
		}
		return ev, true, "", nil
	}
	total, err := parseYuan(f.Get("total_amount"))
	if err != nil {
		return ev, false, "total_amount missing or malformed", nil
	}
	ev.Amount = sdk.Money{Amount: total, Currency: "CNY"}
	switch f.Get("trade_status") {
	case "TRADE_SUCCESS", "TRADE_FINISHED":
		ev.Type = payment.EventPaymentSucceeded
		if t := parseChinaTime(f.Get("gmt_payment")); !t.IsZero() {
			ev.OccurredAt = t
		}
	case "TRADE_CLOSED":
		ev.Type = payment.EventPaymentCanceled
		if t := parseChinaTime(f.Get("gmt_close")); !t.IsZero() {
			ev.OccurredAt = t
		}
	case "WAIT_BUYER_PAY":
		return ev, false, "", nil
	default:
		return ev, false, "unknown trade_status " + f.Get("trade_status"), nil
	}
	return ev, true, "", nil
}
