// Command broken is the example gateway (examples/gateway/gateway) with one
// contract violation switched on by the environment variable KASSA_BROKEN.
// The conformance kit's own tests (plugintest/plugintest_test.go) run it to
// prove that the kit catches each violation. Without KASSA_BROKEN it is the
// example, unchanged.
//
// Each mode overrides one method of the embedded example and otherwise lets
// it answer:
//
//	secret_not_writeonly  Describe: the secret setting is not "writeOnly"
//	key_not_writeonly     Describe: a setting "webhook_key" is not "writeOnly"
//	nested_secret_not_writeonly  Describe: a nested "client_secret" is not "writeOnly"
//	secret_lookalikes     Describe: settings named like secrets that hold none (api_key_id, token_ttl, token_url, nested too), not "writeOnly": correct
//	lenient_config        Configure: refused settings are reported accepted
//	decline_as_error      CreatePayment: a decline is an error, not data
//	double_charge         CreatePayment: idempotency keys are ignored
//	major_units_amount    CreatePayment: Amount answered in major units (amount/100)
//	retry_major_units_amount  CreatePayment: the answer to a retry (a known idempotency key) has Amount in major units
//	cancel_paid           CancelPayment: a paid payment reports CANCELED
//	over_refund           Refund: more than captured is refunded
//	accept_bad_signature  HandleWebhook: no signature, freshness or replay check
//	stale_accepted        HandleWebhook: no freshness check
//	clock_freshness       HandleWebhook: freshness judged by the plugin's clock, not ReceivedAt
//	empty_signature_accepted   HandleWebhook: a present but empty signature ("", "t=…,v1=") lets the delivery through
//	signature_prefix_accepted  HandleWebhook: a v1 that is a prefix of the right one (a cut signature) is accepted
//	no_replay_cache       HandleWebhook: no replay check
//	derived_ids           HandleWebhook: event ids derived from the attempt (correct with WebhookKit.DerivedIDs)
//	unstable_ids          HandleWebhook: derived event ids that change on every read
//
// The form_ and json_ modes sign notifications in the body instead of a
// header, as Alipay and UnionPay do (body.go):
//
//	form_signature        a form with a sign field: correct
//	json_signature        JSON with a signature member (/auth/signature): correct
//	form_empty_signature_accepted   an empty sign ("sign=") lets the delivery through
//	json_empty_signature_accepted   a missing or empty signature lets the delivery through
//	form_signature_prefix_accepted  a sign that is a prefix of the right one (a cut signature) is accepted
//	form_seen_before_verify         a notification's id is noted as seen before its sign is checked, so a forged copy makes the real one a replay
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/examples/gateway/gateway"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// broken is the example gateway with the violation named by mode.
type broken struct {
	*gateway.Gateway
	mode string

	// secret is the webhook secret of the settings in effect, to re-sign
	// the deliveries a webhook mode lets through.
	secret atomic.Pointer[[]byte]
	// retries numbers CreatePayment calls to forget idempotency keys.
	retries atomic.Int64
	// keys holds the idempotency keys CreatePayment has seen, to tell a
	// retry from a first call.
	keys sync.Map
	// seen holds the notification ids of seen_before_verify.
	seen sync.Map
}

func main() { payment.Serve(&broken{Gateway: gateway.New(), mode: os.Getenv("KASSA_BROKEN")}) }

// Describe drops "writeOnly" from the secret setting in
// secret_not_writeonly, and declares one more secret setting without it in
// key_not_writeonly (a name with "key" but no word the kit used to know)
// and nested_secret_not_writeonly (a known name, inside an object). In
// secret_lookalikes it declares settings whose names hold a secret word
// but describe a secret instead of holding one, rightly readable.
// Configure is the example's: it refuses the extra settings, which no
// test sets.
func (b *broken) Describe(ctx context.Context) (sdk.Info, error) {
	info, err := b.Gateway.Describe(ctx)
	var extra string
	switch b.mode {
	case "secret_not_writeonly":
		info.ConfigSchema = strings.Replace(info.ConfigSchema, `"writeOnly": true,`, "", 1)
	case "key_not_writeonly":
		extra = `{"webhook_key": {"type": "string", "title": "Webhook key"}}`
	case "nested_secret_not_writeonly":
		extra = `{"oauth": {"type": "object", "title": "OAuth client", "additionalProperties": false, "properties": {
			"client_id": {"type": "string", "title": "Client id"}, "client_secret": {"type": "string", "title": "Client secret"}}}}`
	case "secret_lookalikes":
		extra = `{"api_key_id": {"type": "string", "title": "API key id"},
			"token_ttl": {"type": "string", "title": "Token lifetime", "description": "How long an access token lives, as 15m or 1h."},
			"token_url": {"type": "string", "format": "uri", "title": "Token URL"},
			"oauth": {"type": "object", "title": "OAuth client", "additionalProperties": false, "properties": {
				"client_id": {"type": "string", "title": "Client id"}, "api_key_id": {"type": "string", "title": "API key id"},
				"token_url": {"type": "string", "format": "uri", "title": "Token URL"}}}}`
	}
	if extra != "" && err == nil {
		var schema map[string]any
		var props map[string]any
		if err := json.Unmarshal([]byte(info.ConfigSchema), &schema); err != nil {
			return info, err
		}
		if err := json.Unmarshal([]byte(extra), &props); err != nil {
			return info, err
		}
		maps.Copy(schema["properties"].(map[string]any), props)
		out, err := json.Marshal(schema)
		if err != nil {
			return info, err
		}
		info.ConfigSchema = string(out)
	}
	return info, err
}

// Configure reports refused settings as accepted in lenient_config (the
// example keeps the previous ones in effect).
func (b *broken) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
	res, err := b.Gateway.Configure(ctx, raw)
	switch {
	case err != nil:
		return res, err
	case res.OK():
		var s struct {
			WebhookSecret string `json:"webhook_secret"`
		}
		_ = json.Unmarshal(raw, &s) // the example has just validated raw
		secret := []byte(s.WebhookSecret)
		b.secret.Store(&secret)
	case b.mode == "lenient_config":
		return sdk.ConfigureResult{}, nil
	}
	return res, nil
}

// CreatePayment fails declines with an error in decline_as_error, makes
// every call a new charge in double_charge, and answers the accepted
// amount in major units (19 for 19.99 EUR) in major_units_amount, or only
// to a retry in retry_major_units_amount (an answer rebuilt from a record
// kept in yuan, say).
func (b *broken) CreatePayment(ctx context.Context, req payment.CreateRequest) (payment.CreateResult, error) {
	switch {
	case b.mode == "decline_as_error" && req.PaymentMethod == "tok_decline":
		return payment.CreateResult{}, errors.New("card declined")
	case b.mode == "double_charge":
		req.IdempotencyKey = fmt.Sprintf("%s#%d", req.IdempotencyKey, b.retries.Add(1))
	}
	_, retry := b.keys.LoadOrStore(req.IdempotencyKey, true)
	res, err := b.Gateway.CreatePayment(ctx, req)
	if err == nil && (b.mode == "major_units_amount" || b.mode == "retry_major_units_amount" && retry) {
		res.Amount = sdk.Money{Amount: req.Amount.Amount / 100, Currency: req.Amount.Currency}
	}
	return res, err
}

// CancelPayment answers CANCELED for a paid payment in cancel_paid.
func (b *broken) CancelPayment(ctx context.Context, req payment.CancelRequest) (payment.CancelResult, error) {
	res, err := b.Gateway.CancelPayment(ctx, req)
	if b.mode == "cancel_paid" && res.Status == payment.CancelAlreadyPaid {
		res.Status = payment.CancelCanceled
	}
	return res, err
}

// Refund accepts refunds beyond what is left to refund in over_refund.
func (b *broken) Refund(ctx context.Context, req payment.RefundRequest) (payment.RefundResult, error) {
	res, err := b.Gateway.Refund(ctx, req)
	if b.mode == "over_refund" && res.FailureCode == payment.FailureAmountExceedsCaptured {
		return payment.RefundResult{Status: payment.RefundSucceeded, GatewayRefundRef: "re_over_" + req.RefundID, Amount: req.Amount}, nil
	}
	return res, err
}

// HandleWebhook accepts the deliveries that the example refuses for a
// reason the mode skips, or whose signature the mode's faulty check lets
// through (laxSignature): it signs them afresh with the settings' secret
// and hands them to the example again. In clock_freshness it hands the
// example its own clock's time instead of the time Kassa received the
// delivery. The form_ and json_ modes verify a signature in the body
// instead (body.go).
func (b *broken) HandleWebhook(ctx context.Context, req payment.WebhookRequest) (payment.WebhookResult, error) {
	if format, _ := b.bodySigned(); format != "" {
		if secret := b.secret.Load(); secret != nil {
			return b.handleBodySigned(ctx, req, *secret) // body.go
		}
		return b.Gateway.HandleWebhook(ctx, req) // not configured: the example says so
	}
	if b.mode == "clock_freshness" {
		req.ReceivedAt = time.Now()
	}
	res, err := b.Gateway.HandleWebhook(ctx, req)
	if b.mode == "derived_ids" || b.mode == "unstable_ids" {
		// A gateway whose notifications carry no id: the event's id
		// is made here, stable (from the payment and the event) or not.
		for i := range res.Events {
			res.Events[i].ID = "derived:" + res.Events[i].AttemptID + ":" + string(res.Events[i].Type)
			if b.mode == "unstable_ids" {
				res.Events[i].ID += fmt.Sprint(":", b.retries.Add(1))
			}
		}
	}
	secret := b.secret.Load()
	if err != nil || res.Rejection == nil || secret == nil {
		return res, err
	}
	at, lax := b.laxSignature(req.Header, req.Body, *secret, req.ReceivedAt)
	if !lax && !b.skips(res.Rejection.Reason) {
		return res, err
	}
	if !lax {
		at = req.ReceivedAt
	}
	h := req.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(gateway.SignatureHeader, webhook.Sign(*secret, at, req.Body))
	req.Header = h
	return b.Gateway.HandleWebhook(ctx, req)
}

// laxSignature is the faulty verification of empty_signature_accepted and
// signature_prefix_accepted: whether it lets the signature header through,
// and the time it says the delivery was signed at (its t, else received).
// The first takes a
// header that is there but says nothing ("", "t=123,v1=") for a delivery
// that is not signed (say, a test ping), the second compares only as many
// characters as it was sent.
func (b *broken) laxSignature(h http.Header, body, secret []byte, received time.Time) (time.Time, bool) {
	values, present := h[http.CanonicalHeaderKey(gateway.SignatureHeader)]
	if !present || (b.mode != "empty_signature_accepted" && b.mode != "signature_prefix_accepted") {
		return time.Time{}, false
	}
	var value, v1 string
	if len(values) > 0 {
		value = values[0]
	}
	at, haveT, haveV1 := received, false, false
	for _, part := range strings.Split(value, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
				at, haveT = time.Unix(sec, 0), true
			}
		case "v1":
			v1, haveV1 = v, true
		}
	}
	if b.mode == "empty_signature_accepted" {
		return at, strings.TrimSpace(value) == "" || haveV1 && v1 == ""
	}
	want := hex.EncodeToString(webhook.ComputeHMAC(secret, at, body))
	return at, haveT && v1 != "" && strings.HasPrefix(want, v1)
}

// skips reports whether the mode skips the check that refuses for reason.
func (b *broken) skips(reason payment.RejectionReason) bool {
	switch b.mode {
	case "accept_bad_signature":
		return reason == payment.RejectBadSignature || reason == payment.RejectStale || reason == payment.RejectReplay
	case "stale_accepted":
		return reason == payment.RejectStale
	case "no_replay_cache":
		return reason == payment.RejectReplay
	}
	return false
}
