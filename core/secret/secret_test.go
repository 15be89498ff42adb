package secret

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	box, err := New(randomKey(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range [][]byte{nil, []byte("x"), []byte("sk_live_1234567890"), bytes.Repeat([]byte("long"), 4096)} {
		sealed, err := box.Seal(pt, []byte("plugin:payment.stripe"))
		if err != nil {
			t.Fatal(err)
		}
		if len(pt) > 4 && bytes.Contains(sealed, pt) {
			t.Fatal("sealed value contains the plaintext")
		}
		got, err := box.Open(sealed, []byte("plugin:payment.stripe"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("Open = %q, want %q", got, pt)
		}
		if SealedKeyID(sealed) != box.KeyID() {
			t.Fatalf("SealedKeyID = %q, want %q", SealedKeyID(sealed), box.KeyID())
		}
	}
}

func TestSealIsRandomized(t *testing.T) {
	t.Parallel()
	box, _ := New(randomKey(t))
	a, _ := box.Seal([]byte("same"), nil)
	b, _ := box.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are equal: data keys or nonces are reused")
	}
}

func TestTamperingDetected(t *testing.T) {
	t.Parallel()
	box, _ := New(randomKey(t))
	ad := []byte("plugin:payment.testpay")
	sealed, err := box.Seal([]byte("webhook-secret"), ad)
	if err != nil {
		t.Fatal(err)
	}
	// Flip every byte in turn: each must be detected (the key id bytes as an
	// unknown key, everything else as corruption).
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		_, err := box.Open(bad, ad)
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("flipping byte %d: Open error = %v, want ErrCorrupt or ErrUnknownKey", i, err)
		}
	}
	if _, err := box.Open(sealed[:len(sealed)-1], ad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
	if _, err := box.Open(append(bytes.Clone(sealed), 0), ad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("extended: %v", err)
	}
	if _, err := box.Open(sealed, []byte("plugin:payment.other")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("other associated data: %v", err)
	}
	if _, err := box.Open(nil, ad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("empty: %v", err)
	}
}

func TestWrongKey(t *testing.T) {
	t.Parallel()
	a, _ := New(randomKey(t))
	b, _ := New(randomKey(t))
	sealed, _ := a.Seal([]byte("secret"), nil)
	if _, err := b.Open(sealed, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Open with another key = %v, want ErrUnknownKey", err)
	}
	// A forged key id that matches b's still fails: the wrapped data key
	// does not open under b's master key.
	forged := bytes.Clone(sealed)
	id, _ := hex.DecodeString(b.KeyID())
	copy(forged[1:], id)
	if _, err := b.Open(forged, nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("forged key id: %v, want ErrCorrupt", err)
	}
}

func TestRotationKeepsOldKeysReadable(t *testing.T) {
	t.Parallel()
	oldKey, newKey := randomKey(t), randomKey(t)
	old, _ := New(oldKey)
	sealed, _ := old.Seal([]byte("kept"), nil)
	rotated, err := New(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rotated.Open(sealed, nil)
	if err != nil || string(got) != "kept" {
		t.Fatalf("Open after rotation = %q, %v", got, err)
	}
	resealed, _ := rotated.Seal(got, nil)
	if SealedKeyID(resealed) == SealedKeyID(sealed) {
		t.Fatal("resealed value still names the old key")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	k := randomKey(t)
	for name, s := range map[string]string{
		"hex":        hex.EncodeToString(k),
		"hex upper":  strings.ToUpper(hex.EncodeToString(k)),
		"base64":     base64.StdEncoding.EncodeToString(k),
		"raw base64": base64.RawStdEncoding.EncodeToString(k),
		"url base64": base64.URLEncoding.EncodeToString(k),
		"newline":    base64.StdEncoding.EncodeToString(k) + "\n",
	} {
		got, err := ParseKey(s)
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("%s: ParseKey = %x, %v", name, got, err)
		}
	}
	for name, s := range map[string]string{
		"short":   base64.StdEncoding.EncodeToString(k[:16]),
		"garbage": "not a key!",
		"empty":   "",
	} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("%s: ParseKey accepted %q", name, s)
		}
	}
}

func TestLoadGeneratesKeyFileOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, err := Load("", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %04o, want 0600", fi.Mode().Perm())
	}
	b, err := Load("", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() != b.KeyID() {
		t.Fatal("second Load generated another key")
	}
	sealed, _ := a.Seal([]byte("x"), nil)
	if _, err := b.Open(sealed, nil); err != nil {
		t.Fatal(err)
	}
}

func TestLoadRefusesLooseKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFileName)
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(randomKey(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load("", dir, nil)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Load with a 0644 key file = %v, want a refusal naming chmod 600", err)
	}
}

func TestLoadConfiguredKeyWins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := randomKey(t)
	box, err := Load(hex.EncodeToString(k), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := New(k)
	if box.KeyID() != want.KeyID() {
		t.Fatal("configured key not used")
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !os.IsNotExist(err) {
		t.Fatal("a key file was generated although a key is configured")
	}
	if _, err := Load("nope", dir, nil); err == nil || !strings.Contains(err.Error(), "KASSA_SECRET_KEY") {
		t.Fatalf("bad configured key: %v", err)
	}
}
