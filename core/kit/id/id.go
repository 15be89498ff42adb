// Package id makes the identifiers of every Kassa record: a short prefix
// naming the kind of record, an underscore and 26 characters of Crockford
// base32 that sort by creation time (ULID layout: 48 bits of milliseconds,
// 80 random bits).
//
//	orderID := id.New("ord") // ord_01JD4S3Y8W3M9Q6T0G2V5XK7PZ
package id

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"
)

const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Length of the encoded part after the prefix and underscore.
const encodedLen = 26

var (
	mu       sync.Mutex
	lastMS   uint64
	lastRand [10]byte
)

// New returns a new identifier with the given prefix. Identifiers made in
// the same millisecond by one process still sort in creation order: the
// random part is incremented instead of redrawn, as ULID's monotonic mode
// does.
func New(prefix string) string {
	return prefix + "_" + encode(next(time.Now()))
}

func next(now time.Time) [16]byte {
	ms := uint64(now.UnixMilli())
	mu.Lock()
	defer mu.Unlock()
	if ms <= lastMS {
		ms = lastMS
		// Increment the 80-bit random part; overflow within one
		// millisecond is practically impossible, wrap is harmless.
		for i := len(lastRand) - 1; i >= 0; i-- {
			lastRand[i]++
			if lastRand[i] != 0 {
				break
			}
		}
	} else {
		lastMS = ms
		if _, err := rand.Read(lastRand[:]); err != nil {
			panic(fmt.Sprintf("id: read random: %v", err))
		}
	}
	var b [16]byte
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(b[:6], ts[2:])
	copy(b[6:], lastRand[:])
	return b
}

func encode(b [16]byte) string {
	// 128 bits -> 26 base32 characters; the first character holds the
	// top 3 bits.
	var out [encodedLen]byte
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	for i := encodedLen - 1; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// Prefix returns the prefix of an identifier ("ord" for "ord_01J...") or ""
// when the value has no prefix.
func Prefix(s string) string {
	p, _, ok := strings.Cut(s, "_")
	if !ok {
		return ""
	}
	return p
}

// Valid reports whether s is an identifier with the given prefix.
func Valid(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != encodedLen {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(alphabet, rest[i]) < 0 {
			return false
		}
	}
	return true
}
