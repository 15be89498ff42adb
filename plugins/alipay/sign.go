package main

import (
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kassahq/kassa/plugins/sdk/webhook"
)

// chinaTime is the zone of Alipay's timestamps ("2006-01-02 15:04:05",
// Beijing time, no DST).
var chinaTime = time.FixedZone("CST", 8*3600)

// timeLayout is how Alipay writes times in requests and notifications.
const timeLayout = "2006-01-02 15:04:05"

// signContent is the string Alipay signs: the parameters with a non-empty
// value, sorted by name, joined as "k=v&k=v" with raw values. "sign" is
// always left out; requests sign "sign_type" too, notifications do not
// (withSignType false). The SDK holds the one implementation.
func signContent(params url.Values, withSignType bool) string {
	if withSignType {
		return webhook.AlipayRequestSignContent(params)
	}
	return webhook.AlipaySignContent(params)
}

// signRSA2 is Alipay's RSA2: RSASSA-PKCS1-v1_5 over SHA-256, base64
// (standard alphabet, padded).
func signRSA2(key *rsa.PrivateKey, content []byte) (string, error) {
	sig, err := webhook.SignRSASHA256(key, content)
	if err != nil {
		return "", fmt.Errorf("alipay: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// errBadSignature says a signature did not verify.
var errBadSignature = fmt.Errorf("alipay: %w", webhook.ErrBadSignature)

// verifyRSA2 checks a base64 RSA2 signature over content.
func verifyRSA2(pub *rsa.PublicKey, content []byte, sign string) error {
	sig, err := base64.StdEncoding.DecodeString(sign)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: signature is not base64", errBadSignature)
	}
	if webhook.VerifyRSASHA256(pub, content, sig) != nil {
		return errBadSignature
	}
	return nil
}

// formatYuan writes minor units (fen) as Alipay's total_amount: yuan with
// exactly two decimals ("0.01", "1234.50").
func formatYuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// parseYuan reads an Alipay amount ("12.3", "12.30", "12") into fen,
// without floats; more than two decimals or anything else is an error.
func parseYuan(s string) (int64, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || (hasDot && frac == "") {
		return 0, fmt.Errorf("alipay: bad amount %q", s)
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("alipay: bad amount %q", s)
			}
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<53)/100 {
		return 0, fmt.Errorf("alipay: bad amount %q", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f, nil
}

// parseChinaTime reads an Alipay time; zero when empty or malformed.
func parseChinaTime(s string) time.Time {
	t, err := time.ParseInLocation(timeLayout, s, chinaTime)
	if err != nil {
		return time.Time{}
	}
	return t
}
