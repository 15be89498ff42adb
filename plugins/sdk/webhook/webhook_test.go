package webhook_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

var (
	secret = []byte("whsec_test_0123456789")
	body   = []byte(`{"id":"evt_1","type":"payment.succeeded"}`)
	t0     = time.Unix(1_700_000_000, 0).UTC()
)

func TestSignFormat(t *testing.T) {
	got := webhook.Sign(secret, t0, body)
	if !strings.HasPrefix(got, "t=1700000000,v1=") || len(got) != len("t=1700000000,v1=")+64 {
		t.Fatalf("Sign = %q", got)
	}
	// Known answer: HMAC-SHA256("whsec_test_0123456789", "1700000000.<body>").
	sig, err := webhook.ParseHeader(got)
	if err != nil || !sig.Timestamp.Equal(t0) || len(sig.V1) != 1 {
		t.Fatalf("ParseHeader = %+v, %v", sig, err)
	}
	if !bytes.Equal(sig.V1[0], webhook.ComputeHMAC(secret, t0, body)) {
		t.Fatal("v1 is not ComputeHMAC")
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	valid := webhook.Sign(secret, t0, body)
	other := webhook.Sign([]byte("another-secret-123"), t0, body)
	tests := []struct {
		name    string
		secrets [][]byte
		header  string
		body    []byte
		now     time.Time
		want    error
	}{
		{name: "valid", header: valid, body: body, now: t0.Add(time.Minute)},
		{name: "valid slightly early clock", header: valid, body: body, now: t0.Add(-time.Minute)},
		{name: "rotation: second secret", secrets: [][]byte{[]byte("old"), secret}, header: valid, body: body, now: t0},
		{name: "rotation: two v1 values", header: other + "," + strings.Split(valid, ",")[1], body: body, now: t0},
		{name: "tampered body", header: valid, body: append([]byte(nil), append(body, ' ')...), now: t0, want: webhook.ErrBadSignature},
		{name: "wrong secret", header: other, body: body, now: t0, want: webhook.ErrBadSignature},
		{name: "tampered timestamp", header: strings.Replace(valid, "t=1700000000", "t=1700000001", 1), body: body, now: t0, want: webhook.ErrBadSignature},
		{name: "stale", header: valid, body: body, now: t0.Add(6 * time.Minute), want: webhook.ErrStale},
		{name: "from the future", header: valid, body: body, now: t0.Add(-6 * time.Minute), want: webhook.ErrStale},
		{name: "stale and forged is bad signature", header: other, body: body, now: t0.Add(time.Hour), want: webhook.ErrBadSignature},
		{name: "empty header", header: "", body: body, now: t0, want: webhook.ErrMalformed},
		{name: "no v1", header: "t=1700000000", body: body, now: t0, want: webhook.ErrMalformed},
		{name: "bad timestamp", header: "t=abc,v1=00", body: body, now: t0, want: webhook.ErrMalformed},
		{name: "v0 only", header: "t=1700000000,v0=" + strings.Repeat("ab", 32), body: body, now: t0, want: webhook.ErrMalformed},
		// Signed 72 h ago, a fresh t added: whichever t a parser keeps, the
		// header is refused, never judged fresh by the added t.
		{name: "stale, fresh t added last", header: valid + ", t=1700259200", body: body, now: t0.Add(72 * time.Hour), want: webhook.ErrMalformed},
		{name: "stale, fresh t added first", header: "t=1700259200," + valid, body: body, now: t0.Add(72 * time.Hour), want: webhook.ErrMalformed},
		{name: "fresh, same t twice", header: valid + ",t=1700000000", body: body, now: t0, want: webhook.ErrMalformed},
		// Anyone computes the HMAC under the empty key: a shop that has
		// not set its secret yet refuses every delivery.
		{name: "signed with the empty secret, none set", header: webhook.Sign(nil, t0, body), body: body, now: t0,
			secrets: [][]byte{{}}, want: webhook.ErrNoSecret},
		{name: "no secrets at all", header: webhook.Sign(nil, t0, body), body: body, now: t0,
			secrets: [][]byte{}, want: webhook.ErrNoSecret},
		{name: "the empty secret beside a real one", header: webhook.Sign(nil, t0, body), body: body, now: t0,
			secrets: [][]byte{{}, secret}, want: webhook.ErrBadSignature},
		{name: "the real one beside the empty secret", header: valid, body: body, now: t0, secrets: [][]byte{{}, secret}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secrets := tc.secrets
			if secrets == nil {
				secrets = [][]byte{secret}
			}
			v := &webhook.Verifier{Secrets: secrets, Replay: webhook.NewReplayCache(10)}
			err := v.Verify(tc.header, tc.body, tc.now)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	t.Parallel()
	cache := webhook.NewReplayCache(100)
	v := &webhook.Verifier{Secrets: [][]byte{secret}, Tolerance: time.Minute, Replay: cache}
	h := webhook.Sign(secret, t0, body)
	if err := v.Verify(h, body, t0); err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if err := v.Verify(h, body, t0.Add(10*time.Second)); !errors.Is(err, webhook.ErrReplay) {
		t.Fatalf("replay within window: %v, want ErrReplay", err)
	}
	// A fresh signature of the same body (a gateway retry) is accepted.
	if err := v.Verify(webhook.Sign(secret, t0.Add(time.Second), body), body, t0.Add(10*time.Second)); err != nil {
		t.Fatalf("re-signed retry: %v", err)
	}
	// After the window the replay is stale, not a replay, and the entry is gone.
	if err := v.Verify(h, body, t0.Add(2*time.Minute)); !errors.Is(err, webhook.ErrStale) {
		t.Fatalf("after window: %v, want ErrStale", err)
	}
	// Expired entries are dropped on the next accepted delivery.
	later := t0.Add(2 * time.Minute)
	if err := v.Verify(webhook.Sign(secret, later, body), body, later); err != nil {
		t.Fatalf("later delivery: %v", err)
	}
	if cache.Len() != 1 {
		t.Errorf("cache holds %d entries, want 1 (expired ones dropped)", cache.Len())
	}
	// A forged delivery is never recorded.
	if err := v.Verify("t=1700000000,v1="+strings.Repeat("00", 32), body, t0); !errors.Is(err, webhook.ErrBadSignature) {
		t.Fatalf("forged: %v", err)
	}
	if cache.Len() != 1 {
		t.Error("forged delivery was recorded in the replay cache")
	}
}

// TestParseHeaderOneTimestamp: a header carries exactly one t, written as
// Stripe writes it, so the t whose MAC verifies is the t judged for
// freshness whichever parser reads it (stripe-go skips " t=...").
func TestParseHeaderOneTimestamp(t *testing.T) {
	t.Parallel()
	valid := webhook.Sign(secret, t0, body)
	v1 := strings.TrimPrefix(valid, "t=1700000000,")
	other := strings.TrimPrefix(webhook.Sign([]byte("another-secret-123"), t0, body), "t=1700000000,")
	const later = "t=1700259200" // 72 h after t0
	tests := []struct {
		name   string
		header string
		wantV1 int // 0: refused as ErrMalformed
	}{
		{name: "one t", header: valid, wantV1: 1},
		{name: "whitespace around parts", header: " t=1700000000 ,\t" + v1 + " ", wantV1: 1},
		{name: "two v1 and a v0", header: valid + "," + other + ",v0=" + strings.Repeat("ab", 32), wantV1: 2},
		{name: "second t last, space", header: valid + ", " + later},
		{name: "second t last, tab", header: valid + ",\t" + later},
		{name: "second t last, no space", header: valid + "," + later},
		{name: "second t first", header: later + "," + valid},
		{name: "second t first, space", header: later + ", " + valid},
		{name: "second t between v1", header: valid + "," + later + "," + other},
		{name: "same t twice", header: valid + ",t=1700000000"},
		{name: "leading zero", header: "t=01700000000," + v1},
		{name: "plus sign", header: "t=+1700000000," + v1},
		{name: "space inside", header: "t= 1700000000," + v1},
		{name: "empty t", header: "t=," + v1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sig, err := webhook.ParseHeader(tc.header)
			if tc.wantV1 == 0 {
				if !errors.Is(err, webhook.ErrMalformed) {
					t.Fatalf("ParseHeader(%q) = %+v, %v; want ErrMalformed", tc.header, sig, err)
				}
				return
			}
			if err != nil || !sig.Timestamp.Equal(t0) || len(sig.V1) != tc.wantV1 {
				t.Fatalf("ParseHeader(%q) = %+v, %v; want t %s and %d v1", tc.header, sig, err, t0, tc.wantV1)
			}
		})
	}
}

// TestVerifyReplaySpellings: a copy of an accepted delivery is a replay
// however its header is re-spelled, including a copy that keeps only one
// of the v1 values of a rotation.
func TestVerifyReplaySpellings(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := []byte("whsec_old_0123456789"), secret
	rotated := webhook.Sign(oldSecret, t0, body) + "," + strings.TrimPrefix(webhook.Sign(newSecret, t0, body), "t=1700000000,")
	parts := strings.Split(rotated, ",") // t, v1 (old secret), v1 (new secret)
	tests := []struct {
		name          string
		first, second string
		want          error
	}{
		{name: "same header", first: rotated, second: rotated, want: webhook.ErrReplay},
		{name: "spaces after commas", first: rotated, second: strings.Join(parts, ", "), want: webhook.ErrReplay},
		{name: "tabs and trailing space", first: rotated, second: strings.Join(parts, ",\t") + " ", want: webhook.ErrReplay},
		{name: "v1 values swapped", first: rotated, second: parts[0] + "," + parts[2] + "," + parts[1], want: webhook.ErrReplay},
		{name: "only the old secret's v1", first: rotated, second: parts[0] + "," + parts[1], want: webhook.ErrReplay},
		{name: "only the new secret's v1", first: rotated, second: parts[0] + "," + parts[2], want: webhook.ErrReplay},
		{name: "a v0 added", first: rotated, second: rotated + ",v0=" + strings.Repeat("cd", 32), want: webhook.ErrReplay},
		{name: "re-signed one second later", first: rotated, second: webhook.Sign(newSecret, t0.Add(time.Second), body)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := &webhook.Verifier{Secrets: [][]byte{oldSecret, newSecret}, Replay: webhook.NewReplayCache(10)}
			if err := v.Verify(tc.first, body, t0); err != nil {
				t.Fatalf("first delivery: %v", err)
			}
			if err := v.Verify(tc.second, body, t0.Add(time.Second)); tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("second delivery %q: %v, want %v", tc.second, err, tc.want)
			}
		})
	}
}

func TestReplayCacheBounded(t *testing.T) {
	t.Parallel()
	c := webhook.NewReplayCache(3)
	for i := range 5 {
		if !c.Add(fmt.Sprint(i), t0.Add(time.Duration(i+1)*time.Minute), t0) {
			t.Fatalf("Add(%d) refused", i)
		}
	}
	if c.Len() != 3 {
		t.Fatalf("Len = %d, want 3", c.Len())
	}
	// The entries closest to expiry (0, 1) were evicted; 4 is remembered.
	if !c.Add("0", t0.Add(time.Hour), t0) {
		t.Error("evicted key 0 should be accepted again")
	}
	if c.Add("4", t0.Add(time.Hour), t0) {
		t.Error("key 4 should still be remembered")
	}
}

func TestReplayCacheForget(t *testing.T) {
	t.Parallel()
	c := webhook.NewReplayCache(3)
	c.Add("a", t0.Add(time.Hour), t0)
	c.Add("b", t0.Add(time.Hour), t0)
	c.Forget("a")
	c.Forget("never added")
	if !c.Add("a", t0.Add(time.Hour), t0) {
		t.Error("a forgotten key was refused")
	}
	if c.Add("b", t0.Add(time.Hour), t0) || c.Len() != 2 {
		t.Errorf("Forget touched another key: Len %d", c.Len())
	}
}

func TestReplayCacheConcurrent(t *testing.T) {
	t.Parallel()
	c := webhook.NewReplayCache(1000)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.Add("same", t0.Add(time.Minute), t0) {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if accepted != 1 {
		t.Errorf("the same delivery was accepted %d times", accepted)
	}
}

func TestRSA(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	p8der, _ := x509.MarshalPKCS8PrivateKey(key)
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8der})
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	bare := []byte(base64.StdEncoding.EncodeToString(pubDER)) // Alipay's console format

	for name, data := range map[string][]byte{"pkcs1": pkcs1, "pkcs8": pkcs8} {
		k, err := webhook.ParseRSAPrivateKey(data)
		if err != nil || !k.Equal(key) {
			t.Errorf("ParseRSAPrivateKey(%s): %v", name, err)
		}
	}
	for name, data := range map[string][]byte{"pkix pem": pubPEM, "bare base64": bare} {
		k, err := webhook.ParseRSAPublicKey(data)
		if err != nil || !k.Equal(&key.PublicKey) {
			t.Errorf("ParseRSAPublicKey(%s): %v", name, err)
		}
	}
	if _, err := webhook.ParseRSAPublicKey([]byte("not a key!")); err == nil {
		t.Error("garbage accepted as a public key")
	}

	params := url.Values{
		"out_trade_no": {"pay_1"}, "total_amount": {"19.99"}, "trade_status": {"TRADE_SUCCESS"},
		"sign_type": {"RSA2"}, "sign": {"ignored"}, "empty": {""},
	}
	content := webhook.AlipaySignContent(params)
	if want := "out_trade_no=pay_1&total_amount=19.99&trade_status=TRADE_SUCCESS"; content != want {
		t.Errorf("AlipaySignContent = %q, want %q", content, want)
	}
	sig, err := webhook.SignRSASHA256(key, []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		msg  []byte
		sig  []byte
		ok   bool
	}{
		{"valid", []byte(content), sig, true},
		{"tampered message", []byte(content + "&x=1"), sig, false},
		{"tampered signature", []byte(content), append([]byte{sig[0] ^ 1}, sig[1:]...), false},
		{"empty signature", []byte(content), nil, false},
	}
	for _, tc := range tests {
		err := webhook.VerifyRSASHA256(&key.PublicKey, tc.msg, tc.sig)
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, webhook.ErrBadSignature)) {
			t.Errorf("%s: VerifyRSASHA256 = %v", tc.name, err)
		}
	}

	msg := webhook.WeChatPayMessage("1700000000", "nonce123", []byte(`{"a":1}`))
	if string(msg) != "1700000000\nnonce123\n{\"a\":1}\n" {
		t.Errorf("WeChatPayMessage = %q", msg)
	}
}

func TestAESGCM(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef") // 32 bytes, like an APIv3 key
	nonce, aad := "abcdefghijkl", "transaction"
	plain := []byte(`{"out_trade_no":"pay_1","trade_state":"SUCCESS"}`)
	ct, err := webhook.SealAESGCM(key, []byte(nonce), []byte(aad), plain)
	if err != nil {
		t.Fatal(err)
	}
	ct64 := base64.StdEncoding.EncodeToString(ct)
	tests := []struct {
		name       string
		key        []byte
		nonce, aad string
		ct         string
		wantErr    bool
	}{
		{"valid", key, nonce, aad, ct64, false},
		{"wrong associated data", key, nonce, "other", ct64, true},
		{"wrong nonce", key, "abcdefghijkm", aad, ct64, true},
		{"wrong key", []byte("fedcba9876543210fedcba9876543210"), nonce, aad, ct64, true},
		{"short key", key[:16], nonce, aad, ct64, true},
		{"not base64", key, nonce, aad, "***", true},
		{"tampered", key, nonce, aad, base64.StdEncoding.EncodeToString(append([]byte{ct[0] ^ 1}, ct[1:]...)), true},
	}
	for _, tc := range tests {
		got, err := webhook.DecryptWeChatResource(tc.key, tc.nonce, tc.aad, tc.ct)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: decrypted %q, want error", tc.name, got)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
	}
}
