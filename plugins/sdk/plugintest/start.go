package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kassahq/kassa/plugins/sdk"
	"github.com/kassahq/kassa/plugins/sdk/host"
)

// StartConfig says how to start a plugin binary for a test.
type StartConfig struct {
	// Binary is the plugin executable (see Build and BuildBinary).
	Binary string
	// SHA256 pins the binary; empty means "the binary's current checksum",
	// what `kassa plugin install` records.
	SHA256 string
	// PluginID tags log lines; optional.
	PluginID string
	// Env are extra environment variables ("KEY=value").
	Env []string
	// DataDir is the plugin's KASSA_PLUGIN_DATA_DIR; empty means a fresh
	// t.TempDir().
	DataDir string
	// Logger receives the plugin's log lines; nil sends them to t.Log while
	// the test runs.
	Logger *slog.Logger
	// CallTimeout is the default deadline of calls; zero means 10s.
	CallTimeout time.Duration
}

// Start starts the binary through sdk/host exactly as Kassa does (sha256
// pinned, AutoMTLS, isolated environment) and kills it when the test ends.
func Start(t testing.TB, cfg StartConfig) *host.Plugin {
	t.Helper()
	if cfg.SHA256 == "" {
		sum, err := host.FileSHA256(cfg.Binary)
		if err != nil {
			t.Fatalf("plugintest: %v", err)
		}
		cfg.SHA256 = sum
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = 10 * time.Second
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(newTestHandler(t))
	}
	p, err := host.Start(context.Background(), host.Config{
		Path: cfg.Binary, SHA256: cfg.SHA256, PluginID: cfg.PluginID, Env: cfg.Env,
		DataDir: cfg.DataDir, Logger: logger, LogLevel: slog.LevelDebug, CallTimeout: cfg.CallTimeout,
	})
	if err != nil {
		t.Fatalf("plugintest: start %s: %v", cfg.Binary, err)
	}
	t.Cleanup(p.Kill)
	return p
}

// commonChecks runs the kind-independent contract: describe, configure,
// health. It returns the plugin's info and whether the plugin is configured.
func commonChecks(s *suite, p *host.Plugin, kind sdk.Kind, knownCaps []string, config json.RawMessage, allowPrivate bool) (sdk.Info, bool) {
	// Configure as a shop with the given network policy.
	configureCtx := func(t *testing.T) context.Context {
		return sdk.WithAllowPrivateNetworks(ctxT(t, 10*time.Second), allowPrivate)
	}
	var info sdk.Info
	describeOK := s.check("describe", func(t *testing.T) {
		var err error
		info, err = p.Describe(ctxT(t, 10*time.Second))
		if err != nil {
			t.Fatalf("Describe failed: %v", err)
		}
		if err := info.Validate(); err != nil {
			t.Errorf("Describe returned an invalid identity card: %v", err)
		}
		if info.Kind != kind {
			t.Errorf("Describe kind = %q, want %q", info.Kind, kind)
		}
		if !strings.HasPrefix(info.ID, string(kind)+".") {
			t.Errorf("id %q must start with %q", info.ID, string(kind)+".")
		}
		for _, c := range info.Capabilities {
			if !slices.Contains(knownCaps, c) && !strings.HasPrefix(c, "x-") {
				t.Errorf("unknown capability %q (known: %s; prefix custom ones with \"x-\")", c, strings.Join(knownCaps, ", "))
			}
		}
		again, err := p.Describe(ctxT(t, 10*time.Second))
		if err != nil || again.ID != info.ID || again.Version != info.Version {
			t.Errorf("Describe is not stable: first %s@%s, then %s@%s (%v)", info.ID, info.Version, again.ID, again.Version, err)
		}
	})
	if !describeOK {
		return info, false
	}
	var schema *sdk.Schema
	var props map[string]map[string]any
	var required []string
	s.check("describe/config_schema", func(t *testing.T) {
		var err error
		schema, err = sdk.CompileSchema(info.ConfigSchema)
		if err != nil {
			t.Fatalf("config schema: %v", err)
		}
		var raw struct {
			AdditionalProperties *bool                     `json:"additionalProperties"`
			Properties           map[string]map[string]any `json:"properties"`
			Required             []string                  `json:"required"`
		}
		if err := json.Unmarshal([]byte(info.ConfigSchema), &raw); err != nil {
			t.Fatalf("config schema: %v", err)
		}
		props, required = raw.Properties, raw.Required
		if raw.AdditionalProperties == nil || *raw.AdditionalProperties {
			t.Errorf(`config schema must set "additionalProperties": false at the root so misspelled settings are refused`)
		}
		var root map[string]any
		if err := json.Unmarshal([]byte(info.ConfigSchema), &root); err != nil {
			t.Fatalf("config schema: %v", err)
		}
		for _, ptr := range unprotectedSecrets(root) {
			t.Errorf(`setting %s looks secret but is not marked "writeOnly": true, so Kassa would store it in plain text and show it to staff: `+
				`mark it "writeOnly": true (Kassa then encrypts it and never shows it again), or, if it is no secret (a public key, a key's id), `+
				`name it so (..._public_key, ..._key_id, ..._token_url); see docs/plugins.md, Concepts, "Settings", and the rule in plugintest's looksSecret`, ptr)
		}
		for _, name := range sortedKeys(props) {
			if d, _ := props[name]["description"].(string); d == "" {
				if tt, _ := props[name]["title"].(string); tt == "" {
					t.Errorf("setting %q has neither a title nor a description for the shop owner", name)
				}
			}
		}
		if errs := schema.Validate(config); errs != nil {
			t.Errorf("GatewayConfig.Config does not match the plugin's own schema: %v", errs)
		}
	})

	configured := s.check("configure/valid", func(t *testing.T) {
		res, err := p.Plugin().Configure(configureCtx(t), config)
		if err != nil {
			t.Fatalf("Configure failed with an error (refusals must be data): %v", err)
		}
		if !res.OK() {
			t.Fatalf("Configure refused the valid settings: %v", res.Errors)
		}
	})

	s.check("configure/wrong_type_refused", func(t *testing.T) {
		if !configured {
			s.skipf(t, "needs configure/valid")
		}
		name, bad, ok := wrongType(props)
		if !ok {
			s.skipf(t, "the schema declares no typed property")
		}
		cfg := withSetting(t, config, name, bad)
		res, err := p.Plugin().Configure(configureCtx(t), cfg)
		if err != nil {
			t.Fatalf("Configure failed with an error (refusals must be data): %v", err)
		}
		if !hasFieldError(res.Errors, "/"+name) {
			t.Errorf("setting %q to %v (wrong type) was not refused with an error on field %q; got %v\n(tip: validate with sdk.Schema.Decode)", name, bad, "/"+name, res.Errors)
		}
		for _, e := range res.Errors {
			if e.Message == "" {
				t.Errorf("config error %+v has no message", e)
			}
		}
	})

	s.check("configure/unknown_field_refused", func(t *testing.T) {
		if !configured {
			s.skipf(t, "needs configure/valid")
		}
		cfg := withSetting(t, config, "plugintest_unknown_setting", true)
		res, err := p.Plugin().Configure(configureCtx(t), cfg)
		if err != nil {
			t.Fatalf("Configure failed with an error (refusals must be data): %v", err)
		}
		if msg := refusal(res.Errors, "plugintest_unknown_setting"); msg != "" {
			t.Errorf("the unknown setting %q: %s", "plugintest_unknown_setting", msg)
		}
	})

	s.check("configure/missing_required_refused", func(t *testing.T) {
		if !configured {
			s.skipf(t, "needs configure/valid")
		}
		if len(required) == 0 {
			s.skipf(t, "the schema requires no setting")
		}
		var m map[string]any
		_ = json.Unmarshal(config, &m)
		delete(m, required[0])
		cfg, _ := json.Marshal(m)
		res, err := p.Plugin().Configure(configureCtx(t), cfg)
		if err != nil {
			t.Fatalf("Configure failed with an error (refusals must be data): %v", err)
		}
		if !hasFieldError(res.Errors, "/"+required[0]) {
			t.Errorf("missing required setting %q was not refused; got %v", required[0], res.Errors)
		}
	})

	s.check("health", func(t *testing.T) {
		if !configured {
			s.skipf(t, "needs configure/valid")
		}
		// Refused settings must leave the previous ones in effect.
		h, err := p.Plugin().Health(ctxT(t, 10*time.Second))
		if err != nil {
			t.Fatalf("Health: %v", err)
		}
		if h.Status != sdk.HealthServing {
			t.Errorf("Health after valid settings (and refused ones) = %s %q, want SERVING", h.Status, h.Message)
		}
	})
	return info, configured
}

// refusal says what is wrong with the refusal of setting name: "" when
// an error points at it (Field "/name"), or is about the settings as a
// whole (Field "") and names it, as JSON Schema's additionalProperties
// errors do.
func refusal(errs []sdk.ConfigError, name string) string {
	if len(errs) == 0 {
		return "was accepted; it must be refused (tip: validate with sdk.Schema.Decode, which refuses unknown settings)"
	}
	for _, e := range errs {
		if e.Field == "/"+name || (e.Field == "" && strings.Contains(e.Message, name)) {
			return ""
		}
	}
	return fmt.Sprintf("was refused, but no error points at it (want Field %q, or Field \"\" with a message naming it); got %v", "/"+name, errs)
}

func hasFieldError(errs []sdk.ConfigError, field string) bool {
	for _, e := range errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// wrongType picks a typed property and a value of another type.
func wrongType(props map[string]map[string]any) (string, any, bool) {
	for _, name := range sortedKeys(props) {
		switch props[name]["type"] {
		case "string":
			return name, 12345, true
		case "integer", "number":
			return name, "not a number", true
		case "boolean":
			return name, "yes", true
		case "object", "array":
			return name, "text", true
		}
	}
	return "", nil, false
}

func withSetting(t *testing.T, config json.RawMessage, name string, v any) json.RawMessage {
	t.Helper()
	m := map[string]any{}
	if len(config) > 0 {
		if err := json.Unmarshal(config, &m); err != nil {
			t.Fatalf("plugintest: config is not a JSON object: %v", err)
		}
	}
	m[name] = v
	b, _ := json.Marshal(m)
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ctxT returns a context with a deadline, canceled when the test ends.
func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
