package main

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/payment"
)

// TestSignContent checks the string to sign against the construction in
// Alipay's documentation (签名与验签: filter sign, drop empty values, sort by
// ASCII, join raw "k=v" with "&"): requests keep sign_type, notifications
// drop it. The expected strings are written by hand from the rules.
func TestSignContent(t *testing.T) {
	t.Parallel()
	p := url.Values{
		"app_id": {"2014072300007148"}, "method": {"alipay.trade.query"}, "charset": {"utf-8"},
		"sign_type": {"RSA2"}, "timestamp": {"2014-07-24 03:07:50"}, "version": {"1.0"},
		"biz_content": {`{"out_trade_no":"20150320010101001","subject":"土豪机"}`},
		"sign":        {"IGNORED"}, "app_auth_token": {""}, "notify_url": {"https://a.example/n?x=1&y=2"},
	}
	cases := []struct {
		name         string
		withSignType bool
		want         string
	}{
		{"request", true, `app_id=2014072300007148&biz_content={"out_trade_no":"20150320010101001","subject":"土豪机"}&charset=utf-8&method=alipay.trade.query&notify_url=https://a.example/n?x=1&y=2&sign_type=RSA2&timestamp=2014-07-24 03:07:50&version=1.0`},
		{"notification", false, `app_id=2014072300007148&biz_content={"out_trade_no":"20150320010101001","subject":"土豪机"}&charset=utf-8&method=alipay.trade.query&notify_url=https://a.example/n?x=1&y=2&timestamp=2014-07-24 03:07:50&version=1.0`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := signContent(p, tc.withSignType); got != tc.want {
				t.Errorf("signContent =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestAmountFormatting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fen  int64
		yuan string
	}{{1, "0.01"}, {10, "0.10"}, {99, "0.99"}, {100, "1.00"}, {1999, "19.99"}, {123450, "1234.50"}, {100_000_000_00, "100000000.00"}} {
		if got := formatYuan(tc.fen); got != tc.yuan {
			t.Errorf("formatYuan(%d) = %q, want %q", tc.fen, got, tc.yuan)
		}
		if got, err := parseYuan(tc.yuan); err != nil || got != tc.fen {
			t.Errorf("parseYuan(%q) = %d, %v; want %d", tc.yuan, got, err, tc.fen)
		}
	}
	for _, tc := range []struct {
		in   string
		want int64
	}{{"12", 1200}, {"12.3", 1230}, {"0.05", 5}} {
		if got, err := parseYuan(tc.in); err != nil || got != tc.want {
			t.Errorf("parseYuan(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "1.234", "-1.00", "1,00", "1.", ".5", "1e3", " 1.00", "abc", "99999999999999999999.00"} {
		if got, err := parseYuan(bad); err == nil {
			t.Errorf("parseYuan(%q) = %d, want an error", bad, got)
		}
	}
}

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

func TestSignVerify(t *testing.T) {
	t.Parallel()
	msg := []byte("app_id=2021&biz_content={}&charset=utf-8")
	sig, err := signRSA2(testKey, msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyRSA2(&testKey.PublicKey, msg, sig); err != nil {
		t.Fatalf("own signature does not verify: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(sig)
	flipped := append([]byte(nil), raw...)
	flipped[10] ^= 1
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherSig, _ := signRSA2(other, msg)
	for name, tc := range map[string]struct {
		msg []byte
		sig string
	}{
		"forged content": {append(append([]byte(nil), msg...), 'x'), sig},
		"truncated sig":  {msg, sig[:len(sig)/2]},
		"flipped bit":    {msg, base64.StdEncoding.EncodeToString(flipped)},
		"other key":      {msg, otherSig},
		"not base64":     {msg, "***"},
		"empty":          {msg, ""},
		"truncated msg":  {msg[:len(msg)-1], sig},
	} {
		if err := verifyRSA2(&testKey.PublicKey, tc.msg, tc.sig); err == nil {
			t.Errorf("%s: verified, want a refusal", name)
		}
	}
}

// TestOpenSSLCrossCheck signs with openssl (`openssl dgst -sha256 -sign`,
// which is SHA256WithRSA, PKCS#1 v1.5, as Alipay's documentation
// prescribes) and checks that both implementations produce the same
// signature bytes (PKCS#1 v1.5 is deterministic) and verify each other. No
// published Alipay test vector with its private key was found, so this is
// the independent check. Skipped when openssl is not installed.
func TestOpenSSLCrossCheck(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	der, _ := x509.MarshalPKCS8PrivateKey(testKey)
	keyFile := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	content := signContent(url.Values{"app_id": {"2021000000000001"}, "biz_content": {`{"subject":"测试","total_amount":"0.01"}`},
		"charset": {"utf-8"}, "sign_type": {"RSA2"}, "timestamp": {"2026-12-05 18:00:00"}}, true)
	msgFile := filepath.Join(dir, "msg")
	if err := os.WriteFile(msgFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "dgst", "-sha256", "-sign", keyFile, msgFile).Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	ours, err := signRSA2(testKey, []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	if theirs := base64.StdEncoding.EncodeToString(out); theirs != ours {
		t.Errorf("openssl signature\n%s\ndiffers from ours\n%s", theirs, ours)
	}
	if err := verifyRSA2(&testKey.PublicKey, []byte(content), base64.StdEncoding.EncodeToString(out)); err != nil {
		t.Errorf("openssl's signature does not verify: %v", err)
	}
}

func TestBuyerTexts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		locale string
		zh     bool
	}{{"", false}, {"en", false}, {"en-US", false}, {"de", false}, {"zh", true}, {"zh-CN", true}, {"zh-Hans", true}, {"ZH-cn", true}} {
		for _, txt := range []text{textCurrency, textMethod, textAmount, textRefused, textClosed, textScan} {
			got := txt.in(tc.locale)
			if strings.TrimSpace(got) == "" {
				t.Fatalf("empty text for %q", tc.locale)
			}
			hasHan := strings.ContainsFunc(got, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff })
			if hasHan != tc.zh {
				t.Errorf("locale %q got %q, want Chinese=%v", tc.locale, got, tc.zh)
			}
		}
	}
}

func mustKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCertSNOpenSSL checks Alipay's certificate SN (MD5 of the issuer in
// RFC 2253 form and the decimal serial) against openssl's view of the
// same certificate. Skipped without openssl.
func TestCertSNOpenSSL(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(0).SetBytes([]byte{0x0f, 0xee, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}),
		Subject: pkix.Name{Country: []string{"CN"}, Organization: []string{"Ant Financial"}, OrganizationalUnit: []string{"Certification Authority"},
			CommonName: "Ant Financial Certification Authority Class 2 R1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, ca, ca, &testKey.PublicKey, testKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	file := filepath.Join(t.TempDir(), "c.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "x509", "-in", file, "-noout", "-issuer", "-serial", "-nameopt", "RFC2253").Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	var issuer, serialHex string
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "issuer="); ok {
			issuer = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(l, "serial="); ok {
			serialHex = strings.TrimSpace(v)
		}
	}
	serial, ok := new(big.Int).SetString(serialHex, 16)
	if issuer != "CN=Ant Financial Certification Authority Class 2 R1,OU=Certification Authority,O=Ant Financial,C=CN" || !ok {
		t.Fatalf("openssl says issuer %q serial %q", issuer, serialHex)
	}
	sum := md5.Sum([]byte(issuer + serial.String()))
	if got, want := certSN(cert), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("certSN = %s, want %s (from openssl: %s + %s)", got, want, issuer, serial)
	}
}

// TestSubject: the subject a buyer sees in Alipay names the order in the
// buyer's language when the shop set no prefix, and keeps the shop's
// prefix when it did.
func TestSubject(t *testing.T) {
	for _, c := range []struct{ prefix, locale, want string }{
		{"", "zh-CN", "订单 #1001"},
		{"", "en", "Order #1001"},
		{"", "", "Order #1001"},
		{"茶语小店", "en", "茶语小店 #1001"},
	} {
		if got := subject(c.prefix, payment.CreateRequest{OrderNumber: "#1001", Locale: c.locale}); got != c.want {
			t.Errorf("prefix %q, locale %q: %q, want %q", c.prefix, c.locale, got, c.want)
		}
	}
}
