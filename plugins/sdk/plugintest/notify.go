package plugintest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/notify"
)

// ChannelConfig configures [RunChannel].
type ChannelConfig struct {
	// Binary is the plugin executable.
	Binary string
	// SHA256 pins the binary; empty means its current checksum.
	SHA256 string
	// Config is a valid settings object (pointing at a test server the
	// author started, e.g. an SMTP server on loopback).
	Config json.RawMessage
	// Env are extra environment variables.
	Env []string
	// AllowPrivateNetworks configures the plugin as a shop whose owner
	// allows private networks (KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS): set it
	// when Config points at a test server on loopback.
	AllowPrivateNetworks bool
	// Logger receives the plugin's log lines; nil logs them with t.Log.
	Logger *slog.Logger
	// Cases are messages to send with the expected outcome.
	Cases []ChannelCase
}

// ChannelCase is one Send case.
type ChannelCase struct {
	// Name identifies the case.
	Name string
	// Message to send; the kit sets ID when empty.
	Message notify.Message
	// WantStatus is the expected status; zero means notify.DeliverySent.
	WantStatus notify.DeliveryStatus
	// WantErrorCode is the expected code of a failed delivery; empty
	// accepts any non-empty code.
	WantErrorCode string
	// Check, when set, verifies side effects after the send and after its
	// idempotent retry (e.g. the test SMTP server holds exactly one mail).
	Check func(t *testing.T, msg notify.Message, d notify.Delivery)
}

// RunChannel starts a notification plugin as Kassa does and checks its
// contract: describe, configure, health, each Send case, failures as data,
// and idempotent retries by message id. It logs a summary report.
func RunChannel(t *testing.T, cfg ChannelConfig) {
	t.Helper()
	s := newSuite(t)
	defer s.report("notification channel")
	p := Start(t, StartConfig{Binary: cfg.Binary, SHA256: cfg.SHA256, Env: cfg.Env, Logger: cfg.Logger})
	ch, err := p.Channel()
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	_, configured := commonChecks(s, p, sdk.KindNotify, []string{notify.CapPersonal, notify.CapMerchantEvents}, cfg.Config, cfg.AllowPrivateNetworks)
	if !configured {
		return
	}
	for i, c := range cfg.Cases {
		s.check("send/"+c.Name, func(t *testing.T) {
			msg := c.Message
			if msg.ID == "" {
				msg.ID = fmt.Sprintf("msg_plugintest_%d", i)
			}
			want := c.WantStatus
			if want == notify.DeliveryUnknown {
				want = notify.DeliverySent
			}
			d, err := ch.Send(ctxT(t, 30*time.Second), msg)
			if err != nil {
				t.Fatalf("Send failed with an error (a failed delivery is data: DeliveryFailed): %v", err)
			}
			if d.Status != want {
				t.Fatalf("Send = %s (%s %q), want %s", d.Status, d.ErrorCode, d.ErrorMessage, want)
			}
			switch d.Status {
			case notify.DeliveryFailed:
				if d.ErrorCode == "" || (c.WantErrorCode != "" && d.ErrorCode != c.WantErrorCode) {
					t.Errorf("failed delivery code %q, want %q", d.ErrorCode, c.WantErrorCode)
				}
			default:
				if d.ID == "" {
					t.Errorf("delivery has no ID")
				}
			}
			again, err := ch.Send(ctxT(t, 30*time.Second), msg)
			if err != nil {
				t.Fatalf("retried Send: %v", err)
			}
			if d.Status != notify.DeliveryFailed && (again.ID != d.ID || again.Status != d.Status) {
				t.Errorf("a retry with the same message id = %+v, want the first answer %+v (sent twice?)", again, d)
			}
			if c.Check != nil {
				c.Check(t, msg, d)
			}
		})
	}
}
