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

// TestMerchantWebhookThatFailsIsADeadLetter: an endpoint that refuses
// every POST, once the webhook plugin gave up, is a dead letter in the
// delivery journal (staff see it and replay it), not a delivery. The
// plugin used to answer QUEUED and Kassa counted that as delivered.
func TestMerchantWebhookThatFailsIsADeadLetter(t *testing.T) {
	t.Parallel()
	var posts sync.Map
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Store(r.Header.Get("Kassa-Delivery-Attempt")+" "+r.Header.Get("Kassa-Event-Type"), true)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer endpoint.Close()

	dir := t.TempDir()
	const owner, password = "owner@example.com", "correct horse battery staple"
	createOwner(t, dir, owner, password)
	kassa(t, dir, "plugin", "install", buildPlugin(t, t.TempDir(), "notify-webhook"))
	// Two tries a second apart, then the plugin gives up.
	kassa(t, dir, "plugin", "settings", "notify.webhook", "--plugin-allow-private-networks", "--set",
		`{"endpoints":[{"name":"erp","url":"`+endpoint.URL+`/kassa"}],"signing_secrets":{"erp":"whsec_0123456789abcdef"},`+
			`"max_attempts":2,"retry_initial_delay_ms":1000}`)
	kassa(t, dir, "plugin", "enable", "notify.webhook", "--plugin-allow-private-networks")
	in := start(t, dir, "--plugin-allow-private-networks")
	defer in.stop()
	token := in.staffToken(owner, password)

	in.graphql(`mutation { customerRegister(input: {email: "erp@example.com", password: "a long enough passphrase"}) { userErrors { code } } }`, nil, nil)
	const q = `{ eventDeliveries(first: 20) { nodes { consumer subject status attempts lastError } } }`
	deadline := time.Now().Add(60 * time.Second)
	for {
		var out struct {
			Data struct {
				EventDeliveries struct {
					Nodes []struct{ Consumer, Subject, Status, LastError string }
				}
			}
		}
		body := in.graphqlAs(token, q)
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		for _, n := range out.Data.EventDeliveries.Nodes {
			if n.Subject != "kassa.customer.registered" {
				continue
			}
			switch n.Status {
			case "DELIVERED":
				t.Fatalf("a webhook the endpoint refused is recorded delivered: %s", body)
			case "DEAD":
				if !strings.Contains(n.LastError, "retries_exhausted") {
					t.Fatalf("the dead letter does not say why: %+v", n)
				}
				if _, ok := posts.Load("2 customer.registered"); !ok {
					t.Fatal("dead before the plugin's second try")
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter within 60s: %s\nkassa logs:\n%s", body, in.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
