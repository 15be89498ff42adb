package webhook

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
)

var b64 = base64.StdEncoding

// OpenAESGCM decrypts and authenticates ciphertext (with the 16-byte tag
// appended, as WeChat Pay sends it) with AES-GCM; key must be 16, 24 or 32
// bytes (32 for AES-256). nonce is usually 12 bytes.
func OpenAESGCM(key, nonce, associatedData, ciphertext []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("webhook: AES key: %w", err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(nonce))
	if err != nil {
		return nil, fmt.Errorf("webhook: GCM: %w", err)
	}
	plain, err := gcm.Open(nil, nonce, ciphertext, associatedData)
	if err != nil {
		return nil, fmt.Errorf("webhook: AES-GCM open: %w", err)
	}
	return plain, nil
}

// SealAESGCM encrypts plaintext with AES-GCM and appends the tag; the
// counterpart of OpenAESGCM, for producing test notifications.
func SealAESGCM(key, nonce, associatedData, plaintext []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("webhook: AES key: %w", err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(nonce))
	if err != nil {
		return nil, fmt.Errorf("webhook: GCM: %w", err)
	}
	return gcm.Seal(nil, nonce, plaintext, associatedData), nil
}

// DecryptWeChatResource decrypts the "resource" object of a WeChat Pay v3
// notification (algorithm AEAD_AES_256_GCM): apiV3Key is the merchant's
// 32-byte APIv3 key, nonce and associatedData are the resource's plain
// strings, ciphertext is its base64 "ciphertext".
func DecryptWeChatResource(apiV3Key []byte, nonce, associatedData, ciphertext string) ([]byte, error) {
	if len(apiV3Key) != 32 {
		return nil, fmt.Errorf("webhook: WeChat Pay APIv3 key must be 32 bytes, got %d", len(apiV3Key))
	}
	ct, err := b64.DecodeString(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("webhook: ciphertext is not base64: %w", err)
	}
	return OpenAESGCM(apiV3Key, []byte(nonce), []byte(associatedData), ct)
}
