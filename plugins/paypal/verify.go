package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// signatureBase is the string PayPal signs for a webhook transmission, as
// its "verify webhook signatures" guide documents:
// "<transmissionId>|<timeStamp>|<webhookId>|<crc32>", the CRC-32 (IEEE)
// of the raw body as an unsigned decimal.
func signatureBase(transmissionID, transmissionTime, webhookID string, body []byte) string {
	return transmissionID + "|" + transmissionTime + "|" + webhookID + "|" + strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
}

// verifyWithCert checks PAYPAL-TRANSMISSION-SIG (base64 SHA256withRSA)
// with the certificate's key.
func verifyWithCert(cert *x509.Certificate, transmissionID, transmissionTime, webhookID string, body []byte, sig string) error {
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("the PayPal certificate has no RSA key")
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return errors.New("PAYPAL-TRANSMISSION-SIG is not base64")
	}
	sum := sha256.Sum256([]byte(signatureBase(transmissionID, transmissionTime, webhookID, body)))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw); err != nil {
		return errors.New("the signature does not verify with PayPal's certificate")
	}
	return nil
}

// errCertURL is a PAYPAL-CERT-URL the plugin refuses to fetch.
var errCertURL = errors.New("PAYPAL-CERT-URL is not a certificate URL on PayPal's API host")

// checkCertURL refuses any PAYPAL-CERT-URL but https (or the configured
// test double's scheme) on one of the allowed hosts, under
// /v1/notifications/certs/: the header is chosen by whoever sends the
// request, and fetching it unchecked would let anyone make the shop call
// any address (SSRF) and sign with a key of their own.
func checkCertURL(raw string, hosts map[string]bool, allowHTTP bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || !hosts[u.Host] ||
		!(u.Scheme == "https" || allowHTTP && u.Scheme == "http") ||
		!strings.HasPrefix(u.EscapedPath(), "/v1/notifications/certs/") || strings.Contains(u.Path, "..") {
		return nil, errCertURL
	}
	return u, nil
}

// certCache fetches PayPal's webhook certificates once per URL.
type certCache struct {
	http *http.Client
	// roots verifies the chain of certificates from PayPal's hosts (nil:
	// the system's roots).
	roots *x509.CertPool
	// testDouble says the base URL is a test double of PayPal, whose
	// certificate is trusted for coming from the configured host (no
	// public chain).
	testDouble bool

	mu sync.Mutex
	m  map[string]*x509.Certificate
}

func newCertCache(hc *http.Client, roots *x509.CertPool, testDouble bool) *certCache {
	return &certCache{http: hc, roots: roots, testDouble: testDouble, m: map[string]*x509.Certificate{}}
}

// get returns the certificate at u, fetched and checked on first use.
func (c *certCache) get(ctx context.Context, u *url.URL, now time.Time) (*x509.Certificate, error) {
	key := u.String()
	c.mu.Lock()
	cert, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(cert.NotAfter) {
		return cert, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, key, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("paypal: fetch webhook certificate: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil || res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("paypal: fetch webhook certificate: status %d %v", res.StatusCode, err)
	}
	var chain []*x509.Certificate
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			crt, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("paypal: webhook certificate: %w", err)
			}
			chain = append(chain, crt)
		}
	}
	if len(chain) == 0 {
		return nil, errors.New("paypal: the webhook certificate URL served no certificate")
	}
	cert = chain[0]
	if !c.testDouble {
		inter := x509.NewCertPool()
		for _, crt := range chain[1:] {
			inter.AddCert(crt)
		}
		name := "messageverificationcerts.paypal.com"
		if strings.Contains(u.Host, "sandbox") {
			name = "messageverificationcerts.sandbox.paypal.com"
		}
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: c.roots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return nil, fmt.Errorf("paypal: webhook certificate is not PayPal's: %w", err)
		}
	} else if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, errors.New("paypal: the webhook certificate is not valid now")
	}
	c.mu.Lock()
	if len(c.m) > 32 {
		clear(c.m)
	}
	c.m[key] = cert
	c.mu.Unlock()
	return cert, nil
}
