package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/plugins/sdk"
)

// UpdateSettings replaces a plugin's settings with the JSON object
// settings. It is validated against the plugin's schema (unknown fields and
// wrong types are refused with the schema's message, nothing changes).
// Secret fields (writeOnly in the schema) are encrypted at rest; a secret
// left out keeps its stored value and a secret set to null is cleared. When
// the plugin runs, it is reconfigured first: if it refuses the settings,
// nothing is saved.
func (s *Service) UpdateSettings(ctx context.Context, id string, settings json.RawMessage) (Plugin, error) {
	if err := s.can(ctx, authz.Write); err != nil {
		return Plugin{}, err
	}
	r, err := s.st.get(ctx, id)
	if err != nil {
		return Plugin{}, err
	}
	// Settings decide where the plugin's data goes.
	if err := s.checkDataAccess(ctx, "configure", id, Kind(r.Kind), r.capabilities()); err != nil {
		return Plugin{}, err
	}
	schema, err := compileSchema(r.ConfigSchema)
	if err != nil {
		return Plugin{}, unavailable(CodeMisconfigured, "plugin %s has an invalid settings schema: %v", id, err)
	}
	obj, err := parseObject(settings)
	if err != nil {
		return Plugin{}, errs.Invalid("settings", CodeInvalidSettings, err.Error())
	}
	// Secrets: omitted keeps the stored value, null clears it.
	var stored map[string]any
	var kept []string
	for _, p := range schema.secrets {
		if hasPointer(obj, p) {
			continue
		}
		if stored == nil {
			if stored, err = openSecrets(s.opts.Secrets, r); err != nil {
				return Plugin{}, err
			}
		}
		if v, ok := stored[p]; ok {
			setPointer(obj, p, v)
			kept = append(kept, p)
		}
	}
	if err := keptSecretsStayPut(r, obj, kept); err != nil {
		return Plugin{}, err
	}
	for _, p := range schema.secrets {
		if v, ok := takePointer(obj, p); ok && v != nil {
			setPointer(obj, p, v)
		}
	}
	if problems := schema.validate(obj); problems != nil {
		return Plugin{}, settingsErrors(problems)
	}
	if err := checkOutbound(r.ConfigSchema, obj, s.guard()); err != nil {
		return Plugin{}, err
	}
	full, err := json.Marshal(obj)
	if err != nil {
		return Plugin{}, fmt.Errorf("encode settings: %w", err)
	}

	// Reconfigure a running process before saving, so refused settings are
	// never stored; the plugin keeps its previous settings on refusal.
	inst := s.existing(id)
	var p interface {
		Configure(ctx context.Context, config json.RawMessage) (sdk.ConfigureResult, error)
	}
	if inst != nil {
		if proc := inst.running(); proc != nil {
			p = proc.Plugin()
		}
	}
	if p != nil {
		cctx, cancel := context.WithTimeout(s.configureContext(ctx), s.opts.CallTimeout)
		res, err := p.Configure(cctx, full)
		cancel()
		if err != nil {
			return Plugin{}, inst.callError(ctx, cctx, inst.running(), "Plugin.Configure", domainSentinels{}, err)
		}
		if !res.OK() {
			return Plugin{}, settingsErrors(res.Errors)
		}
	} else if err := s.tryConfigure(ctx, r, full); err != nil {
		// No process to ask: one of its own, started for the question,
		// so a plugin's checks are never skipped because it was idle or
		// disabled when its settings changed.
		return Plugin{}, err
	}

	secrets := splitSecrets(obj, schema.secrets)
	b, err := json.Marshal(obj)
	if err != nil {
		return Plugin{}, fmt.Errorf("encode settings: %w", err)
	}
	prev := r.Revision
	r.Settings, r.Revision, r.UpdatedAt = string(b), r.Revision+1, s.clock.Now()
	if err := sealSecrets(s.opts.Secrets, r, secrets); err != nil {
		return Plugin{}, err
	}
	if err := s.st.saveSettings(ctx, r, prev); err != nil {
		if p != nil {
			// Put the stored settings back into the process.
			s.reload(id, "settings changed concurrently")
		}
		return Plugin{}, err
	}
	s.enabled.invalidate(ctx)
	if inst != nil && p != nil {
		inst.mu.Lock()
		if inst.revision == prev {
			inst.revision = r.Revision
		}
		inst.mu.Unlock()
	}
	if inst != nil && p == nil {
		// A start that failed on the old settings waits out its backoff;
		// the new ones deserve a start at the next use.
		inst.clearFailure()
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	slices.Sort(names)
	// Only names: values (and every secret) stay out of the log.
	s.log.Info("plugin settings updated", attrPlugin, id, "revision", r.Revision, "fields", names, "secrets_set", len(secrets), "by", authz.SubjectFrom(ctx).ID)
	return s.toPlugin(r, schema), nil
}

// tryConfigure starts a process of r's binary only to ask it whether it
// takes settings, and stops it: nil when it does, its refusal as
// settingsErrors, or why it could not be asked (it does not start: the
// settings cannot be checked, so they are not saved). The process gets no
// data directory: it must not open the plugin's state files while the
// supervisor, or a command beside the server, starts the real process.
func (s *Service) tryConfigure(ctx context.Context, r *row, settings json.RawMessage) error {
	cctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout+s.opts.CallTimeout)
	defer cancel()
	p, _, err := s.startConfigured(cctx, r, settings, "")
	var refused *refusedSettings
	switch {
	case errors.As(err, &refused):
		return settingsErrors(refused.errs)
	case err != nil:
		return err
	}
	p.Kill()
	return nil
}

// Enable offers the plugin to the shop. Its stored settings must satisfy
// its schema; the process starts on first use.
func (s *Service) Enable(ctx context.Context, id string) (Plugin, error) {
	if err := s.can(ctx, authz.Write); err != nil {
		return Plugin{}, err
	}
	r, err := s.st.get(ctx, id)
	if err != nil {
		return Plugin{}, err
	}
	if err := s.checkDataAccess(ctx, "enable", id, Kind(r.Kind), r.capabilities()); err != nil {
		return Plugin{}, err
	}
	schema, err := compileSchema(r.ConfigSchema)
	if err != nil {
		return Plugin{}, unavailable(CodeMisconfigured, "plugin %s has an invalid settings schema: %v", id, err)
	}
	full, err := s.settingsOf(r)
	if err != nil {
		return Plugin{}, err
	}
	if problems := schema.validate(full); problems != nil {
		var v errs.Validator
		for _, p := range problems {
			v.Add(errs.Invalid("id", CodeMisconfigured, "configure the plugin before enabling it: "+p.Error()))
		}
		return Plugin{}, v.Err()
	}
	// Settings saved before private networks were refused, or while they
	// were allowed, are refused here with the field and the reason.
	if err := checkOutbound(r.ConfigSchema, full, s.guard()); err != nil {
		var v errs.Validator
		for _, e := range errs.All(err) {
			// The message names the setting: the path past "settings".
			v.Add(errs.Invalid("id", e.Code, "configure the plugin before enabling it: "+strings.Join(e.Field[1:], ".")+": "+e.Message))
		}
		return Plugin{}, v.Err()
	}
	return s.setEnabled(ctx, id, true)
}

// Disable stops offering the plugin and stops its process.
func (s *Service) Disable(ctx context.Context, id string) (Plugin, error) {
	if err := s.can(ctx, authz.Write); err != nil {
		return Plugin{}, err
	}
	return s.setEnabled(ctx, id, false)
}

func (s *Service) setEnabled(ctx context.Context, id string, enabled bool) (Plugin, error) {
	changed, err := s.st.setEnabled(ctx, id, enabled, s.clock.Now())
	if err != nil {
		return Plugin{}, err
	}
	s.enabled.invalidate(ctx)
	r, err := s.st.get(ctx, id)
	if err != nil {
		return Plugin{}, err
	}
	if changed {
		if !enabled {
			s.reload(id, "disabled")
		} else if i := s.existing(id); i != nil {
			// Forget a "disabled" failure so the next use starts at once.
			i.stopProcess("enabled; starts on first use")
		}
		s.log.Info("plugin "+map[bool]string{true: "enabled", false: "disabled"}[enabled], attrPlugin, id, "by", authz.SubjectFrom(ctx).ID)
	}
	return s.toPlugin(r, nil), nil
}

// CheckHealth asks the plugin for its health now, starting it if it is
// enabled and not running.
func (s *Service) CheckHealth(ctx context.Context, id string) (Health, error) {
	if err := s.can(ctx, authz.Read); err != nil {
		return Health{}, err
	}
	r, err := s.st.get(ctx, id)
	if err != nil {
		return Health{}, err
	}
	if !r.Enabled {
		return Health{Status: HealthStopped, Message: "disabled"}, nil
	}
	i, err := s.instance(id)
	if err != nil {
		return Health{}, err
	}
	if _, err := i.acquire(ctx); err != nil {
		h, _ := i.currentHealth()
		if h.Status == "" {
			h = Health{Status: HealthUnavailable, Message: err.Error()}
		}
		return h, nil
	}
	h, err := i.probe(ctx)
	if err != nil && h.Status == "" {
		return Health{}, err
	}
	return h, nil
}
