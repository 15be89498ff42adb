package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/examples/gateway/gateway"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

const testSecret = "whsec_example_0123456789"

// TestConformance builds this plugin and runs Kassa's conformance kit
// against the binary, started exactly as Kassa starts it.
func TestConformance(t *testing.T) {
	bin := plugintest.Build(t, ".")
	hint := func(m string) payment.CreateRequest { return payment.CreateRequest{PaymentMethod: m} }
	plugintest.RunGateway(t, plugintest.GatewayConfig{
		Binary: bin,
		Config: json.RawMessage(`{"webhook_secret":"` + testSecret + `"}`),
		// The kit's notify URL is on 127.0.0.1: allow private networks,
		// as the owner of a shop on localhost does.
		AllowPrivateNetworks: true,
		Scenarios: []plugintest.Scenario{
			{Name: "succeeds", Request: hint(gateway.TokenOK),
				Want: plugintest.Outcome{Status: payment.StatusSucceeded}},
			{Name: "declined", Request: hint(gateway.TokenDecline),
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineCardDeclined}},
			{Name: "pending", Request: hint(gateway.TokenPending),
				Want: plugintest.Outcome{Status: payment.StatusPending}},
			// The hosted page: the kit follows the redirect, the buyer
			// clicks, the kit waits until GetPayment says so.
			{Name: "page_pay", Request: hint(gateway.MethodPage),
				Want:     plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect},
				Complete: buyer("pay"), WantFinal: payment.StatusSucceeded},
			{Name: "page_cancel", Request: hint(gateway.MethodPage),
				Want:     plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect},
				Complete: buyer("cancel"), WantFinal: payment.StatusFailed},
			{Name: "qr_pay", Request: hint(gateway.MethodQR),
				Want:     plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionQRCode},
				Complete: buyer("pay"), WantFinal: payment.StatusSucceeded},
			{Name: "unknown_method", Request: hint("cheque"),
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: "payment_method_not_supported"}},
		},
		Paid:   "page_pay", // replayed for refunds, ALREADY_PAID and webhooks: through the page each time
		Unpaid: "pending",
		Webhook: &plugintest.WebhookKit{
			// Sign produces a notification exactly as the gateway would.
			Sign: func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
				body, err := json.Marshal(gateway.Notification{
					ID: ev.ID, Type: ev.Type, AttemptID: ev.AttemptID, Payment: ev.GatewayRef,
					Amount: ev.Amount.Amount, Currency: ev.Amount.Currency, Created: ev.OccurredAt.Unix(),
				})
				h := http.Header{}
				h.Set("Content-Type", "application/json")
				h.Set(gateway.SignatureHeader, webhook.Sign([]byte(testSecret), at, body))
				return h, body, err
			},
		},
	})
}

// The page's form: where it posts, and its hidden token.
var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	tokenField = regexp.MustCompile(`name="token" value="([^"]+)"`)
)

// buyer plays the buyer on the hosted page like a browser without
// JavaScript: it opens the action's address (a QR code holds the same one:
// the phone opens it), submits the form with the button's value, expects to
// be sent back to the shop, and waits for the notification the gateway
// announces to the notify URL (the kit then checks it with HandleWebhook).
func buyer(action string) func(context.Context, *plugintest.Harness, payment.CreateRequest, payment.CreateResult) error {
	return func(ctx context.Context, h *plugintest.Harness, req payment.CreateRequest, res payment.CreateResult) error {
		link := res.Action.URL
		if res.Action.Type == payment.ActionQRCode {
			link = res.Action.QRCode
		}
		page, err := h.Page(ctx, http.MethodGet, link, nil)
		if err != nil {
			return err
		}
		amount := fmt.Sprintf("%d.%02d %s", req.Amount.Amount/100, req.Amount.Amount%100, req.Amount.Currency)
		to, token := formAction.FindSubmatch(page.Body), tokenField.FindSubmatch(page.Body)
		if page.StatusCode() != http.StatusOK || to == nil || token == nil || !strings.Contains(string(page.Body), amount) {
			return fmt.Errorf("payment page: %d %q", page.StatusCode(), page.Body)
		}
		form := url.Values{"token": {html.UnescapeString(string(token[1]))}, "action": {action}}
		done, err := h.Page(ctx, http.MethodPost, html.UnescapeString(string(to[1])), form)
		if err != nil {
			return err
		}
		if done.StatusCode() != http.StatusSeeOther || done.Header.Get("Location") != req.ReturnURL {
			return fmt.Errorf("after %s: %d to %q, want 303 to %q", action, done.StatusCode(), done.Header.Get("Location"), req.ReturnURL)
		}
		for ctx.Err() == nil {
			for _, d := range h.Deliveries() {
				if strings.Contains(string(d.Body), `"attempt_id":"`+req.AttemptID+`"`) {
					return nil
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fmt.Errorf("no notification of %s reached the notify URL", req.AttemptID)
	}
}
