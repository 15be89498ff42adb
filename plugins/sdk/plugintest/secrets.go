package plugintest

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// looksSecret reports whether a setting's name says it holds a secret,
// which must then be "writeOnly". typ is the property's JSON Schema type
// ("" when it declares none).
//
// The name is read as words, split at "_", "-", ".", spaces and camelCase
// (signingKey is signing, key; apiKeyID is api, key, id), and judged by
// whole words, never by a substring of one: secretary, tokenizer and
// keyword hold no secret word. The rule, in order:
//
//  1. A name can only be secret when one of its words names a secret
//     (secretWord): a word ending in secret, password, passwd,
//     passphrase, token or credential, or their plurals (client_secret,
//     appsecret, access_token, credentials), a word ending in key or keys
//     (key, api_key, private_key, signing_key, apikey, mchkey), or a word
//     holding signing or hmac (webhook_signing, hmac).
//  2. It is not secret when a word says it is public ("public",
//     "publishable", "pub": public_key, publishable_key,
//     platform_public_key_id).
//  3. It is not secret when a word after its last secret word describes
//     the secret instead of holding it: an identifier, a place, a time, a
//     size or a kind (api_key_id, key_serial_no, token_ttl, token_url,
//     secret_name, signing_algorithm, client_secret_expires_at,
//     idempotency_key_prefix: see descriptorWords). Other words after it
//     say how the secret is written or which one it is, and keep it
//     secret (private_key_pem, api_key_live, webhook_secret_2). A
//     descriptor before the secret word does not count: id_token is a
//     token.
//  4. A boolean, integer or number setting is not secret (hmac_enabled,
//     token_lifetime_seconds): a secret is a string or an object of them.
//
// So webhook_secret, password, api_key, private_key_pem, access_token,
// signing_key, hmac_key, api_v3_key and signingKey are secret and must be
// writeOnly; api_key_id, token_ttl, token_url, key_id and public_key are
// not.
func looksSecret(name, typ string) bool {
	switch typ {
	case "boolean", "integer", "number":
		return false
	}
	words := nameWords(name)
	for _, w := range words {
		if w == "pub" || strings.HasPrefix(w, "public") || strings.HasPrefix(w, "publishable") {
			return false
		}
	}
	return namesThing(words, secretWord)
}

// namesThing reports whether a name, as words, names a thing that is
// recognised by a word of it (is), rather than something about that
// thing: a word is one, and no word after the last such word is in
// descriptorWords (api_key but not api_key_id, sign but not sign_type).
func namesThing(words []string, is func(word string) bool) bool {
	last := -1
	for i, w := range words {
		if is(w) {
			last = i
		}
	}
	if last < 0 {
		return false
	}
	for _, w := range words[last+1:] {
		if slices.Contains(descriptorWords, w) {
			return false
		}
	}
	return true
}

// secretWord reports whether one word of a setting's name (lower case,
// see nameWords) names a secret: see looksSecret, step 1.
func secretWord(w string) bool {
	for _, end := range []string{"secret", "password", "passwd", "passphrase", "token", "credential", "key"} {
		if strings.HasSuffix(w, end) || strings.HasSuffix(w, end+"s") {
			return true
		}
	}
	return strings.Contains(w, "signing") || strings.Contains(w, "hmac")
}

// descriptorWords, after a secret word, make a setting's name describe
// the secret instead of holding it (key_id, signing_key_version,
// hmac_algorithm, token_url, token_ttl, secret_name, password_hint), and
// after a signature word, a body field's name describe the signature
// (sign_type, signMethod: see signatureField).
var descriptorWords = []string{
	"id", "ids", "name", "names", "serial", "sn", "no", "num", "number", "version", "index", "idx",
	"alias", "label", "type", "kind", "alg", "algo", "algorithm", "method", "scheme", "mode",
	"url", "uri", "endpoint", "host", "path", "file", "filename", "dir", "location", "format", "encoding",
	"enabled", "disabled", "enable", "disable", "required", "prefix", "suffix", "length", "size", "bits",
	"fingerprint", "thumbprint", "expiry", "expires", "expiration", "ttl", "lifetime", "timeout", "interval",
	"cert", "certificate", "header", "param", "parameter", "field", "hint", "policy", "issuer", "audience",
	"scope", "scopes",
}

// nameWords splits a setting name into lower-case words at non-letters
// and non-digits and at camelCase boundaries: "apiV3Key" is api, v3, key;
// "HMACKey" is hmac, key.
func nameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, c := range rs {
		switch {
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			flush()
		case unicode.IsUpper(c) && i > 0 && len(cur) > 0 &&
			(!unicode.IsUpper(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])):
			flush()
			cur = append(cur, c)
		default:
			cur = append(cur, c)
		}
	}
	flush()
	if len(words) == 0 {
		return []string{""}
	}
	return words
}

// unprotectedSecrets returns JSON Pointers to the settings of the config
// schema root whose names look secret (looksSecret) but that are not
// "writeOnly", sorted. It follows "properties" into nested objects and
// local "$ref"s ("#/$defs/..."), as Kassa does when it keeps secrets: a
// property is writeOnly when it or the schema it refers to says so, and a
// writeOnly property covers everything under it. Array items,
// additionalProperties and allOf/oneOf branches are not followed: Kassa
// cannot keep a secret there (sdk.CompileSchema refuses such a
// writeOnly), so a secret belongs in a property of its own.
func unprotectedSecrets(root map[string]any) []string {
	var out []string
	onPath := map[string]bool{} // $refs being followed, against cycles
	var walk func(node map[string]any, at string, depth int)
	walk = func(node map[string]any, at string, depth int) {
		if node == nil || depth > 32 {
			return
		}
		if ref, ok := node["$ref"].(string); ok && !onPath[ref] {
			onPath[ref] = true
			walk(resolveRef(root, ref), at, depth+1)
			delete(onPath, ref)
		}
		props, _ := node["properties"].(map[string]any)
		for _, name := range sortedKeys(props) {
			p, _ := props[name].(map[string]any)
			ptr := at + "/" + pointerEscape(name)
			if writeOnlySchema(root, p) {
				continue
			}
			if looksSecret(name, schemaType(root, p)) {
				out = append(out, ptr)
			}
			walk(p, ptr, depth+1)
		}
	}
	walk(root, "", 0)
	slices.Sort(out)
	return slices.Compact(out)
}

// writeOnlySchema reports whether sch, or a schema it refers to by a local
// $ref, is marked "writeOnly": true.
func writeOnlySchema(root, sch map[string]any) bool {
	for depth := 0; sch != nil && depth <= 16; depth++ {
		if wo, _ := sch["writeOnly"].(bool); wo {
			return true
		}
		ref, _ := sch["$ref"].(string)
		sch = resolveRef(root, ref)
	}
	return false
}

// schemaType is the "type" of sch or of the schema it refers to; "" when
// none is a single type.
func schemaType(root, sch map[string]any) string {
	for depth := 0; sch != nil && depth <= 16; depth++ {
		if t, ok := sch["type"].(string); ok {
			return t
		}
		ref, _ := sch["$ref"].(string)
		sch = resolveRef(root, ref)
	}
	return ""
}

// resolveRef finds a local reference ("#/$defs/credential", a JSON
// Pointer within the document) in root; nil for anything else.
func resolveRef(root map[string]any, ref string) map[string]any {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil
	}
	if f, err := url.PathUnescape(frag); err == nil {
		frag = f
	}
	var cur any = root
	if frag != "" {
		if !strings.HasPrefix(frag, "/") {
			return nil // an anchor, not a pointer
		}
		for _, tok := range strings.Split(frag[1:], "/") {
			tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
			m, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = m[tok]
		}
	}
	m, _ := cur.(map[string]any)
	return m
}
