package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kassahq/kassa/plugins/sdk"
)

func TestConfigureRefusesBadKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		extra  map[string]any
		field  string
		code   string
		phrase string
	}{
		{"publishable as secret", map[string]any{"secret_key": testPublishableKey}, "/secret_key", "publishable_key", "publishable key"},
		{"webhook secret as secret key", map[string]any{"secret_key": testWebhookSecret}, "/secret_key", "webhook_secret", "signing secret"},
		{"garbage", map[string]any{"secret_key": "sk_test_with spaces and $$$$"}, "/secret_key", "invalid_key", "sk_test_"},
		{"live key in test mode", map[string]any{"secret_key": "sk_live_51KassaLiveKey0000000000000", "publishable_key": "pk_live_51KassaLiveKey0000000000000"}, "/secret_key", "live_key_in_test_mode", "live key"},
		{"test key in live mode", map[string]any{"test_mode": false}, "/secret_key", "test_key_in_live_mode", "Test mode"},
		{"secret key as publishable", map[string]any{"publishable_key": testSecretKey}, "/publishable_key", "secret_key", "never give it to browsers"},
		{"modes differ", map[string]any{"publishable_key": "pk_live_51KassaLiveKey0000000000000"}, "/publishable_key", "mode_mismatch", "same mode"},
		{"webhook secret", map[string]any{"webhook_secret": "sk_test_0000000000000000000000"}, "/webhook_secret", "invalid_secret", "whsec_"},
		{"private API URL", map[string]any{"api_base_url": "http://127.0.0.1:12111"}, "/api_base_url", "private_network", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gw, _ := New("")
			res, err := gw.Configure(context.Background(), settingsFor("https://api.stripe.com", tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range res.Errors {
				found = found || e.Field == tc.field && e.Code == tc.code && strings.Contains(e.Message, tc.phrase)
			}
			if !found {
				t.Errorf("errors %+v, want %s %s mentioning %q", res.Errors, tc.field, tc.code, tc.phrase)
			}
			if gw.cfg.Load() != nil {
				t.Error("a refused configuration was applied")
			}
		})
	}
}

func TestHealthSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		want   sdk.HealthStatus
		phrase string
	}{
		{"ok", 200, `{"object":"list","data":[],"has_more":false,"url":"/v1/payment_intents"}`, sdk.HealthServing, ""},
		{"rolled key", 401, `{"error":{"type":"invalid_request_error","code":"api_key_invalid","message":"Invalid API Key provided"}}`, sdk.HealthNotServing, "rolled or mistyped"},
		{"restricted key", 403, `{"error":{"type":"invalid_request_error","message":"The provided key does not have the required permissions"}}`, sdk.HealthNotServing, "restricted key"},
		{"stripe down", 503, `{"error":{"type":"api_error","message":"overloaded"}}`, sdk.HealthDegraded, "503"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v1/payment_intents" || r.URL.Query().Get("limit") != "1" {
					t.Errorf("health asked %s", r.URL)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			gw, _ := New("")
			if res, err := gw.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(srv.URL, nil)); err != nil || !res.OK() {
				t.Fatal(res, err)
			}
			h, err := gw.Health(context.Background())
			if err != nil || h.Status != tc.want || !strings.Contains(h.Message, tc.phrase) {
				t.Errorf("Health = %+v, %v; want %s mentioning %q", h, err, tc.want, tc.phrase)
			}
		})
	}
	gw, _ := New("")
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	_, _ = gw.Configure(sdk.WithAllowPrivateNetworks(context.Background(), true), settingsFor(srv.URL, nil))
	if h, _ := gw.Health(context.Background()); h.Status != sdk.HealthDegraded || !strings.Contains(h.Message, "unreachable") {
		t.Errorf("unreachable API: %+v", h)
	}
}

func TestSchemaMarksSecrets(t *testing.T) {
	t.Parallel()
	got := schema.SecretFields()
	want := map[string]bool{"/secret_key": true, "/webhook_secret": true, "/webhook_secret_previous": true}
	if len(got) != len(want) {
		t.Fatalf("secret fields %v", got)
	}
	for _, f := range got {
		if !want[f] {
			t.Errorf("unexpected secret field %s", f)
		}
	}
	redacted := schema.Redact(settingsFor("https://api.stripe.com", nil))
	var m map[string]any
	_ = json.Unmarshal(redacted, &m)
	if _, ok := m["secret_key"]; ok {
		t.Errorf("redacted settings keep the secret key: %s", redacted)
	}
}
