package resolver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/kassahq/kassa/core/authz"
	"github.com/kassahq/kassa/core/kit/errs"
	"github.com/kassahq/kassa/core/plugin"
)

// pluginOperations lists the plugin operations with the permission each
// needs (plugin.Service enforces them).
var pluginOperations = map[string]Permission{
	"Query.plugins":                 {authz.Plugin, authz.Read},
	"Query.plugin":                  {authz.Plugin, authz.Read},
	"Mutation.pluginSettingsUpdate": {authz.Plugin, authz.Write},
	"Mutation.pluginEnable":         {authz.Plugin, authz.Write},
	"Mutation.pluginDisable":        {authz.Plugin, authz.Write},
	"Mutation.pluginHealthCheck":    {authz.Plugin, authz.Read},
}

// pluginRoot resolves the plugin queries and mutations.
type pluginRoot struct {
	svc *plugin.Service
	// az checks the permission when the server has no plugin host, so a
	// caller without it is told so rather than that plugins are missing.
	az authz.Authorizer
}

func (r *pluginRoot) service(ctx context.Context, act authz.Action) (*plugin.Service, error) {
	if r.svc == nil {
		if r.az != nil {
			if err := r.az.Can(ctx, authz.Plugin, act); err != nil {
				return nil, err
			}
		}
		return nil, errs.Unavailable("PLUGINS_UNAVAILABLE", "this server runs without a plugin host")
	}
	return r.svc, nil
}

// Plugins resolves Query.plugins.
func (r *pluginRoot) Plugins(ctx context.Context, args struct{ Kind *string }) ([]*pluginResolver, error) {
	svc, err := r.service(ctx, authz.Read)
	if err != nil {
		return nil, err
	}
	list, err := svc.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*pluginResolver, 0, len(list))
	for _, p := range list {
		if args.Kind != nil && !strings.EqualFold(string(p.Kind), *args.Kind) {
			continue
		}
		out = append(out, &pluginResolver{p: p})
	}
	return out, nil
}

// Plugin resolves Query.plugin.
func (r *pluginRoot) Plugin(ctx context.Context, args struct{ ID gql.ID }) (*pluginResolver, error) {
	svc, err := r.service(ctx, authz.Read)
	if err != nil {
		return nil, err
	}
	p, err := svc.Get(ctx, string(args.ID))
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &pluginResolver{p: p}, nil
}

// pluginSettingsInput is PluginSettingsUpdateInput.
type pluginSettingsInput struct {
	ID       gql.ID
	Settings JSON
}

// pluginIDInput is the input of the mutations that take only an id.
type pluginIDInput struct{ ID gql.ID }

// PluginSettingsUpdate resolves Mutation.pluginSettingsUpdate.
func (r *pluginRoot) PluginSettingsUpdate(ctx context.Context, args struct{ Input pluginSettingsInput }) (*pluginPayload, error) {
	svc, err := r.service(ctx, authz.Write)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(args.Input.Settings.Value)
	if err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	p, err := svc.UpdateSettings(ctx, string(args.Input.ID), raw)
	return newPluginPayload(p, err)
}

// PluginEnable resolves Mutation.pluginEnable.
func (r *pluginRoot) PluginEnable(ctx context.Context, args struct{ Input pluginIDInput }) (*pluginPayload, error) {
	svc, err := r.service(ctx, authz.Write)
	if err != nil {
		return nil, err
	}
	p, err := svc.Enable(ctx, string(args.Input.ID))
	return newPluginPayload(p, err)
}

// PluginDisable resolves Mutation.pluginDisable.
func (r *pluginRoot) PluginDisable(ctx context.Context, args struct{ Input pluginIDInput }) (*pluginPayload, error) {
	svc, err := r.service(ctx, authz.Write)
	if err != nil {
		return nil, err
	}
	p, err := svc.Disable(ctx, string(args.Input.ID))
	return newPluginPayload(p, err)
}

// PluginHealthCheck resolves Mutation.pluginHealthCheck.
func (r *pluginRoot) PluginHealthCheck(ctx context.Context, args struct{ Input pluginIDInput }) (*pluginHealthPayload, error) {
	svc, err := r.service(ctx, authz.Read)
	if err != nil {
		return nil, err
	}
	h, err := svc.CheckHealth(ctx, string(args.Input.ID))
	ues, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	out := &pluginHealthPayload{userErrors: ues}
	if len(ues) == 0 {
		out.health = &pluginHealthResolver{h: h}
	}
	return out, nil
}

// pluginPayload resolves the payloads that carry a plugin.
type pluginPayload struct {
	p          *pluginResolver
	userErrors []*userError
}

func newPluginPayload(p plugin.Plugin, err error) (*pluginPayload, error) {
	ues, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	out := &pluginPayload{userErrors: ues}
	if len(ues) == 0 {
		out.p = &pluginResolver{p: p}
	}
	return out, nil
}

func (p *pluginPayload) Plugin() *pluginResolver        { return p.p }
func (p *pluginPayload) UserErrors() []*userError       { return nonNilUserErrors(p.userErrors) }
func (p *pluginHealthPayload) UserErrors() []*userError { return nonNilUserErrors(p.userErrors) }

// pluginHealthPayload resolves PluginHealthCheckPayload.
type pluginHealthPayload struct {
	health     *pluginHealthResolver
	userErrors []*userError
}

func (p *pluginHealthPayload) Health() *pluginHealthResolver { return p.health }

func nonNilUserErrors(u []*userError) []*userError {
	if u == nil {
		return []*userError{}
	}
	return u
}

// pluginResolver resolves Plugin. Secret values are not in plugin.Plugin at
// all, so no field here can leak one.
type pluginResolver struct{ p plugin.Plugin }

func (r *pluginResolver) ID() gql.ID             { return gql.ID(r.p.ID) }
func (r *pluginResolver) Kind() string           { return strings.ToUpper(string(r.p.Kind)) }
func (r *pluginResolver) Version() string        { return r.p.Version }
func (r *pluginResolver) ProtocolVersion() int32 { return int32(r.p.ProtocolVersion) }
func (r *pluginResolver) SdkVersion() string     { return r.p.SDKVersion }
func (r *pluginResolver) Sha256() string         { return r.p.SHA256 }
func (r *pluginResolver) Capabilities() []string {
	if r.p.Capabilities == nil {
		return []string{}
	}
	return r.p.Capabilities
}
func (r *pluginResolver) Enabled() bool                 { return r.p.Enabled }
func (r *pluginResolver) Health() *pluginHealthResolver { return &pluginHealthResolver{h: r.p.Health} }
func (r *pluginResolver) Settings() JSON                { return JSON{Value: json.RawMessage(r.p.Settings)} }
func (r *pluginResolver) ConfigSchema() JSON            { return JSON{Value: json.RawMessage(r.p.ConfigSchema)} }
func (r *pluginResolver) InstalledAt() catalogTime      { return catalogTime{t: r.p.InstalledAt} }
func (r *pluginResolver) UpdatedAt() catalogTime        { return catalogTime{t: r.p.UpdatedAt} }
func (r *pluginResolver) SecretFields() []*pluginSecretFieldResolver {
	out := make([]*pluginSecretFieldResolver, len(r.p.SecretFields))
	for i, s := range r.p.SecretFields {
		out[i] = &pluginSecretFieldResolver{s: s}
	}
	return out
}

// pluginHealthResolver resolves PluginHealth.
type pluginHealthResolver struct{ h plugin.Health }

func (r *pluginHealthResolver) Status() string {
	if r.h.Status == "" {
		return string(plugin.HealthUnknown)
	}
	return string(r.h.Status)
}
func (r *pluginHealthResolver) Message() string { return r.h.Message }
func (r *pluginHealthResolver) CheckedAt() *catalogTime {
	if r.h.CheckedAt.IsZero() {
		return nil
	}
	return &catalogTime{t: r.h.CheckedAt}
}

// pluginSecretFieldResolver resolves PluginSecretField.
type pluginSecretFieldResolver struct{ s plugin.SecretField }

func (r *pluginSecretFieldResolver) Name() string { return r.s.Name }
func (r *pluginSecretFieldResolver) IsSet() bool  { return r.s.IsSet }

func newPluginRoot(svc Services) pluginRoot {
	r := pluginRoot{svc: svc.Plugins}
	if svc.Access != nil {
		r.az = svc.Access
	}
	return r
}
