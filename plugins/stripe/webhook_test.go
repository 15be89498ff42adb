package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/stripe/internal/sandbox"
)

// deliver hands one Stripe-Signature spelling of body to gw, received at at.
func deliver(t *testing.T, gw *Gateway, header string, body []byte, at time.Time) payment.WebhookResult {
	t.Helper()
	res, err := gw.HandleWebhook(context.Background(), payment.WebhookRequest{
		Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Stripe-Signature": {header}}, Body: body, ReceivedAt: at})
	if err != nil {
		t.Fatalf("HandleWebhook: %v", err)
	}
	return res
}

// reasonOf is the rejection reason of res, RejectNone when accepted.
func reasonOf(res payment.WebhookResult) payment.RejectionReason {
	if res.Rejection == nil {
		return payment.RejectNone
	}
	return res.Rejection.Reason
}

// TestWebhookOneTimestamp: a stale delivery stays stale when a fresh t is
// added to its Stripe-Signature. stripe-go skips a part " t=..." (it does
// not trim), so a MAC checked by stripe-go and a freshness check on
// another parse would each read a different t; a header with two t is
// refused instead, however they are spelled.
func TestWebhookOneTimestamp(t *testing.T) {
	t.Parallel()
	now := time.Now()
	old := now.Add(-72 * time.Hour)
	obj := map[string]any{"id": "pi_123", "object": "payment_intent", "amount": 5800, "currency": "cny", "status": "canceled",
		"metadata": map[string]string{metaAttempt: "pay_x"}}
	staleBody := sandbox.EventJSON("evt_old_1", "payment_intent.canceled", old, obj)
	stale := sandbox.Sign(staleBody, old, testWebhookSecret) // "t=<72 h ago>,v1=..."
	freshBody := sandbox.EventJSON("evt_new_1", "payment_intent.canceled", now, obj)
	fresh := sandbox.Sign(freshBody, now, testWebhookSecret)
	tNow := "t=" + strconv.FormatInt(now.Unix(), 10)
	cases := []struct {
		name   string
		header string
		body   []byte
		want   payment.RejectionReason
	}{
		{name: "stale, as signed", header: stale, body: staleBody, want: payment.RejectStale},
		{name: "stale, fresh t last after a space", header: stale + ", " + tNow, body: staleBody, want: payment.RejectBadSignature},
		{name: "stale, fresh t last after a tab", header: stale + ",\t" + tNow, body: staleBody, want: payment.RejectBadSignature},
		{name: "stale, fresh t last", header: stale + "," + tNow, body: staleBody, want: payment.RejectBadSignature},
		{name: "stale, fresh t between t and v1", header: strings.Replace(stale, ",v1=", ", "+tNow+",v1=", 1), body: staleBody, want: payment.RejectBadSignature},
		{name: "stale, fresh t first", header: tNow + "," + stale, body: staleBody, want: payment.RejectBadSignature},
		{name: "stale, fresh t first after a space", header: " " + tNow + "," + stale, body: staleBody, want: payment.RejectBadSignature},
		{name: "stale, fresh t first, stale t after a space", header: tNow + ", " + stale, body: staleBody, want: payment.RejectBadSignature},
		{name: "fresh, its t twice", header: fresh + "," + tNow, body: freshBody, want: payment.RejectBadSignature},
		{name: "fresh, its t twice after a tab", header: fresh + ",\t" + tNow, body: freshBody, want: payment.RejectBadSignature},
		{name: "fresh, t with a leading zero", header: strings.Replace(fresh, "t=", "t=0", 1), body: freshBody, want: payment.RejectBadSignature},
		{name: "fresh, as signed", header: fresh, body: freshBody, want: payment.RejectNone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := deliver(t, configuredGateway(t, nil), tc.header, tc.body, now)
			if got := reasonOf(res); got != tc.want {
				t.Fatalf("header %q: rejection %s (%+v), want %s", tc.header, got, res.Rejection, tc.want)
			}
			if tc.want != payment.RejectNone {
				if len(res.Events) != 0 || res.Response.StatusCode() < 400 {
					t.Errorf("refused delivery must carry no events and a non-2xx answer: %+v", res)
				}
				return
			}
			if len(res.Events) != 1 || res.Events[0].ID != "evt_new_1" || res.Events[0].Type != payment.EventPaymentCanceled || res.Response.StatusCode() != http.StatusOK {
				t.Errorf("accepted delivery: %+v", res)
			}
		})
	}
}

// TestWebhookReplaySpellings: a copy of an accepted delivery is a replay
// however its Stripe-Signature is re-spelled: the cache is keyed on the
// signed t and body, not on the header's bytes nor on the v1 that matched
// (during a roll Stripe signs with both secrets, and a copy may keep either
// v1).
func TestWebhookReplaySpellings(t *testing.T) {
	t.Parallel()
	const newSecret = "whsec_kassaRolledSigningSecret0000000"
	rolling := map[string]any{"webhook_secret": newSecret, "webhook_secret_previous": testWebhookSecret}
	now := time.Now()
	obj := intentObject(payment.Event{GatewayRef: "pi_1", AttemptID: "pay_1", Amount: eur(500)}, "succeeded")
	body := sandbox.EventJSON("evt_replay_1", "payment_intent.succeeded", now, obj)
	signed := sandbox.Sign(body, now, testWebhookSecret, newSecret) // t, v1 (previous secret), v1 (new secret)
	parts := strings.Split(signed, ",")
	cases := []struct {
		name  string
		again string
		want  payment.RejectionReason
	}{
		{name: "same header", again: signed, want: payment.RejectReplay},
		{name: "a space after each comma", again: strings.Join(parts, ", "), want: payment.RejectReplay},
		{name: "a tab after each comma", again: strings.Join(parts, ",\t"), want: payment.RejectReplay},
		{name: "leading and trailing space", again: " " + signed + " ", want: payment.RejectReplay},
		{name: "v1 values swapped", again: parts[0] + "," + parts[2] + "," + parts[1], want: payment.RejectReplay},
		{name: "only the previous secret's v1", again: parts[0] + "," + parts[1], want: payment.RejectReplay},
		{name: "only the new secret's v1", again: parts[0] + "," + parts[2], want: payment.RejectReplay},
		{name: "a v0 added", again: signed + ",v0=" + strings.Repeat("ab", 32), want: payment.RejectReplay},
		{name: "a v1 repeated", again: signed + "," + parts[2], want: payment.RejectReplay},
		{name: "Stripe's retry, signed a second later", again: sandbox.Sign(body, now.Add(time.Second), newSecret), want: payment.RejectNone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gw := configuredGateway(t, rolling)
			if res := deliver(t, gw, signed, body, now); res.Rejection != nil || len(res.Events) != 1 {
				t.Fatalf("first delivery: %+v", res)
			}
			res := deliver(t, gw, tc.again, body, now.Add(2*time.Second))
			if got := reasonOf(res); got != tc.want {
				t.Fatalf("header %q: rejection %s (%+v), want %s", tc.again, got, res.Rejection, tc.want)
			}
			if tc.want == payment.RejectReplay && (len(res.Events) != 0 || res.Response.StatusCode() < 400) {
				t.Errorf("a replay must carry no events and a non-2xx answer: %+v", res)
			}
		})
	}
}
