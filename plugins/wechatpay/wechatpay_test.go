package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
	"github.com/kassahq/kassa/plugins/wechatpay/internal/sandbox"
	"github.com/kassahq/kassa/plugins/wechatpay/internal/wxsign"
)

const (
	mchID          = "1900000001"
	appID          = "wxd678efh567hg6787"
	merchantSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
	platformKeyID  = "PUB_KEY_ID_0114232134912410000000000000000000"
	apiV3Key       = "3ZsmkJ8q2cCvF9qLwXtYpRbN5hGdE7aU"
)

// binary is the plugin built once, started like Kassa starts it.
var binary string

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

type keys struct {
	merchant, platform *rsa.PrivateKey
	merchantCertPEM    string
}

var (
	keysOnce sync.Once
	theKeys  keys
)

// testKeys generates the merchant and platform keys once per run.
func testKeys(t testing.TB) keys {
	t.Helper()
	keysOnce.Do(func() {
		m, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		p, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		serial, _ := new(big.Int).SetString(merchantSerial, 16)
		tpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "Kassa test merchant", OrganizationalUnit: []string{mchID}},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &m.PublicKey, m)
		if err != nil {
			panic(err)
		}
		theKeys = keys{merchant: m, platform: p, merchantCertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
	})
	return theKeys
}

func pemPrivate(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func pemPublic(k *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func pemEC(t *testing.T) string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// newSandbox starts a sandbox that knows the merchant certificate's public
// key and signs with the platform key; retries are compressed 1000 times.
func newSandbox(t testing.TB) *sandbox.Server {
	t.Helper()
	k := testKeys(t)
	sb := sandbox.New(sandbox.Options{MchID: mchID, AppID: appID, MerchantKey: &k.merchant.PublicKey, MerchantSerial: merchantSerial,
		PlatformKey: k.platform, PlatformKeyID: platformKeyID, APIv3Key: []byte(apiV3Key), RetryScale: 1000, RefundDelay: 300 * time.Millisecond})
	t.Cleanup(sb.Close)
	return sb
}

// settingsFor returns plugin settings for sb, with overrides applied.
func settingsFor(t testing.TB, base string, override map[string]any) json.RawMessage {
	t.Helper()
	k := testKeys(t)
	m := map[string]any{
		"mchid": mchID, "appid": appID, "merchant_private_key": pemPrivate(k.merchant), "merchant_serial_no": merchantSerial,
		"apiv3_key": apiV3Key, "platform_public_key": pemPublic(&k.platform.PublicKey), "platform_public_key_id": platformKeyID,
		"base_url": base,
	}
	for key, v := range override {
		if v == nil {
			delete(m, key)
		} else {
			m[key] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// inProcess configures a gateway in this process against sb.
func inProcess(t *testing.T, sb *sandbox.Server) *Gateway {
	t.Helper()
	g, _ := New("")
	res, err := g.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(t, sb.URL(), nil))
	if err != nil || !res.OK() {
		t.Fatalf("Configure = %v, %v", res.Errors, err)
	}
	return g
}

// pay plays the buyer: the sandbox marks the order paid and notifies.
func pay(sb *sandbox.Server) func(context.Context, *plugintest.Harness, payment.CreateRequest, payment.CreateResult) error {
	return func(_ context.Context, _ *plugintest.Harness, _ payment.CreateRequest, res payment.CreateResult) error {
		return sb.Pay(res.GatewayRef)
	}
}

func TestConformance(t *testing.T) {
	sb := newSandbox(t)
	k := testKeys(t)
	method := func(m string, meta map[string]string) payment.CreateRequest {
		return payment.CreateRequest{PaymentMethod: m, Metadata: meta}
	}
	buyerIP := func(r payment.CreateRequest, ip string) payment.CreateRequest {
		r.BuyerIP = ip
		return r
	}
	checkJSAPI := func(ctx context.Context, h *plugintest.Harness, req payment.CreateRequest, res payment.CreateResult) error {
		var p map[string]string
		if err := json.Unmarshal([]byte(res.Action.ClientSecret), &p); err != nil {
			return fmt.Errorf("client secret is not the WeixinJSBridge JSON: %w", err)
		}
		if p["appId"] != appID || p["signType"] != "RSA" || !strings.HasPrefix(p["package"], "prepay_id=wx") {
			return fmt.Errorf("WeixinJSBridge parameters %v", p)
		}
		if err := wxsign.Verify(&k.merchant.PublicKey, wxsign.JSAPIMessage(p["appId"], p["timeStamp"], p["nonceStr"], p["package"]), p["paySign"]); err != nil {
			return fmt.Errorf("paySign: %w", err)
		}
		return pay(sb)(ctx, h, req, res)
	}
	plugintest.RunGateway(t, plugintest.GatewayConfig{
		Binary:               binary,
		Config:               settingsFor(t, sb.URL(), nil),
		AllowPrivateNetworks: true,
		Currency:             "CNY",
		Scenarios: []plugintest.Scenario{
			{Name: "native", Request: method(MethodNative, nil),
				Want:     plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionQRCode},
				Complete: pay(sb), WantFinal: payment.StatusSucceeded},
			{Name: "native_unpaid", Request: method("", nil),
				Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionQRCode}},
			{Name: "h5", Request: buyerIP(method(MethodH5, nil), "203.0.113.7"),
				Want:     plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect},
				Complete: pay(sb), WantFinal: payment.StatusSucceeded},
			{Name: "h5_metadata_ip", Request: method(MethodH5, map[string]string{MetaClientIP: "203.0.113.8"}),
				Want: plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionRedirect}},
			{Name: "h5_without_ip", Request: method(MethodH5, nil),
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: "invalid_request"}},
			{Name: "jsapi", Request: method(MethodJSAPI, map[string]string{MetaOpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}),
				Want:     plugintest.Outcome{Status: payment.StatusRequiresAction, Action: payment.ActionClientSecret},
				Complete: checkJSAPI, WantFinal: payment.StatusSucceeded},
			{Name: "euro_refused", Request: payment.CreateRequest{PaymentMethod: MethodNative, Amount: sdk.Money{Amount: 1000, Currency: "EUR"}},
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: payment.DeclineCurrencyNotSupported}},
			{Name: "jsapi_outside_wechat", Request: method(MethodJSAPI, nil),
				Want: plugintest.Outcome{Status: payment.StatusFailed, DeclineCode: "invalid_request"}},
		},
		Paid:   "native",
		Unpaid: "native_unpaid",
		Webhook: &plugintest.WebhookKit{Sign: func(ev payment.Event, at time.Time) (http.Header, []byte, error) {
			res := sb.TransactionResource(ev.GatewayRef, "4200000000202612050000000001", ev.AttemptID, ev.Amount.Amount, ev.OccurredAt)
			return sb.Notification(ev.ID, "TRANSACTION.SUCCESS", "支付成功", "transaction", res, at)
		}},
	})
}

func TestConfigureRefusals(t *testing.T) {
	sb := newSandbox(t)
	k := testKeys(t)
	short, _ := rsa.GenerateKey(rand.Reader, 1024)
	tests := []struct {
		name     string
		override map[string]any
		private  bool
		field    string
		code     string
	}{
		{"key not PEM", map[string]any{"merchant_private_key": "MIIEvgIBADANBgkqhkiG9w0BAQEFAASC"}, true, "/merchant_private_key", "not_pem"},
		{"certificate instead of key", map[string]any{"merchant_private_key": k.merchantCertPEM}, true, "/merchant_private_key", "not_rsa"},
		{"EC key", map[string]any{"merchant_private_key": pemEC(t)}, true, "/merchant_private_key", "not_rsa"},
		{"short key", map[string]any{"merchant_private_key": pemPrivate(short)}, true, "/merchant_private_key", "key_too_short"},
		{"platform key not PEM", map[string]any{"platform_public_key": "hello"}, true, "/platform_public_key", "not_pem"},
		{"own key as platform key", map[string]any{"platform_public_key": pemPublic(&k.merchant.PublicKey)}, true, "/platform_public_key", "own_key"},
		{"APIv3 key too short", map[string]any{"apiv3_key": "short"}, true, "/apiv3_key", "minLength"},
		{"bad key id", map[string]any{"platform_public_key_id": "12345"}, true, "/platform_public_key_id", "pattern"},
		{"loopback base URL not allowed", nil, false, "/base_url", "private_network"},
		{"missing mchid", map[string]any{"mchid": nil}, true, "/mchid", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := inProcess(t, sb)
			before := g.cfg.Load()
			res, err := g.Configure(sdk.WithAllowPrivateNetworks(context.Background(), tt.private), settingsFor(t, sb.URL(), tt.override))
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range res.Errors {
				found = found || e.Field == tt.field && (e.Code == tt.code || strings.Contains(e.Code, tt.code)) && e.Message != ""
				if strings.Contains(e.Message, "BEGIN PRIVATE KEY-----\nMII") {
					t.Errorf("an error message repeats the secret: %q", e.Message)
				}
			}
			if !found {
				t.Errorf("errors %+v, want %s on %s", res.Errors, tt.code, tt.field)
			}
			if g.cfg.Load() != before {
				t.Error("refused settings replaced the previous ones")
			}
		})
	}
}

func TestHealthDiagnosis(t *testing.T) {
	sb := newSandbox(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	tests := []struct {
		name     string
		override map[string]any
		skew     time.Duration
		serving  bool
		want     string
	}{
		{"ok", nil, 0, true, ""},
		{"wrong merchant key", map[string]any{"merchant_private_key": pemPrivate(other)}, 0, false, "SIGN_ERROR"},
		{"wrong serial", map[string]any{"merchant_serial_no": "0000000000000000000000000000000000000001"}, 0, false, "serial"},
		{"wrong platform key", map[string]any{"platform_public_key": pemPublic(&other.PublicKey)}, 0, false, "does not verify"},
		{"wrong platform key id", map[string]any{"platform_public_key_id": "PUB_KEY_ID_0000000000000000000000000000000001"}, 0, false, "another key"},
		{"clock skew", nil, 10 * time.Minute, false, "clock skew"},
		{"unreachable", map[string]any{"base_url": deadURL}, 0, false, "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb.SetClockSkew(tt.skew)
			defer sb.SetClockSkew(0)
			g, _ := New("")
			res, err := g.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(t, sb.URL(), tt.override))
			if err != nil || !res.OK() {
				t.Fatalf("Configure = %v, %v", res.Errors, err)
			}
			h, err := g.Health(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if (h.Status == sdk.HealthServing) != tt.serving || !strings.Contains(h.Message, tt.want) {
				t.Errorf("Health = %s %q; want serving %v with %q", h.Status, h.Message, tt.serving, tt.want)
			}
		})
	}
}

// receiver is a notify_url that answers the codes in script, then 204.
type receiver struct {
	mu     sync.Mutex
	script []int
	got    []plugintest.Delivery
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, plugintest.Delivery{Header: req.Header.Clone(), Body: body, ReceivedAt: time.Now()})
	code := http.StatusNoContent
	if len(r.script) > 0 {
		code, r.script = r.script[0], r.script[1:]
	}
	r.mu.Unlock()
	w.WriteHeader(code)
}

func (r *receiver) deliveries() []plugintest.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]plugintest.Delivery(nil), r.got...)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func create(t *testing.T, g *Gateway, notify, attempt string, amount int64) payment.CreateResult {
	t.Helper()
	res, err := g.CreatePayment(context.Background(), payment.CreateRequest{AttemptID: attempt, OrderNumber: "#1001", NotifyURL: notify,
		Amount: sdk.Money{Amount: amount, Currency: "CNY"}, PaymentMethod: MethodNative, IdempotencyKey: "idem_" + attempt, Locale: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestNotificationRetries: a notification not acknowledged is retried on
// the (compressed) schedule with the same id, each delivery signed anew;
// the plugin yields the same event id every time.
func TestNotificationRetries(t *testing.T) {
	sb := newSandbox(t)
	g := inProcess(t, sb)
	rcv := &receiver{script: []int{http.StatusInternalServerError, http.StatusBadGateway}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	res := create(t, g, srv.URL+WebhookPath, "pay_retry_0001", 2500)
	if err := sb.Pay(res.GatewayRef); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "three deliveries", func() bool { return len(rcv.deliveries()) >= 3 })
	time.Sleep(100 * time.Millisecond) // nothing after the ack
	ds := rcv.deliveries()
	if len(ds) != 3 {
		t.Fatalf("%d deliveries, want 3 (two refused, then acknowledged)", len(ds))
	}
	var ids []string
	for i, d := range ds {
		out, err := g.HandleWebhook(context.Background(), payment.WebhookRequest{Method: "POST", Header: d.Header, Body: d.Body, ReceivedAt: d.ReceivedAt})
		if err != nil || out.Rejection != nil || len(out.Events) != 1 {
			t.Fatalf("delivery %d: %+v, %v", i, out, err)
		}
		ev := out.Events[0]
		if ev.Type != payment.EventPaymentSucceeded || ev.AttemptID != "pay_retry_0001" || ev.Amount != (sdk.Money{Amount: 2500, Currency: "CNY"}) || ev.OccurredAt.IsZero() {
			t.Errorf("event %+v", ev)
		}
		if out.Response.StatusCode() != http.StatusNoContent || len(out.Response.Body) != 0 {
			t.Errorf("answer %d %q, want 204 without body", out.Response.StatusCode(), out.Response.Body)
		}
		ids = append(ids, ev.ID)
	}
	if ids[0] == "" || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("event ids %v, want one stable id", ids)
	}
	if ds[0].Header.Get(wxsign.HeaderNonce) == ds[1].Header.Get(wxsign.HeaderNonce) {
		t.Error("a retry reused the signature nonce")
	}
	// The exact same delivery again is a replay: acknowledged, not applied.
	again, _ := g.HandleWebhook(context.Background(), payment.WebhookRequest{Method: "POST", Header: ds[2].Header, Body: ds[2].Body, ReceivedAt: ds[2].ReceivedAt})
	if again.Rejection == nil || again.Rejection.Reason != payment.RejectReplay || len(again.Events) != 0 || again.Response.StatusCode() != http.StatusNoContent {
		t.Errorf("replay = %+v", again)
	}
	// A duplicate notification (WeChat resends) keeps the id.
	if err := sb.Renotify(res.GatewayRef); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the duplicate", func() bool { return len(rcv.deliveries()) == 4 })
	d := rcv.deliveries()[3]
	dup, _ := g.HandleWebhook(context.Background(), payment.WebhookRequest{Method: "POST", Header: d.Header, Body: d.Body, ReceivedAt: d.ReceivedAt})
	if dup.Rejection != nil || len(dup.Events) != 1 || dup.Events[0].ID != ids[0] {
		t.Errorf("duplicate = %+v, want the same event id %q", dup, ids[0])
	}
	attempts := sb.Attempts()
	if len(attempts) != 4 || attempts[0].Status != 500 || attempts[2].Status != 204 {
		t.Errorf("sandbox attempts %+v", attempts)
	}
}

func TestWebhookRefusals(t *testing.T) {
	sb := newSandbox(t)
	g := inProcess(t, sb)
	now := time.Now()
	res := sb.TransactionResource("pay_hook_0001", "4200000000000000000000000001", "pay_hook_0001", 100, now)
	h, body, err := sb.Notification("EV-1", "TRANSACTION.SUCCESS", "支付成功", "transaction", res, now)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey := newGatewayWith(t, sb, map[string]any{"apiv3_key": "ffffffffffffffffffffffffffffffff"})
	otherMerchant := sb.TransactionResource("pay_hook_0002", "42", "pay_hook_0002", 100, now)
	m := map[string]any{}
	_ = json.Unmarshal(mustJSON(otherMerchant), &m)
	m["mchid"] = "1900000099"
	h2, body2, _ := sb.Notification("EV-2", "TRANSACTION.SUCCESS", "支付成功", "transaction", m, now)
	h3, body3, _ := sb.Notification("EV-3", "COMPLAINT.CREATE", "投诉", "complaint", map[string]string{"complaint_id": "1"}, now)
	otherApp := map[string]any{}
	_ = json.Unmarshal(mustJSON(sb.TransactionResource("pay_hook_0004", "4200000000000000000000000004", "pay_hook_0004", 100, now)), &otherApp)
	otherApp["appid"] = "wx0000000000other"
	h4, body4, _ := sb.Notification("EV-4", "TRANSACTION.SUCCESS", "支付成功", "transaction", otherApp, now)
	tests := []struct {
		name   string
		g      *Gateway
		h      http.Header
		body   []byte
		at     time.Time
		reason payment.RejectionReason
		status int
		events int
	}{
		{"wrong APIv3 key", wrongKey, h, body, now, payment.RejectBadSignature, 500, 0},
		{"truncated body", g, h, body[:len(body)-2], now, payment.RejectBadSignature, 401, 0},
		{"received 6 minutes later", g, h, body, now.Add(6 * time.Minute), payment.RejectStale, 400, 0},
		{"another merchant's transaction", g, h2, body2, now, payment.RejectMalformed, 400, 0},
		{"a transaction of another app of the merchant", g, h4, body4, now, payment.RejectMalformed, 400, 0},
		{"other event type acknowledged", g, h3, body3, now, payment.RejectNone, 204, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.g.HandleWebhook(context.Background(), payment.WebhookRequest{Method: "POST", Header: tt.h, Body: tt.body, ReceivedAt: tt.at})
			if err != nil {
				t.Fatal(err)
			}
			reason := payment.RejectNone
			if out.Rejection != nil {
				reason = out.Rejection.Reason
			}
			if reason != tt.reason || out.Response.StatusCode() != tt.status || len(out.Events) != tt.events {
				t.Fatalf("= %s %d %d events, want %s %d %d", reason, out.Response.StatusCode(), len(out.Events), tt.reason, tt.status, tt.events)
			}
			if tt.status >= 400 {
				var fail struct{ Code, Message string }
				if json.Unmarshal(out.Response.Body, &fail) != nil || fail.Code != "FAIL" || fail.Message == "" {
					t.Errorf("failure body %q, want {\"code\":\"FAIL\",\"message\":...}", out.Response.Body)
				}
			}
		})
	}
}

// TestWebhookReplaySpellings: a copy of an accepted notification is a
// replay however its Wechatpay-Signature is spelled. The cache is keyed on
// the signed message, not on the header, whose base64 decodes the same
// with any padding bits.
func TestWebhookReplaySpellings(t *testing.T) {
	sb := newSandbox(t)
	g := inProcess(t, sb)
	now := time.Now()
	res := sb.TransactionResource("pay_replay_0001", "4200000000000000000000000009", "pay_replay_0001", 100, now)
	h, body, err := sb.Notification("EV-R", "TRANSACTION.SUCCESS", "支付成功", "transaction", res, now)
	if err != nil {
		t.Fatal(err)
	}
	resent, resentBody, err := sb.Notification("EV-R", "TRANSACTION.SUCCESS", "支付成功", "transaction", res, now)
	if err != nil {
		t.Fatal(err)
	}
	withSignature := func(sig string) http.Header {
		c := h.Clone()
		c.Set(wxsign.HeaderSignature, sig)
		return c
	}
	sig := h.Get(wxsign.HeaderSignature)
	deliver := func(h http.Header, body []byte) payment.WebhookResult {
		out, err := g.HandleWebhook(context.Background(), payment.WebhookRequest{Method: "POST", Header: h, Body: body, ReceivedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if first := deliver(h, body); first.Rejection != nil || len(first.Events) != 1 {
		t.Fatalf("first delivery: %+v", first)
	}
	tests := []struct {
		name string
		h    http.Header
		body []byte
		want payment.RejectionReason
	}{
		{"same headers", h, body, payment.RejectReplay},
		{"a padding bit of the signature set", withSignature(respellBase64(t, sig)), body, payment.RejectReplay},
		{"WeChat's resend, signed anew", resent, resentBody, payment.RejectNone},
	}
	for _, tt := range tests {
		out := deliver(tt.h, tt.body)
		got := payment.RejectNone
		if out.Rejection != nil {
			got = out.Rejection.Reason
		}
		if got != tt.want {
			t.Errorf("%s: rejection %s (%+v), want %s", tt.name, got, out.Rejection, tt.want)
		}
		if got == payment.RejectReplay && (len(out.Events) != 0 || out.Response.StatusCode() != http.StatusNoContent) {
			t.Errorf("%s: a replay is acknowledged with no events: %+v", tt.name, out)
		}
	}
}

// respellBase64 returns another spelling of the bytes s encodes: a padding
// bit of its last quantum set, which Go's base64 decoder ignores.
func respellBase64(t *testing.T, s string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := len(strings.TrimRight(s, "=")) - 1
	if i == len(s)-1 {
		t.Fatalf("%q has no padding bits to set", s)
	}
	out := s[:i] + string(alphabet[strings.IndexByte(alphabet, s[i])^1]) + s[i+1:]
	a, errA := base64.StdEncoding.DecodeString(s)
	b, errB := base64.StdEncoding.DecodeString(out)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("%q and %q do not decode to the same bytes", s, out)
	}
	return out
}

func newGatewayWith(t *testing.T, sb *sandbox.Server, override map[string]any) *Gateway {
	t.Helper()
	g, _ := New("")
	res, err := g.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(t, sb.URL(), override))
	if err != nil || !res.OK() {
		t.Fatalf("Configure = %v, %v", res.Errors, err)
	}
	return g
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestCloseRacesPayment: whichever of close and pay reaches WeChat first
// wins, and the plugin reports it.
func TestCloseRacesPayment(t *testing.T) {
	sb := newSandbox(t)
	g := inProcess(t, sb)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	ctx := context.Background()

	paidFirst := create(t, g, srv.URL, "pay_race_paid", 800)
	if err := sb.Pay(paidFirst.GatewayRef); err != nil {
		t.Fatal(err)
	}
	c, err := g.CancelPayment(ctx, payment.CancelRequest{AttemptID: "pay_race_paid", IdempotencyKey: "c1"})
	if err != nil || c.Status != payment.CancelAlreadyPaid {
		t.Errorf("cancel after payment = %+v, %v; want ALREADY_PAID", c, err)
	}
	again := create(t, g, srv.URL, "pay_race_paid", 800)
	if again.Status != payment.StatusSucceeded {
		t.Errorf("CreatePayment retried after payment = %+v, want SUCCEEDED", again)
	}

	closedFirst := create(t, g, srv.URL, "pay_race_closed", 800)
	c, err = g.CancelPayment(ctx, payment.CancelRequest{AttemptID: "pay_race_closed", GatewayRef: closedFirst.GatewayRef, IdempotencyKey: "c2"})
	if err != nil || c.Status != payment.CancelCanceled {
		t.Fatalf("cancel = %+v, %v", c, err)
	}
	if err := sb.Pay(closedFirst.GatewayRef); err != sandbox.ErrOrderClosed {
		t.Errorf("late payment after close = %v, want refused", err)
	}
	st, err := g.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_race_closed"})
	if err != nil || st.Status != payment.StatusCanceled {
		t.Errorf("GetPayment = %+v, %v; want CANCELED", st, err)
	}
	reopened := create(t, g, srv.URL, "pay_race_closed", 800)
	if reopened.Status != payment.StatusFailed || reopened.DeclineCode != "order_closed" || !strings.Contains(reopened.BuyerMessage, "关闭") {
		t.Errorf("CreatePayment of a closed order = %+v", reopened)
	}
	// Same attempt, different amount: WeChat refuses the reused out_trade_no.
	changed, err := g.CreatePayment(ctx, payment.CreateRequest{AttemptID: "pay_race_other", NotifyURL: srv.URL, Amount: sdk.Money{Amount: 1, Currency: "CNY"}, Description: "a"})
	if err != nil || changed.Status != payment.StatusRequiresAction {
		t.Fatalf("create = %+v, %v", changed, err)
	}
	changed, err = g.CreatePayment(ctx, payment.CreateRequest{AttemptID: "pay_race_other", NotifyURL: srv.URL, Amount: sdk.Money{Amount: 2, Currency: "CNY"}, Description: "a", Locale: "en"})
	if err != nil || changed.Status != payment.StatusFailed || changed.BuyerMessage == "" || !strings.Contains(changed.MerchantMessage, "INVALID_REQUEST") {
		t.Errorf("reused out_trade_no = %+v, %v", changed, err)
	}
}

// TestPartialRefunds: partial refunds, idempotent retries, over-refund
// refused, PROCESSING then SUCCESS with a REFUND.SUCCESS notification.
func TestPartialRefunds(t *testing.T) {
	sb := newSandbox(t)
	g := inProcess(t, sb)
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	ctx := context.Background()
	res := create(t, g, srv.URL, "pay_refund_0001", 2000)
	if err := sb.Pay(res.GatewayRef); err != nil {
		t.Fatal(err)
	}
	refund := func(id string, amount int64) payment.RefundResult {
		t.Helper()
		r, err := g.Refund(ctx, payment.RefundRequest{RefundID: id, AttemptID: "pay_refund_0001", Amount: sdk.Money{Amount: amount, Currency: "CNY"}, IdempotencyKey: "idem_" + id, Reason: "requested_by_customer"})
		if err != nil {
			t.Fatalf("Refund(%s): %v", id, err)
		}
		return r
	}
	r1 := refund("ref_0001", 500)
	if r1.Status != payment.RefundPending || r1.GatewayRefundRef == "" || r1.Amount.Amount != 500 {
		t.Fatalf("first refund = %+v", r1)
	}
	if again := refund("ref_0001", 500); again != r1 {
		t.Errorf("retry = %+v, want %+v", again, r1)
	}
	g2 := inProcess(t, sb) // a restarted plugin relies on WeChat's out_refund_no
	if r, err := g2.Refund(ctx, payment.RefundRequest{RefundID: "ref_0001", AttemptID: "pay_refund_0001", Amount: sdk.Money{Amount: 500, Currency: "CNY"}, IdempotencyKey: "idem_ref_0001"}); err != nil || r.GatewayRefundRef != r1.GatewayRefundRef {
		t.Errorf("retry after restart = %+v, %v; want refund %s", r, err, r1.GatewayRefundRef)
	}
	if over := refund("ref_0002", 1501); over.Status != payment.RefundFailed || over.FailureCode != payment.FailureAmountExceedsCaptured {
		t.Errorf("over-refund = %+v", over)
	}
	if rest := refund("ref_0003", 1500); rest.Status != payment.RefundPending {
		t.Errorf("rest = %+v", rest)
	}
	if eur, _ := g.Refund(ctx, payment.RefundRequest{RefundID: "ref_0004", AttemptID: "pay_refund_0001", Amount: sdk.Money{Amount: 1, Currency: "EUR"}}); eur.Status != payment.RefundFailed {
		t.Errorf("EUR refund = %+v", eur)
	}
	if none, _ := g.Refund(ctx, payment.RefundRequest{RefundID: "ref_0005", AttemptID: "pay_never_paid", Amount: sdk.Money{Amount: 1, Currency: "CNY"}}); none.Status != payment.RefundFailed || none.FailureCode != payment.FailurePaymentNotFound {
		t.Errorf("refund of an unknown payment = %+v", none)
	}
	waitUntil(t, "refund success", func() bool {
		r, err := g.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_0001"})
		return err == nil && r.Status == payment.RefundSucceeded && r.Amount.Amount == 500
	})
	if r, err := g.GetRefund(ctx, payment.GetRefundRequest{RefundID: "ref_missing"}); err != nil || r.Status != payment.RefundNotFound {
		t.Errorf("unknown refund = %+v, %v", r, err)
	}
	// Payment notification plus two refund notifications.
	waitUntil(t, "notifications", func() bool { return len(rcv.deliveries()) == 3 })
	var refunded int64
	for _, d := range rcv.deliveries() {
		out, err := g.HandleWebhook(ctx, payment.WebhookRequest{Method: "POST", Header: d.Header, Body: d.Body, ReceivedAt: d.ReceivedAt})
		if err != nil || out.Rejection != nil || len(out.Events) != 1 {
			t.Fatalf("notification %s: %+v %v", d.Body, out, err)
		}
		if ev := out.Events[0]; ev.Type == payment.EventRefundSucceeded {
			if ev.RefundID == "" || ev.GatewayRefundRef == "" || ev.AttemptID != "pay_refund_0001" || ev.Amount.Currency != "CNY" {
				t.Errorf("refund event %+v", ev)
			}
			refunded += ev.Amount.Amount
		}
	}
	if refunded != 2000 {
		t.Errorf("refund notifications total %d, want 2000", refunded)
	}
	st, err := g.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_refund_0001"})
	if err != nil || st.Status != payment.StatusSucceeded || st.Captured != 2000 {
		t.Errorf("GetPayment after refunds = %+v, %v", st, err)
	}
}

// TestLocalDeclinesSurviveRestart: an attempt declined before reaching
// WeChat is FAILED for GetPayment, also after a restart.
func TestLocalDeclinesSurviveRestart(t *testing.T) {
	sb := newSandbox(t)
	dir := t.TempDir()
	ctx := sdk.WithAllowPrivateNetworks(context.Background(), true)
	start := func() *Gateway {
		g, err := New(dir)
		if err != nil {
			t.Fatal(err)
		}
		if res, err := g.Configure(ctx, settingsFor(t, sb.URL(), nil)); err != nil || !res.OK() {
			t.Fatalf("Configure = %v, %v", res.Errors, err)
		}
		return g
	}
	g := start()
	res, err := g.CreatePayment(ctx, payment.CreateRequest{AttemptID: "pay_eur_0001", NotifyURL: "https://shop.example" + WebhookPath,
		Amount: sdk.Money{Amount: 100, Currency: "EUR"}, Locale: "zh-CN"})
	if err != nil || res.Status != payment.StatusFailed || res.BuyerMessage != text(msgCurrency, "zh-CN") {
		t.Fatalf("EUR payment = %+v, %v", res, err)
	}
	for i, gw := range []*Gateway{g, start()} {
		st, err := gw.GetPayment(ctx, payment.GetRequest{AttemptID: "pay_eur_0001"})
		if err != nil || st.Status != payment.StatusFailed || st.DeclineCode != payment.DeclineCurrencyNotSupported {
			t.Errorf("run %d: GetPayment = %+v, %v; want FAILED currency_not_supported", i, st, err)
		}
	}
}

// TestSettingsInChinese: the admin in Chinese shows every setting's title
// and description in Chinese, none in English.
func TestSettingsInChinese(t *testing.T) { plugintest.CheckTranslated(t, schema.String(), "zh-CN") }
