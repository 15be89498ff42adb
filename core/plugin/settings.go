package plugin

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/secret"
	"github.com/kassahq/kassa/plugins/sdk"
)

// settingsSchema is a plugin's compiled settings schema plus what the host
// needs beyond validation.
type settingsSchema struct {
	*sdk.Schema
	secrets []string // JSON Pointers of writeOnly fields
	// declared are the root properties when the schema lists them and does
	// not allow others explicitly: the host refuses any other top-level
	// key (strict decode) even if the author forgot additionalProperties.
	declared map[string]bool
}

func compileSchema(doc string) (*settingsSchema, error) {
	s, err := sdk.CompileSchema(doc)
	if err != nil {
		return nil, err
	}
	out := &settingsSchema{Schema: s, secrets: s.SecretFields()}
	var root struct {
		Properties           map[string]json.RawMessage `json:"properties"`
		AdditionalProperties json.RawMessage            `json:"additionalProperties"`
		PatternProperties    json.RawMessage            `json:"patternProperties"`
	}
	if json.Unmarshal([]byte(doc), &root) == nil && root.Properties != nil && root.PatternProperties == nil {
		ap := strings.TrimSpace(string(root.AdditionalProperties))
		if ap == "" || ap == "false" {
			out.declared = map[string]bool{}
			for k := range root.Properties {
				out.declared[k] = true
			}
		}
	}
	return out, nil
}

// validate checks a complete settings object: strict decode (a JSON object,
// no undeclared top-level keys), then the schema. It returns nil when valid.
func (s *settingsSchema) validate(obj map[string]any) []sdk.ConfigError {
	var out []sdk.ConfigError
	if s.declared != nil {
		keys := make([]string, 0, len(obj))
		for k := range obj {
			if !s.declared[k] {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			out = append(out, sdk.ConfigError{Field: "/" + escapeToken(k), Code: "unknown_field", Message: fmt.Sprintf("unknown setting %q is not allowed", k)})
		}
		if out != nil {
			return out
		}
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return []sdk.ConfigError{{Code: "invalid_json", Message: err.Error()}}
	}
	return s.Validate(raw)
}

// parseObject decodes settings that must be one JSON object. Numbers stay
// json.Number so large integers survive the round trip.
func parseObject(raw []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("settings are not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("settings must be a single JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("settings must be a JSON object")
	}
	return obj, nil
}

// splitSecrets moves the values at the secret pointers out of obj (which is
// modified) into a map keyed by pointer.
func splitSecrets(obj map[string]any, pointers []string) map[string]any {
	out := map[string]any{}
	for _, p := range pointers {
		if v, ok := takePointer(obj, p); ok {
			out[p] = v
		}
	}
	return out
}

// mergeSecrets puts secret values back at their pointers in obj.
func mergeSecrets(obj map[string]any, secrets map[string]any) {
	for p, v := range secrets {
		setPointer(obj, p, v)
	}
}

func tokens(ptr string) []string {
	if ptr == "" || ptr == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, t := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return parts
}

func escapeToken(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

func takePointer(obj map[string]any, ptr string) (any, bool) {
	toks := tokens(ptr)
	if len(toks) == 0 {
		return nil, false
	}
	for _, t := range toks[:len(toks)-1] {
		next, ok := obj[t].(map[string]any)
		if !ok {
			return nil, false
		}
		obj = next
	}
	last := toks[len(toks)-1]
	v, ok := obj[last]
	if ok {
		delete(obj, last)
	}
	return v, ok
}

func hasPointer(obj map[string]any, ptr string) bool {
	toks := tokens(ptr)
	if len(toks) == 0 {
		return false
	}
	for _, t := range toks[:len(toks)-1] {
		next, ok := obj[t].(map[string]any)
		if !ok {
			return false
		}
		obj = next
	}
	_, ok := obj[toks[len(toks)-1]]
	return ok
}

func setPointer(obj map[string]any, ptr string, v any) {
	toks := tokens(ptr)
	if len(toks) == 0 {
		return
	}
	for _, t := range toks[:len(toks)-1] {
		next, ok := obj[t].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[t] = next
		}
		obj = next
	}
	obj[toks[len(toks)-1]] = v
}

// secretsAD binds sealed secrets to their plugin: a blob copied to another
// plugin's row does not open.
func secretsAD(id string) []byte { return []byte("kassa:plugin-secrets:" + id) }

// openSecrets decrypts the stored secret settings of r.
func openSecrets(box *secret.Box, r *row) (map[string]any, error) {
	out := map[string]any{}
	if r.Secrets == "" {
		return out, nil
	}
	if box == nil {
		return nil, errs.Unavailable(CodeSecretsUnavailable, fmt.Sprintf("plugin %s has secret settings but no master key is configured", r.ID))
	}
	sealed, err := base64.StdEncoding.DecodeString(r.Secrets)
	if err != nil {
		return nil, errs.Unavailable(CodeSecretsUnavailable, fmt.Sprintf("plugin %s: stored secrets are corrupt", r.ID))
	}
	plain, err := box.Open(sealed, secretsAD(r.ID))
	if err != nil {
		msg := fmt.Sprintf("plugin %s: stored secrets cannot be decrypted: %v", r.ID, err)
		if errors.Is(err, secret.ErrUnknownKey) {
			msg += " (KASSA_SECRET_KEY or DATA_DIR/secret.key differs from the key that saved them; restore it or enter the secrets again)"
		}
		return nil, errs.Unavailable(CodeSecretsUnavailable, msg)
	}
	defer clear(plain)
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("plugin %s: decode secrets: %w", r.ID, err)
	}
	return out, nil
}

// sealSecrets encrypts the secret settings for storage in r.
func sealSecrets(box *secret.Box, r *row, secrets map[string]any) error {
	names := make([]string, 0, len(secrets))
	for p := range secrets {
		names = append(names, p)
	}
	slices.Sort(names)
	fields, _ := json.Marshal(names)
	r.SecretFields = string(fields)
	if len(secrets) == 0 {
		r.Secrets, r.SecretsKeyID = "", ""
		return nil
	}
	if box == nil {
		return errs.Unavailable(CodeSecretsUnavailable, "secret settings cannot be saved: no master key is configured")
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return fmt.Errorf("encode secrets: %w", err)
	}
	defer clear(plain)
	sealed, err := box.Seal(plain, secretsAD(r.ID))
	if err != nil {
		return err
	}
	r.Secrets = base64.StdEncoding.EncodeToString(sealed)
	r.SecretsKeyID = box.KeyID()
	return nil
}

// settingsErrors turns schema or plugin refusals into user errors under
// settings (the transport adds its envelope: input.settings in GraphQL),
// with the schema's own messages.
func settingsErrors(problems []sdk.ConfigError) error {
	var v errs.Validator
	for _, p := range problems {
		field := append([]string{"settings"}, tokens(p.Field)...)
		v.Add(&errs.Error{Kind: errs.ErrInvalid, Code: CodeInvalidSettings, Field: field, Message: p.Message})
	}
	return v.Err()
}

// fullSettings returns r's complete settings (non-secret plus decrypted
// secrets) as an object.
func fullSettings(box *secret.Box, r *row) (map[string]any, error) {
	obj, err := parseObject([]byte(r.Settings))
	if err != nil {
		return nil, fmt.Errorf("plugin %s: stored settings: %w", r.ID, err)
	}
	sec, err := openSecrets(box, r)
	if err != nil {
		return nil, err
	}
	mergeSecrets(obj, sec)
	return obj, nil
}

// describeSecrets lists the schema's secret fields with whether each is set.
func describeSecrets(schema *settingsSchema, r *row) []SecretField {
	set := r.secretFieldsSet()
	out := make([]SecretField, 0, len(schema.secrets))
	for _, p := range schema.secrets {
		out = append(out, SecretField{Name: strings.Join(tokens(p), "."), Pointer: p, IsSet: slices.Contains(set, p)})
	}
	return out
}
