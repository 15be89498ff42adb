package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"time"
)

// CA is a test certificate authority shaped like UnionPay's: a root, a
// middle certificate it signs, and UnionPay's signing certificate signed
// by the middle one.
type CA struct {
	RootKey, MiddleKey, SignKey *rsa.PrivateKey
	Root, Middle, Sign          *x509.Certificate
}

// CN styles of the signing certificate.
const (
	// ProductionCN names UnionPay as production certificates do.
	ProductionCN = "041@Z20260101@中国银联股份有限公司@00000001"
	// TestCN is the test environment's style.
	TestCN = "041@Z20260101@00040000:SIGN@00000001"
)

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	return n
}

// Issue creates a certificate for pub signed by parent (self-signed when
// parent is nil) and valid from notBefore to notAfter.
func Issue(cn string, pub *rsa.PublicKey, parent *x509.Certificate, parentKey *rsa.PrivateKey, isCA bool, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Country: []string{"CN"}, Organization: []string{"China UnionPay Sandbox"}, OrganizationalUnit: []string{"00"}, CommonName: cn},
		NotBefore:    notBefore, NotAfter: notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true, IsCA: isCA,
	}
	if isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// NewCA generates a root, a middle and a signing certificate whose CN is
// signCN, valid now.
func NewCA(signCN string) (*CA, error) {
	ca := &CA{}
	var err error
	for _, k := range []**rsa.PrivateKey{&ca.RootKey, &ca.MiddleKey, &ca.SignKey} {
		if *k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	if ca.Root, err = Issue("CFCA TEST ROOT", &ca.RootKey.PublicKey, nil, ca.RootKey, true, now.Add(-time.Hour), now.AddDate(10, 0, 0)); err != nil {
		return nil, err
	}
	if ca.Middle, err = Issue("CFCA TEST OCA1", &ca.MiddleKey.PublicKey, ca.Root, ca.RootKey, true, now.Add(-time.Hour), now.AddDate(5, 0, 0)); err != nil {
		return nil, err
	}
	if ca.Sign, err = Issue(signCN, &ca.SignKey.PublicKey, ca.Middle, ca.MiddleKey, false, now.Add(-time.Hour), now.AddDate(1, 0, 0)); err != nil {
		return nil, err
	}
	return ca, nil
}

// PEM encodes a certificate.
func PEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}
