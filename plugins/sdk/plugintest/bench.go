package plugintest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// BenchConfig configures [BenchGateway].
type BenchConfig struct {
	// Binary, Config, Env and AllowPrivateNetworks are as in GatewayConfig.
	Binary               string
	Config               json.RawMessage
	Env                  []string
	AllowPrivateNetworks bool
	// Request is the CreatePayment input measured; the kit fills the ids,
	// URLs and, when zero, Amount (Currency, default EUR; 1999 minor units).
	Request  payment.CreateRequest
	Currency string
	// Webhook signs the payment.succeeded notification of each created
	// payment; nil measures CreatePayment only.
	Webhook *WebhookKit
}

// BenchGateway measures a gateway plugin as Kassa uses it: b.N
// CreatePayment calls (a new attempt each, through the plugin process and
// its gateway, a sandbox in tests) and, with a Webhook kit, b.N
// HandleWebhook calls with a signed notification of each; then the
// plugin's resident memory. It reports the 50th and 99th percentile of
// each call in milliseconds (create-p50-ms, create-p99-ms, webhook-p50-ms,
// webhook-p99-ms) and rss-MiB, so `go test -bench` prints them beside ns/op.
// Every call must succeed: a benchmark of failures measures nothing.
func BenchGateway(b *testing.B, cfg BenchConfig) {
	b.Helper()
	if cfg.Currency == "" {
		cfg.Currency = "EUR"
	}
	// The plugin's log lines would be timed too: only warnings are kept.
	p := Start(b, StartConfig{Binary: cfg.Binary, Env: cfg.Env, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	ctx := context.Background()
	res, err := p.Plugin().Configure(sdk.WithAllowPrivateNetworks(ctx, cfg.AllowPrivateNetworks), cfg.Config)
	if err != nil || !res.OK() {
		b.Fatalf("plugintest: Configure = %+v, %v", res.Errors, err)
	}
	gw, err := p.Gateway()
	if err != nil {
		b.Fatalf("plugintest: %v", err)
	}
	run := make([]byte, 4)
	_, _ = rand.Read(run)
	prefix := hex.EncodeToString(run)

	creates := make([]time.Duration, 0, b.N)
	hooks := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := cfg.Request
		req.AttemptID = fmt.Sprintf("pay_bench%s%d", prefix, i)
		req.OrderID, req.OrderNumber = fmt.Sprintf("ord_bench%s%d", prefix, i), fmt.Sprintf("#B%d", i)
		req.IdempotencyKey = req.AttemptID
		req.ReturnURL = "https://kassa.plugintest.invalid/orders/" + req.OrderID
		req.NotifyURL = "https://kassa.plugintest.invalid/webhooks/plugin"
		req.PluginBaseURL = "https://kassa.plugintest.invalid/plugins/plugin"
		if req.Amount.Amount == 0 {
			req.Amount = sdk.Money{Amount: 1999, Currency: cfg.Currency}
		}
		start := time.Now()
		out, err := gw.CreatePayment(ctx, req)
		creates = append(creates, time.Since(start))
		if err != nil || out.Status == payment.StatusFailed {
			b.Fatalf("plugintest: CreatePayment %d: %+v, %v", i, out, err)
		}
		if cfg.Webhook == nil {
			continue
		}
		at := time.Now().UTC().Truncate(time.Second)
		ev := payment.Event{ID: fmt.Sprintf("evt_bench%s%d", prefix, i), Type: payment.EventPaymentSucceeded,
			AttemptID: req.AttemptID, GatewayRef: out.GatewayRef, Amount: req.Amount, OccurredAt: at}
		h, body, err := cfg.Webhook.Sign(ev, at)
		if err != nil {
			b.Fatalf("plugintest: sign: %v", err)
		}
		start = time.Now()
		wr, err := gw.HandleWebhook(ctx, payment.WebhookRequest{Method: http.MethodPost, Header: h, Body: body, ReceivedAt: at})
		hooks = append(hooks, time.Since(start))
		if err != nil || wr.Rejection != nil || len(wr.Events) == 0 {
			b.Fatalf("plugintest: HandleWebhook %d: %+v, %v", i, wr, err)
		}
	}
	b.StopTimer()
	report := func(name string, d []time.Duration) {
		if len(d) == 0 {
			return
		}
		slices.Sort(d)
		b.ReportMetric(ms(d[len(d)/2]), name+"-p50-ms")
		b.ReportMetric(ms(d[min(len(d)-1, len(d)*99/100)]), name+"-p99-ms")
	}
	report("create", creates)
	report("webhook", hooks)
	if kib, ok := rssKiB(p.PID()); ok {
		b.ReportMetric(float64(kib)/1024, "rss-MiB")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// rssKiB reads a process's resident set (VmRSS) from /proc; false where
// there is no /proc.
func rssKiB(pid int) (int64, bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
