package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/core/events"
	"github.com/kassahq/kassa/core/notify"
)

type fakeChannel struct {
	id    string
	caps  []string
	sent  []notify.Message
	reply notify.Delivery
	err   error
}

func (f *fakeChannel) ID() string { return f.id }
func (f *fakeChannel) Supports(c string) bool {
	for _, x := range f.caps {
		if x == c {
			return true
		}
	}
	return false
}
func (f *fakeChannel) Send(_ context.Context, m notify.Message) (notify.Delivery, error) {
	f.sent = append(f.sent, m)
	return f.reply, f.err
}

type source []notify.Channel

func (s source) Channels(context.Context) ([]notify.Channel, error) { return s, nil }

func TestDispatcher(t *testing.T) {
	t.Parallel()
	exp := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tokenEvent := func(subject string) events.Event {
		return events.MustNew(subject, map[string]any{"email": "ada@example.com", "name": "Ada", "token": "tok_secret/+", "expiresAt": exp, "roles": []string{"support"}})
	}
	store := notify.Store{Name: "Tea House", URL: "https://shop.example/"}

	tests := []struct {
		name         string
		event        events.Event
		reply        notify.Delivery
		sendErr      error
		wantTemplate string
		wantLink     string
		wantErr      bool
		wantSent     int
	}{
		{"verification", tokenEvent("kassa.customer.verification_requested"), notify.Delivery{Status: notify.DeliverySent}, nil,
			notify.TemplateAccountVerifyEmail, "https://shop.example/account/verify-email?token=tok_secret%2F%2B", false, 1},
		{"password reset", tokenEvent("kassa.customer.password_reset_requested"), notify.Delivery{Status: notify.DeliverySent}, nil,
			notify.TemplateAccountPasswordReset, "https://shop.example/account/reset-password?token=", false, 1},
		{"staff invitation", tokenEvent("kassa.staff.invited"), notify.Delivery{Status: notify.DeliverySent}, nil,
			notify.TemplateStaffInvitation, "https://shop.example/admin/accept-invitation?token=", false, 1},
		// Queued: the channel is still trying; the redelivery asks again
		// (the same message id, never sent twice) until it says SENT or
		// FAILED. Not a delivery yet.
		{"queued is followed", tokenEvent("kassa.staff.invited"), notify.Delivery{Status: notify.DeliveryQueued}, nil,
			notify.TemplateStaffInvitation, "https://shop.example/admin/accept-invitation?token=", true, 1},
		{"other event ignored", events.MustNew("kassa.customer.registered", map[string]any{"customerId": "cus_1"}), notify.Delivery{}, nil, "", "", false, 0},
		{"plugin down is retried", tokenEvent("kassa.customer.verification_requested"), notify.Delivery{}, errors.New("PLUGIN_UNAVAILABLE"), notify.TemplateAccountVerifyEmail, "", true, 1},
		{"retryable refusal is retried", tokenEvent("kassa.customer.verification_requested"), notify.Delivery{Status: notify.DeliveryFailed, Retryable: true, ErrorCode: "smtp_unavailable"}, nil, notify.TemplateAccountVerifyEmail, "", true, 1},
		// A dead letter for staff, not a delivery and not retried.
		{"permanent refusal is not retried", tokenEvent("kassa.customer.verification_requested"), notify.Delivery{Status: notify.DeliveryFailed, ErrorCode: "invalid_recipient"}, nil, notify.TemplateAccountVerifyEmail, "", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			email := &fakeChannel{id: "notify.email", caps: []string{notify.CapPersonal}, reply: tt.reply, err: tt.sendErr}
			hook := &fakeChannel{id: "notify.webhook", caps: []string{notify.CapMerchantEvents}, reply: notify.Delivery{Status: notify.DeliverySent}}
			d := notify.NewDispatcher(source{email, hook}, store, nil)
			err := d.Handle(context.Background(), tt.event)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle error = %v, want error %v", err, tt.wantErr)
			}
			permanent := tt.reply.Status == notify.DeliveryFailed && !tt.reply.Retryable
			if err != nil && events.IsPermanent(err) != permanent {
				t.Fatalf("Handle error %v: permanent %v, want %v", err, events.IsPermanent(err), permanent)
			}
			if len(hook.sent) != 0 {
				t.Fatalf("an account message reached the merchant webhook channel: %+v", hook.sent)
			}
			if len(email.sent) != tt.wantSent {
				t.Fatalf("sent %d messages, want %d", len(email.sent), tt.wantSent)
			}
			if tt.wantSent == 0 {
				return
			}
			m := email.sent[0]
			if m.TemplateID != tt.wantTemplate || m.Recipient.Email != "ada@example.com" || m.ID != tt.event.ID+".notify.email" {
				t.Fatalf("message = %+v", m)
			}
			var secret struct{ Link string }
			_ = json.Unmarshal(m.SecretData, &secret)
			if !strings.HasPrefix(secret.Link, tt.wantLink) {
				t.Fatalf("link = %q, want prefix %q", secret.Link, tt.wantLink)
			}
			if strings.Contains(string(m.Data), "tok_secret") {
				t.Fatalf("the token leaked into the logged data: %s", m.Data)
			}
		})
	}
}

func TestForward(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		subject string
		want    bool
	}{
		{"registration", "kassa.customer.registered", true},
		{"product change", "kassa.product.updated", true},
		{"future order event", "kassa.order.paid", true},
		{"verification link is a secret", "kassa.customer.verification_requested", false},
		{"password reset is a secret", "kassa.customer.password_reset_requested", false},
		{"staff invitation is a secret", "kassa.staff.invited", false},
		{"internal notice", "kassa.authz.policy_changed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			email := &fakeChannel{id: "notify.email", caps: []string{notify.CapPersonal}, reply: notify.Delivery{Status: notify.DeliverySent}}
			hook := &fakeChannel{id: "notify.webhook", caps: []string{notify.CapMerchantEvents}, reply: notify.Delivery{Status: notify.DeliverySent}}
			d := notify.NewDispatcher(source{email, hook}, notify.Store{}, nil)
			e := events.MustNew(tt.subject, map[string]any{"customerId": "cus_1", "token": "tok_secret"})
			if err := d.Forward(context.Background(), e); err != nil {
				t.Fatal(err)
			}
			if len(email.sent) != 0 {
				t.Fatalf("a shop event reached the email channel: %+v", email.sent)
			}
			if got := len(hook.sent) == 1; got != tt.want {
				t.Fatalf("forwarded = %v, want %v", got, tt.want)
			}
			if tt.want {
				m := hook.sent[0]
				if m.TemplateID != strings.TrimPrefix(tt.subject, "kassa.") || m.ID != e.ID+".notify.webhook" || string(m.Data) != string(e.Payload) {
					t.Fatalf("message = %+v", m)
				}
			}
		})
	}
}

// TestDevelopmentLog: in development the link of an account message that
// no channel delivered is logged, and only then; never without the option,
// which instead warns that the message reached nobody.
func TestDevelopmentLog(t *testing.T) {
	t.Parallel()
	ev := events.MustNew("kassa.customer.verification_requested", map[string]any{"email": "dev@example.com", "token": "tok_dev_secret", "expiresAt": time.Now()})
	tests := []struct {
		name     string
		channels source
		dev      bool
		want     bool
	}{
		{"no channel, development", source{}, true, true},
		{"no channel, production", source{}, false, false},
		{"email channel delivered", source{&fakeChannel{id: "notify.email", caps: []string{notify.CapPersonal}, reply: notify.Delivery{Status: notify.DeliverySent}}}, true, false},
		{"only a merchant channel", source{&fakeChannel{id: "notify.webhook", caps: []string{notify.CapMerchantEvents}}}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf strings.Builder
			var opts []notify.DispatcherOption
			if tt.dev {
				opts = append(opts, notify.WithDevelopmentLog())
			}
			d := notify.NewDispatcher(tt.channels, notify.Store{URL: "http://127.0.0.1:8080"}, slog.New(slog.NewTextHandler(&buf, nil)), opts...)
			if err := d.Handle(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(buf.String(), "tok_dev_secret"); got != tt.want {
				t.Fatalf("link logged = %v, want %v:\n%s", got, tt.want, buf.String())
			}
			// In production an undelivered account message is a warning
			// at the default level, so the operator hears of it.
			if warned := strings.Contains(buf.String(), "level=WARN msg=\"no channel delivers account messages"); warned != (!tt.dev && !tt.want && len(tt.channels) == 0) {
				t.Fatalf("warned = %v:\n%s", warned, buf.String())
			}
		})
	}
}
