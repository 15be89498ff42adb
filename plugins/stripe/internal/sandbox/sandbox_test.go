package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func call(t *testing.T, s *Server, method, path string, form url.Values, key string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Bearer sk_test_sandbox")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m, res.Header
}

// TestLifecycle walks a PaymentIntent through Stripe's states.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	s, err := Start(Options{SecretKey: "sk_test_sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	create := url.Values{"amount": {"1000"}, "currency": {"eur"}, "capture_method": {"manual"}}
	code, pi, _ := call(t, s, "POST", "/v1/payment_intents", create, "k1")
	id, _ := pi["id"].(string)
	if code != 200 || pi["status"] != "requires_payment_method" || !strings.HasPrefix(pi["client_secret"].(string), id+"_secret_") {
		t.Fatalf("create: %d %v", code, pi)
	}
	// Idempotency: the same key and parameters replay; other parameters
	// are an idempotency_error.
	_, again, h := call(t, s, "POST", "/v1/payment_intents", create, "k1")
	if again["id"] != id || h.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %v %v", again["id"], h)
	}
	create.Set("amount", "2000")
	if code, e, _ := call(t, s, "POST", "/v1/payment_intents", create, "k1"); code != 400 || e["error"].(map[string]any)["type"] != "idempotency_error" {
		t.Errorf("key reuse: %d %v", code, e)
	}
	if err := s.Confirm(id, "pm_card_threeDSecure2Required"); err != nil {
		t.Fatal(err)
	}
	_, pi, _ = call(t, s, "GET", "/v1/payment_intents/"+id, nil, "")
	if pi["status"] != "requires_action" || pi["next_action"] == nil {
		t.Fatalf("3DS: %v", pi)
	}
	if err := s.Authenticate(id, true); err != nil {
		t.Fatal(err)
	}
	_, pi, _ = call(t, s, "GET", "/v1/payment_intents/"+id, nil, "")
	if pi["status"] != "requires_capture" || pi["amount_capturable"] != float64(1000) {
		t.Fatalf("authorized: %v", pi)
	}
	if code, _, _ := call(t, s, "POST", "/v1/payment_intents/"+id+"/capture", url.Values{"amount_to_capture": {"1001"}}, ""); code != 400 {
		t.Errorf("over-capture: %d", code)
	}
	_, pi, _ = call(t, s, "POST", "/v1/payment_intents/"+id+"/capture", url.Values{"amount_to_capture": {"600"}}, "")
	if pi["status"] != "succeeded" || pi["amount_received"] != float64(600) {
		t.Fatalf("captured: %v", pi)
	}
	if code, _, _ := call(t, s, "POST", "/v1/payment_intents/"+id+"/cancel", nil, ""); code != 400 {
		t.Errorf("cancel after capture: %d", code)
	}
	if code, _, _ := call(t, s, "POST", "/v1/refunds", url.Values{"payment_intent": {id}, "amount": {"601"}}, ""); code != 400 {
		t.Errorf("refund above captured: %d", code)
	}
	if code, r, _ := call(t, s, "POST", "/v1/refunds", url.Values{"payment_intent": {id}, "amount": {"600"}}, ""); code != 200 || r["status"] != "succeeded" {
		t.Errorf("refund: %d %v", code, r)
	}
	if code, e, _ := call(t, s, "POST", "/v1/refunds", url.Values{"payment_intent": {id}, "amount": {"1"}}, ""); code != 400 || e["error"].(map[string]any)["code"] != "charge_already_refunded" {
		t.Errorf("refund of a refunded charge: %d %v", code, e)
	}
	// A declined card.
	_, pi2, _ := call(t, s, "POST", "/v1/payment_intents", url.Values{"amount": {"500"}, "currency": {"jpy"}, "payment_method": {"pm_card_chargeDeclined"}, "confirm": {"true"}}, "")
	if e, _ := pi2["error"].(map[string]any); e == nil || e["decline_code"] != "generic_decline" || e["payment_intent"] == nil {
		t.Errorf("decline: %v", pi2)
	}
	// A wrong key.
	req, _ := http.NewRequest("GET", s.URL()+"/v1/payment_intents", nil)
	req.Header.Set("Authorization", "Bearer sk_test_other")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 401 {
		t.Errorf("wrong key: %v %v", res, err)
	}
}

// TestSignMatchesDocumentedConstruction: v1 per secret over "t.payload".
func TestSignMatchesDocumentedConstruction(t *testing.T) {
	t.Parallel()
	got := Sign([]byte("{}"), timeUnix(1700000000), "whsec_a", "whsec_b")
	parts := strings.Split(got, ",")
	if len(parts) != 3 || parts[0] != "t=1700000000" || !strings.HasPrefix(parts[1], "v1=") || !strings.HasPrefix(parts[2], "v1=") || parts[1] == parts[2] {
		t.Errorf("Sign = %s", got)
	}
}

func timeUnix(s int64) time.Time { return time.Unix(s, 0) }
