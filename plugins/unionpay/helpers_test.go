package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/unionpay/internal/sandbox"
)

// testMerID is UnionPay's public test merchant code.
const testMerID = "777290058110048"

// The merchant's signing key and certificate, generated once.
var (
	merchantKey  *rsa.PrivateKey
	merchantCert *x509.Certificate
)

func init() {
	var err error
	if merchantKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	now := time.Now()
	if merchantCert, err = sandbox.Issue("041@Z20260101@"+testMerID+"@00000001", &merchantKey.PublicKey, nil, merchantKey, false, now.Add(-time.Hour), now.AddDate(1, 0, 0)); err != nil {
		panic(err)
	}
}

// fastSchedule compresses the 1, 2, 4, 8, 16 minute schedule by 1:1200.
var fastSchedule = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}

func merchantKeyPEM() string {
	der, _ := x509.MarshalPKCS8PrivateKey(merchantKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func startSandbox(t testing.TB, opts sandbox.Options) *sandbox.Server {
	t.Helper()
	opts.MerID, opts.MerchantCert = testMerID, merchantCert
	if opts.Schedule == nil {
		opts.Schedule = fastSchedule
	}
	sb, err := sandbox.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return sb
}

// settingsFor configures the plugin for a sandbox with PEM credentials.
func settingsFor(sb *sandbox.Server, extra map[string]any) json.RawMessage {
	m := map[string]any{"mer_id": testMerID, "sign_key": merchantKeyPEM(), "sign_cert": sandbox.PEM(merchantCert),
		"root_cert": sb.RootPEM(), "middle_cert": sb.MiddlePEM(), "gateway_url": sb.URL()}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return b
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
var formAction = regexp.MustCompile(`<form id="unionpay" method="post" action="([^"]+)"`)

// postPage reads the plugin's pay page and posts its form as a browser
// would; it returns the posted fields and the cashier's answer.
func postPage(ctx context.Context, page sdk.HTTPResponse) (url.Values, string, error) {
	if page.StatusCode() != http.StatusOK {
		return nil, "", fmt.Errorf("pay page: %d %s", page.StatusCode(), page.Body)
	}
	m := formAction.FindSubmatch(page.Body)
	if m == nil {
		return nil, "", fmt.Errorf("pay page has no form: %s", page.Body)
	}
	form := url.Values{}
	for _, f := range hiddenInput.FindAllSubmatch(page.Body, -1) {
		form.Set(html.UnescapeString(string(f[1])), html.UnescapeString(string(f[2])))
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, html.UnescapeString(string(m[1])), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return form, string(b), fmt.Errorf("cashier: %d %s", res.StatusCode, b)
	}
	return form, string(b), nil
}

// shop plays Kassa for in-process tests: the gateway, its pages, and a
// webhook route that hands deliveries to HandleWebhook and records the
// events, applied once by id as Kassa does.
type shop struct {
	gw     *Gateway
	sb     *sandbox.Server
	srv    *httptest.Server
	mu     sync.Mutex
	events map[string]payment.Event
	order  []string // event ids in the order they were applied
	seen   int
	fail   atomic.Int32 // answer 500 to this many deliveries first
}

const pluginBase = "https://shop.example/plugins/payment.unionpay"

func newShop(t *testing.T, opts sandbox.Options) *shop {
	t.Helper()
	s := &shop{sb: startSandbox(t, opts), events: map[string]payment.Event{}}
	gw, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.gw = gw
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if s.fail.Add(-1) >= 0 {
			http.Error(w, "commit failed", http.StatusInternalServerError)
			return
		}
		res, err := s.gw.HandleWebhook(r.Context(), payment.WebhookRequest{Method: r.Method, Header: r.Header, Body: body, ReceivedAt: time.Now()})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.mu.Lock()
		s.seen++
		for _, ev := range res.Events {
			if _, dup := s.events[ev.ID]; !dup {
				s.events[ev.ID] = ev
				s.order = append(s.order, ev.ID)
			}
		}
		s.mu.Unlock()
		w.WriteHeader(res.Response.StatusCode())
		_, _ = w.Write(res.Response.Body)
	}))
	t.Cleanup(s.srv.Close)
	s.configure(t, settingsFor(s.sb, nil))
	return s
}

func (s *shop) configure(t *testing.T, raw json.RawMessage) {
	t.Helper()
	res, err := s.gw.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), raw)
	if err != nil || !res.OK() {
		t.Fatalf("Configure: %+v %v", res, err)
	}
}

func (s *shop) create(t *testing.T, id string, fen int64) payment.CreateResult {
	t.Helper()
	res, err := s.gw.CreatePayment(context.Background(), payment.CreateRequest{AttemptID: id, Amount: sdk.Money{Amount: fen, Currency: "CNY"},
		NotifyURL: s.srv.URL + "/webhooks/payment.unionpay", ReturnURL: "https://shop.example/return/" + id, PluginBaseURL: pluginBase, Locale: "zh-CN"})
	if err != nil || res.Status != payment.StatusRequiresAction || res.Action.Type != payment.ActionRedirect {
		t.Fatalf("CreatePayment: %+v %v", res, err)
	}
	return res
}

// open plays the buyer's browser: the plugin's pay page, then its form
// posted to the sandbox's cashier. It returns the posted fields.
func (s *shop) open(t *testing.T, res payment.CreateResult) url.Values {
	t.Helper()
	page, err := s.gw.HandleHTTP(context.Background(), pageRequest(res.Action.URL))
	if err != nil {
		t.Fatal(err)
	}
	form, _, err := postPage(context.Background(), page)
	if err != nil {
		t.Fatal(err)
	}
	return form
}

func pageRequest(u string) sdk.HTTPRequest {
	path, query, _ := strings.Cut(strings.TrimPrefix(u, pluginBase), "?")
	return sdk.HTTPRequest{Method: http.MethodGet, Path: path, Query: query, Header: http.Header{}, BaseURL: pluginBase}
}

func (s *shop) eventsOf(attempt, typ string) []payment.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []payment.Event
	for _, id := range s.order {
		if ev := s.events[id]; ev.AttemptID == attempt && ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
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
