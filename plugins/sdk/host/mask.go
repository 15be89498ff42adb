package host

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	sdk "github.com/kassahq/kassa/plugins/sdk"
)

// Masked is what a secret setting becomes in the plugin's log lines and in
// the text Redact returns.
const Masked = "[secret]"

// minMasked is the shortest secret masked: masking "1" or "yes" would
// garble every line while hiding nothing worth hiding.
const minMasked = 6

// secretMask hides the values of a plugin's secret settings (the ones its
// schema marks writeOnly) wherever the host passes on what the plugin
// says: a plugin that logs its settings, or quotes its API key in an
// error, must not put the key in Kassa's log or before staff. It holds
// the settings last applied and the ones being applied, since a plugin
// may log what it is refusing.
type secretMask struct {
	mu      sync.Mutex
	applied []string
	r       atomic.Pointer[strings.Replacer]
}

// apply returns s with every secret value replaced by Masked.
func (m *secretMask) apply(s string) string {
	if r := m.r.Load(); r != nil {
		return r.Replace(s)
	}
	return s
}

// value masks the strings inside a log attribute's value: go-plugin hands
// over the plugin's JSON log lines parsed, so objects and lists too.
func (m *secretMask) value(v any) any {
	if m.r.Load() == nil {
		return v
	}
	switch v := v.(type) {
	case string:
		return m.apply(v)
	case error:
		return m.apply(v.Error())
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = m.value(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = m.value(x)
		}
		return out
	}
	return v
}

// trying masks the secrets of settings about to be sent, besides those
// applied.
func (m *secretMask) trying(values []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.build(append(slices.Clone(m.applied), values...))
}

// settle records the outcome of Configure: values are the secrets in
// effect from now on when ok, and the previous ones stay otherwise.
func (m *secretMask) settle(values []string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ok {
		m.applied = values
	}
	m.build(m.applied)
}

func (m *secretMask) build(values []string) {
	values = slices.DeleteFunc(slices.Clone(values), func(v string) bool { return len(v) < minMasked })
	if len(values) == 0 {
		m.r.Store(nil)
		return
	}
	// The longest first: of two secrets where one holds the other, the
	// longer must be masked whole.
	slices.SortFunc(values, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	values = slices.Compact(values)
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, Masked)
	}
	m.r.Store(strings.NewReplacer(pairs...))
}

// secretValues returns the string values at the schema's secret fields
// of config.
func secretValues(schemaDoc string, config json.RawMessage) []string {
	schema, err := sdk.CompileSchema(schemaDoc)
	if err != nil {
		return nil
	}
	var obj any
	if json.Unmarshal(config, &obj) != nil {
		return nil
	}
	var out []string
	for _, ptr := range schema.SecretFields() {
		v := obj
		for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[tok]
		}
		collectStrings(v, &out)
	}
	return out
}

// collectStrings appends every string in v (a secret may be an object or a
// list of strings).
func collectStrings(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case []any:
		for _, x := range v {
			collectStrings(x, out)
		}
	case map[string]any:
		for _, x := range v {
			collectStrings(x, out)
		}
	}
}

// maskingPlugin is the kind-independent client with Configure teaching
// the mask the secrets it sends.
type maskingPlugin struct {
	sdk.Plugin
	p *Plugin
}

// Configure implements sdk.Plugin.
func (m maskingPlugin) Configure(ctx context.Context, config json.RawMessage) (sdk.ConfigureResult, error) {
	values := m.p.secretsOf(ctx, config)
	m.p.mask.trying(values)
	res, err := m.Plugin.Configure(ctx, config)
	m.p.mask.settle(values, err == nil && res.OK())
	return res, err
}

// secretsOf returns the secret values of config by the plugin's schema,
// asking the plugin for it once.
func (p *Plugin) secretsOf(ctx context.Context, config json.RawMessage) []string {
	p.mu.Lock()
	schema, known := p.schema, p.schemaKnown
	p.mu.Unlock()
	if !known {
		info, err := p.common.Describe(ctx)
		if err != nil {
			return nil
		}
		schema = p.rememberSchema(info)
	}
	return secretValues(schema, config)
}

func (p *Plugin) rememberSchema(info sdk.Info) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.schema, p.schemaKnown = info.ConfigSchema, true
	return p.schema
}

// Redact returns s with the values of the plugin's secret settings
// replaced by Masked: for text a plugin returns that reaches a log or
// staff (a health message, a merchant message). The plugin's own log
// lines are masked already.
func (p *Plugin) Redact(s string) string { return p.mask.apply(s) }
