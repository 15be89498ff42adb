package main

import (
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/kassahq/kassa/plugins/sdk"
)

// certMode holds the certificate-mode (公钥证书) values: the serial
// numbers Alipay wants in every request (app_cert_sn,
// alipay_root_cert_sn) and the one it puts in answers (alipay_cert_sn).
type certMode struct {
	appCertSN, rootCertSN, alipayCertSN string
}

// pemCerts parses every CERTIFICATE block; blocks Go cannot parse (the SM2
// root in Alipay's root bundle) come back as nil entries with their DER.
func pemCerts(data string) (certs []*x509.Certificate, raws [][]byte) {
	rest := []byte(data)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return certs, raws
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, _ := x509.ParseCertificate(block.Bytes)
		certs, raws = append(certs, c), append(raws, block.Bytes)
	}
}

// certSN is Alipay's certificate SN: the hex MD5 of the issuer's
// distinguished name in RFC 2253 order ("CN=...,OU=...,O=...,C=CN")
// followed by the serial number in decimal.
func certSN(c *x509.Certificate) string {
	var issuer pkix.RDNSequence
	if _, err := asn1.Unmarshal(c.RawIssuer, &issuer); err != nil {
		return ""
	}
	sum := md5.Sum([]byte(issuer.String() + c.SerialNumber.String()))
	return hex.EncodeToString(sum[:])
}

// rootCertSN joins, with "_", the SNs of the root bundle's certificates
// signed with sha1WithRSA or sha256WithRSA; the others (SM2, ECDSA) are
// left out as Alipay's SDKs do.
func rootCertSN(certs []*x509.Certificate) string {
	var sns []string
	for _, c := range certs {
		if c != nil && (c.SignatureAlgorithm == x509.SHA1WithRSA || c.SignatureAlgorithm == x509.SHA256WithRSA) {
			sns = append(sns, certSN(c))
		}
	}
	return strings.Join(sns, "_")
}

// configureCerts checks the three certificates of certificate mode and
// returns the Alipay public key from the Alipay certificate.
func configureCerts(s settings, appKey *rsa.PrivateKey) (*certMode, *rsa.PublicKey, []sdk.ConfigError) {
	var errs []sdk.ConfigError
	bad := func(field, code, msg string) {
		errs = append(errs, sdk.ConfigError{Field: field, Code: code, Message: msg})
	}
	if s.AppCert == "" || s.AlipayCert == "" || s.AlipayRootCert == "" {
		for field, v := range map[string]string{"/app_cert": s.AppCert, "/alipay_cert": s.AlipayCert, "/alipay_root_cert": s.AlipayRootCert} {
			if v == "" {
				bad(field, "required", "certificate mode needs the app certificate, the Alipay certificate and the Alipay root certificate")
			}
		}
		return nil, nil, errs
	}
	if s.AlipayPublicKey != "" {
		bad("/alipay_public_key", "mode_conflict", "leave the Alipay public key empty in certificate mode: the key comes from the Alipay certificate")
	}
	app, _ := pemCerts(s.AppCert)
	alipay, _ := pemCerts(s.AlipayCert)
	roots, _ := pemCerts(s.AlipayRootCert)
	var appPub, alipayPub *rsa.PublicKey
	if len(app) == 0 || app[0] == nil {
		bad("/app_cert", "invalid_certificate", "the app certificate (appCertPublicKey_<APPID>.crt) is not a PEM certificate")
	} else if appPub, _ = app[0].PublicKey.(*rsa.PublicKey); appPub == nil || (appKey != nil && !appPub.Equal(&appKey.PublicKey)) {
		bad("/app_cert", "key_mismatch", "the app certificate was not issued for this app private key: generate the CSR from this key, or paste the matching private key")
	}
	if len(alipay) == 0 || alipay[0] == nil {
		bad("/alipay_cert", "invalid_certificate", "the Alipay certificate (alipayCertPublicKey_RSA2.crt) is not a PEM certificate")
	} else if alipayPub, _ = alipay[0].PublicKey.(*rsa.PublicKey); alipayPub == nil {
		bad("/alipay_cert", "invalid_certificate", "the Alipay certificate does not hold an RSA key")
	}
	pool := x509.NewCertPool()
	for _, r := range roots {
		if r != nil {
			pool.AddCert(r)
		}
	}
	root := rootCertSN(roots)
	if root == "" {
		bad("/alipay_root_cert", "invalid_certificate", "the Alipay root certificate (alipayRootCert.crt) holds no RSA-signed certificate")
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	inter := x509.NewCertPool()
	for _, c := range alipay[1:] {
		if c != nil {
			inter.AddCert(c)
		}
	}
	opts := x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := alipay[0].Verify(opts); err != nil {
		bad("/alipay_cert", "untrusted_certificate", "the Alipay certificate does not chain to the Alipay root certificate: "+err.Error())
	}
	if _, err := app[0].Verify(opts); err != nil {
		bad("/app_cert", "untrusted_certificate", "the app certificate does not chain to the Alipay root certificate: "+err.Error())
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return &certMode{appCertSN: certSN(app[0]), rootCertSN: root, alipayCertSN: certSN(alipay[0])}, alipayPub, nil
}

// errCertChanged says Alipay signed with a certificate other than the
// configured one (Alipay rotates its certificate before expiry).
var errCertChanged = errors.New("alipay: answer signed with another Alipay certificate")

func checkAlipayCertSN(m *certMode, got string) error {
	if m == nil || got == "" || got == m.alipayCertSN {
		return nil
	}
	return fmt.Errorf("%w (alipay_cert_sn %s, configured %s): download the current 支付宝公钥证书 from the console", errCertChanged, got, m.alipayCertSN)
}
