package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/wechatpay/internal/wxsign"
)

// TestKnownAnswerSignature signs with the key published in the official Go
// SDK's tests and expects the signature published there.
func TestKnownAnswerSignature(t *testing.T) {
	pemKey, err := os.ReadFile("testdata/wechatpay-go-sign-vector.pem")
	if err != nil {
		t.Fatal(err)
	}
	key, err := wxsign.ParsePrivateKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	const want = "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoV" +
		"z+pp4hAm6pHU4ld815U4jsKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqIMzoZUguLl" +
		"i/K8V29QiOhuH6IEqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51qMN/RAJbknXG23bSlObuTCN7Ndj" +
		"1aJGH6/L+hdwfLpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg=="
	got, err := wxsign.Sign(key, []byte("source"))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("signature of %q =\n%s\nwant\n%s", "source", got, want)
	}
	if err := wxsign.Verify(&key.PublicKey, []byte("source"), want); err != nil {
		t.Errorf("published signature does not verify: %v", err)
	}
}

// TestKnownAnswerMessages checks the strings that are signed against the
// examples of WeChat Pay's signature documentation.
func TestKnownAnswerMessages(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"request without body (docs example)",
			wxsign.RequestMessage("GET", "/v3/certificates", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242", nil),
			"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"},
		{"request with body and query",
			wxsign.RequestMessage("POST", "/v3/pay/transactions/native?x=1", 1554208460, "N", []byte(`{"a":1}`)),
			"POST\n/v3/pay/transactions/native?x=1\n1554208460\nN\n{\"a\":1}\n"},
		{"response",
			wxsign.ResponseMessage("1554209980", "c5ac7061fccab6bf3e254dcf98995b8c", []byte(`{"data":[]}`)),
			"1554209980\nc5ac7061fccab6bf3e254dcf98995b8c\n{\"data\":[]}\n"},
		{"JSAPI paySign",
			wxsign.JSAPIMessage("wx8888888888888888", "1414561699", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", "prepay_id=wx201410272009395522657a690389285100"),
			"wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	auth := wxsign.Authorization("1900009191", "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C", "593BEC0C930BF1AFEB40B4A08C8FB242", 1554208460, "c2ln")
	want := `WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="c2ln",timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"`
	if auth != want {
		t.Errorf("Authorization =\n%s\nwant\n%s", auth, want)
	}
	fields, err := wxsign.ParseAuthorization(auth)
	if err != nil || fields["serial_no"] != "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C" || fields["timestamp"] != "1554208460" {
		t.Errorf("ParseAuthorization = %v, %v", fields, err)
	}
}

// TestKnownAnswerAESGCM decrypts the AES-GCM vector published in the
// official Go SDK's tests (a 16-byte key, so AES-128-GCM: the same
// construction WeChat Pay uses with its 32-byte APIv3 key), and checks that
// notification decryption insists on a 32-byte key.
func TestKnownAnswerAESGCM(t *testing.T) {
	const key, nonce, ad, ct = "testAPIv3Key0000", "wCq51qZv4Yfg", "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8", "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC"
	tests := []struct {
		name, key, ad, ct, want string
		wantErr                 bool
	}{
		{"published vector", key, ad, ct, "Hello World", false},
		{"wrong key", "testAPIv3Key1111", ad, ct, "", true},
		{"wrong associated data", key, "transaction", ct, "", true},
		{"truncated ciphertext", key, ad, ct[:len(ct)-4], "", true},
		{"not base64", key, ad, "invalid cipher", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wxsign.OpenGCM([]byte(tt.key), nonce, tt.ad, tt.ct)
			if (err != nil) != tt.wantErr || string(got) != tt.want {
				t.Errorf("OpenGCM = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := wxsign.Decrypt([]byte(key), wxsign.Resource{Algorithm: wxsign.Algorithm, Nonce: nonce, AssociatedData: ad, Ciphertext: ct}); err == nil {
		t.Error("Decrypt accepted a 16-byte APIv3 key")
	}
	// AES-256: round trip with a 32-byte key, and tampering detected.
	k32 := []byte("0123456789abcdef0123456789abcdef")
	sealed, err := wxsign.SealGCM(k32, "0123456789ab", "transaction", []byte(`{"trade_state":"SUCCESS"}`))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := wxsign.Decrypt(k32, wxsign.Resource{Algorithm: wxsign.Algorithm, Nonce: "0123456789ab", AssociatedData: "transaction", Ciphertext: sealed})
	if err != nil || string(plain) != `{"trade_state":"SUCCESS"}` {
		t.Errorf("AES-256-GCM round trip = %q, %v", plain, err)
	}
	raw, _ := base64.StdEncoding.DecodeString(sealed)
	raw[0] ^= 1
	if _, err := wxsign.Decrypt(k32, wxsign.Resource{Algorithm: wxsign.Algorithm, Nonce: "0123456789ab", AssociatedData: "transaction", Ciphertext: base64.StdEncoding.EncodeToString(raw)}); err == nil {
		t.Error("a flipped ciphertext bit was not detected")
	}
}

// TestSignatureMatchesOpenSSL cross-checks a request signature with
// openssl when it is installed.
func TestSignatureMatchesOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	key := testKeys(t).merchant
	msg := wxsign.RequestMessage("POST", "/v3/pay/transactions/native", 1700000000, wxsign.Nonce(), []byte(`{"mchid":"1900000001"}`))
	sig, err := wxsign.Sign(key, msg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	raw, _ := base64.StdEncoding.DecodeString(sig)
	for name, data := range map[string][]byte{"pub.pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "msg": msg, "sig": raw} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", filepath.Join(dir, "pub.pem"), "-signature", filepath.Join(dir, "sig"), filepath.Join(dir, "msg")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Errorf("openssl does not verify our signature: %v %s", err, out)
	}
}

// TestVerifyHeaders covers the ways an answer or notification is refused.
func TestVerifyHeaders(t *testing.T) {
	k := testKeys(t)
	now := time.Now()
	body := []byte(`{"id":"EV-1"}`)
	signed := func(key *rsa.PrivateKey, serial string, at time.Time) http.Header {
		h := http.Header{}
		if err := wxsign.SignHeaders(h, key, serial, at, body); err != nil {
			t.Fatal(err)
		}
		return h
	}
	tests := []struct {
		name string
		h    http.Header
		body []byte
		want error
	}{
		{"valid", signed(k.platform, platformKeyID, now), body, nil},
		{"valid, 4 minutes old", signed(k.platform, platformKeyID, now.Add(-4*time.Minute)), body, nil},
		{"forged with another key", signed(k.merchant, platformKeyID, now), body, wxsign.ErrBadSignature},
		{"replayed 6 minutes later", signed(k.platform, platformKeyID, now.Add(-6*time.Minute)), body, wxsign.ErrStale},
		{"from the future", signed(k.platform, platformKeyID, now.Add(6*time.Minute)), body, wxsign.ErrStale},
		{"truncated body", signed(k.platform, platformKeyID, now), body[:len(body)-1], wxsign.ErrBadSignature},
		{"truncated signature", func() http.Header {
			h := signed(k.platform, platformKeyID, now)
			h.Set(wxsign.HeaderSignature, h.Get(wxsign.HeaderSignature)[:40])
			return h
		}(), body, wxsign.ErrBadSignature},
		{"timestamp changed", func() http.Header {
			h := signed(k.platform, platformKeyID, now)
			h.Set(wxsign.HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10))
			return h
		}(), body, wxsign.ErrBadSignature},
		{"wrong serial", signed(k.platform, "PUB_KEY_ID_0000000000000000000000000000000000", now), body, wxsign.ErrWrongSerial},
		{"no headers", http.Header{}, body, wxsign.ErrMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wxsign.VerifyHeaders(tt.h, tt.body, &k.platform.PublicKey, platformKeyID, now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("VerifyHeaders = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestParseKeys covers the key problems Configure reports.
func TestParseKeys(t *testing.T) {
	k := testKeys(t)
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pem  string
		pub  bool
		want error
	}{
		{"PKCS8 private key", pemPrivate(k.merchant), false, nil},
		{"PKCS1 private key", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.merchant)})), false, nil},
		{"public key", pemPublic(&k.platform.PublicKey), true, nil},
		{"certificate", k.merchantCertPEM, true, nil},
		{"not PEM", "MIIEvgIBADANBgkqhkiG9w0BAQEFAASC", false, wxsign.ErrNotPEM},
		{"public key as private key", pemPublic(&k.platform.PublicKey), false, wxsign.ErrNotRSA},
		{"EC private key", pemEC(t), false, wxsign.ErrNotRSA},
		{"1024-bit private key", pemPrivate(short), false, wxsign.ErrTooShort},
		{"1024-bit public key", pemPublic(&short.PublicKey), true, wxsign.ErrTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.pub {
				_, err = wxsign.ParsePublicKey([]byte(tt.pem))
			} else {
				_, err = wxsign.ParsePrivateKey([]byte(tt.pem))
			}
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("parse = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMerchantNo(t *testing.T) {
	tests := []struct {
		id     string
		verbat bool
	}{
		{"pay_01HZY3K6V0M9Q7S2T4W8X1Y5Z3", true},
		{"pay_ptab12cd34_7", true},
		{"pay_" + strings.Repeat("x", 40), false},
		{"pay_ünïcode_id", false},
		{"pay.with.dots", false},
		{"kh_looks_hashed", false},
		{"p1", false},
	}
	for _, tt := range tests {
		got := merchantNo(tt.id)
		if (got == tt.id) != tt.verbat {
			t.Errorf("merchantNo(%q) = %q, verbatim %v", tt.id, got, tt.verbat)
		}
		if !merchantRef.MatchString(got) {
			t.Errorf("merchantNo(%q) = %q breaks WeChat's rules", tt.id, got)
		}
		if merchantNo(tt.id) != got {
			t.Errorf("merchantNo(%q) is not stable", tt.id)
		}
		if back := kassaID(got); tt.verbat && back != tt.id || !tt.verbat && back != "" {
			t.Errorf("kassaID(%q) = %q", got, back)
		}
	}
}

func TestTexts(t *testing.T) {
	for id, tr := range texts {
		if tr[0] == "" || tr[1] == "" || tr[0] == tr[1] {
			t.Errorf("text %q lacks a translation: %q", id, tr)
		}
		if text(id, "zh-CN") != tr[1] || text(id, "zh-Hans-CN") != tr[1] || text(id, "en-US") != tr[0] || text(id, "") != tr[0] {
			t.Errorf("text %q: wrong locale choice", id)
		}
	}
}
