package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors of Verify. ErrMalformed and ErrBadSignature both mean "refuse as a
// bad signature".
var (
	// ErrMalformed: the signature header is missing or cannot be parsed.
	ErrMalformed = errors.New("webhook: malformed signature header")
	// ErrBadSignature: no signature in the header matches the body.
	ErrBadSignature = errors.New("webhook: signature does not match")
	// ErrStale: the signed timestamp is outside the tolerance window.
	ErrStale = errors.New("webhook: timestamp outside the tolerance window")
	// ErrReplay: a delivery of the same signed timestamp and body was
	// already accepted.
	ErrReplay = errors.New("webhook: delivery already seen (replay)")
	// ErrNoSecret: the Verifier has no secret to check with (none, or
	// only empty ones): a setting the shop owner has not filled in yet.
	// Anyone can compute an HMAC under the empty key, so such a delivery
	// is refused, never verified.
	ErrNoSecret = errors.New("webhook: no signing secret configured")
)

// DefaultTolerance is the accepted clock difference between the signer's
// timestamp and the time the delivery was received.
const DefaultTolerance = 5 * time.Minute

// ComputeHMAC returns HMAC-SHA256(secret, "<unix seconds>.<body>"), the MAC
// behind a "v1" signature.
func ComputeHMAC(secret []byte, t time.Time, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(t.Unix(), 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the signature header value "t=<unix>,v1=<hex>" for body
// signed with secret at time t.
func Sign(secret []byte, t time.Time, body []byte) string {
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(ComputeHMAC(secret, t, body)))
}

// Signature is a parsed signature header.
type Signature struct {
	// Timestamp is the signed time ("t").
	Timestamp time.Time
	// V1 are the "v1" signatures (several during secret rotation).
	V1 [][]byte
}

// ParseHeader parses "t=<unix>,v1=<hex>[,v1=<hex>...]". Unknown keys (other
// schemes) are ignored, and so is whitespace around each part.
//
// A header with more than one t, or a t not written as decimal seconds
// with no sign or leading zero, is refused with ErrMalformed. The MAC and
// the freshness check must use one and the same t; with two of them,
// parsers disagree on which one counts (stripe-go takes the last part
// spelled exactly "t=", so it skips " t=..."), and a stale delivery could
// be verified under its old t and judged fresh by a new one appended to
// the header. Several v1 are allowed (a secret being rotated).
//
// Earlier versions of this SDK kept the last t instead. Judge freshness
// by the Timestamp of the very Signature whose V1 verified, never by a
// second parse of the header; [Verifier.Verify] does.
func ParseHeader(header string) (Signature, error) {
	var sig Signature
	var haveT bool
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if haveT {
				return Signature{}, fmt.Errorf("%w: more than one timestamp (t)", ErrMalformed)
			}
			sec, err := strconv.ParseInt(v, 10, 64)
			if err != nil || strconv.FormatInt(sec, 10) != v {
				return Signature{}, fmt.Errorf("%w: bad timestamp %q", ErrMalformed, v)
			}
			sig.Timestamp, haveT = time.Unix(sec, 0).UTC(), true
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				continue
			}
			sig.V1 = append(sig.V1, b)
		}
	}
	if !haveT {
		return Signature{}, fmt.Errorf("%w: no timestamp", ErrMalformed)
	}
	if len(sig.V1) == 0 {
		return Signature{}, fmt.Errorf("%w: no v1 signature", ErrMalformed)
	}
	return sig, nil
}

// Verifier checks Stripe-style HMAC signature headers.
type Verifier struct {
	// Secrets are the accepted signing secrets; more than one during a
	// rotation. A delivery is valid if any secret matches. Empty
	// secrets are skipped; with no other, Verify refuses every delivery
	// (ErrNoSecret).
	Secrets [][]byte
	// Tolerance is the accepted distance between the signed timestamp and
	// the receive time, in both directions; zero means DefaultTolerance.
	Tolerance time.Duration
	// Replay, when set, refuses a delivery whose signed timestamp and body
	// were already accepted within the tolerance window, however its
	// header is spelled (whitespace, order or number of v1 values).
	Replay *ReplayCache
}

// Verify checks header against body as received at now (use the host's
// WebhookRequest.ReceivedAt). The checks run in this order: a secret to
// check with, syntax, signature (constant time), freshness, replay; so a
// forged delivery is always ErrNoSecret, ErrBadSignature or
// ErrMalformed, never recorded in the replay cache.
func (v *Verifier) Verify(header string, body []byte, now time.Time) error {
	if !v.hasSecret() {
		return ErrNoSecret
	}
	sig, err := ParseHeader(header)
	if err != nil {
		return err
	}
	matched := false
	for _, secret := range v.Secrets {
		if len(secret) == 0 {
			continue
		}
		want := ComputeHMAC(secret, sig.Timestamp, body)
		for _, got := range sig.V1 {
			if hmac.Equal(want, got) {
				matched = true
			}
		}
	}
	if !matched {
		return ErrBadSignature
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if d := now.Sub(sig.Timestamp); d > tol || d < -tol {
		return fmt.Errorf("%w: signed at %s, received at %s (tolerance %s)", ErrStale,
			sig.Timestamp.Format(time.RFC3339), now.UTC().Format(time.RFC3339), tol)
	}
	if v.Replay != nil && !v.Replay.Add(deliveryKey(sig.Timestamp, body), sig.Timestamp.Add(tol), now) {
		return ErrReplay
	}
	return nil
}

func (v *Verifier) hasSecret() bool {
	for _, s := range v.Secrets {
		if len(s) > 0 {
			return true
		}
	}
	return false
}

// deliveryKey names a verified delivery in the replay cache by what was
// signed, "<t>.<body>", not by the header's spelling nor by the v1 that
// matched: during a rotation a copy carrying only the other v1 is the
// same delivery.
func deliveryKey(t time.Time, body []byte) string {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(t.Unix(), 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
