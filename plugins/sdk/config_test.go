package sdk_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kassahq/kassa/plugins/sdk"
)

const testSchema = `{
  "type": "object",
  "additionalProperties": false,
  "required": ["api_key"],
  "properties": {
    "api_key": {"type": "string", "minLength": 8, "writeOnly": true},
    "delay_ms": {"type": "integer", "minimum": 0},
    "base_url": {"type": "string", "format": "uri"},
    "bank": {
      "type": "object",
      "properties": {"iban": {"type": "string"}, "token": {"type": "string", "writeOnly": true}}
    }
  }
}`

func TestSchemaValidate(t *testing.T) {
	t.Parallel()
	s := sdk.MustCompileSchema(testSchema)
	tests := []struct {
		name   string
		config string
		want   []sdk.ConfigError
	}{
		{name: "valid", config: `{"api_key":"12345678","delay_ms":5}`},
		{name: "wrong type", config: `{"api_key":"12345678","delay_ms":"5"}`,
			want: []sdk.ConfigError{{Field: "/delay_ms", Code: "type", Message: "got string, want integer"}}},
		{name: "unknown field", config: `{"api_key":"12345678","dealy_ms":5}`,
			want: []sdk.ConfigError{{Field: "/dealy_ms", Code: "unknown_field", Message: `unknown setting "dealy_ms" is not allowed`}}},
		{name: "missing required", config: `{}`,
			want: []sdk.ConfigError{{Field: "/api_key", Code: "required", Message: `missing required setting "api_key"`}}},
		{name: "empty means {}", config: ``,
			want: []sdk.ConfigError{{Field: "/api_key", Code: "required", Message: `missing required setting "api_key"`}}},
		{name: "too short", config: `{"api_key":"1"}`,
			want: []sdk.ConfigError{{Field: "/api_key", Code: "minLength", Message: "at least 8 characters, not 1"}}},
		{name: "below the minimum", config: `{"api_key":"12345678","delay_ms":-1}`,
			want: []sdk.ConfigError{{Field: "/delay_ms", Code: "minimum", Message: "at least 0"}}},
		// "format" is asserted, not a note: a plugin that writes uri means it.
		{name: "not a web address", config: `{"api_key":"12345678","base_url":"not a url"}`,
			want: []sdk.ConfigError{{Field: "/base_url", Code: "format", Message: "not a web address (write it whole, e.g. https://api.example.com)"}}},
		{name: "a web address", config: `{"api_key":"12345678","base_url":"https://api.example.com/v1"}`},
		{name: "not json", config: `{`, want: []sdk.ConfigError{{Code: "invalid_json"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := s.Validate([]byte(tc.config))
			if tc.name == "not json" {
				if len(got) != 1 || got[0].Code != "invalid_json" {
					t.Errorf("got %v", got)
				}
				return
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Validate (-want +got):\n%s", d)
			}
		})
	}
}

func TestSchemaDecodeSecretsRedact(t *testing.T) {
	t.Parallel()
	s := sdk.MustCompileSchema(testSchema)
	var cfg struct {
		APIKey  string `json:"api_key"`
		DelayMS int    `json:"delay_ms"`
	}
	if errs := s.Decode([]byte(`{"api_key":"12345678","delay_ms":7}`), &cfg); errs != nil {
		t.Fatal(errs)
	}
	if cfg.APIKey != "12345678" || cfg.DelayMS != 7 {
		t.Errorf("decoded %+v", cfg)
	}
	// Valid by schema but not by the Go type: still refused as data.
	if errs := s.Decode([]byte(`{"api_key":"12345678","bank":{"iban":"DE1"}}`), &cfg); len(errs) != 1 || errs[0].Code != "decode" {
		t.Errorf("Decode into a narrower type: %v", errs)
	}
	if d := cmp.Diff([]string{"/api_key", "/bank/token"}, s.SecretFields()); d != "" {
		t.Errorf("SecretFields (-want +got):\n%s", d)
	}
	red := string(s.Redact([]byte(`{"api_key":"sekrit12","delay_ms":1,"bank":{"iban":"DE1","token":"t0ken"}}`)))
	if strings.Contains(red, "sekrit12") || strings.Contains(red, "t0ken") || !strings.Contains(red, "DE1") {
		t.Errorf("Redact = %s", red)
	}
}

// TestCompileSchemaKeepsReachableSecrets: secrets on properties, nested
// properties and $defs reached by $ref compile and are listed.
func TestCompileSchemaKeepsReachableSecrets(t *testing.T) {
	t.Parallel()
	s, err := sdk.CompileSchema(`{"type":"object","$defs":{"cred":{"type":"string","writeOnly":true}},
		"properties":{"key":{"type":"string","writeOnly":true},"bank":{"type":"object","properties":{"token":{"$ref":"#/$defs/cred"}}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"/bank/token", "/key"}, s.SecretFields()); d != "" {
		t.Errorf("SecretFields (-want +got):\n%s", d)
	}
}

// TestValidateHidesSecrets: an error about a secret setting never quotes
// its value; errors about other settings still do.
func TestValidateHidesSecrets(t *testing.T) {
	t.Parallel()
	s := sdk.MustCompileSchema(`{"type":"object","properties":{
		"key":{"type":"string","writeOnly":true,"pattern":"^sk_"},
		"tokens":{"type":"object","writeOnly":true,"additionalProperties":{"type":"string","pattern":"^t_"}},
		"mode":{"type":"string","pattern":"^(live|test)$"}}}`)
	errs := s.Validate([]byte(`{"key":"TOPSECRET-1","tokens":{"erp":"TOPSECRET-2"},"mode":"visible-mode"}`))
	var shown bool
	for _, e := range errs {
		if strings.Contains(e.Message, "TOPSECRET") {
			t.Errorf("%s %s quotes the secret: %s", e.Field, e.Code, e.Message)
		}
		shown = shown || strings.Contains(e.Message, "visible-mode")
	}
	if len(errs) != 3 || !shown {
		t.Errorf("errors %+v: want the key's, the token's and the mode's, quoting the mode", errs)
	}
	// The form expected is no secret: the owner learns what to type.
	for _, e := range errs {
		if e.Field == "/key" && !strings.Contains(e.Message, "pattern ^sk_") {
			t.Errorf("the key's error does not say the form expected: %s", e.Message)
		}
	}
}

func TestCompileSchemaRefusals(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"empty":       "",
		"not json":    "{",
		"array root":  `[]`,
		"not object":  `{"type":"string"}`,
		"bad keyword": `{"type":"object","properties":{"a":{"type":"nope"}}}`,
		// Secrets the host could not point at, encrypt or hide.
		"secret in array items":        `{"type":"object","properties":{"keys":{"type":"array","items":{"type":"string","writeOnly":true}}}}`,
		"secret in a map value":        `{"type":"object","properties":{"tokens":{"type":"object","additionalProperties":{"type":"string","writeOnly":true}}}}`,
		"secret in a combinator":       `{"type":"object","allOf":[{"properties":{"key":{"type":"string","writeOnly":true}}}]}`,
		"secret in an item's property": `{"type":"object","properties":{"endpoints":{"type":"array","items":{"type":"object","properties":{"secret":{"type":"string","writeOnly":true}}}}}}`,
	} {
		if _, err := sdk.CompileSchema(doc); err == nil {
			t.Errorf("%s: CompileSchema accepted %q", name, doc)
		}
	}
}

// TestCompileSchemaTranslations: titles and descriptions in other
// languages are maps of BCP 47 tags to text beside the English they
// translate, wherever a setting is described (nested objects, array
// items, $defs); a setting may itself be named like the keyword, and
// values (default, enum) are never read as keywords.
func TestCompileSchemaTranslations(t *testing.T) {
	t.Parallel()
	good := `{"type":"object","$defs":{"cred":{"type":"string","title":"Key","x-kassa-titles":{"zh-CN":"密钥"}}},
		"properties":{
		"secret":{"type":"string","writeOnly":true,"title":"Secret","x-kassa-titles":{"zh-CN":"密钥","zh-Hant-TW":"金鑰"},
			"description":"Signs the requests.","x-kassa-descriptions":{"zh-CN":"用于签名请求。"}},
		"endpoints":{"type":"array","title":"Endpoints","x-kassa-titles":{"zh-CN":"端点"},
			"items":{"type":"object","properties":{"url":{"type":"string","title":"URL","x-kassa-titles":{"zh-CN":"网址"}}}}},
		"x-kassa-titles":{"type":"object","default":{"x-kassa-titles":"a value, not a keyword"}},
		"key":{"$ref":"#/$defs/cred"}}}`
	s, err := sdk.CompileSchema(good)
	if err != nil {
		t.Fatalf("CompileSchema refused translated titles: %v", err)
	}
	if errs := s.Validate([]byte(`{"secret":"s","endpoints":[{"url":"u"}],"x-kassa-titles":{}}`)); errs != nil {
		t.Errorf("the translations changed what is valid: %v", errs)
	}
	for name, doc := range map[string]string{
		"not an object":          `{"type":"object","properties":{"a":{"type":"string","title":"A","x-kassa-titles":"甲"}}}`,
		"not a language tag":     `{"type":"object","properties":{"a":{"type":"string","title":"A","x-kassa-titles":{"chinese":"甲"}}}}`,
		"empty text":             `{"type":"object","properties":{"a":{"type":"string","title":"A","x-kassa-titles":{"zh-CN":" "}}}}`,
		"not text":               `{"type":"object","properties":{"a":{"type":"string","title":"A","x-kassa-titles":{"zh-CN":1}}}}`,
		"too long":               `{"type":"object","properties":{"a":{"type":"string","title":"A","x-kassa-titles":{"zh-CN":"` + strings.Repeat("甲", 200) + `"}}}}`,
		"no title to fall back":  `{"type":"object","properties":{"a":{"type":"string","x-kassa-titles":{"zh-CN":"甲"}}}}`,
		"no description":         `{"type":"object","properties":{"a":{"type":"string","title":"A","x-kassa-descriptions":{"zh-CN":"甲"}}}}`,
		"in an item's property":  `{"type":"object","properties":{"e":{"type":"array","items":{"type":"object","properties":{"u":{"type":"string","x-kassa-titles":{"zh-CN":"网址"}}}}}}}`,
		"in a combinator branch": `{"type":"object","anyOf":[{"properties":{"a":{"type":"string","title":"A","x-kassa-titles":{"zh_CN":"甲"}}}}]}`,
	} {
		if _, err := sdk.CompileSchema(doc); err == nil {
			t.Errorf("%s: CompileSchema accepted %s", name, doc)
		} else if !strings.Contains(err.Error(), "x-kassa-") {
			t.Errorf("%s: the refusal does not name the keyword: %v", name, err)
		}
	}
}

func TestInfoValidate(t *testing.T) {
	t.Parallel()
	good := sdk.Info{ID: "payment.testpay", Kind: sdk.KindPayment, Version: "1.2.3-beta.1", ProtocolVersion: 1,
		DisplayName: "Test", ConfigSchema: `{"type":"object"}`,
		DisplayNames: map[string]string{"zh-CN": "测试"}, Descriptions: map[string]string{"zh-Hans-CN": "测试支付"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid info: %v", err)
	}
	tests := map[string]func(*sdk.Info){
		"id without kind":    func(i *sdk.Info) { i.ID = "testpay" },
		"id of another kind": func(i *sdk.Info) { i.ID = "notify.testpay" },
		"upper case id":      func(i *sdk.Info) { i.ID = "payment.TestPay" },
		"unknown kind":       func(i *sdk.Info) { i.Kind = "shipping"; i.ID = "shipping.x" },
		"v-prefixed version": func(i *sdk.Info) { i.Version = "v1.2.3" },
		"two-part version":   func(i *sdk.Info) { i.Version = "1.2" },
		"protocol 2":         func(i *sdk.Info) { i.ProtocolVersion = 2 },
		"no display name":    func(i *sdk.Info) { i.DisplayName = "" },
		"bad schema":         func(i *sdk.Info) { i.ConfigSchema = "{" },
		"bad name language":  func(i *sdk.Info) { i.DisplayNames = map[string]string{"chinese!": "测试"} },
		"blank name":         func(i *sdk.Info) { i.DisplayNames = map[string]string{"zh-CN": " "} },
		"huge description":   func(i *sdk.Info) { i.Descriptions = map[string]string{"zh-CN": strings.Repeat("长", 200)} },
	}
	for name, mod := range tests {
		i := good
		mod(&i)
		if err := i.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, i)
		}
	}
}
