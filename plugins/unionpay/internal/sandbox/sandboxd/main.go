// Command sandboxd runs the UnionPay sandbox as a process of its own, so
// that a whole Kassa (e2e tests, a developer's shop) can take payments
// from it with the plugin installed as a shop owner would install it.
//
// It generates the merchant's signing key and certificate (the sandbox
// generates UnionPay's certificate authority), listens on 127.0.0.1, and
// prints one JSON line on stdout:
//
//	{"settings": {...the plugin's settings for this sandbox...}, "control": "http://127.0.0.1:N"}
//
// The buyer posts the plugin's pay page to the sandbox's cashier as a
// browser does; then the control address plays the buyer paying: POST
// /pay?attempt=pay_... pays the consumption of that Kassa attempt, POST
// /renotify?attempt=pay_... sends its notification again. It stops on
// SIGINT, SIGTERM or when stdin closes.
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

	"github.com/kassahq/kassa/plugins/unionpay/internal/sandbox"
)

func main() {
	retryScale := flag.Float64("retry-scale", 60, "divide UnionPay's notification retry schedule by this")
	flag.Parse()
	if err := run(*retryScale); err != nil {
		fmt.Fprintln(os.Stderr, "sandboxd:", err)
		os.Exit(1)
	}
}

func run(retryScale float64) error {
	const merID = "777290058110048"
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	now := time.Now()
	cert, err := sandbox.Issue("041@Z20260101@"+merID+"@00000001", &key.PublicKey, nil, key, false, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	if err != nil {
		return err
	}
	schedule := make([]time.Duration, len(sandbox.Schedule))
	for i, d := range sandbox.Schedule {
		schedule[i] = time.Duration(float64(d) / retryScale)
	}
	sb, err := sandbox.Start(sandbox.Options{MerID: merID, MerchantCert: cert, Schedule: schedule})
	if err != nil {
		return err
	}
	defer sb.Close()

	mux := http.NewServeMux()
	buyer := func(do func(string) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			id := sb.ByReserved(r.URL.Query().Get("attempt"))
			if id == "" {
				http.Error(w, "no consumption for this attempt: post the plugin's pay page to the cashier first", http.StatusNotFound)
				return
			}
			if err := do(id); err != nil {
				http.Error(w, err.Error(), http.StatusConflict)
				return
			}
			fmt.Fprintln(w, "ok")
		}
	}
	mux.HandleFunc("POST /pay", buyer(func(id string) error { return sb.Pay(id, "00") }))
	mux.HandleFunc("POST /renotify", buyer(sb.Renotify))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	line, err := json.Marshal(map[string]any{
		"settings": map[string]any{
			"mer_id": merID, "sign_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
			"sign_cert": sandbox.PEM(cert), "root_cert": sb.RootPEM(), "middle_cert": sb.MiddlePEM(), "gateway_url": sb.URL(),
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
