package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// UnionPay's signing certificates name UnionPay in the third "@" part of
// their subject CN ("<ca>@<id>@中国银联股份有限公司@<n>"); the certificates
// of UnionPay's test environment carry "00040000:SIGN" there instead.
const (
	unionPayCNName = "中国银联股份有限公司"
	testCNName     = "00040000:SIGN"
)

// credentials are the parsed signing credentials and trust anchors.
type credentials struct {
	key    *rsa.PrivateKey
	cert   *x509.Certificate
	certID string // the signing certificate's serial number in decimal
	roots  *x509.CertPool
	middle *x509.CertPool
	// test accepts the test environment's CN as well.
	test bool
}

// parseCredentials checks the signing key and certificate (PKCS#12 or
// PEM) and the UnionPay root and middle certificates, with a message
// naming the field for each problem.
func parseCredentials(s settings, now time.Time) (*credentials, []sdk.ConfigError) {
	var errs []sdk.ConfigError
	bad := func(field, code, msg string) {
		errs = append(errs, sdk.ConfigError{Field: field, Code: code, Message: msg})
	}
	c := &credentials{test: s.Sandbox}
	switch {
	case s.SignCertPFX != "" && (s.SignKey != "" || s.SignCert != ""):
		bad("/sign_cert_pfx", "mode_conflict", "paste either the .pfx signing certificate or the PEM key and certificate, not both")
	case s.SignCertPFX != "":
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s.SignCertPFX), ""))
		if err != nil {
			bad("/sign_cert_pfx", "invalid_pfx", "the .pfx must be pasted as base64 (base64 -w0 acp_sign.pfx); it is not base64")
			break
		}
		keyDER, certs, err := decodePFX(der, s.SignCertPassword)
		if err != nil {
			field := "/sign_cert_pfx"
			if errors.Is(err, errPFXPassword) {
				field = "/sign_cert_password"
			}
			bad(field, "invalid_pfx", err.Error())
			break
		}
		parsed, err := x509.ParsePKCS8PrivateKey(keyDER)
		key, ok := parsed.(*rsa.PrivateKey)
		if err != nil || !ok {
			bad("/sign_cert_pfx", "invalid_key", "the private key in the .pfx is not an RSA key")
			break
		}
		c.key = key
		for _, cert := range certs {
			if pub, ok := cert.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&key.PublicKey) {
				c.cert = cert
			}
		}
		if c.cert == nil {
			bad("/sign_cert_pfx", "key_mismatch", "the .pfx holds no certificate for its private key")
		}
	case s.SignKey == "" || s.SignCert == "":
		bad("/sign_cert_pfx", "required", "paste the signing certificate: the .pfx file (base64) with its password, or the private key and certificate as PEM")
	default:
		key, err := webhook.ParseRSAPrivateKey([]byte(s.SignKey))
		if err != nil {
			bad("/sign_key", "invalid_key", "the signing key is not an RSA private key in PEM (PKCS#1 or PKCS#8); export it from the .pfx with openssl pkcs12 -in acp.pfx -nocerts -nodes")
			break
		}
		c.key = key
		certs := pemCertificates(s.SignCert)
		if len(certs) == 0 {
			bad("/sign_cert", "invalid_certificate", "the signing certificate is not a PEM certificate; export it with openssl pkcs12 -in acp.pfx -clcerts -nokeys")
			break
		}
		if pub, ok := certs[0].PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
			bad("/sign_cert", "key_mismatch", "the signing certificate was not issued for this private key")
			break
		}
		c.cert = certs[0]
	}
	if c.key != nil && c.key.N.BitLen() < 2048 {
		bad("/sign_cert_pfx", "weak_key", fmt.Sprintf("the signing key has %d bits; UnionPay's 5.1.0 interface needs 2048 bits", c.key.N.BitLen()))
	}
	if c.cert != nil {
		c.certID = c.cert.SerialNumber.String()
		if now.After(c.cert.NotAfter) {
			bad("/sign_cert_pfx", "expired_certificate", "the signing certificate expired on "+c.cert.NotAfter.Format("2006-01-02")+": download a new one in UnionPay's merchant portal (证书管理)")
		}
	}
	roots, middles := pemCertificates(s.RootCert), pemCertificates(s.MiddleCert)
	if len(roots) == 0 {
		bad("/root_cert", "invalid_certificate", "paste UnionPay's root certificate (acp_prod_root.cer, or acp_test_root.cer in the test environment) as PEM")
	}
	if len(middles) == 0 {
		bad("/middle_cert", "invalid_certificate", "paste UnionPay's middle certificate (acp_prod_middle.cer, or acp_test_middle.cer in the test environment) as PEM")
	}
	if len(roots) > 0 && len(middles) > 0 {
		c.roots, c.middle = x509.NewCertPool(), x509.NewCertPool()
		for _, r := range roots {
			c.roots.AddCert(r)
		}
		for _, m := range middles {
			c.middle.AddCert(m)
			if _, err := m.Verify(x509.VerifyOptions{Roots: c.roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				bad("/middle_cert", "untrusted_certificate", "the middle certificate is not signed by the root certificate (production and test files mixed up?): "+err.Error())
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// pemCertificates parses every CERTIFICATE block, or one bare base64 DER
// certificate (the way .cer files are sometimes passed around).
func pemCertificates(data string) []*x509.Certificate {
	var out []*x509.Certificate
	rest := []byte(strings.TrimSpace(data))
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			out = append(out, c)
		}
	}
	if len(out) == 0 && data != "" {
		if der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(data), "")); err == nil {
			if c, err := x509.ParseCertificate(der); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// errUntrustedCert says a signPubKeyCert is not UnionPay's.
var errUntrustedCert = errors.New("unionpay: signPubKeyCert is not a UnionPay signing certificate")

// verifySignCert checks a signPubKeyCert as UnionPay's 5.1.0 rules ask:
// valid at now, chaining to the configured middle and root certificates,
// and with UnionPay's name in its CN. It returns the certificate's key.
func (c *credentials) verifySignCert(certPEM string, now time.Time) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(certPEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: not a PEM certificate", errUntrustedCert)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUntrustedCert, err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: c.roots, Intermediates: c.middle, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("%w: %v", errUntrustedCert, err)
	}
	if name := cnIdentity(cert.Subject.CommonName); name != unionPayCNName && !(c.test && name == testCNName) {
		return nil, fmt.Errorf("%w: subject CN %q does not name %s", errUntrustedCert, cert.Subject.CommonName, unionPayCNName)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an RSA key", errUntrustedCert)
	}
	return pub, nil
}

// cnIdentity is the third "@"-separated part of a CN, where UnionPay's
// certificates name their owner; "" when there is none.
func cnIdentity(cn string) string {
	parts := strings.Split(cn, "@")
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

// verifyMessage checks a signed UnionPay message (an answer or a
// notification) with the signPubKeyCert it carries.
func (c *credentials) verifyMessage(p interface{ Get(string) string }, content string, now time.Time) error {
	if p.Get("signMethod") != "01" {
		return fmt.Errorf("%w: signMethod %q, want 01", errBadSignature, p.Get("signMethod"))
	}
	if p.Get("signature") == "" {
		return fmt.Errorf("%w: no signature", errBadSignature)
	}
	pub, err := c.verifySignCert(p.Get("signPubKeyCert"), now)
	if err != nil {
		return err
	}
	return verifyContent(pub, content, p.Get("signature"))
}
