package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// chinaTime is the zone of UnionPay's times (Beijing time, no DST).
var chinaTime = time.FixedZone("CST", 8*3600)

// txnTimeLayout is UnionPay's txnTime and payTimeout: YYYYMMDDhhmmss.
const txnTimeLayout = "20060102150405"

// canonical is the string UnionPay signs (signMethod 01, version 5.1.0):
// every field but signature, sorted by name (byte order; UnionPay's names
// are ASCII), joined as "k=v&k=v" with raw values. Empty values are kept:
// UnionPay's verification includes every field it received, so a request
// simply leaves empty fields out rather than sending them.
func canonical(p url.Values) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(p.Get(k))
	}
	return sb.String()
}

// sortedKeys returns p's names in canonical order.
func sortedKeys(p url.Values) []string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// digestHex is the first step of signMethod 01: the lowercase hex SHA-256
// of the canonical string (UTF-8). UnionPay then signs these 64 ASCII
// characters, not the raw digest.
func digestHex(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// signContent is signMethod 01: SHA256withRSA (RSASSA-PKCS1-v1_5 over
// SHA-256) of digestHex(content), base64.
func signContent(key *rsa.PrivateKey, content string) (string, error) {
	sum := sha256.Sum256([]byte(digestHex(content)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("unionpay: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// errBadSignature says a message's signature did not verify.
var errBadSignature = errors.New("unionpay: signature does not verify")

// verifyContent checks a base64 signMethod 01 signature over content.
func verifyContent(pub *rsa.PublicKey, content, signature string) error {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: signature is not base64", errBadSignature)
	}
	sum := sha256.Sum256([]byte(digestHex(content)))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
		return errBadSignature
	}
	return nil
}

// parseAnswer reads a synchronous answer of backTransReq.do or
// queryTrans.do: "k=v&k=v" as UnionPay writes it, not URL-encoded, where a
// value wrapped in {} or [] (reqReserved, riskRateInfo and friends) may
// itself hold & and =. The first = of a pair separates name and value
// (signPubKeyCert and signature contain = as base64 padding).
func parseAnswer(s string) (url.Values, error) {
	out := url.Values{}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty answer")
	}
	depth, start := 0, 0
	add := func(pair string) error {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return fmt.Errorf("malformed field %.40q", pair)
		}
		out.Set(k, v)
		return nil
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '[':
			depth++
		case '}', ']':
			if depth > 0 {
				depth--
			}
		case '&':
			if depth == 0 {
				if err := add(s[start:i]); err != nil {
					return nil, err
				}
				start = i + 1
			}
		}
	}
	if err := add(s[start:]); err != nil {
		return nil, err
	}
	return out, nil
}

// orderIDFor maps a Kassa id (attempt "pay_...", refund "ref_...") to a
// UnionPay orderId: 8 to 40 letters and digits, so "_" and "-" cannot
// pass. The mapping is stable (a retry after a lost answer sends the same
// orderId, which UnionPay refuses to charge twice) and keeps the id
// readable in UnionPay's merchant portal: up to 24 of the id's letters and
// digits, then 16 hex digits of its SHA-256, which keep two ids that only
// differ in punctuation apart.
func orderIDFor(id string) string {
	var sb strings.Builder
	for _, c := range id {
		if sb.Len() == 24 {
			break
		}
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			sb.WriteRune(c)
		}
	}
	sum := sha256.Sum256([]byte(id))
	return sb.String() + hex.EncodeToString(sum[:8])
}

// validKassaID accepts the ids Kassa hands out: 1 to 64 printable ASCII
// characters without spaces, & or = (they travel in reqReserved).
func validKassaID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || c == '&' || c == '=' || c == '{' || c == '}' || c == '[' || c == ']' {
			return false
		}
	}
	return true
}

// parseFen reads txnAmt: a positive whole number of fen, at most 12 digits.
func parseFen(s string) (int64, error) {
	if s == "" || len(s) > 12 {
		return 0, fmt.Errorf("unionpay: bad amount %q", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("unionpay: bad amount %q", s)
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// parseTxnTime reads a txnTime in Beijing time; zero when malformed.
func parseTxnTime(s string) time.Time {
	t, err := time.ParseInLocation(txnTimeLayout, s, chinaTime)
	if err != nil {
		return time.Time{}
	}
	return t
}

// traceTimeNear reads traceTime (MMDDhhmmss, Beijing time, no year: when
// UnionPay processed the transaction) in the year that puts it closest to
// ref, the transaction's txnTime; zero when malformed.
func traceTimeNear(s string, ref time.Time) time.Time {
	if len(s) != 10 || ref.IsZero() {
		return time.Time{}
	}
	best := time.Time{}
	for _, y := range []int{ref.Year() - 1, ref.Year(), ref.Year() + 1} {
		t, err := time.ParseInLocation("2006"+"0102150405", strconv.Itoa(y)+s, chinaTime)
		if err != nil {
			return time.Time{}
		}
		if best.IsZero() || absDur(t.Sub(ref)) < absDur(best.Sub(ref)) {
			best = t
		}
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
