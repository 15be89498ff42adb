package secret

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
)

// KeyFileName is the name of the generated master key file in the data
// directory.
const KeyFileName = "secret.key"

// Load returns the Box of an instance. A configured key (KASSA_SECRET_KEY,
// hex or base64) wins; otherwise the key in DATA_DIR/secret.key is used,
// generated on first use with mode 0600.
//
// A key file readable by group or others is refused, like ssh refuses such
// private keys: anybody who can read it can read every stored secret. log
// may be nil.
func Load(configured, dataDir string, log *slog.Logger) (*Box, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if configured != "" {
		k, err := ParseKey(configured)
		if err != nil {
			return nil, fmt.Errorf("KASSA_SECRET_KEY: %w", err)
		}
		return New(k)
	}
	path := filepath.Join(dataDir, KeyFileName)
	k, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err = createKeyFile(path)
		if err == nil {
			log.Warn("generated a master key for secrets; back it up, stored secrets cannot be read without it",
				"component", "secret", "path", path)
		}
	}
	if err != nil {
		return nil, err
	}
	return New(k)
}

func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secret key file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s has mode %04o: it must not be readable by group or others; run `chmod 600 %s`",
			path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return k, nil
}

// createKeyFile writes a new random key. O_EXCL makes two instances starting
// at once on the same data directory agree on one key: the loser reads the
// winner's file.
func createKeyFile(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data dir for secret key: %w", err)
	}
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret.key-*")
	if err != nil {
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the link below
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	// Link fails when the file exists, so a complete key appears atomically
	// and an existing one is never overwritten.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	return k, nil
}
