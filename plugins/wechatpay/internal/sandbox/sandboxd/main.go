// Command sandboxd runs the WeChat Pay sandbox as a process of its own, so
// that a whole Kassa (e2e tests, a developer's shop) can take payments
// from it with the plugin installed as a shop owner would install it.
//
// It generates the merchant's and WeChat Pay's keys, listens on 127.0.0.1,
// and prints one JSON line on stdout:
//
//	{"settings": {...the plugin's settings for this sandbox...}, "control": "http://127.0.0.1:N"}
//
// The control address plays the buyer: POST /pay?attempt=pay_... pays the
// order of that Kassa attempt (scanning the QR code), POST
// /renotify?attempt=pay_... sends its notification again with the same id.
// It stops on SIGINT, SIGTERM or when stdin closes.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kassahq/kassa/plugins/wechatpay/internal/sandbox"
)

func main() {
	retryScale := flag.Float64("retry-scale", 60, "divide WeChat Pay's notification retry schedule by this")
	flag.Parse()
	if err := run(*retryScale); err != nil {
		fmt.Fprintln(os.Stderr, "sandboxd:", err)
		os.Exit(1)
	}
}

func run(retryScale float64) error {
	merchant, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	platform, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	const mchID, appID, keyID = "1900000001", "wxd678efh567hg6787", "PUB_KEY_ID_0114232134912410000000000000000000"
	serial := strings.ToUpper(randomHex(20))
	apiV3Key := randomHex(16) // 32 characters, as WeChat Pay's APIv3 key
	sb := sandbox.New(sandbox.Options{MchID: mchID, AppID: appID, MerchantKey: &merchant.PublicKey, MerchantSerial: serial,
		PlatformKey: platform, PlatformKeyID: keyID, APIv3Key: []byte(apiV3Key), RetryScale: retryScale, RefundDelay: time.Second})
	defer sb.Close()

	mux := http.NewServeMux()
	buyer := func(do func(string) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			no := sb.ByAttach(r.URL.Query().Get("attempt"))
			if no == "" {
				http.Error(w, "no order for this attempt", http.StatusNotFound)
				return
			}
			if err := do(no); err != nil {
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

	pkcs8, _ := x509.MarshalPKCS8PrivateKey(merchant)
	pub, _ := x509.MarshalPKIXPublicKey(&platform.PublicKey)
	line, err := json.Marshal(map[string]any{
		"settings": map[string]any{
			"mchid": mchID, "appid": appID, "merchant_serial_no": serial, "apiv3_key": apiV3Key,
			"merchant_private_key":   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
			"platform_public_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
			"platform_public_key_id": keyID, "base_url": sb.URL(),
		},
		"control": "http://" + ln.Addr().String(),
	})
	if err != nil {
		return err
	}
	fmt.Println(string(line))
	waitForStop()
	return nil
}

// waitForStop returns on SIGINT, SIGTERM or the end of stdin (the parent
// test died).
func waitForStop() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	eof := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(eof) }()
	select {
	case <-stop:
	case <-eof:
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
