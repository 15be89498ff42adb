package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// certs is the sandbox's certificate-mode (公钥证书) material: a root CA
// (plus an ECDSA root standing in for Alipay's SM2 root, which Alipay's SN
// leaves out), the Alipay certificate and the app's certificate.
type certs struct {
	rootPEM, alipayPEM, appPEM string
	rootSN, alipaySN, appSN    string
}

var shortNames = map[string]string{"2.5.4.6": "C", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.3": "CN", "2.5.4.7": "L", "2.5.4.8": "ST"}

// sn computes Alipay's certificate SN from the parsed issuer attributes,
// most specific first, by a different route than the plugin's.
func sn(c *x509.Certificate) string {
	var parts []string
	for i := len(c.Issuer.Names) - 1; i >= 0; i-- {
		n := c.Issuer.Names[i]
		parts = append(parts, shortNames[n.Type.String()]+"="+fmt.Sprint(n.Value))
	}
	sum := md5.Sum([]byte(strings.Join(parts, ",") + c.SerialNumber.String()))
	return hex.EncodeToString(sum[:])
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

func pemOf(der ...[]byte) string {
	var sb strings.Builder
	for _, d := range der {
		sb.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d}))
	}
	return sb.String()
}

func newCerts(alipayKey *rsa.PrivateKey, appPub *rsa.PublicKey) (*certs, error) {
	now := time.Now()
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	name := func(cn string) pkix.Name {
		return pkix.Name{Country: []string{"CN"}, Organization: []string{"Ant Financial"}, OrganizationalUnit: []string{"Certification Authority"}, CommonName: cn}
	}
	rootTpl := &x509.Certificate{SerialNumber: serial(), Subject: name("Ant Financial Certification Authority R1 (sandbox)"),
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SignatureAlgorithm: x509.SHA256WithRSA}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTpl, rootTpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	root, _ := x509.ParseCertificate(rootDER)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecTpl := &x509.Certificate{SerialNumber: serial(), Subject: name("Ant Financial Certification Authority E1 (sandbox)"),
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	ecDER, err := x509.CreateCertificate(rand.Reader, ecTpl, ecTpl, &ecKey.PublicKey, ecKey)
	if err != nil {
		return nil, err
	}
	leaf := func(cn string, pub *rsa.PublicKey) ([]byte, *x509.Certificate, error) {
		tpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{Country: []string{"CN"}, Organization: []string{"sandbox"}, CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature, SignatureAlgorithm: x509.SHA256WithRSA}
		der, err := x509.CreateCertificate(rand.Reader, tpl, root, pub, rootKey)
		if err != nil {
			return nil, nil, err
		}
		c, err := x509.ParseCertificate(der)
		return der, c, err
	}
	alipayDER, alipayCert, err := leaf("支付宝(中国)网络技术有限公司", &alipayKey.PublicKey)
	if err != nil {
		return nil, err
	}
	appDER, appCert, err := leaf("app", appPub)
	if err != nil {
		return nil, err
	}
	return &certs{rootPEM: pemOf(rootDER, ecDER), alipayPEM: pemOf(alipayDER), appPEM: pemOf(appDER),
		rootSN: sn(root), alipaySN: sn(alipayCert), appSN: sn(appCert)}, nil
}
