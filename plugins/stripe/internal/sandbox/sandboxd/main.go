// Command sandboxd runs the Stripe sandbox (a stateful fake of Stripe's
// API) as a process of its own, so that a whole Kassa (e2e tests, a
// developer's shop) can take payments from it with the plugin installed as
// a shop owner would install it.
//
// Stripe sends events to the webhook endpoint registered for the account:
// give it with --webhook-url (the shop's https://…/webhooks/payment.stripe).
// It listens on 127.0.0.1 and prints one JSON line on stdout:
//
//	{"settings": {...the plugin's settings for this sandbox...}, "control": "http://127.0.0.1:N"}
//
// The control address plays the buyer's Stripe.js: POST
// /pay?attempt=pay_... confirms the PaymentIntent of that Kassa attempt
// with the test card pm_card_visa. Every event is delivered twice, as
// Stripe may. It stops on SIGINT, SIGTERM or when stdin closes.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kassahq/kassa/plugins/stripe/internal/sandbox"
)

func main() {
	webhookURL := flag.String("webhook-url", "", "where the sandbox sends events (the shop's /webhooks/payment.stripe)")
	retryScale := flag.Float64("retry-scale", 60, "divide the webhook retry back-off by this")
	flag.Parse()
	if err := run(*webhookURL, *retryScale); err != nil {
		fmt.Fprintln(os.Stderr, "sandboxd:", err)
		os.Exit(1)
	}
}

func run(webhookURL string, retryScale float64) error {
	const secretKey, publishableKey, webhookSecret = "sk_test_51KassaSandboxd000000000000000", "pk_test_51KassaSandboxd000000000000000", "whsec_kassaSandboxdSigningSecret0000"
	schedule := make([]time.Duration, len(sandbox.Schedule))
	for i, d := range sandbox.Schedule {
		schedule[i] = time.Duration(float64(d) / retryScale)
	}
	sb, err := sandbox.Start(sandbox.Options{SecretKey: secretKey, WebhookSecrets: []string{webhookSecret}, WebhookURL: webhookURL,
		Schedule: schedule, Duplicate: true})
	if err != nil {
		return err
	}
	defer sb.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /pay", func(w http.ResponseWriter, r *http.Request) {
		pi := sb.IntentByMetadata("kassa_attempt_id", r.URL.Query().Get("attempt"))
		if pi == "" {
			http.Error(w, "no PaymentIntent for this attempt", http.StatusNotFound)
			return
		}
		if err := sb.Confirm(pi, "pm_card_visa"); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	line, err := json.Marshal(map[string]any{
		"settings": map[string]any{
			"secret_key": secretKey, "publishable_key": publishableKey, "webhook_secret": webhookSecret,
			"test_mode": true, "api_base_url": sb.URL(),
		},
		"control": "http://" + ln.Addr().String(),
	})
	if err != nil {
		return err
	}
	fmt.Println(string(line))
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	eof := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(eof) }()
	select {
	case <-stop:
	case <-eof:
	}
	return nil
}
