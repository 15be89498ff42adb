package app

import (
	"bytes"
	"context"
	"fmt"
	stdio "io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/config"
	"github.com/kassahq/kassa/core/money"
	"github.com/kassahq/kassa/core/payment"
	"github.com/kassahq/kassa/core/plugin"
	"github.com/kassahq/kassa/core/secret"
)

const pluginTriggerUsage = `Usage: kassa plugin trigger EVENT --payment pay_... [--plugin ID] [--amount N]
                            [--refund ref_...] [--decline-code CODE] [--shop-url URL] [flags]

Asks the payment plugin for a notification announcing EVENT about the attempt,
signed exactly as its gateway signs them (the plugin must declare
webhook.simulate and be in its sandbox mode), posts it to the running shop's
/webhooks/{plugin id}, and prints the shop's answer and the payment's state
afterwards. The whole webhook path runs: verification, apply once, answer.

EVENT is one of: ` + "payment.authorized, payment.succeeded, payment.failed, payment.canceled,\npayment.requires_action, refund.succeeded, refund.failed, dispute.opened, dispute.closed" + `

--amount is in minor units (default: the attempt's amount, or the refund's).
The shop is reached at --shop-url (default: the configured public URL, or
http://--http-addr), with the database of --data-dir.
`

// runPluginTrigger is `kassa plugin trigger`: the `stripe trigger` idea for
// every gateway that can simulate its notifications. It reads the attempt
// through the payment service (offline, beside the running server, as the
// other plugin commands do) and asks its own copy of the plugin process to
// sign: the shop's process then verifies the notification like any other.
func runPluginTrigger(ctx context.Context, args []string, io IO) error {
	fs, load := flagSet("plugin trigger", io, pluginTriggerUsage,
		append(slices.Clone(pluginSettings), "http-addr", "public-url")...)
	pluginID := fs.String("plugin", "", "the payment plugin's id (default: the attempt's gateway)")
	attemptID := fs.String("payment", "", "the payment attempt's id, pay_...")
	amount := fs.Int64("amount", 0, "the amount announced, in minor units (default: the attempt's or the refund's)")
	refundID := fs.String("refund", "", "the refund's id, ref_... (refund events)")
	decline := fs.String("decline-code", "", "the decline code of a payment.failed event")
	shopURL := fs.String("shop-url", "", "the running shop's base URL (default: the configured public URL)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: plugin trigger takes one event type", errUsage)
	}
	event := pos[0]
	if !slices.Contains(plugin.SimulatedEventTypes(), event) {
		return fmt.Errorf("%w: unknown event %q; one of %s", errUsage, event, strings.Join(plugin.SimulatedEventTypes(), ", "))
	}
	if *attemptID == "" {
		return fmt.Errorf("%w: name the payment attempt with --payment pay_...", errUsage)
	}
	if strings.HasPrefix(event, "refund.") && *refundID == "" {
		return fmt.Errorf("%w: a %s notification names the refund with --refund ref_...", errUsage, event)
	}
	if *amount < 0 {
		return fmt.Errorf("%w: --amount must be positive", errUsage)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if cfg.LogLevel == "info" {
		cfg.LogLevel = "warn"
	}
	a, err := New(ctx, cfg, Options{LogOutput: io.Stderr, Offline: true})
	if err != nil {
		return err
	}
	defer a.Close(context.Background()) //nolint:errcheck // nothing to flush offline
	ctx = authz.WithSubject(ctx, authz.SystemSubject("cli"))

	att, err := a.Payments.Attempt(ctx, *attemptID, "")
	if err != nil {
		return cliErr(err)
	}
	if *pluginID == "" {
		*pluginID = att.GatewayID
	}
	if *pluginID != att.GatewayID {
		return fmt.Errorf("payment %s was made with %s, not %s", att.ID, att.GatewayID, *pluginID)
	}
	req := plugin.WebhookSimulation{Type: event, AttemptID: att.ID, GatewayRef: att.GatewayRef,
		Amount: money.New(att.AmountMinor, att.Currency), DeclineCode: *decline}
	if *refundID != "" {
		ref, err := findRefund(ctx, a.Payments, att, *refundID)
		if err != nil {
			return err
		}
		req.RefundID, req.GatewayRefundRef, req.Amount = ref.ID, ref.GatewayRefundRef, money.New(ref.AmountMinor, ref.Currency)
	}
	if *amount > 0 {
		req.Amount = money.New(*amount, req.Amount.Currency())
	}

	sim, err := simulatingPlugins(cfg, a)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sim.svc.Close(cctx)
		os.RemoveAll(sim.dataDir)
	}()
	w, err := sim.svc.SimulateWebhook(ctx, *pluginID, req)
	if err != nil {
		return cliErr(err)
	}

	base := strings.TrimSuffix(orDefault(*shopURL, cfg.BaseURL()), "/")
	target := base + "/webhooks/" + *pluginID + w.Path
	if w.Query != "" {
		target += "?" + w.Query
	}
	fmt.Fprintf(io.Stdout, "%s signed a %s notification for %s (%s)\n%s %s\n", *pluginID, event, att.ID, req.Amount, w.Method, target)
	status, answer, err := post(ctx, w, target)
	if err != nil {
		return fmt.Errorf("the shop at %s did not answer: %w (is `kassa serve` or `kassa plugin dev` running there?)", base, err)
	}
	fmt.Fprintf(io.Stdout, "shop answered %s: %s\n", status, clip(answer, 500))

	after, err := a.Payments.Attempt(ctx, att.ID, "")
	if err != nil {
		return cliErr(err)
	}
	fmt.Fprintf(io.Stdout, "payment %s: %s -> %s (captured %d, refunded %d %s)\n",
		after.ID, att.State, after.State, after.Captured, after.Refunded, after.Currency.Code())
	if !strings.HasPrefix(status, "2") {
		return fmt.Errorf("the shop refused the notification (%s)", status)
	}
	return nil
}

func findRefund(ctx context.Context, payments *payment.Service, att *payment.Attempt, id string) (*payment.Refund, error) {
	refunds, err := payments.RefundsOf(ctx, []string{att.OrderID})
	if err != nil {
		return nil, cliErr(err)
	}
	for _, r := range refunds[att.OrderID] {
		if r.ID == id && r.AttemptID == att.ID {
			return r, nil
		}
	}
	return nil, fmt.Errorf("refund %s of payment %s not found", id, att.ID)
}

// simulation is the trigger's own plugin host.
type simulation struct {
	svc     *plugin.Service
	dataDir string
}

// simulatingPlugins returns a plugin host over the shop's catalog and
// settings whose plugins get a scratch data directory: the plugin process
// the trigger starts only signs, and must not share the state files of the
// process the shop runs (a sandbox that resumes its pending payments at
// start would settle them twice).
func simulatingPlugins(cfg config.Config, a *App) (*simulation, error) {
	box, err := secret.Load(cfg.SecretKey, cfg.DataDir, a.Log)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kassa-trigger-")
	if err != nil {
		return nil, err
	}
	svc, err := plugin.NewService(a.DB, plugin.Options{
		Dir: cfg.Plugins(), DataDir: dir, BaseURL: cfg.BaseURL(), Secrets: box, Authz: a.Authz, Logger: a.Log,
		AllowPrivateNetworks: cfg.PluginAllowPrivateNetworks,
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &simulation{svc: svc, dataDir: dir}, nil
}

// post sends the simulated notification and returns the status line and
// the body of the answer.
func post(ctx context.Context, w plugin.SimulatedWebhook, target string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, w.Method, target, bytes.NewReader(w.Body))
	if err != nil {
		return "", "", err
	}
	for k, vs := range w.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer res.Body.Close()
	b, _ := stdio.ReadAll(stdio.LimitReader(res.Body, 64<<10))
	return res.Status, string(b), nil
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
