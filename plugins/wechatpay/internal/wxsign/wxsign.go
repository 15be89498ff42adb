// Package wxsign holds WeChat Pay API v3's signature and encryption rules,
// shared by the plugin and its sandbox so both sides speak the same
// protocol: the request Authorization header, the response and notification
// signature headers, and the AEAD_AES_256_GCM resource of notifications.
package wxsign

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Scheme is the Authorization scheme of merchant requests.
const Scheme = "WECHATPAY2-SHA256-RSA2048"

// Headers WeChat Pay signs its responses and notifications with.
const (
	HeaderSignature = "Wechatpay-Signature"
	HeaderTimestamp = "Wechatpay-Timestamp"
	HeaderNonce     = "Wechatpay-Nonce"
	HeaderSerial    = "Wechatpay-Serial"
)

// MaxSkew is how far a signed timestamp may be from the receiver's clock.
const MaxSkew = 5 * time.Minute

// MinKeyBits is the smallest RSA key WeChat Pay accepts (SHA256-RSA2048).
const MinKeyBits = 2048

// Errors of verification, for callers that report what exactly is wrong.
var (
	ErrMissing      = errors.New("signature headers missing")
	ErrWrongSerial  = errors.New("signed with another key than the configured one")
	ErrBadSignature = errors.New("signature does not match")
	ErrStale        = errors.New("signed timestamp too far from now")
)

// RequestMessage is what a merchant signs for a request:
// "METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n", URL being the path with its query.
func RequestMessage(method, pathAndQuery string, timestamp int64, nonce string, body []byte) []byte {
	var b strings.Builder
	b.Grow(len(method) + len(pathAndQuery) + len(nonce) + len(body) + 20)
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(pathAndQuery)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(timestamp, 10))
	b.WriteByte('\n')
	b.WriteString(nonce)
	b.WriteByte('\n')
	b.Write(body)
	b.WriteByte('\n')
	return []byte(b.String())
}

// ResponseMessage is what WeChat Pay signs for a response or a
// notification: "TIMESTAMP\nNONCE\nBODY\n".
func ResponseMessage(timestamp, nonce string, body []byte) []byte {
	msg := make([]byte, 0, len(timestamp)+len(nonce)+len(body)+3)
	msg = append(msg, timestamp...)
	msg = append(msg, '\n')
	msg = append(msg, nonce...)
	msg = append(msg, '\n')
	msg = append(msg, body...)
	return append(msg, '\n')
}

// JSAPIMessage is what a merchant signs for WeixinJSBridge's paySign:
// "APPID\nTIMESTAMP\nNONCE\nPACKAGE\n".
func JSAPIMessage(appID, timestamp, nonce, pkg string) []byte {
	return []byte(appID + "\n" + timestamp + "\n" + nonce + "\n" + pkg + "\n")
}

// Sign returns the base64 RSASSA-PKCS1-v1_5 SHA-256 signature of msg.
func Sign(key *rsa.PrivateKey, msg []byte) (string, error) {
	sum := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("wxsign: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks a base64 RSASSA-PKCS1-v1_5 SHA-256 signature of msg.
func Verify(pub *rsa.PublicKey, msg []byte, sigB64 string) error {
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return fmt.Errorf("%w: not base64", ErrBadSignature)
	}
	sum := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return ErrBadSignature
	}
	return nil
}

// Nonce returns a random 32-character string of upper-case letters and
// digits, as WeChat Pay's examples use.
func Nonce() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Authorization builds the Authorization header value of a request.
func Authorization(mchID, serialNo, nonce string, timestamp int64, signature string) string {
	return fmt.Sprintf(`%s mchid="%s",nonce_str="%s",signature="%s",timestamp="%d",serial_no="%s"`,
		Scheme, mchID, nonce, signature, timestamp, serialNo)
}

// ParseAuthorization reads the fields of an Authorization header value.
func ParseAuthorization(v string) (map[string]string, error) {
	rest, ok := strings.CutPrefix(v, Scheme+" ")
	if !ok {
		return nil, fmt.Errorf("wxsign: authorization scheme is not %s", Scheme)
	}
	out := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
			return nil, fmt.Errorf("wxsign: malformed authorization field %q", part)
		}
		out[k] = val[1 : len(val)-1]
	}
	for _, k := range []string{"mchid", "nonce_str", "signature", "timestamp", "serial_no"} {
		if out[k] == "" {
			return nil, fmt.Errorf("wxsign: authorization lacks %s", k)
		}
	}
	return out, nil
}

// SignHeaders sets the Wechatpay-* headers of a response or notification
// signed by key, whose id is serial.
func SignHeaders(h http.Header, key *rsa.PrivateKey, serial string, at time.Time, body []byte) error {
	ts := strconv.FormatInt(at.Unix(), 10)
	nonce := Nonce()
	sig, err := Sign(key, ResponseMessage(ts, nonce, body))
	if err != nil {
		return err
	}
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderNonce, nonce)
	h.Set(HeaderSerial, serial)
	h.Set(HeaderSignature, sig)
	return nil
}

// VerifyHeaders checks the Wechatpay-* headers of a response or
// notification against the platform key pub whose id is serial, judging
// the timestamp against now. It returns the signed time.
func VerifyHeaders(h http.Header, body []byte, pub *rsa.PublicKey, serial string, now time.Time) (time.Time, error) {
	ts, nonce, sig, got := h.Get(HeaderTimestamp), h.Get(HeaderNonce), h.Get(HeaderSignature), h.Get(HeaderSerial)
	if ts == "" || nonce == "" || sig == "" || got == "" {
		return time.Time{}, ErrMissing
	}
	if got != serial {
		return time.Time{}, fmt.Errorf("%w: Wechatpay-Serial %q, configured %q", ErrWrongSerial, got, serial)
	}
	if err := Verify(pub, ResponseMessage(ts, nonce, body), sig); err != nil {
		return time.Time{}, err
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: timestamp %q is not a number", ErrBadSignature, ts)
	}
	at := time.Unix(sec, 0)
	if d := now.Sub(at); d > MaxSkew || d < -MaxSkew {
		return at, fmt.Errorf("%w: signed at %s, %s from now", ErrStale, at.UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	return at, nil
}

// Resource is the encrypted part of a notification.
type Resource struct {
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	OriginalType   string `json:"original_type"`
	Nonce          string `json:"nonce"`
}

// Algorithm is the only resource encryption WeChat Pay v3 uses.
const Algorithm = "AEAD_AES_256_GCM"

// OpenGCM decrypts base64 ciphertext (tag appended) with AES-GCM under key.
// WeChat Pay uses a 32-byte APIv3 key (AES-256); other AES key sizes are
// accepted so that published AES-GCM vectors can be checked too.
func OpenGCM(key []byte, nonce, associatedData, ciphertextB64 string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(ciphertextB64)
	if err != nil {
		return nil, fmt.Errorf("wxsign: ciphertext is not base64: %w", err)
	}
	gcm, err := newGCM(key, len(nonce))
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, []byte(nonce), ct, []byte(associatedData))
	if err != nil {
		return nil, fmt.Errorf("wxsign: decrypt: %w", err)
	}
	return plain, nil
}

// SealGCM encrypts plaintext with AES-GCM and returns base64 ciphertext
// with the tag appended (the sandbox's side of OpenGCM).
func SealGCM(key []byte, nonce, associatedData string, plaintext []byte) (string, error) {
	gcm, err := newGCM(key, len(nonce))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))), nil
}

func newGCM(key []byte, nonceSize int) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("wxsign: AES key: %w", err)
	}
	if nonceSize == 0 {
		return nil, errors.New("wxsign: empty nonce")
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, nonceSize)
	if err != nil {
		return nil, fmt.Errorf("wxsign: GCM: %w", err)
	}
	return gcm, nil
}

// Decrypt opens a notification resource with the 32-byte APIv3 key.
func Decrypt(apiV3Key []byte, r Resource) ([]byte, error) {
	if r.Algorithm != Algorithm {
		return nil, fmt.Errorf("wxsign: resource algorithm %q, want %s", r.Algorithm, Algorithm)
	}
	if len(apiV3Key) != 32 {
		return nil, fmt.Errorf("wxsign: APIv3 key must be 32 bytes, got %d", len(apiV3Key))
	}
	return OpenGCM(apiV3Key, r.Nonce, r.AssociatedData, r.Ciphertext)
}

// Key problems reported by ParsePrivateKey and ParsePublicKey, so that
// settings can be refused with a precise message.
var (
	ErrNotPEM   = errors.New("not a PEM block (expected -----BEGIN ...-----)")
	ErrNotRSA   = errors.New("not an RSA key")
	ErrTooShort = fmt.Errorf("RSA key shorter than %d bits", MinKeyBits)
)

// ParsePrivateKey parses a PEM RSA private key (PKCS #8 "PRIVATE KEY", as
// the merchant platform's certificate tool writes apiclient_key.pem, or
// PKCS #1 "RSA PRIVATE KEY").
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, ErrNotPEM
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: PEM block is %q, want PRIVATE KEY", ErrNotRSA, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotRSA, err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: the key is %T", ErrNotRSA, key)
	}
	if rk.N.BitLen() < MinKeyBits {
		return nil, fmt.Errorf("%w: %d bits", ErrTooShort, rk.N.BitLen())
	}
	return rk, nil
}

// ParsePublicKey parses a PEM RSA public key ("PUBLIC KEY", as the
// merchant platform hands out WeChat Pay's public key) or the key of a PEM
// certificate (platform or merchant certificate).
func ParsePublicKey(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, ErrNotPEM
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotRSA, err)
		}
		key = k
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotRSA, err)
		}
		key = k
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotRSA, err)
		}
		key = c.PublicKey
	default:
		return nil, fmt.Errorf("%w: PEM block is %q, want PUBLIC KEY or CERTIFICATE", ErrNotRSA, block.Type)
	}
	rk, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the key is %T", ErrNotRSA, key)
	}
	if rk.N.BitLen() < MinKeyBits {
		return nil, fmt.Errorf("%w: %d bits", ErrTooShort, rk.N.BitLen())
	}
	return rk, nil
}
