package main

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/examples/gateway/gateway"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// The modes that start with form_ or json_ play a gateway that signs in
// the body, as Alipay and UnionPay do, instead of the example's header:
//
//   - form_: a form-encoded notification with the example's fields and t
//     (the signing time), signed in the field sign (hex HMAC-SHA256 of
//     "<t>.<the form without sign and sign_type, encoded in name order>")
//     beside a constant sign_type;
//   - json_: {"auth": {"signature": hex, "sign_type": "HMAC-SHA256",
//     "t": unix}, "notification": {the example's notification}}, the
//     signature over "<t>.<the notification's bytes>".
//
// A notification that verifies is handed to the example as the example's
// own (the notification as JSON, signed in its header at t), which checks
// freshness and replays and reads the event. The rest of the mode's name
// is its violation, if any.

// bodySigned returns the body-signed format of the mode ("form", "json")
// and the violation ("signature" for none); format "" for the other modes.
func (b *broken) bodySigned() (format, violation string) {
	format, violation, _ = strings.Cut(b.mode, "_")
	if format != "form" && format != "json" {
		return "", ""
	}
	return format, violation
}

// bodyNotification is a body-signed notification as read, before its
// signature is checked.
type bodyNotification struct {
	id           string
	signed       bool      // a signature field is there, empty or not
	signature    string    // its value
	content      []byte    // what the signature covers, with at
	at           time.Time // signed at (t); zero when the body names no time
	notification []byte    // the example's notification, as JSON
}

// readForm reads a form_ notification; false when the request is not one
// (it then goes to the example, as its own notifications do).
func readForm(req payment.WebhookRequest) (bodyNotification, bool) {
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return bodyNotification{}, false
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return bodyNotification{}, false
	}
	n := bodyNotification{id: form.Get("id"), signed: form.Has("sign"), signature: form.Get("sign")}
	form.Del("sign")
	form.Del("sign_type")
	n.content = []byte(form.Encode())
	if t, err := strconv.ParseInt(form.Get("t"), 10, 64); err == nil {
		n.at = time.Unix(t, 0)
	}
	amount, _ := strconv.ParseInt(form.Get("amount"), 10, 64)
	created, _ := strconv.ParseInt(form.Get("created"), 10, 64)
	n.notification, _ = json.Marshal(gateway.Notification{
		ID: form.Get("id"), Type: form.Get("type"), AttemptID: form.Get("attempt_id"), Payment: form.Get("payment"),
		Amount: amount, Currency: form.Get("currency"), Created: created,
	})
	return n, true
}

// readJSON reads a json_ notification; false when the request is not one.
func readJSON(req payment.WebhookRequest) (bodyNotification, bool) {
	var doc struct {
		Auth *struct {
			Signature *string `json:"signature"`
			T         int64   `json:"t"`
		} `json:"auth"`
		Notification json.RawMessage `json:"notification"`
	}
	if err := json.Unmarshal(req.Body, &doc); err != nil || doc.Notification == nil {
		return bodyNotification{}, false
	}
	var head struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(doc.Notification, &head)
	n := bodyNotification{id: head.ID, content: doc.Notification, notification: doc.Notification}
	if doc.Auth != nil {
		if doc.Auth.T != 0 {
			n.at = time.Unix(doc.Auth.T, 0)
		}
		if doc.Auth.Signature != nil {
			n.signed, n.signature = true, *doc.Auth.Signature
		}
	}
	return n, true
}

// handleBodySigned is HandleWebhook of the form_ and json_ modes, with
// their violations:
//
//	empty_signature_accepted (form)  an empty sign is a test ping, let through
//	empty_signature_accepted (json)  a missing or empty signature is one
//	signature_prefix_accepted        compares only as many characters as were sent
//	seen_before_verify               notes the id as seen once a signature is there,
//	                                 before checking it, and refuses a seen id as a replay
func (b *broken) handleBodySigned(ctx context.Context, req payment.WebhookRequest, secret []byte) (payment.WebhookResult, error) {
	format, violation := b.bodySigned()
	read := readForm
	if format == "json" {
		read = readJSON
	}
	n, ok := read(req)
	if !ok {
		return b.Gateway.HandleWebhook(ctx, req)
	}
	if n.at.IsZero() {
		n.at = req.ReceivedAt // unsigned: any time will do for a ping
	}
	want := hex.EncodeToString(webhook.ComputeHMAC(secret, n.at, n.content))
	var verified bool
	switch {
	case violation == "empty_signature_accepted" && (n.signed || format == "json") && n.signature == "":
		verified = true
	case n.signature == "":
		return rejected(payment.RejectBadSignature, "notification without a signature"), nil
	case violation == "signature_prefix_accepted":
		verified = strings.HasPrefix(want, n.signature)
	default:
		verified = hmac.Equal([]byte(n.signature), []byte(want))
	}
	if violation == "seen_before_verify" {
		if _, seen := b.seen.LoadOrStore(n.id, true); seen {
			return rejected(payment.RejectReplay, "notification "+n.id+" was seen before"), nil
		}
	}
	if !verified {
		return rejected(payment.RejectBadSignature, "the signature does not match"), nil
	}
	req.Header = http.Header{gateway.SignatureHeader: {webhook.Sign(secret, n.at, n.notification)}}
	req.Body = n.notification
	return b.Gateway.HandleWebhook(ctx, req)
}

func rejected(reason payment.RejectionReason, msg string) payment.WebhookResult {
	return payment.WebhookResult{
		Rejection: &payment.Rejection{Reason: reason, Message: msg},
		Response:  sdk.HTTPResponse{Status: http.StatusBadRequest},
	}
}
