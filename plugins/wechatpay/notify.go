package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/wechatpay/internal/wxsign"
)

// envelope is a WeChat Pay v3 notification as posted.
type envelope struct {
	ID           string          `json:"id"`
	CreateTime   string          `json:"create_time"`
	EventType    string          `json:"event_type"`
	ResourceType string          `json:"resource_type"`
	Summary      string          `json:"summary"`
	Resource     wxsign.Resource `json:"resource"`
}

// refundResource is the decrypted resource of REFUND.* notifications.
type refundResource struct {
	MchID        string `json:"mchid"`
	OutTradeNo   string `json:"out_trade_no"`
	OutRefundNo  string `json:"out_refund_no"`
	RefundID     string `json:"refund_id"`
	RefundStatus string `json:"refund_status"`
	SuccessTime  string `json:"success_time"`
	Amount       struct {
		Refund int64 `json:"refund"`
	} `json:"amount"`
}

// ack is what WeChat Pay expects for a notification it may stop sending.
var ack = sdk.HTTPResponse{Status: http.StatusNoContent}

// refuse answers a refused notification with a non-2xx status and the
// JSON WeChat Pay documents, so that it retries when the cause was ours.
func refuse(status int, reason payment.RejectionReason, msg string) payment.WebhookResult {
	body, _ := json.Marshal(map[string]string{"code": "FAIL", "message": msg})
	return payment.WebhookResult{
		Rejection: &payment.Rejection{Reason: reason, Message: msg},
		Response:  sdk.HTTPResponse{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: body},
	}
}

// HandleWebhook implements payment.Gateway: it verifies the Wechatpay-*
// signature against the configured WeChat Pay public key at the time Kassa
// received the notification, refuses replays of the same signed delivery,
// decrypts the resource with the APIv3 key and normalizes payment and
// refund notifications. The event id is the notification id, which WeChat
// keeps on redeliveries, so Kassa applies each once.
func (g *Gateway) HandleWebhook(_ context.Context, req payment.WebhookRequest) (payment.WebhookResult, error) {
	cfg := g.cfg.Load()
	if cfg == nil {
		return refuse(http.StatusServiceUnavailable, payment.RejectNotConfigured, "WeChat Pay is not configured"), nil
	}
	at := req.ReceivedAt
	if at.IsZero() {
		at = g.now()
	}
	signedAt, err := wxsign.VerifyHeaders(req.Header, req.Body, cfg.api.platform, cfg.api.platformID, at)
	switch {
	case errors.Is(err, wxsign.ErrStale):
		return refuse(http.StatusBadRequest, payment.RejectStale, err.Error()), nil
	case err != nil:
		return refuse(http.StatusUnauthorized, payment.RejectBadSignature, err.Error()), nil
	}
	var env envelope
	if err := json.Unmarshal(req.Body, &env); err != nil || env.ID == "" || env.EventType == "" {
		return refuse(http.StatusBadRequest, payment.RejectMalformed, "not a WeChat Pay notification"), nil
	}
	plain, err := wxsign.Decrypt(cfg.apiV3Key, env.Resource)
	if err != nil {
		// Signed by WeChat but not decryptable: the APIv3 key is wrong.
		// Answer 500 so WeChat retries once the key is fixed.
		return refuse(http.StatusInternalServerError, payment.RejectBadSignature, "cannot decrypt the resource; check the APIv3 key: "+err.Error()), nil
	}
	events, err := g.events(cfg, env, plain)
	if err != nil {
		return refuse(http.StatusBadRequest, payment.RejectMalformed, err.Error()), nil
	}
	// Replays are keyed on the message WeChat Pay signed (timestamp, nonce,
	// body), not on the spelling of Wechatpay-Signature: base64 decoding
	// ignores its padding bits, so one signature has several spellings.
	sum := sha256.Sum256(wxsign.ResponseMessage(req.Header.Get(wxsign.HeaderTimestamp), req.Header.Get(wxsign.HeaderNonce), req.Body))
	if !g.replay.Add(hex.EncodeToString(sum[:]), signedAt.Add(wxsign.MaxSkew), at) {
		// The very same delivery was accepted before: acknowledge it so
		// WeChat stops, and apply nothing.
		res := refuse(http.StatusNoContent, payment.RejectReplay, "this signed delivery was already accepted")
		res.Response = ack
		return res, nil
	}
	return payment.WebhookResult{Events: events, Response: ack}, nil
}

func parseTime(s string, fallback time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	return fallback
}

// events normalizes a decrypted resource.
func (g *Gateway) events(cfg *config, env envelope, plain []byte) ([]payment.Event, error) {
	created := parseTime(env.CreateTime, g.now())
	switch env.EventType {
	case "TRANSACTION.SUCCESS":
		var t transaction
		if err := json.Unmarshal(plain, &t); err != nil {
			return nil, errors.New("transaction resource is not JSON")
		}
		// A merchant number may serve several AppIDs (an app, a mini
		// program, another shop): only this shop's payments are its own.
		if t.MchID != cfg.mchID || t.AppID != cfg.appID || t.OutTradeNo == "" {
			return nil, errors.New("transaction of another merchant or app, or without out_trade_no")
		}
		if t.TradeState != "SUCCESS" {
			return nil, nil
		}
		ev := payment.Event{ID: env.ID, Type: payment.EventPaymentSucceeded, GatewayRef: t.OutTradeNo,
			Amount: t.money(), OccurredAt: parseTime(t.SuccessTime, created), MerchantMessage: "WeChat Pay transaction " + t.TransactionID}
		// attach carries the attempt id; trust it only if it derives the
		// same out_trade_no.
		if t.Attach != "" && merchantNo(t.Attach) == t.OutTradeNo {
			ev.AttemptID = t.Attach
		} else {
			ev.AttemptID = kassaID(t.OutTradeNo)
		}
		return []payment.Event{ev}, nil
	case "REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED":
		var r refundResource
		if err := json.Unmarshal(plain, &r); err != nil {
			return nil, errors.New("refund resource is not JSON")
		}
		if r.MchID != cfg.mchID || r.OutRefundNo == "" {
			return nil, errors.New("refund of another merchant or without out_refund_no")
		}
		ev := payment.Event{ID: env.ID, Type: payment.EventRefundSucceeded, GatewayRef: r.OutTradeNo, AttemptID: kassaID(r.OutTradeNo),
			RefundID: kassaID(r.OutRefundNo), GatewayRefundRef: r.RefundID, Amount: sdk.Money{Amount: r.Amount.Refund, Currency: "CNY"},
			OccurredAt: parseTime(r.SuccessTime, created)}
		if env.EventType != "REFUND.SUCCESS" {
			ev.Type, ev.DeclineCode = payment.EventRefundFailed, "refund_"+map[string]string{"REFUND.ABNORMAL": "abnormal", "REFUND.CLOSED": "closed"}[env.EventType]
			ev.MerchantMessage = "WeChat Pay refund " + r.RefundStatus
		}
		return []payment.Event{ev}, nil
	default:
		// Other notifications (e.g. complaints) are acknowledged, not applied.
		return nil, nil
	}
}
