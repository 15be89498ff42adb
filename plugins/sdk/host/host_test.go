package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/host"
	"github.com/kassahq/kassa/plugins/sdk/invoice"
	"github.com/kassahq/kassa/plugins/sdk/notify"
	"github.com/kassahq/kassa/plugins/sdk/payment"
	"github.com/kassahq/kassa/plugins/sdk/plugintest"
)

// Test plugins, built once in TestMain.
var bins = map[string]string{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kassa-host-test")
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"payment", "invoice", "notify"} {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			panic(err)
		}
		bin, err := plugintest.BuildBinary("../internal/testplugin/"+name, d)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		bins[name] = bin
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func sha(t *testing.T, path string) string {
	t.Helper()
	s, err := host.FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// logBuffer is a concurrency-safe buffer for a JSON slog handler.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func start(t *testing.T, kind string, mod func(*host.Config)) *host.Plugin {
	t.Helper()
	cfg := host.Config{Path: bins[kind], SHA256: sha(t, bins[kind]), PluginID: kind + ".hosttest"}
	if mod != nil {
		mod(&cfg)
	}
	p, err := host.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(p.Kill)
	return p
}

func TestStartDescribeConfigureAndLogs(t *testing.T) {
	var logs logBuffer
	p := start(t, "payment", func(c *host.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	info, err := p.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Info{
		ID: "payment.hosttest", Kind: sdk.KindPayment, Version: "1.0.0", ProtocolVersion: 1, DisplayName: "Host test",
		Capabilities: []string{payment.CapActionRedirect, payment.CapHTTP},
		ConfigSchema: `{"type":"object","additionalProperties":false,"properties":{"secret":{"type":"string","writeOnly":true}}}`,
		SDKVersion:   sdk.Version,
		DisplayNames: map[string]string{"zh-CN": "主机测试"}, Descriptions: map[string]string{"zh-CN": "主机的测试插件"},
	}
	if d := cmp.Diff(want, info); d != "" {
		t.Errorf("Describe (-want +got):\n%s", d)
	}
	if err := info.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if p.ProtocolVersion() != 1 || p.PID() <= 0 {
		t.Errorf("ProtocolVersion %d PID %d", p.ProtocolVersion(), p.PID())
	}
	res, err := p.Plugin().Configure(ctx, json.RawMessage(`{"secret":"x"}`))
	if err != nil || !res.OK() {
		t.Fatalf("Configure: %v %v", res, err)
	}
	h, err := p.Plugin().Health(ctx)
	if err != nil || h.Status != sdk.HealthServing {
		t.Fatalf("Health: %v %v", h, err)
	}
	// The plugin's slog line reaches the host's logger with its attributes
	// and the plugin id.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "describe called") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, "describe called") {
			continue
		}
		found = true
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["plugin"] != "payment.hosttest" || rec["level"] != "INFO" || rec["answer"] != float64(42) {
			t.Errorf("plugin log line = %v, want plugin=payment.hosttest level=INFO answer=42", rec)
		}
	}
	if !found {
		t.Errorf("plugin log line not forwarded; host log:\n%s", logs.String())
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Count(line, `"plugin":`) > 1 {
			t.Errorf("log line names two plugins (go-plugin's path must be \"path\"): %s", line)
		}
	}
}

// TestSecretsMasked: a plugin that logs its settings, or quotes its
// secret in a message, does not put the secret in the host's log: the
// host masks the values of the schema's writeOnly settings in the
// plugin's log lines (message and attributes, nested ones too), and
// Redact masks them in text the plugin returns.
func TestSecretsMasked(t *testing.T) {
	const secret = "sk_test_0123456789abcdef"
	var logs logBuffer
	p := start(t, "payment", func(c *host.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	// Configure before any Describe: the host asks for the schema itself.
	res, err := p.Plugin().Configure(ctx, json.RawMessage(`{"secret":"`+secret+`"}`))
	if err != nil || !res.OK() {
		t.Fatalf("Configure: %v %v", res, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"configure`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"configure [secret]"`) || !strings.Contains(out, `{\"secret\":\"[secret]\"}`) ||
		!strings.Contains(out, `"nested":{"list":["[secret]"]}`) {
		t.Errorf("the configure line is not masked as expected:\n%s", out)
	}
	if strings.Contains(out, secret) || strings.Contains(out, secret[:12]) {
		t.Errorf("the secret reached the host's log:\n%s", out)
	}
	h, err := p.Plugin().Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Redact(h.Message); got != "signing with [secret]" {
		t.Errorf("Redact(%q) = %q", h.Message, got)
	}
	if got := p.Redact("nothing secret here"); got != "nothing secret here" {
		t.Errorf("Redact changed plain text: %q", got)
	}
}

func TestGatewayRoundTrip(t *testing.T) {
	p := start(t, "payment", nil)
	gw, err := p.Gateway()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	got, err := gw.CreatePayment(ctx, payment.CreateRequest{
		AttemptID: "pay_1", OrderID: "ord_1", OrderNumber: "#1001", Amount: sdk.Money{Amount: 1999, Currency: "EUR"},
		Locale: "zh-CN", IdempotencyKey: "idem_1", PluginBaseURL: "https://shop.test/plugins/payment.hosttest",
		Metadata: map[string]string{"store": "s1"}, ExpiresAt: exp, CaptureMethod: payment.CaptureManual,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := payment.CreateResult{
		Status: payment.StatusRequiresAction, GatewayRef: "gw_pay_1",
		Action: payment.Action{
			Type: payment.ActionRedirect, URL: "https://shop.test/plugins/payment.hosttest/pay/pay_1",
			ExpiresAt: exp, Details: map[string]string{"store": "s1"},
		},
		MerchantMessage: "idem_1|#1001|zh-CN", Amount: sdk.Money{Amount: 1999, Currency: "EUR"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("CreatePayment (-want +got):\n%s", d)
	}

	decl, err := gw.CreatePayment(ctx, payment.CreateRequest{AttemptID: "pay_2", PaymentMethod: "decline"})
	if err != nil {
		t.Fatalf("a decline must be data, got error %v", err)
	}
	if decl.Status != payment.StatusFailed || decl.DeclineCode != payment.DeclineCardDeclined {
		t.Errorf("decline = %+v", decl)
	}

	st, err := gw.GetPayment(ctx, payment.GetRequest{AttemptID: "nope"})
	if err != nil || st.Status != payment.StatusNotFound {
		t.Errorf("GetPayment = %+v, %v; want NOT_FOUND", st, err)
	}

	// Optional methods the plugin does not implement map to ErrUnimplemented.
	for name, call := range map[string]func() error{
		"ListTransactions": func() error { _, err := gw.ListTransactions(ctx, payment.ListTransactionsRequest{}); return err },
		"Refund":           func() error { _, err := gw.Refund(ctx, payment.RefundRequest{}); return err },
		"HandleWebhook":    func() error { _, err := gw.HandleWebhook(ctx, payment.WebhookRequest{}); return err },
	} {
		if err := call(); !errors.Is(err, sdk.ErrUnimplemented) {
			t.Errorf("%s: err = %v, want ErrUnimplemented", name, err)
		}
	}
}

func TestEnvironmentIsolation(t *testing.T) {
	t.Setenv("KASSA_TEST_HOST_SECRET", "must-not-leak")
	dataDir := filepath.Join(t.TempDir(), "data", "payment.hosttest")
	p := start(t, "payment", func(c *host.Config) {
		c.DataDir = dataDir
		c.Env = []string{"KASSA_TEST_EXTRA=yes"}
	})
	res, err := p.Plugin().HandleHTTP(context.Background(), sdk.HTTPRequest{Method: "GET", Path: "/env"})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]string
	if err := json.Unmarshal(res.Body, &env); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		sdk.EnvDataDir: dataDir, sdk.EnvPluginID: "payment.hosttest",
		"KASSA_TEST_HOST_SECRET": "", "KASSA_TEST_EXTRA": "yes",
	}
	if d := cmp.Diff(want, env); d != "" {
		t.Errorf("plugin environment (-want +got):\n%s", d)
	}
	if res.Header.Get("X-Path") != "/env" || res.StatusCode() != 200 {
		t.Errorf("HandleHTTP response = %+v", res)
	}
	if fi, err := os.Stat(dataDir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir not created 0700: %v %v", fi, err)
	}
}

func TestTamperedBinaryRefused(t *testing.T) {
	src, err := os.ReadFile(bins["payment"])
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "payment")
	if err := os.WriteFile(path, src, 0o755); err != nil {
		t.Fatal(err)
	}
	pinned := sha(t, path)
	// Replace the binary after it was pinned.
	if err := os.WriteFile(path, append(src, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = host.Start(context.Background(), host.Config{Path: path, SHA256: pinned, PluginID: "payment.hosttest"})
	if !errors.Is(err, host.ErrChecksumMismatch) {
		t.Fatalf("err = %v, want ErrChecksumMismatch", err)
	}
	if !strings.Contains(err.Error(), pinned) {
		t.Errorf("error %q should name the pinned checksum", err)
	}
}

func TestBadPathsRefused(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	if err := os.Symlink(bins["payment"], link); err != nil {
		t.Fatal(err)
	}
	good := sha(t, bins["payment"])
	for name, cfg := range map[string]host.Config{
		"symlink":   {Path: link, SHA256: good},
		"directory": {Path: dir, SHA256: good},
		"missing":   {Path: filepath.Join(dir, "nope"), SHA256: good},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := host.Start(context.Background(), cfg); !errors.Is(err, host.ErrNotRegularFile) {
				t.Errorf("err = %v, want ErrNotRegularFile", err)
			}
		})
	}
	if _, err := host.Start(context.Background(), host.Config{Path: bins["payment"], SHA256: "abc"}); err == nil {
		t.Error("a malformed pinned checksum must be refused")
	}
}

func TestNotAPluginFailsToStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho hello\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := host.Start(context.Background(), host.Config{Path: path, SHA256: sha(t, path), StartTimeout: 3 * time.Second})
	if !errors.Is(err, host.ErrStart) {
		t.Fatalf("err = %v, want ErrStart", err)
	}
}

func TestKill9MidCall(t *testing.T) {
	p := start(t, "payment", nil)
	gw, _ := p.Gateway()
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := gw.CreatePayment(ctx, payment.CreateRequest{AttemptID: "pay_k", PaymentMethod: "hang"})
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond) // let the call reach the plugin
	if err := syscall.Kill(p.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, sdk.ErrUnavailable) {
			t.Errorf("call during kill -9: err = %v, want ErrUnavailable", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("call did not fail after the plugin was killed")
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the process died")
	}
	if !p.Exited() {
		t.Error("Exited() = false after kill -9")
	}
	if _, err := gw.GetPayment(context.Background(), payment.GetRequest{}); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("call after death: err = %v, want ErrUnavailable", err)
	}
	// A new process (what the supervisor does) works again.
	p2 := start(t, "payment", nil)
	gw2, _ := p2.Gateway()
	if _, err := gw2.GetPayment(context.Background(), payment.GetRequest{}); err != nil {
		t.Errorf("restarted plugin: %v", err)
	}
}

func TestCrashMidCall(t *testing.T) {
	p := start(t, "payment", nil)
	gw, _ := p.Gateway()
	_, err := gw.CreatePayment(context.Background(), payment.CreateRequest{PaymentMethod: "crash"})
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
}

func TestDeadlines(t *testing.T) {
	t.Run("caller deadline", func(t *testing.T) {
		p := start(t, "payment", nil)
		gw, _ := p.Gateway()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		begin := time.Now()
		_, err := gw.CreatePayment(ctx, payment.CreateRequest{PaymentMethod: "hang"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(begin); d > 2*time.Second {
			t.Errorf("hung call returned after %v", d)
		}
	})
	t.Run("default call timeout", func(t *testing.T) {
		p := start(t, "payment", func(c *host.Config) { c.CallTimeout = 300 * time.Millisecond })
		gw, _ := p.Gateway()
		begin := time.Now()
		_, err := gw.CreatePayment(context.Background(), payment.CreateRequest{PaymentMethod: "hang"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(begin); d > 2*time.Second {
			t.Errorf("hung call returned after %v", d)
		}
	})
}

func TestInvoiceSequenceOverBroker(t *testing.T) {
	p := start(t, "invoice", nil)
	rule, err := p.Rule()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var mu sync.Mutex
	next := map[string]int64{}
	byKey := map[string]int64{}
	var seq invoice.Sequence = invoice.SequenceFunc(func(_ context.Context, name, key string) (int64, error) {
		mu.Lock()
		defer mu.Unlock()
		if v, ok := byKey[key]; ok && key != "" {
			return v, nil
		}
		next[name]++
		byKey[key] = next[name]
		return next[name], nil
	})
	order := invoice.Order{Number: "#1001", Lines: []invoice.OrderLine{{Name: "Tea", Quantity: 2}},
		Totals: invoice.Totals{Total: sdk.Money{Amount: 1200, Currency: "EUR"}}}
	for i, tc := range []struct{ key, want string }{
		{"inv_a", "INV-0001"}, {"inv_b", "INV-0002"}, {"inv_a", "INV-0001"},
	} {
		doc, err := rule.IssueInvoice(ctx, invoice.IssueRequest{Order: order, Buyer: invoice.Party{Name: "Ada"}, IdempotencyKey: tc.key}, seq)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if doc.Number != tc.want {
			t.Errorf("call %d (key %s): number %q, want %q", i, tc.key, doc.Number, tc.want)
		}
		if want := tc.want + " for #1001 (Ada) lines=1 total=1200 EUR"; string(doc.Content) != want {
			t.Errorf("document = %q, want %q", doc.Content, want)
		}
	}
	doc, err := rule.IssueInvoice(ctx, invoice.IssueRequest{Order: order}, nil)
	if err != nil || len(doc.Problems) != 1 || doc.Problems[0].Code != "no_sequence" {
		t.Errorf("without sequence: %+v %v, want problem no_sequence", doc, err)
	}
	d, err := rule.Evaluate(ctx, invoice.Event{Type: "order.paid"})
	if err != nil || !d.Issue {
		t.Errorf("Evaluate = %+v %v", d, err)
	}
	if _, err := rule.VoidInvoice(ctx, invoice.VoidRequest{}); !errors.Is(err, sdk.ErrUnimplemented) {
		t.Errorf("VoidInvoice err = %v, want ErrUnimplemented", err)
	}
}

func TestNotifyChannel(t *testing.T) {
	p := start(t, "notify", nil)
	ch, err := p.Channel()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := ch.Send(ctx, notify.Message{ID: "msg_1", TemplateID: notify.TemplateOrderPlaced, Locale: "en",
		Recipient: notify.Recipient{Email: "a@example.com"}, Data: json.RawMessage(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != notify.DeliverySent || d.ID != `msg_1/order.placed/en/{"n":1}` {
		t.Errorf("Send = %+v", d)
	}
	d, err = ch.Send(ctx, notify.Message{ID: "msg_2"})
	if err != nil || d.Status != notify.DeliveryFailed || d.ErrorCode != "recipient_missing" {
		t.Errorf("failed delivery must be data: %+v %v", d, err)
	}
}
