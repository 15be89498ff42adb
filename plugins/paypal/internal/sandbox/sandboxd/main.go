// Command sandboxd runs the PayPal sandbox as a process of its own, so
// that a whole Kassa (e2e tests, a developer's shop) can take payments
// from it with the plugin installed as a shop owner would install it.
//
// PayPal sends webhooks to the one URL registered for the app: give it
// with --webhook-url (the shop's https://…/webhooks/payment.paypal). It
// listens on 127.0.0.1 and prints one JSON line on stdout:
//
//	{"settings": {...the plugin's settings for this sandbox...}, "control": "http://127.0.0.1:N"}
//
// The control address plays the buyer: POST /pay?attempt=pay_... approves
// the PayPal order of that Kassa attempt (the plugin then captures it),
// POST /renotify?attempt=pay_... is refused: PayPal's repeats come from
// its retry schedule. It stops on SIGINT, SIGTERM or when stdin closes.
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

	"github.com/kassahq/kassa/plugins/paypal/internal/sandbox"
)

func main() {
	webhookURL := flag.String("webhook-url", "", "where the sandbox sends the app's webhooks (the shop's /webhooks/payment.paypal)")
	retryScale := flag.Float64("retry-scale", 60, "divide PayPal's webhook retry schedule by this")
	duplicate := flag.Bool("duplicate", true, "send every webhook transmission twice, as PayPal sometimes does")
	flag.Parse()
	if err := run(*webhookURL, *retryScale, *duplicate); err != nil {
		fmt.Fprintln(os.Stderr, "sandboxd:", err)
		os.Exit(1)
	}
}

func run(webhookURL string, retryScale float64, duplicate bool) error {
	const clientID, secret, webhookID = "AYSq3RDGsmBLJE-kassa-sandboxd", "EGnHDxD_kassa-sandboxd-secret", "8PT597110X687430LKGECATA"
	schedule := make([]time.Duration, len(sandbox.Schedule))
	for i, d := range sandbox.Schedule {
		schedule[i] = time.Duration(float64(d) / retryScale)
	}
	sb, err := sandbox.Start(sandbox.Options{ClientID: clientID, Secret: secret, WebhookID: webhookID, WebhookURL: webhookURL,
		Schedule: schedule, Duplicate: duplicate})
	if err != nil {
		return err
	}
	defer sb.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /pay", func(w http.ResponseWriter, r *http.Request) {
		id := sb.ByCustomID(r.URL.Query().Get("attempt"))
		if id == "" {
			http.Error(w, "no order for this attempt", http.StatusNotFound)
			return
		}
		if err := sb.Approve(id, sandbox.OutcomeCompleted); err != nil {
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
			"client_id": clientID, "client_secret": secret, "webhook_id": webhookID,
			"base_url": sb.URL(), "sandbox": true, "webhook_verification": "api",
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
