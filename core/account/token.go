package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Token prefixes tell what a secret is when it turns up in a log or a
// leaked file, and let the HTTP layer tell a session from an API key.
const (
	// SessionTokenPrefix starts every session token.
	SessionTokenPrefix = "kses_"
	// APIKeyPrefix starts every API key.
	APIKeyPrefix = "kkey_"
	// accountTokenPrefix starts email verification, password reset,
	// invitation and setup tokens.
	accountTokenPrefix = "ktok_"
)

// newToken returns prefix followed by 256 random bits in base64url.
func newToken(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("customer: read random: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// hashToken is what the database stores of a token: its SHA-256 in hex. A
// token has 256 bits of entropy, so a fast hash is enough (unlike a
// password); a stolen table gives no usable token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return hex.EncodeToString(sum[:])
}

// tokenHint is the part of an API key shown in lists, so people can tell
// their keys apart without the key being stored.
func tokenHint(token string) string {
	if len(token) < len(APIKeyPrefix)+4 {
		return ""
	}
	return token[:len(APIKeyPrefix)+4] + "…" + token[len(token)-4:]
}
