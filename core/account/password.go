package account

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/kassahq/kassa/core/kit/errs"
)

// Password length limits, in characters. The maximum only guards against
// abuse: argon2id hashes the whole password, however long (no bcrypt-style
// truncation at 72 bytes).
const (
	MinPasswordLength = 10
	MaxPasswordLength = 1000
)

// PasswordParams are the argon2id cost parameters. They are stored in each
// hash, so raising them later still verifies old hashes (and rehashes
// them at the next sign-in).
type PasswordParams struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the parallelism.
	Threads uint8
}

// DefaultPasswordParams are OWASP's argon2id recommendation: 19 MiB,
// two passes, one lane.
var DefaultPasswordParams = PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

//go:embed common_passwords.txt
var commonPasswordsFile []byte

// commonPasswords is Openwall's list of the most common passwords (public
// domain, from Debian's john-data), lower-cased.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 4000)
	sc := bufio.NewScanner(bytes.NewReader(commonPasswordsFile))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#!comment:") {
			continue
		}
		m[strings.ToLower(line)] = struct{}{}
	}
	return m
})

// IsCommonPassword reports whether pw is on the list of the most common
// passwords (compared without case).
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords()[strings.ToLower(pw)]
	return ok
}

// CheckPassword validates a new password for field: long enough, not too
// long, and not easy to guess (EasyToGuess), with the email address among
// the words an attacker tries first.
func CheckPassword(field, pw, email string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return errs.Invalid(field, CodePasswordInvalid, "password is not valid UTF-8")
	case n < MinPasswordLength:
		return errs.Invalid(field, CodePasswordTooShort, fmt.Sprintf("use at least %d characters", MinPasswordLength))
	case n > MaxPasswordLength:
		return errs.Invalid(field, CodePasswordTooLong, fmt.Sprintf("use at most %d characters", MaxPasswordLength))
	}
	if why, easy := EasyToGuess(pw, email); easy {
		return errs.Invalid(field, CodePasswordTooCommon, why+"; choose another")
	}
	return nil
}

// maxDecoration is how many digits and symbols around a common word still
// count as decoration: "password123", "Dragon2024!". Past it the added
// characters carry the strength themselves.
const maxDecoration = 6

// EasyToGuess reports whether pw falls to the first guesses of an attacker
// holding a leaked hash or trying sign-ins (NIST SP 800-63B, 5.1.1.2):
// a common password; a common word or the email address decorated with a
// few digits or symbols at either end, letters swapped for look-alikes
// (p@ssw0rd); fewer than four different characters (aaaaaaaaaa,
// 1212121212); or a straight run (abcdefghij, 9876543210). why says which,
// for the person choosing it. email may be empty.
func EasyToGuess(pw, email string) (why string, easy bool) {
	lower := strings.ToLower(pw)
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	switch {
	case IsCommonPassword(lower):
		return "this password is among the most common ones", true
	case email != "" && (lower == strings.ToLower(email) || lower == local):
		return "do not use your email address as password", true
	case distinctRunes(lower) < 4:
		return "repeated characters are easy to guess", true
	case straightRun(lower):
		return "a run of consecutive characters is easy to guess", true
	}
	word, decoration := undecorate(lower)
	if decoration > maxDecoration || utf8.RuneCountInString(word) < 4 {
		return "", false
	}
	for _, w := range []string{word, unleet(word, 'i'), unleet(word, 'l')} {
		if IsCommonPassword(w) {
			return "a common password with a few digits or symbols added is still easy to guess", true
		}
		if len(local) >= 4 && w == local {
			return "do not use your email address as password", true
		}
	}
	return "", false
}

// undecorate strips what is not a letter from both ends of s and the
// separators inside it ("pass-word 123" is "password"), and counts the
// characters stripped from the ends.
func undecorate(s string) (word string, decoration int) {
	// Look-alike characters count as letters inside the word, not at its
	// ends: "p@ssw0rd" is a word, the "123" of "password123" decoration.
	trimmed := strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	decoration = utf8.RuneCountInString(s) - utf8.RuneCountInString(trimmed)
	word = strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -_.", r) {
			return -1
		}
		return r
	}, trimmed)
	return word, decoration
}

// unleet reads the look-alike characters of s as the letters they stand
// for; one stands for i or l, as the caller says.
func unleet(s string, one rune) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '0':
			return 'o'
		case '1':
			return one
		case '!':
			return 'i'
		case '3':
			return 'e'
		case '4', '@':
			return 'a'
		case '5', '$':
			return 's'
		case '7':
			return 't'
		}
		return r
	}, s)
}

// distinctRunes counts the different characters of s, up to 4.
func distinctRunes(s string) int {
	var seen []rune
	for _, r := range s {
		if !slices.Contains(seen, r) {
			if seen = append(seen, r); len(seen) == 4 {
				break
			}
		}
	}
	return len(seen)
}

// straightRun reports whether every character of s follows the one before
// it by the same step of +1 or -1: "abcdefghij", "0123456789", "zyxw".
func straightRun(s string) bool {
	rs := []rune(s)
	if len(rs) < 2 {
		return false
	}
	step := rs[1] - rs[0]
	if step != 1 && step != -1 {
		return false
	}
	for i := 2; i < len(rs); i++ {
		if rs[i]-rs[i-1] != step {
			return false
		}
	}
	return true
}

// Hasher hashes and verifies passwords with argon2id. It bounds how many
// hashes run at once (each takes Memory KiB), so a flood of sign-ins
// queues instead of exhausting memory.
type Hasher struct {
	params PasswordParams
	sem    chan struct{}
	dummy  func() string
}

// NewHasher returns a Hasher with params (zero means DefaultPasswordParams).
func NewHasher(params PasswordParams) *Hasher {
	if params == (PasswordParams{}) {
		params = DefaultPasswordParams
	}
	n := runtime.GOMAXPROCS(0)
	if n < 2 {
		n = 2
	}
	h := &Hasher{params: params, sem: make(chan struct{}, n)}
	h.dummy = sync.OnceValue(func() string {
		var b [24]byte
		_, _ = rand.Read(b[:])
		s, _ := h.hash(context.Background(), base64.RawStdEncoding.EncodeToString(b[:]))
		return s
	})
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait to hash password: %w", ctx.Err())
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns the PHC string of pw:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) { return h.hash(ctx, pw) }

func (h *Hasher) hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, h.params.Time, h.params.Memory, h.params.Threads, keyLen)
	h.release()
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.params.Memory, h.params.Time, h.params.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed password hash")

// Verify reports whether pw matches encoded, and whether encoded should be
// replaced by a new hash because it used weaker parameters than h.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (ok, rehash bool, err error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	h.release()
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p.Memory < h.params.Memory || p.Time < h.params.Time, nil
}

// VerifyDummy spends the time of one verification against a hash nobody
// knows the password of, so that an unknown email answers as slowly as a
// known one with a wrong password.
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) {
	_, _, _ = h.Verify(ctx, pw, h.dummy())
}

func decodeHash(s string) (p PasswordParams, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errBadHash
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return p, nil, nil, errBadHash
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(key) == 0 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}
