package plugintest

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestLooksSecret pins the naming rule of the writeOnly check, by whole
// words: names that hold a secret must match, names that only look like
// one (an identifier, a place or a lifetime of a secret, a public key)
// must not.
func TestLooksSecret(t *testing.T) {
	// String settings, judged by their names.
	names := []struct {
		name string
		want bool
	}{
		// The plain secret words, alone or last.
		{"secret", true},
		{"webhook_secret", true},
		{"client_secret", true},
		{"webhookSigningSecret", true},
		{"password", true},
		{"smtp_password", true},
		{"passwd", true},
		{"key_passphrase", true},
		{"token", true},
		{"access_token", true},
		{"refresh-token", true},
		{"id_token", true}, // a descriptor before the secret word does not count
		{"credentials", true},
		{"service_account_credential", true},
		// Keys, signing and hmac.
		{"key", true},
		{"api_key", true},
		{"apiKey", true},
		{"apikey", true},
		{"private_key", true},
		{"privateKey", true},
		{"signing_key", true},
		{"signingKey", true},
		{"hmac_key", true},
		{"HMACKey", true},
		{"webhook_key", true},
		{"merchant_key", true},
		{"mch-key", true},
		{"app.key", true},
		{"api_v3_key", true},
		{"apiV3Key", true},
		{"signing_keys", true},
		{"webhook_hmac", true},
		{"webhook_signing", true},
		// Words stuck together, as some gateways' consoles spell them.
		{"appsecret", true},
		{"accesstoken", true},
		{"mchkey", true},
		// Words after the secret word that say how it is written or
		// which one it is keep it secret.
		{"private_key_pem", true},
		{"key_pem", true},
		{"api_key_live", true},
		{"webhook_secret_2", true},
		{"secret_key_base64", true},

		// About a secret, not the secret: identifiers.
		{"api_key_id", false},
		{"apiKeyId", false},
		{"key_id", false},
		{"keyId", false},
		{"access_key_id", false},
		{"credential_id", false},
		{"key_serial_no", false},
		{"signing_key_version", false},
		{"secret_name", false},
		// ... places.
		{"token_url", false},
		{"tokenURL", false},
		{"token_endpoint", false},
		{"oauth_token_uri", false},
		{"credentials_file", false},
		{"private_key_path", false},
		{"api_key_header", false},
		// ... times, sizes and kinds.
		{"token_ttl", false},
		{"token_lifetime", false},
		{"client_secret_expires_at", false},
		{"password_min_length", false},
		{"password_hint", false},
		{"token_type", false},
		{"signing_algorithm", false},
		{"signing_cert", false},
		{"idempotency_key_prefix", false},
		{"token_scopes", false},
		// Public keys.
		{"public_key", false},
		{"publicKey", false},
		{"publishable_key", false},
		{"alipay_public_key", false},
		{"platform_public_key_id", false},
		{"pub_key", false},
		// No secret word at all: a substring is not a word.
		{"secretary_email", false},
		{"tokenizer", false},
		{"keyword", false},
		{"passwordless", false},
		{"app_id", false},
		{"merchant_id", false},
		{"mchid", false},
		{"sign_type", false},
		{"statement_descriptor", false},
		{"base_url", false},
		{"sandbox", false},
		{"", false},
	}
	for _, tt := range names {
		t.Run(tt.name, func(t *testing.T) {
			if got := looksSecret(tt.name, "string"); got != tt.want {
				t.Errorf("looksSecret(%q, string) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
	// The type counts too: booleans and numbers hold no secret; an
	// object of secrets and an untyped setting may.
	types := []struct {
		name, typ string
		want      bool
	}{
		{"hmac_key", "boolean", false},
		{"hmac_key", "integer", false},
		{"token_lifetime_seconds", "number", false},
		{"signing_enabled", "boolean", false},
		{"signing_secrets", "object", true},
		{"signing_key", "", true},
	}
	for _, tt := range types {
		t.Run(tt.name+"/"+tt.typ, func(t *testing.T) {
			if got := looksSecret(tt.name, tt.typ); got != tt.want {
				t.Errorf("looksSecret(%q, %q) = %v, want %v", tt.name, tt.typ, got, tt.want)
			}
		})
	}
}

// TestUnprotectedSecrets: the check walks nested object properties and
// local $refs, and a writeOnly property (or $ref to a writeOnly schema)
// covers what is under it.
func TestUnprotectedSecrets(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		want   []string
	}{
		{"top level, all writeOnly", `{"type":"object","properties":{
			"webhook_secret":{"type":"string","writeOnly":true},
			"signing_key":{"type":"string","writeOnly":true},
			"public_key":{"type":"string"},"key_id":{"type":"string"}}}`, nil},
		{"top level, new names", `{"type":"object","properties":{
			"signing_key":{"type":"string"},"hmac_key":{"type":"string"},"webhook_key":{"type":"string"},
			"private_key_pem":{"type":"string"},"client_secret":{"type":"string"},"app_secret":{"type":"string"},
			"hmac_enabled":{"type":"boolean"}}}`,
			[]string{"/app_secret", "/client_secret", "/hmac_key", "/private_key_pem", "/signing_key", "/webhook_key"}},
		{"nested", `{"type":"object","properties":{
			"oauth":{"type":"object","properties":{"client_id":{"type":"string"},"client_secret":{"type":"string"},
				"tls":{"type":"object","properties":{"key_pem":{"type":"string"},"cert_pem":{"type":"string"}}}}}}}`,
			[]string{"/oauth/client_secret", "/oauth/tls/key_pem"}},
		// Names about a secret are not secrets, at any depth; the secret
		// beside them still is.
		{"lookalikes, top level and nested", `{"type":"object","$defs":{
			"account":{"type":"object","properties":{"api_key_id":{"type":"string"},"api_key":{"type":"string"}}}},
			"properties":{"api_key_id":{"type":"string"},"token_ttl":{"type":"string"},"token_url":{"type":"string","format":"uri"},
				"oauth":{"type":"object","properties":{"token_url":{"type":"string"},"client_id":{"type":"string"},
					"access_token_ttl":{"type":"string"},"client_secret":{"type":"string"},
					"jwt":{"type":"object","properties":{"key_id":{"type":"string"},"public_key":{"type":"string"},"private_key_pem":{"type":"string"}}}}},
				"live":{"$ref":"#/$defs/account"}}}`,
			[]string{"/live/api_key", "/oauth/client_secret", "/oauth/jwt/private_key_pem"}},
		{"a writeOnly object covers its properties", `{"type":"object","properties":{
			"signing_secrets":{"type":"object","writeOnly":true,"properties":{"primary":{"type":"string"},"hmac_key":{"type":"string"}}}}}`, nil},
		{"$ref to $defs", `{"type":"object","$defs":{
			"account":{"type":"object","properties":{"app_id":{"type":"string"},"app_secret":{"type":"string"}}},
			"secret":{"type":"string","writeOnly":true}},
			"properties":{"live":{"$ref":"#/$defs/account"},"test":{"$ref":"#/$defs/account"},
				"signing_key":{"$ref":"#/$defs/secret"}}}`,
			[]string{"/live/app_secret", "/test/app_secret"}},
		{"$ref at the root, definitions, escaped name", `{"$ref":"#/definitions/root","definitions":{"root":{"type":"object",
			"properties":{"a/b":{"type":"object","properties":{"hmac_key":{"type":"string"}}}}}}}`,
			[]string{"/a~1b/hmac_key"}},
		// The definition is reported where it is first reached; fixing it
		// there fixes it everywhere.
		{"a $ref cycle ends", `{"type":"object","$defs":{"node":{"type":"object","properties":{
			"next":{"$ref":"#/$defs/node"},"signing_key":{"type":"string"}}}},
			"properties":{"head":{"$ref":"#/$defs/node"}}}`,
			[]string{"/head/signing_key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var root map[string]any
			if err := json.Unmarshal([]byte(tt.schema), &root); err != nil {
				t.Fatal(err)
			}
			if got := unprotectedSecrets(root); !slices.Equal(got, tt.want) {
				t.Errorf("unprotectedSecrets = %q, want %q", got, tt.want)
			}
		})
	}
}
