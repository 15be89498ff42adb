package webhook

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// SignRSASHA256 signs msg with RSASSA-PKCS1-v1_5 over SHA-256 (Alipay's
// "RSA2", WeChat Pay v3's "SHA256-RSA2048").
func SignRSASHA256(key *rsa.PrivateKey, msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	return rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
}

// VerifyRSASHA256 verifies an RSASSA-PKCS1-v1_5 SHA-256 signature; it
// returns ErrBadSignature (wrapped) when it does not match.
func VerifyRSASHA256(pub *rsa.PublicKey, msg, sig []byte) error {
	sum := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

// ParseRSAPrivateKey parses a PEM ("RSA PRIVATE KEY" PKCS #1 or "PRIVATE
// KEY" PKCS #8) or a bare base64 DER key, as gateways' consoles hand them out.
func ParseRSAPrivateKey(data []byte) (*rsa.PrivateKey, error) {
	der, err := derBytes(data)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("webhook: parse RSA private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("webhook: private key is %T, want RSA", k)
	}
	return rk, nil
}

// ParseRSAPublicKey parses a PEM or bare base64 DER public key (PKIX "PUBLIC
// KEY", PKCS #1 "RSA PUBLIC KEY") or the public key of an X.509 certificate
// (WeChat Pay platform certificates).
func ParseRSAPublicKey(data []byte) (*rsa.PublicKey, error) {
	der, err := derBytes(data)
	if err != nil {
		return nil, err
	}
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, fmt.Errorf("webhook: public key is %T, want RSA", k)
	}
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, nil
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, errors.New("webhook: not an RSA public key or certificate")
	}
	rk, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("webhook: certificate key is %T, want RSA", cert.PublicKey)
	}
	return rk, nil
}

func derBytes(data []byte) ([]byte, error) {
	if block, _ := pem.Decode(data); block != nil {
		return block.Bytes, nil
	}
	s := strings.Join(strings.Fields(string(data)), "")
	der, err := b64.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("webhook: key is neither PEM nor base64 DER: %w", err)
	}
	return der, nil
}

// AlipaySignContent returns the string Alipay signs for a notification or
// request: every parameter except "sign" and "sign_type" with a non-empty
// value, sorted by name, joined as "k=v&k=v" with raw (unescaped) values.
func AlipaySignContent(params url.Values) string { return alipayContent(params, false) }

// AlipayRequestSignContent returns the string an Alipay OpenAPI request is
// signed over: like [AlipaySignContent], but "sign_type" is signed too.
func AlipayRequestSignContent(params url.Values) string { return alipayContent(params, true) }

func alipayContent(params url.Values, withSignType bool) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k == "sign" || (!withSignType && k == "sign_type") || len(v) == 0 || v[0] == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(params.Get(k))
	}
	return sb.String()
}

// WeChatPayMessage returns the message WeChat Pay v3 signs for a
// notification or response: "<timestamp>\n<nonce>\n<body>\n", with the
// values of the Wechatpay-Timestamp and Wechatpay-Nonce headers.
func WeChatPayMessage(timestamp, nonce string, body []byte) []byte {
	msg := make([]byte, 0, len(timestamp)+len(nonce)+len(body)+3)
	msg = append(msg, timestamp...)
	msg = append(msg, '\n')
	msg = append(msg, nonce...)
	msg = append(msg, '\n')
	msg = append(msg, body...)
	msg = append(msg, '\n')
	return msg
}
