package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/netguard"
	"github.com/kassahq/kassa/plugins/sdk/notify"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// binary is the plugin built once for all tests, started like Kassa starts it.
var binary string

func TestMain(m *testing.M) { plugintest.Main(m, ".", &binary) }

const secret = "whsec_merchant_0123456789abcdef"

// hit is one POST the merchant's endpoint received.
type hit struct {
	At      time.Time
	Header  http.Header
	Body    []byte
	Payload struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		CreatedAt time.Time       `json:"created_at"`
		Data      json.RawMessage `json:"data"`
	}
	SigErr error
}

// merchant is an endpoint on loopback. answer decides the status of the
// n-th request (from 1); nil answers 200.
type merchant struct {
	*httptest.Server
	secret string
	answer func(n int, w http.ResponseWriter) int

	mu   sync.Mutex
	hits []hit
}

func newMerchant(t *testing.T, answer func(n int, w http.ResponseWriter) int) *merchant {
	t.Helper()
	m := &merchant{secret: secret, answer: answer}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h := hit{At: time.Now(), Header: r.Header.Clone(), Body: b}
		// Verify as a merchant would, with the SDK's verifier.
		v := &webhook.Verifier{Secrets: [][]byte{[]byte(m.secret)}}
		h.SigErr = v.Verify(r.Header.Get(SignatureHeader), b, time.Now())
		_ = json.Unmarshal(b, &h.Payload)
		m.mu.Lock()
		m.hits = append(m.hits, h)
		n := len(m.hits)
		m.mu.Unlock()
		status := http.StatusOK
		if m.answer != nil {
			status = m.answer(n, w)
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *merchant) received() []hit {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]hit(nil), m.hits...)
}

func (m *merchant) forEvent(id string) []hit {
	var out []hit
	for _, h := range m.received() {
		if h.Payload.ID == id {
			out = append(out, h)
		}
	}
	return out
}

func config(extra string, eps ...string) json.RawMessage {
	endpoints, secrets := "", ""
	for i := 0; i+2 < len(eps); i += 3 {
		if i > 0 {
			endpoints += ","
			secrets += ","
		}
		endpoints += fmt.Sprintf(`{"name":%q,"url":%q,"events":%s}`, eps[i], eps[i+1], eps[i+2])
		secrets += fmt.Sprintf(`%q:%q`, eps[i], secret)
	}
	return json.RawMessage(`{"endpoints":[` + endpoints + `],"signing_secrets":{` + secrets + `}` + extra + `}`)
}

func data(order string) json.RawMessage {
	return json.RawMessage(`{"order":{"id":"ord_01","number":"` + order + `","total":{"amount":4250,"currency":"EUR"}}}`)
}

// checkHit verifies one POST: signature, headers and body.
func checkHit(t *testing.T, h hit, msg notify.Message, d notify.Delivery, attempt int) {
	t.Helper()
	if h.SigErr != nil {
		t.Errorf("signature does not verify with the SDK's verifier: %v (header %q)", h.SigErr, h.Header.Get(SignatureHeader))
	}
	if h.Payload.ID != msg.ID || h.Payload.Type != msg.TemplateID || h.Payload.CreatedAt.IsZero() || time.Since(h.Payload.CreatedAt) > time.Minute {
		t.Errorf("payload %+v", h.Payload)
	}
	var got, want any
	_ = json.Unmarshal(h.Payload.Data, &got)
	_ = json.Unmarshal(msg.Data, &want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("data %s, want %s", h.Payload.Data, msg.Data)
	}
	for k, v := range map[string]string{EventIDHeader: msg.ID, EventTypeHeader: msg.TemplateID, DeliveryIDHeader: d.ID, AttemptHeader: strconv.Itoa(attempt)} {
		if h.Header.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Header.Get(k), v)
		}
	}
}

func TestConformance(t *testing.T) {
	orders := newMerchant(t, nil)
	all := newMerchant(t, nil)
	plugintest.RunChannel(t, plugintest.ChannelConfig{
		Binary: binary,
		// The merchant's test servers listen on loopback.
		AllowPrivateNetworks: true,
		Config:               config(`,"retry_initial_delay_ms":100`, "erp", orders.URL+"/hooks/kassa?src=kassa", `["order.*"]`, "crm", all.URL, `["order.*","refund.*"]`),
		Cases: []plugintest.ChannelCase{
			{
				Name:    "order_paid_to_both",
				Message: notify.Message{ID: "evt_1", TemplateID: "order.paid", StoreID: "sto_1", Data: data("#1001")},
				Check: func(t *testing.T, msg notify.Message, d notify.Delivery) {
					for _, m := range []*merchant{orders, all} {
						hits := m.forEvent(msg.ID)
						if len(hits) != 1 {
							t.Fatalf("endpoint got %d POSTs for %s, want exactly 1", len(hits), msg.ID)
						}
						checkHit(t, hits[0], msg, d, 1)
					}
				},
			},
			{
				Name:    "filtered",
				Message: notify.Message{ID: "evt_2", TemplateID: "refund.succeeded", Data: data("#1002")},
				Check: func(t *testing.T, msg notify.Message, d notify.Delivery) {
					if n, m := len(orders.forEvent(msg.ID)), len(all.forEvent(msg.ID)); n != 0 || m != 1 {
						t.Errorf("order.* endpoint got %d, * endpoint %d POSTs; want 0 and 1", n, m)
					}
				},
			},
			{
				Name:    "one_endpoint_by_url",
				Message: notify.Message{ID: "evt_3", TemplateID: "order.paid", Recipient: notify.Recipient{URL: all.URL}, Data: data("#1003")},
				Check: func(t *testing.T, msg notify.Message, d notify.Delivery) {
					if n, m := len(orders.forEvent(msg.ID)), len(all.forEvent(msg.ID)); n != 0 || m != 1 {
						t.Errorf("got %d and %d POSTs; want only the recipient's", n, m)
					}
				},
			},
			{
				Name:    "nobody_subscribed",
				Message: notify.Message{ID: "evt_4", TemplateID: "account.password_reset", Data: json.RawMessage(`{}`)},
				Check: func(t *testing.T, msg notify.Message, d notify.Delivery) {
					if n := len(orders.forEvent(msg.ID)) + len(all.forEvent(msg.ID)); n != 0 {
						t.Errorf("%d POSTs for an event no endpoint subscribes to", n)
					}
				},
			},
			{Name: "unknown_endpoint", WantStatus: notify.DeliveryFailed, WantErrorCode: CodeUnknownEndpoint,
				Message: notify.Message{TemplateID: "order.paid", Recipient: notify.Recipient{URL: "https://elsewhere.example/hook"}, Data: data("#1")}},
			{Name: "data_not_an_object", WantStatus: notify.DeliveryFailed, WantErrorCode: CodeInvalidData,
				Message: notify.Message{TemplateID: "order.paid", Data: json.RawMessage(`[1,2]`)}},
		},
	})
}

// loopbackAllowed configures as a shop whose owner allows private networks:
// the merchant's test servers listen on 127.0.0.1.
var loopbackAllowed = sdk.WithAllowPrivateNetworks(context.Background(), true)

func start(t *testing.T, cfg json.RawMessage, dataDir string) notify.Channel {
	t.Helper()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID, DataDir: dataDir})
	if res, err := p.Plugin().Configure(loopbackAllowed, cfg); err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res.Errors, err)
	}
	ch, err := p.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// waitFor re-sends msg (Kassa's way of asking for the status) until the
// delivery reaches want.
func waitFor(t *testing.T, ch notify.Channel, msg notify.Message, want notify.DeliveryStatus) notify.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := ch.Send(context.Background(), msg)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == want {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery still %s (%s), want %s", d.Status, d.ErrorMessage, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRetriesWithBackoff: the endpoint fails twice, then accepts; the
// plugin retries in the background with growing delays, each attempt
// signed anew and verifiable.
func TestRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	m := newMerchant(t, func(n int, _ http.ResponseWriter) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	})
	ch := start(t, config(`,"retry_initial_delay_ms":200,"max_attempts":5`, "erp", m.URL, `["order.*"]`), "")
	msg := notify.Message{ID: "evt_retry", TemplateID: "order.placed", Data: data("#2001")}
	d, err := ch.Send(context.Background(), msg)
	if err != nil || d.Status != notify.DeliveryQueued || d.ID == "" {
		t.Fatalf("first Send = %+v %v, want QUEUED", d, err)
	}
	final := waitFor(t, ch, msg, notify.DeliverySent)
	if final.ID != d.ID {
		t.Errorf("delivery id changed: %s then %s", d.ID, final.ID)
	}
	hits := m.received()
	if len(hits) != 3 {
		t.Fatalf("%d POSTs, want 3", len(hits))
	}
	for i, h := range hits {
		checkHit(t, h, msg, d, i+1)
		if string(h.Body) != string(hits[0].Body) {
			t.Errorf("attempt %d body differs from the first", i+1)
		}
	}
	// 200 ms then 400 ms, ±10% jitter.
	if gap := hits[1].At.Sub(hits[0].At); gap < 170*time.Millisecond {
		t.Errorf("first retry after %s, want about 200ms", gap)
	}
	if gap := hits[2].At.Sub(hits[1].At); gap < 350*time.Millisecond {
		t.Errorf("second retry after %s, want about 400ms", gap)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(m.received()); n != 3 {
		t.Errorf("%d POSTs after success, want no more", n)
	}
}

// TestFinalFailures: refusals are not retried, redirects not followed, and
// retries end after max_attempts.
func TestFinalFailures(t *testing.T) {
	t.Parallel()
	gone := newMerchant(t, func(int, http.ResponseWriter) int { return http.StatusGone })
	redirect := newMerchant(t, func(_ int, w http.ResponseWriter) int {
		w.Header().Set("Location", "file:///etc/passwd")
		return http.StatusFound
	})
	slow := newMerchant(t, func(int, http.ResponseWriter) int {
		time.Sleep(500 * time.Millisecond)
		return http.StatusOK
	})
	tests := []struct {
		name      string
		m         *merchant
		wantCode  string
		wantPosts int
	}{
		{"gone", gone, CodeEndpointRejected, 1},
		{"redirect", redirect, CodeEndpointRejected, 1},
		{"timeouts", slow, CodeRetriesExhausted, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ch := start(t, config(`,"retry_initial_delay_ms":100,"max_attempts":2,"timeout_ms":150`, "ep", tc.m.URL, `["*"]`), "")
			msg := notify.Message{ID: "evt_" + tc.name, TemplateID: "order.paid", Data: data("#3001")}
			d := waitFor(t, ch, msg, notify.DeliveryFailed)
			if d.ErrorCode != tc.wantCode || d.Retryable || d.ErrorMessage == "" {
				t.Errorf("delivery %+v, want FAILED %s, not retryable", d, tc.wantCode)
			}
			time.Sleep(200 * time.Millisecond)
			if n := len(tc.m.received()); n != tc.wantPosts {
				t.Errorf("%d POSTs, want %d", n, tc.wantPosts)
			}
		})
	}
}

// TestRetriesSurviveRestart: a pending retry is carried out by the next
// plugin process.
func TestRetriesSurviveRestart(t *testing.T) {
	t.Parallel()
	m := newMerchant(t, func(n int, _ http.ResponseWriter) int {
		if n == 1 {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	dir := t.TempDir()
	cfg := config(`,"retry_initial_delay_ms":400`, "erp", m.URL, `["*"]`)
	msg := notify.Message{ID: "evt_restart", TemplateID: "order.paid", Data: data("#4001")}
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID, DataDir: dir})
	if res, err := p.Plugin().Configure(loopbackAllowed, cfg); err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res.Errors, err)
	}
	first, _ := p.Channel()
	if d, err := first.Send(context.Background(), msg); err != nil || d.Status != notify.DeliveryQueued {
		t.Fatalf("Send = %+v %v, want QUEUED", d, err)
	}
	p.Kill()
	ch := start(t, cfg, dir)
	waitFor(t, ch, msg, notify.DeliverySent)
	if n := len(m.received()); n != 2 {
		t.Errorf("%d POSTs, want 2", n)
	}
}

func TestSettingsRefused(t *testing.T) {
	t.Parallel()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID})
	tests := []struct{ config, field, code string }{
		{string(config("", "a", "ftp://example.com/in", `["*"]`)), "/endpoints/0/url", "scheme"},
		{string(config("", "a", "javascript:alert(1)", `["*"]`)), "/endpoints/0/url", "scheme"},
		{string(config("", "a", "https://user:pw@example.com/in", `["*"]`)), "/endpoints/0/url", "credentials_in_url"},
		{`{"endpoints":[{"name":"a","url":"https://example.com/in"}]}`, "/signing_secrets/a", "required"},
		{`{"endpoints":[{"name":"a","url":"https://example.com/in"}],"signing_secrets":{"a":"short"}}`, "/signing_secrets/a", "minLength"},
		{string(config("", "a", "https://example.com/1", `["*"]`, "a", "https://example.com/2", `["*"]`)), "/endpoints/1/name", "duplicate"},
		{string(config("", "a", "https://example.com/in", `["order.**"]`)), "/endpoints/0/events/0", "pattern"},
		{string(config(`,"max_attempts":0`, "a", "https://example.com/in", `["*"]`)), "/max_attempts", "minimum"},
		// The SSRF of issue 7: private destinations need the owner's consent.
		{string(config("", "a", "http://127.0.0.1:8080/hook", `["*"]`)), "/endpoints/0/url", "private_network"},
		{string(config("", "a", "http://localhost/hook", `["*"]`)), "/endpoints/0/url", "private_network"},
		{string(config("", "a", "http://169.254.169.254/latest/meta-data/", `["*"]`)), "/endpoints/0/url", "private_network"},
		{string(config("", "a", "http://2130706433/", `["*"]`)), "/endpoints/0/url", "private_network"},
		{string(config("", "a", "http://[::ffff:10.0.0.1]/", `["*"]`)), "/endpoints/0/url", "private_network"},
		{string(config("", "a", "http://１２７。０。０。１/hook", `["*"]`)), "/endpoints/0/url", "private_network"},
		{string(config("", "a", "http://[2002:a9fe:a9fe::]/", `["*"]`)), "/endpoints/0/url", "private_network"},
		{string(config("", "a", "https://\ue000.example/hook", `["*"]`)), "/endpoints/0/url", "invalid_url"},
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
}

func TestWants(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		events []string
		typ    string
		want   bool
	}{
		{nil, "order.paid", true}, {[]string{"*"}, "x", true}, {[]string{"order.*"}, "order.paid", true},
		{[]string{"order.*"}, "orders.paid", false}, {[]string{"order.*"}, "order", false},
		{[]string{"order.paid"}, "order.paid", true}, {[]string{"order.paid"}, "order.placed", false},
		{[]string{"refund.*", "order.paid"}, "refund.succeeded", true},
	} {
		if got := (endpoint{Events: tc.events}).wants(tc.typ); got != tc.want {
			t.Errorf("%v wants %q = %v, want %v", tc.events, tc.typ, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 30: time.Hour} {
		got := backoff(time.Second, n)
		if got < want*9/10 || got > want*11/10 {
			t.Errorf("backoff(1s, %d) = %s, want %s ±10%%", n, got, want)
		}
	}
}

// TestPrivateNetworkAllowed proves the owner's switch reaches the plugin
// through the host: the same loopback URL refused by default is accepted
// when Configure carries the permission.
func TestPrivateNetworkAllowed(t *testing.T) {
	t.Parallel()
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID})
	cfg := config("", "a", "http://127.0.0.1:8080/hook", `["*"]`)
	if res, err := p.Plugin().Configure(context.Background(), cfg); err != nil || res.OK() {
		t.Fatalf("default policy: Configure = %+v %v, want refused", res.Errors, err)
	}
	if res, err := p.Plugin().Configure(loopbackAllowed, cfg); err != nil || !res.OK() {
		t.Fatalf("private networks allowed: Configure = %+v %v, want accepted", res.Errors, err)
	}
}

// TestPostRefusesPrivateAfterResolution proves the connect-time check: an
// endpoint whose name passed the settings check but resolves to a private
// address (DNS rebinding; here "localhost.", which resolves to loopback)
// is refused when connecting, and not retried.
func TestPostRefusesPrivateAfterResolution(t *testing.T) {
	t.Parallel()
	m := newMerchant(t, nil)
	_, port, _ := strings.Cut(strings.TrimPrefix(m.URL, "http://"), ":")
	cfg := &settings{TimeoutMS: 2000, client: newClient(netguard.Policy{})}
	res := (&queue{}).post(context.Background(), cfg, "http://localhost:"+port+"/hook", secret, &record{MessageID: "evt_x", Type: "order.paid"}, []byte(`{}`), 1)
	if res.retry || res.status != 0 || !strings.Contains(res.err, "loopback") {
		t.Fatalf("post = %+v, want a refusal naming loopback, not retried", res)
	}
	if n := len(m.received()); n != 0 {
		t.Fatalf("the loopback server got %d POSTs, want 0", n)
	}
	cfg.client = newClient(netguard.Policy{AllowPrivate: true})
	if res := (&queue{}).post(context.Background(), cfg, m.URL+"/hook", secret, &record{MessageID: "evt_y", Type: "order.paid"}, []byte(`{}`), 1); res.err != "" {
		t.Fatalf("allowed: post = %+v", res)
	}
}

// TestDeliveriesRememberedAcrossRestart: a finished delivery is still known
// to the next plugin process, so Kassa's repeat of the message answers its
// status and never POSTs again.
func TestDeliveriesRememberedAcrossRestart(t *testing.T) {
	t.Parallel()
	m := newMerchant(t, nil)
	dir := t.TempDir()
	cfg := config("", "erp", m.URL, `["*"]`)
	msg := notify.Message{ID: "evt_remembered", TemplateID: "order.paid", Data: data("#5001")}
	p := plugintest.Start(t, plugintest.StartConfig{Binary: binary, PluginID: ID, DataDir: dir})
	if res, err := p.Plugin().Configure(loopbackAllowed, cfg); err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res.Errors, err)
	}
	first, _ := p.Channel()
	d, err := first.Send(context.Background(), msg)
	if err != nil || d.Status != notify.DeliverySent {
		t.Fatalf("Send = %+v %v, want SENT", d, err)
	}
	p.Kill()
	again, err := start(t, cfg, dir).Send(context.Background(), msg)
	if err != nil || again.Status != notify.DeliverySent || again.ID != d.ID {
		t.Errorf("Send after restart = %+v %v, want SENT %s", again, err, d.ID)
	}
	if n := len(m.received()); n != 1 {
		t.Errorf("%d POSTs, want 1", n)
	}
}

// TestLegacyStateFolded: the whole-state file of earlier builds is read
// into the journal once and removed; deliveries finished longer ago than
// the retention are forgotten, the others kept.
func TestLegacyStateFolded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now().UTC()
	old := map[string]*record{
		"evt_pending": {MessageID: "evt_pending", DeliveryID: deliveryID("evt_pending"), Type: "order.paid", CreatedAt: now.Add(-time.Minute),
			Body: json.RawMessage(`{"id":"evt_pending"}`), Targets: []*target{{Endpoint: "erp", State: statePending, Attempts: 1, NextAt: now}}},
		"evt_recent": {MessageID: "evt_recent", DeliveryID: deliveryID("evt_recent"), Type: "order.paid", CreatedAt: now.Add(-48 * time.Hour),
			Targets: []*target{{Endpoint: "erp", State: stateSent, Attempts: 1, DoneAt: now.Add(-48 * time.Hour)}}},
		"evt_old": {MessageID: "evt_old", DeliveryID: deliveryID("evt_old"), Type: "order.paid", CreatedAt: now.Add(-9 * 24 * time.Hour),
			Targets: []*target{{Endpoint: "erp", State: stateFailed, Attempts: 2, Code: CodeRetriesExhausted, DoneAt: now.Add(-8 * 24 * time.Hour)}}},
	}
	b, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, legacyStateFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	for round := range 2 { // the legacy file, then the journal alone
		q, err := openQueue(dir, func() *settings { return nil }, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, legacyStateFile)); !os.IsNotExist(err) {
			t.Errorf("round %d: legacy file still there: %v", round, err)
		}
		var ids []string
		for id := range q.records {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if d := cmp.Diff([]string{"evt_pending", "evt_recent"}, ids); d != "" {
			t.Errorf("round %d: deliveries (-want +got):\n%s", round, d)
		}
		if r := q.records["evt_pending"]; r == nil || string(r.Body) != `{"id":"evt_pending"}` || r.Targets[0].Attempts != 1 || r.Targets[0].State != statePending {
			t.Errorf("round %d: pending delivery %+v", round, r)
		}
		if err := q.journal.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSettingsInChinese: the admin in Chinese shows every setting's title
// and description in Chinese, none in English.
func TestSettingsInChinese(t *testing.T) { plugintest.CheckTranslated(t, schema.String(), "zh-CN") }
