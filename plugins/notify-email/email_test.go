package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/notify"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
)

// binary is the plugin built once for all tests, started like Kassa starts it.
var binary string

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

const (
	testPassword = "Sm7p-pa55w0rd-never-logged"
	resetLink    = "https://shop.example/account/reset?token=tok_SECRET_reset_0123456789"
)

func config(s *smtpServer, mode string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"host":"127.0.0.1","port":%d,"tls":%q,"username":"shop@kassa.example","password":%q,
		"from_address":"shop@kassa.example","from_name":"Kassa Demo Shop","reply_to":"help@kassa.example","insecure_skip_verify":true,"timeout_seconds":10}`,
		s.port(), mode, testPassword))
}

// logBuffer collects the plugin's log lines, to prove secrets never reach
// them.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug - 4}))
}

// assertNoSecrets fails when the logs hold a secret.
func assertNoSecrets(t *testing.T, logs string, secrets ...string) {
	t.Helper()
	if !strings.Contains(logs, "email sent") {
		t.Errorf("the plugin's logs were not captured:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the logs contain the secret %q:\n%s", s, logs)
		}
	}
}

// orderData is the data Kassa sends with order emails.
func orderData(extra string) json.RawMessage {
	return json.RawMessage(`{"store":{"name":"Kassa Demo Shop","url":"https://shop.example","support_email":"help@kassa.example"},
	"order":{"number":"#1001","url":"https://shop.example/orders/ord_01","placed_at":"2026-03-14T09:30:00Z",
	  "lines":[{"name":"Sencha <script>alert(1)</script> & tea","sku":"TEA-1","quantity":2,"total":{"amount":2580,"currency":"EUR"}},
	           {"name":"龙井茶","quantity":1,"total":{"amount":5310,"currency":"EUR"}}],
	  "subtotal":{"amount":7890,"currency":"EUR"},"shipping":{"amount":490,"currency":"EUR"},"tax":{"amount":1095,"currency":"EUR"},
	  "total":{"amount":8380,"currency":"EUR"},"payment_method":"Visa •••• 4242",
	  "payment_deadline":"2026-03-14T10:00:00Z","payment_url":"https://shop.example/orders/ord_01/pay",
	  "shipping_address":{"name":"Jürgen Müller","lines":["Mariahilfer Straße 1"],"postal_code":"1060","city":"Wien","country":"AT"}}` + extra + `}`)
}

// parsed is a received email taken apart.
type parsed struct {
	Header       mail.Header
	Subject      string
	Text, HTML   string
	TextType     string
	HTMLType     string
	PartEncoding []string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	var p parsed
	p.Header = msg.Header
	if p.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("Subject: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		enc := part.Header.Get("Content-Transfer-Encoding")
		p.PartEncoding = append(p.PartEncoding, enc)
		body, err := io.ReadAll(quotedprintable.NewReader(part))
		if err != nil {
			t.Fatalf("quoted-printable: %v", err)
		}
		switch ct := part.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			p.Text, p.TextType = string(body), ct
		case strings.HasPrefix(ct, "text/html"):
			p.HTML, p.HTMLType = string(body), ct
		}
	}
	for _, b := range raw {
		if b >= 0x80 {
			t.Errorf("the message is not 7-bit clean")
			break
		}
	}
	return p
}

// one checks that the server holds exactly one message with the
// delivery's Message-ID, and parses it.
func one(t *testing.T, s *smtpServer, d notify.Delivery, to string) parsed {
	t.Helper()
	got := s.withMessageID(d.ID)
	if len(got) != 1 {
		t.Fatalf("the server holds %d messages with Message-ID %s, want exactly 1", len(got), d.ID)
	}
	m := got[0]
	if !m.TLS || !m.Authed || m.From != "shop@kassa.example" || len(m.To) != 1 || m.To[0] != to {
		t.Errorf("envelope: tls %v auth %v from %q to %v", m.TLS, m.Authed, m.From, m.To)
	}
	return parse(t, m.Data)
}

func contains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

func TestConformance(t *testing.T) {
	srv := startSMTP(t, false, true)
	logs := &logBuffer{}
	plugintest.RunChannel(t, plugintest.ChannelConfig{
		Binary: binary,
		// The test SMTP server listens on loopback.
		AllowPrivateNetworks: true,
		Config:               config(srv, TLSStartTLS),
		Logger:               logs.logger(),
		Cases: []plugintest.ChannelCase{
			{
				Name: "order_placed_en",
				Message: notify.Message{TemplateID: notify.TemplateOrderPlaced, Locale: "en-GB", StoreID: "sto_1",
					Recipient: notify.Recipient{Email: "jurgen@example.at", Name: "Jürgen Müller"}, Data: orderData("")},
				Check: func(t *testing.T, msg notify.Message, d notify.Delivery) {
					p := one(t, srv, d, "jurgen@example.at")
					if p.Subject != "Thank you for your order #1001" {
						t.Errorf("subject %q", p.Subject)
					}
					from, _ := p.Header.AddressList("From")
					to, _ := p.Header.AddressList("To")
					if len(from) != 1 || from[0].Name != "Kassa Demo Shop" || len(to) != 1 || to[0].Name != "Jürgen Müller" || to[0].Address != "jurgen@example.at" {
						t.Errorf("From %v To %v", from, to)
					}
					if date, err := p.Header.Date(); err != nil || time.Since(date) > time.Minute {
						t.Errorf("Date %q: %v", p.Header.Get("Date"), err)
					}
					if p.Header.Get("Message-ID") != d.ID || !strings.HasSuffix(d.ID, "@kassa.example>") {
						t.Errorf("Message-ID %q, delivery id %q", p.Header.Get("Message-ID"), d.ID)
					}
					for h, want := range map[string]string{"MIME-Version": "1.0", "Reply-To": "<help@kassa.example>", "Content-Language": "en", "Auto-Submitted": "auto-generated"} {
						if got := p.Header.Get(h); got != want {
							t.Errorf("%s = %q, want %q", h, got, want)
						}
					}
					if p.TextType != "text/plain; charset=UTF-8" || p.HTMLType != "text/html; charset=UTF-8" || strings.Join(p.PartEncoding, ",") != "quoted-printable,quoted-printable" {
						t.Errorf("parts %q %q %v", p.TextType, p.HTMLType, p.PartEncoding)
					}
					contains(t, "text", p.Text, "Hello Jürgen Müller,", "Order #1001, placed 14 March 2026", "2 x Sencha <script>alert(1)</script> & tea    25.80 EUR",
						"1 x 龙井茶", "Shipping: 4.90 EUR", "Total: 83.80 EUR", "Paid with: Visa •••• 4242", "Mariahilfer Straße 1", "1060 Wien",
						"View your order: https://shop.example/orders/ord_01", "Questions? Write to help@kassa.example")
					contains(t, "html", p.HTML, `<html lang="en">`, "Sencha &lt;script&gt;alert(1)&lt;/script&gt; &amp; tea", "83.80 EUR",
						`<a href="https://shop.example/orders/ord_01"`, "Hello Jürgen Müller,")
					if strings.Contains(p.HTML, "<script>") {
						t.Errorf("HTML part holds an unescaped <script>")
					}
				},
			},
			{
				Name: "order_paid_zh",
				Message: notify.Message{TemplateID: notify.TemplateOrderPaid, Locale: "zh-Hans-CN",
					Recipient: notify.Recipient{Email: "wang@example.cn", Name: "王小明"}, Data: orderData("")},
				Check: func(t *testing.T, msg notify.Message, d notify.Delivery) {
					p := one(t, srv, d, "wang@example.cn")
					if p.Subject != "订单 #1001 已付款" || !strings.Contains(p.Header.Get("Subject"), "=?UTF-8?b?") {
						t.Errorf("subject %q (raw %q)", p.Subject, p.Header.Get("Subject"))
					}
					if p.Header.Get("Content-Language") != "zh-CN" {
						t.Errorf("Content-Language %q", p.Header.Get("Content-Language"))
					}
					contains(t, "text", p.Text, "王小明，您好：", "支付的 83.80 EUR", "合计：83.80 EUR", "2026年3月14日")
					contains(t, "html", p.HTML, `<html lang="zh-CN">`, "正在为您备货", "查看订单")
				},
			},
			{
				Name: "password_reset_falls_back_to_en",
				Message: notify.Message{TemplateID: notify.TemplateAccountPasswordReset, Locale: "fr-FR",
					Recipient:  notify.Recipient{Email: "anne@example.fr"},
					Data:       json.RawMessage(`{"store":{"name":"Kassa Demo Shop"},"expires_at":"2026-03-14T11:00:00Z"}`),
					SecretData: json.RawMessage(`{"link":"` + resetLink + `"}`)},
				Check: func(t *testing.T, msg notify.Message, d notify.Delivery) {
					p := one(t, srv, d, "anne@example.fr")
					if p.Subject != "Reset your password for Kassa Demo Shop" {
						t.Errorf("subject %q", p.Subject)
					}
					contains(t, "text", p.Text, "Hello,", resetLink, "14 March 2026, 11:00 UTC")
					contains(t, "html", p.HTML, `href="`+strings.ReplaceAll(resetLink, "&", "&amp;")+`"`, "Choose a new password")
				},
			},
			{
				Name: "staff_invitation_alias",
				Message: notify.Message{TemplateID: "staff.invited", Locale: "zh-CN",
					Recipient:  notify.Recipient{Email: "li@example.cn"},
					Data:       json.RawMessage(`{"store":{"name":"茶叶小店"},"invitation":{"inviter_name":"Alice","role":"manager"}}`),
					SecretData: json.RawMessage(`{"link":"https://shop.example/admin/invitation?token=tok_invite_SECRET"}`)},
				Check: func(t *testing.T, msg notify.Message, d notify.Delivery) {
					p := one(t, srv, d, "li@example.cn")
					contains(t, "subject", p.Subject, "邀请您加入茶叶小店")
					contains(t, "text", p.Text, "Alice 邀请您参与管理茶叶小店（角色：manager）", "tok_invite_SECRET")
				},
			},
			{Name: "recipient_rejected", WantStatus: notify.DeliveryFailed, WantErrorCode: CodeRecipientRejected,
				Message: notify.Message{TemplateID: notify.TemplateOrderPlaced, Recipient: notify.Recipient{Email: "bounce@example.com"}, Data: orderData("")}},
			{Name: "recipient_deferred", WantStatus: notify.DeliveryFailed, WantErrorCode: CodeTemporaryFailure,
				Message: notify.Message{TemplateID: notify.TemplateOrderPlaced, Recipient: notify.Recipient{Email: "defer@example.com"}, Data: orderData("")},
				Check: func(t *testing.T, msg notify.Message, d notify.Delivery) {
					if !d.Retryable {
						t.Errorf("a 451 answer is not retryable: %+v", d)
					}
				}},
			{Name: "invalid_recipient", WantStatus: notify.DeliveryFailed, WantErrorCode: CodeInvalidRecipient,
				Message: notify.Message{TemplateID: notify.TemplateOrderPlaced, Recipient: notify.Recipient{Email: "not an address"}, Data: orderData("")}},
			{Name: "header_injection", WantStatus: notify.DeliveryFailed, WantErrorCode: CodeInvalidRecipient,
				Message: notify.Message{TemplateID: notify.TemplateOrderPlaced, Recipient: notify.Recipient{Email: "a@example.com\r\nBcc: b@example.com"}, Data: orderData("")}},
			{Name: "template_missing", WantStatus: notify.DeliveryFailed, WantErrorCode: CodeTemplateMissing,
				Message: notify.Message{TemplateID: "order.teleported", Recipient: notify.Recipient{Email: "a@example.com"}, Data: orderData("")}},
			{Name: "reset_without_link", WantStatus: notify.DeliveryFailed, WantErrorCode: CodeInvalidData,
				Message: notify.Message{TemplateID: notify.TemplateAccountPasswordReset, Recipient: notify.Recipient{Email: "a@example.com"}, Data: json.RawMessage(`{}`)}},
			{Name: "reset_with_javascript_link", WantStatus: notify.DeliveryFailed, WantErrorCode: CodeInvalidData,
				Message: notify.Message{TemplateID: notify.TemplateAccountPasswordReset, Recipient: notify.Recipient{Email: "a@example.com"},
					SecretData: json.RawMessage(`{"link":"javascript:alert(1)"}`)}},
			{Name: "order_without_number", WantStatus: notify.DeliveryFailed, WantErrorCode: CodeInvalidData,
				Message: notify.Message{TemplateID: notify.TemplateOrderShipped, Recipient: notify.Recipient{Email: "a@example.com"}, Data: json.RawMessage(`{"order":{}}`)}},
		},
	})
	assertNoSecrets(t, logs.String(), testPassword, "tok_SECRET_reset", "tok_invite_SECRET", "jurgen@example.at",
		// AUTH PLAIN's initial response, base64 of "\x00user\x00password".
		"AHNob3BAa2Fzc2EuZXhhbXBsZQBTbTdwLXBhNTV3MHJkLW5ldmVyLWxvZ2dlZA")
}

func start(t *testing.T, cfg json.RawMessage, dataDir string, logger *slog.Logger) notify.Channel {
	t.Helper()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID, DataDir: dataDir, Logger: logger})
	if res, err := p.Plugin().Configure(loopbackAllowed, cfg); err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res.Errors, err)
	}
	ch, err := p.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestEveryTemplate sends every template in both locales with full data.
func TestEveryTemplate(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, false, true)
	ch := start(t, config(srv, TLSStartTLS), "", nil)
	extra := `,"shipment":{"carrier":"DHL","tracking_number":"JD0002","tracking_url":"https://track.example/JD0002"},
	  "refund":{"amount":{"amount":1290,"currency":"EUR"},"reason":"damaged"},"invitation":{"inviter_name":"Alice","role":"manager"},
	  "cancellation":{"reason":"payment deadline passed"},
	  "payment":{"state":"PENDING","amount":{"amount":8380,"currency":"EUR"},"action":"INSTRUCTIONS","message":"Card declined",
	    "instructions":"IBAN DE89 3704 0044 0532 0130 00\nReference #1001","reference":"#1001"},
	  "customer":{"name":"Jürgen Müller","email":"j@example.com"},
	  "expires_at":"2026-03-15T09:00:00Z"`
	secret := json.RawMessage(`{"link":"https://shop.example/t?token=abc","code":"482913"}`)
	wantSubject := map[string]string{
		"en/" + notify.TemplateOrderShipped:       "Your order #1001 is on its way",
		"en/" + notify.TemplateOrderRefunded:      "Refund of 12.90 EUR for order #1001",
		"en/" + notify.TemplateAccountVerifyEmail: "Confirm your email address for Kassa Demo Shop",
		"zh-CN/" + notify.TemplateOrderShipped:    "您的订单 #1001 已发货",
		"zh-CN/" + notify.TemplateOrderRefunded:   "订单 #1001 已退款 12.90 EUR",
	}
	for _, loc := range []string{"en", "zh-CN"} {
		for _, id := range templateIDs {
			d, err := ch.Send(context.Background(), notify.Message{ID: "msg_" + loc + "_" + id, TemplateID: id, Locale: loc,
				Recipient: notify.Recipient{Email: "buyer@example.com", Name: "Sam"}, Data: orderData(extra), SecretData: secret})
			if err != nil || d.Status != notify.DeliverySent {
				t.Fatalf("%s/%s: %+v %v", loc, id, d, err)
			}
			p := one(t, srv, d, "buyer@example.com")
			if dir := os.Getenv("KASSA_EMAIL_DUMP"); dir != "" { // look at the emails
				raw := srv.withMessageID(d.ID)[0].Data
				if err := os.WriteFile(filepath.Join(dir, loc+"_"+id+".eml"), raw, 0o644); err != nil {
					t.Fatal(err)
				}
				_ = os.WriteFile(filepath.Join(dir, loc+"_"+id+".html"), []byte(p.HTML), 0o644)
				_ = os.WriteFile(filepath.Join(dir, loc+"_"+id+".txt"), []byte(p.Subject+"\n\n"+p.Text), 0o644)
			}
			if want, ok := wantSubject[loc+"/"+id]; ok && p.Subject != want {
				t.Errorf("%s/%s subject %q, want %q", loc, id, p.Subject, want)
			}
			for _, s := range []string{p.Subject, p.Text, p.HTML} {
				if strings.Contains(s, "<no value>") || strings.Contains(s, "%!") || strings.Contains(s, "ZgotmplZ") {
					t.Errorf("%s/%s renders a missing value:\n%s", loc, id, s)
				}
			}
			switch id {
			case notify.TemplateOrderShipped:
				contains(t, id, p.Text, "JD0002", "https://track.example/JD0002")
			case notify.TemplateAccountVerifyEmail, notify.TemplateAccountPasswordReset:
				contains(t, id, p.Text, "https://shop.example/t?token=abc", "482913")
			case notify.TemplateStaffInvitation:
				contains(t, id, p.Text, "Alice", "manager", "https://shop.example/t?token=abc")
			}
		}
	}
}

// TestImplicitTLS sends over TLS from the first byte (port 465 style).
func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, true, false)
	ch := start(t, config(srv, TLSImplicit), "", nil)
	d, err := ch.Send(context.Background(), notify.Message{ID: "msg_tls", TemplateID: notify.TemplateOrderPlaced,
		Recipient: notify.Recipient{Email: "a@example.com"}, Data: orderData("")})
	if err != nil || d.Status != notify.DeliverySent {
		t.Fatalf("Send: %+v %v", d, err)
	}
	one(t, srv, d, "a@example.com")
}

// TestNoPlaintextFallback: a server without STARTTLS is refused, nothing
// is sent unencrypted, and Health says why.
func TestNoPlaintextFallback(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, false, false)
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID})
	if res, err := p.Plugin().Configure(loopbackAllowed, config(srv, TLSStartTLS)); err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res.Errors, err)
	}
	ch, _ := p.Channel()
	d, err := ch.Send(context.Background(), notify.Message{ID: "msg_plain", TemplateID: notify.TemplateOrderPlaced,
		Recipient: notify.Recipient{Email: "a@example.com"}, Data: orderData("")})
	if err != nil || d.Status != notify.DeliveryFailed || d.ErrorCode != CodeStartTLSUnsupported || !d.Retryable {
		t.Errorf("Send = %+v %v, want FAILED %s", d, err, CodeStartTLSUnsupported)
	}
	if h, err := p.Plugin().Health(context.Background()); err != nil || h.Status != sdk.HealthNotServing || !strings.Contains(h.Message, "STARTTLS") {
		t.Errorf("Health = %+v %v", h, err)
	}
	if n := len(srv.mails()); n != 0 {
		t.Errorf("%d messages sent without TLS", n)
	}
}

// TestWrongPassword: a refused login is a retryable failure and the
// plugin is NOT_SERVING; the password is not in the logs.
func TestWrongPassword(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, false, true)
	logs := &logBuffer{}
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID, Logger: logs.logger()})
	cfg := strings.Replace(string(config(srv, TLSStartTLS)), testPassword, "wrong-"+testPassword, 1)
	if res, err := p.Plugin().Configure(loopbackAllowed, json.RawMessage(cfg)); err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res.Errors, err)
	}
	ch, _ := p.Channel()
	d, err := ch.Send(context.Background(), notify.Message{ID: "msg_auth", TemplateID: notify.TemplateOrderPlaced,
		Recipient: notify.Recipient{Email: "a@example.com"}, Data: orderData("")})
	if err != nil || d.Status != notify.DeliveryFailed || d.ErrorCode != CodeAuthFailed || !d.Retryable || !strings.Contains(d.ErrorMessage, "535") {
		t.Errorf("Send = %+v %v, want FAILED %s", d, err, CodeAuthFailed)
	}
	if h, _ := p.Plugin().Health(context.Background()); h.Status != sdk.HealthNotServing {
		t.Errorf("Health = %+v, want NOT_SERVING", h)
	}
	if strings.Contains(logs.String(), testPassword) || strings.Contains(d.ErrorMessage, testPassword) {
		t.Errorf("the password leaked: %s %s", d.ErrorMessage, logs.String())
	}
}

// TestNoResendAfterRestart: the journal in the data directory keeps a
// retry after a restart from sending again.
func TestNoResendAfterRestart(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, false, true)
	dir := t.TempDir()
	msg := notify.Message{ID: "msg_restart", TemplateID: notify.TemplateOrderPaid, Recipient: notify.Recipient{Email: "a@example.com"}, Data: orderData("")}
	first, err := start(t, config(srv, TLSStartTLS), dir, nil).Send(context.Background(), msg)
	if err != nil || first.Status != notify.DeliverySent {
		t.Fatalf("Send: %+v %v", first, err)
	}
	again, err := start(t, config(srv, TLSStartTLS), dir, nil).Send(context.Background(), msg)
	if err != nil || again != first {
		t.Errorf("retry after restart = %+v %v, want %+v", again, err, first)
	}
	if n := len(srv.withMessageID(first.ID)); n != 1 {
		t.Errorf("the server got %d copies, want 1", n)
	}
}

// TestConcurrentRetries: simultaneous sends of one message id deliver once.
func TestConcurrentRetries(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, false, true)
	ch := start(t, config(srv, TLSStartTLS), "", nil)
	msg := notify.Message{ID: "msg_concurrent", TemplateID: notify.TemplateOrderPlaced, Recipient: notify.Recipient{Email: "a@example.com"}, Data: orderData("")}
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := ch.Send(context.Background(), msg)
			if err != nil || d.Status != notify.DeliverySent {
				t.Errorf("Send: %+v %v", d, err)
			}
			ids[i] = d.ID
		}()
	}
	wg.Wait()
	if n := len(srv.mails()); n != 1 || ids[0] != ids[1] || ids[1] != ids[2] || ids[2] != ids[3] {
		t.Errorf("%d messages, delivery ids %v: want one message", n, ids)
	}
}

// loopbackAllowed configures as a shop whose owner allows private networks:
// the test SMTP server listens on 127.0.0.1.
var loopbackAllowed = sdk.WithAllowPrivateNetworks(context.Background(), true)

// TestDialRefusesPrivateAfterResolution proves the connect-time check: a
// host that passed the settings check but resolves to a private address
// (DNS rebinding; here "localhost.", which resolves to loopback) is
// refused when connecting, and reached when the owner allows it.
func TestDialRefusesPrivateAfterResolution(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, false, false)
	var cfg settings
	if err := json.Unmarshal(config(srv, TLSNone), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Host, cfg.Username, cfg.Password = "localhost", "", "" // no AUTH without TLS
	if sess, fail := dial(context.Background(), &cfg); fail == nil || !strings.Contains(fail.ErrorMessage, "loopback") {
		if sess != nil {
			sess.c.Close()
		}
		t.Fatalf("dial with the default policy = %+v, want a refusal naming loopback", fail)
	}
	cfg.guard.AllowPrivate = true
	sess, fail := dial(context.Background(), &cfg)
	if fail != nil {
		t.Fatalf("dial allowed: %+v", fail)
	}
	sess.c.Close()
}

func TestSettingsRefused(t *testing.T) {
	t.Parallel()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID})
	tests := []struct{ config, field, code string }{
		{`{"host":"smtp.example.com","from_address":"shop@example.com","tls":"none"}`, "/tls", "insecure_transport"},
		{`{"host":"smtp.example.com","from_address":"Shop <shop@example.com>"}`, "/from_address", "invalid_address"},
		{`{"host":"smtp.example.com","from_address":"shop@example.com","password":"x"}`, "/username", "required"},
		{`{"host":"smtp.example.com","from_address":"shop@example.com","tls":"ssl"}`, "/tls", "enum"},
		{`{"host":"smtp.example.com","from_address":"shop@example.com","port":0}`, "/port", "minimum"},
		{`{"from_address":"shop@example.com"}`, "/host", "required"},
		// The SSRF of issue 7: a server on this machine or the private
		// network needs the owner's consent (KASSA_PLUGIN_ALLOW_PRIVATE_NETWORKS).
		{`{"host":"127.0.0.1","from_address":"shop@example.com"}`, "/host", "private_network"},
		{`{"host":"localhost","from_address":"shop@example.com"}`, "/host", "private_network"},
		{`{"host":"169.254.169.254","from_address":"shop@example.com"}`, "/host", "private_network"},
		{`{"host":"10.0.0.25","from_address":"shop@example.com"}`, "/host", "private_network"},
		{`{"host":"::ffff:192.168.1.1","from_address":"shop@example.com"}`, "/host", "private_network"},
		{`{"host":"0177.0.0.1","from_address":"shop@example.com"}`, "/host", "private_network"},
		{`{"host":"ⓛⓞⓒⓐⓛⓗⓞⓢⓣ","from_address":"shop@example.com"}`, "/host", "private_network"},
		{`{"host":"\ue000.example","from_address":"shop@example.com"}`, "/host", "invalid_host"},
	}
	for _, tc := range tests {
		res, err := p.Plugin().Configure(context.Background(), json.RawMessage(tc.config))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Errors) != 1 || res.Errors[0].Field != tc.field || res.Errors[0].Code != tc.code {
			t.Errorf("%s: %+v, want %s on %s", tc.config, res.Errors, tc.code, tc.field)
		}
	}
	// Plain text to a server on this machine is fine where the owner allows
	// private networks.
	if res, _ := p.Plugin().Configure(loopbackAllowed, json.RawMessage(`{"host":"localhost","from_address":"shop@example.com","tls":"none"}`)); !res.OK() {
		t.Errorf("tls none to localhost refused: %+v", res.Errors)
	}
}

func TestTemplatesParse(t *testing.T) {
	t.Parallel()
	cat, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{localeEN, localeZH} {
		if len(cat[loc]) != len(templateIDs) {
			t.Errorf("%s has %d templates, want %d", loc, len(cat[loc]), len(templateIDs))
		}
	}
}

func TestMatchLocale(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"zh-CN": localeZH, "zh": localeZH, "zh_CN": localeZH, "zh-Hans": localeZH, "zh-Hans-CN": localeZH, "zh-SG": localeZH,
		"zh-TW": localeEN, "zh-Hant-HK": localeEN, "en": localeEN, "de-DE": localeEN, "": localeEN,
	} {
		if got := matchLocale(in); got != want {
			t.Errorf("matchLocale(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFold(t *testing.T) {
	t.Parallel()
	subject := encodeHeader(strings.Repeat("您的订单已发货，感谢您的惠顾。", 4))
	folded := fold("Subject", subject)
	for i, line := range strings.Split(strings.TrimSuffix(folded, "\r\n"), "\r\n") {
		// The first line holds the name and one encoded word (up to 75).
		if len(line) > 78 && (i > 0 || strings.Count(line, " ") > 1) {
			t.Errorf("header line of %d characters: %q", len(line), line)
		}
	}
	dec, err := new(mime.WordDecoder).DecodeHeader(strings.ReplaceAll(strings.TrimPrefix(folded, "Subject: "), "\r\n", ""))
	if err != nil || dec != strings.Repeat("您的订单已发货，感谢您的惠顾。", 4) {
		t.Errorf("folded subject decodes to %q, %v", dec, err)
	}
}

// TestSettingsInChinese: the admin in Chinese shows every setting's title
// and description in Chinese, none in English.
func TestSettingsInChinese(t *testing.T) { plugintest.CheckTranslated(t, schema.String(), "zh-CN") }
