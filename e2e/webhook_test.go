package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMerchantWebhookReceivesShopEvents: with notify.webhook enabled, a
// buyer's registration reaches the merchant's endpoint as a signed POST,
// and no account message (with its sign-in link) ever does.
func TestMerchantWebhookReceivesShopEvents(t *testing.T) {
	t.Parallel()
	var (
		mu       sync.Mutex
		received []map[string]any
		bodies   []string
	)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		received = append(received, m)
		bodies = append(bodies, string(b)+" sig="+r.Header.Get("Kassa-Signature"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer endpoint.Close()

	dir := t.TempDir()
	kassa(t, dir, "plugin", "install", buildPlugin(t, t.TempDir(), "notify-webhook"))
	// The endpoint listens on loopback: the owner allows private networks.
	kassa(t, dir, "plugin", "settings", "notify.webhook", "--plugin-allow-private-networks", "--set",
		`{"endpoints":[{"name":"erp","url":"`+endpoint.URL+`/kassa"}],"signing_secrets":{"erp":"whsec_0123456789abcdef"}}`)
	kassa(t, dir, "plugin", "enable", "notify.webhook", "--plugin-allow-private-networks")
	in := start(t, dir, "--plugin-allow-private-networks")
	defer in.stop()

	in.graphql(`mutation { customerRegister(input: {email: "erp@example.com", password: "a long enough passphrase"}) { userErrors { code } } }`, nil, nil)
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		var got []string
		for _, m := range received {
			if s, ok := m["type"].(string); ok {
				got = append(got, s)
			}
		}
		all := strings.Join(bodies, "\n")
		mu.Unlock()
		if strings.Contains(all, "verify-email") || strings.Contains(all, "ktok_") {
			t.Fatalf("an account link reached the merchant's endpoint:\n%s", all)
		}
		if strings.Contains(strings.Join(got, ","), "customer.registered") {
			if !strings.Contains(all, "sig=t=") {
				t.Fatalf("the POST is not signed:\n%s", all)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no customer.registered POST within 30s (got %v)\nkassa logs:\n%s", got, in.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
