package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// The parts of Verifier, for a gateway whose HMAC scheme is not
// Stripe's: its own headers, its own signed message. A verification built
// of them runs in Verifier's order: a secret to check with (an empty one
// verifies nothing), the MAC in constant time, freshness against the time
// the host received the delivery, the replay cache last.
//
//	ts, sig := req.Header.Get("ExamplePay-Timestamp"), req.Header.Get("ExamplePay-Signature")
//	mac, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
//	signed := []byte(ts + "\n" + string(req.Body))
//	if err != nil || !webhook.EqualMAC(secret, signed, mac) { /* BAD_SIGNATURE */ }
//	at, err := unixSeconds(ts) // parse what was signed, the one timestamp
//	if err := webhook.CheckFresh(at, req.ReceivedAt, 0); err != nil { /* STALE */ }
//	if !cache.Add(webhook.DeliveryKey(signed), at.Add(webhook.DefaultTolerance), req.ReceivedAt) { /* REPLAY */ }

// EqualMAC reports whether mac is HMAC-SHA256(secret, message), comparing
// in constant time. An empty secret verifies nothing: anyone can compute
// a MAC under it, so a plugin whose owner has not set the secret yet
// refuses every delivery.
func EqualMAC(secret, message, mac []byte) bool {
	if len(secret) == 0 {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(message)
	return hmac.Equal(m.Sum(nil), mac)
}

// CheckFresh returns nil when signedAt is within tolerance of receivedAt
// in either direction (zero: DefaultTolerance), and an error wrapping
// ErrStale otherwise. Pass the host's WebhookRequest.ReceivedAt, not the
// plugin's clock: a delivery queued in Kassa is judged by when it
// arrived, and tests can replay old deliveries at their own time.
func CheckFresh(signedAt, receivedAt time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := receivedAt.Sub(signedAt); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %s, received at %s (tolerance %s)", ErrStale,
			signedAt.UTC().Format(time.RFC3339), receivedAt.UTC().Format(time.RFC3339), tolerance)
	}
	return nil
}

// DeliveryKey names a delivery in a ReplayCache by the message its
// signature covers: the same signed message is the same delivery however
// its headers are spelled or encoded.
func DeliveryKey(signed []byte) string {
	h := sha256.Sum256(signed)
	return hex.EncodeToString(h[:])
}
