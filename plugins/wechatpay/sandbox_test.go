package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/wechatpay/internal/wxsign"
)

// TestSandboxChecksMerchantSignature: the sandbox, like WeChat Pay,
// refuses requests whose Authorization is missing, forged, stale or for
// another body, and signs even its refusals.
func TestSandboxChecksMerchantSignature(t *testing.T) {
	sb := newSandbox(t)
	k := testKeys(t)
	body := []byte(`{"mchid":"` + mchID + `"}`)
	auth := func(signed []byte, at time.Time, serial string) string {
		nonce := wxsign.Nonce()
		sig, err := wxsign.Sign(k.merchant, wxsign.RequestMessage("POST", "/v3/pay/transactions/out-trade-no/pay_nothing_here/close", at.Unix(), nonce, signed))
		if err != nil {
			t.Fatal(err)
		}
		return wxsign.Authorization(mchID, serial, nonce, at.Unix(), sig)
	}
	now := time.Now()
	tests := []struct {
		name, auth string
		status     int
		code       string
	}{
		{"signed", auth(body, now, merchantSerial), http.StatusNotFound, "ORDER_NOT_EXIST"},
		{"no authorization", "", http.StatusUnauthorized, "SIGN_ERROR"},
		{"signed for another body", auth([]byte(`{}`), now, merchantSerial), http.StatusUnauthorized, "SIGN_ERROR"},
		{"six minutes old", auth(body, now.Add(-6*time.Minute), merchantSerial), http.StatusUnauthorized, "SIGN_ERROR"},
		{"wrong serial", auth(body, now, "0000000000000000000000000000000000000001"), http.StatusUnauthorized, "SIGN_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", sb.URL()+"/v3/pay/transactions/out-trade-no/pay_nothing_here/close", bytes.NewReader(body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			var e struct{ Code string }
			_ = json.Unmarshal(data, &e)
			if resp.StatusCode != tt.status || e.Code != tt.code {
				t.Errorf("= %d %s, want %d %s", resp.StatusCode, data, tt.status, tt.code)
			}
			if _, err := wxsign.VerifyHeaders(resp.Header, data, &k.platform.PublicKey, platformKeyID, time.Now()); err != nil {
				t.Errorf("the answer is not signed by the platform key: %v", err)
			}
		})
	}
}
