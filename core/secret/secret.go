package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a master key and of a data key: AES-256.
const KeySize = 32

// formatVersion is the first byte of every sealed value. A new layout gets a
// new version; Open keeps reading the old ones.
const formatVersion byte = 1

// keyIDSize is the length of the key id stored in each sealed value.
const keyIDSize = 8

const (
	nonceSize  = 12 // AES-GCM standard nonce
	tagSize    = 16 // AES-GCM tag
	headerSize = 1 + keyIDSize
	// wrappedSize is the data key sealed by the master key: nonce, key, tag.
	wrappedSize = nonceSize + KeySize + tagSize
	// minSealedSize is a sealed empty plaintext.
	minSealedSize = headerSize + wrappedSize + nonceSize + tagSize
)

// Errors returned by Open. Both mean the value cannot be trusted; neither
// says which byte is wrong, on purpose.
var (
	// ErrUnknownKey means the value was sealed by a master key this Box does
	// not hold (a different KASSA_SECRET_KEY or a lost secret.key).
	ErrUnknownKey = errors.New("secret: sealed with an unknown master key")
	// ErrCorrupt means the value was tampered with, truncated, or sealed
	// with other associated data.
	ErrCorrupt = errors.New("secret: sealed value is corrupt or was tampered with")
)

// Box seals and opens secrets with envelope encryption: every Seal draws a
// fresh random data key, encrypts the plaintext with it (AES-256-GCM), and
// stores the data key wrapped by the master key (AES-256-GCM again) next to
// the ciphertext. The master key never encrypts user data directly, so a key
// rotation only has to rewrap data keys, and the key id in every value says
// which master key to use.
//
// A Box is safe for concurrent use.
type Box struct {
	primary keyEntry
	// byID holds the primary key and any older keys kept for reading.
	byID map[[keyIDSize]byte]keyEntry
}

type keyEntry struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// New returns a Box that seals with primary and opens values sealed by
// primary or by any of older (kept for key rotation). Keys are KeySize bytes.
func New(primary []byte, older ...[]byte) (*Box, error) {
	p, err := newEntry(primary)
	if err != nil {
		return nil, err
	}
	b := &Box{primary: p, byID: map[[keyIDSize]byte]keyEntry{p.id: p}}
	for _, k := range older {
		e, err := newEntry(k)
		if err != nil {
			return nil, fmt.Errorf("older key: %w", err)
		}
		if _, dup := b.byID[e.id]; !dup {
			b.byID[e.id] = e
		}
	}
	return b, nil
}

func newEntry(key []byte) (keyEntry, error) {
	if len(key) != KeySize {
		return keyEntry{}, fmt.Errorf("secret: master key must be %d bytes, got %d", KeySize, len(key))
	}
	a, err := newGCM(key)
	if err != nil {
		return keyEntry{}, err
	}
	return keyEntry{id: keyID(key), aead: a}, nil
}

// keyID derives a public identifier of a master key. It is an HMAC, not a
// plain hash prefix, so it reveals nothing usable about the key.
func keyID(key []byte) [keyIDSize]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kassa secret key id v1"))
	var id [keyIDSize]byte
	copy(id[:], m.Sum(nil))
	return id
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return a, nil
}

// KeyID returns the hex id of the master key Seal uses; stored next to
// sealed values so a later rotation can find the ones still on an old key.
func (b *Box) KeyID() string { return hex.EncodeToString(b.primary.id[:]) }

// Seal encrypts plaintext. associatedData is not stored but must be given
// again to Open: bind a value to where it lives (e.g. "plugin:payment.stripe")
// so a sealed value copied to another record does not open.
//
// Layout: version(1) | key id(8) | wrap nonce(12) | wrapped data key(32+16) |
// nonce(12) | ciphertext+tag.
func (b *Box) Seal(plaintext, associatedData []byte) ([]byte, error) {
	dek := make([]byte, KeySize)
	if _, err := rand.Read(dek); err != nil {
		return nil, fmt.Errorf("secret: data key: %w", err)
	}
	defer clear(dek)
	out := make([]byte, headerSize, minSealedSize+len(plaintext))
	out[0] = formatVersion
	copy(out[1:headerSize], b.primary.id[:])
	header := out[:headerSize:headerSize]

	wrapNonce := make([]byte, nonceSize)
	if _, err := rand.Read(wrapNonce); err != nil {
		return nil, fmt.Errorf("secret: nonce: %w", err)
	}
	out = append(out, wrapNonce...)
	// The header is authenticated with the data key, so a changed version
	// or key id is detected.
	out = b.primary.aead.Seal(out, wrapNonce, dek, header)

	dataAEAD, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secret: nonce: %w", err)
	}
	out = append(out, nonce...)
	out = dataAEAD.Seal(out, nonce, plaintext, dataAD(header, associatedData))
	return out, nil
}

// Open decrypts a value made by Seal with the same associatedData. It fails
// with ErrUnknownKey when no held master key matches and ErrCorrupt when the
// value or the associated data differ from what was sealed.
func (b *Box) Open(sealed, associatedData []byte) ([]byte, error) {
	if len(sealed) < minSealedSize || sealed[0] != formatVersion {
		return nil, ErrCorrupt
	}
	var id [keyIDSize]byte
	copy(id[:], sealed[1:headerSize])
	k, ok := b.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w (key id %s)", ErrUnknownKey, hex.EncodeToString(id[:]))
	}
	header := sealed[:headerSize:headerSize]
	rest := sealed[headerSize:]
	dek, err := k.aead.Open(nil, rest[:nonceSize], rest[nonceSize:wrappedSize], header)
	if err != nil {
		return nil, ErrCorrupt
	}
	defer clear(dek)
	rest = rest[wrappedSize:]
	dataAEAD, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	pt, err := dataAEAD.Open(nil, rest[:nonceSize], rest[nonceSize:], dataAD(header, associatedData))
	if err != nil {
		return nil, ErrCorrupt
	}
	return pt, nil
}

// SealedKeyID returns the hex id of the master key a sealed value needs, or
// "" when the value is not a sealed value.
func SealedKeyID(sealed []byte) string {
	if len(sealed) < minSealedSize || sealed[0] != formatVersion {
		return ""
	}
	return hex.EncodeToString(sealed[1:headerSize])
}

func dataAD(header, ad []byte) []byte {
	out := make([]byte, 0, len(header)+len(ad))
	return append(append(out, header...), ad...)
}

// ParseKey decodes a master key written as 64 hex digits or as base64
// (standard or URL alphabet, padded or not) of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("secret: key decodes to %d bytes, want %d (generate one with `openssl rand -base64 32`)", len(k), KeySize)
			}
			return k, nil
		}
	}
	return nil, fmt.Errorf("secret: key is neither 64 hex digits nor base64 of %d bytes (generate one with `openssl rand -base64 32`)", KeySize)
}
