// Package secret encrypts secrets at rest (plugin credentials, webhook
// signing keys) with envelope encryption: AES-256-GCM under a fresh data key
// per value, the data key wrapped by the instance's master key.
//
// The master key comes from KASSA_SECRET_KEY (32 bytes as hex or base64) or,
// when that is empty, from DATA_DIR/secret.key, generated once with mode
// 0600. Losing the key loses every stored secret; back it up.
//
//	box, err := secret.Load(cfg.SecretKey, cfg.DataDir, log)
//	sealed, err := box.Seal([]byte(apiKey), []byte("plugin:payment.stripe"))
//	plain, err := box.Open(sealed, []byte("plugin:payment.stripe"))
//
// The associated data binds a value to its place: a sealed value copied to
// another record fails to open with ErrCorrupt.
package secret
