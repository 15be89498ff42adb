package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ConfigError is one problem with a plugin's settings, reported as data by
// Configure (and by the host when it validates settings against the schema).
type ConfigError struct {
	// Field is a JSON Pointer (RFC 6901) to the offending value, e.g.
	// "/webhook_secret"; empty for the settings object as a whole.
	Field string `json:"field"`
	// Code is a stable machine-readable reason: the JSON Schema keyword that
	// failed ("type", "required", "minLength", ...), "unknown_field",
	// "invalid_json", or a plugin's own code such as "invalid_credentials".
	Code string `json:"code"`
	// Message explains the problem to the shop owner, in English.
	Message string `json:"message"`
}

// Error makes a ConfigError usable as an error value.
func (e ConfigError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// ConfigureResult is the answer to Configure.
type ConfigureResult struct {
	// Errors lists what is wrong with the settings. Empty means they were
	// accepted and are in effect; otherwise the plugin keeps its previous
	// settings.
	Errors []ConfigError
}

// OK reports whether the settings were accepted.
func (r ConfigureResult) OK() bool { return len(r.Errors) == 0 }

// Err returns the errors joined as one error, or nil when accepted.
func (r ConfigureResult) Err() error {
	if r.OK() {
		return nil
	}
	errs := make([]error, len(r.Errors))
	for i, e := range r.Errors {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// Schema is a compiled JSON Schema for a plugin's settings. Plugins use it in
// Configure to refuse bad settings with the schema's own messages; the host
// uses it to validate settings before they are saved and to find secret
// fields.
type Schema struct {
	raw    string
	schema *jsonschema.Schema
}

var englishPrinter = message.NewPrinter(language.English)

// CompileSchema compiles a JSON Schema document (draft 2020-12 unless the
// document's "$schema" says otherwise). The root must describe an object.
func CompileSchema(doc string) (*Schema, error) {
	if strings.TrimSpace(doc) == "" {
		return nil, errors.New("config schema is empty (use {\"type\":\"object\",\"additionalProperties\":false} for a plugin without settings)")
	}
	parsed, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("config schema is not valid JSON: %w", err)
	}
	root, ok := parsed.(map[string]any)
	if !ok {
		return nil, errors.New("config schema must be a JSON object")
	}
	if t, _ := root["type"].(string); t != "object" {
		return nil, errors.New(`config schema must have "type": "object" at the root`)
	}
	if err := checkTranslations(root, ""); err != nil {
		return nil, err
	}
	if at, ok := unreachableSecret(root, ""); ok {
		return nil, fmt.Errorf(`config schema marks %s "writeOnly", where the host cannot keep it secret: `+
			`mark only object properties (properties, nested properties, $defs reached by $ref), not array items, additionalProperties or combinators`, at)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Draft 2020-12 makes "format" a note unless asked: a plugin that
	// writes "format": "uri" means it, and "not a url" must not be saved.
	c.AssertFormat()
	const url = "kassa-plugin-config.json"
	if err := c.AddResource(url, parsed); err != nil {
		return nil, fmt.Errorf("config schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("config schema is not a valid JSON Schema: %w", err)
	}
	return &Schema{raw: doc, schema: s}, nil
}

// unreachableSecret finds a "writeOnly": true that SecretFields would not
// report: the host encrypts and hides settings by the JSON Pointers it
// lists, so a secret it cannot point at (an array item's, a map value's,
// one inside allOf/oneOf) would be stored in plain text and shown to
// staff. at is the keyword path of the first one found. Schemas under
// $defs and definitions count as reached: SecretFields follows $ref.
func unreachableSecret(node map[string]any, at string) (string, bool) {
	for key, v := range node {
		switch key {
		case "properties", "$defs", "definitions":
			props, _ := v.(map[string]any)
			for name, sub := range props {
				if m, ok := sub.(map[string]any); ok {
					if where, bad := unreachableSecret(m, at+"/"+key+"/"+name); bad {
						return where, true
					}
				}
			}
		case "writeOnly":
			// Here, on a property (or the root), it is reachable.
		default:
			if where, bad := anySecret(v, at+"/"+key); bad {
				return where, true
			}
		}
	}
	return "", false
}

// anySecret finds any "writeOnly": true under v.
func anySecret(v any, at string) (string, bool) {
	switch x := v.(type) {
	case map[string]any:
		if w, _ := x["writeOnly"].(bool); w {
			return at, true
		}
		for k, sub := range x {
			if where, bad := anySecret(sub, at+"/"+k); bad {
				return where, true
			}
		}
	case []any:
		for i, sub := range x {
			if where, bad := anySecret(sub, fmt.Sprintf("%s/%d", at, i)); bad {
				return where, true
			}
		}
	}
	return "", false
}

// The keywords that give a setting's title and description in other
// languages (see [Info.ConfigSchema]); validators ignore them.
const (
	titlesKeyword       = "x-kassa-titles"
	descriptionsKeyword = "x-kassa-descriptions"
)

// translationLimits are the longest translated title and description, in
// bytes.
var translationLimits = map[string]struct {
	of  string
	max int
}{
	titlesKeyword:       {"title", 500},
	descriptionsKeyword: {"description", 5000},
}

// checkTranslations refuses an x-kassa-titles or x-kassa-descriptions
// that is not a map of BCP 47 tags to text, or that translates a title or
// description the schema does not have (other languages fall back to it).
// Property names are names, not keywords: a setting may be called
// "x-kassa-titles"; const, enum, default and examples hold settings'
// values, never keywords.
func checkTranslations(node map[string]any, at string) error {
	for key, v := range node {
		switch key {
		case "properties", "patternProperties", "$defs", "definitions", "dependentSchemas":
			subs, _ := v.(map[string]any)
			for name, sub := range subs {
				if m, ok := sub.(map[string]any); ok {
					if err := checkTranslations(m, at+"/"+key+"/"+escapePointer(name)); err != nil {
						return err
					}
				}
			}
		case "const", "enum", "default", "examples":
		case titlesKeyword, descriptionsKeyword:
			lim := translationLimits[key]
			texts, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("config schema: %s/%s must be an object of texts by language tag, e.g. {\"zh-CN\": \"…\"}", at, key)
			}
			if s, _ := node[lim.of].(string); strings.TrimSpace(s) == "" {
				return fmt.Errorf("config schema: %s/%s translates a %s the schema does not give: add %q, which other languages fall back to", at, key, lim.of, lim.of)
			}
			for tag, text := range texts {
				s, _ := text.(string)
				switch {
				case !langPattern.MatchString(tag):
					return fmt.Errorf("config schema: %s/%s: language %q is not a BCP 47 tag like zh-CN", at, key, tag)
				case strings.TrimSpace(s) == "" || len(s) > lim.max:
					return fmt.Errorf("config schema: %s/%s: the %s for %s is not text of 1 to %d bytes", at, key, lim.of, tag, lim.max)
				}
			}
		default:
			if err := checkTranslationsIn(v, at+"/"+key); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkTranslationsIn walks the schemas within a keyword's value.
func checkTranslationsIn(v any, at string) error {
	switch x := v.(type) {
	case map[string]any:
		return checkTranslations(x, at)
	case []any:
		for i, sub := range x {
			if err := checkTranslationsIn(sub, fmt.Sprintf("%s/%d", at, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// MustCompileSchema is like [CompileSchema] but panics on error; for package
// level variables holding a plugin's own schema.
func MustCompileSchema(doc string) *Schema {
	s, err := CompileSchema(doc)
	if err != nil {
		panic(err)
	}
	return s
}

// String returns the schema document as given.
func (s *Schema) String() string { return s.raw }

// Validate checks a settings object against the schema and returns every
// problem, each with a JSON Pointer to the field and the schema's message.
// It returns nil when the settings are valid.
func (s *Schema) Validate(config []byte) []ConfigError {
	if len(bytes.TrimSpace(config)) == 0 {
		config = []byte("{}")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(config))
	if err != nil {
		return []ConfigError{{Code: "invalid_json", Message: "settings are not valid JSON: " + err.Error()}}
	}
	err = s.schema.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []ConfigError{{Code: "invalid", Message: err.Error()}}
	}
	var out []ConfigError
	collectErrors(ve, &out, s.secretField)
	s.redactSecrets(out)
	return out
}

// redactSecrets rewrites the messages about secret settings that would
// quote the value ("'sk_live_…' does not match pattern '^sk_'"): a secret
// is never shown back, not even to whoever typed it, and an error
// message travels further (logs, screenshots) than a settings form.
func (s *Schema) redactSecrets(errs []ConfigError) {
	secrets := s.SecretFields()
	if len(secrets) == 0 {
		return
	}
	for i, e := range errs {
		switch e.Code {
		case "required", "unknown_field", "minLength", "maxLength", "type", "pattern":
			continue // these name no value (plainMessage words a secret's pattern so)
		}
		for _, p := range secrets {
			if e.Field == p || strings.HasPrefix(e.Field, p+"/") {
				errs[i].Message = fmt.Sprintf("the secret is not in the form the plugin expects (%s); its value is not shown", e.Code)
				break
			}
		}
	}
}

// secretField reports whether the JSON Pointer field is, or is inside, a
// secret setting.
func (s *Schema) secretField(field string) bool {
	for _, p := range s.SecretFields() {
		if field == p || strings.HasPrefix(field, p+"/") {
			return true
		}
	}
	return false
}

// collectErrors flattens a validation error tree into its leaves.
func collectErrors(ve *jsonschema.ValidationError, out *[]ConfigError, secret func(string) bool) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collectErrors(c, out, secret)
		}
		return
	}
	at := pointer(ve.InstanceLocation)
	msg := ve.ErrorKind.LocalizedString(englishPrinter)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, ConfigError{Field: at + "/" + escapePointer(m), Code: "required", Message: fmt.Sprintf("missing required setting %q", m)})
		}
		return
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, ConfigError{Field: at + "/" + escapePointer(p), Code: "unknown_field", Message: fmt.Sprintf("unknown setting %q is not allowed", p)})
		}
		return
	}
	code := "invalid"
	if kw := ve.ErrorKind.KeywordPath(); len(kw) > 0 {
		code = kw[len(kw)-1]
	}
	if m := plainMessage(ve.ErrorKind, secret(at)); m != "" {
		msg = m
	}
	*out = append(*out, ConfigError{Field: at, Code: code, Message: msg})
}

// plainMessage says the common refusals in words a shop owner reads
// ("at least 20 characters, not 9"), where the schema library speaks
// JSON Schema ("minLength: got 9, want 20"); "" leaves its message.
func plainMessage(k jsonschema.ErrorKind, secret bool) string {
	switch k := k.(type) {
	case *kind.MinLength:
		return fmt.Sprintf("at least %d characters, not %d", k.Want, k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("at most %d characters, not %d", k.Want, k.Got)
	case *kind.Minimum:
		return fmt.Sprintf("at least %s", k.Want.FloatString(ratDigits(k.Want)))
	case *kind.Maximum:
		return fmt.Sprintf("at most %s", k.Want.FloatString(ratDigits(k.Want)))
	case *kind.Pattern:
		// The form is no secret; a secret's value is never quoted.
		if secret {
			return fmt.Sprintf("the secret does not have the form the plugin expects (pattern %s); its value is not shown", k.Want)
		}
		return fmt.Sprintf("%q does not have the expected form (pattern %s)", k.Got, k.Want)
	case *kind.Format:
		if k.Want == "uri" {
			return "not a web address (write it whole, e.g. https://api.example.com)"
		}
		return fmt.Sprintf("not a valid %s", k.Want)
	}
	return ""
}

// ratDigits is the number of decimals that writes r exactly, at most 6.
func ratDigits(r *big.Rat) int {
	for d := 0; d < 6; d++ {
		if new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil))).IsInt() {
			return d
		}
	}
	return 6
}

func pointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		sb.WriteString(escapePointer(t))
	}
	return sb.String()
}

func escapePointer(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

// Decode validates the settings against the schema and, when they are
// valid, decodes them into v (a pointer to the plugin's settings struct) with
// unknown fields refused. A typical Configure:
//
//	func (g *Gateway) Configure(ctx context.Context, raw json.RawMessage) (sdk.ConfigureResult, error) {
//		var cfg settings
//		if errs := schema.Decode(raw, &cfg); errs != nil {
//			return sdk.ConfigureResult{Errors: errs}, nil
//		}
//		g.cfg.Store(&cfg)
//		return sdk.ConfigureResult{}, nil
//	}
func (s *Schema) Decode(config []byte, v any) []ConfigError {
	if errs := s.Validate(config); errs != nil {
		return errs
	}
	if len(bytes.TrimSpace(config)) == 0 {
		config = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(config))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return []ConfigError{{Code: "decode", Message: "settings do not fit the plugin's settings type: " + err.Error()}}
	}
	return nil
}

// SecretFields returns JSON Pointers to every property the schema marks
// "writeOnly": true, including nested object properties, sorted.
func (s *Schema) SecretFields() []string {
	var out []string
	var walk func(sch *jsonschema.Schema, at string, depth int)
	walk = func(sch *jsonschema.Schema, at string, depth int) {
		if sch == nil || depth > 16 {
			return
		}
		if sch.Ref != nil {
			walk(sch.Ref, at, depth+1)
		}
		for name, p := range sch.Properties {
			ptr := at + "/" + escapePointer(name)
			if writeOnly(p) {
				out = append(out, ptr)
			}
			walk(p, ptr, depth+1)
		}
	}
	walk(s.schema, "", 0)
	slices.Sort(out)
	return slices.Compact(out)
}

// writeOnly reports whether sch, or a schema it refers to by $ref, is
// marked "writeOnly": {"$ref": "#/$defs/credential"} is as secret as
// the credential.
func writeOnly(sch *jsonschema.Schema) bool {
	for depth := 0; sch != nil && depth <= 16; depth++ {
		if sch.WriteOnly {
			return true
		}
		sch = sch.Ref
	}
	return false
}

// IsSecret reports whether the JSON Pointer field names a writeOnly setting.
func (s *Schema) IsSecret(field string) bool {
	return slices.Contains(s.SecretFields(), field)
}

// Redact returns the settings with every secret field removed, for showing
// settings back to staff or logging them. Non-object input is returned as
// "{}".
func (s *Schema) Redact(config []byte) []byte {
	var obj map[string]any
	if err := json.Unmarshal(config, &obj); err != nil || obj == nil {
		return []byte("{}")
	}
	for _, ptr := range s.SecretFields() {
		removePointer(obj, ptr)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return []byte("{}")
	}
	return out
}

func removePointer(obj map[string]any, ptr string) {
	tokens := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, t := range tokens {
		t = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
		if i == len(tokens)-1 {
			delete(obj, t)
			return
		}
		next, ok := obj[t].(map[string]any)
		if !ok {
			return
		}
		obj = next
	}
}
