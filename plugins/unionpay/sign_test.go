package main

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/unionpay/internal/sandbox"
)

// frontFields are the fields of a front consumption as UnionPay's 5.1.0
// specification lists them (certId is the decimal serial of the signing
// certificate; UnionPay's test certificate has 68759585097).
var frontFields = url.Values{
	"version": {"5.1.0"}, "encoding": {"UTF-8"}, "certId": {"68759585097"}, "signMethod": {"01"}, "txnType": {"01"},
	"txnSubType": {"01"}, "bizType": {"000201"}, "channelType": {"07"}, "accessType": {"0"}, "merId": {"777290058110048"},
	"orderId": {"20260617101500"}, "txnTime": {"20260617101500"}, "txnAmt": {"1000"}, "currencyCode": {"156"},
	"signature": {"left out"},
}

// TestCanonicalKnownAnswer: the string to sign is every field but
// signature, sorted by name, "k=v" joined with "&"; its digest is the
// lowercase hex SHA-256, here as coreutils' sha256sum computed it.
func TestCanonicalKnownAnswer(t *testing.T) {
	t.Parallel()
	const want = "accessType=0&bizType=000201&certId=68759585097&channelType=07&currencyCode=156&encoding=UTF-8&merId=777290058110048" +
		"&orderId=20260617101500&signMethod=01&txnAmt=1000&txnSubType=01&txnTime=20260617101500&txnType=01&version=5.1.0"
	got := canonical(frontFields)
	if got != want {
		t.Fatalf("canonical\n got %s\nwant %s", got, want)
	}
	if got != sandbox.SignatureString(frontFields) {
		t.Errorf("the sandbox's string differs: %s", sandbox.SignatureString(frontFields))
	}
	if d := digestHex(got); d != "66e74e4f77c7965ca66236bb123affd722f79538701d5f5aa9a228ff024a1a50" {
		t.Errorf("digest %s", d)
	}
	// Empty values are part of a received message's string.
	if c := canonical(url.Values{"b": {""}, "a": {"1"}, "signature": {"x"}}); c != "a=1&b=" {
		t.Errorf("with an empty value: %q", c)
	}
}

// TestOpenSSLCrossCheck signs the hex digest with openssl (`openssl dgst
// -sha256 -sign`, SHA256withRSA, PKCS#1 v1.5) and checks that the plugin
// produces the same bytes (PKCS#1 v1.5 is deterministic) and that openssl
// verifies the plugin's and the sandbox's signatures: the plugin and the
// sandbox cannot agree on a wrong algorithm. No published UnionPay vector
// with its private key was found; this is the independent check.
func TestOpenSSLCrossCheck(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	keyFile, pubFile, msgFile, sigFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "pub.pem"), filepath.Join(dir, "msg"), filepath.Join(dir, "sig")
	write := func(name string, b []byte) {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(keyFile, []byte(merchantKeyPEM()))
	pubDER, _ := x509.MarshalPKIXPublicKey(&merchantKey.PublicKey)
	write(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	content := canonical(frontFields)
	// UnionPay signs the 64 hex characters of the digest.
	write(msgFile, []byte(digestHex(content)))
	out, err := exec.Command(openssl, "dgst", "-sha256", "-sign", keyFile, msgFile).Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	ours, err := signContent(merchantKey, content)
	if err != nil {
		t.Fatal(err)
	}
	if theirs := base64.StdEncoding.EncodeToString(out); theirs != ours {
		t.Errorf("openssl signature\n%s\ndiffers from ours\n%s", theirs, ours)
	}
	if got := sandbox.SignWith(merchantKey, frontFields); got != ours {
		t.Errorf("the sandbox's signature differs from the plugin's")
	}
	if err := verifyContent(&merchantKey.PublicKey, content, base64.StdEncoding.EncodeToString(out)); err != nil {
		t.Errorf("openssl's signature does not verify: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(ours)
	write(sigFile, raw)
	if res, err := exec.Command(openssl, "dgst", "-sha256", "-verify", pubFile, "-signature", sigFile, msgFile).CombinedOutput(); err != nil {
		t.Errorf("openssl does not verify our signature: %v %s", err, res)
	}
	// Signing the raw canonical string (a plausible mistake) must not verify.
	write(msgFile, []byte(content))
	if exec.Command(openssl, "dgst", "-sha256", "-verify", pubFile, "-signature", sigFile, msgFile).Run() == nil {
		t.Errorf("our signature verifies over the raw string: the hex digest step is missing")
	}
}

func TestParseAnswer(t *testing.T) {
	t.Parallel()
	in := "accessType=0&reqReserved={a=1&b=2}&riskRateInfo=[x&y]&signPubKeyCert=-----BEGIN CERTIFICATE-----\r\nMIIE==\r\n-----END CERTIFICATE-----&signature=ab+c/d==&respCode=00"
	got, err := parseAnswer(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"accessType": "0", "reqReserved": "{a=1&b=2}", "riskRateInfo": "[x&y]",
		"signPubKeyCert": "-----BEGIN CERTIFICATE-----\r\nMIIE==\r\n-----END CERTIFICATE-----", "signature": "ab+c/d==", "respCode": "00"}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.Get(k), v)
		}
	}
	for _, bad := range []string{"", "novalue", "a=1&&b=2", "=x"} {
		if _, err := parseAnswer(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestOrderIDFor(t *testing.T) {
	t.Parallel()
	seen := map[string]string{}
	for _, id := range []string{"pay_01J8X5", "pay01J8X5", "pay_ptdeadbeef_1", "ref_x", "p", strings.Repeat("x", 64), "付款_1"} {
		o := orderIDFor(id)
		if len(o) < 8 || len(o) > 40 || strings.Trim(o, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Errorf("orderIDFor(%q) = %q: not 8-40 letters and digits", id, o)
		}
		if o != orderIDFor(id) {
			t.Errorf("orderIDFor(%q) is not stable", id)
		}
		if prev, dup := seen[o]; dup {
			t.Errorf("%q and %q map to the same orderId %s", prev, id, o)
		}
		seen[o] = id
	}
	if !strings.HasPrefix(orderIDFor("pay_01J8X5"), "pay01J8X5") {
		t.Errorf("orderId %s does not show the attempt id", orderIDFor("pay_01J8X5"))
	}
	if refundOrderID("ref_1", "31") == refundOrderID("ref_1", "04") {
		t.Error("a void and a refund of one refund id share an orderId")
	}
}

// TestSignCertChain: the signPubKeyCert is trusted only when valid,
// chaining to the configured middle and root, and naming UnionPay.
func TestSignCertChain(t *testing.T) {
	t.Parallel()
	ca, err := sandbox.NewCA(sandbox.ProductionCN)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sandbox.NewCA(sandbox.ProductionCN)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	issue := func(cn string, from, to time.Time) string {
		c, err := sandbox.Issue(cn, &ca.SignKey.PublicKey, ca.Middle, ca.MiddleKey, false, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return sandbox.PEM(c)
	}
	creds := func(root, middle *x509.Certificate, test bool) *credentials {
		c, errs := parseCredentials(settings{SignKey: merchantKeyPEM(), SignCert: sandbox.PEM(merchantCert),
			RootCert: sandbox.PEM(root), MiddleCert: sandbox.PEM(middle), Sandbox: test}, now)
		if errs != nil {
			t.Fatal(errs)
		}
		return c
	}
	prod, test := creds(ca.Root, ca.Middle, false), creds(ca.Root, ca.Middle, true)
	cases := []struct {
		name  string
		c     *credentials
		cert  string
		trust bool
	}{
		{"UnionPay's certificate", prod, sandbox.PEM(ca.Sign), true},
		{"another root", creds(other.Root, other.Middle, false), sandbox.PEM(ca.Sign), false},
		{"signed by another CA", prod, sandbox.PEM(other.Sign), false},
		{"expired", prod, issue(sandbox.ProductionCN, now.AddDate(-2, 0, 0), now.Add(-time.Hour)), false},
		{"not yet valid", prod, issue(sandbox.ProductionCN, now.Add(time.Hour), now.AddDate(1, 0, 0)), false},
		{"another company's CN", prod, issue("041@Z20260101@某某科技有限公司@00000001", now.Add(-time.Hour), now.AddDate(1, 0, 0)), false},
		{"UnionPay's name in the wrong place", prod, issue("中国银联股份有限公司", now.Add(-time.Hour), now.AddDate(1, 0, 0)), false},
		{"test CN in production", prod, issue(sandbox.TestCN, now.Add(-time.Hour), now.AddDate(1, 0, 0)), false},
		{"test CN in the test environment", test, issue(sandbox.TestCN, now.Add(-time.Hour), now.AddDate(1, 0, 0)), true},
		{"the middle certificate itself", prod, sandbox.PEM(ca.Middle), false},
		{"garbage", prod, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", false},
	}
	for _, c := range cases {
		_, err := c.c.verifySignCert(c.cert, now)
		if (err == nil) != c.trust {
			t.Errorf("%s: err %v, want trusted %v", c.name, err, c.trust)
		}
	}
}

func TestConfigureRefusals(t *testing.T) {
	t.Parallel()
	ca, err := sandbox.NewCA(sandbox.ProductionCN)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sandbox.NewCA(sandbox.ProductionCN)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := sandbox.Issue("m", &merchantKey.PublicKey, nil, merchantKey, false, time.Now().AddDate(-2, 0, 0), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	base := settings{MerID: testMerID, SignKey: merchantKeyPEM(), SignCert: sandbox.PEM(merchantCert), RootCert: sandbox.PEM(ca.Root), MiddleCert: sandbox.PEM(ca.Middle)}
	for name, tc := range map[string]struct {
		change func(*settings)
		field  string
	}{
		"no credentials":      {func(s *settings) { s.SignKey, s.SignCert = "", "" }, "/sign_cert_pfx"},
		"public key as key":   {func(s *settings) { s.SignKey = sandbox.PEM(merchantCert) }, "/sign_key"},
		"cert of another key": {func(s *settings) { s.SignCert = sandbox.PEM(ca.Sign) }, "/sign_cert"},
		"expired cert":        {func(s *settings) { s.SignCert = sandbox.PEM(expired) }, "/sign_cert_pfx"},
		"no root":             {func(s *settings) { s.RootCert = "" }, "/root_cert"},
		"mixed root/middle":   {func(s *settings) { s.MiddleCert = sandbox.PEM(other.Middle) }, "/middle_cert"},
		"both pfx and pem":    {func(s *settings) { s.SignCertPFX = "AAAA" }, "/sign_cert_pfx"},
		"pfx not base64":      {func(s *settings) { s.SignKey, s.SignCert, s.SignCertPFX = "", "", "@@@" }, "/sign_cert_pfx"},
		"pfx not pkcs12":      {func(s *settings) { s.SignKey, s.SignCert, s.SignCertPFX = "", "", "AAAA" }, "/sign_cert_pfx"},
	} {
		s := base
		tc.change(&s)
		_, errs := parseCredentials(s, time.Now())
		if !hasField(errs, tc.field) {
			t.Errorf("%s: errors %+v, want one on %s", name, errs, tc.field)
		}
	}
	if _, errs := parseCredentials(base, time.Now()); errs != nil {
		t.Errorf("good settings refused: %+v", errs)
	}
}

func hasField(errs []sdk.ConfigError, field string) bool {
	for _, e := range errs {
		if e.Field == field && e.Message != "" && e.Code != "" {
			return true
		}
	}
	return false
}

// TestPFX reads .pfx files openssl writes: OpenSSL 3's default (PBES2,
// AES-256-CBC, HMAC-SHA256) and the older 3DES with a SHA-1 MAC; a wrong
// password is named as such.
func TestPFX(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	keyFile, certFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(keyFile, []byte(merchantKeyPEM()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, []byte(sandbox.PEM(merchantCert)), 0o600); err != nil {
		t.Fatal(err)
	}
	ca, err := sandbox.NewCA(sandbox.ProductionCN)
	if err != nil {
		t.Fatal(err)
	}
	for name, extra := range map[string][]string{
		"default": nil,
		"3des":    {"-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"},
		"aes128":  {"-keypbe", "AES-128-CBC", "-certpbe", "AES-128-CBC"},
	} {
		out := filepath.Join(dir, name+".pfx")
		args := append([]string{"pkcs12", "-export", "-inkey", keyFile, "-in", certFile, "-out", out, "-passout", "pass:000000"}, extra...)
		if b, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: openssl: %v %s", name, err, b)
		}
		der, _ := os.ReadFile(out)
		s := settings{MerID: testMerID, SignCertPFX: base64.StdEncoding.EncodeToString(der), SignCertPassword: "000000",
			RootCert: sandbox.PEM(ca.Root), MiddleCert: sandbox.PEM(ca.Middle)}
		c, errs := parseCredentials(s, time.Now())
		if errs != nil {
			t.Errorf("%s: %+v", name, errs)
			continue
		}
		if !c.key.Equal(merchantKey) || c.certID != merchantCert.SerialNumber.String() {
			t.Errorf("%s: wrong key or certId %s", name, c.certID)
		}
		s.SignCertPassword = "111111"
		if _, errs := parseCredentials(s, time.Now()); !hasField(errs, "/sign_cert_password") {
			t.Errorf("%s with a wrong password: %+v", name, errs)
		}
	}
}

func TestBuyerTexts(t *testing.T) {
	t.Parallel()
	for _, tx := range []text{textCurrency, textMethod, textAmount, textRefused, textDeclined, textPayTitle, textPayBody, textPayButton, textCanceled, textExpired, textReturned} {
		if tx.en == "" || tx.zh == "" || tx.in("zh-Hans-CN") != tx.zh || tx.in("en-GB") != tx.en {
			t.Errorf("text %+v", tx)
		}
	}
}

func TestTraceTime(t *testing.T) {
	t.Parallel()
	ref := time.Date(2026, 12, 31, 23, 59, 0, 0, chinaTime)
	if got := traceTimeNear("0101000100", ref); !got.Equal(time.Date(2027, 1, 1, 0, 1, 0, 0, chinaTime)) {
		t.Errorf("across the year: %v", got)
	}
	if !traceTimeNear("13xx", ref).IsZero() {
		t.Error("garbage parsed")
	}
}
