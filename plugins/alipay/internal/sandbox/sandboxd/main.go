// Command sandboxd runs the Alipay sandbox as a process of its own, so
// that a whole Kassa (e2e tests, a developer's shop) can take payments
// from it with the plugin installed as a shop owner would install it.
//
// It generates the app's key pair (the sandbox generates Alipay's),
// listens on 127.0.0.1, and prints one JSON line on stdout:
//
//	{"settings": {...the plugin's settings for this sandbox...}, "control": "http://127.0.0.1:N"}
//
// The control address plays the buyer: POST /pay?attempt=pay_... pays the
// trade of that Kassa attempt (out_trade_no is the attempt id; use the
// alipay_qr method, whose trade exists before the buyer opens a page),
// POST /renotify?attempt=pay_... sends its notification again with the
// same notify_id. It stops on SIGINT, SIGTERM or when stdin closes.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kassahq/kassa/plugins/alipay/internal/sandbox"
)

func main() {
	retryScale := flag.Float64("retry-scale", 60, "divide Alipay's notification retry schedule by this")
	flag.Parse()
	if err := run(*retryScale); err != nil {
		fmt.Fprintln(os.Stderr, "sandboxd:", err)
		os.Exit(1)
	}
}

func run(retryScale float64) error {
	app, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	schedule := make([]time.Duration, len(sandbox.Schedule))
	for i, d := range sandbox.Schedule {
		schedule[i] = time.Duration(float64(d) / retryScale)
	}
	const appID = "2021000000000001"
	sb, err := sandbox.Start(sandbox.Options{AppID: appID, AppPublicKey: &app.PublicKey, Schedule: schedule})
	if err != nil {
		return err
	}
	defer sb.Close()

	mux := http.NewServeMux()
	buyer := func(do func(string) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := do(r.URL.Query().Get("attempt")); err != nil {
				http.Error(w, err.Error(), http.StatusConflict)
				return
			}
			fmt.Fprintln(w, "ok")
		}
	}
	mux.HandleFunc("POST /pay", buyer(sb.Pay))
	mux.HandleFunc("POST /renotify", buyer(sb.Renotify))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	pkcs8, _ := x509.MarshalPKCS8PrivateKey(app)
	line, err := json.Marshal(map[string]any{
		"settings": map[string]any{
			"app_id": appID, "gateway_url": sb.URL(), "alipay_public_key": sb.AlipayPublicKeyPEM(),
			"app_private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
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
