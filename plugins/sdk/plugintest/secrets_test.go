package plugintest

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestLooksSecret pins the naming rule of the writeOnly check: the names a
// plugin author reported missing are secret; public keys, identifiers and
// descriptors of keys are not.
func TestLooksSecret(t *testing.T) {
	secret := []string{
		// The names the kit used to miss.
		"signing_key", "hmac_key", "webhook_key", "private_key_pem", "client_secret", "app_secret",
		"signingKey", "HMACKey", "webhookSigningSecret", "api_v3_key", "apiV3Key", "merchant_key", "key",
		"key_pem", "signing_keys", "webhook_hmac", "webhook_signing", "mch-key", "app.key",
		// Caught before, still caught.
		"webhook_secret", "password", "api_key", "apikey", "access_token", "credentials", "private_key",
		"api_key_id", // the old rule's word wins, whatever follows it
	}
	notSecret := []string{
		"public_key", "publishable_key", "publicKey", "alipay_public_key", "platform_public_key_id", "pub_key",
		"key_id", "keyId", "app_id", "merchant_id", "mchid", "signing_algorithm", "sign_type",
		"signing_key_version", "key_serial_no", "signing_cert", "idempotency_key_prefix", "keyword",
		"statement_descriptor", "base_url", "sandbox", "",
	}
	for _, name := range secret {
		if !looksSecret(name, "string") {
			t.Errorf("looksSecret(%q) = false, want true", name)
		}
	}
	for _, name := range notSecret {
		if looksSecret(name, "string") {
			t.Errorf("looksSecret(%q) = true, want false", name)
		}
	}
	for _, typ := range []string{"boolean", "integer", "number"} {
		if looksSecret("hmac_key", typ) {
			t.Errorf("looksSecret(hmac_key, %s) = true: a %s holds no secret", typ, typ)
		}
	}
	if !looksSecret("signing_key", "") || !looksSecret("signing_keys", "object") {
		t.Errorf("an untyped or object signing_key must count as secret")
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
